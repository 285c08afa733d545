"""respd's server-enforced stream retention (RESPD.XRETENTION and the
respd-stream-retention-* directives): the background cycle trims by age, length and
bytes, in bounded steps, under KEEPREF|DELREF|ACKED; the trims reach the AOF."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from conftest import eventually, wait_until


def _ids(client: Any, key: str = "s") -> list[bytes]:
    return [sid for sid, _ in client.xrange(key)]


def test_set_get_and_remove(r: Any) -> None:
    r.delete("s")
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.execute_command("RESPD.XRETENTION", "s", "MAXLEN", "5")
    assert r.execute_command("RESPD.XRETENTION", "s") == []
    r.xadd("s", {"f": "v"})
    assert r.execute_command("RESPD.XRETENTION", "s", "MAXAGE", "60000", "ACKED") == b"OK"
    assert r.execute_command("RESPD.XRETENTION", "s") == [
        b"maxage", 60000, b"maxlen", 0, b"maxbytes", 0, b"policy", b"ACKED"]
    assert r.execute_command("RESPD.XRETENTION", "s", "OFF") == b"OK"
    assert r.execute_command("RESPD.XRETENTION", "s") == []
    for bad, error in ((("MAXLEN",), "syntax error"), (("MAXLEN", "-1"), ">= 0"),
                       (("MAXLEN", "x"), "not an integer"), (("BOGUS", "1"), "syntax error")):
        with pytest.raises(redis.ResponseError, match=error):
            r.execute_command("RESPD.XRETENTION", "s", *bad)


def test_maxlen_is_enforced_in_the_background(r: Any) -> None:
    r.delete("s")
    for i in range(1, 501):
        r.xadd("s", {"n": i}, id=f"{i}-0")
    r.execute_command("RESPD.XRETENTION", "s", "MAXLEN", "50")
    wait_until(lambda: r.xlen("s") == 50, "trimmed to 50")
    assert _ids(r)[0] == b"451-0"
    # XINFO and plain replies are untouched by the setting.
    assert r.xinfo_stream("s")["length"] == 50


def test_maxage_with_acked_keeps_what_a_group_still_needs(r: Any) -> None:
    r.delete("s")
    old = int(time.time() * 1000) - 3_600_000  # an hour ago
    for i in range(20):
        r.xadd("s", {"order": i}, id=f"{old + i}-0")
    r.xgroup_create("s", "billing", "0")
    r.xreadgroup("billing", "worker", {"s": ">"}, count=10)  # 10 pending, 10 undelivered
    r.xack("s", "billing", *[f"{old + i}-0" for i in range(5)])
    r.xadd("s", {"order": "fresh"})
    r.execute_command("RESPD.XRETENTION", "s", "MAXAGE", "60000", "ACKED")
    wait_until(lambda: r.xlen("s") == 16, "acknowledged old orders trimmed")
    assert _ids(r)[0] == f"{old + 5}-0".encode()
    r.xreadgroup("billing", "worker", {"s": ">"})
    r.xack("s", "billing", *[sid for sid in _ids(r)])
    wait_until(lambda: r.xlen("s") == 1, "every old order trimmed once acknowledged")


def test_delref_clears_the_pels(r: Any) -> None:
    r.delete("s")
    for i in range(1, 11):
        r.xadd("s", {"n": i}, id=f"{i}-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    r.execute_command("RESPD.XRETENTION", "s", "MAXLEN", "4", "DELREF")
    wait_until(lambda: r.xlen("s") == 4, "trimmed")
    assert r.xpending("s", "g")["pending"] == 4


def test_maxbytes_drops_whole_nodes(r: Any) -> None:
    r.delete("s")
    for i in range(1000):
        r.xadd("s", {"payload": "x" * 100})
    r.execute_command("RESPD.XRETENTION", "s", "MAXBYTES", "20000")
    wait_until(lambda: r.xlen("s") < 1000, "trimmed by size")
    assert int(r.memory_usage("s") or 0) < 60000
    assert r.xlen("s") >= 100  # whole nodes: the tail node stays


def test_steady_producer_stays_within_the_window(r: Any) -> None:
    r.delete("s")
    r.xadd("s", {"n": 0})
    r.execute_command("RESPD.XRETENTION", "s", "MAXAGE", "300")
    deadline = time.monotonic() + 3
    worst = 0
    while time.monotonic() < deadline:
        r.xadd("s", {"n": 1})
        first = r.xrange("s", count=1)[0][0]
        age = int(time.time() * 1000) - int(first.split(b"-")[0])
        worst = max(worst, age)
        time.sleep(0.005)
    # The window is 300 ms; a cycle is 100 ms at hz 10: allow a few cycles of slack.
    assert worst < 300 + 1000, worst


def test_big_backlog_is_trimmed_in_bounded_steps(monkeypatch: Any) -> None:
    """One background step removes rounds of whole nodes while its time lasts; with no
    time at all it still does one round (1000 entries), so a backlog takes several
    cycles and the server answers in between (in-process: the cycle called directly)."""
    from respd import dispatch
    from respd.commands import respd_streams
    from respd.server import Server

    client = Server().new_client()
    client.authenticated = True
    for i in range(1, 5001):
        dispatch.execute(client, [b"XADD", b"s", b"%d-0" % i, b"n", b"%d" % i])
    assert dispatch.execute(client, [b"RESPD.XRETENTION", b"s", b"MAXLEN", b"10"]) is not None
    monkeypatch.setattr(respd_streams, "_CYCLE_SECONDS", 0.0)
    lengths = []
    while dispatch.execute(client, [b"XLEN", b"s"]) > 10:
        respd_streams.enforce_retention(client.server)
        lengths.append(dispatch.execute(client, [b"XLEN", b"s"]))
    assert lengths == [4000, 3000, 2000, 1000, 10]
    first = dispatch.execute(client, [b"XRANGE", b"s", b"-", b"+", b"COUNT", b"1"])
    assert first[0][0] == b"4991-0"


def test_server_wide_default_retention(spawn: Any, tmp_path: Any) -> None:
    server = spawn("respd", "--respd-stream-retention-maxlen", "3",
                   "--respd-stream-retention-policy", "acked",
                   "--appendonly", "yes", "--appendfsync", "always", workdir=str(tmp_path))
    client = server.client()
    try:
        assert client.config_get("respd-stream-retention-*") == {
            "respd-stream-retention-maxage": "0", "respd-stream-retention-maxlen": "3",
            "respd-stream-retention-maxbytes": "0", "respd-stream-retention-policy": "acked"}
        client.xgroup_create("b", "g", "5-0", mkstream=True)  # b's 6-0.. not yet delivered
        for i in range(1, 11):
            client.xadd("a", {"n": i}, id=f"{i}-0")
            client.xadd("b", {"n": i}, id=f"{i}-0")
        wait_until(lambda: client.xlen("a") == 3, "default applied")
        wait_until(lambda: client.xlen("b") == 5, "ACKED by default")
        # A stream's own policy wins over the default.
        client.execute_command("RESPD.XRETENTION", "a", "MAXLEN", "1")
        wait_until(lambda: client.xlen("a") == 1, "own policy")
        with pytest.raises(redis.ResponseError):
            client.config_set("respd-stream-retention-policy", "sometimes")
        before = _ids(client, "a"), _ids(client, "b")
        client.close()
        server.stop()
        server = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path))
        client = server.client()
        assert (_ids(client, "a"), _ids(client, "b")) == before
        assert client.execute_command("RESPD.XRETENTION", "a")[1::2][1] == 1
    finally:
        client.close()


def test_unused_features_leave_replies_alone(r: Any) -> None:
    r.delete("s")
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xgroup_create("s", "g", "0")
    assert set(r.xinfo_groups("s")[0]) == {
        "name", "consumers", "pending", "last-delivered-id", "entries-read", "lag"}
    assert eventually(lambda: r.xlen("s") == 1)


# --- replication ---------------------------------------------------------------------------


def _synced(primary: Any, replica: Any) -> None:
    p, rep = primary.client(), replica.client()

    def caught_up() -> bool:
        info = rep.info("replication")
        return info.get("master_link_status") == "up" and \
            info["slave_repl_offset"] >= p.info("replication")["master_repl_offset"]

    wait_until(caught_up, "the replica catches up", timeout=40)
    p.close()
    rep.close()


@pytest.mark.slow
@pytest.mark.parametrize("replica_kind", ["respd", "redis"])
def test_trims_reach_replicas_which_never_trim_on_their_own(spawn: Any,
                                                           replica_kind: str) -> None:
    """The primary's background trims reach a replica as XTRIMs (redis-server applies
    them too); a respd replica with a default policy of its own does not trim."""
    primary = spawn("respd")
    extra = ("--respd-stream-retention-maxlen", "2") if replica_kind == "respd" else (
        "--repl-diskless-sync-delay", "0")
    replica = spawn(replica_kind, *extra, "--replicaof", "127.0.0.1", str(primary.port))
    p, rep = primary.client(), replica.client()
    try:
        _synced(primary, replica)  # attached first: what follows travels as a stream
        for i in range(1, 301):
            p.xadd("kept", {"n": i}, id=f"{i}-0")
            p.xadd("s", {"n": i}, id=f"{i}-0")
        p.execute_command("RESPD.XRETENTION", "s", "MAXLEN", "20")
        wait_until(lambda: p.xlen("s") == 20, "the primary trims")
        _synced(primary, replica)
        assert _ids(rep) == _ids(p) and len(_ids(rep)) == 20
        assert rep.xlen("kept") == 300  # no policy on the primary: the replica's default
        if replica_kind == "respd":
            # Promoted, it has the stream's policy and enforces its own default too.
            rep.execute_command("REPLICAOF", "NO", "ONE")
            assert rep.execute_command("RESPD.XRETENTION", "s")[3] == 20
            wait_until(lambda: rep.xlen("kept") == 2, "the promoted replica's default")
    finally:
        p.close()
        rep.close()


@pytest.mark.slow
def test_acked_trims_replay_on_a_replica(spawn: Any) -> None:
    primary = spawn("respd")
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    p, rep = primary.client(), replica.client()
    try:
        for i in range(1, 101):
            p.xadd("s", {"n": i}, id=f"{i}-0")
        p.xgroup_create("s", "g", "0")
        p.xreadgroup("g", "c", {"s": ">"}, count=60)
        p.xack("s", "g", *[f"{i}-0" for i in range(1, 61) if i % 3])
        p.execute_command("RESPD.XRETENTION", "s", "MAXLEN", "10", "ACKED")
        # Only the acknowledged ones go: every third of the first 60 stays pending.
        wait_until(lambda: p.xlen("s") == 60, "ACKED trims what the group acknowledged")
        _synced(primary, replica)
        assert _ids(rep) == _ids(p)
        assert rep.xpending("s", "g")["pending"] == p.xpending("s", "g")["pending"] == 20
    finally:
        p.close()
        rep.close()
