"""Set commands through real clients (redis-py RESP2/RESP3 and asyncio, redis-cli)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from compat.harness import RawConnection


def test_add_remove_members(r: Any) -> None:
    assert r.sadd("s", "3", "1", "2", "1") == 3
    assert r.sadd("s", "1") == 0
    # an intset keeps its members sorted by value, so Redis's order comes out
    assert r.sscan("s", 0) == (0, [b"1", b"2", b"3"])
    assert r.smembers("s") == {b"1", b"2", b"3"}
    assert r.scard("s") == 3 and r.scard("nokey") == 0
    assert r.sismember("s", "1") and not r.sismember("s", "9")
    assert r.smismember("s", ["1", "9", "2"]) == [1, 0, 1]
    assert r.smismember("nokey", ["1"]) == [0]
    assert r.srem("s", "1", "9") == 1
    assert r.smembers("nokey") == set()
    assert r.type("s") == b"set"
    assert r.object("encoding", "s") == b"intset"
    assert r.srem("s", "2", "3") == 2
    assert r.exists("s") == 0


def test_resp3_replies(r3: Any) -> None:
    r3.sadd("s", "a", "b")
    assert r3.smembers("s") == {b"a", b"b"}
    assert r3.sinter("s", "nokey") == set()
    assert sorted(r3.spop("s", 5)) == [b"a", b"b"]
    assert r3.exists("s") == 0
    r3.sadd("s", "a", "b")
    assert r3.smismember("s", ["a", "z"]) == [1, 0]
    assert sorted(r3.srandmember("s", 5)) == [b"a", b"b"]


def test_encodings(r: Any) -> None:
    r.sadd("i", *range(512))
    assert r.object("encoding", "i") == b"intset"
    r.sadd("i", 512)
    assert r.object("encoding", "i") == b"hashtable"
    r.sadd("m", "1", "x")
    assert r.object("encoding", "m") == b"hashtable"
    r.srem("m", "x")
    assert r.object("encoding", "m") == b"hashtable"  # never goes back, as in Redis
    r.sadd("lead0", "01")
    assert r.object("encoding", "lead0") == b"hashtable"


def test_wrong_type_and_errors(r: Any) -> None:
    r.set("str", "x")
    for call in (lambda: r.sadd("str", "a"), lambda: r.smembers("str"),
                 lambda: r.sinter("nokey", "str"), lambda: r.smove("s", "str", "a")
                 if r.sadd("s", "a") else None, lambda: r.sscan("str")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            call()
    with pytest.raises(redis.ResponseError, match="^value is out of range, must be positive$"):
        r.spop("s", -1)
    with pytest.raises(redis.ResponseError, match="^numkeys should be greater than 0$"):
        r.execute_command("SINTERCARD", "0", "s")
    with pytest.raises(redis.ResponseError,
                       match="^Number of keys can't be greater than number of args$"):
        r.execute_command("SINTERCARD", "2", "s")
    with pytest.raises(redis.ResponseError, match="^LIMIT can't be negative$"):
        r.execute_command("SINTERCARD", "1", "s", "LIMIT", "-1")


def test_smove(r: Any) -> None:
    r.sadd("a", "1", "2")
    assert r.smove("a", "b", "1") is True
    assert r.smove("a", "b", "9") is False
    assert r.smove("nokey", "b", "1") is False
    assert r.smove("a", "a", "2") is True
    assert r.smove("a", "b", "2") is True
    assert r.exists("a") == 0
    assert r.smembers("b") == {b"1", b"2"}


def test_algebra(r: Any) -> None:
    r.sadd("s", "1", "2", "3", "-5")
    r.sadd("t", "2", "3", "4", "x")
    r.sadd("u", "3", "x", "y")
    assert r.sinter("s", "t") == {b"2", b"3"}
    assert r.sinter("s", "t", "u") == {b"3"}
    assert r.sinter("s", "nokey") == set()
    assert r.sunion("s", "t", "u") == {b"1", b"2", b"3", b"-5", b"4", b"x", b"y"}
    assert r.sdiff("t", "s", "u") == {b"4"}
    assert r.sdiff("nokey", "s") == set()
    assert r.sintercard(2, ["s", "t"]) == 2
    assert r.sintercard(2, ["s", "t"], limit=1) == 1
    assert r.sintercard(2, ["s", "nokey"]) == 0
    assert r.sinterstore("d", ["s", "t"]) == 2
    assert r.object("encoding", "d") == b"intset"
    assert r.sscan("d", 0) == (0, [b"2", b"3"])
    assert r.sunionstore("d", ["t", "u"]) == 5
    assert r.object("encoding", "d") == b"hashtable"
    assert r.sdiffstore("d", ["s", "t"]) == 2
    assert r.smembers("d") == {b"1", b"-5"}
    r.set("withttl", "x", ex=100)
    assert r.sunionstore("withttl", ["s"]) == 4
    assert r.ttl("withttl") == -1  # the destination is replaced, TTL and all
    assert r.sinterstore("d", ["s", "nokey"]) == 0
    assert r.exists("d") == 0


def test_spop_and_srandmember(r: Any) -> None:
    members = {str(i).encode() for i in range(50)}
    r.sadd("s", *members)
    one = r.spop("s")
    assert one in members and r.scard("s") == 49
    popped = set(r.spop("s", 10))
    assert len(popped) == 10 and one not in popped and r.scard("s") == 39
    left = members - popped - {one}
    assert r.smembers("s") == left
    assert r.srandmember("s") in left
    picks = r.srandmember("s", 20)
    assert len(set(picks)) == 20 and set(picks) <= left
    assert sorted(r.srandmember("s", 100)) == sorted(left)
    repeated = r.srandmember("s", -100)
    assert len(repeated) == 100 and set(repeated) <= left
    assert r.srandmember("s", 0) == []
    assert r.srandmember("nokey") is None and r.srandmember("nokey", 3) == []
    assert r.spop("nokey") is None and r.spop("nokey", 3) == []
    assert set(r.spop("s", 100)) == left
    assert r.exists("s") == 0


def test_random_picks_reach_every_member(r: Any) -> None:
    r.sadd("s", *"abcdefgh")
    assert {r.srandmember("s") for _ in range(400)} == {m.encode() for m in "abcdefgh"}
    r.sadd("big", *range(1000))  # hashtable
    seen = set(r.srandmember("big", -5000))
    assert len(seen) > 900


def test_sscan_large_set_returns_every_member(r: Any) -> None:
    members = {f"m:{i}".encode() for i in range(1000)}
    r.sadd("s", *members)
    cursor, first = r.sscan("s", 0, count=10)
    assert cursor != 0 and 0 < len(first) <= 10
    assert set(r.sscan_iter("s", count=33)) == members
    assert set(r.sscan_iter("s", match="m:99?")) == {f"m:99{i}".encode() for i in range(10)}
    r.sadd("small", "3", "1", "2")
    assert r.sscan("small", 0, count=1) == (0, [b"1", b"2", b"3"])


def test_sscan_survives_changes_during_the_scan(r: Any) -> None:
    r.sadd("s", *[f"m{i}" for i in range(600)])
    doomed = [f"m{i}".encode() for i in range(0, 600, 3)]
    kept = {f"m{i}".encode() for i in range(600)} - set(doomed)
    seen: set[bytes] = set()
    cursor, step = 0, 0
    while True:
        cursor, page = r.sscan("s", cursor, count=20)
        seen.update(page)
        batch = doomed[step * 10:(step + 1) * 10]
        if batch:
            r.srem("s", *batch)
        r.sadd("s", f"new{step}")
        step += 1
        if cursor == 0:
            break
    assert kept <= seen


def test_keyspace_events(r: Any) -> None:
    r.config_set("notify-keyspace-events", "Egs")
    try:
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        r.sadd("s", "1", "2")
        r.smove("s", "t", "1")
        r.spop("s")
        r.sinterstore("d", ["t"])
        events = [p.get_message(timeout=5) for _ in range(6)]
        assert [(m["channel"], m["data"]) for m in events] == [
            (b"__keyevent@0__:sadd", b"s"), (b"__keyevent@0__:srem", b"s"),
            (b"__keyevent@0__:sadd", b"t"), (b"__keyevent@0__:spop", b"s"),
            (b"__keyevent@0__:del", b"s"), (b"__keyevent@0__:sinterstore", b"d")]
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_watch_is_invalidated_by_set_writes(r: Any, respd: Any) -> None:
    other = respd.client()
    r.sadd("s", "a")
    with r.pipeline() as pipe:
        pipe.watch("s")
        other.spop("s")
        pipe.multi()
        pipe.scard("s")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    other.close()


def test_spop_is_propagated_as_srem_and_del(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   workdir=str(tmp_path))
    client = server.client()
    client.sadd("s", *"abcdef")
    popped = client.spop("s")
    client.spop("s", 2)
    client.sadd("t", "x")
    client.spop("t", 5)
    left = client.smembers("s")
    client.close()
    aof = b"".join(p.read_bytes() for p in sorted((tmp_path / "appendonlydir").glob("*.incr.aof")))
    assert b"SPOP" not in aof.upper()
    assert b"$4\r\nSREM\r\n$1\r\ns\r\n$1\r\n" + popped + b"\r\n" in aof
    assert b"*2\r\n$3\r\nDEL\r\n$1\r\nt\r\n" in aof
    server.stop()
    restarted = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path)).client()
    assert restarted.smembers("s") == left and restarted.exists("t") == 0
    restarted.close()


def test_asyncio_client(respd: Any) -> None:
    async def run() -> None:
        client = redis.asyncio.Redis(host="127.0.0.1", port=respd.port)
        await client.sadd("as", "a", "b")
        assert await client.smembers("as") == {b"a", b"b"}
        assert await client.sismember("as", "a")
        await client.delete("as")
        await client.aclose()

    asyncio.run(asyncio.wait_for(run(), 10))


def test_redis_cli(respd: Any, tool: Any, r: Any) -> None:
    cli = tool("redis-cli")
    r.sadd("s", "2", "1")
    out = subprocess.run([cli, "-p", str(respd.port), "--no-raw", "SMEMBERS", "s"],
                         capture_output=True, text=True, timeout=10).stdout
    assert out.splitlines() == ['1) "1"', '2) "2"']
    out = subprocess.run([cli, "-p", str(respd.port), "-3", "--no-raw", "SMEMBERS", "s"],
                         capture_output=True, text=True, timeout=10).stdout
    assert out.splitlines() == ['1~ "1"', '2~ "2"']


def test_sets_and_hashes_survive_a_snapshot(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", workdir=str(tmp_path))
    client = server.client()
    client.sadd("ints", *range(300))
    client.sadd("words", *[f"w{i}" for i in range(150)])
    client.hset("h", mapping={f"f{i}": f"v{i}" for i in range(100)})
    assert client.save() is True
    client.close()
    server.stop("kill")
    server.start()
    client = server.client()
    assert client.smembers("ints") == {str(i).encode() for i in range(300)}
    assert client.object("encoding", "ints") == b"intset"
    assert client.scard("words") == 150
    assert client.hgetall("h") == {f"f{i}".encode(): f"v{i}".encode() for i in range(100)}
    client.close()


def test_sadd_counts_are_integers_in_resp3(respd: Any) -> None:
    """One element or several, new or not: an integer reply, never a RESP3 boolean."""
    raw = RawConnection(respd.port)
    try:
        raw.send([b"HELLO", b"3"])
        raw.read()
        for argv, reply in (
                ([b"SADD", b"s", b"a"], b":1\r\n"),
                ([b"SADD", b"s", b"a"], b":0\r\n"),
                ([b"SADD", b"s", b"a", b"b", b"b"], b":1\r\n"),
        ):
            raw.send(argv)
            assert raw.read() == reply, argv
    finally:
        raw.close()
