"""Random stream workloads, replayed on redis-server and respd: every reply must be
byte-identical (RESP2 and RESP3).  IDs are explicit; the replies that show times (XINFO
STREAM FULL, XPENDING's extended form) are compared with their times masked."""

from __future__ import annotations

import random
from typing import Any, Iterator

import hiredis
import pytest

from compat.harness import RawConnection

STEPS = 300


class Workload:
    """Commands over two keys, two groups and three consumers, with IDs near the ones
    in use so that ranges, trims, claims and acks hit real entries."""

    def __init__(self, seed: int, resp2: bool) -> None:
        self.rng = random.Random(seed)
        self.resp2 = resp2
        self.ms = 0

    def some_id(self) -> str:
        rng = self.rng
        if rng.random() < 0.1:
            return rng.choice(["-", "+", "0", "0-0", "(0-1", "bad"])
        ms = rng.randint(0, self.ms + 2)
        return str(ms) if rng.random() < 0.3 else f"{ms}-{rng.randint(0, 3)}"

    def maybe(self, chance: float, *args: str) -> list[str]:
        return list(args) if self.rng.random() < chance else []

    def xadd(self, key: str) -> list[str]:
        rng = self.rng
        self.ms += rng.randint(0, 2)
        argv = ["XADD", key, *self.maybe(0.2, "NOMKSTREAM")]
        if rng.random() < 0.3:
            strategy = rng.choice(["MAXLEN", "MINID"])
            approx = rng.choice(["~", "=", ""])
            threshold = str(rng.randint(0, 12)) if strategy == "MAXLEN" else self.some_id()
            argv += [strategy, *([approx] if approx else []), threshold]
            if approx == "~":
                argv += self.maybe(0.3, "LIMIT", str(rng.randint(0, 10)))
        argv.append(rng.choice([f"{self.ms}-{rng.randint(0, 3)}", f"{self.ms}-*", str(self.ms)]))
        for _ in range(rng.choice([1, 1, 2, 3])):
            argv += [rng.choice(["f", "g", "h"]), str(rng.randint(0, 200))]
        return argv

    def commands(self) -> Iterator[list[str]]:
        rng = self.rng
        while True:
            k, g, c = rng.choice("st"), rng.choice(["g1", "g2"]), rng.choice("abc")
            ids = [self.some_id() for _ in range(rng.randint(1, 3))]
            choices = [
                (30, lambda: self.xadd(k)),
                (8, lambda: ["XDEL", k, *ids]),
                (5, lambda: ["XTRIM", k, rng.choice(["MAXLEN", "MINID"]),
                             *self.maybe(0.5, rng.choice(["~", "="])),
                             str(rng.randint(0, 10)) if rng.random() < 0.5 else ids[0]]),
                (7, lambda: [rng.choice(["XRANGE", "XREVRANGE"]), k, ids[0], self.some_id(),
                             *self.maybe(0.5, "COUNT", str(rng.randint(-1, 5)))]),
                (3, lambda: ["XLEN", k]),
                (4, lambda: ["XGROUP", "CREATE", k, g, rng.choice(["$", "0", ids[0]]),
                             *self.maybe(0.3, "MKSTREAM"),
                             *self.maybe(0.3, "ENTRIESREAD", str(rng.randint(-1, 8)))]),
                (3, lambda: ["XGROUP", "SETID", k, g, rng.choice(["$", "0", ids[0]]),
                             *self.maybe(0.4, "ENTRIESREAD", str(rng.randint(-1, 8)))]),
                (12, lambda: ["XREADGROUP", "GROUP", g, c,
                              *self.maybe(0.6, "COUNT", str(rng.randint(0, 4))),
                              *self.maybe(0.2, "NOACK"), "STREAMS", k,
                              rng.choice([">", ">", "0", ids[0]])]),
                (6, lambda: ["XACK", k, g, *ids]),
                (3, lambda: ["XPENDING", k, g]),
                (4, lambda: ["XCLAIM", k, g, c, "0", *ids, "JUSTID", *self.maybe(0.3, "FORCE"),
                             *self.maybe(0.2, "LASTID", self.some_id())]),
                (4, lambda: ["XAUTOCLAIM", k, g, c, "0", ids[0], "COUNT",
                             str(rng.randint(1, 4)), "JUSTID"]),
                (4, lambda: ["XINFO", "GROUPS", k]),
                (3, lambda: ["XINFO", "STREAM", k]),
                (1, lambda: ["XGROUP", "DELCONSUMER", k, g, c]),
                (1, lambda: ["XGROUP", "DESTROY", k, g]),
                (1, lambda: ["XSETID", k, ids[0],
                             *self.maybe(0.5, "ENTRIESADDED", str(rng.randint(0, 50)))]),
                (2, lambda: ["XREAD", "COUNT", str(rng.randint(1, 3)), "STREAMS", k,
                             rng.choice("st"), ids[0], self.some_id()]),
            ]
            if self.resp2:  # replies with times, compared with the times masked
                choices += [
                    (3, lambda: ["XINFO", "STREAM", k, "FULL"]),
                    (3, lambda: ["XPENDING", k, g, "-", "+", "10", *self.maybe(0.3, c)]),
                ]
            weights = [w for w, _ in choices]
            yield rng.choices([make for _, make in choices], weights)[0]()


def timeless(argv: list[str], frame: bytes) -> Any:
    """The reply, with delivery/seen/idle times zeroed for the commands that show them
    (RESP2 only)."""
    if argv[:1] == ["XPENDING"] and len(argv) > 3 or argv[-1:] == ["FULL"]:
        reader = hiredis.Reader()
        reader.feed(frame)
        reply = reader.gets()
        if isinstance(reply, list):
            if argv[0] == "XPENDING":
                return [[sid, owner, 0, count] for sid, owner, _, count in reply]
            return _timeless_full(reply)
    return frame


def _timeless_full(info: list[Any]) -> list[Any]:
    for group in info[info.index(b"groups") + 1]:
        pending = group[group.index(b"pending") + 1]
        for row in pending:
            row[2] = 0
        for consumer in group[group.index(b"consumers") + 1]:
            consumer[consumer.index(b"seen-time") + 1] = 0
            for row in consumer[consumer.index(b"pending") + 1]:
                row[1] = 0
    return info


@pytest.mark.parametrize("seed", range(8))
def test_random_workload_matches_redis(redis_ref: Any, respd: Any, seed: int) -> None:
    node_size = random.Random(seed).choice([2, 3, 5, 100])
    conns = [RawConnection(redis_ref.port), RawConnection(respd.port)]
    try:
        setup = [["FLUSHALL"], ["CONFIG", "SET", "stream-node-max-entries", str(node_size)]]
        if seed % 2:
            setup.append(["HELLO", "3"])  # odd seeds compare RESP3 replies
        for conn in conns:
            for argv in setup:
                conn.send([a.encode() for a in argv])
                conn.read()
        history: list[str] = []
        for _, argv in zip(range(STEPS), Workload(seed, resp2=not seed % 2).commands()):
            history.append(" ".join(argv))
            replies = []
            for conn in conns:
                conn.send([a.encode() for a in argv])
                replies.append(timeless(argv, conn.read()))
            assert replies[0] == replies[1], "after:\n" + "\n".join(history[-15:])
    finally:
        for conn in conns:
            conn.send([b"CONFIG", b"SET", b"stream-node-max-entries", b"100"])
            conn.read()
            conn.close()
