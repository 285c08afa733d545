"""A stream and list workload under maxmemory: 1M operations (XADD and LPUSH over
rolling keys, pipelined) against a respd with allkeys-lru and a limit, sampling
used_memory and the process RSS as it goes.  Memory must stay bounded: used_memory at
the limit (give or take one pipeline), RSS flat once the limit is reached.

    python -m benchmarks.memory_workload [--ops N] [--limit-mb M]

tests/test_memory.py runs a 50k-operation version of this in CI.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.servers import start

PIPELINE = 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--limit-mb", type=int, default=20)
    args = parser.parse_args()
    server = start("respd", "--maxmemory-policy", "allkeys-lru")
    try:
        client = server.client()
        limit = args.limit_mb * 1024 * 1024
        client.config_set("maxmemory", limit)
        peak_used = 0
        rss_at_limit = 0
        started = time.monotonic()
        pipe = client.pipeline(transaction=False)
        for i in range(args.ops):
            if i % 2:
                pipe.xadd(f"stream:{i // 5000}", {"field": "value-%d" % i, "n": i})
            else:
                pipe.lpush(f"list:{i // 5000}", "element-%d" % i)
            if i % PIPELINE == PIPELINE - 1:
                pipe.execute()
            if i % 50_000 == 49_999:
                used = client.info("memory")["used_memory"]
                peak_used = max(peak_used, used)
                evicted = client.info("stats")["evicted_keys"]
                if evicted and not rss_at_limit:
                    rss_at_limit = server.rss_bytes()
                print(f"{i + 1:>9} ops  used_memory {used / 1e6:6.1f}MB  "
                      f"rss {server.rss_bytes() / 1e6:6.1f}MB  evicted_keys {evicted}")
        pipe.execute()
        elapsed = time.monotonic() - started
        print(f"{args.ops} ops in {elapsed:.1f}s ({args.ops / elapsed:.0f} ops/s); "
              f"limit {limit / 1e6:.1f}MB, peak used_memory {peak_used / 1e6:.1f}MB, "
              f"RSS when eviction began {rss_at_limit / 1e6:.1f}MB, "
              f"at the end {server.rss_bytes() / 1e6:.1f}MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
