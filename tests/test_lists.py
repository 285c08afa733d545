"""List commands through redis-py (RESP2 and RESP3), and through redis-cli."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis

from respd.resp import encode_request


def test_push_pop_and_lengths(r: Any) -> None:
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "z") == 4
    assert r.lpushx("missing", "x") == 0
    assert r.rpushx("l", "d") == 5
    assert r.exists("missing") == 0
    assert r.llen("l") == 5
    assert r.lpop("l") == b"z"
    assert r.rpop("l") == b"d"
    assert r.lpop("l", 2) == [b"a", b"b"]
    assert r.rpop("l", 5) == [b"c"]
    assert r.exists("l") == 0  # the last pop deletes the key
    assert r.lpop("l") is None
    assert r.lpop("l", 3) is None
    assert r.llen("l") == 0


def test_pop_count_forms(r: Any, r3: Any) -> None:
    r.rpush("l", "a")
    assert r.lpop("l", 0) == []
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.lpop("l", -1)
    assert r3.lpop("nokey", 2) is None
    assert r3.rpop("l", 0) == []


def test_ranges_index_and_set(r: Any) -> None:
    r.rpush("l", *"abcdefg")
    assert r.lrange("l", 0, -1) == [c.encode() for c in "abcdefg"]
    assert r.lrange("l", -3, -1) == [b"e", b"f", b"g"]
    assert r.lrange("l", 5, 2) == []
    assert r.lrange("l", -100, 1) == [b"a", b"b"]
    assert r.lindex("l", -1) == b"g"
    assert r.lindex("l", 100) is None
    assert r.lset("l", 1, "B") is True
    with pytest.raises(redis.ResponseError, match="index out of range"):
        r.lset("l", 100, "x")
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.lset("nokey", 0, "x")
    assert r.linsert("l", "before", "c", "X") == 8
    assert r.linsert("l", "after", "c", "Y") == 9
    assert r.linsert("l", "after", "nope", "Y") == -1
    assert r.lrange("l", 0, 4) == [b"a", b"B", b"X", b"c", b"Y"]


def test_lrem_ltrim(r: Any) -> None:
    r.rpush("l", "a", "b", "a", "c", "a")
    assert r.lrem("l", -2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    assert r.lrem("l", 0, "nope") == 0
    assert r.ltrim("l", 1, -1) is True
    assert r.lrange("l", 0, -1) == [b"b", b"c"]
    assert r.ltrim("l", 5, 10) is True
    assert r.exists("l") == 0


def test_lpos(r: Any) -> None:
    r.rpush("l", "a", "b", "a", "c", "a")
    assert r.lpos("l", "a") == 0
    assert r.lpos("l", "a", rank=2) == 2
    assert r.lpos("l", "a", rank=-1) == 4
    assert r.lpos("l", "a", count=0) == [0, 2, 4]
    assert r.lpos("l", "a", rank=-1, count=2) == [4, 2]
    assert r.lpos("l", "a", count=0, maxlen=3) == [0, 2]
    assert r.lpos("l", "zz") is None
    with pytest.raises(redis.ResponseError, match="RANK can't be zero"):
        r.lpos("l", "a", rank=0)


def test_lmove_rpoplpush_lmpop(r: Any, r3: Any) -> None:
    r.rpush("src", "1", "2", "3")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"1"
    assert r.rpoplpush("src", "dst") == b"3"
    assert r.lrange("dst", 0, -1) == [b"3", b"1"]
    assert r.lmove("src", "src", "LEFT", "RIGHT") == b"2"  # rotation of one
    assert r.lmove("nokey", "dst", "LEFT", "LEFT") is None
    assert r.lmpop(2, "nokey", "dst", direction="RIGHT", count=5) == [b"dst", [b"1", b"3"]]
    assert r.lmpop(1, "nokey", direction="LEFT") is None
    r.rpush("m", "x")
    assert r3.lmpop(1, "m", direction="LEFT") == [b"m", [b"x"]]


def test_wrong_type_and_type_name(r: Any) -> None:
    r.set("s", "x")
    for call in (lambda: r.lpush("s", "a"), lambda: r.lrange("s", 0, -1),
                 lambda: r.lmove("s", "d", "LEFT", "LEFT"), lambda: r.blpop(["s"], 1)):
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            call()
    r.rpush("l", "a")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lmove("l", "s", "LEFT", "LEFT")
    assert r.lrange("l", 0, -1) == [b"a"]  # nothing popped
    assert r.type("l") == b"list"
    assert r.object("encoding", "l") == b"quicklist"


def test_watch_is_invalidated_by_list_writes(r: Any, respd: Any) -> None:
    r.rpush("l", "a")
    other = respd.client()
    with r.pipeline() as pipe:
        pipe.watch("l")
        other.rpush("l", "b")
        pipe.multi()
        pipe.lpop("l")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    other.close()
    assert r.lrange("l", 0, -1) == [b"a", b"b"]


@pytest.mark.parametrize("write", [["LPUSH", "l", "x"], ["RPUSHX", "l", "x"],
                                   ["LPOP", "l"], ["RPOP", "l"], ["RPOP", "one"]])
def test_watch_is_invalidated_by_single_element_writes(r: Any, respd: Any,
                                                      write: list[str]) -> None:
    r.rpush("l", "a", "b")
    r.rpush("one", "a")
    other = respd.client()
    with r.pipeline() as pipe:
        pipe.watch(write[1])
        other.execute_command(*write)
        pipe.multi()
        pipe.llen(write[1])
        with pytest.raises(redis.WatchError):
            pipe.execute()
    other.close()


def test_single_element_keyspace_events(r: Any) -> None:
    r.config_set("notify-keyspace-events", "Egl")
    try:
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        assert r.lpushx("l", "x") == 0  # nothing written, nothing notified
        assert r.lpush("l", "a") == 1
        assert r.rpush("l", "b") == 2
        assert r.lpop("l") == b"a"
        assert r.rpop("l") == b"b"  # emptied: rpop, then del
        events = [p.get_message(timeout=5) for _ in range(5)]
        assert [(m["channel"], m["data"]) for m in events] == [
            (b"__keyevent@0__:lpush", b"l"), (b"__keyevent@0__:rpush", b"l"),
            (b"__keyevent@0__:lpop", b"l"), (b"__keyevent@0__:rpop", b"l"),
            (b"__keyevent@0__:del", b"l")]
        assert p.get_message(timeout=0.2) is None
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_pushes_and_pops_are_propagated(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   workdir=str(tmp_path))
    r = server.client()
    writes = [[b"LPUSH", b"l", b"a"], [b"RPUSH", b"l", b"b", b"c"], [b"LPOP", b"l"],
              [b"RPOP", b"l", b"2"]]
    for write in writes:
        r.execute_command(*write)
    r.execute_command("LPOP", "l")  # nothing left: not propagated
    r.close()
    server.stop()
    log = b"".join(p.read_bytes() for p in sorted((tmp_path / "appendonlydir").glob("*.aof")))
    assert b"".join(encode_request(w) for w in writes) in log
    assert log.count(b"LPOP") == 1


def test_binary_elements(r: Any) -> None:
    values = [b"", b"\x00\xff\r\n", "héllo".encode(), b"x" * 10000]
    r.rpush("l", *values)
    assert r.lrange("l", 0, -1) == values
    assert r.lpos("l", b"\x00\xff\r\n") == 1


def test_redis_cli_round_trip(respd: Any, tool: Any) -> None:
    cli = tool("redis-cli")
    base = [cli, "-p", str(respd.port)]
    subprocess.run(base + ["DEL", "cli:l"], check=True, capture_output=True, timeout=10)
    out = subprocess.run(base + ["RPUSH", "cli:l", "a", "b c"], check=True,
                         capture_output=True, text=True, timeout=10).stdout
    assert out.strip() == "2"
    out = subprocess.run(base + ["LRANGE", "cli:l", "0", "-1"], check=True,
                         capture_output=True, text=True, timeout=10).stdout
    assert out.splitlines() == ["a", "b c"]
    out = subprocess.run(base + ["BLPOP", "cli:none", "0.01"], check=True,
                         capture_output=True, text=True, timeout=10).stdout
    assert out.strip() == ""  # redis-cli prints nil as an empty line in raw mode
