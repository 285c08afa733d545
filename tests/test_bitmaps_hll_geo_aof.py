"""Bitmaps, HyperLogLogs and geo indexes through the AOF: what respd propagates (GEOADD as
ZADD, PFCOUNT's cache update, BITFIELD, the *STORE commands) replays to the same data in
respd and in redis-server 7.0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORKLOAD: list[list[Any]] = [
    ["SETBIT", "bits", 100, 1],
    ["SETBIT", "bits", 3, 1],
    ["SET", "str", "hello"],
    ["SETBIT", "str", 45, 1],
    ["BITFIELD", "bf", "SET", "u8", "#2", 200, "OVERFLOW", "SAT", "INCRBY", "u8", "#2", 100,
     "INCRBY", "i5", 3, -40],
    ["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", 10, 9, "INCRBY", "u2", 12, 1],
    ["BITOP", "XOR", "xor", "bits", "str", "bf"],
    ["PFADD", "small", *"abcdefg"],
    ["PFCOUNT", "small"],  # writes the cached cardinality into the string
    ["PFADD", "big", *(f"e{i}" for i in range(3000))],
    ["PFCOUNT", "big"],
    ["PFMERGE", "merged", "small", "big"],
    ["PFADD", "todense", "x", "y"],
    ["PFDEBUG", "TODENSE", "todense"],
    ["GEOADD", "geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
    ["GEOADD", "geo", "CH", "XX", "13.4", "38.1", "Palermo", "1", "1", "Nowhere"],
    ["GEOSEARCHSTORE", "near", "geo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
     "STOREDIST"],
    ["GEORADIUS", "geo", "15", "37", "200", "km", "STORE", "radius"],
    ["GEORADIUSBYMEMBER", "geo", "Palermo", "500", "km", "STOREDIST", "bymember"],
]


def snapshot(client: Any) -> dict[bytes, Any]:
    """Every key of db 0 with its value (strings byte for byte, sorted sets with scores)."""
    data: dict[bytes, Any] = {}
    for key in client.keys("*"):
        if client.type(key) == b"zset":
            data[key] = client.zrange(key, 0, -1, withscores=True)
        else:
            data[key] = client.get(key)
    return data


def test_replay_in_respd_and_redis_server(spawn: Any, tmp_path: Path) -> None:
    options = ("--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no")
    respd = spawn("respd", *options, workdir=str(tmp_path))
    client = respd.client()
    for argv in WORKLOAD:
        client.execute_command(*argv)
    before = snapshot(client)
    assert before[b"small"][15] < 0x80  # the count is cached (fresh) in the string
    respd.stop("term")

    again = spawn("respd", *options, workdir=str(tmp_path))
    assert snapshot(again.client()) == before
    again.stop("term")

    redis = spawn("redis", *options, workdir=str(tmp_path))
    assert snapshot(redis.client()) == before
