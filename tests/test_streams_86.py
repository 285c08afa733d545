"""Redis 8.6's idempotent producers through redis-py's xadd(idmp=..., idmpauto=...) and
xcfgset (RESP2 and RESP3): a retried send answers with the first entry's ID and adds
nothing, per producer; IDMPAUTO derives the idempotent ID from the pairs in any order;
XCFGSET and the stream-idmp-* defaults set the window; the state survives AOF rewrites,
RDB files and restarts, and reaches replicas.  Cases follow Redis 8.6's stream.tcl
(facts, not code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import wait_until


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def c(request: Any) -> Any:
    return request.getfixturevalue("r" if request.param == 2 else "r3")


def info(client: Any) -> dict[str, Any]:
    return client.xinfo_stream("s")


def idmp_fields(client: Any) -> tuple[int, ...]:
    i = info(client)
    return tuple(i[f] for f in ("idmp-duration", "idmp-maxsize", "pids-tracked",
                                "iids-tracked", "iids-added", "iids-duplicates"))


def test_a_retried_send_returns_the_first_id_and_adds_nothing(c: Any) -> None:
    c.delete("s")
    first = c.xadd("s", {"f": "v"}, idmp=("p1", b"req-1"))
    assert c.xadd("s", {"f": "other"}, idmp=("p1", b"req-1")) == first
    assert c.xlen("s") == 1
    # Another producer's namespace is its own.
    second = c.xadd("s", {"f": "v"}, idmp=("p2", b"req-1"))
    assert second != first and c.xlen("s") == 2
    assert idmp_fields(c) == (100, 100, 2, 2, 2, 1)


def test_idmpauto_hashes_the_pairs_in_any_order(c: Any) -> None:
    c.delete("s")
    first = c.xadd("s", {"a": "1", "b": "2"}, idmpauto="p")
    assert c.xadd("s", {"b": "2", "a": "1"}, idmpauto="p") == first
    assert c.xadd("s", {"a": "1", "b": "3"}, idmpauto="p") != first
    assert c.xadd("s", {"a": "1", "b": "2"}, idmpauto="other") != first
    assert c.xlen("s") == 3


def test_maxsize_keeps_the_newest_ids_per_producer(r: Any) -> None:
    r.delete("s")
    r.xadd("s", {"f": "init"}, idmp=("p1", b"init"))
    assert r.xcfgset("s", idmp_maxsize=3) == b"OK"
    ids = [r.xadd("s", {"f": i}, idmp=("p1", f"req-{i}".encode())) for i in range(6)]
    assert [r.xadd("s", {"f": "dup"}, idmp=("p1", f"req-{i}".encode()))
            for i in (3, 4, 5)] == ids[3:]
    assert r.xadd("s", {"f": "again"}, idmp=("p1", b"req-0")) not in ids  # forgotten
    assert idmp_fields(r)[3:5] == (3, 8)  # tracked at most 3; added counts all 8


def test_xcfgset_clears_on_a_new_value_only(r: Any) -> None:
    r.delete("s")
    first = r.xadd("s", {"f": "v"}, idmp=("p1", b"req-1"))
    r.xcfgset("s", idmp_duration=100, idmp_maxsize=100)  # the same values
    assert r.xadd("s", {"f": "v"}, idmp=("p1", b"req-1")) == first
    r.xcfgset("s", idmp_duration=50)
    assert r.xadd("s", {"f": "v"}, idmp=("p1", b"req-1")) != first
    assert idmp_fields(r)[:2] == (50, 100)


def test_the_window_forgets_old_ids(r: Any) -> None:
    r.delete("s")
    r.xadd("s", {"f": "v"}, idmp=("p1", b"req-1"))
    r.xcfgset("s", idmp_duration=1)
    first = r.xadd("s", {"f": "v"}, idmp=("p1", b"req-1"))
    wait_until(lambda: idmp_fields(r)[3] == 0, "the id ages out", timeout=5)
    assert idmp_fields(r)[2] == 0  # the producer goes with its last id
    assert r.xadd("s", {"f": "v"}, idmp=("p1", b"req-1")) != first


def test_errors_in_redis_order(r: Any) -> None:
    r.delete("s")
    r.xadd("s", {"f": "v"})
    cases = [
        (("XADD", "s", "IDMP", "p", "i", "IDMPAUTO", "p", "*", "f", "v"),
         "IDMP/IDMPAUTO specified multiple times"),
        (("XADD", "s", "IDMPAUTO", "", "*", "f", "v"),
         "IDMPAUTO requires a non-empty producer ID"),
        (("XADD", "s", "IDMP", "", "i", "*", "f", "v"), "IDMP requires a non-empty producer ID"),
        (("XADD", "s", "IDMP", "p", "", "*", "f", "v"),
         "IDMP requires a non-empty idempotent ID"),
        (("XADD", "s", "IDMP", "p", "i", "5-0", "f", "v"),
         "IDMP/IDMPAUTO can be used only with auto-generated IDs"),
        (("XADD", "s", "IDMP", "p", "i", "bad", "f", "v"), "Invalid stream ID"),
        (("XCFGSET", "nokey", "IDMP-DURATION", "5"), "no such key"),
        (("XCFGSET", "s"), "At least one parameter must be specified"),
        (("XCFGSET", "s", "IDMP-DURATION"), "syntax error"),
        (("XCFGSET", "s", "INVALID"), "syntax error"),
        (("XCFGSET", "s", "IDMP-DURATION", "000"), "not an integer"),
        (("XCFGSET", "s", "IDMP-DURATION", "0"),
         "IDMP-DURATION must be between 1 and 86400 seconds"),
        (("XCFGSET", "s", "IDMP-DURATION", "86401"), "IDMP-DURATION must be between"),
        (("XCFGSET", "s", "IDMP-MAXSIZE", "10001"),
         "IDMP-MAXSIZE must be between 1 and 10000 entries"),
        (("XCFGSET", "s", "IDMP-DURATION", "5", "IDMP-DURATION", "6"),
         "IDMP-DURATION specified multiple times"),
        (("XIDMPRECORD", "s", "", "i", "1-0"), "producer ID must be non-empty"),
        (("XIDMPRECORD", "s", "p", "i", "9-9"), "No such message in stream"),
    ]
    for argv, message in cases:
        with pytest.raises(redis.ResponseError, match=message):
            r.execute_command(*argv)
    assert r.xlen("s") == 1


def test_xinfo_shows_the_fields_only_for_streams_with_idmp_state(r: Any) -> None:
    r.delete("s")
    r.xadd("s", {"f": "v"})
    assert "idmp-duration" not in info(r)  # 7.0's reply unchanged
    r.xadd("s", {"f": "v"}, idmp=("p", b"i"))
    keys = list(info(r))
    at = keys.index("recorded-first-entry-id")
    assert keys[at + 1 : at + 7] == ["idmp-duration", "idmp-maxsize", "pids-tracked",
                                      "iids-tracked", "iids-added", "iids-duplicates"]
    assert "iids-added" in r.xinfo_stream("s", full=True)


def test_config_defaults_apply_to_new_streams(spawn: Any) -> None:
    server = spawn("respd", "--stream-idmp-duration", "7", "--stream-idmp-maxsize", "9")
    client = server.client()
    client.xadd("s", {"f": "v"}, idmp=("p", b"i"))
    assert idmp_fields(client)[:2] == (7, 9)
    with pytest.raises(redis.ResponseError):
        client.config_set("stream-idmp-duration", "0")
    client.config_set("stream-idmp-maxsize", "10000")
    assert client.config_get("stream-idmp-*") == {"stream-idmp-duration": "7",
                                                  "stream-idmp-maxsize": "10000"}


@pytest.mark.slow
def test_state_survives_rewrite_rdb_restart_and_reaches_a_replica(
        spawn: Any, tmp_path: Path) -> None:
    primary = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path))
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    p = primary.client()
    p.xadd("s", {"f": "v"}, idmp=("p1", b"req-1"))
    p.xcfgset("s", idmp_duration=300, idmp_maxsize=50)
    first = p.xadd("s", {"f": "v"}, idmp=("p1", b"req-1"))
    auto = p.xadd("s", {"a": "1", "b": "2"}, idmpauto="p2")
    p.xadd("s", {"f": "v"}, idmp=("p1", b"req-1"))  # a duplicate, counted
    before = idmp_fields(p)
    assert before == (300, 50, 2, 2, 3, 1)
    rep = replica.client()
    wait_until(lambda: rep.xlen("s") == 3 and idmp_fields(rep) == before, "replicated",
               timeout=20)
    assert rep.xinfo_stream("s")["iids-duplicates"] == 1
    p.bgrewriteaof()
    wait_until(lambda: p.info("persistence")["aof_rewrite_in_progress"] == 0, "rewrite")
    p.save()
    primary.stop()
    for extra in (("--appendonly", "yes"), ()):  # from the rewritten AOF, then the RDB
        again = spawn("respd", *extra, workdir=str(tmp_path))
        client = again.client()
        assert idmp_fields(client) == before
        assert client.xadd("s", {"f": "x"}, idmp=("p1", b"req-1")) == first
        assert client.xadd("s", {"b": "2", "a": "1"}, idmpauto="p2") == auto
        again.stop()
    # redis-server 7.0.15 loads the file (the state travels in the extras it skips).
    ref = spawn("redis", "--dir", str(tmp_path), "--dbfilename", "dump.rdb")
    assert ref.client().xlen("s") == 3
