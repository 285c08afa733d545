"""A priority queue on a sorted set: a narrated run.

    python examples/priority_queue.py              # starts its own respd on a free port
    python examples/priority_queue.py --port 6379  # or uses a running server

Producers ZADD jobs with their priority as the score (lower = more urgent); workers take
them with BZPOPMIN, which blocks while the queue is empty and always hands out the most
urgent job first — RabbitMQ's priority queues, Redis-style.

1. A worker blocks on an empty queue; the first ZADD wakes it at once.
2. A burst of jobs with mixed priorities arrives while the workers are busy.
3. Two workers drain the burst: urgent jobs leave first, and while one worker is busy
   with a job the other takes the next, so both share the burst.
   (Equal scores pop in member order; add a sequence number to the score for FIFO
   within a priority.)
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

import redis

from demo_support import respd_server, say

WAIT = 10.0  # bound on every wait in the demo
BURST = {"nightly-report": 9, "password-reset": 1, "thumbnail": 5, "invoice": 3,
         "newsletter": 8, "fraud-check": 0}


WORK_SECONDS = 0.15  # how long a job takes: while one worker is busy, the other pops


def drain(port: int, name: str, log: list[tuple[float, str, str]], lock: threading.Lock) -> None:
    """Pop until the queue stays empty for a moment; record (priority, job, worker), then
    do the job.  The lock covers only the pop and its log line, so the log is in pop
    order; the work happens outside it, which is when the other worker takes the next
    job."""
    r = redis.Redis(port=port)
    while True:
        with lock:
            item = r.bzpopmin("tasks", 0.2)
            if item is None:
                break
            _, job, priority = item
            log.append((priority, job.decode(), name))
        time.sleep(WORK_SECONDS)  # the job itself
    r.close()


def first_job(port: int, got: list[Any]) -> None:
    r = redis.Redis(port=port)
    got.append(r.bzpopmin("tasks", WAIT))
    r.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    with respd_server(port=args.port) as port:
        r = redis.Redis(port=port)
        r.delete("tasks")

        first: list[Any] = []
        waiter = threading.Thread(target=first_job, args=(port, first))
        waiter.start()
        deadline = time.monotonic() + WAIT
        while r.info("clients")["blocked_clients"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        say("1. a worker is blocked in BZPOPMIN on the empty queue")
        r.zadd("tasks", {"welcome-email": 5})
        waiter.join(WAIT)
        say(f"   ZADD tasks 5 welcome-email -> the worker got {first[0][1].decode()} at once")

        r.zadd("tasks", BURST)
        say(f"2. burst queued: {', '.join(f'{job}({p})' for job, p in BURST.items())}")

        log: list[tuple[float, str, str]] = []
        lock = threading.Lock()
        workers = [threading.Thread(target=drain, args=(port, name, log, lock))
                   for name in ("w1", "w2")]
        for t in workers:
            t.start()
        for t in workers:
            t.join(WAIT)
        say("3. taken in this order:")
        for priority, job, name in log:
            say(f"   priority {priority:g}: {job} (by {name})")
        in_order = [p for p, _, _ in log] == sorted(BURST.values())
        shares = {name: sum(1 for _, _, who in log if who == name) for name in ("w1", "w2")}
        say(f"   most urgent first: {in_order}; left in queue: {r.zcard('tasks')}")
        say(f"   shared: w1 took {shares['w1']} jobs, w2 took {shares['w2']}")
        r.close()
        shared = all(shares.values())
        return 0 if in_order and shared and len(log) == len(BURST) else 1


if __name__ == "__main__":
    sys.exit(main())
