"""The lock primitive real lock libraries build on: ``SET key token NX PX ms`` to
acquire, expiry (or PEXPIRE) to time out, GET-then-DEL to release only one's own lock.
Two independent redis-py clients contend; waits are bounded polls, never timing asserts."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import redis

from conftest import eventually


def acquire(client: redis.Redis, name: str, token: bytes, ttl_ms: int) -> bool:
    return client.set(name, token, nx=True, px=ttl_ms) is True


def release(client: redis.Redis, name: str, token: bytes) -> bool:
    """Check-and-release inside WATCH/MULTI, as lock libraries without scripts do."""
    with client.pipeline() as pipe:
        try:
            pipe.watch(name)
            if pipe.get(name) != token:
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.delete(name)
            return pipe.execute() == [1]
        except redis.WatchError:
            return False


def wait_acquire(client: redis.Redis, name: str, token: bytes, ttl_ms: int,
                 timeout: float = 5.0) -> bool:
    return eventually(lambda: acquire(client, name, token, ttl_ms), timeout)


def test_only_one_client_acquires(respd: Any, r: redis.Redis) -> None:
    a, b = respd.client(), respd.client(protocol=3)
    try:
        ta, tb = b"token-a", b"token-b"
        assert acquire(a, "lock", ta, 30_000)
        assert not acquire(b, "lock", tb, 30_000)
        assert not release(b, "lock", tb)  # not b's lock: untouched
        assert a.get("lock") == ta
        assert release(a, "lock", ta)
        assert acquire(b, "lock", tb, 30_000)
        assert b.get("lock") == tb
    finally:
        a.close()
        b.close()


def test_lock_expires_and_other_client_takes_it(respd: Any, r: redis.Redis) -> None:
    a, b = respd.client(), respd.client()
    try:
        assert acquire(a, "lock", b"a", 50)
        assert not acquire(b, "lock", b"b", 10_000)
        assert wait_acquire(b, "lock", b"b", 10_000)
        # the expired holder can no longer release what is now b's lock
        assert not release(a, "lock", b"a")
        assert b.get("lock") == b"b"
    finally:
        a.close()
        b.close()


def test_pexpire_shortens_and_extends(respd: Any, r: redis.Redis) -> None:
    a, b = respd.client(), respd.client()
    try:
        assert acquire(a, "lock", b"a", 60_000)
        assert a.pexpire("lock", 100_000, gt=True) is True  # extend
        assert 60_000 < a.pttl("lock") <= 100_000
        assert a.pexpire("lock", 30) is True  # give it up soon
        assert wait_acquire(b, "lock", b"b", 10_000)
    finally:
        a.close()
        b.close()


def test_many_threads_contend(respd: Any, r: redis.Redis) -> None:
    """Eight clients increment a plain counter under the lock: no update is lost."""
    rounds, workers = 15, 8
    errors: list[BaseException] = []

    def work() -> None:
        client = respd.client()
        try:
            for _ in range(rounds):
                token = uuid.uuid4().hex.encode()
                assert wait_acquire(client, "mutex", token, 10_000, timeout=20)
                value = int(client.get("counter") or 0)
                client.set("counter", value + 1)
                assert release(client, "mutex", token)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert not any(t.is_alive() for t in threads)
    assert int(r.get("counter")) == rounds * workers


def test_redis_py_lock(respd: Any, r: redis.Redis) -> None:
    """redis-py's own Lock (SET NX PX to acquire; its release needs scripting, which this
    test does not rely on: the lock is left to expire)."""
    a, b = respd.client(), respd.client()
    try:
        first = a.lock("job", timeout=0.05)
        assert first.acquire(blocking=False)
        second = b.lock("job", timeout=5)
        assert not second.acquire(blocking=False)
        assert second.acquire(blocking=True, blocking_timeout=5)
        assert b.get("job") == second.local.token
    finally:
        a.close()
        b.close()
