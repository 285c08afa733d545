"""Redis 8.2's stream deletion with consumer-group references: XDELEX, XACKDEL and the
KEEPREF|DELREF|ACKED options of XADD and XTRIM, through redis-py's own methods (RESP2 and
RESP3).  The cases follow Redis 8.2's tests/unit/type/stream*.tcl (facts, not code); no
8.x reference server is installed, so replies are asserted as Redis documents them."""

from __future__ import annotations

from typing import Any

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def c(request: Any) -> Any:
    return request.getfixturevalue("r" if request.param == 2 else "r3")


def _ids(client: Any, key: str) -> list[bytes]:
    return [sid for sid, _ in client.xrange(key)]


def _two_groups_read(client: Any, key: str, n: int = 2) -> None:
    """n entries 1-0..n-0, delivered to group1 (consumer1) and group2 (consumer2)."""
    client.delete(key)
    for i in range(1, n + 1):
        client.xadd(key, {"f": "v"}, id=f"{i}-0")
    client.xgroup_create(key, "group1", "0")
    client.xgroup_create(key, "group2", "0")
    client.xreadgroup("group1", "consumer1", {key: ">"})
    client.xreadgroup("group2", "consumer2", {key: ">"})


def _pending(client: Any, key: str, group: str) -> int:
    return int(client.xpending(key, group)["pending"])


# --- XACKDEL ------------------------------------------------------------------------------------


def test_xackdel_missing_key_or_group(c: Any) -> None:
    c.delete("s")
    assert c.xackdel("s", "g", "1-1", "2-2") == [-1, -1]
    c.xadd("s", {"f": "v"}, id="1-0")
    assert c.xackdel("s", "g", "1-1", "2-2") == [-1, -1]


def test_xackdel_delref_removes_every_reference(c: Any) -> None:
    _two_groups_read(c, "s")
    assert c.xackdel("s", "group1", "1-0", "2-0", ref_policy="DELREF") == [1, 1]
    assert c.xlen("s") == 0
    assert _pending(c, "s", "group1") == 0
    assert _pending(c, "s", "group2") == 0
    assert c.xackdel("s", "group2", "1-0", "2-0", ref_policy="DELREF") == [-1, -1]


def test_xackdel_acked_deletes_once_every_group_acknowledged(c: Any) -> None:
    _two_groups_read(c, "s")
    assert c.xackdel("s", "group1", "1-0", "2-0", ref_policy="ACKED") == [2, 2]
    assert c.xlen("s") == 2
    assert _pending(c, "s", "group1") == 0
    assert _pending(c, "s", "group2") == 2
    assert c.xackdel("s", "group2", "1-0", "2-0", ref_policy="ACKED") == [1, 1]
    assert c.xlen("s") == 0


def test_xackdel_keepref_leaves_other_groups_pels(c: Any) -> None:
    _two_groups_read(c, "s")
    assert c.xackdel("s", "group1", "1-0", "2-0") == [1, 1]  # KEEPREF by default
    assert c.xlen("s") == 0
    assert _pending(c, "s", "group1") == 0
    assert _pending(c, "s", "group2") == 2
    # The dangling references can still be acknowledged: reported as deleted.
    assert c.xackdel("s", "group2", "1-0", "2-0", ref_policy="KEEPREF") == [1, 1]
    assert _pending(c, "s", "group2") == 0


def test_xackdel_many_ids(r: Any) -> None:
    r.delete("s")
    r.xgroup_create("s", "g", "$", mkstream=True)
    ids = [f"{i}-1" for i in range(50)]
    assert r.xackdel("s", "g", *ids) == [-1] * 50


@pytest.mark.parametrize("argv, error", [
    ((), "wrong number of arguments for 'xackdel' command"),
    (("s",), "wrong number of arguments for 'xackdel' command"),
    (("s", "g"), "wrong number of arguments for 'xackdel' command"),
    (("s", "g", "IDS", "abc", "1-1"), "Number of IDs must be a positive integer"),
    (("s", "g", "IDS", "0", "1-1"), "Number of IDs must be a positive integer"),
    (("s", "g", "IDS", "-5", "1-1"), "Number of IDs must be a positive integer"),
    (("s", "g", "IDS", "3", "1-1", "2-2"),
     "The `numids` parameter must match the number of arguments"),
    (("s", "g", "IDS", "1", "1-1", "2-2"), "syntax error"),
    (("s", "g", "KEEPREF", "DELREF", "IDS", "1", "1-1"), "syntax error"),
    (("s", "g", "KEEPREF", "ACKED", "IDS", "1", "1-1"), "syntax error"),
    (("s", "g", "DELREF", "ACKED", "IDS", "1", "1-1"), "syntax error"),
    (("s", "g", "BOGUS", "IDS", "1", "1-1"), "syntax error"),
    (("s", "g", "IDS", "1", "not-an-id"),
     "Invalid stream ID specified as stream command argument"),
])
def test_xackdel_errors(r: Any, argv: tuple[str, ...], error: str) -> None:
    r.delete("s")
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xgroup_create("s", "g", "0")
    with pytest.raises(redis.ResponseError, match=error.replace("(", r"\(")):
        r.execute_command("XACKDEL", *argv)


# --- XDELEX -------------------------------------------------------------------------------------


def test_xdelex_missing_key_and_ids(c: Any) -> None:
    c.delete("s")
    assert c.xdelex("s", "1-0", "2-0") == [-1, -1]
    c.xadd("s", {"f": "v"}, id="1-0")
    assert c.xdelex("s", "1-0", "5-0") == [1, -1]
    assert c.exists("s") == 1  # an emptied stream stays, as with XDEL


def test_xdelex_acked_waits_for_every_group(c: Any) -> None:
    c.delete("s")
    for j in range(5):
        c.xadd("s", {"item": j}, id=f"{j}-1")
    c.xgroup_create("s", "mygroup", "0")
    c.xreadgroup("mygroup", "consumer1", {"s": ">"})
    ids = [f"{j}-1" for j in range(5)]
    assert c.xdelex("s", *ids, ref_policy="ACKED") == [2] * 5
    c.xgroup_destroy("s", "mygroup")
    assert c.xdelex("s", *ids, ref_policy="ACKED") == [1] * 5
    assert c.xlen("s") == 0


def test_xdelex_acked_keeps_undelivered_entries(c: Any) -> None:
    c.delete("s")
    for i in range(1, 6):
        c.xadd("s", {"f": i}, id=f"{i}-0")
    c.xgroup_create("s", "group1", "1-0")
    c.xgroup_create("s", "group2", "3-0")
    # 1-0 was delivered to both (and is pending in neither): deletable; 2-0 and 3-0 are
    # not yet delivered to group1; 4-0 to neither.
    assert c.xdelex("s", "1-0", "2-0", "3-0", "4-0", ref_policy="ACKED") == [1, 2, 2, 2]
    c.xgroup_destroy("s", "group1")
    assert c.xdelex("s", "2-0", "3-0", "4-0", ref_policy="ACKED") == [1, 1, 2]


def test_xdelex_delref_and_keepref(c: Any) -> None:
    _two_groups_read(c, "s", 3)
    assert c.xdelex("s", "1-0", ref_policy="KEEPREF") == [1]
    assert _pending(c, "s", "group1") == 3
    assert c.xdelex("s", "2-0", ref_policy="DELREF") == [1]
    assert _pending(c, "s", "group1") == 2
    assert _pending(c, "s", "group2") == 2
    assert _ids(c, "s") == [b"3-0"]


@pytest.mark.parametrize("argv, error", [
    (("s", "IDS", "0", "1-1"), "Number of IDs must be a positive integer"),
    (("s", "IDS", "3", "1-1"), "The `numids` parameter must match the number of arguments"),
    (("s", "BOGUS", "IDS", "1", "1-1"), "syntax error"),
    (("s", "ACKED", "1-1", "IDS"), "syntax error"),
    (("s", "IDS", "1", "not-an-id"), "Invalid stream ID specified as stream command argument"),
])
def test_xdelex_errors(r: Any, argv: tuple[str, ...], error: str) -> None:
    with pytest.raises(redis.ResponseError, match=error):
        r.execute_command("XDELEX", *argv)


# --- XTRIM / XADD with a reference policy -----------------------------------------------------


def _ten_half_read(client: Any) -> None:
    """1-0..10-0; group g got 1-0..5-0 (pending), 6-0.. are undelivered."""
    client.delete("s")
    for i in range(1, 11):
        client.xadd("s", {"f": i}, id=f"{i}-0")
    client.xgroup_create("s", "g", "0")
    client.xreadgroup("g", "c", {"s": ">"}, count=5)


def test_xtrim_acked_keeps_pending_and_undelivered(c: Any) -> None:
    _ten_half_read(c)
    c.xack("s", "g", "1-0", "3-0")
    assert c.xtrim("s", maxlen=0, approximate=False, ref_policy="ACKED") == 2
    assert _ids(c, "s") == [b"2-0", b"4-0", b"5-0", b"6-0", b"7-0", b"8-0", b"9-0", b"10-0"]
    assert _pending(c, "s", "g") == 3  # ACKED never touches a PEL


def test_xtrim_delref_clears_pels(c: Any) -> None:
    _ten_half_read(c)
    assert c.xtrim("s", minid="4-0", approximate=False, ref_policy="DELREF") == 3
    assert _pending(c, "s", "g") == 2
    assert c.xtrim("s", maxlen=0, approximate=False, ref_policy="DELREF") == 7
    assert _pending(c, "s", "g") == 0


def test_xtrim_keepref_is_the_default(c: Any) -> None:
    _ten_half_read(c)
    assert c.xtrim("s", maxlen=2, approximate=False, ref_policy="KEEPREF") == 8
    assert _pending(c, "s", "g") == 5  # dangling references stay, as in 7.0


def test_xtrim_acked_without_groups_trims_plainly(r: Any) -> None:
    r.delete("s")
    for i in range(1, 11):
        r.xadd("s", {"f": i}, id=f"{i}-0")
    assert r.xtrim("s", maxlen=4, approximate=False, ref_policy="ACKED") == 6


def test_xadd_with_trim_and_acked(c: Any) -> None:
    _ten_half_read(c)
    c.xack("s", "g", "1-0", "2-0", "3-0", "4-0", "5-0")
    c.xadd("s", {"a": 1}, id="11-0", maxlen=3, approximate=False, ref_policy="ACKED")
    assert _ids(c, "s")[0] == b"6-0"  # 6-0 onwards are not yet delivered to g
    c.xreadgroup("g", "c", {"s": ">"})
    c.xack("s", "g", *[f"{i}-0" for i in range(6, 12)])
    c.xadd("s", {"a": 1}, id="12-0", maxlen=3, approximate=False, ref_policy="ACKED")
    assert c.xlen("s") == 3


def _durable(client: Any) -> Any:
    pending = client.xpending_range("s", "g", "-", "+", 10)
    return client.xrange("s"), [(p["message_id"], p["consumer"], p["times_delivered"])
                                for p in pending]


def test_reference_policies_replay_from_the_aof(spawn: Any, tmp_path: Any) -> None:
    options = ("--appendonly", "yes", "--appendfsync", "always")
    server = spawn("respd", *options, workdir=str(tmp_path))
    client = server.client()
    _ten_half_read(client)
    client.xack("s", "g", "2-0")
    client.xtrim("s", maxlen=0, approximate=False, ref_policy="ACKED")
    client.xackdel("s", "g", "4-0", ref_policy="DELREF")
    client.xdelex("s", "7-0")
    client.xdelex("s", "3-0", ref_policy="DELREF")
    before = _durable(client)
    client.close()
    server.stop()
    server = spawn("respd", *options, workdir=str(tmp_path))
    client = server.client()
    try:
        assert _durable(client) == before
        assert len(before[0]) == 6 and len(before[1]) == 2
    finally:
        client.close()
