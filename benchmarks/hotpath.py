"""The hot path without the network: pipelines of 16 requests handed to a connection's
``data_received`` (parse, dispatch, run, encode, flush to a transport that drops the
bytes), so changes to the per-request cost show up without the kernel's noise.

    python -m benchmarks.hotpath [CASE ...]

prints microseconds per request for the redis-benchmark cases of ``benchmarks.run``.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

from respd.resp import encode_request
from respd.server import Connection, Server, tune_collector

PIPELINE = 16

# The requests redis-benchmark sends for the cases of benchmarks.run.
CASES: dict[str, bytes] = {
    "PING_INLINE": b"PING\r\n",
    "PING_MBULK": encode_request([b"PING"]),
    "SET": encode_request([b"SET", b"key:000000000001", b"xxx"]),
    "GET": encode_request([b"GET", b"key:000000000001"]),
    "INCR": encode_request([b"INCR", b"counter:000000000001"]),
    "LPUSH": encode_request([b"LPUSH", b"mylist", b"xxx"]),
    "LPOP": encode_request([b"LPOP", b"mylist"]),
    "XADD": encode_request([b"XADD", b"s", b"*", b"f", b"v"]),
    "PUBLISH": encode_request([b"PUBLISH", b"ch", b"msg"]),
    "SET NX PX": encode_request([b"SET", b"lock:__rand_int__", b"v", b"NX", b"PX", b"10000"]),
}
# redis-benchmark -r 100000: each __rand_int__ becomes a random 12-digit number below it.
RANDOM_KEYSPACE = 100_000
_VARIANTS = 64  # distinct pipelines a random case cycles through


class NullTransport:
    """Accepts writes and forgets them; enough of a transport for a Connection."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> Any:
        return None

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def connect(server: Server) -> Connection:
    conn = Connection(server)
    conn.connection_made(NullTransport())
    return conn


def prepare(conn: Connection, case: str, batches: int) -> None:
    """State a case needs before it is timed (LPOP needs elements to pop)."""
    if case == "LPOP":
        values = [b"xxx"] * 1000
        for _ in range(batches * PIPELINE // len(values) + 1):
            conn.data_received(encode_request([b"RPUSH", b"mylist", *values]))


def pipeline(case: str) -> bytes:
    """PIPELINE requests of ``case``, random parts drawn as redis-benchmark does."""
    template = CASES[case]
    return b"".join(
        template.replace(b"__rand_int__", b"%012d" % random.randrange(RANDOM_KEYSPACE))
        for _ in range(PIPELINE))


def per_request_us(case: str, batches: int = 20_000, rounds: int = 3) -> float:
    """Best of ``rounds``: microseconds per request of a pipeline of 16 ``case``."""
    server = Server()
    conn = connect(server)
    prepare(conn, case, batches * rounds)
    pipelines = [pipeline(case) for _ in range(_VARIANTS)]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(batches):
            conn.data_received(pipelines[i % _VARIANTS])
        best = min(best, time.perf_counter() - start)
    return best / (batches * PIPELINE) * 1e6


def main(argv: list[str]) -> None:
    tune_collector()  # as the server does once it is up
    for case in argv or list(CASES):
        print(f"{case:12s} {per_request_us(case):6.3f} µs/request")


if __name__ == "__main__":
    main(sys.argv[1:])
