"""Redis Cluster under load: redis-cli --cluster reshard of 1,000 slots while a redis-py
RedisCluster writer runs (no lost or duplicated write), MIGRATE both ways between respd
and redis-server nodes, and redis-py's cluster clients (asyncio, locks, streams, pub/sub,
sharded pub/sub) used unchanged."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

import pytest
from redis.crc import key_slot

from conftest import ServerProcess, wait_until
from test_cluster import _check, _cli, _create, _node, three  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


def _myid(node: ServerProcess) -> str:
    return node.client().execute_command("CLUSTER", "MYID").decode()


def _keys_in(lo: int, hi: int, count: int, prefix: str) -> list[str]:
    """`count` keys whose slots lie in [lo, hi], spread over the range."""
    keys, seen = [], set()
    i = 0
    while len(keys) < count:
        k = f"{prefix}{i}"
        slot = key_slot(k.encode())
        if lo <= slot <= hi and slot not in seen:
            keys.append(k)
            seen.add(slot)
        i += 1
    return keys


def _reshard(tool: Callable[[str], str], via: ServerProcess, src: ServerProcess,
             dst: ServerProcess, slots: int) -> str:
    return _cli(tool, "--cluster", "reshard", f"127.0.0.1:{via.port}", "--cluster-from",
                _myid(src), "--cluster-to", _myid(dst), "--cluster-slots", str(slots),
                "--cluster-yes", timeout=120)


def test_reshard_under_a_steady_writer(three: list[ServerProcess],  # noqa: F811
                                       tool: Callable[[str], str]) -> None:
    from redis.cluster import RedisCluster

    src, dst = three[0], three[1]
    keys = _keys_in(0, 999, 200, "w")  # slots 0-999 are the ones the reshard moves
    acked: dict[str, list[int]] = {k: [] for k in keys}
    unsure: dict[str, list[int]] = {k: [] for k in keys}
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        rc = RedisCluster(host="127.0.0.1", port=src.port)
        try:
            seq = 0
            while not stop.is_set():
                for k in keys:
                    try:
                        rc.rpush(k, seq)
                        acked[k].append(seq)
                    except Exception as exc:  # an unacknowledged write may or may not land
                        unsure[k].append(seq)
                        errors.append(exc)
                    seq += 1
        finally:
            rc.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    wait_until(lambda: sum(map(len, acked.values())) > len(keys), "the writer runs")
    before = sum(map(len, acked.values()))
    out = _reshard(tool, src, src, dst, 1000)
    during = sum(map(len, acked.values())) - before
    time.sleep(0.5)  # writes keep flowing after the last slot moved
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert "Moving slot 999 from" in out, out
    assert not errors, errors[:5]
    assert during > len(keys), "the writer kept writing while the slots moved"
    dst_id = _myid(dst)
    for n in three:
        wait_until(lambda n=n: any(
            line.split()[0] == dst_id and "0-999" in line.split()[8:]
            for line in n.client().execute_command("CLUSTER", "NODES").decode().splitlines()),
            "slots 0-999 owned by the target everywhere")
    _check(tool, src)
    d = dst.client()
    total = 0
    for k in keys:
        got = [int(v) for v in d.lrange(k, 0, -1)]
        assert len(got) == len(set(got)), f"{k}: duplicated write"
        assert set(acked[k]) <= set(got), f"{k}: lost write"
        assert set(got) <= set(acked[k]) | set(unsure[k]), f"{k}: unknown write"
        assert got == sorted(got), f"{k}: writes out of order"
        total += len(acked[k])
    assert src.client().dbsize() == 0
    print(f"acknowledged writes: {total}, {during} of them while the reshard ran")


def _fill(c: Any, prefix: str, lo: int, hi: int) -> list[str]:
    """Keys of several types with TTLs, in slots lo-hi; returns their names."""
    keys = _keys_in(lo, hi, 10, prefix)
    for i, k in enumerate(keys):
        kind = i % 5
        if kind == 0:
            c.set(k, "v" * 50)
        elif kind == 1:
            c.rpush(k, *range(20))
        elif kind == 2:
            c.hset(k, mapping={f"f{j}": j for j in range(30)})
        elif kind == 3:
            c.zadd(k, {f"m{j}": j * 1.5 for j in range(25)})
        else:
            c.sadd(k, *range(40))
        if i % 2 == 0:
            c.expire(k, 1000)
    return keys


def _same(c: Any, k: str, i: int) -> None:
    kind = i % 5
    if kind == 0:
        assert c.get(k) == b"v" * 50
    elif kind == 1:
        assert c.lrange(k, 0, -1) == [b"%d" % j for j in range(20)]
    elif kind == 2:
        assert c.hgetall(k) == {b"f%d" % j: b"%d" % j for j in range(30)}
    elif kind == 3:
        assert c.zrange(k, 0, -1, withscores=True) == [(b"m%d" % j, j * 1.5) for j in range(25)]
    else:
        assert c.smembers(k) == {b"%d" % j for j in range(40)}
    ttl = c.ttl(k)
    assert (0 < ttl <= 1000) if i % 2 == 0 else ttl == -1, (k, ttl)


def test_mixed_reshard_both_ways(spawn: Callable[..., ServerProcess],
                                 tool: Callable[[str], str]) -> None:
    from redis.cluster import RedisCluster

    redis_node, a, b = _node(spawn, "redis"), _node(spawn), _node(spawn)
    _create(tool, [redis_node, a, b])  # redis: 0-5460, a: 5461-10922, b: 10923-16383
    to_redis = _fill(a.client(), "r", 5461, 5560)
    to_respd = _fill(redis_node.client(), "s", 0, 99)
    out = _reshard(tool, a, a, redis_node, 100)  # respd -> redis-server
    assert "Moving slot 5560 from" in out, out
    out = _reshard(tool, a, redis_node, b, 100)  # redis-server -> respd
    assert "Moving slot 99 from" in out, out
    for n in (redis_node, a, b):
        wait_until(lambda n=n: _check_quiet(tool, n), "gossip converged")
    _check(tool, b)
    r = redis_node.client()
    assert sorted(r.keys("r*")) == sorted(k.encode() for k in to_redis)
    assert b.client().keys("s*") and sorted(b.client().keys("s*")) == sorted(
        k.encode() for k in to_respd)
    for i, k in enumerate(to_redis):
        _same(r, k, i)
    rc = RedisCluster(host="127.0.0.1", port=a.port)
    try:
        for i, k in enumerate(to_redis):
            _same(rc, k, i)
        for i, k in enumerate(to_respd):
            _same(rc, k, i)
    finally:
        rc.close()


def _check_quiet(tool: Callable[[str], str], node: ServerProcess) -> bool:
    out = _cli(tool, "--cluster", "check", f"127.0.0.1:{node.port}")
    return "[OK] All nodes agree about slots configuration." in out and "[ERR]" not in out


def test_redis_py_asyncio_cluster(three: list[ServerProcess]) -> None:  # noqa: F811
    from redis.asyncio.cluster import RedisCluster

    async def run() -> None:
        rc = RedisCluster(host="127.0.0.1", port=three[0].port)
        try:
            for i in range(50):
                await rc.set(f"a:{i}", i)
            assert [await rc.get(f"a:{i}") for i in range(50)] == [
                b"%d" % i for i in range(50)]
            pipe = rc.pipeline()
            for i in range(30):
                pipe.incrby(f"p:{i}", i)
            assert await pipe.execute() == list(range(30))
            assert await rc.mget_nonatomic([f"p:{i}" for i in range(30)]) == [
                b"%d" % i for i in range(30)]
        finally:
            await rc.aclose()

    asyncio.run(run())
    owners = {n.client().dbsize() > 0 for n in three}
    assert owners == {True}  # keys spread over the three nodes


def test_redis_py_lock_stream_group(three: list[ServerProcess]) -> None:  # noqa: F811
    from redis.cluster import RedisCluster

    rc = RedisCluster(host="127.0.0.1", port=three[0].port)
    try:
        lock = rc.lock("res:lock", timeout=10, blocking_timeout=2)
        assert lock.acquire()
        other = rc.lock("res:lock", timeout=10, blocking_timeout=0.2)
        assert not other.acquire()
        lock.release()
        assert other.acquire()
        other.release()
        for s in ("stream:a", "stream:b", "stream:c"):
            rc.xgroup_create(s, "workers", id="0", mkstream=True)
            ids = [rc.xadd(s, {"n": i}) for i in range(5)]
            got = rc.xreadgroup("workers", "c1", {s: ">"}, count=10)
            assert [m[0] for m in got[0][1]] == ids
            assert rc.xpending(s, "workers")["pending"] == 5
            assert rc.xack(s, "workers", *ids) == 5
            assert rc.xpending(s, "workers")["pending"] == 0
    finally:
        rc.close()


def test_redis_py_pubsub_and_sharded(three: list[ServerProcess]) -> None:  # noqa: F811
    from redis.cluster import RedisCluster

    rc = RedisCluster(host="127.0.0.1", port=three[0].port)
    try:
        sub_node = rc.get_node(host="127.0.0.1", port=three[1].port)
        p = rc.pubsub(node=sub_node)
        p.subscribe("news")
        msg = p.get_message(timeout=2)
        assert msg and msg["type"] == "subscribe"
        pub_node = rc.get_node(host="127.0.0.1", port=three[2].port)
        wait_until(lambda: rc.publish("news", "hello", target_nodes=pub_node) >= 0
                   and _next(p) == b"hello", "PUBLISH crossed the bus")
        p.close()

        sp = rc.pubsub()
        sp.ssubscribe("orders{7}")
        msg = sp.get_sharded_message(timeout=2)
        assert msg and msg["type"] == "ssubscribe"
        assert rc.spublish("orders{7}", "o1") == 1
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:
            m = sp.get_sharded_message(timeout=1)
            if m and m["type"] == "smessage":
                got = m["data"]
        assert got == b"o1"
        sp.close()
    finally:
        rc.close()


def _next(p: Any) -> bytes | None:
    m = p.get_message(timeout=1)
    return m["data"] if m and m["type"] == "message" else None
