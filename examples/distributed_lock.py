"""Distributed locks on respd, in three acts.

    python examples/distributed_lock.py

1. Mutual exclusion: worker processes increment a shared counter with GET + SET.  Without
   a lock updates are lost; under redis-py's ``Lock`` (SET NX PX to take it, Lua scripts
   to release/extend it) the total is exact.
2. Redlock: pottery's ``Redlock`` over three respd instances takes the lock on a
   majority, keeps working with one instance down, and two contenders never hold it at
   the same time.
3. Fencing tokens: a TTL lock alone cannot stop a holder that pauses past its TTL from
   writing after someone else took over.  A Lua script hands out the lock together with a
   monotonically increasing token (SET NX PX and INCR in one atomic step); the protected
   resource remembers the highest token it has seen and rejects the stale write.

The demo starts the respd servers it needs on free ports and stops them at the end.
"""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from typing import Any

import redis
from pottery import Redlock
from redis.backoff import NoBackoff
from redis.retry import Retry

from demo_support import free_port, say, start_respd, stop_respd

WORKERS = 4
INCREMENTS = 50


# --- servers -------------------------------------------------------------------------------


class Respd:
    """A respd child process on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="respd-lock-demo-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Respd":
        # Each instance in its own workdir, so the three Redlock masters share no files.
        self.proc = start_respd(self.port, "--bind", "127.0.0.1", cwd=self.workdir)
        return self

    def stop(self) -> None:
        # Separate from start: act 2 stops instance #1 mid-demo to show a minority down.
        if self.proc is not None:
            stop_respd(self.proc)

    def close(self) -> None:
        """Stop the server if it still runs, and remove its working directory."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def client(self) -> redis.Redis:
        # No retries: a stopped instance must count as down at once (act 2).
        return redis.Redis(port=self.port, retry=Retry(NoBackoff(), 0),
                           socket_connect_timeout=1)


def started(stack: ExitStack, count: int) -> list[Respd]:
    servers = []
    for _ in range(count):
        server = Respd()
        stack.callback(server.close)  # registered first: a failed start cleans up too
        servers.append(server.start())
    return servers


# --- act 1: mutual exclusion -------------------------------------------------------------


def unsafe_worker(port: int) -> None:
    client = redis.Redis(port=port)
    for _ in range(INCREMENTS):
        value = int(client.get("counter") or 0)
        time.sleep(0.0005)  # the window another worker slips into
        client.set("counter", value + 1)


def locked_worker(port: int) -> None:
    client = redis.Redis(port=port)
    for _ in range(INCREMENTS):
        with client.lock("counter:lock", timeout=5, sleep=0.001, blocking_timeout=30):
            value = int(client.get("counter") or 0)
            time.sleep(0.0005)
            client.set("counter", value + 1)


def run_workers(target: Any, port: int) -> int:
    redis.Redis(port=port).delete("counter")
    procs = [multiprocessing.Process(target=target, args=(port,)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    return int(redis.Redis(port=port).get("counter") or 0)


def act_one(server: Respd) -> None:
    expected = WORKERS * INCREMENTS
    say("Act 1 - mutual exclusion")
    say(f"  {WORKERS} worker processes each add 1 to a counter {INCREMENTS} times "
        f"(GET, then SET): {expected} expected.")
    lost = run_workers(unsafe_worker, server.port)
    say(f"  without a lock: counter = {lost} ({expected - lost} updates lost to races)")
    exact = run_workers(locked_worker, server.port)
    say(f"  under redis-py's Lock: counter = {exact}"
        f" {'(exact)' if exact == expected else '(WRONG)'}")
    assert exact == expected
    say()


# --- act 2: Redlock ------------------------------------------------------------------------


def holders(clients: list[redis.Redis], key: str) -> str:
    marks = []
    for i, client in enumerate(clients):
        try:
            marks.append(f"#{i + 1}:{'held' if client.exists(key) else '-'}")
        except redis.ConnectionError:
            marks.append(f"#{i + 1}:down")
    return " ".join(marks)


def contend(masters: set[redis.Redis], rounds: int) -> tuple[int, int]:
    """Two threads grab the lock in turn; returns (acquisitions, overlaps seen)."""
    inside = [0]
    overlaps = [0]
    acquired = [0]
    guard = threading.Lock()

    def contender() -> None:
        lock = Redlock(key="shared-job", masters=masters, auto_release_time=5)
        for _ in range(rounds):
            if not lock.acquire(blocking=True, timeout=10):
                continue
            with guard:
                inside[0] += 1
                acquired[0] += 1
                overlaps[0] += inside[0] > 1
            time.sleep(0.002)
            with guard:
                inside[0] -= 1
            lock.release()

    threads = [threading.Thread(target=contender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return acquired[0], overlaps[0]


def act_two(servers: list[Respd]) -> None:
    say("Act 2 - Redlock over three respd instances (pottery)")
    clients = [s.client() for s in servers]
    masters = set(clients)
    key = "redlock:report"
    first = Redlock(key="report", masters=masters, auto_release_time=10)
    second = Redlock(key="report", masters=masters, auto_release_time=10)
    assert first.acquire(blocking=False)
    say(f"  client A acquires 'report': {holders(clients, key)} (a majority holds it)")
    assert not second.acquire(blocking=False)
    say("  client B tries too: refused")
    servers[0].stop()
    say(f"  instance #1 goes down: {holders(clients, key)}")
    say(f"  A still holds the lock for {first.locked():.1f} s more on the two left")
    first.release()
    assert second.acquire(blocking=False)
    say(f"  A releases; B acquires with 2 of 3 instances: {holders(clients, key)}")
    second.release()
    live = {c for c, s in zip(clients, servers) if s.proc and s.proc.poll() is None}
    acquisitions, overlaps = contend(live, rounds=20)
    say(f"  two contenders, {acquisitions} acquisitions between them: "
        f"{overlaps} moments where both held it")
    assert overlaps == 0
    say()


# --- act 3: fencing tokens -----------------------------------------------------------------

# KEYS[1] lock, KEYS[2] token counter; ARGV[1] owner id, ARGV[2] TTL ms.  One atomic
# step: the lock and its token can never be handed out separately.
ACQUIRE_WITH_TOKEN = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('incr', KEYS[2])
end
return false
"""


class FencedStorage:
    """The protected resource: it accepts a write only with a token at least as new as
    the newest one it has seen, so a holder whose lock expired cannot clobber a newer
    holder's work."""

    def __init__(self) -> None:
        self.highest = 0
        self.value = ""

    def write(self, token: int, value: str) -> bool:
        if token < self.highest:
            return False
        self.highest = token
        self.value = value
        return True


def act_three(server: Respd) -> None:
    say("Act 3 - fencing tokens")
    client = server.client()
    acquire = client.register_script(ACQUIRE_WITH_TOKEN)
    storage = FencedStorage()
    ttl_ms = 200

    token_a = acquire(keys=["file:lock", "file:token"], args=[uuid.uuid4().hex, ttl_ms])
    say(f"  client A takes the lock (TTL {ttl_ms} ms) with fencing token {token_a}")
    say("  ... A stalls (a GC pause, a slow disk) for longer than the TTL ...")
    time.sleep(2.5 * ttl_ms / 1000)
    token_b = None
    for _ in range(100):  # bounded wait for the lock to expire
        token_b = acquire(keys=["file:lock", "file:token"], args=[uuid.uuid4().hex, ttl_ms])
        if token_b:
            break
        time.sleep(0.01)
    say(f"  the lock expired; client B takes it with token {token_b}")
    ok_b = storage.write(token_b, "B's report")
    say(f"  B writes with token {token_b}: {'accepted' if ok_b else 'rejected'}")
    ok_a = storage.write(token_a, "A's stale report")
    say(f"  A wakes up, still believing it holds the lock, writes with token {token_a}: "
        f"{'accepted' if ok_a else 'rejected'}")
    say(f"  the resource keeps {storage.value!r}: the stale holder could not clobber it")
    assert ok_b and not ok_a and storage.value == "B's report"
    say()


def main() -> None:
    started_at = time.monotonic()
    with ExitStack() as stack:
        single, *trio = started(stack, 4)
        act_one(single)
        act_two(trio)
        act_three(single)
    say(f"Done in {time.monotonic() - started_at:.1f} s; servers stopped.")


if __name__ == "__main__":
    main()
