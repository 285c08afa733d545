"""Bytes per key for small strings, hashes and sets: respd next to redis-server.

    python -m benchmarks.key_memory [--keys N]

For each shape, N keys are written (pipelined) to both servers; redis-server's figure
is the growth of INFO ``used_memory``, respd's the growth of its process RSS (every
Python overhead included) — the same measure as ``benchmarks.run``'s memory suite.
"""

from __future__ import annotations

import argparse
import socket
from typing import Callable

from benchmarks.servers import BenchServer, start
from respd.resp import encode_request

BATCH = 10_000

SHAPES: dict[str, Callable[[int], list[bytes]]] = {
    "string": lambda i: [b"SET", b"key:%d" % i, b"value:%d" % i],
    "hash (2 fields)": lambda i: [b"HSET", b"hash:%d" % i, b"f1", b"v%d" % i, b"f2", b"small"],
    "set (2 members)": lambda i: [b"SADD", b"set:%d" % i, b"m%d" % i, b"small"],
}


def _fill(server: BenchServer, shape: Callable[[int], list[bytes]], keys: int) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        for first in range(0, keys, BATCH):
            count = min(BATCH, keys - first)
            sock.sendall(b"".join(encode_request(shape(i)) for i in range(first, first + count)))
            lines = 0
            while lines < count:  # every reply here is one line
                chunk = sock.recv(1 << 16)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                lines += chunk.count(b"\r\n")


def _measure(server: BenchServer) -> int:
    if server.name == "redis":
        return int(server.client().info("memory")["used_memory"])
    return server.rss_bytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    args = parser.parse_args()
    for label, shape in SHAPES.items():
        row = {}
        for name in ("redis", "respd"):
            server = start(name)  # a fresh server per shape: no reuse of freed memory
            try:
                before = _measure(server)
                _fill(server, shape, args.keys)
                row[name] = (_measure(server) - before) / args.keys
            finally:
                server.stop()
        print(f"{label:16s} respd {row['respd']:6.0f} B/key  redis {row['redis']:6.0f} B/key  "
              f"ratio {row['respd'] / row['redis']:.2f}", flush=True)


if __name__ == "__main__":
    main()
