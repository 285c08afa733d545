"""Server-enforced retention on a big stream: how long the event loop stalls while
RESPD.XRETENTION trims a 1,000,000-entry backlog in the background, how fast the
backlog goes, and memory per entry before and after.

A probe client sends PING back to back during the trim and records every round trip:
the longest is the worst stall a client saw (the trimming runs between commands, so a
long cycle shows up as a long PING).  The same probe runs first with nothing to trim,
for the machine's own noise.  On a shared machine that noise dominates, so the
retention step is also timed in-process (``Server`` without a network, the cycle's step
called in a loop): its longest call is the stall retention itself adds.

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


def in_process(entries: int, keep: int, policy: str) -> None:
    from respd import dispatch
    from respd.commands.respd_streams import enforce_retention
    from respd.server import Server
    from respd.storage.stream import Group

    client = Server().new_client()
    client.authenticated = True
    for i in range(entries):
        dispatch.execute(client, [b"XADD", b"s", b"*", b"order", b"%d" % (i % 100_000),
                                  b"status", b"paid"])
    stream = client.db.data[b"s"]
    if policy == "acked":
        stream.groups[b"g"] = Group(stream.last_id, entries)
    dispatch.execute(client, [b"RESPD.XRETENTION", b"s", b"MAXLEN", b"%d" % keep,
                              policy.upper().encode()])
    wall: list[float] = []
    cpu: list[float] = []  # the thread's CPU time: what the step costs without preemption
    while stream.length > keep:
        start, start_cpu = time.perf_counter(), time.thread_time()
        enforce_retention(client.server)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    print(f"in-process ({policy}): {len(wall)} cycles to trim {entries} -> {keep} "
          f"(at hz 10: {len(wall) / 10:.1f} s); step CPU longest {max(cpu):.2f} ms, "
          f"mean {sum(cpu) / len(cpu):.2f} ms; wall longest {max(wall):.2f} ms")


def rss_mb(server: BenchServer) -> float:
    return server.rss_bytes() / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=int, default=1000)
    parser.add_argument("--policy", default="keepref", choices=["keepref", "acked"])
    args = parser.parse_args()
    in_process(args.entries, args.keep, args.policy)
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
