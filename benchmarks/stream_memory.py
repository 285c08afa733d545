"""Memory per stream entry: 1,000,000 entries of two small fields, respd next to
redis-server.

Three figures:
- redis-server: growth of INFO ``used_memory`` (what its allocator holds for the data);
- respd (process): growth of the process RSS, all Python overheads included;
- respd (structure): bytes the Stream object itself retains, measured in-process with
  tracemalloc, i.e. the data structure without the server around it.

Run: .venv/bin/python -m benchmarks.stream_memory [--entries N]
"""

from __future__ import annotations

import argparse
import socket
import tracemalloc

from benchmarks.servers import BenchServer, start
from respd.resp import encode_request
from respd.storage.stream import Stream, make_id

BATCH = 10_000


def fields(i: int) -> list[bytes]:
    # Two small fields, as a sensor or an order event would carry.
    return [b"order", b"%d" % (i % 100_000), b"status", b"paid" if i % 3 else b"new"]


def load(server: BenchServer, entries: int) -> None:
    """XADD ``entries`` entries (auto IDs), pipelined in batches."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        for first in range(0, entries, BATCH):
            count = min(BATCH, entries - first)
            sock.sendall(b"".join(encode_request([b"XADD", b"s", b"*", *fields(i)])
                                  for i in range(first, first + count)))
            replies = 0
            buf = b""
            while replies < count:
                buf += sock.recv(1 << 20)
                replies = buf.count(b"\r\n") // 2  # "$n\r\n<id>\r\n" per reply


def used_memory(server: BenchServer) -> int:
    client = server.client()
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def measure_server(name: str, entries: int) -> int:
    server = start(name)
    try:
        before = used_memory(server) if name == "redis" else server.rss_bytes()
        load(server, entries)
        client = server.client()
        assert client.xlen("s") == entries
        client.close()
        after = used_memory(server) if name == "redis" else server.rss_bytes()
        return after - before
    finally:
        server.stop()


def measure_structure(entries: int) -> int:
    tracemalloc.start()
    stream = Stream()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(entries):
        stream.append(make_id(1_700_000_000_000 + i // 7, i % 7), fields(i), 100, 4096)
    size = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert stream.length == entries
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    entries = parser.parse_args().entries
    rows = [
        ("redis-server used_memory", measure_server("redis", entries)),
        ("respd process RSS", measure_server("respd", entries)),
        ("respd Stream structure", measure_structure(entries)),
    ]
    redis_bytes = rows[0][1]
    print(f"{entries:,} entries, fields {fields(1)!r}")
    print(f"{'':28} {'total MB':>10} {'bytes/entry':>12} {'x redis':>8}")
    for label, total in rows:
        print(f"{label:28} {total / 1e6:10.1f} {total / entries:12.1f} "
              f"{total / redis_bytes:8.2f}")


if __name__ == "__main__":
    main()
