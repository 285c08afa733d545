"""A reliable work queue on lists: a narrated run.

    python examples/work_queue.py              # starts its own respd on a free port
    python examples/work_queue.py --port 6379  # or uses a running server

1. A producer LPUSHes jobs onto "jobs"; consumers compete for them with
   BLMOVE jobs processing:<worker> RIGHT LEFT, which hands each job to exactly one worker
   and, in the same atomic step, files it in that worker's processing list.
2. A worker acknowledges a finished job with LREM on its processing list: the job is
   gone for good (delete-on-consume).
3. One worker takes a job and crashes before acknowledging.  Its heartbeat key expires;
   a reaper then moves what is left in its processing list back onto "jobs", where a
   healthy worker picks it up: at-least-once delivery.
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


def worker(port: int, name: str, done: dict[str, str], stop: threading.Event) -> None:
    """Take jobs until told to stop; acknowledge each one after 'processing' it."""
    r = redis.Redis(port=port)
    processing = f"processing:{name}"
    while not stop.is_set():
        job = r.blmove("jobs", processing, 0.1, "RIGHT", "LEFT")
        if job is None:
            continue
        time.sleep(0.02)  # the work
        done[job.decode()] = name
        r.lrem(processing, 1, job)  # ack: the job leaves the system
    r.close()


def crashing_worker(port: int) -> str:
    """Takes one job, keeps a short-lived heartbeat, then dies without acknowledging."""
    r = redis.Redis(port=port)
    r.set("heartbeat:crashy", "alive", px=300)
    job = r.blmove("jobs", "processing:crashy", WAIT, "RIGHT", "LEFT")
    r.close()  # crash: no LREM, no more heartbeats
    return job.decode()


def reap(r: Any, name: str) -> list[str]:
    """Requeue a dead worker's unacknowledged jobs at the consuming end of the queue."""
    moved = []
    while (job := r.lmove(f"processing:{name}", "jobs", "RIGHT", "RIGHT")) is not None:
        moved.append(job.decode())
    return moved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    with respd_server(port=args.port) as port:
        r = redis.Redis(port=port)
        r.delete("jobs", "processing:crashy", "processing:w1", "processing:w2", "heartbeat:crashy")
        jobs = [f"job-{i}" for i in range(1, 7)]
        r.lpush("jobs", *jobs)
        say(f"1. queued {len(jobs)} jobs with LPUSH; LLEN jobs = {r.llen('jobs')}")

        lost = crashing_worker(port)
        say(f"2. worker 'crashy' took {lost} with BLMOVE and died before acknowledging;"
            f" processing:crashy = {[j.decode() for j in r.lrange('processing:crashy', 0, -1)]}")

        done: dict[str, str] = {}
        stop = threading.Event()
        threads = [threading.Thread(target=worker, args=(port, name, done, stop))
                   for name in ("w1", "w2")]
        for t in threads:
            t.start()

        deadline = time.monotonic() + WAIT
        while r.exists("heartbeat:crashy") and time.monotonic() < deadline:
            time.sleep(0.02)
        say("3. crashy's heartbeat expired: the reaper requeues "
            f"{reap(r, 'crashy')} from processing:crashy")

        while len(done) < len(jobs) and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        for t in threads:
            t.join(WAIT)
        for job in jobs:
            say(f"   {job} processed by {done.get(job, 'NOBODY')}")
        leftovers = r.llen("jobs") + sum(r.llen(f"processing:{n}") for n in ("w1", "w2", "crashy"))
        ok = set(done) == set(jobs) and leftovers == 0
        say(f"4. every job processed: {set(done) == set(jobs)}; "
            f"queue and processing lists empty: {leftovers == 0}")
        r.close()
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
