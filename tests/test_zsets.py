"""Sorted-set commands through redis-py (RESP2 and RESP3)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import redis

from compat.harness import RawConnection


def test_zadd_options(r: Any) -> None:
    assert r.zadd("z", {"a": 1, "b": 2}) == 2
    assert r.zadd("z", {"a": 5, "c": 3}, ch=True) == 2
    assert r.zadd("z", {"a": 9, "new": 1}, xx=True) == 0
    assert r.zscore("z", "a") == 9.0 and r.zscore("z", "new") is None
    assert r.zadd("z", {"a": 100, "d": 4}, nx=True) == 1
    assert r.zadd("z", {"a": 1}, gt=True, ch=True) == 0
    assert r.zadd("z", {"a": 1}, lt=True, ch=True) == 1
    assert r.zadd("z", {"a": 2.5}, incr=True) == 3.5
    assert r.zadd("z", {"a": -1}, incr=True, gt=True) is None
    with pytest.raises(redis.ResponseError, match="not compatible"):
        r.execute_command("ZADD", "z", "NX", "XX", 1, "a")
    with pytest.raises(redis.ResponseError, match="single increment-element pair"):
        r.execute_command("ZADD", "z", "INCR", 1, "a", 2, "b")
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.execute_command("ZADD", "z", "nan", "a")


def test_zincrby_and_nan(r: Any) -> None:
    assert r.zincrby("z", 0.1, "a") == 0.1
    assert r.zincrby("z", 0.2, "a") == pytest.approx(0.3)
    r.zadd("z", {"inf": math.inf})
    with pytest.raises(redis.ResponseError, match="NaN"):
        r.zincrby("z", -math.inf, "inf")
    assert r.zscore("z", "inf") == math.inf


def test_scores_print_like_redis(r: Any, respd: Any) -> None:
    r.zadd("z", {"a": 0.1, "b": 1e300, "c": -0.0, "d": 3})
    raw = RawConnection(respd.port)
    try:
        for member, text in ((b"a", b"0.10000000000000001"), (b"c", b"0"), (b"d", b"3")):
            raw.send([b"ZSCORE", b"z", member])
            assert raw.read() == b"$%d\r\n%s\r\n" % (len(text), text)
        raw.send([b"HELLO", b"3"])
        raw.read()
        raw.send([b"ZSCORE", b"z", b"b"])
        assert raw.read() == b",1.0000000000000001e+300\r\n"
    finally:
        raw.close()


def test_reads(r: Any, r3: Any) -> None:
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zcard("z") == 3 and r.zcard("nokey") == 0
    assert r.zrank("z", "c") == 2 and r.zrevrank("z", "c") == 0
    assert r.zrank("z", "nope") is None
    assert r.zmscore("z", ["a", "nope", "c"]) == [1.0, None, 3.0]
    assert r3.zmscore("z", ["a", "nope"]) == [1.0, None]
    assert r.zcount("z", "(1", "+inf") == 2
    assert r.zcount("z", 5, 1) == 0


def test_ranges(r: Any, r3: Any) -> None:
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zrange("z", 1, 2) == [b"b", b"c"]
    assert r.zrange("z", 0, 1, withscores=True) == [(b"a", 1.0), (b"b", 2.0)]
    assert r3.zrange("z", 0, 1, withscores=True) == [[b"a", 1.0], [b"b", 2.0]]
    assert r.zrange("z", 0, 1, desc=True) == [b"e", b"d"]
    assert r.zrevrange("z", 0, 0, withscores=True) == [(b"e", 5.0)]
    assert r.zrangebyscore("z", "(1", 3) == [b"b", b"c"]
    assert r.zrangebyscore("z", "-inf", "+inf", start=1, num=2) == [b"b", b"c"]
    assert r.zrevrangebyscore("z", 4, "(1") == [b"d", b"c", b"b"]
    assert r.zrange("z", "(2", "+inf", byscore=True, offset=1, num=1) == [b"d"]
    assert r.zrange("z", "+inf", "(2", byscore=True, desc=True, offset=0, num=2) == [b"e", b"d"]
    with pytest.raises(redis.ResponseError, match="LIMIT is only supported"):
        r.execute_command("ZRANGE", "z", 0, -1, "LIMIT", 0, 1)
    with pytest.raises(redis.ResponseError, match="min or max is not a float"):
        r.zrangebyscore("z", "x", 1)


def test_lex_ranges(r: Any) -> None:
    r.zadd("l", dict.fromkeys("abcdef", 0))
    assert r.zrangebylex("l", "[b", "(e") == [b"b", b"c", b"d"]
    assert r.zrevrangebylex("l", "+", "-", start=1, num=2) == [b"e", b"d"]
    assert r.zlexcount("l", "-", "+") == 6
    assert r.zremrangebylex("l", "[a", "[b") == 2
    with pytest.raises(redis.ResponseError, match="not valid string range item"):
        r.zrangebylex("l", "a", "b")


def test_rangestore_and_removal(r: Any) -> None:
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zrangestore("dst", "z", 1, 2) == 2
    assert r.zrange("dst", 0, -1, withscores=True) == [(b"b", 2.0), (b"c", 3.0)]
    r.expire("dst", 100)
    assert r.zrangestore("dst", "z", 10, 20) == 0
    assert r.exists("dst") == 0
    assert r.zremrangebyrank("z", 0, 0) == 1
    assert r.zremrangebyscore("z", "(3", "+inf") == 1
    assert r.zrem("z", "b", "nope") == 1
    assert r.zrem("z", "c") == 1
    assert r.exists("z") == 0


def test_pops(r: Any, r3: Any) -> None:
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zpopmin("z") == [(b"a", 1.0)]
    assert r.zpopmax("z", 5) == [(b"c", 3.0), (b"b", 2.0)]
    assert r.exists("z") == 0
    assert r.zpopmin("z") == []
    r.zadd("z", {"a": 1, "b": 2})
    assert r3.zpopmin("z", 1) == [[b"a", 1.0]]
    assert r.zmpop(2, ["nokey", "z"], max=True, count=3) == [b"z", [[b"b", b"2"]]]
    assert r.zmpop(1, ["z"], min=True) is None
    r.zadd("p", {"x": 2, "y": 1})
    assert r.bzpopmin(["nokey", "p"], 1) == (b"p", b"y", 1.0)
    assert r.bzpopmax(["p"], 1) == (b"p", b"x", 2.0)


def test_pop_reply_shapes_in_resp3(respd: Any) -> None:
    """As redis-server 7.0 answers: flat without a count, nested pairs with one."""
    raw = RawConnection(respd.port)
    try:
        raw.send([b"HELLO", b"3"])
        raw.read()
        for argv, reply in (
                ([b"ZADD", b"z", b"1", b"a", b"2", b"b", b"3", b"c"], b":3\r\n"),
                ([b"ZPOPMIN", b"z"], b"*2\r\n$1\r\na\r\n,1\r\n"),
                ([b"ZPOPMAX", b"z", b"1"], b"*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"),
                ([b"ZPOPMIN", b"z", b"0"], b"*0\r\n"),
                ([b"ZPOPMIN", b"z"], b"*2\r\n$1\r\nb\r\n,2\r\n"),
                ([b"ZPOPMIN", b"z"], b"*0\r\n"),
                ([b"EXISTS", b"z"], b":0\r\n")):
            raw.send(argv)
            assert raw.read() == reply, argv
    finally:
        raw.close()


def test_set_operations(r: Any, r3: Any) -> None:
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    assert r.zunion(["a", "b"], withscores=True) == [
        (b"x", 1.0), (b"y", 12.0), (b"z", 23.0), (b"w", 30.0)]
    assert r.zinter({"a": 2, "b": 1}, aggregate="MIN", withscores=True) == [
        (b"y", 4.0), (b"z", 6.0)]
    assert r3.zdiff(["b", "a"], withscores=True) == [[b"w", 30.0]]
    assert r.zunionstore("u", ["a", "b"], aggregate="MAX") == 4
    assert r.zrange("u", 0, -1, withscores=True)[-1] == (b"w", 30.0)
    assert r.zinterstore("i", ["a", "nokey"]) == 0 and r.exists("i") == 0
    assert r.zdiffstore("d", ["a", "b"]) == 1
    assert r.zintercard(2, ["a", "b"]) == 2
    assert r.zintercard(2, ["a", "b"], limit=1) == 1
    with pytest.raises(redis.ResponseError, match="at least 1 input key"):
        r.execute_command("ZUNION", 0, "a")
    with pytest.raises(redis.ResponseError, match="weight value is not a float"):
        r.execute_command("ZUNION", 1, "a", "WEIGHTS", "x")


def test_randmember(r: Any, r3: Any) -> None:
    members = {"a": 1, "b": 2, "c": 3}
    r.zadd("z", members)
    assert r.zrandmember("z") in (b"a", b"b", b"c")
    assert sorted(r.zrandmember("z", 10)) == [b"a", b"b", b"c"]
    picks = r.zrandmember("z", -20)
    assert len(picks) == 20 and set(picks) <= {b"a", b"b", b"c"}
    assert len(set(r.zrandmember("z", 2))) == 2
    pairs = r3.zrandmember("z", 2, withscores=True)
    assert all(members[m.decode()] == s for m, s in pairs)
    assert r.zrandmember("nokey") is None and r.zrandmember("nokey", 3) == []


def test_zscan_small_and_large(r: Any) -> None:
    r.zadd("small", {"a": 1, "b": 2})
    assert r.zscan("small", 0) == (0, [(b"a", 1.0), (b"b", 2.0)])
    big = {f"m{i}": i for i in range(1000)}
    r.zadd("big", big)
    assert r.object("encoding", "big") == b"skiplist"
    seen: dict[bytes, float] = {}
    cursor, calls = 0, 0
    while True:
        cursor, batch = r.zscan("big", cursor, count=50)
        seen.update(batch)
        calls += 1
        if cursor == 0:
            break
        assert calls < 1000
    assert seen == {k.encode(): float(v) for k, v in big.items()}
    matched = dict(r.zscan_iter("big", match="m99*"))
    assert set(matched) == {b"m99"} | {f"m99{i}".encode() for i in range(10)}


def test_encodings_follow_config(r: Any) -> None:
    r.zadd("z", {"a": 1})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"x" * 100: 2})
    assert r.object("encoding", "z") == b"skiplist"
    r.config_set("zset-max-listpack-entries", 2)
    try:
        r.zadd("y", {"a": 1, "b": 2, "c": 3})
        assert r.object("encoding", "y") == b"skiplist"
    finally:
        r.config_set("zset-max-listpack-entries", 128)
    assert r.type("y") == b"zset"


def test_wrongtype(r: Any) -> None:
    r.set("s", "x")
    for call in (lambda: r.zadd("s", {"a": 1}), lambda: r.zrange("s", 0, -1),
                 lambda: r.zunion(["s"]), lambda: r.zscan("s", 0)):
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            call()
