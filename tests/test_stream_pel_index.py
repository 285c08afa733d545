"""The PEL's time index (``PendingList.by_time``) stays equal to the PEL sorted by
delivery time through every command that changes a PEL (white box, on an in-process
server with a clock the test moves), and XREADGROUP ... CLAIM answers in its order."""

from __future__ import annotations

import random
from typing import Any

import pytest

from respd.storage.stream import PendingList, Stream


def _server() -> Any:
    from respd.server import Server

    server = Server()
    server.clock.frozen = 1_000_000
    client = server.new_client()
    client.authenticated = True
    return server, client


def _check(server: Any) -> int:
    """Assert every group's index matches its PEL; returns how many entries were checked."""
    checked = 0
    for db in server.dbs:
        for value in db.data.values():
            if not isinstance(value, Stream):
                continue
            for group in value.groups.values():
                pel = group.pel
                assert isinstance(pel, PendingList)
                assert list(pel.by_time) == sorted((n.delivery_time, sid)
                                                   for sid, n in pel.items())
                for sid, nack in pel.items():
                    assert nack._pel is pel and nack._sid == sid
                    if nack.consumer is not None:
                        assert nack.consumer.pel[sid] is nack
                for consumer in group.consumers.values():
                    assert all(pel[sid] is nack for sid, nack in consumer.pel.items())
                checked += len(pel)
    return checked


def _random_op(rng: random.Random, ids: list[bytes]) -> list[bytes]:
    consumer = b"c%d" % rng.randrange(3)
    some = [rng.choice(ids) for _ in range(rng.randint(1, 4))] if ids else [b"0-1"]
    idle = b"%d" % rng.choice((0, 0, 5, 50, 500))
    ops = [
        [b"XADD", b"s", b"*", b"f", b"%d" % rng.randrange(100)],
        [b"XREADGROUP", b"GROUP", b"g", consumer, b"COUNT", b"%d" % rng.randint(1, 5),
         b"STREAMS", b"s", b">"],
        [b"XREADGROUP", b"GROUP", b"g", consumer, b"COUNT", b"%d" % rng.randint(1, 5),
         b"CLAIM", idle, b"STREAMS", b"s", b">"],
        [b"XREADGROUP", b"GROUP", b"g", consumer, b"STREAMS", b"s", b"0"],  # history
        [b"XCLAIM", b"s", b"g", consumer, idle, *some],
        [b"XCLAIM", b"s", b"g", consumer, b"0", *some, b"IDLE", b"%d" % rng.randrange(900)],
        [b"XCLAIM", b"s", b"g", consumer, b"0", *some, b"TIME", b"%d" % rng.randrange(10**6),
         b"FORCE"],
        [b"XAUTOCLAIM", b"s", b"g", consumer, idle, b"0", b"COUNT", b"3"],
        [b"XACK", b"s", b"g", *some],
        [b"XACKDEL", b"s", b"g", rng.choice((b"KEEPREF", b"DELREF", b"ACKED")), b"IDS",
         b"%d" % len(some), *some],
        [b"XDELEX", b"s", b"DELREF", b"IDS", b"%d" % len(some), *some],
        [b"XTRIM", b"s", b"MAXLEN", b"%d" % rng.randrange(20), b"DELREF"],
        [b"XNACK", b"s", b"g", rng.choice((b"SILENT", b"FAIL", b"FATAL")), b"IDS",
         b"%d" % len(some), *some],
        [b"XGROUP", b"DELCONSUMER", b"s", b"g", consumer],
        [b"RESPD.XDEADLETTER", b"s", b"g", b"MAXDELIVERIES", b"3", b"TO", b"dlq"],
        [b"COPY", b"s", b"copy", b"REPLACE"],
    ]
    weights = [8, 5, 5, 2, 3, 2, 1, 2, 3, 2, 1, 1, 2, 1, 1, 1]
    return rng.choices(ops, weights)[0]


@pytest.mark.parametrize("seed", range(6))
def test_index_matches_pel_under_random_operations(seed: int) -> None:
    from respd.dispatch import execute

    rng = random.Random(seed)
    server, client = _server()
    ids: list[bytes] = []
    execute(client, [b"XGROUP", b"CREATE", b"s", b"g", b"$", b"MKSTREAM"])
    checked = 0
    for step in range(1500):
        server.clock.frozen += rng.choice((0, 0, 1, 7, 60, 400))
        argv = _random_op(rng, ids)
        reply = execute(client, argv)
        if argv[0] == b"XADD":
            ids.append(reply)
        if step % 300 == 299:  # the load paths: DUMP/RESTORE, then the group recreated
            dumped = execute(client, [b"DUMP", b"s"])
            execute(client, [b"RESTORE", b"s", b"0", dumped, b"REPLACE"])
            if rng.random() < 0.3:
                execute(client, [b"XGROUP", b"DESTROY", b"s", b"g"])
                execute(client, [b"XGROUP", b"CREATE", b"s", b"g", b"0"])
        checked += _check(server)
    assert checked > 1000  # the PELs were not empty all along


def test_claim_zero_idle_takes_each_entry_once_in_delivery_order() -> None:
    """CLAIM 0 re-delivers entries at ``now``, which puts them back in the range being
    walked: each still comes once, oldest delivery first, ties in ID order."""
    from respd.dispatch import execute

    server, client = _server()
    execute(client, [b"XGROUP", b"CREATE", b"s", b"g", b"$", b"MKSTREAM"])
    ids = [execute(client, [b"XADD", b"s", b"%d-1" % i, b"f", b"v"]) for i in range(1, 7)]
    execute(client, [b"XREADGROUP", b"GROUP", b"g", b"a", b"COUNT", b"3", b"STREAMS", b"s", b">"])
    server.clock.frozen += 10
    execute(client, [b"XREADGROUP", b"GROUP", b"g", b"a", b"COUNT", b"3", b"STREAMS", b"s", b">"])
    execute(client, [b"XCLAIM", b"s", b"g", b"a", b"0", ids[4], b"IDLE", b"1000"])
    server.clock.frozen += 5
    reply = execute(client, [b"XREADGROUP", b"GROUP", b"g", b"b", b"CLAIM", b"0",
                             b"STREAMS", b"s", b">"])
    got = [entry[0] for entry in reply[0][1]]
    assert got == [ids[4], ids[0], ids[1], ids[2], ids[3], ids[5]]
    assert [entry[2] for entry in reply[0][1]] == [1005, 15, 15, 15, 5, 5]
    _check(server)
