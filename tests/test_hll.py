"""HyperLogLog against redis-server: random sets of random sizes PFADDed on both servers
must give identical replies, identical PFCOUNT estimates and identical HLL bytes (sparse,
promoted and dense), and an HLL string moved between the servers counts the same.
Fixed seeds; about 20,000 elements per test."""

from __future__ import annotations

import random

import pytest

from conftest import Lockstep

TOTAL = 20000  # elements per randomized test


@pytest.fixture
def pair(lockstep: Lockstep) -> Lockstep:
    return lockstep


def _elements(rng: random.Random, n: int) -> list[bytes]:
    style = rng.random()
    if style < 0.3:
        return [b"%d" % rng.randrange(10 * n + 1) for _ in range(n)]  # repeats
    if style < 0.6:
        return [rng.randbytes(rng.randint(0, 20)) for _ in range(n)]  # any bytes, any tail
    return [b"user:%d:%d" % (rng.randrange(10**6), i) for i in range(n)]


def _sizes(rng: random.Random, total: int) -> list[int]:
    sizes = []
    while total > 0:
        n = min(total, rng.choice([0, 1, 2, 5, 10, 40, 150, 600, 1500, 4000]))
        sizes.append(n)
        total -= max(n, 1)
    return sizes


@pytest.mark.parametrize("seed", range(3))
def test_random_sets_count_and_encode_like_redis(pair: Lockstep, seed: int) -> None:
    rng = random.Random(seed)
    pair.same("CONFIG", "SET", "hll-sparse-max-bytes", rng.choice(["3000", "300", "12000"]))
    keys = []
    for i, size in enumerate(_sizes(rng, TOTAL)):
        key = f"h{i}"
        keys.append(key)
        elements = _elements(rng, size)
        # one PFADD, or several (incremental sparse edits and promotion mid-way)
        batch = rng.choice([size or 1, 1, 7, 100])
        for start in range(0, max(size, 1), batch):
            pair.same("PFADD", key, *elements[start:start + batch])
        pair.same("GET", key)
        pair.same("PFCOUNT", key)
        pair.same("GET", key)  # with the cached cardinality written
        pair.same("PFDEBUG", "ENCODING", key)
    for _ in range(20):
        chosen = rng.sample(keys, min(len(keys), rng.randint(1, 4)))
        pair.same("PFCOUNT", *chosen, *(["nokey"] if rng.random() < 0.2 else []))
        dest = rng.choice(keys + ["merged"])
        pair.same("PFMERGE", dest, *chosen)
        pair.same("GET", dest)
        pair.same("PFCOUNT", dest)


@pytest.mark.parametrize("seed", range(2))
def test_hll_strings_move_between_servers(pair: Lockstep, seed: int) -> None:
    """GET on one server, SET on the other: the copy counts the same and keeps growing
    the same way."""
    rng = random.Random(100 + seed)
    for size in (3, 300, 2500, 6000):
        elements = _elements(rng, size)
        want, got = pair.both("PFADD", "src", *elements)
        assert want == got
        redis_bytes, respd_bytes = pair.both("GET", "src")
        assert redis_bytes == respd_bytes
        # swap the strings: each server now holds the other's HLL
        for conn, frame in ((pair.redis, respd_bytes), (pair.respd, redis_bytes)):
            value = frame.split(b"\r\n", 1)[1][:-2]
            conn.send([b"SET", b"moved", value])
            assert conn.read() == b"+OK\r\n"
        pair.same("PFCOUNT", "moved")
        more = _elements(rng, 50)
        pair.same("PFADD", "moved", *more)
        pair.same("GET", "moved")
        pair.same("PFCOUNT", "src", "moved")
        pair.same("DEL", "src", "moved")


def test_pfselftest_and_debug(pair: Lockstep) -> None:
    assert pair.same("PFSELFTEST") == b"+OK\r\n"
    pair.same("PFADD", "h", *range(200))
    assert pair.same("PFDEBUG", "ENCODING", "h") == b"+sparse\r\n"
    pair.same("PFDEBUG", "DECODE", "h")
    pair.same("PFDEBUG", "GETREG", "h")
    assert pair.same("PFDEBUG", "ENCODING", "h") == b"+dense\r\n"
    pair.same("GET", "h")


def _random_sparse(rng: random.Random, registers: int) -> bytes:
    """A sparse HLL string whose opcodes cover ``registers`` registers in an arbitrary
    (often non-minimal) way: short XZEROs, neighbouring ZEROs, mergeable VALs."""
    body = bytearray()
    left = registers
    while left > 0:
        kind = rng.random()
        if kind < 0.3:
            span = min(left, rng.randint(1, 64))
            body.append(span - 1)  # ZERO
        elif kind < 0.5:
            span = min(left, rng.choice([1, 2, 65, 300, 5000, 16384]))
            body += bytes((((span - 1) >> 8) | 0x40, (span - 1) & 0xFF))  # XZERO
        else:
            span = min(left, rng.randint(1, 4))
            body.append(0x80 | (rng.randint(1, 32) - 1) << 2 | (span - 1))  # VAL
        left -= span
    stale = 0x80 if rng.random() < 0.8 else 0
    return b"HYLL\x01\x00\x00\x00" + bytes(7) + bytes((stale,)) + bytes(body)


@pytest.mark.parametrize("seed", range(3))
def test_crafted_sparse_hlls_are_edited_like_redis(pair: Lockstep, seed: int) -> None:
    """Sparse strings Redis itself would not write (a SET can store anything): PFADD must
    split and merge their opcodes exactly as Redis does, and report corruption alike."""
    rng = random.Random(200 + seed)
    pair.same("CONFIG", "SET", "hll-sparse-max-bytes", rng.choice(["3000", "400"]))
    for i in range(60):
        covered = 16384 if rng.random() < 0.8 else rng.choice([16383, 16385, 8000, 20000])
        value = _random_sparse(rng, covered)
        key = f"c{i}"
        pair.same("SET", key, value)
        for _ in range(rng.randint(1, 4)):
            pair.same("PFADD", key, *_elements(rng, rng.choice([1, 3, 20, 200])))
            pair.same("GET", key)
        pair.same("PFCOUNT", key)
        pair.same("PFDEBUG", "DECODE", key)
        pair.same("PFCOUNT", key, "c0")
        pair.same("PFMERGE", "m", key)
        pair.same("GET", "m")
