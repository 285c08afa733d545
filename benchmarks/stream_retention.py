"""Server-enforced retention on a big stream: how long the event loop stalls while
RESPD.XRETENTION trims a 1,000,000-entry backlog in the background, how fast the
backlog goes, and memory per entry before and after.

A probe client sends PING back to back during the trim and records every round trip:
the longest is the worst stall a client saw (the trimming runs between commands, so a
long cycle shows up as a long PING).  The same probe runs first with nothing to trim,
for the machine's own noise.

Run: .venv/bin/python -m benchmarks.stream_retention [--entries N] [--policy keepref|acked]
"""

from __future__ import annotations

import argparse
import socket
import time

from benchmarks.servers import BenchServer, start
from benchmarks.stream_memory import load


def probe(port: int, seconds: float, done: object = None) -> tuple[int, float, float]:
    """PINGs for ``seconds`` (or until ``done()``): (count, worst ms, median ms)."""
    times: list[float] = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (done and done()):  # type: ignore[operator]
            start = time.perf_counter()
            sock.sendall(b"PING\r\n")
            buf = b""
            while not buf.endswith(b"\r\n"):
                buf += sock.recv(64)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return len(times), times[-1], times[len(times) // 2]


def rss_mb(server: BenchServer) -> float:
    return server.rss_bytes() / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=int, default=1000)
    parser.add_argument("--policy", default="keepref", choices=["keepref", "acked"])
    args = parser.parse_args()
    server = start("respd")
    try:
        client = server.client()
        base = server.rss_bytes()
        load(server, args.entries)
        loaded = server.rss_bytes()
        print(f"loaded {args.entries} entries: RSS {base / 1e6:.1f} -> {loaded / 1e6:.1f} MB, "
              f"{(loaded - base) / args.entries:.0f} bytes/entry")
        if args.policy == "acked":  # a group that acknowledged everything but the tail
            client.xgroup_create("s", "g", "$")
        n, worst, median = probe(server.port, 5)
        print(f"idle probe: {n} PINGs, median {median:.3f} ms, worst {worst:.2f} ms")
        started = time.monotonic()
        client.execute_command("RESPD.XRETENTION", "s", "MAXLEN", str(args.keep),
                               args.policy.upper())
        watcher = server.client()
        n, worst, median = probe(server.port, 600,
                                 done=lambda: watcher.xlen("s") <= args.keep)
        elapsed = time.monotonic() - started
        print(f"trim {args.entries} -> {client.xlen('s')} ({args.policy}) in {elapsed:.1f} s: "
              f"{n} PINGs, median {median:.3f} ms, worst {worst:.2f} ms")
        time.sleep(1)
        print(f"after the trim: RSS {rss_mb(server):.1f} MB "
              f"(Python keeps freed memory in its arenas; used by the stream: "
              f"{client.memory_usage('s') or 0} bytes estimated)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
