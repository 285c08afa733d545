"""Requests whose elements are not bulk strings (RESP3 aggregates, nested arrays, nulls)
are refused as Redis refuses them: hiredis parses them, the reader must not pass them on
(a list stored as a value would corrupt the keyspace)."""

from __future__ import annotations

import pytest

from test_pipeline_state import Pair, command, exchange, pair  # noqa: F401


def both_raw(pair: Pair, pieces: list[bytes]) -> tuple[bytes, bytes]:  # noqa: F811
    return exchange(pair.redis.port, pieces), exchange(pair.respd.port, pieces)


@pytest.mark.parametrize("pieces", [
    [b"*1\r\n$4\r\nPING\r\n>1\r\n$4\r\nPING\r\n"],
    [b"*1\r\n$4\r\nPI", b"NG\r\n>1\r\n$4\r\nPING\r\n"],
    [b"*1\r\n$4\r\nPI", b"NG\r\n%1\r\n+\r\n+\r\n"],
], ids=["push-one-read", "push-later-read", "map-later-read"])
def test_resp3_aggregate_at_the_top_is_read_as_redis_reads_it(
        pieces: list[bytes], pair: Pair) -> None:  # noqa: F811
    ref, got = both_raw(pair, pieces)
    assert got == ref


@pytest.mark.parametrize("data", [
    b"*1\r\n*1\r\n+\r\n",
    b"*2\r\n$4\r\nECHO\r\n*1\r\n+\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\n*1\r\n_\r\n",
    b"*2\r\n$4\r\nECHO\r\n:5\r\n",
], ids=["nested", "nested-arg", "after-good-command", "integer-arg"])
def test_non_bulk_element_is_a_protocol_error(data: bytes, pair: Pair) -> None:  # noqa: F811
    ref, got = both_raw(pair, [data])
    assert got == ref


def test_nested_array_argument_never_reaches_the_keyspace(pair: Pair) -> None:  # noqa: F811
    data = b"*3\r\n$3\r\nSET\r\n$6\r\ncorrup\r\n*1\r\n+\r\n"
    ref, got = both_raw(pair, [data])
    assert got == ref  # -ERR Protocol error: expected '$', got '*'
    assert command(pair.respd.port, "TYPE", "corrup") == command(pair.redis.port, "TYPE",
                                                                 "corrup") == b"+none\r\n"
