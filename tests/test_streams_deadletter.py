"""respd's dead-letter streams (RESPD.XDEADLETTER): an entry whose next delivery would
exceed the group's maximum goes, on XCLAIM, XAUTOCLAIM or XREADGROUP ... CLAIM, to the
dead-letter stream with its origin and fields, acknowledged in the group; the settings
survive the AOF, its rewrite and RDB files (which redis-server 7.0.15 still loads)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import wait_until


def _poison(client: Any, max_deliveries: int = 3) -> None:
    client.delete("orders", "orders:dlq")
    client.xadd("orders", {"sku": "bad"}, id="1-0")
    client.xadd("orders", {"sku": "good"}, id="2-0")
    client.xgroup_create("orders", "billing", "0")
    assert client.execute_command("RESPD.XDEADLETTER", "orders", "billing", "MAXDELIVERIES",
                                  str(max_deliveries), "TO", "orders:dlq") == b"OK"
    client.xreadgroup("billing", "w1", {"orders": ">"}, count=1)  # 1-0 delivered once


def _dlq(client: Any) -> list[Any]:
    return client.xrange("orders:dlq")


def test_claim_reads_dead_letter_after_max_deliveries(r: Any) -> None:
    _poison(r)
    for n in (2, 3):  # redelivered by CLAIM up to the maximum
        got = r.xreadgroup("billing", f"w{n}", {"orders": ">"}, count=1,
                           claim_min_idle_time=0)
        assert got[0][1][0][0] == b"1-0"
    assert r.xpending_range("orders", "billing", "-", "+", 5)[0]["times_delivered"] == 3
    got = r.xreadgroup("billing", "w4", {"orders": ">"}, count=1, claim_min_idle_time=0)
    assert got[0][1][0][0] == b"2-0"  # the poison message went to the DLQ instead
    [(dead_id, fields)] = _dlq(r)
    assert fields == {b"id": b"1-0", b"stream": b"orders", b"group": b"billing",
                      b"consumer": b"w3", b"deliveries": b"3", b"sku": b"bad"}
    pending = r.xpending_range("orders", "billing", "-", "+", 5)
    assert [p["message_id"] for p in pending] == [b"2-0"]
    info = r.xinfo_groups("orders")[0]
    assert (info["max-deliveries"], info["dead-letter-key"], info["dead-lettered"]) == (
        3, b"orders:dlq", 1)


def test_xclaim_and_xautoclaim_dead_letter(r: Any) -> None:
    _poison(r, 2)
    assert r.xclaim("orders", "billing", "w2", 0, ["1-0"])[0][0] == b"1-0"  # 2nd delivery
    assert r.xclaim("orders", "billing", "w3", 0, ["1-0"]) == []  # would be the 3rd
    assert len(_dlq(r)) == 1
    r.xreadgroup("billing", "w1", {"orders": ">"})  # 2-0
    r.xclaim("orders", "billing", "w2", 0, ["2-0"])
    cursor, claimed, deleted = r.xautoclaim("orders", "billing", "w3", 0, "0")
    assert claimed == [] and len(_dlq(r)) == 2
    assert r.xpending("orders", "billing")["pending"] == 0


def test_settings_get_off_and_errors(r: Any) -> None:
    _poison(r)
    assert r.execute_command("RESPD.XDEADLETTER", "orders", "billing") == [
        b"maxdeliveries", 3, b"to", b"orders:dlq", b"dead-lettered", 0]
    r.execute_command("RESPD.XDEADLETTER", "orders", "billing", "OFF")
    assert r.execute_command("RESPD.XDEADLETTER", "orders", "billing") == []
    assert set(r.xinfo_groups("orders")[0]) == {
        "name", "consumers", "pending", "last-delivered-id", "entries-read", "lag"}
    for argv, error in ((("orders", "nogroup"), "NOGROUP"),
                        (("orders", "billing", "MAXDELIVERIES", "0", "TO", "d"), "positive"),
                        (("orders", "billing", "MAXDELIVERIES", "2", "TO", "orders"),
                         "another key"),
                        (("orders", "billing", "BOGUS"), "syntax error")):
        with pytest.raises(redis.ResponseError, match=error):
            r.execute_command("RESPD.XDEADLETTER", *argv)


def test_wrong_type_dead_letter_key_leaves_delivery_alone(r: Any) -> None:
    _poison(r, 1)
    r.set("orders:dlq", "not a stream")
    got = r.xreadgroup("billing", "w2", {"orders": ">"}, count=1, claim_min_idle_time=0)
    assert got[0][1][0][0] == b"1-0"


def _state(client: Any) -> Any:
    return (client.xrange("orders:dlq"), client.xrange("orders"),
            client.execute_command("RESPD.XDEADLETTER", "orders", "billing"),
            client.execute_command("RESPD.XRETENTION", "orders"))


@pytest.mark.parametrize("how", ["aof", "rewrite", "rdb"])
def test_settings_and_moves_survive_restarts(spawn: Any, tmp_path: Path, how: str) -> None:
    options = (("--appendonly", "yes", "--appendfsync", "always") if how != "rdb"
               else ("--appendonly", "no"))
    server = spawn("respd", *options, workdir=str(tmp_path))
    client = server.client()
    _poison(client, 1)
    client.execute_command("RESPD.XRETENTION", "orders", "MAXLEN", "1000", "ACKED")
    client.xreadgroup("billing", "w2", {"orders": ">"}, claim_min_idle_time=0)
    before = _state(client)
    assert len(before[0]) == 1
    if how == "rewrite":
        client.bgrewriteaof()
        from conftest import wait_until
        wait_until(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0
                   and client.info("persistence")["aof_rewrite_scheduled"] == 0, "rewrite")
    if how == "rdb":
        client.save()
    client.close()
    server.stop()
    server = spawn("respd", *options, workdir=str(tmp_path))
    client = server.client()
    assert _state(client) == before
    client.close()


def test_redis_server_loads_a_respd_rdb_with_settings(spawn: Any, tmp_path: Path,
                                                       tool: Any) -> None:
    server = spawn("respd", "--appendonly", "no", workdir=str(tmp_path))
    client = server.client()
    _poison(client)
    client.execute_command("RESPD.XRETENTION", "orders", "MAXLEN", "1000")
    client.save()
    entries = client.xrange("orders")
    client.close()
    server.stop()
    rdb = tmp_path / "dump.rdb"
    check = subprocess.run([tool("redis-check-rdb"), str(rdb)], capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    ref = spawn("redis", "--dir", str(tmp_path), "--dbfilename", "dump.rdb")
    other = redis.Redis(port=ref.port)
    try:
        assert other.xrange("orders") == entries
        assert other.xinfo_groups("orders")[0]["name"] == b"billing"
    finally:
        other.close()


@pytest.mark.slow
def test_dead_letter_moves_reach_a_replica(spawn: Any) -> None:
    """The move (XADD to the dead-letter stream, XACK, the counter) is propagated as
    one transaction: a respd replica ends with the same streams, PEL and counter."""
    primary = spawn("respd")
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    p, rep = primary.client(), replica.client()
    try:
        _poison(p, 2)
        p.xclaim("orders", "billing", "w2", 0, ["1-0"])
        assert p.xclaim("orders", "billing", "w3", 0, ["1-0"]) == []  # dead-lettered
        p.set("marker", "1")
        wait_until(lambda: rep.get("marker") == b"1", "the replica catches up")
        assert rep.xrange("orders:dlq") == _dlq(p) and len(_dlq(p)) == 1
        assert rep.xpending("orders", "billing") == p.xpending("orders", "billing")
        rep.execute_command("REPLICAOF", "NO", "ONE")
        assert rep.xinfo_groups("orders")[0]["dead-lettered"] == 1
    finally:
        p.close()
        rep.close()
