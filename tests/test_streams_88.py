"""Redis 8.8's XNACK through redis-py's xnack (RESP2 and RESP3): released entries lose
their owner and are claimable at once, the delivery counter follows the mode (SILENT
undoes a delivery, FAIL keeps it, FATAL marks the entry failed for good) or RETRYCOUNT,
FORCE creates unowned entries; XPENDING shows them with no owner and idle -1, XINFO
STREAM FULL counts them (nacked-count).  Facts from Redis 8.8's t_stream.c and the
XNACK page; respd's dead-letter streams take FATAL entries at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import wait_until

LLONG_MAX = (1 << 63) - 1


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def c(request: Any) -> Any:
    return request.getfixturevalue("r" if request.param == 2 else "r3")


def setup(client: Any, n: int = 3) -> None:
    client.delete("s", "dlq")
    for i in range(1, n + 1):
        client.xadd("s", {"f": f"v{i}"}, id=f"{i}-0")
    client.xgroup_create("s", "g", "0")
    client.xreadgroup("g", "alice", {"s": ">"})  # every entry delivered once


def pending(client: Any) -> list[tuple[bytes, bytes, int, int]]:
    return [(p["message_id"], p["consumer"], p["time_since_delivered"], p["times_delivered"])
            for p in client.xpending_range("s", "g", "-", "+", 10)]


def pel_state(client: Any) -> list[tuple[bytes, bytes, bool, int]]:
    """pending() without the idle times, which move on: whether each is -1 (unowned)."""
    return [(sid, owner, idle == -1, count) for sid, owner, idle, count in pending(client)]


def test_modes_set_the_delivery_counter(c: Any) -> None:
    setup(c)
    c.xclaim("s", "g", "alice", 0, ["2-0", "3-0"], retrycount=3, justid=True)
    assert c.xnack("s", "g", "SILENT", "1-0", "2-0") == 2
    assert c.xnack("s", "g", "FAIL", "3-0") == 1
    assert pending(c) == [(b"1-0", b"", -1, 0), (b"2-0", b"", -1, 2), (b"3-0", b"", -1, 3)]
    assert c.xnack("s", "g", "FATAL", "1-0") == 1
    assert c.xnack("s", "g", "FAIL", "2-0", retrycount=7) == 1  # RETRYCOUNT wins
    assert [p[3] for p in pending(c)] == [LLONG_MAX, 7, 3]
    # Unowned: gone from the consumer's PEL, not from the group's.
    assert c.xpending("s", "g")["pending"] == 3
    assert c.xpending_range("s", "g", "-", "+", 10, consumername="alice") == []
    assert c.xinfo_consumers("s", "g")[0]["pending"] == 0


def test_only_pending_ids_count_unless_force(c: Any) -> None:
    setup(c)
    c.xack("s", "g", "2-0")
    assert c.xnack("s", "g", "FAIL", "2-0", "9-0") == 0
    assert c.xnack("s", "g", "FAIL", "2-0", "9-0", force=True) == 1  # 9-0 is no entry
    assert pending(c)[1] == (b"2-0", b"", -1, 0)  # FORCE: no delivery yet
    c.xack("s", "g", "2-0")
    assert c.xnack("s", "g", "FATAL", "2-0", force=True) == 1
    assert pending(c)[1][3] == LLONG_MAX


def test_nacked_entries_are_claimed_first_whatever_the_idle_threshold(c: Any) -> None:
    setup(c)
    c.xnack("s", "g", "SILENT", "3-0")
    reply = c.xreadgroup("g", "bob", {"s": ">"}, count=1, claim_min_idle_time=3_600_000)
    got = list(reply.values())[0][0] if isinstance(reply, dict) else reply[0][1]
    assert got[0][0] == b"3-0" and got[0][3] == 0  # delivered 0 times before (SILENT)
    assert pending(c)[2][1:2] == (b"bob",)
    c.xnack("s", "g", "FAIL", "1-0")
    assert c.xautoclaim("s", "g", "carol", 3_600_000, "0-0", justid=True) == [b"1-0"]
    c.xnack("s", "g", "FAIL", "2-0")
    assert c.xclaim("s", "g", "dave", 3_600_000, ["2-0"], justid=True) == [b"2-0"]
    # A claim counts a delivery again; FATAL's maximum stays where it is.
    c.xnack("s", "g", "FATAL", "2-0")
    c.xclaim("s", "g", "dave", 0, ["2-0"])
    assert pending(c)[1][3] == LLONG_MAX


def test_xinfo_full_counts_nacked_entries_only_while_there_are_some(c: Any) -> None:
    setup(c)
    full = c.xinfo_stream("s", full=True)["groups"][0]
    assert "nacked-count" not in full  # 7.0's reply, byte for byte
    c.xnack("s", "g", "FAIL", "1-0", "3-0")
    full = c.xinfo_stream("s", full=True)["groups"][0]
    assert full["nacked-count"] == 2 and full["pel-count"] == 3
    owners = [p[1] for p in full["pending"]]
    assert owners == [b"", b"alice", b""]


def test_errors_in_redis_order(r: Any) -> None:
    setup(r)
    cases = [
        (("XNACK", "nokey", "g", "BAD", "IDS", "1", "1-0"), "NOGROUP No such key 'nokey'"),
        (("XNACK", "s", "nogroup", "BAD", "IDS", "1", "1-0"), "NOGROUP"),
        (("XNACK", "s", "g", "BAD", "IDS", "1", "1-0"),
         "ERR mode must be SILENT, FAIL, or FATAL"),
        (("XNACK", "s", "g", "FAIL", "IDS", "0", "1-0"), "numids must be a positive integer"),
        (("XNACK", "s", "g", "FAIL", "IDS", "x", "1-0"), "numids must be a positive integer"),
        (("XNACK", "s", "g", "FAIL", "IDS", "3", "1-0"),
         "ERR number of IDs doesn't match numids"),
        (("XNACK", "s", "g", "FAIL", "IDS", "1", "1-0", "RETRYCOUNT", "-1"),
         "ERR Invalid RETRYCOUNT value, must be >= 0"),
        (("XNACK", "s", "g", "FAIL", "IDS", "1", "1-0", "RETRYCOUNT", "x"), "not an integer"),
        (("XNACK", "s", "g", "FAIL", "IDS", "1", "1-0", "NOPE"),
         "ERR Unrecognized XNACK option 'NOPE'"),
        (("XNACK", "s", "g", "FAIL", "FORCE", "RETRYCOUNT", "1"),
         "ERR syntax error, expected IDS keyword"),
        (("XNACK", "s", "g", "FAIL", "IDS", "1", "bad-id"), "Invalid stream ID"),
    ]
    for argv, message in cases:
        with pytest.raises(redis.ResponseError) as err:
            r.execute_command(*argv)
        assert message in str(err.value), argv
    # XNACK's texts carry Redis 8.8's doubled prefix on the wire.
    with pytest.raises(redis.ResponseError) as err:
        r.execute_command("XNACK", "s", "g", "BAD", "IDS", "1", "1-0")
    assert str(err.value).startswith("ERR mode")  # redis-py strips one "ERR "
    r.set("str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.execute_command("XNACK", "str", "g", "FAIL", "IDS", "1", "1-0")
    assert pending(r)[0][1] == b"alice"  # nothing changed by the failed calls


def test_command_table(r: Any) -> None:
    info = r.execute_command("COMMAND", "INFO", "xnack")["xnack"]
    assert (info["arity"], info["first_key_pos"], info["last_key_pos"]) == (-7, 1, 1)
    assert info["flags"] == ["write", "fast"]
    assert info["acl_categories"] == ["@write", "@stream", "@fast"]
    spec = info["key_specifications"][0]  # RESP2: a flat list of names and values
    assert spec[spec.index(b"flags") + 1] == [b"RW", b"update"]


def test_fatal_feeds_the_dead_letter_stream(r: Any) -> None:
    setup(r)
    r.execute_command("RESPD.XDEADLETTER", "s", "g", "MAXDELIVERIES", "5", "TO", "dlq")
    assert r.xnack("s", "g", "FATAL", "2-0") == 1
    [(_, fields)] = r.xrange("dlq")
    assert fields[b"id"] == b"2-0" and fields[b"consumer"] == b"" and fields[b"f"] == b"v2"
    assert [p[0] for p in pending(r)] == [b"1-0", b"3-0"]
    assert r.xinfo_groups("s")[0]["dead-lettered"] == 1
    assert r.xnack("s", "g", "FAIL", "3-0") == 1  # other modes leave it pending
    assert len(r.xrange("dlq")) == 1


def test_blocked_claim_reader_wakes_on_xnack(r: Any, respd: Any) -> None:
    setup(r, 1)
    other = respd.client()
    try:
        import threading

        result: list[Any] = []
        t = threading.Thread(target=lambda: result.append(other.xreadgroup(
            "g", "bob", {"s": ">"}, block=10_000, claim_min_idle_time=3_600_000)))
        t.start()
        wait_until(lambda: r.info("clients")["blocked_clients"] == 1, "bob blocks")
        r.xnack("s", "g", "FAIL", "1-0")
        t.join(5)
        assert result and result[0][0][1][0][0] == b"1-0"
    finally:
        other.close()


@pytest.mark.slow
def test_nacked_entries_survive_aof_rewrite_rdb_and_reach_a_replica(
        spawn: Any, tmp_path: Path) -> None:
    primary = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path))
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    p = primary.client()
    setup(p)
    p.xnack("s", "g", "SILENT", "1-0")
    p.xnack("s", "g", "FATAL", "3-0")
    before = pel_state(p)
    p.set("marker", "1")
    rep = replica.client()
    wait_until(lambda: rep.get("marker") == b"1", "the replica catches up")
    assert pel_state(rep) == before
    p.bgrewriteaof()
    wait_until(lambda: p.info("persistence")["aof_rewrite_in_progress"] == 0, "rewrite")
    p.save()
    primary.stop()
    again = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path))
    assert pel_state(again.client()) == before
    again.stop()
    from_rdb = spawn("respd", workdir=str(tmp_path))
    assert pel_state(from_rdb.client()) == before
    from_rdb.stop()
    # redis-server 7.0.15 loads the file too: the unowned entries (which its format
    # cannot hold) are not pending there, the rest is.
    ref = spawn("redis", "--dir", str(tmp_path), "--dbfilename", "dump.rdb")
    assert pel_state(ref.client()) == [before[1]]
