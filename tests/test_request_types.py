"""Requests whose elements are not bulk strings (RESP3 aggregates, nested arrays, nulls)
are refused as Redis refuses them: hiredis parses them, the reader must not pass them on
(a list stored as a value would corrupt the keyspace)."""

from __future__ import annotations

import pytest

from conftest import Pair, command, exchange


def both_raw(pair: Pair, pieces: list[bytes]) -> tuple[bytes, bytes]:
    return exchange(pair.redis.port, pieces), exchange(pair.respd.port, pieces)


@pytest.mark.parametrize("pieces", [
    [b"*1\r\n$4\r\nPING\r\n>1\r\n$4\r\nPING\r\n"],
    [b"*1\r\n$4\r\nPI", b"NG\r\n>1\r\n$4\r\nPING\r\n"],
    [b"*1\r\n$4\r\nPI", b"NG\r\n%1\r\n+\r\n+\r\n"],
], ids=["push-one-read", "push-later-read", "map-later-read"])
def test_resp3_aggregate_at_the_top_is_read_as_redis_reads_it(
        pieces: list[bytes], pair: Pair) -> None:
    ref, got = both_raw(pair, pieces)
    assert got == ref


@pytest.mark.parametrize("data", [
    b"*1\r\n*1\r\n+\r\n",
    b"*2\r\n$4\r\nECHO\r\n*1\r\n+\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\n*1\r\n_\r\n",
    b"*2\r\n$4\r\nECHO\r\n:5\r\n",
], ids=["nested", "nested-arg", "after-good-command", "integer-arg"])
def test_non_bulk_element_is_a_protocol_error(data: bytes, pair: Pair) -> None:
    ref, got = both_raw(pair, [data])
    assert got == ref


def test_nested_array_argument_never_reaches_the_keyspace(pair: Pair) -> None:
    data = b"*3\r\n$3\r\nSET\r\n$6\r\ncorrup\r\n*1\r\n+\r\n"
    ref, got = both_raw(pair, [data])
    assert got == ref  # -ERR Protocol error: expected '$', got '*'
    assert command(pair.respd.port, "TYPE", "corrup") == command(pair.redis.port, "TYPE",
                                                                 "corrup") == b"+none\r\n"


def test_inline_line_of_100k_is_too_big(pair: Pair) -> None:
    # The same error; Redis resets the link (unread bytes), respd may close it cleanly.
    ref, got = (exchange(s.port, [b"ECHO " + b"a" * 100000 + b"\r\n"])
                for s in (pair.redis, pair.respd))
    assert got.split(b"\r\n")[0] == ref.split(b"\r\n")[0] == (
        b"-ERR Protocol error: too big inline request")
