"""Distributed locks from real client libraries, unchanged, against respd: redis-py's
``Lock`` (sync and asyncio; its release/extend/reacquire are Lua scripts sent with
EVALSHA) and pottery's ``Redlock`` across three respd instances.  Waits are bounded;
nothing asserts on timing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from pottery import Redlock
from redis.backoff import NoBackoff
from redis.exceptions import LockError, LockNotOwnedError
from redis.retry import Retry


def test_acquire_release_owned_locked(r: Any) -> None:
    lock = r.lock("res", timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.locked() and lock.owned()
    other = r.lock("res", timeout=10)
    assert not other.acquire(blocking=False)
    assert other.locked() and not other.owned()
    lock.release()
    assert not lock.locked()
    assert other.acquire(blocking=False)
    other.release()


def test_blocking_acquire_with_timeout(r: Any) -> None:
    holder = r.lock("res", timeout=10, thread_local=False)  # released from a timer
    assert holder.acquire()
    waiter = r.lock("res", timeout=10, sleep=0.01)
    assert not waiter.acquire(blocking=True, blocking_timeout=0.1)  # gives up, bounded
    released = threading.Timer(0.05, holder.release)
    released.start()
    assert waiter.acquire(blocking=True, blocking_timeout=5)
    released.join()
    waiter.release()


def test_extend_and_reacquire(r: Any) -> None:
    lock = r.lock("res", timeout=5)
    assert lock.acquire(blocking=False)
    assert lock.extend(10)  # adds to the remaining TTL
    assert 10_000 < r.pttl("res") <= 15_000
    assert lock.extend(3, replace_ttl=True)
    assert r.pttl("res") <= 3_000
    assert lock.reacquire()  # back to the lock's own timeout
    assert 3_000 < r.pttl("res") <= 5_000
    lock.release()


def test_lost_lock_cannot_be_released_or_extended(r: Any) -> None:
    lock = r.lock("res", timeout=10)
    assert lock.acquire(blocking=False)
    r.set("res", "someone-else")  # the lock expired and another client took it
    assert not lock.owned()
    with pytest.raises(LockNotOwnedError):
        lock.extend(5)
    with pytest.raises(LockNotOwnedError):
        lock.reacquire()
    with pytest.raises(LockNotOwnedError):
        lock.release()
    assert r.get("res") == b"someone-else"


def test_lock_scripts_survive_script_flush(r: Any) -> None:
    lock = r.lock("res", timeout=10)
    assert lock.acquire(blocking=False)
    r.script_flush()  # EVALSHA now answers NOSCRIPT: redis-py loads the script again
    assert lock.extend(1)
    lock.release()
    with pytest.raises(LockError):
        lock.release()  # releasing an unlocked lock


def test_lock_expires_by_itself(r: Any) -> None:
    lock = r.lock("res", timeout=0.05)
    assert lock.acquire(blocking=False)
    taker = r.lock("res", timeout=10, sleep=0.01)
    assert taker.acquire(blocking=True, blocking_timeout=5)
    assert taker.owned() and not lock.owned()
    taker.release()


def test_mutual_exclusion_between_threads(respd: Any) -> None:
    """Read-modify-write under the lock from several connections: nothing is lost."""
    respd.client().delete("counter", "guard")

    def worker() -> None:
        client = respd.client()
        for _ in range(25):
            with client.lock("guard", timeout=10, sleep=0.001, blocking_timeout=20):
                value = int(client.get("counter") or 0)
                client.set("counter", value + 1)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert respd.client().get("counter") == b"100"


def test_asyncio_lock(respd: Any) -> None:
    async def scenario() -> None:
        client = redis.asyncio.Redis(host="127.0.0.1", port=respd.port)
        lock = client.lock("alock", timeout=10, sleep=0.01)
        assert await lock.acquire(blocking=False)
        assert await lock.locked() and await lock.owned()
        other = client.lock("alock", timeout=10, sleep=0.01)
        assert not await other.acquire(blocking=True, blocking_timeout=0.1)
        assert await lock.extend(5)
        assert await lock.reacquire()
        await lock.release()
        assert await other.acquire(blocking=True, blocking_timeout=5)
        await other.release()
        assert not await other.locked()
        await client.aclose()

    asyncio.run(scenario())


def no_retry_clients(servers: list[Any]) -> list[Any]:
    """Clients that report a stopped instance at once instead of retrying."""
    return [s.client(retry=Retry(NoBackoff(), 0), socket_connect_timeout=1) for s in servers]


def test_redlock_majority_and_contention(spawn: Any) -> None:
    servers = [spawn("respd") for _ in range(3)]
    clients = no_retry_clients(servers)
    masters = set(clients)
    first = Redlock(key="job", masters=masters, auto_release_time=10)
    second = Redlock(key="job", masters=masters, auto_release_time=10)
    assert first.acquire(blocking=False)
    assert not second.acquire(blocking=False)  # never held twice
    servers[0].stop()  # one instance down: still a majority
    first.release()
    assert second.acquire(blocking=False)
    assert second.locked() > 0
    assert not first.acquire(blocking=False)
    second.release()
    masters_up = [c for c, s in zip(clients, servers) if s.alive]
    assert all(c.exists("redlock:job") == 0 for c in masters_up)


def test_redlock_lost_majority_refuses(spawn: Any) -> None:
    servers = [spawn("respd") for _ in range(3)]
    lock = Redlock(key="job", masters=set(no_retry_clients(servers)), auto_release_time=10)
    servers[0].stop()
    servers[1].stop()
    started = time.monotonic()
    assert not lock.acquire(blocking=False)
    assert time.monotonic() - started < 30  # bounded, not a timing claim


def test_distributed_lock_demo_runs() -> None:
    """The narrated demo (examples/distributed_lock.py) starts its own servers, runs its
    three acts and checks its own claims; here it only has to finish cleanly."""
    demo = Path(__file__).resolve().parent.parent / "examples" / "distributed_lock.py"
    out = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 moments where both held it" in out.stdout
    assert "writes with token 1: rejected" in out.stdout
