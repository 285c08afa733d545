"""The side-by-side benchmark suite: respd against real redis-server, same machine, same run.

    python -m benchmarks.run            # full suite (several minutes)
    python -m benchmarks.run --quick    # small counts, for a smoke test
    python -m benchmarks.run --only throughput,latency

Both servers run with the same settings (persistence off) pinned to CPU 0; load
generators run on CPU 1.  Cases are interleaved (redis, respd, redis, respd, ...) for
several rounds and reported as median with min–max, the respd/redis ratio, and server
CPU time per request (from /proc) so the comparison survives a noisy machine.  Results
go to benchmarks/results/latest.{json,md,png}.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks.servers import BenchServer, pin_prefix, start_pair

RESULTS = Path(__file__).parent / "results"
LOADGEN_CPU = 1

# (case name, redis-benchmark arguments): builtin tests by -t, custom commands as argv.
THROUGHPUT_CASES: list[tuple[str, list[str]]] = [
    ("PING_INLINE", ["-t", "ping_inline"]),
    ("PING_MBULK", ["-t", "ping_mbulk"]),
    ("SET", ["-t", "set"]),
    ("GET", ["-t", "get"]),
    ("INCR", ["-t", "incr"]),
    ("LPUSH", ["-t", "lpush"]),
    ("LPOP", ["-t", "lpop"]),
    ("XADD", ["XADD", "bench:stream", "*", "f", "v"]),
    ("PUBLISH", ["PUBLISH", "bench:nobody", "msg"]),
    ("SET NX PX", ["-r", "100000", "SET", "lock:__rand_int__", "v", "NX", "PX", "10000"]),
]


def redis_benchmark(server: BenchServer, args: list[str], requests: int, pipeline: int,
                    clients: int = 50) -> float:
    """Requests per second reported by redis-benchmark (CSV output)."""
    argv = pin_prefix(LOADGEN_CPU) + [
        "redis-benchmark", "-p", str(server.port), "-n", str(requests), "-c", str(clients),
        "-P", str(pipeline), "--csv", "-q", *args,
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    rows = [row for row in csv.reader(io.StringIO(out)) if row and row[0] != "test"]
    if not rows:
        raise RuntimeError(f"redis-benchmark gave no result for {args}: {out!r}")
    return float(rows[-1][1])


def measure(server: BenchServer, fn: Callable[[], float], work: int) -> dict[str, float]:
    """Run fn (returning a rate) and record server CPU per unit of work."""
    cpu0 = server.cpu_seconds()
    rate = fn()
    cpu = server.cpu_seconds() - cpu0
    return {"rate": rate, "cpu_us_per_op": cpu / work * 1e6 if work else 0.0}


def summarise(samples: list[dict[str, float]]) -> dict[str, float]:
    rates = [s["rate"] for s in samples]
    return {
        "median": statistics.median(rates),
        "min": min(rates),
        "max": max(rates),
        "cpu_us_per_op": statistics.median(s["cpu_us_per_op"] for s in samples),
    }


def interleaved(servers: tuple[BenchServer, BenchServer], rounds: int,
                run: Callable[[BenchServer], dict[str, float]]) -> dict[str, Any]:
    samples: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
    for _ in range(rounds):
        for server in servers:
            samples[server.name].append(run(server))
    result = {name: summarise(s) for name, s in samples.items()}
    result["ratio"] = result["respd"]["median"] / result["redis"]["median"]
    return result


def flush(server: BenchServer) -> None:
    client = server.client()
    client.flushall()
    client.close()


# --- cases -------------------------------------------------------------------------------

def throughput_cases(servers: tuple[BenchServer, BenchServer], args: argparse.Namespace
                     ) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for pipeline in (1, 16):
        for name, bench_args in THROUGHPUT_CASES:
            requests = args.requests * (4 if pipeline > 1 else 1)

            def run(server: BenchServer) -> dict[str, float]:
                flush(server)
                return measure(server, lambda: redis_benchmark(server, bench_args, requests,
                                                               pipeline), requests)

            key = f"{name} -P {pipeline}"
            try:
                results[key] = interleaved(servers, args.rounds, run)
            except RuntimeError as err:  # a command respd lacks must not sink the suite
                results[key] = {"error": str(err)}
                print(f"  {key:22} failed: {err}", flush=True)
                continue
            print(f"  {key:22} ratio {results[key]['ratio']:.2f}", flush=True)
    return results


async def _latency_run(port: int, rate: int, seconds: float) -> list[float]:
    """A paced load of `rate` SET/GET per second (asyncio-throttle) shared by 10
    connections; each request's latency is measured from when it was sent."""
    import redis.asyncio as aioredis
    from asyncio_throttle import Throttler

    throttler = Throttler(rate_limit=max(1, rate // 100), period=0.01)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        client = aioredis.Redis(port=port)
        i = n
        while time.monotonic() < deadline:
            async with throttler:
                start = time.perf_counter()
                if i % 2:
                    await client.set(f"lat:{i % 1000}", "v")
                else:
                    await client.get(f"lat:{i % 1000}")
                latencies.append((time.perf_counter() - start) * 1e6)
            i += 10
        await client.aclose()

    await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(10))), seconds + 30)
    return latencies


def latency_case(servers: tuple[BenchServer, BenchServer], args: argparse.Namespace
                 ) -> dict[str, Any]:
    rate = 2000 if args.quick else 5000
    seconds = 2.0 if args.quick else 8.0
    out: dict[str, Any] = {"offered_per_sec": rate}
    for server in servers:
        lat = sorted(asyncio.run(_latency_run(server.port, rate, seconds)))

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(len(lat) * p))]

        out[server.name] = {"p50_us": pct(0.5), "p99_us": pct(0.99), "p999_us": pct(0.999),
                            "samples": len(lat)}
    out["ratio_p99"] = out["respd"]["p99_us"] / out["redis"]["p99_us"]
    return out


async def _group_run(port: int, entries: int) -> float:
    """Producers XADD, a group of 4 consumers XREADGROUP + XACK: entries/s end to end."""
    import redis.asyncio as aioredis

    admin = aioredis.Redis(port=port)
    await admin.delete("g:stream")
    await admin.xgroup_create("g:stream", "workers", id="0", mkstream=True)
    done = 0
    start = time.perf_counter()

    async def produce(client: Any, count: int) -> None:
        for _ in range(count // 50):
            pipe = client.pipeline(transaction=False)
            for _ in range(50):
                pipe.xadd("g:stream", {"f": "v"})
            await pipe.execute()

    async def consume(client: Any, name: str) -> None:
        nonlocal done
        while done < entries:
            reply = await client.xreadgroup("workers", name, {"g:stream": ">"}, count=100,
                                            block=100)
            for _, items in reply or ():
                ids = [item_id for item_id, _ in items]
                if ids:
                    await client.xack("g:stream", "workers", *ids)
                    done += len(ids)

    producers = [aioredis.Redis(port=port) for _ in range(2)]
    consumers = [aioredis.Redis(port=port) for _ in range(4)]
    await asyncio.wait_for(asyncio.gather(
        *(produce(p, entries // 2) for p in producers),
        *(consume(c, f"c{i}") for i, c in enumerate(consumers)),
    ), timeout=300)
    elapsed = time.perf_counter() - start
    for client in (admin, *producers, *consumers):
        await client.aclose()
    return done / elapsed


async def _queue_run(port: int, jobs: int) -> float:
    """Producers LPUSH, 4 consumers BRPOP: jobs/s end to end."""
    import redis.asyncio as aioredis

    taken = 0
    start = time.perf_counter()

    async def produce(client: Any, count: int) -> None:
        for _ in range(count // 50):
            await client.lpush("q:jobs", *[b"job"] * 50)

    async def consume(client: Any) -> None:
        nonlocal taken
        while taken < jobs:
            if await client.brpop(["q:jobs"], timeout=0.2):
                taken += 1

    producers = [aioredis.Redis(port=port) for _ in range(2)]
    consumers = [aioredis.Redis(port=port) for _ in range(4)]
    await asyncio.wait_for(asyncio.gather(*(produce(p, jobs // 2) for p in producers),
                                          *(consume(c) for c in consumers)), timeout=300)
    elapsed = time.perf_counter() - start
    for client in (*producers, *consumers):
        await client.aclose()
    return taken / elapsed


def messaging_cases(servers: tuple[BenchServer, BenchServer], args: argparse.Namespace
                    ) -> dict[str, Any]:
    entries = 5_000 if args.quick else 50_000
    jobs = 5_000 if args.quick else 40_000
    results = {
        "stream group entries/s": interleaved(
            servers, args.rounds,
            lambda s: measure(s, lambda: asyncio.run(_group_run(s.port, entries)), entries)),
        "blocking queue jobs/s": interleaved(
            servers, args.rounds,
            lambda s: measure(s, lambda: asyncio.run(_queue_run(s.port, jobs)), jobs)),
    }
    for key, value in results.items():
        print(f"  {key:22} ratio {value['ratio']:.2f}", flush=True)
    return results


def _fill(server: BenchServer, commands: Callable[[int], list[bytes]], count: int) -> None:
    client = server.client()
    for start in range(0, count, 10_000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(count, start + 10_000)):
            pipe.execute_command(*commands(i))
        pipe.execute()
    client.close()


def memory_cases(servers: tuple[BenchServer, BenchServer], args: argparse.Namespace
                 ) -> dict[str, Any]:
    """Bytes per item: respd's RSS growth against redis-server's used_memory growth."""
    count = 100_000 if args.quick else 1_000_000
    shapes = {
        "bytes per small string key": lambda i: [b"SET", b"key:%d" % i, b"value:%d" % i],
        "bytes per stream entry": lambda i: [b"XADD", b"mem:stream", b"*", b"f1", b"v%d" % i,
                                             b"f2", b"small"],
    }
    out: dict[str, Any] = {}
    for label, shape in shapes.items():
        row: dict[str, Any] = {}
        for server in servers:
            flush(server)
            client = server.client()
            before = (int(client.info("memory")["used_memory"]) if server.name == "redis"
                      else server.rss_bytes())
            _fill(server, shape, count)
            after = (int(client.info("memory")["used_memory"]) if server.name == "redis"
                     else server.rss_bytes())
            client.close()
            row[server.name] = (after - before) / count
            flush(server)
        row["ratio"] = row["respd"] / row["redis"]
        out[label] = row
        print(f"  {label:28} respd {row['respd']:.0f} B, redis {row['redis']:.0f} B, "
              f"ratio {row['ratio']:.2f}", flush=True)
    return out


def fanout_cases(servers: tuple[BenchServer, BenchServer], args: argparse.Namespace
                 ) -> dict[str, Any]:
    """Pub/sub fan-out (benchmarks/fanout.py scenarios): delivered messages/s.  Its own
    pair of servers: output-buffer limits off, so a flood never costs subscribers."""
    from benchmarks import fanout

    pair = start_pair("--client-output-buffer-limit", "pubsub 0 0 0")
    results: dict[str, Any] = {}
    try:
        for scenario in fanout.scenarios(50_000 if args.quick else 400_000):
            def run(server: BenchServer, scenario: Any = scenario) -> dict[str, float]:
                rate, per_cpu = fanout.run(server, scenario)
                return {"rate": rate, "cpu_us_per_op": 1e6 / per_cpu}

            key = f"fan-out: {scenario.name}"
            results[key] = interleaved(pair, args.rounds, run)
            print(f"  {key:40} ratio {results[key]['ratio']:.2f}", flush=True)
    finally:
        for server in pair:
            server.stop()
    return results


SUITES: dict[str, Callable[[tuple[BenchServer, BenchServer], argparse.Namespace],
                           dict[str, Any]]] = {
    "throughput": throughput_cases,
    "latency": latency_case,
    "messaging": messaging_cases,
    "fanout": fanout_cases,
    "memory": memory_cases,
}


# --- report ------------------------------------------------------------------------------

def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def ratio_rows(results: dict[str, Any]) -> list[tuple[str, float, str]]:
    rows = []
    for suite, cases in results["suites"].items():
        for case, value in cases.items():
            if not isinstance(value, dict):
                continue
            if "ratio" in value and "redis" in value and isinstance(value["redis"], dict):
                detail = (f"{value['respd']['median']:,.0f} vs {value['redis']['median']:,.0f}/s"
                          f" (respd CPU {value['respd']['cpu_us_per_op']:.1f} µs/op, "
                          f"redis {value['redis']['cpu_us_per_op']:.1f})")
                rows.append((case, value["ratio"], detail))
            elif "ratio" in value:
                rows.append((case, value["ratio"],
                             f"{value.get('respd', 0):,.0f} vs {value.get('redis', 0):,.0f}"))
        if suite == "latency" and "ratio_p99" in cases:
            rows.append((f"p99 latency at {cases['offered_per_sec']}/s (lower is better)",
                         cases["ratio_p99"],
                         f"respd p50/p99/p99.9 {cases['respd']['p50_us']:.0f}/"
                         f"{cases['respd']['p99_us']:.0f}/{cases['respd']['p999_us']:.0f} µs, "
                         f"redis {cases['redis']['p50_us']:.0f}/{cases['redis']['p99_us']:.0f}/"
                         f"{cases['redis']['p999_us']:.0f} µs"))
    return rows


def write_report(results: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    rows = ratio_rows(results)
    lines = [f"Machine: {results['machine']}; {results['date']}; rounds: {results['rounds']}.",
             "", "| case | respd / redis | detail |", "| --- | ---: | --- |"]
    lines += [f"| {case} | {ratio:.2f}× | {detail} |" for case, ratio, detail in rows]
    table = "\n".join(lines) + "\n"
    (RESULTS / "latest.md").write_text(table)
    _splice_readme(table)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart")
        return
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.5))
    names = [r[0] for r in rows][::-1]
    ratios = [r[1] for r in rows][::-1]
    ax.barh(names, ratios, color=["#2a9d8f" if r >= 0.9 else "#e9c46a" if r >= 0.5
                                  else "#e76f51" for r in ratios])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("respd / redis-server 7.0 (higher is better; latency: lower is better)")
    ax.set_title(f"respd vs redis-server — {results['date']}")
    fig.tight_layout()
    fig.savefig(RESULTS / "latest.png", dpi=110)
    print(f"wrote {RESULTS}/latest.json, latest.md, latest.png")


README = Path(__file__).parent.parent / "README.md"
BENCH_START, BENCH_END = "<!-- bench:start -->\n", "<!-- bench:end -->"


def _splice_readme(table: str) -> None:
    """Show the latest table and chart in the README, between its bench markers."""
    text = README.read_text(encoding="utf-8")
    if BENCH_START not in text:
        return
    head, _, rest = text.partition(BENCH_START)
    _, _, tail = rest.partition(BENCH_END)
    body = "![respd / redis-server per case](benchmarks/results/latest.png)\n\n" + table
    README.write_text(head + BENCH_START + body + BENCH_END + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--only", default=",".join(SUITES))
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.requests = 1, 20_000
    servers = start_pair()
    results: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M"),
                               "rounds": args.rounds, "suites": {}}
    try:
        for name in args.only.split(","):
            print(f"{name}:", flush=True)
            results["suites"][name] = SUITES[name](servers, args)
    finally:
        for server in servers:
            server.stop()
    write_report(results)


if __name__ == "__main__":
    main()
