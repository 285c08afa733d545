"""Write throughput on a primary with 0, 1 and 2 replicas attached: redis-benchmark SET
and INCR against the primary, respd (respd replicas) and redis-server (redis replicas).
The primary is pinned to CPU 0; its replicas and the load generator share the other.

    .venv/bin/python -m benchmarks.replication [--requests 50000] [--pipeline 16]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.run import redis_benchmark
from benchmarks.servers import BenchServer, start

TESTS = {"SET": ["-t", "set"], "INCR": ["-t", "incr"]}


def _attach(name: str, primary: BenchServer, count: int) -> list[BenchServer]:
    replicas = [start(name, "--replicaof", "127.0.0.1", str(primary.port), cpu=1)
                for _ in range(count)]
    deadline = time.monotonic() + 30
    p = primary.client()
    while p.info("replication")["connected_slaves"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError("replicas did not attach")
        time.sleep(0.1)
    return replicas


def run(requests: int, pipeline: int) -> dict[tuple[str, int, str], float]:
    results: dict[tuple[str, int, str], float] = {}
    for name in ("redis", "respd"):
        for count in (0, 1, 2):
            options = ("--repl-diskless-sync-delay", "0") if name == "redis" else ()
            primary = start(name, *options, cpu=0)
            replicas = _attach(name, primary, count)
            try:
                for test, args in TESTS.items():
                    results[(name, count, test)] = redis_benchmark(
                        primary, args, requests, pipeline)
            finally:
                for server in (primary, *replicas):
                    server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50000)
    parser.add_argument("--pipeline", type=int, default=16)
    args = parser.parse_args()
    results = run(args.requests, args.pipeline)
    print(f"{'server':8} {'replicas':>8} " + " ".join(f"{t:>12}" for t in TESTS))
    for name in ("redis", "respd"):
        for count in (0, 1, 2):
            rates = " ".join(f"{results[(name, count, t)]:>12,.0f}" for t in TESTS)
            print(f"{name:8} {count:>8} {rates}")


if __name__ == "__main__":
    main()
