"""Hash commands through real clients (redis-py RESP2/RESP3 and asyncio, redis-cli)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from compat.harness import RawConnection
from conftest import Pair, command


def test_set_get_and_friends(r: Any) -> None:
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hset("h", "a", "x") == 0
    assert r.hsetnx("h", "a", "y") == 0
    assert r.hsetnx("h", "c", "3") == 1
    assert r.execute_command("HMSET", "h", "d", "4") is True
    assert r.hget("h", "a") == b"x"
    assert r.hget("h", "nope") is None
    assert r.hget("nokey", "a") is None
    assert r.hmget("h", ["a", "nope", "d"]) == [b"x", None, b"4"]
    assert r.hmget("nokey", ["a", "b"]) == [None, None]
    assert r.hlen("h") == 4 and r.hlen("nokey") == 0
    assert r.hexists("h", "a") and not r.hexists("h", "zz")
    assert r.hstrlen("h", "a") == 1 and r.hstrlen("h", "zz") == 0
    # listpack keeps insertion order, deletions included, as Redis does
    assert r.hkeys("h") == [b"a", b"b", b"c", b"d"]
    assert r.hvals("h") == [b"x", b"2", b"3", b"4"]
    assert r.hdel("h", "b", "nope") == 1
    assert r.hgetall("h") == {b"a": b"x", b"c": b"3", b"d": b"4"}
    assert r.hkeys("h") == [b"a", b"c", b"d"]
    assert r.type("h") == b"hash"
    assert r.object("encoding", "h") == b"listpack"


def test_resp3_replies(r3: Any) -> None:
    r3.hset("h", mapping={"a": "1", "b": "2"})
    assert r3.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert r3.hgetall("nokey") == {}
    assert r3.hrandfield("h", 5, withvalues=True) == [[b"a", b"1"], [b"b", b"2"]]
    assert r3.hscan("h") == (0, {b"a": b"1", b"b": b"2"})


def test_emptied_hash_is_deleted(r: Any) -> None:
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hdel("h", "a", "b", "c") == 2
    assert r.exists("h") == 0


def test_wrong_type_and_arity(r: Any) -> None:
    r.set("s", "x")
    for call in (lambda: r.hset("s", "a", "b"), lambda: r.hget("s", "a"),
                 lambda: r.hgetall("s"), lambda: r.hincrby("s", "a", 1),
                 lambda: r.hscan("s"), lambda: r.hrandfield("s")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            call()
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hset'"):
        r.execute_command("HSET", "h", "a", "1", "b")


def test_hincrby(r: Any) -> None:
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    r.hset("h", mapping={"s": "abc", "max": str(2**63 - 1)})
    with pytest.raises(redis.ResponseError, match="^hash value is not an integer$"):
        r.hincrby("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="^increment or decrement would overflow$"):
        r.hincrby("h", "max", 1)
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("HINCRBY", "h", "n", "1.5")


def test_hincrbyfloat(r: Any, r3: Any) -> None:
    assert r.hincrbyfloat("h", "f", 10.5) == 10.5
    r.hincrbyfloat("h", "f", 0.1)
    assert r.hget("h", "f") == b"10.6"
    # long double arithmetic: a tiny increment is lost when printed with 17 digits
    r.hincrbyfloat("h", "g", 1.5)
    r.execute_command("HINCRBYFLOAT", "h", "g", "1e-20")
    assert r.hget("h", "g") == b"1.5"
    r3.execute_command("HINCRBYFLOAT", "h", "x", "5.0e3")
    assert r3.hget("h", "x") == b"5000"
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match="^hash value is not a float$"):
        r.hincrbyfloat("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="^value is NaN or Infinity$"):
        r.execute_command("HINCRBYFLOAT", "h", "f", "inf")
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.execute_command("HINCRBYFLOAT", "h", "f", "nan")


def test_hrandfield_counts(r: Any) -> None:
    fields = {f"f{i}".encode(): str(i).encode() for i in range(20)}
    r.hset("h", mapping=fields)
    assert r.hrandfield("h") in fields
    picked = r.hrandfield("h", 5)
    assert len(picked) == 5 and len(set(picked)) == 5 and set(picked) <= set(fields)
    assert sorted(r.hrandfield("h", 50)) == sorted(fields)
    repeated = r.hrandfield("h", -100)
    assert len(repeated) == 100 and set(repeated) <= set(fields)
    flat = r.hrandfield("h", -10, withvalues=True)
    assert len(flat) == 20
    assert all(fields[flat[i]] == flat[i + 1] for i in range(0, 20, 2))
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("nokey") is None and r.hrandfield("nokey", 3) == []
    with pytest.raises(redis.ResponseError, match="^value is out of range$"):
        r.hrandfield("h", -(2**62), withvalues=True)


def test_random_field_reaches_every_field(r: Any) -> None:
    r.hset("h", mapping={f"f{i}": "v" for i in range(8)})
    seen = {r.hrandfield("h") for _ in range(400)}
    assert len(seen) == 8


def test_conversion_to_hashtable(r: Any) -> None:
    r.hset("long", "f", "x" * 65)
    assert r.object("encoding", "long") == b"hashtable"
    # hash-max-listpack-entries is 512 by default (OBJ_HASH_MAX_LISTPACK_ENTRIES)
    r.hset("many", mapping={f"f{i}": "v" for i in range(513)})
    assert r.object("encoding", "many") == b"hashtable"
    r.hdel("many", *[f"f{i}" for i in range(500)])
    assert r.object("encoding", "many") == b"hashtable"  # never goes back, as in Redis
    r.hset("small", mapping={f"f{i}": "v" for i in range(512)})
    assert r.object("encoding", "small") == b"listpack"


def test_hscan_large_hash_returns_every_field(r: Any) -> None:
    fields = {f"field:{i}".encode(): str(i).encode() for i in range(1000)}
    r.hset("h", mapping=fields)
    cursor, first = r.hscan("h", 0, count=10)
    assert cursor != 0 and 0 < len(first) <= 10
    assert dict(r.hscan_iter("h", count=37)) == fields
    matched = dict(r.hscan_iter("h", match="field:1?", count=100))
    assert matched == {f"field:1{i}".encode(): f"1{i}".encode() for i in range(10)}


def test_hscan_survives_deletions_during_the_scan(r: Any) -> None:
    r.hset("h", mapping={f"f{i}": "v" for i in range(600)})
    doomed = {f"f{i}".encode() for i in range(0, 600, 3)}
    kept = {f"f{i}".encode() for i in range(600)} - doomed
    seen: set[bytes] = set()
    cursor = 0
    deleting = iter(sorted(doomed))
    while True:
        cursor, page = r.hscan("h", cursor, count=20)
        seen.update(page)
        batch = [f for _, f in zip(range(10), deleting)]
        if batch:
            r.hdel("h", *batch)
        if cursor == 0:
            break
    assert kept <= seen  # every field present for the whole scan was returned


def test_keyspace_events(r: Any) -> None:
    r.config_set("notify-keyspace-events", "Egh")
    try:
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        r.hset("h", "a", "1")
        r.hincrby("h", "n", 1)
        r.hincrbyfloat("h", "f", 1.5)
        r.hdel("h", "a", "n", "f")
        events = [p.get_message(timeout=5) for _ in range(5)]
        assert [(m["channel"], m["data"]) for m in events] == [
            (b"__keyevent@0__:hset", b"h"), (b"__keyevent@0__:hincrby", b"h"),
            (b"__keyevent@0__:hincrbyfloat", b"h"), (b"__keyevent@0__:hdel", b"h"),
            (b"__keyevent@0__:del", b"h")]
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_watch_is_invalidated_by_hash_writes(r: Any, respd: Any) -> None:
    other = respd.client()
    r.hset("h", "a", "1")
    with r.pipeline() as pipe:
        pipe.watch("h")
        other.hincrby("h", "a", 1)
        pipe.multi()
        pipe.hget("h", "a")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    other.close()


def test_hincrbyfloat_is_propagated_as_hset(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   workdir=str(tmp_path))
    client = server.client()
    client.execute_command("HINCRBYFLOAT", "h", "f", "0.1")
    client.execute_command("HINCRBYFLOAT", "h", "f", "0.2")
    client.close()
    aof = b"".join(p.read_bytes() for p in sorted((tmp_path / "appendonlydir").glob("*.incr.aof")))
    assert b"HINCRBYFLOAT" not in aof.upper()
    assert b"$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$3\r\n0.3\r\n" in aof
    server.stop()
    restarted = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path)).client()
    assert restarted.hgetall("h") == {b"f": b"0.3"}
    restarted.close()


def test_asyncio_client(respd: Any) -> None:
    async def run() -> None:
        client = redis.asyncio.Redis(host="127.0.0.1", port=respd.port, protocol=3)
        await client.hset("ah", mapping={"a": "1", "b": "2"})
        assert await client.hgetall("ah") == {b"a": b"1", b"b": b"2"}
        assert await client.hincrby("ah", "a", 41) == 42
        await client.delete("ah")
        await client.aclose()

    asyncio.run(asyncio.wait_for(run(), 10))


def test_redis_cli(respd: Any, tool: Any, r: Any) -> None:
    cli = tool("redis-cli")
    r.hset("h", mapping={"a": "1", "b": "2"})
    out = subprocess.run([cli, "-p", str(respd.port), "--no-raw", "HGETALL", "h"],
                         capture_output=True, text=True, timeout=10).stdout
    assert out.splitlines() == ['1) "a"', '2) "1"', '3) "b"', '4) "2"']
    out = subprocess.run([cli, "-p", str(respd.port), "-3", "--no-raw", "HGETALL", "h"],
                         capture_output=True, text=True, timeout=10).stdout
    assert out.splitlines() == ['1# "a" => "1"', '2# "b" => "2"']


def test_hset_counts_are_integers_in_resp3(respd: Any) -> None:
    """One element or several, new or not: an integer reply, never a RESP3 boolean."""
    raw = RawConnection(respd.port)
    try:
        raw.send([b"HELLO", b"3"])
        raw.read()
        for argv, reply in (
                ([b"HSET", b"h", b"f", b"v"], b":1\r\n"),
                ([b"HSET", b"h", b"f", b"w"], b":0\r\n"),
                ([b"HSET", b"h", b"f", b"x", b"g", b"y", b"g", b"z"], b":1\r\n"),
                ([b"HMSET", b"h", b"f", b"v"], b"+OK\r\n"),
        ):
            raw.send(argv)
            assert raw.read() == reply, argv
    finally:
        raw.close()


def test_hash_max_listpack_entries_default(pair: Pair) -> None:
    # As the reference binary (Debian's 7.0.15) reports it: 512.
    ref = command(pair.redis.port, "CONFIG", "GET", "hash-max-listpack-entries")
    assert command(pair.respd.port, "CONFIG", "GET", "hash-max-listpack-entries") == ref


def test_small_hash_is_its_dict_until_it_converts() -> None:
    """A listpack-sized hash keeps no array beside its dict (memory per key); the array
    made when it converts holds the fields in the same order, and stays in step."""
    from respd.storage.hashes import HashValue

    h = HashValue()
    for i in range(6):
        h.put(b"f%d" % i, b"v%d" % i)
    assert h.remove(b"f1") and not h.remove(b"f1")
    assert h.index is None and h.compact
    assert h.fields() == [b"f0", b"f2", b"f3", b"f4", b"f5"]
    assert h.random_key() in h.values and sorted(h.random_pick(10)) == sorted(h.fields())
    h.fit(4, 64, [])  # five fields, four allowed: a hash table from now on
    assert not h.compact and h.index is not None
    assert h.fields() == [b"f0", b"f2", b"f3", b"f4", b"f5"]
    h.remove(b"f0")  # the last field moves into the hole, as the array always does
    h.put(b"f6", b"v6")
    assert h.fields() == [b"f5", b"f2", b"f3", b"f4", b"f6"]
    assert dict(h.items()) == {f: h.values[f] for f in h.fields()} and len(h) == 5
    assert sorted(h.index.pos.items(), key=lambda kv: kv[1]) == [
        (f, i) for i, f in enumerate(h.fields())]
