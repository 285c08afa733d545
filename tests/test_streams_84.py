"""Redis 8.4's XREADGROUP ... CLAIM min-idle-time through redis-py's claim_min_idle_time
(RESP2 and RESP3): idle pending entries first (longest idle first), then new ones,
sharing COUNT; every entry of a CLAIM read carries its idle time and previous delivery
count.  Cases follow Redis 8.4's stream-cgroups.tcl (facts, not code)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

from conftest import wait_until


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def c(request: Any) -> Any:
    return request.getfixturevalue("r" if request.param == 2 else "r3")


def entries(reply: Any) -> list[Any]:
    """The one stream's entries of an XREADGROUP reply, whatever the protocol."""
    if not reply:  # nothing served: redis-py turns the null into [] or {}
        return []
    if isinstance(reply, dict):
        return list(reply.values())[0][0]
    return reply[0][1]


def age(client: Any, sid: str, idle_ms: int, consumer: str = "consumer1") -> None:
    """Make a pending entry look idle for idle_ms (XCLAIM IDLE keeps its count)."""
    count = client.xpending_range("s", "group1", sid, sid, 1)[0]["times_delivered"]
    client.xclaim("s", "group1", consumer, 0, [sid], idle=idle_ms, retrycount=count,
                  justid=True)


def setup(client: Any, n: int = 2) -> None:
    client.delete("s")
    for i in range(1, n + 1):
        client.xadd("s", {"f": f"v{i}"}, id=f"{i}-0")
    client.xgroup_create("s", "group1", "0")
    client.xreadgroup("group1", "consumer1", {"s": ">"})


def test_claim_returns_idle_pending_entries_then_new_ones(c: Any) -> None:
    setup(c)
    age(c, "1-0", 5000)
    age(c, "2-0", 5000)
    c.xadd("s", {"f": "v3"}, id="3-0")
    got = entries(c.xreadgroup("group1", "consumer2", {"s": ">"}, claim_min_idle_time=50))
    assert [e[0] for e in got] == [b"1-0", b"2-0", b"3-0"]
    assert got[0][1] == {b"f": b"v1"}
    assert got[0][2] >= 5000 and got[0][3] == 1  # idle ms, deliveries before this one
    assert got[2][2:] == (0, 0)  # a new entry
    pending = c.xpending_range("s", "group1", "-", "+", 10)
    assert [p["consumer"] for p in pending] == [b"consumer2"] * 3
    assert [p["times_delivered"] for p in pending] == [2, 2, 1]


def test_claim_takes_longest_idle_first_and_shares_count(c: Any) -> None:
    setup(c, 3)
    age(c, "1-0", 1000)
    age(c, "2-0", 9000)
    age(c, "3-0", 5000)
    c.xadd("s", {"f": "v4"}, id="4-0")
    got = entries(c.xreadgroup("group1", "consumer2", {"s": ">"}, count=2,
                               claim_min_idle_time=100))
    assert [e[0] for e in got] == [b"2-0", b"3-0"]
    got = entries(c.xreadgroup("group1", "consumer2", {"s": ">"}, count=2,
                               claim_min_idle_time=100))
    assert [e[0] for e in got] == [b"1-0", b"4-0"]


def test_claim_skips_entries_not_idle_enough(c: Any) -> None:
    setup(c)
    age(c, "1-0", 200)
    got = entries(c.xreadgroup("group1", "consumer2", {"s": ">"},
                               claim_min_idle_time=60_000))
    assert got == []
    age(c, "2-0", 120_000)
    got = entries(c.xreadgroup("group1", "consumer2", {"s": ">"},
                               claim_min_idle_time=60_000))
    assert [e[0] for e in got] == [b"2-0"]


def test_claim_is_ignored_for_history_reads(r: Any) -> None:
    setup(r)
    age(r, "1-0", 5000)
    got = entries(r.xreadgroup("group1", "consumer1", {"s": "0"}, claim_min_idle_time=10))
    assert got == [(b"1-0", {b"f": b"v1"}), (b"2-0", {b"f": b"v2"})]


def test_claim_drops_deleted_entries_from_the_pel(r: Any) -> None:
    setup(r)
    age(r, "1-0", 5000)
    age(r, "2-0", 5000)
    r.xdel("s", "1-0")
    got = entries(r.xreadgroup("group1", "consumer2", {"s": ">"}, claim_min_idle_time=10))
    assert [e[0] for e in got] == [b"2-0"]
    assert r.xpending("s", "group1")["pending"] == 1


def test_raw_reply_carries_integers(respd: Any) -> None:
    from conftest import command
    client = redis.Redis(port=respd.port)
    setup(client, 1)
    age(client, "1-0", 5000)
    raw = command(respd.port, "XREADGROUP", "GROUP", "group1", "consumer2", "CLAIM", "50",
                  "STREAMS", "s", ">")
    head = b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*4\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$2\r\nv1\r\n:"
    assert raw.startswith(head) and raw.endswith(b"\r\n:1\r\n")
    client.close()


def test_blocked_claim_read_wakes_when_an_entry_becomes_idle(r: Any, respd: Any) -> None:
    setup(r, 1)
    # Pending for 0.5 s at most; the reader asks for 300 ms of idleness and waits 10 s.
    age(r, "1-0", 0)
    other = redis.Redis(port=respd.port)
    result: list[Any] = []
    reader = threading.Thread(target=lambda: result.append(other.xreadgroup(
        "group1", "consumer2", {"s": ">"}, claim_min_idle_time=300, block=10_000)))
    reader.start()
    reader.join(8)
    other.close()
    assert result and entries(result[0])[0][0] == b"1-0"
    assert entries(result[0])[0][2] >= 300


@pytest.mark.parametrize("argv, error", [
    (("GROUP", "group1", "c", "CLAIM", "-1", "STREAMS", "s", ">"),
     "min-idle-time must be a positive integer"),
    (("GROUP", "group1", "c", "CLAIM", "abc", "STREAMS", "s", ">"),
     "min-idle-time is not an integer or out of range"),
])
def test_claim_errors(r: Any, argv: tuple[str, ...], error: str) -> None:
    setup(r, 1)
    with pytest.raises(redis.ResponseError, match=error):
        r.execute_command("XREADGROUP", *argv)


def test_xread_has_no_claim(r: Any) -> None:
    with pytest.raises(redis.ResponseError,
                       match="The CLAIM option is only supported by XREADGROUP"):
        r.execute_command("XREAD", "CLAIM", "10", "STREAMS", "s", "0")


def test_claim_delivery_counts_survive_a_restart(spawn: Any, tmp_path: Any) -> None:
    options = ("--appendonly", "yes", "--appendfsync", "always")
    server = spawn("respd", *options, workdir=str(tmp_path))
    client = server.client()
    setup(client, 1)
    for consumer in ("consumer2", "consumer3"):
        age(client, "1-0", 1000)
        client.xreadgroup("group1", consumer, {"s": ">"}, claim_min_idle_time=50)
    client.close()
    server.stop()
    server = spawn("respd", *options, workdir=str(tmp_path))
    client = server.client()
    pending = client.xpending_range("s", "group1", "-", "+", 10)
    assert [(p["consumer"], p["times_delivered"]) for p in pending] == [(b"consumer3", 3)]
    client.close()
