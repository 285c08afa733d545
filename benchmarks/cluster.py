"""Throughput of a respd cluster against one respd and one redis-server: redis-benchmark
(with --cluster for the clusters, which sends each request to its slot's node) SET and
GET, and the servers' CPU time, so each figure is also given per CPU second of server
work: what one core serves, and so what N cores would serve with an N-node cluster.

    .venv/bin/python -m benchmarks.cluster [--requests 100000] [--pipeline 16]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.run import redis_benchmark
from benchmarks.servers import BenchServer, free_port, start

TESTS = {"SET": ["-t", "set"], "GET": ["-t", "get"]}
SLOTS = 16384


def _cluster(name: str, count: int) -> list[BenchServer]:
    """``count`` primaries sharing the slots evenly, joined and agreeing."""
    nodes = [start(name, "--cluster-enabled", "yes", "--cluster-port", str(free_port()))
             for _ in range(count)]
    first = nodes[0].client()
    for i, node in enumerate(nodes):
        c = node.client()
        c.execute_command("CLUSTER", "ADDSLOTSRANGE", SLOTS * i // count,
                          SLOTS * (i + 1) // count - 1)
        c.execute_command("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
        if i:
            bus = node.extra[node.extra.index("--cluster-port") + 1]
            first.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus)
    deadline = time.monotonic() + 30
    while not all(b"cluster_state:ok" in n.client().execute_command("CLUSTER", "INFO")
                  and len(n.client().execute_command("CLUSTER", "SLOTS")) == count
                  for n in nodes):
        if time.monotonic() > deadline:
            raise RuntimeError("the cluster did not form")
        time.sleep(0.1)
    return nodes


def run(requests: int, pipeline: int) -> list[tuple[str, str, float, float]]:
    """(setup, test, requests/s, requests per server CPU second)."""
    setups = [("redis-server", "redis", 0), ("respd", "respd", 0),
              ("respd cluster, 2 nodes", "respd", 2), ("respd cluster, 3 nodes", "respd", 3)]
    rows = []
    for label, name, count in setups:
        servers = _cluster(name, count) if count else [start(name)]
        extra = ["--cluster"] if count else []
        try:
            for test, args in TESTS.items():
                cpu0 = sum(s.cpu_seconds() for s in servers)
                rate = redis_benchmark(servers[0], extra + args, requests, pipeline)
                cpu = sum(s.cpu_seconds() for s in servers) - cpu0
                rows.append((label, test, rate, requests / cpu if cpu else 0.0))
        finally:
            for server in servers:
                server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--pipeline", type=int, default=16)
    args = parser.parse_args()
    print("| setup | test | req/s | req per server CPU second |")
    print("|-------|------|------:|--------------------------:|")
    for label, test, rate, per_cpu in run(args.requests, args.pipeline):
        print(f"| {label} | {test} | {rate:,.0f} | {per_cpu:,.0f} |")


if __name__ == "__main__":
    main()
