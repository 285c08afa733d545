"""What /metrics costs the event loop with 100,000 streams.

    python -m benchmarks.metrics_cost [--streams 100000]

Starts respd with the HTTP listener, creates the streams (one in ten with a consumer
group and a pending entry), then reports: the key sweep's longest single step (the
longest the loop is held by discovery) and its total time, the scrape time, and the
worst PING round trip seen by a client pinging throughout (first while only the sweep runs, then with scrapes), for the default
metrics-max-series and for a cap high enough to label every stream.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import urllib.request

import redis

from conftest import ServerProcess, free_port, respd_argv


def scrape(port: int) -> tuple[float, dict[str, float]]:
    began = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=120) as resp:
        text = resp.read().decode()
    elapsed = time.perf_counter() - began
    gauges = {}
    for line in text.splitlines():
        if line.startswith("respd_metrics_"):
            name, value = line.rsplit(" ", 1)
            gauges[name] = float(value)
    gauges["series"] = sum(1 for line in text.splitlines() if line and line[0] != "#")
    return elapsed, gauges


def run(streams: int, max_series: int) -> dict[str, float]:
    http = free_port()
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = ServerProcess(respd_argv(port, "--http-port", str(http), "--metrics-max-series",
                                          str(max_series)), port, workdir).start()
        try:
            r = redis.Redis(port=port)
            pipe = r.pipeline(transaction=False)
            for i in range(streams):
                pipe.xadd(f"stream:{i}", {"n": i})
                if i % 10 == 0:
                    pipe.xgroup_create(f"stream:{i}", "g", id="0")
                    pipe.xreadgroup("g", "c", {f"stream:{i}": ">"}, count=1)
                if len(pipe) >= 5000:
                    pipe.execute()
            pipe.execute()
            worst = [0.0]
            stop = threading.Event()

            def pinger() -> None:
                client = redis.Redis(port=port)
                while not stop.is_set():
                    began = time.perf_counter()
                    client.ping()
                    worst[0] = max(worst[0], time.perf_counter() - began)
                    time.sleep(0.001)

            thread = threading.Thread(target=pinger)
            time.sleep(1.0)
            thread.start()
            time.sleep(3.0)  # sweeps only: the machine's own noise plus the sweep steps
            sweeping_only = worst[0]
            deadline = time.monotonic() + 120
            gauges: dict[str, float] = {}
            while time.monotonic() < deadline:  # wait for a complete sweep after the load
                _, gauges = scrape(http)
                if gauges.get("respd_metrics_sweep_seconds", 0) > 0 and \
                        gauges["respd_metrics_tracked_keys"] >= min(streams, max_series // 4):
                    break
                time.sleep(0.5)
            scrape_seconds = min(scrape(http)[0] for _ in range(3))
            time.sleep(2.5)  # at least one more whole sweep under the pinger
            stop.set()
            thread.join()
            _, gauges = scrape(http)
            return {"max_series": max_series, "scrape_s": scrape_seconds,
                    "sweep_s": gauges["respd_metrics_sweep_seconds"],
                    "longest_step_s": gauges["respd_metrics_sweep_longest_step_seconds"],
                    "tracked": gauges["respd_metrics_tracked_keys"],
                    "series": gauges["series"], "worst_ping_s": worst[0],
                    "worst_ping_sweeping_s": sweeping_only}
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=100_000)
    parser.add_argument("--max-series", type=int, nargs="*",
                        help="caps to measure (default: 10000, and one labelling every stream)")
    args = parser.parse_args()
    for cap in args.max_series or (10_000, 4 * args.streams):
        result = run(args.streams, cap)
        print(f"{args.streams} streams, metrics-max-series {cap}: "
              f"sweep {result['sweep_s'] * 1000:.0f} ms in steps of at most "
              f"{result['longest_step_s'] * 1000:.1f} ms; "
              f"scrape {result['scrape_s'] * 1000:.0f} ms for {result['series']:.0f} series "
              f"({result['tracked']:.0f} keys labelled); "
              f"worst PING round trip {result['worst_ping_sweeping_s'] * 1000:.1f} ms while "
              f"sweeping only, {result['worst_ping_s'] * 1000:.1f} ms with scrapes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
