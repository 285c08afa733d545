"""Redis 8.10's MAXCOUNT and MAXSIZE on XREAD/XREADGROUP through redis-py's max_count
and max_size (RESP2 and RESP3): caps across all the streams of one reply, served in the
order named (COUNT stays per stream); MAXSIZE is soft, so the first entry always goes;
what a capped XREADGROUP did not serve stays undelivered."""

from __future__ import annotations

from typing import Any

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def c(request: Any) -> Any:
    return request.getfixturevalue("r" if request.param == 2 else "r3")


def per_stream(reply: Any) -> dict[bytes, list[bytes]]:
    """{key: [ids]} of an XREAD/XREADGROUP reply, whatever the protocol."""
    if not reply:
        return {}
    pairs = reply.items() if isinstance(reply, dict) else reply
    out = {}
    for key, entries in pairs:
        if isinstance(reply, dict):
            entries = entries[0]
        out[key] = [e[0] for e in entries]
    return out


def fill(client: Any, payload: int = 10) -> None:
    client.delete("s1", "s2", "s3")
    for key in ("s1", "s2", "s3"):
        for i in range(1, 4):
            client.xadd(key, {"f": "x" * payload}, id=f"{i}-0")


def test_maxcount_caps_the_whole_reply_in_stream_order(c: Any) -> None:
    fill(c)
    got = per_stream(c.xread({"s1": 0, "s2": 0, "s3": 0}, count=2, max_count=3))
    assert got == {b"s1": [b"1-0", b"2-0"], b"s2": [b"1-0"]}  # s3 skipped
    got = per_stream(c.xread({"s1": 0, "s2": 0, "s3": 0}, max_count=4))
    assert got == {b"s1": [b"1-0", b"2-0", b"3-0"], b"s2": [b"1-0"]}


def test_maxsize_is_soft_the_first_entry_always_goes(c: Any) -> None:
    fill(c, payload=100)
    got = per_stream(c.xread({"s1": 0, "s2": 0}, max_size=1))
    assert got == {b"s1": [b"1-0"]}
    # An entry is 132 bytes in RESP2 (*2, the ID, *2, "f", 100 bytes): two fit in 300.
    assert per_stream(c.xread({"s1": 0, "s2": 0}, max_size=300)) == {b"s1": [b"1-0", b"2-0"]}
    got = per_stream(c.xread({"s1": 0, "s2": 0}, max_size=4 * 132))
    assert got == {b"s1": [b"1-0", b"2-0", b"3-0"], b"s2": [b"1-0"]}
    assert per_stream(c.xread({"s1": 0, "s2": 0}, max_size=100_000)) == {
        b"s1": [b"1-0", b"2-0", b"3-0"], b"s2": [b"1-0", b"2-0", b"3-0"]}


def test_xreadgroup_leaves_what_it_did_not_serve_undelivered(c: Any) -> None:
    fill(c)
    for key in ("s1", "s2"):
        c.xgroup_create(key, "g", "0")
    got = per_stream(c.xreadgroup("g", "a", {"s1": ">", "s2": ">"}, max_count=4))
    assert got == {b"s1": [b"1-0", b"2-0", b"3-0"], b"s2": [b"1-0"]}
    assert c.xpending("s2", "g")["pending"] == 1
    assert c.xinfo_groups("s2")[0]["last-delivered-id"] == b"1-0"
    got = per_stream(c.xreadgroup("g", "a", {"s1": ">", "s2": ">"}, max_count=5))
    assert got == {b"s2": [b"2-0", b"3-0"]}
    # The consumer's history obeys the caps too.
    got = per_stream(c.xreadgroup("g", "a", {"s1": "0", "s2": "0"}, count=2, max_count=3))
    assert got == {b"s1": [b"1-0", b"2-0"], b"s2": [b"1-0"]}


def test_claim_entries_count_against_the_caps(c: Any) -> None:
    fill(c)
    c.xgroup_create("s1", "g", "0")
    c.xreadgroup("g", "a", {"s1": ">"}, count=2)  # 1-0 and 2-0 pending
    reply = c.xreadgroup("g", "b", {"s1": ">"}, claim_min_idle_time=0, max_count=1)
    assert per_stream(reply) == {b"s1": [b"1-0"]}
    assert c.xinfo_groups("s1")[0]["last-delivered-id"] == b"2-0"


def test_errors(r: Any) -> None:
    fill(r)
    cases = [
        (("XREAD", "MAXCOUNT", "0", "STREAMS", "s1", "0"), "MAXCOUNT must be a positive"),
        (("XREAD", "MAXCOUNT", "x", "STREAMS", "s1", "0"), "not an integer"),
        (("XREAD", "MAXSIZE", "-1", "STREAMS", "s1", "0"), "MAXSIZE must be a positive"),
        (("XREAD", "COUNT", "5", "MAXCOUNT", "2", "STREAMS", "s1", "0"),
         "MAXCOUNT must be greater than or equal to COUNT"),
    ]
    for argv, message in cases:
        with pytest.raises(redis.ResponseError, match=message):
            r.execute_command(*argv)


def test_without_the_options_replies_are_unchanged(r: Any) -> None:
    fill(r)
    assert per_stream(r.xread({"s1": 0, "s2": 0}, count=1)) == {
        b"s1": [b"1-0"], b"s2": [b"1-0"]}
