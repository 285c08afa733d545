"""String commands through real clients (redis-py RESP2/RESP3, asyncio, redis-cli).
Byte-exact replies and errors are compared with redis-server in compat/cases/strings_*.txt;
these tests cover what a client library sees and properties over many inputs."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from respd.numbers import INT64_MAX


def test_set_get_options(r: redis.Redis, r3: redis.Redis) -> None:
    assert r.set("k", b"\x00\xffbinary") is True
    assert r3.get("k") == b"\x00\xffbinary"
    assert r.set("k", "v", nx=True) is None
    assert r.set("k", "v2", xx=True, get=True) == b"\x00\xffbinary"
    assert r.set("n", "1", nx=True, get=True) is None  # 7.0: NX with GET
    assert r.get("n") == b"1"
    assert r.set("k", "v", ex=100) is True
    assert r.set("k", "w", keepttl=True) is True
    assert r.ttl("k") == 100
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set("k", "v", ex=0)
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "NX", "XX")


def test_setnx_setex_psetex_getset(r: redis.Redis) -> None:
    assert r.setnx("k", "a") is True
    assert r.setnx("k", "b") is False
    assert r.execute_command("SETEX", "e", 100, "v") is True
    assert r.ttl("e") == 100
    assert r.psetex("p", 100_000, "v") is True
    assert 99 <= r.ttl("p") <= 100
    assert r.getset("e", "new") == b"v"
    assert r.ttl("e") == -1  # GETSET replaces the TTL


def test_getdel_getex(r: redis.Redis, r3: redis.Redis) -> None:
    r.set("k", "v")
    assert r.getex("k", ex=100) == b"v"
    assert r.ttl("k") == 100
    assert r3.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getdel("k") == b"v"
    assert r.exists("k") == 0
    assert r3.getdel("k") is None


def test_counters(r: redis.Redis, r3: redis.Redis) -> None:
    assert r.incr("c") == 1
    assert r.incrby("c", 10) == 11
    assert r3.decrby("c", 20) == -9
    assert r.decr("c") == -10
    assert r.get("c") == b"-10"
    r.set("c", INT64_MAX)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("c")
    r.set("c", "1.5")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("c")
    assert r.incrbyfloat("f", "10.5") == 10.5
    assert r3.incrbyfloat("f", "0.1") == pytest.approx(10.6)
    assert r.get("f") == b"10.6"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(2**40), max_value=2**40), min_size=1, max_size=8))
def test_incrby_matches_python_sum(respd: Any, deltas: list[int]) -> None:
    client = respd.client()
    try:
        client.delete("h")
        for d in deltas:
            client.incrby("h", d)
        assert int(client.get("h")) == sum(deltas)
    finally:
        client.close()


def test_mget_mset_msetnx(r: redis.Redis) -> None:
    assert r.mset({"a": 1, "b": 2}) is True
    r.rpush("l", "x")
    assert r.mget("a", "b", "nokey", "l") == [b"1", b"2", None, None]
    assert r.msetnx({"a": 9, "z": 9}) is False
    assert r.get("z") is None
    assert r.msetnx({"y": 1, "z": 2}) is True


def test_append_strlen_ranges(r: redis.Redis) -> None:
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.strlen("s") == 11
    assert r.getrange("s", -5, -1) == b"World"
    assert r.execute_command("SUBSTR", "s", 0, 4) == b"Hello"
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == b"Hello Redis"
    assert r.setrange("pad", 3, "x") == 4
    assert r.get("pad") == b"\x00\x00\x00x"
    with pytest.raises(redis.ResponseError, match="string exceeds maximum allowed size"):
        r.setrange("s", 512 * 1024 * 1024, "x")


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=30), st.integers(-40, 40), st.integers(-40, 40))
def test_getrange_matches_model(respd: Any, value: bytes, start: int, end: int) -> None:
    """GETRANGE's clamping, modelled on the rules in t_string.c."""
    client = respd.client()
    try:
        client.set("g", value)
        n = len(value)
        if start < 0 and end < 0 and start > end:
            want = b""
        else:
            s = max(start + n if start < 0 else start, 0)
            e = min(max(end + n if end < 0 else end, 0), n - 1)
            want = b"" if s > e or n == 0 else value[s:e + 1]
        assert client.getrange("g", start, end) == want
    finally:
        client.close()


def _is_subsequence(small: bytes, big: bytes) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def _lcs_length(a: bytes, b: bytes) -> int:
    prev = [0] * (len(b) + 1)
    for ch in a:
        row = [0]
        for j, other in enumerate(b):
            row.append(prev[j] + 1 if ch == other else max(prev[j + 1], row[j]))
        prev = row
    return prev[-1]


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=20), st.binary(max_size=20))
def test_lcs_properties(respd: Any, a: bytes, b: bytes) -> None:
    client = respd.client()
    try:
        client.mset({"la": a, "lb": b})
        common = client.lcs("la", "lb")
        assert len(common) == _lcs_length(a, b) == client.lcs("la", "lb", len=True)
        assert _is_subsequence(common, a) and _is_subsequence(common, b)
        idx = client.lcs("la", "lb", idx=True, withmatchlen=True)
        matches = dict(zip(idx[::2], idx[1::2]))[b"matches"]
        # the ranges cover the LCS exactly, latest first
        assert sum(m[2] for m in matches) == len(common)
        assert b"".join(a[m[0][0]:m[0][1] + 1] for m in reversed(matches)) == common
    finally:
        client.close()


def test_lcs_resp3_map(r3: redis.Redis) -> None:
    r3.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r3.lcs("a", "b") == b"mytext"
    reply = r3.lcs("a", "b", idx=True, minmatchlen=4)
    assert reply == {b"matches": [[[4, 7], [5, 8]]], b"len": 6}


def test_wrongtype(r: redis.Redis) -> None:
    r.rpush("l", "x")
    for call in (lambda: r.get("l"), lambda: r.incr("l"), lambda: r.append("l", "x"),
                 lambda: r.set("l", "v", get=True), lambda: r.strlen("l")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            call()
    assert r.set("l", "v") is True  # plain SET replaces any type
    assert r.type("l") == b"string"


def test_asyncio_client(respd: Any) -> None:
    import redis.asyncio as aredis

    async def run() -> tuple[Any, ...]:
        client = aredis.Redis(port=respd.port)
        try:
            await client.set("ak", "v", px=100_000)
            async with client.pipeline(transaction=False) as pipe:
                pipe.get("ak").incr("ac").incrbyfloat("ac", 0.5).pttl("ak")
                return tuple(await pipe.execute())
        finally:
            await client.aclose()

    got, counter, floated, pttl = asyncio.run(run())
    assert (got, counter, floated) == (b"v", 1, 1.5)
    assert 0 < pttl <= 100_000


def test_redis_cli_strings(respd: Any, r: redis.Redis, tool: Any) -> None:
    cli = tool("redis-cli")

    def run(*args: str) -> str:
        out = subprocess.run([cli, "-p", str(respd.port), *args], capture_output=True,
                             text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert run("SET", "lock", "t", "NX", "PX", "30000") == "OK"
    assert run("SET", "lock", "t", "NX", "PX", "30000") == ""
    assert run("INCR", "n") == "1"
    assert run("INCRBY", "n", "41") == "42"
    assert run("STRLEN", "lock") == "1"
    assert run("GET", "lock") == "t"
    assert run("INCR", "lock") == "ERR value is not an integer or out of range"


# --- differential: random command sequences against redis-server ---------------------

_KEYS = [b"a", b"b", b"c", b"l"]
_ARGS = [b"", b"0", b"-1", b"10", b"abc", b"1.5", b"1e3", b" 1", b"007", b"+1", b"\x00",
         b"9223372036854775807", b"-9223372036854775808", b"2147483648", b"1000000",
         b"x" * 50, b"NX", b"XX", b"GET", b"KEEPTTL", b"EX", b"EXAT", b"PXAT",
         b"PERSIST", b"GT", b"LT", b"IDX", b"LEN", b"MINMATCHLEN", b"WITHMATCHLEN", b"DB",
         b"REPLACE"]
# No OBJECT (encodings depend on a value's history) and no millisecond TTLs (PX, PSETEX,
# PEXPIRE): a key expiring between the two servers' replies is timing, not behaviour.
_COMMANDS = [b"SET", b"GET", b"GETEX", b"GETDEL", b"GETSET", b"SETNX", b"SETEX",
             b"MGET", b"MSET", b"MSETNX", b"INCR", b"DECR", b"INCRBY", b"DECRBY",
             b"INCRBYFLOAT", b"APPEND", b"STRLEN", b"GETRANGE", b"SETRANGE", b"SUBSTR",
             b"LCS", b"DEL", b"UNLINK", b"EXISTS", b"TOUCH", b"TYPE", b"RENAME", b"RENAMENX",
             b"COPY", b"MOVE", b"EXPIRE", b"EXPIREAT", b"TTL", b"PERSIST", b"RPUSH"]


@pytest.mark.parametrize("seed", range(4))
def test_random_sequences_match_redis(redis_ref: Any, respd: Any, seed: int) -> None:
    import random

    from compat.harness import RawConnection

    rng = random.Random(seed)
    ref, ours = RawConnection(redis_ref.port), RawConnection(respd.port)
    try:
        for conn in (ref, ours):
            conn.send([b"FLUSHALL"])
            conn.read()
        for _ in range(400):
            argv = [rng.choice(_COMMANDS)]
            if rng.random() < 0.9:
                argv.append(rng.choice(_KEYS))
            argv += [rng.choice(_KEYS + _ARGS) for _ in range(rng.randint(0, 4))]
            ref.send(argv)
            ours.send(argv)
            assert ours.read() == ref.read(), argv
    finally:
        ref.close()
        ours.close()
