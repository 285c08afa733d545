"""How close respd's used_memory estimate (respd.memory) is to what the process really
grows by, per data type.

    python -m benchmarks.memory_estimate [TYPE ...]

Each type runs in a fresh interpreter: a Server is built in-process, a workload of that
type is run through dispatch.execute (every argument a distinct bytes object, as parsed
requests are), and the growth of the estimated dataset (INFO's used_memory_dataset) is
compared with the growth of the process's RSS.  Prints one line per type: bytes per
element estimated, bytes per element measured, and the ratio.
"""

from __future__ import annotations

import gc
import json
import random
import subprocess
import sys
from typing import Callable, Iterator

Workload = Callable[[], Iterator[list[bytes]]]


def _value(n: int) -> bytes:
    return bytes(random.getrandbits(8) % 26 + 97 for _ in range(n))


def strings() -> Iterator[list[bytes]]:
    for i in range(300_000):
        yield [b"SET", b"key:%012d" % i, _value(random.randint(8, 64))]


def lists() -> Iterator[list[bytes]]:
    for i in range(300_000):
        yield [b"RPUSH", b"list:%d" % (i % 100), _value(random.randint(8, 64))]


def hashes() -> Iterator[list[bytes]]:
    for i in range(300_000):  # small hashes and a few big ones
        key = b"h:%d" % (i % 10_000) if i % 2 else b"big:%d" % (i % 10)
        yield [b"HSET", key, b"field:%d" % i, _value(random.randint(8, 64))]


def sets() -> Iterator[list[bytes]]:
    for i in range(300_000):
        yield [b"SADD", b"set:%d" % (i % 1000), b"member:%d:%s" % (i, _value(8))]


def zsets() -> Iterator[list[bytes]]:
    for i in range(300_000):
        yield [b"ZADD", b"z:%d" % (i % 100), b"%d" % random.randint(0, 10**9),
               b"member:%d" % i]


def streams() -> Iterator[list[bytes]]:
    for i in range(300_000):
        yield [b"XADD", b"s:%d" % (i % 10), b"*", b"field", _value(random.randint(8, 64)),
               b"n", b"%d" % i]


WORKLOADS: dict[str, Workload] = {f.__name__: f for f in
                                  (strings, lists, hashes, sets, zsets, streams)}


def measure(name: str) -> dict[str, float]:
    """Run one workload in this process; the growth of the estimate and of the RSS."""
    from respd.dispatch import execute
    from respd.info import rss_bytes
    from respd.server import Server

    random.seed(1)
    server = Server()
    client = server.new_client()
    gc.collect()
    rss0, est0 = rss_bytes(), server.memory.accounting.used()
    for argv in WORKLOADS[name]():  # each request freed once run: its blocks are reused
        execute(client, argv)
    gc.collect()
    rss1, est1 = rss_bytes(), server.memory.accounting.used()
    return {"estimate": est1 - est0, "rss": rss1 - rss0, "ops": 300_000}


def main(names: list[str]) -> None:
    print(f"{'type':10} {'estimate':>12} {'rss growth':>12} {'est/rss':>8}")
    for name in names or list(WORKLOADS):
        out = subprocess.run([sys.executable, "-m", "benchmarks.memory_estimate", "--one", name],
                             capture_output=True, text=True, check=True).stdout
        result = json.loads(out)
        est, rss = result["estimate"], result["rss"]
        print(f"{name:10} {est / 1e6:10.1f}MB {rss / 1e6:10.1f}MB {est / rss:8.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2])))
    else:
        main(sys.argv[1:])
