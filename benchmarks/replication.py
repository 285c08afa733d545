"""Replication figures, respd and redis-server in the same roles:

- throughput: redis-benchmark SET and INCR against a primary with 0, 1 and 2 replicas
  attached (primary pinned to CPU 0; its replicas and the load generator share the other);
- lag: replica lag in stream bytes and WAIT 1 latency under a SET load, and the catch-up
  time after it (benchmarks.repl_sync);
- fullsync: the time a full synchronisation of N keys takes (benchmarks.repl_sync);
- failover: acknowledged writes lost across a Sentinel failover, with and without WAIT 1,
  and the writer's recovery time (benchmarks.repl_failover; needs redis-sentinel).

    .venv/bin/python -m benchmarks.replication [--only throughput,lag,fullsync,failover]
        [--requests 50000] [--pipeline 16] [--keys 1000000] [--rounds 3]

Prints Markdown tables (also written to benchmarks/results/replication.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from benchmarks import repl_failover, repl_sync

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


PAIRS = (("respd", "respd"), ("respd", "redis"), ("redis", "respd"), ("redis", "redis"))
RESULTS = Path(__file__).parent / "results" / "replication.md"


def throughput_table(requests: int, pipeline: int) -> list[str]:
    results = run(requests, pipeline)
    lines = [f"Writes/s on the primary (redis-benchmark, 50 clients, pipeline {pipeline}, "
             f"{requests:,} requests)", "",
             "| server | replicas | " + " | ".join(f"{t} req/s" for t in TESTS) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in TESTS) + " |"]
    for name in ("redis", "respd"):
        for count in (0, 1, 2):
            rates = " | ".join(f"{results[(name, count, t)]:,.0f}" for t in TESTS)
            lines.append(f"| {name} | {count} | {rates} |")
    return lines


def lag_table(requests: int, pipeline: int) -> list[str]:
    lines = [f"Replica lag under SET load (redis-benchmark -P {pipeline}, {requests:,} "
             "requests; offsets sampled every 10 ms, WAIT 1 every 20 ms)", "",
             "| primary → replica | writes/s | lag median / max (bytes) | WAIT 1 median / "
             "p99 / max (ms) | catch-up after load (ms) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for primary, replica in (("respd", "respd"), ("redis", "redis")):
        m = repl_sync.lag(primary, replica, requests, pipeline)
        lines.append(f"| {primary} → {replica} | {m.writes_per_s:,.0f} | "
                     f"{m.lag_median:,.0f} / {m.lag_max:,} | {m.wait_median_ms:.1f} / "
                     f"{m.wait_p99_ms:.1f} / {m.wait_max_ms:.1f} | {m.catch_up_ms:.0f} |")
    return lines


def fullsync_table(keys: int) -> list[str]:
    lines = [f"Full synchronisation of {keys:,} string keys (DEBUG POPULATE; from "
             "REPLICAOF to the link up with every key loaded)", "",
             "| primary → replica | seconds | primary CPU s |", "| --- | ---: | ---: |"]
    for primary, replica in PAIRS:
        seconds, cpu = repl_sync.full_sync(primary, replica, keys)
        lines.append(f"| {primary} → {replica} | {seconds:.1f} | {cpu:.1f} |")
    return lines


def failover_table(rounds: int) -> list[str]:
    lines = [f"Sentinel failover under a steady writer (pipelines of {repl_failover.PIPELINE} "
             "SETs; SIGKILL of the primary; 2 replicas, 3 Sentinels, down-after 1000 ms; "
             f"{rounds} rounds each)", "",
             "| servers | WAIT 1 | acknowledged writes | lost (per round) | recovery s "
             "(per round) |", "| --- | --- | ---: | ---: | ---: |"]
    for name in ("respd", "redis"):
        for use_wait in (False, True):
            runs = [repl_failover.run_once(name, use_wait) for _ in range(rounds)]
            lines.append(
                f"| {name} | {'yes' if use_wait else 'no'} | "
                f"{sum(r.acknowledged for r in runs):,} | "
                f"{', '.join(str(r.lost) for r in runs)} | "
                f"{', '.join(f'{r.recovery_s:.1f}' for r in runs)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="throughput,lag,fullsync,failover")
    parser.add_argument("--requests", type=int, default=50000)
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sections = {
        "throughput": lambda: throughput_table(args.requests, args.pipeline),
        "lag": lambda: lag_table(args.requests * 4, args.pipeline),
        "fullsync": lambda: fullsync_table(args.keys),
        "failover": lambda: failover_table(args.rounds),
    }
    out: list[str] = ["# Replication figures (python -m benchmarks.replication)", "",
                      f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                      f"Python {platform.python_version()}, "
                      f"{time.strftime('%Y-%m-%d %H:%M')}; a shared machine: figures are "
                      "indicative.", ""]
    for name in args.only.split(","):
        table = sections[name]()
        print("\n".join(table) + "\n", flush=True)
        out += table + [""]
    RESULTS.write_text("\n".join(out))


if __name__ == "__main__":
    main()
