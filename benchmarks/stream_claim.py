"""XREADGROUP ... CLAIM on a group with a big pending entries list: CPU per call.

Two cases, timed in-process (``Server`` without a network, the thread's CPU time):
``none idle`` (CLAIM with a min-idle-time no entry reaches: the call must find that
out) and ``claim 10`` (CLAIM 0 COUNT 10: the ten longest-idle entries change hands).

Measured with 100,000 pending (shared 2-core machine): sorting the PEL on each call cost
60,206 us (none idle) and 88,332 us (claim 10); walking the PEL's time index, 81 us and
164 us.

Run: .venv/bin/python -m benchmarks.stream_claim [--pending N] [--calls N]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    from respd import dispatch
    from respd.server import Server

    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200)
    opts = parser.parse_args()
    client = Server().new_client()
    client.authenticated = True
    for i in range(opts.pending):
        dispatch.execute(client, [b"XADD", b"s", b"*", b"n", b"%d" % i])
    dispatch.execute(client, [b"XGROUP", b"CREATE", b"s", b"g", b"0"])
    dispatch.execute(client, [b"XREADGROUP", b"GROUP", b"g", b"c1", b"STREAMS", b"s", b">"])
    cases = {"none idle": b"3600000", "claim 10": b"0"}
    for name, idle in cases.items():
        argv = [b"XREADGROUP", b"GROUP", b"g", b"c2", b"COUNT", b"10", b"CLAIM", idle,
                b"STREAMS", b"s", b">"]
        start = time.thread_time()
        for _ in range(opts.calls):
            dispatch.execute(client, argv)
        per_call = (time.thread_time() - start) / opts.calls * 1e6
        print(f"{name}: {per_call:,.0f} us CPU per call ({opts.pending:,} pending)")


if __name__ == "__main__":
    main()
