"""Connection commands against the reference server byte for byte: SELECT's range
message and HELLO before authentication."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Pair, command


@pytest.mark.parametrize("index", [b"2147483648", b"-2147483649"])
def test_select_out_of_int_range_message(index: bytes, pair: Pair) -> None:
    # ERR value is out of range, value must between -2147483648 and 2147483647
    assert command(pair.respd.port, "SELECT", index) == command(pair.redis.port, "SELECT",
                                                                 index)


def test_hello_noauth_message(spawn: Any) -> None:
    ref, got = (command(spawn(kind, "--requirepass", "pw").port, "HELLO", "3")
                for kind in ("redis", "respd"))
    # 7.0.15: "... otherwise the HELLO AUTH <user> <pass> option can be used ..."
    assert got == ref and b"HELLO AUTH" in ref
