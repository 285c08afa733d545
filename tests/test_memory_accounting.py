"""The used_memory bookkeeping of storage.db stays exact under every way keys come and
go: after a random mix of writes (strings, collections, TTLs and expiry, RENAME, MOVE,
COPY, SWAPDB, FLUSHDB, deletions by emptying a collection), each database's ``mem``
equals what a full recount gives, and ``sizes`` holds exactly its collection keys.  An
in-process Server: the counters are internal."""

from __future__ import annotations

import random
from typing import Any

from respd.dispatch import execute
from respd.server import Server
from respd.storage.db import Database


def _recount(db: Database) -> int:
    """Every key and string value's length, and each collection's stored estimate."""
    total = 0
    for key, value in db.data.items():
        total += len(key) + (len(value) if type(value) is bytes else db.sizes[key])
    return total


def _random_command(rng: random.Random) -> list[bytes]:
    key = b"k%d" % rng.randrange(30)
    other = b"k%d" % rng.randrange(30)
    value = b"v" * rng.randrange(0, 300)
    choices: list[list[bytes]] = [
        [b"SET", key, value],
        [b"SET", key, value, b"PX", b"%d" % rng.randrange(1, 30)],
        [b"APPEND", key, value],
        [b"INCR", key],
        [b"DEL", key],
        [b"EXPIRE", key, b"100"],
        [b"PERSIST", key],
        [b"LPUSH", key, value, value],
        [b"RPOP", key],
        [b"HSET", key, b"f%d" % rng.randrange(5), value],
        [b"HDEL", key, b"f%d" % rng.randrange(5)],
        [b"SADD", key, b"m%d" % rng.randrange(50)],
        [b"SPOP", key],
        [b"ZADD", key, b"%d" % rng.randrange(100), b"m%d" % rng.randrange(50)],
        [b"ZPOPMIN", key],
        [b"XADD", key, b"*", b"f", value],
        [b"XTRIM", key, b"MAXLEN", b"1"],
        [b"RENAME", key, other],
        [b"COPY", key, other, b"REPLACE"],
        [b"MOVE", key, b"1"],
        [b"SELECT", b"%d" % rng.randrange(2)],
        [b"SWAPDB", b"0", b"1"],
        [b"FLUSHDB"] if rng.random() < 0.05 else [b"GET", key],
    ]
    return rng.choice(choices)


def test_mem_matches_a_recount_after_random_writes() -> None:
    rng = random.Random(7)
    server = Server()
    client = server.new_client()
    for step in range(5000):
        if step % 50 == 0:  # let short TTLs pass: lazy and active expiry both delete
            server.clock.frozen = server.clock.ms() + rng.randrange(0, 40)
            for db in server.dbs[:2]:
                db.active_expire(server.now_ms(), 10)
        reply: Any = execute(client, _random_command(rng))
        del reply
    for db in server.dbs:
        db.settle()
        assert db.mem == _recount(db), f"db{db.index}"
        containers = {k for k, v in db.data.items() if type(v) is not bytes}
        assert set(db.sizes) == containers


def test_dataset_is_zero_when_empty_again() -> None:
    server = Server()
    client = server.new_client()
    execute(client, [b"CONFIG", b"SET", b"maxmemory-policy", b"allkeys-lru"])
    for i in range(200):
        execute(client, [b"RPUSH", b"list:%d" % (i % 7), b"x" * i])
        execute(client, [b"SET", b"s:%d" % i, b"y" * i, b"EX", b"100"])
    execute(client, [b"FLUSHALL"])
    db = server.dbs[0]
    assert (db.mem, db.sizes, db.clocks) == (0, {}, {})
    assert server.memory.accounting.dataset() == 0
