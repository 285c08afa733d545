"""The cost of eviction: SET throughput (redis-benchmark) with no limit, and at
maxmemory with allkeys-lru where nearly every SET of a new key evicts one, for respd
and redis-server side by side.

    python -m benchmarks.eviction [--requests N] [--limit-mb M]

Each run starts fresh servers; keys are random over a keyspace much larger than what
fits under the limit (-r), values 100 bytes, pipelines of 16.  The limited run is
preceded by a warm-up that fills memory up to the limit, so the measured run evicts
throughout.  Prints requests per second and the evicted_keys count of each run.
"""

from __future__ import annotations

import argparse
import re
import subprocess

from benchmarks.servers import start


def redis_benchmark(port: int, requests: int) -> float:
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(requests),
         "-r", "10000000", "-d", "100", "-P", "16", "-c", "10", "-q"],
        capture_output=True, text=True, check=True).stdout
    found = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(found[-1])


def run(name: str, requests: int, limit_mb: int | None) -> tuple[float, int, int]:
    extra = ["--maxmemory-policy", "allkeys-lru"]
    server = start(name, *extra)
    try:
        client = server.client()
        if limit_mb is not None:
            client.config_set("maxmemory", f"{limit_mb}mb")
            redis_benchmark(server.port, requests // 2)  # fill up to the limit first
        before = client.info("stats")["evicted_keys"]
        rps = redis_benchmark(server.port, requests)
        evicted = client.info("stats")["evicted_keys"] - before
        return rps, evicted, client.info("memory")["used_memory"]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--limit-mb", type=int, default=10)
    args = parser.parse_args()
    print(f"{'server':8} {'maxmemory':>10} {'SET rps':>10} {'evicted':>9} {'used_memory':>12}")
    for name in ("redis", "respd"):
        for limit in (None, args.limit_mb):
            rps, evicted, used = run(name, args.requests, limit)
            shown = "none" if limit is None else f"{limit}mb lru"
            print(f"{name:8} {shown:>10} {rps:10.0f} {evicted:9d} {used / 1e6:10.1f}MB")


if __name__ == "__main__":
    main()
