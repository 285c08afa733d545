"""Micro-benchmarks of the hot pieces (pytest-benchmark), run apart from the tests:

    python -m pytest benchmarks/test_micro.py --benchmark-only
"""

from __future__ import annotations

import pytest

from benchmarks import hotpath
from respd.glob import compile_pattern
from respd.resp import RequestReader, encode, encode_request
from respd.server import Server

PIPELINE = b"".join(encode_request([b"SET", b"key:%d" % i, b"value"]) for i in range(16))


def test_parse_pipeline_of_16(benchmark) -> None:  # type: ignore[no-untyped-def]
    reader = RequestReader()
    requests = benchmark(lambda: reader.feed(PIPELINE)[0])
    assert len(requests) == 16


def test_encode_array_reply(benchmark) -> None:  # type: ignore[no-untyped-def]
    reply = [b"field", b"value", 42, None] * 8
    assert benchmark(encode, reply, 2).startswith(b"*32\r\n")


def test_dispatch_get(benchmark) -> None:  # type: ignore[no-untyped-def]
    from respd.dispatch import execute

    server = Server()
    client = server.new_client()
    execute(client, [b"SET", b"k", b"v"])
    assert benchmark(execute, client, [b"GET", b"k"]) == b"v"


def test_glob_pattern(benchmark) -> None:  # type: ignore[no-untyped-def]
    match = compile_pattern(b"news.[a-z]*.sport?")
    assert benchmark(match, b"news.europe.sports")


@pytest.mark.parametrize("case", list(hotpath.CASES))
def test_pipeline_of_16_through_a_connection(benchmark, case: str) -> None:  # type: ignore[no-untyped-def]
    conn = hotpath.connect(Server())
    hotpath.prepare(conn, case, batches=2_000)
    pipeline = hotpath.pipeline(case)
    benchmark.pedantic(conn.data_received, (pipeline,), rounds=2_000, iterations=1)
    assert conn.transport.written > 0 and conn.client.out == []
