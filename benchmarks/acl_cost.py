"""What ACL checks cost on the hot path: redis-benchmark SET and GET, pipelines of 16, as
the default user (every permission: no check at all in respd) and as a restricted user
(a key pattern and a command list: every command is checked), respd and redis-server
side by side.

    python -m benchmarks.acl_cost              # 200k requests per run, 3 rounds
    python -m benchmarks.acl_cost --quick

Rows: requests/s (median of the rounds) per server, user and command; the last column is
the restricted user's throughput relative to the default user's on the same server.
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks.run import redis_benchmark
from benchmarks.servers import BenchServer, start_pair

RESTRICTED = ["ACL", "SETUSER", "bench", "on", ">benchpw", "~key:*", "~counter:*",
              "-@all", "+set", "+get", "+ping", "+config|get", "+select"]
CASES = [("SET", ["-t", "set"]), ("GET", ["-t", "get"])]


def run_case(server: BenchServer, args: list[str], requests: int, user: bool) -> float:
    auth = ["--user", "bench", "-a", "benchpw"] if user else []
    return redis_benchmark(server, [*auth, *args], requests, pipeline=16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    requests, rounds = (20_000, 1) if opts.quick else (200_000, 3)
    servers = start_pair()
    try:
        for server in servers:
            with server.client() as client:
                client.execute_command(*RESTRICTED)
        print(f"{'server':8} {'command':7} {'default user':>14} {'restricted':>14} {'ratio':>7}")
        for server in servers:
            for name, args in CASES:
                results = {False: [], True: []}  # type: dict[bool, list[float]]
                for _ in range(rounds):
                    for user in (False, True):  # interleaved against drift
                        results[user].append(run_case(server, args, requests, user))
                plain = statistics.median(results[False])
                checked = statistics.median(results[True])
                print(f"{server.name:8} {name:7} {plain:14,.0f} {checked:14,.0f} "
                      f"{checked / plain:7.2f}")
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
