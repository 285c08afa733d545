"""redis-benchmark against redis-server, this respd and (optionally) another respd tree,
in the same run, interleaved round by round: requests/s and server CPU µs per request.

    python -m benchmarks.compare [--other DIR] [--rounds N] [--requests N] [CASE ...]

``--other DIR`` names a directory from which ``import respd`` finds another version
(e.g. an exported older commit laid out as an installed package: ``DIR/respd`` with
``commands`` and ``storage`` copied under it), started with the same interpreter; it
is reported as ``other``.  Servers share CPU 0, redis-benchmark runs on CPU 1.
"""

from __future__ import annotations

import argparse
import os
import statistics

from benchmarks.run import LOADGEN_CPU, THROUGHPUT_CASES, flush, measure, redis_benchmark
from benchmarks.servers import BenchServer, start

SERVER_CPU = 0
DEFAULT_CASES = ["PING_MBULK", "SET", "GET", "INCR", "LPUSH", "XADD", "PUBLISH"]


def start_other(path: str) -> BenchServer:
    """A respd from another source tree, with this interpreter."""
    return start("other", cpu=SERVER_CPU, env={**os.environ, "PYTHONPATH": path})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--other")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("cases", nargs="*")
    args = parser.parse_args()
    cases = dict(THROUGHPUT_CASES)
    servers = [start("redis", cpu=SERVER_CPU), start("respd", cpu=SERVER_CPU)]
    try:
        if args.other:
            servers.append(start_other(args.other))
        names = [s.name for s in servers]
        print(f"{'case':14s} " + "  ".join(f"{n + ' rps':>12s} {'µs/req':>6s}" for n in names)
              + "  " + "  ".join(f"{n}/redis" for n in names[1:]))
        for pipeline in (1, 16):
            requests = args.requests * (4 if pipeline > 1 else 1)
            for case in args.cases or DEFAULT_CASES:
                samples: dict[str, list[dict[str, float]]] = {n: [] for n in names}
                for _ in range(args.rounds):
                    for server in servers:
                        flush(server)
                        samples[server.name].append(measure(
                            server, lambda: redis_benchmark(server, cases[case], requests,
                                                            pipeline), requests))
                rate = {n: statistics.median(s["rate"] for s in samples[n]) for n in names}
                cpu = {n: statistics.median(s["cpu_us_per_op"] for s in samples[n])
                       for n in names}
                print(f"{case + ' -P ' + str(pipeline):14s} "
                      + "  ".join(f"{rate[n]:12,.0f} {cpu[n]:6.2f}" for n in names) + "  "
                      + "  ".join(f"{rate[n] / rate['redis']:8.2f}" for n in names[1:]),
                      flush=True)
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
