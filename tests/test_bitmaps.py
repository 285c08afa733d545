"""Bitmaps against redis-server: random strings probed with BITCOUNT, BITPOS, GETBIT and
random BITFIELD/SETBIT/BITOP workloads; every raw reply and the final strings must be
byte-identical.  Fixed seeds, so a failure replays."""

from __future__ import annotations

import random
from typing import Any

import pytest

from conftest import Lockstep

PROBES = 400  # range queries per seed
STEPS = 300  # writes per seed


@pytest.fixture
def pair(lockstep: Lockstep) -> Lockstep:
    return lockstep


def _random_string(rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 2, 3, 7, 8, 9, 16, 33, 100, 300])
    style = rng.random()
    if style < 0.3:  # runs of 0x00/0xff, where BITPOS has to skip
        return bytes(rng.choice([0, 255, rng.randrange(256)]) for _ in range(size))
    return bytes(rng.randrange(256) for _ in range(size))


def _index(rng: random.Random, size: int) -> int:
    return rng.choice([0, -1, rng.randint(-size - 3, size + 3), rng.randint(-3, 3),
                       rng.randint(-10**12, 10**12)])


@pytest.mark.parametrize("seed", range(4))
def test_random_ranges_match_redis(pair: Lockstep, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(PROBES):
        value = _random_string(rng)
        pair.same("SET", "s", value)
        bits = len(value) * 8
        unit = rng.choice([[], ["BIT"], ["BYTE"]])
        size = bits if unit == ["BIT"] else len(value)
        start, end = _index(rng, size), _index(rng, size)
        pair.same("BITCOUNT", "s")
        pair.same("BITCOUNT", "s", start, end, *unit)
        bit = rng.randint(0, 1)
        pair.same("BITPOS", "s", bit)
        pair.same("BITPOS", "s", bit, start)
        pair.same("BITPOS", "s", bit, start, *(["BIT"] if unit == ["BIT"] else []))
        pair.same("BITPOS", "s", bit, start, end, *unit)
        pair.same("GETBIT", "s", rng.randint(0, bits + 8))


def _field_type(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"u{rng.randint(1, 63)}"
    return f"i{rng.randint(1, 64)}"


def _operand(rng: random.Random) -> int:
    return rng.choice([rng.randint(-300, 300), rng.randint(-(1 << 63), (1 << 63) - 1),
                       (1 << 63) - 1, -(1 << 63), rng.randint(0, 1 << 20)])


def _offset(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"#{rng.randint(0, 20)}"
    return str(rng.randint(0, 400))


@pytest.mark.parametrize("seed", range(4))
def test_random_bitfield_workload_matches_redis(pair: Lockstep, seed: int) -> None:
    rng = random.Random(1000 + seed)
    keys = ["a", "b", "c"]
    for _ in range(STEPS):
        key = rng.choice(keys)
        kind = rng.random()
        if kind < 0.6:
            argv: list[Any] = ["BITFIELD", key]
            for _ in range(rng.randint(1, 4)):
                op = rng.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
                if op == "OVERFLOW":
                    argv += [op, rng.choice(["WRAP", "SAT", "FAIL"])]
                elif op == "GET":
                    argv += [op, _field_type(rng), _offset(rng)]
                else:
                    argv += [op, _field_type(rng), _offset(rng), _operand(rng)]
            pair.same(*argv)
        elif kind < 0.7:
            pair.same("BITFIELD_RO", key, "GET", _field_type(rng), _offset(rng))
        elif kind < 0.85:
            pair.same("SETBIT", key, rng.randint(0, 600), rng.randint(0, 1))
        elif kind < 0.95:
            op = rng.choice(["AND", "OR", "XOR", "NOT"])
            sources = rng.sample(keys + ["missing"], 1 if op == "NOT" else rng.randint(1, 3))
            pair.same("BITOP", op, rng.choice(keys), *sources)
        else:
            pair.same("DEL", key)
        pair.same("GET", key)


def test_string_and_bitmap_are_one_value(pair: Lockstep) -> None:
    pair.same("SET", "k", "@")  # 0x40
    assert pair.same("SETBIT", "k", 7, 1) == b":0\r\n"
    assert pair.same("GET", "k") == b"$1\r\nA\r\n"
    assert pair.same("APPEND", "k", "B") == b":2\r\n"
    assert pair.same("BITCOUNT", "k") == b":4\r\n"
    assert pair.same("GETBIT", "k", 4294967295) == b":0\r\n"  # the highest offset
    assert pair.same("SETBIT", "k", 1 << 23, 1) == b":0\r\n"
    assert pair.same("STRLEN", "k") == b":1048577\r\n"
    assert pair.same("BITPOS", "k", 1, -1) == b":8388608\r\n"
    assert pair.same("BITCOUNT", "k", 16, -1, "BIT") == b":1\r\n"
    pair.same("DEL", "k")
