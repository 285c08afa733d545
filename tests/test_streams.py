"""Stream commands through real clients: redis-py (sync and asyncio, RESP2 and RESP3) and
redis-cli.  Exact bytes are compared with redis-server in compat/cases/streams_*.txt;
these tests check behaviour as applications see it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import redis
import redis.asyncio as aioredis

from compat.harness import RawConnection
from conftest import wait_until


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def c(request: Any) -> Any:
    """The same test in RESP2 and RESP3."""
    return request.getfixturevalue("r" if request.param == 2 else "r3")


def by_key(reply: Any) -> dict[bytes, list[Any]]:
    """XREAD/XREADGROUP replies as {key: entries} whatever the protocol."""
    if isinstance(reply, dict):  # RESP3: redis-py wraps each key's entries once more
        return {key: value[0] for key, value in reply.items()}
    return {key: entries for key, entries in reply}


def blocked_clients(client: Any) -> int:
    return int(client.info("clients")["blocked_clients"])


# --- XADD, XLEN, XRANGE, XREVRANGE ---------------------------------------------------------


def test_xadd_ids_and_ranges(c: Any) -> None:
    assert c.xadd("s", {"a": "1", "b": "2"}, id="1-1") == b"1-1"
    assert c.xadd("s", {"a": "3"}, id="1-*") == b"1-2"
    assert c.xadd("s", {"a": "4"}, id="5") == b"5-0"
    auto = c.xadd("s", {"a": "5"})
    ms, seq = map(int, auto.split(b"-"))
    assert ms > 5 and seq == 0
    assert c.xlen("s") == 4 and c.xlen("nokey") == 0
    assert c.xrange("s", count=2) == [(b"1-1", {b"a": b"1", b"b": b"2"}),
                                      (b"1-2", {b"a": b"3"})]
    assert [e[0] for e in c.xrange("s", "(1-1", "5")] == [b"1-2", b"5-0"]
    assert [e[0] for e in c.xrange("s", "1", "1")] == [b"1-1", b"1-2"]
    assert [e[0] for e in c.xrevrange("s", "(5-0", "-")] == [b"1-2", b"1-1"]
    assert c.xrevrange("s", "+", "-", count=1)[0][0] == auto
    assert c.xrange("nokey") == []
    with pytest.raises(redis.ResponseError, match="equal or smaller than the target"):
        c.xadd("s", {"a": "1"}, id="1-1")
    with pytest.raises(redis.ResponseError, match="must be greater than 0-0"):
        c.xadd("t", {"a": "1"}, id="0-0")
    with pytest.raises(redis.ResponseError, match="Invalid stream ID"):
        c.xadd("s", {"a": "1"}, id="x-1")
    assert c.xadd("nomk", {"a": "1"}, nomkstream=True) is None
    assert c.exists("nomk") == 0


def test_xadd_trimming(c: Any) -> None:
    for i in range(1, 11):
        c.xadd("s", {"n": i}, id=f"{i}-0")
    c.xadd("s", {"n": 11}, id="11-0", maxlen=5, approximate=False)
    assert [e[0] for e in c.xrange("s")] == [b"7-0", b"8-0", b"9-0", b"10-0", b"11-0"]
    c.xadd("s", {"n": 12}, id="12-0", minid="10", approximate=False)
    assert c.xlen("s") == 3
    # ~ only drops whole nodes (100 entries by default): nothing here.
    c.xadd("s", {"n": 13}, id="13-0", maxlen=1, approximate=True)
    assert c.xlen("s") == 4
    with pytest.raises(redis.ResponseError, match="LIMIT cannot be used without the special"):
        c.execute_command("XADD", "s", "MAXLEN", "1", "LIMIT", "5", "*", "f", "v")
    with pytest.raises(redis.ResponseError, match="MAXLEN argument must be >= 0"):
        c.execute_command("XADD", "s", "MAXLEN", "-1", "*", "f", "v")


def test_approximate_trim_is_node_granular(r: Any) -> None:
    r.config_set("stream-node-max-entries", 10)
    try:
        for i in range(1, 36):
            r.xadd("s", {"f": "v"}, id=f"{i}-0")
        assert r.xtrim("s", maxlen=12, approximate=True) == 20  # two full nodes of 10
        assert r.xlen("s") == 15
        assert r.xtrim("s", maxlen=12, approximate=False) == 3
        assert r.xtrim("s", minid="30", approximate=True) == 0  # node 21-30 holds 30-0
        assert r.xtrim("s", minid="31", approximate=True, limit=5) == 0
        assert r.xtrim("s", minid="31", approximate=True, limit=10) == 7
    finally:
        r.config_set("stream-node-max-entries", 100)


def test_xdel_xtrim_xsetid(c: Any) -> None:
    for i in range(1, 6):
        c.xadd("s", {"n": i}, id=f"{i}-1")
    assert c.xdel("s", "2-1", "4-1", "9-9") == 2
    assert c.xdel("nokey", "1-1") == 0
    assert [e[0] for e in c.xrange("s")] == [b"1-1", b"3-1", b"5-1"]
    assert c.xtrim("s", maxlen=2, approximate=False) == 1
    assert c.xtrim("s", minid="5-1", approximate=False) == 1
    assert c.xtrim("nokey", maxlen=0) == 0
    assert c.execute_command("XSETID", "s", "10-0", "ENTRIESADDED", "20", "MAXDELETEDID",
                             "6-0")
    info = c.xinfo_stream("s")
    assert info["last-generated-id"] == b"10-0"
    assert info["entries-added"] == 20
    assert info["max-deleted-entry-id"] == b"6-0"
    assert info["recorded-first-entry-id"] == b"5-1"
    with pytest.raises(redis.ResponseError, match="smaller than the target stream top item"):
        c.execute_command("XSETID", "s", "1-0")
    with pytest.raises(redis.ResponseError, match="no such key"):
        c.execute_command("XSETID", "nokey", "1-0")


def test_wrongtype(c: Any) -> None:
    c.set("str", "x")
    for call in (lambda: c.xadd("str", {"a": 1}), lambda: c.xlen("str"),
                 lambda: c.xrange("str"), lambda: c.xread({"str": 0}),
                 lambda: c.xgroup_create("str", "g", "$"), lambda: c.xinfo_stream("str")):
        with pytest.raises(redis.ResponseError) as info:
            call()
        assert str(info.value).startswith("WRONGTYPE")


# --- consumer groups ----------------------------------------------------------------------


def test_group_shares_entries_without_duplicates(c: Any) -> None:
    assert c.xgroup_create("s", "g", "$", mkstream=True)
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        c.xgroup_create("s", "g", "$")
    for i in range(1, 7):
        c.xadd("s", {"n": i}, id=f"{i}-0")
    a = by_key(c.xreadgroup("g", "alice", {"s": ">"}, count=2))[b"s"]
    b = by_key(c.xreadgroup("g", "bob", {"s": ">"}, count=10))[b"s"]
    assert [e[0] for e in a] == [b"1-0", b"2-0"]
    assert [e[0] for e in b] == [b"3-0", b"4-0", b"5-0", b"6-0"]
    assert c.xreadgroup("g", "bob", {"s": ">"}) in ([], {}, None)
    # The explicit-ID form reads the consumer's own pending history.
    history = by_key(c.xreadgroup("g", "alice", {"s": "0"}))[b"s"]
    assert [e[0] for e in history] == [b"1-0", b"2-0"]
    summary = c.xpending("s", "g")
    assert summary["pending"] == 6 and summary["min"] == b"1-0" and summary["max"] == b"6-0"
    assert summary["consumers"] == [{"name": b"alice", "pending": 2},
                                    {"name": b"bob", "pending": 4}]
    detail = c.xpending_range("s", "g", "-", "+", 10, consumername="alice")
    assert [(d["message_id"], d["times_delivered"]) for d in detail] == [
        (b"1-0", 2), (b"2-0", 2)]
    assert c.xack("s", "g", "1-0", "3-0", "3-0", "9-0") == 2
    assert c.xpending("s", "g")["pending"] == 4
    groups = c.xinfo_groups("s")
    assert groups == [{"name": b"g", "consumers": 2, "pending": 4,
                       "last-delivered-id": b"6-0", "entries-read": 6, "lag": 0}]
    assert [x["name"] for x in c.xinfo_consumers("s", "g")] == [b"alice", b"bob"]


def test_noack_and_lag(c: Any) -> None:
    for i in range(1, 5):
        c.xadd("s", {"n": i}, id=f"{i}-0")
    c.xgroup_create("s", "g", "0")
    assert c.xinfo_groups("s")[0]["lag"] == 4
    c.xreadgroup("g", "c", {"s": ">"}, count=1, noack=True)
    info = c.xinfo_groups("s")[0]
    assert info["pending"] == 0 and info["entries-read"] == 1 and info["lag"] == 3
    c.xdel("s", "3-0")
    assert c.xinfo_groups("s")[0]["lag"] is None  # a deleted entry lies ahead: unknown
    c.xreadgroup("g", "c", {"s": ">"}, noack=True)
    assert c.xinfo_groups("s")[0]["lag"] == 0
    c.xgroup_setid("s", "g", "0", entries_read=0)
    assert c.xinfo_groups("s")[0]["entries-read"] == 0


def test_xclaim_and_xautoclaim(c: Any) -> None:
    for i in range(1, 5):
        c.xadd("s", {"n": i}, id=f"{i}-0")
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "dead", {"s": ">"})
    assert c.xclaim("s", "g", "alive", 3_600_000, ["1-0"]) == []  # not idle long enough
    assert c.xclaim("s", "g", "alive", 0, ["1-0"]) == [(b"1-0", {b"n": b"1"})]
    assert c.xclaim("s", "g", "alive", 0, ["2-0"], justid=True, retrycount=5,
                    idle=1000) == [b"2-0"]
    entry = c.xpending_range("s", "g", "2-0", "2-0", 1)[0]
    assert entry["consumer"] == b"alive" and entry["times_delivered"] == 5
    assert entry["time_since_delivered"] >= 1000
    assert c.xclaim("s", "g", "alive", 0, ["9-0"], force=True) == []  # no such entry
    c.xadd("s", {"n": 5}, id="5-0")  # never delivered: FORCE puts it in the PEL
    assert c.xclaim("s", "g", "alive", 0, ["5-0"], force=True, justid=True) == [b"5-0"]
    assert c.xpending_range("s", "g", "5-0", "5-0", 1)[0]["times_delivered"] == 1
    c.xack("s", "g", "5-0")
    c.xdel("s", "3-0")
    cursor, claimed, deleted = c.xautoclaim("s", "g", "other", 0, "0", count=2)
    assert [e[0] for e in claimed] == [b"1-0", b"2-0"] and cursor == b"3-0"
    cursor, claimed, deleted = c.xautoclaim("s", "g", "other", 0, cursor)
    assert [e[0] for e in claimed] == [b"4-0"] and deleted == [b"3-0"] and cursor == b"0-0"
    assert c.xautoclaim("s", "g", "third", 0, "0", justid=True) == [b"1-0", b"2-0", b"4-0"]
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        c.xautoclaim("s", "nogroup", "x", 0, "0")
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        c.xclaim("nokey", "g", "x", 0, ["1-0"])


def test_xgroup_subcommands(c: Any) -> None:
    c.xadd("s", {"a": 1}, id="1-0")
    c.xgroup_create("s", "g", "0")
    assert c.xgroup_createconsumer("s", "g", "c1") == 1
    assert c.xgroup_createconsumer("s", "g", "c1") == 0
    c.xreadgroup("g", "c1", {"s": ">"})
    assert c.xgroup_delconsumer("s", "g", "c1") == 1
    assert c.xpending("s", "g")["pending"] == 0
    with pytest.raises(redis.ResponseError, match="NOGROUP No such consumer group 'x'"):
        c.xgroup_setid("s", "x", "$")
    with pytest.raises(redis.ResponseError, match="requires the key to exist"):
        c.xgroup_create("nokey", "g", "$")
    assert c.xgroup_destroy("s", "g") == 1
    assert c.xgroup_destroy("s", "g") == 0
    assert c.xinfo_groups("s") == []
    with pytest.raises(redis.ResponseError, match="NOGROUP No such key 's' or consumer group"):
        c.xreadgroup("g", "c", {"s": ">"})
    assert c.execute_command("XGROUP", "HELP")[0].startswith(b"XGROUP <subcommand>")


def test_xinfo_stream_full(c: Any) -> None:
    for i in range(1, 13):
        c.xadd("s", {"n": i}, id=f"{i}-0")
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "c", {"s": ">"}, count=3)
    full = c.xinfo_stream("s", full=True)
    assert len(full["entries"]) == 10  # COUNT defaults to 10
    group = full["groups"][0]
    assert group["pel-count"] == 3 and len(group["pending"]) == 3
    assert c.xinfo_stream("s", full=True)["length"] == 12
    everything = c.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", "0")
    assert everything is not None
    brief = c.xinfo_stream("s")
    assert brief["first-entry"][0] == b"1-0" and brief["last-entry"][0] == b"12-0"
    assert brief["groups"] == 1


def test_xread_several_streams(c: Any) -> None:
    c.xadd("a", {"x": 1}, id="1-0")
    c.xadd("b", {"y": 2}, id="2-0")
    reply = by_key(c.xread({"a": 0, "b": 0, "nokey": 0}))
    assert reply == {b"a": [(b"1-0", {b"x": b"1"})], b"b": [(b"2-0", {b"y": b"2"})]}
    assert c.xread({"a": "$"}) in ([], {}, None)
    assert c.xread({"a": "1-0"}) in ([], {}, None)


# --- blocking -------------------------------------------------------------------------------


def test_blocked_xreadgroup_clients_are_served_first_come_first_served(respd: Any) -> None:
    main = respd.client()
    main.flushall()
    main.xgroup_create("s", "g", "$", mkstream=True)
    order: list[tuple[str, bytes]] = []

    async def consumer(name: str, client: Any) -> None:
        reply = await client.xreadgroup("g", name, {"s": ">"}, count=1, block=5000)
        order.append((name, by_key(reply)[b"s"][0][0]))

    async def scenario() -> None:
        clients = [aioredis.Redis(port=respd.port, protocol=p) for p in (2, 3, 2)]
        tasks = []
        for i, client in enumerate(clients):
            tasks.append(asyncio.create_task(consumer(f"c{i}", client)))
            await asyncio.to_thread(wait_until, lambda n=i + 1: blocked_clients(main) == n,
                                    f"{i + 1} blocked")
        for i in range(1, 4):
            main.xadd("s", {"n": i}, id=f"{i}-0")
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        for client in clients:
            await client.aclose()

    asyncio.run(scenario())
    assert order == [("c0", b"1-0"), ("c1", b"2-0"), ("c2", b"3-0")]
    main.close()


def test_block_with_dollar_sees_only_new_entries(respd: Any, r: Any) -> None:
    r.xadd("s", {"old": 1}, id="1-0")
    result: list[Any] = []

    async def scenario() -> None:
        client = aioredis.Redis(port=respd.port)
        task = asyncio.create_task(client.xread({"s": "$"}, block=0))
        await asyncio.to_thread(wait_until, lambda: blocked_clients(r) == 1, "blocked")
        r.xadd("s", {"new": 1}, id="2-0")
        result.append(await asyncio.wait_for(task, 10))
        await client.aclose()

    asyncio.run(scenario())
    assert by_key(result[0]) == {b"s": [(b"2-0", {b"new": b"1"})]}


def test_block_timeout_replies_null(c: Any) -> None:
    c.xadd("s", {"a": 1}, id="1-0")
    c.xgroup_create("s", "g", "$")
    assert c.xread({"s": "$"}, block=20) in ([], {}, None)
    assert c.xreadgroup("g", "c", {"s": ">"}, block=20) in ([], {}, None)
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        c.execute_command("XREAD", "BLOCK", "-1", "STREAMS", "s", "$")
    with pytest.raises(redis.ResponseError, match="timeout is not an integer"):
        c.execute_command("XREAD", "BLOCK", "1.5", "STREAMS", "s", "$")


def test_block_timeout_is_a_null_array_on_the_wire(respd: Any, r: Any) -> None:
    r.xadd("s", {"a": 1}, id="1-0")
    conn = RawConnection(respd.port)
    conn.send([b"XREAD", b"BLOCK", b"10", b"STREAMS", b"s", b"$"])
    assert conn.read() == b"*-1\r\n"
    conn.send([b"HELLO", b"3"])
    conn.read()
    conn.send([b"XREAD", b"BLOCK", b"10", b"STREAMS", b"s", b"$"])
    assert conn.read() == b"_\r\n"
    conn.close()


def test_blocked_reader_gets_unblocked_error_when_the_key_goes(respd: Any, r: Any) -> None:
    r.xadd("s", {"a": 1}, id="1-0")
    r.xgroup_create("s", "g", "$")
    outcome: list[Any] = []

    async def scenario() -> None:
        client = aioredis.Redis(port=respd.port)
        task = asyncio.create_task(client.xreadgroup("g", "c", {"s": ">"}, block=0))
        await asyncio.to_thread(wait_until, lambda: blocked_clients(r) == 1, "blocked")
        r.delete("s")
        try:
            outcome.append(await asyncio.wait_for(task, 10))
        except redis.ResponseError as err:
            outcome.append(str(err))
        await client.aclose()

    asyncio.run(scenario())
    assert outcome == ["UNBLOCKED the stream key no longer exists"]


def test_disconnected_blocked_client_is_forgotten(respd: Any, r: Any) -> None:
    r.xgroup_create("s", "g", "$", mkstream=True)
    gone = respd.client()
    gone_conn = gone.connection_pool.get_connection()
    gone_conn.send_command("XREADGROUP", "GROUP", "g", "ghost", "BLOCK", "0",
                           "STREAMS", "s", ">")
    wait_until(lambda: blocked_clients(r) == 1, "blocked")
    gone_conn.disconnect()
    wait_until(lambda: blocked_clients(r) == 0, "unblocked")
    r.xadd("s", {"a": 1}, id="1-0")
    assert r.xpending("s", "g")["pending"] == 0  # nothing was delivered to the ghost
    assert r.xinfo_consumers("s", "g") == []
    gone.close()


def test_blocking_inside_multi_does_not_block(c: Any) -> None:
    c.xadd("s", {"a": 1}, id="1-0")
    pipe = c.pipeline(transaction=True)
    pipe.execute_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    pipe.execute_command("XREAD", "BLOCK", "0", "STREAMS", "s", "0")
    first, second = pipe.execute()  # answered at once, nothing parked
    assert first in ([], {}, None)
    assert by_key(second) == {b"s": [(b"1-0", {b"a": b"1"})]}


# --- asyncio, redis-cli ---------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 3])
def test_asyncio_client(respd: Any, protocol: int) -> None:
    async def scenario() -> None:
        client = aioredis.Redis(port=respd.port, protocol=protocol)
        await client.flushall()
        await client.xgroup_create("events", "workers", "$", mkstream=True)
        ids = [await client.xadd("events", {"order": i}) for i in range(3)]
        reply = by_key(await client.xreadgroup("workers", "w1", {"events": ">"}))
        assert [e[0] for e in reply[b"events"]] == ids
        assert await client.xack("events", "workers", *ids) == 3
        info = await client.xinfo_groups("events")
        assert info[0]["pending"] == 0 and info[0]["lag"] == 0
        await client.aclose()

    asyncio.run(scenario())


def test_redis_cli(respd: Any, r: Any, tool: Callable[[str], str]) -> None:
    cli = tool("redis-cli")

    def run(*args: str) -> str:
        out = subprocess.run([cli, "-p", str(respd.port), *args], capture_output=True,
                             text=True, timeout=10)
        return out.stdout

    assert run("XADD", "s", "1-1", "field", "value") == "1-1\n"
    assert run("XLEN", "s") == "1\n"
    assert run("XRANGE", "s", "-", "+") == "1-1\nfield\nvalue\n"
    assert run("XGROUP", "CREATE", "s", "g", "0") == "OK\n"
    assert "value" in run("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert run("XACK", "s", "g", "1-1") == "1\n"
    assert "BUSYGROUP" in run("XGROUP", "CREATE", "s", "g", "0")


def test_event_log_demo_runs() -> None:
    out = subprocess.run([sys.executable, "examples/event_log.py"], capture_output=True,
                         text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    assert "30 distinct of 30, gaps: none" in out.stdout
    assert "15 reclaimed and acknowledged" in out.stdout
    assert "analytics: lag 0 pending 0, billing: lag 0 pending 0" in out.stdout
    assert "same order as produced: True" in out.stdout
    assert "trimmed, XLEN 7 (2 pending + 4 undelivered + 1 fresh)" in out.stdout
    assert "payments:dlq: 1 entry, original ID 1-0, 3 deliveries" in out.stdout
    assert "read 4: 2-0 fine" in out.stdout
