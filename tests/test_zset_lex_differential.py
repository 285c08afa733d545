"""ZRANGE/ZRANGESTORE/ZRANGEBYLEX/ZREVRANGEBYLEX/ZLEXCOUNT ... BYLEX against redis-server
over random lex ranges ('-', '+', '[', '('), LIMIT and REV, on members with the bytes
lex comparison cares about (NUL, 0xff, '-', '+').  Sets with one score (listpack and
skiplist sizes) and, at listpack sizes, mixed scores: there Redis's scan is what
defines the answer (skip LIMIT's offset unchecked, stop at the first member out of
range), and respd follows it."""

from __future__ import annotations

import random
from typing import Any

import pytest

ALPHABET = b"ab-+\xff\x00"


def _member(rng: random.Random) -> bytes:
    return bytes(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 4)))


def _end(rng: random.Random) -> bytes:
    k = rng.random()
    if k < 0.15:
        return b"-"
    if k < 0.3:
        return b"+"
    if k < 0.33:
        return rng.choice([b"x", b"", b"-a"])  # invalid
    return rng.choice([b"[", b"("]) + _member(rng)


def _reply(client: Any, argv: list[Any]) -> Any:
    try:
        return client.execute_command(*argv)
    except Exception as exc:  # the error text is compared
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("seed,mixed,size", [(1, False, 12), (2, False, 200), (3, True, 12),
                                             (4, True, 100)])
def test_random_lex_ranges_match_redis(redis_ref: Any, respd: Any, seed: int, mixed: bool,
                                       size: int) -> None:
    rng = random.Random(seed)
    both = [redis_ref.client(), respd.client()]
    try:
        for round_ in range(15):
            members = {_member(rng): rng.randrange(3) if mixed else 0
                       for _ in range(rng.randrange(1, size + 1))}
            for c in both:
                c.delete("z", "d")
                c.zadd("z", members)
            for _ in range(60):
                lo, hi = _end(rng), _end(rng)
                rev = ["REV"] if rng.random() < 0.4 else []
                limit = []
                if rng.random() < 0.5:
                    limit = ["LIMIT", rng.choice([-1, 0, 1, 2, 3, 7, 50]),
                             rng.choice([-5, -1, 0, 1, 2, 3, 50])]
                for argv in (["ZRANGE", "z", lo, hi, "BYLEX", *rev, *limit],
                             ["ZRANGESTORE", "d", "z", lo, hi, "BYLEX", *rev, *limit],
                             ["ZRANGE", "d", 0, -1],
                             ["ZRANGEBYLEX", "z", lo, hi, *limit],
                             ["ZREVRANGEBYLEX", "z", lo, hi, *limit],
                             ["ZLEXCOUNT", "z", lo, hi]):
                    want, got = (_reply(c, argv) for c in both)
                    assert got == want, (round_, argv, sorted(members.items()))
            argv = ["ZREMRANGEBYLEX", "z", _end(rng), _end(rng)]
            assert _reply(both[1], argv) == _reply(both[0], argv), argv
            assert both[1].zrange("z", 0, -1) == both[0].zrange("z", 0, -1)
    finally:
        for c in both:
            c.delete("z", "d")
            c.close()
