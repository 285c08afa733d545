"""Keyspace (generic) commands through real clients: SCAN's guarantee under concurrent
writes, expiry (lazy and active), whole-database operations, redis-cli, and the AOF
form of expiring writes.  Byte-exact replies are compared with redis-server in
compat/cases/keyspace_*.txt."""

from __future__ import annotations

import glob
import os
import subprocess
import time
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import eventually


# --- SCAN ------------------------------------------------------------------------------


def test_scan_returns_every_key_once(r: redis.Redis) -> None:
    r.mset({f"k{i}": i for i in range(2000)})
    seen: list[bytes] = []
    cursor = 0
    calls = 0
    while True:
        cursor, keys = r.scan(cursor, count=50)
        seen.extend(keys)
        calls += 1
        if cursor == 0:
            break
        assert calls < 2000
    assert len(seen) == 2000
    assert set(seen) == {f"k{i}".encode() for i in range(2000)}
    assert calls > 10  # COUNT is honoured: the scan took many steps


def test_scan_survives_inserts_and_deletes(r: redis.Redis) -> None:
    # stable and doomed keys interleaved, so deletions move keys across the cursor
    stable = {f"stable{i}".encode() for i in range(1000)}
    doomed = [f"doomed{i}".encode() for i in range(500)]
    for i in range(500):
        r.mset({f"stable{2 * i}": 1, doomed[i]: 1, f"stable{2 * i + 1}": 1})
    seen: list[bytes] = []
    cursor, step = 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=20)
        seen.extend(keys)
        # churn between calls: new keys, deleted keys, and a second scan restarting
        r.set(f"new{step}", 1)
        r.delete(doomed[(step * 7) % 500], f"new{step // 2}")
        r.scan(0, count=5)
        step += 1
        if cursor == 0:
            break
        assert step < 5000
    # every key present for the whole scan comes back (maybe twice), nothing else does
    assert {k for k in seen if k in stable} == stable
    assert set(seen) <= stable | set(doomed) | {f"new{i}".encode() for i in range(step)}


def test_scan_call_examines_count_keys(r: redis.Redis) -> None:
    """The cursor is a position in the key array, walked from the end: each call looks
    at exactly COUNT positions, the first of a scan after writes included (no rebuild)."""
    total = 200_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, total, 10_000):
        pipe.mset({f"big:{i}": i for i in range(start, start + 10_000)})
    pipe.execute()
    assert r.scan(0, count=10)[0] == total - 10
    r.delete("big:0")  # writes, then a new scan: big:199999 moves into the hole
    r.set("fresh", 1)  # and fresh takes the last place
    cursor, keys = r.scan(0, count=10)
    assert cursor == total - 10
    assert len(keys) == 10 and b"fresh" in keys and b"big:199999" not in keys
    assert r.scan(cursor, count=1000)[0] == total - 1010
    # MATCH and TYPE filter the COUNT keys looked at, they do not look further
    assert r.scan(0, match="nomatch*", count=10) == (total - 10, [])
    assert r.scan(0, _type="list", count=10) == (total - 10, [])


def _in_process_server() -> Any:
    from respd.server import Server

    server = Server()
    server.clock.frozen = 1_000_000  # expiry decided by the test, not the wall clock
    return server


def test_scan_key_order_is_maintained_not_rebuilt() -> None:
    """The key array survives every kind of write (white box, on an in-process server)."""
    from respd.dispatch import execute

    server = _in_process_server()
    client = server.new_client()
    db0, db1 = server.dbs[0], server.dbs[1]
    assert db0.order is None  # nothing to maintain until someone scans
    execute(client, [b"MSET", *[b"k%d" % (i // 2) if i % 2 == 0 else b"v" for i in range(2000)]])
    execute(client, [b"SCAN", b"0"])
    order = db0.order
    assert order is not None and len(order) == 1000
    for argv in ([b"SET", b"new", b"v"], [b"DEL", b"k1"], [b"RENAME", b"k2", b"r2"],
                 [b"MOVE", b"k3", b"1"], [b"COPY", b"k4", b"c4"], [b"RPUSH", b"l", b"x"],
                 [b"PEXPIRE", b"k5", b"10"], [b"PEXPIRE", b"k6", b"10"], [b"LPOP", b"l"]):
        execute(client, argv)
    server.clock.frozen += 10
    assert execute(client, [b"GET", b"k5"]) is None  # lazy expiry
    db0.active_expire(server.clock.frozen, 100)  # k6
    execute(client, [b"SCAN", b"0"])
    assert db0.order is order
    assert sorted(order.keys) == sorted(db0.data) and len(order.pos) == len(db0.data)
    execute(client, [b"SWAPDB", b"0", b"1"])
    assert db1.order is order and db0.order is None
    execute(client, [b"SWAPDB", b"0", b"1"])
    execute(client, [b"FLUSHDB"])
    assert db0.order is not None and len(db0.order) == 0
    execute(client, [b"SET", b"after", b"v"])
    assert db0.order.keys == [b"after"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "del", "expire", "scan", "restart"]),
                          st.integers(0, 39)), max_size=120))
def test_scan_guarantee_under_any_writes(ops: list[tuple[str, int]]) -> None:
    """Whatever the writes between calls, a key present for the whole scan is returned,
    and only keys that existed at some point during the scan are."""
    from respd.dispatch import execute

    server = _in_process_server()
    client = server.new_client()
    names = [b"key%d" % i for i in range(40)]
    execute(client, [b"MSET", *[part for name in names[::2] for part in (name, b"v")]])
    present_throughout = {name for name in names if name in server.dbs[0].data}
    ever = set(present_throughout)
    seen: set[bytes] = set()
    cursor = b"0"
    for op, i in [*ops, *[("scan", 0)] * 40]:
        name = names[i]
        if op == "set":
            execute(client, [b"SET", name, b"v"])
            ever.add(name)
        elif op == "del":
            execute(client, [b"DEL", name])
            present_throughout.discard(name)
        elif op == "expire":
            execute(client, [b"PEXPIRE", name, b"1"])
            server.clock.frozen += 1
            present_throughout.discard(name)
        elif op == "restart":
            execute(client, [b"SCAN", b"0", b"COUNT", b"3"])
        else:
            cursor, keys = execute(client, [b"SCAN", cursor, b"COUNT", b"3"])
            seen.update(keys)
            if cursor == b"0":
                break
    assert cursor == b"0"
    assert present_throughout <= seen <= ever


def test_scan_match_type_and_expired(r: redis.Redis) -> None:
    r.mset({"user:1": "a", "user:2": "b", "other": "c"})
    r.rpush("user:list", "x")
    r.set("user:gone", "x", px=1)
    assert eventually(lambda: r.pttl("user:gone") == -2 or r.exists("user:gone") == 0)
    assert sorted(r.scan_iter(match="user:*")) == [b"user:1", b"user:2", b"user:list"]
    assert sorted(r.scan_iter(match="user:*", _type="STRING")) == [b"user:1", b"user:2"]
    assert list(r.scan_iter(_type="list")) == [b"user:list"]


def test_scan_resp3_and_asyncio(respd: Any) -> None:
    import asyncio

    import redis.asyncio as aredis

    async def run() -> list[bytes]:
        client = aredis.Redis(port=respd.port, protocol=3)
        try:
            await client.flushall()
            await client.mset({f"a{i}": i for i in range(300)})
            return [k async for k in client.scan_iter(count=7)]
        finally:
            await client.aclose()

    keys = asyncio.run(run())
    assert sorted(keys) == sorted(f"a{i}".encode() for i in range(300))


def test_keys_and_randomkey(r: redis.Redis) -> None:
    assert r.randomkey() is None
    r.mset({"a": 1, "b": 2, "": 3})
    assert sorted(r.keys("*")) == [b"", b"a", b"b"]
    assert sorted(r.keys("?")) == [b"a", b"b"]
    assert {r.randomkey() for _ in range(50)} <= {b"", b"a", b"b"}
    r.delete("a")
    assert {r.randomkey() for _ in range(50)} <= {b"", b"b"}


def test_randomkey_skips_and_deletes_expired(r: redis.Redis) -> None:
    r.set("live", 1)
    for i in range(50):
        r.set(f"short{i}", 1, px=1)
    assert eventually(lambda: r.pttl("short49") == -2)  # the last one set: all are gone
    assert {r.randomkey() for _ in range(20)} == {b"live"}
    r.delete("live")
    assert r.randomkey() is None
    assert r.dbsize() == 0


# --- expiry --------------------------------------------------------------------------


def test_active_expiry_removes_untouched_keys(r: redis.Redis) -> None:
    r.set("keep", 1)
    for i in range(20):
        r.set(f"short{i}", 1, px=50)
    assert r.dbsize() == 21
    # nobody reads the keys: only the server's cron can remove them
    assert eventually(lambda: r.dbsize() == 1)
    assert r.exists("keep") == 1


def test_lazy_expiry_and_ttl_replies(r: redis.Redis) -> None:
    r.set("k", "v", px=30)
    assert r.pttl("k") > 0
    assert eventually(lambda: r.get("k") is None)
    assert r.ttl("k") == -2
    r.set("p", "v")
    assert r.ttl("p") == -1
    assert r.expire("p", 100) is True
    assert r.ttl("p") == 100
    assert r.expire("p", 200, nx=True) is False
    assert r.expire("p", 200, gt=True) is True
    assert r.ttl("p") == 200
    assert r.persist("p") is True
    assert r.ttl("p") == -1
    assert r.expire("p", -1) is True
    assert r.exists("p") == 0


def test_expiretime_absolute(r: redis.Redis) -> None:
    when = int(time.time()) + 1000
    r.set("k", "v")
    r.expireat("k", when)
    assert r.expiretime("k") == when
    assert r.pexpiretime("k") == when * 1000
    assert r.expiretime("nokey") == -2


def test_expire_errors(r: redis.Redis) -> None:
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="NX and XX, GT or LT options"):
        r.expire("k", 10, nx=True, xx=True)
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'expire' command"):
        r.expire("k", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="^Unsupported option foo$"):
        r.execute_command("EXPIRE", "k", 10, "foo")


# --- whole databases, watch, blocking --------------------------------------------------


def test_swapdb_moves_data_and_breaks_watch(respd: Any, r: redis.Redis) -> None:
    r.set("x", "db0")
    other = respd.client(db=1)
    try:
        other.set("y", "db1")
        with r.pipeline() as pipe:
            pipe.watch("x")
            r.swapdb(0, 1)
            pipe.multi()
            pipe.get("x")
            with pytest.raises(redis.WatchError):
                pipe.execute()
        assert r.get("y") == b"db1"
        assert other.get("x") == b"db0"
    finally:
        other.close()


def test_swapdb_wakes_blocked_client(respd: Any, r: redis.Redis) -> None:
    import threading

    db1 = respd.client(db=1)
    blocked = respd.client(db=0)
    result: list[Any] = []
    try:
        db1.rpush("q", "job")
        thread = threading.Thread(target=lambda: result.append(blocked.blpop("q", timeout=5)))
        thread.start()
        assert eventually(lambda: r.info("clients")["blocked_clients"] == 1)
        r.swapdb(0, 1)
        thread.join(10)
        assert result == [(b"q", b"job")]
    finally:
        db1.close()
        blocked.close()


def test_flushall_and_flushdb(respd: Any, r: redis.Redis) -> None:
    other = respd.client(db=2)
    try:
        r.set("a", 1)
        other.set("b", 1)
        assert r.flushdb(asynchronous=True) is True
        assert r.dbsize() == 0 and other.dbsize() == 1
        assert r.flushall() is True
        assert other.dbsize() == 0
    finally:
        other.close()


def test_copy_is_independent_and_move(respd: Any, r: redis.Redis) -> None:
    r.rpush("l", "a", "b")
    assert r.copy("l", "l2") is True
    r.rpush("l2", "c")
    assert r.lrange("l", 0, -1) == [b"a", b"b"]
    r.set("k", "v", ex=100)
    assert r.move("k", 3) is True
    other = respd.client(db=3)
    try:
        assert other.get("k") == b"v"
        assert 0 < other.ttl("k") <= 100
    finally:
        other.close()


def test_object_and_type(r: redis.Redis, r3: redis.Redis) -> None:
    r.set("n", 12)
    r.set("s", "x" * 50)
    assert r.object("encoding", "n") == b"int"
    assert r.object("encoding", "s") == b"raw"
    assert r.type("s") == b"string"
    assert r3.type("nokey") == b"none"
    assert r.object("idletime", "s") == 0


# --- redis-cli --------------------------------------------------------------------------


def test_redis_cli_scan_and_keyspace(respd: Any, r: redis.Redis, tool: Any) -> None:
    cli = tool("redis-cli")
    r.mset({f"cli:{i}": i for i in range(120)})
    r.expire("cli:1", 100)

    def run(*args: str) -> str:
        out = subprocess.run([cli, "-p", str(respd.port), *args], capture_output=True,
                             text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        return out.stdout

    keys = run("--scan", "--pattern", "cli:*").split()
    assert sorted(keys) == sorted(f"cli:{i}" for i in range(120))
    assert run("TTL", "cli:1").strip() == "100"
    assert run("TYPE", "cli:2").strip() == "string"
    assert run("DEL", "cli:2", "cli:3", "nokey").strip() == "2"
    assert run("DBSIZE").strip() == "118"


# --- AOF: expiring writes are logged with absolute times -------------------------------


def _aof_commands(workdir: str) -> list[list[bytes]]:
    """Every command in the server's append-only file(s), in order."""
    from compat.harness import _frame_end

    commands: list[list[bytes]] = []
    for path in sorted(glob.glob(os.path.join(workdir, "**", "*.aof*"), recursive=True)):
        if path.endswith(".manifest"):
            continue
        data = open(path, "rb").read()
        pos = 0
        while pos < len(data) and data[pos:pos + 1] == b"*":
            end = _frame_end(data, pos)
            assert end is not None
            count, rest = data[pos + 1:end].split(b"\r\n", 1)
            parts = rest.split(b"\r\n")
            commands.append([parts[i] for i in range(1, 2 * int(count), 2)])
            pos = end
    return commands


def test_aof_logs_absolute_expiry(spawn: Any, tmp_path: Any) -> None:
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   workdir=str(tmp_path))
    c = server.client()
    try:
        c.set("a", "1", ex=1000)
        c.expire("a", 2000)
        c.set("b", "2", get=True)
        c.set("c", "v")
        c.expire("c", -1)
        c.incrbyfloat("f", "1.5")
        c.set("g", "v")
        c.getex("g", px=500000)
        c.getex("g", persist=True)
        c.getset("g", "w")
    finally:
        c.close()
    logged = [cmd for cmd in _aof_commands(str(tmp_path))
              if cmd[0].upper() not in (b"SELECT", b"MULTI", b"EXEC")]
    names = [cmd[0].upper() for cmd in logged]
    assert names == [b"SET", b"PEXPIREAT", b"SET", b"SET", b"DEL", b"SET", b"SET",
                     b"PEXPIREAT", b"PERSIST", b"SET"]
    now_ms = time.time() * 1000
    assert logged[0][3].upper() == b"PXAT" and int(logged[0][4]) > now_ms + 900_000
    assert int(logged[1][2]) > now_ms + 1_900_000
    assert logged[2] == [b"SET", b"b", b"2"]
    assert logged[5] == [b"SET", b"f", b"1.5", b"KEEPTTL"]
    assert logged[9] == [b"SET", b"g", b"w"]


def test_debug_reload_reencodes_strings_like_redis(pair: Any) -> None:
    """Loading makes strings anew: edited (raw) ones and INCRBYFLOAT's (embstr) come
    back as embstr or int by their bytes, long ones stay raw."""
    from conftest import pipe

    script = pipe("SET e abc", "APPEND e d", "SET e2 10", "APPEND e2 1", "INCRBYFLOAT f 10",
                  "SET l " + "a" * 50, "APPEND l b", "OBJECT ENCODING e", "OBJECT ENCODING f",
                  "DEBUG RELOAD", "OBJECT ENCODING e", "OBJECT ENCODING e2",
                  "OBJECT ENCODING f", "OBJECT ENCODING l")
    want, got = pair.both(script)
    assert b"raw" in want and b"embstr" in want and want == got
