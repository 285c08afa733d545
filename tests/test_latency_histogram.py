"""LATENCY HISTOGRAM: per-command call counts by latency level, in Redis 7.0's shape
(map of command → {calls, histogram_usec: {usec: cumulative count}}), reset by CONFIG
RESETSTAT and not recorded while latency-tracking is no.  Commands run on dispatch's
inline path (data commands of a plain client) are not recorded; the ones here go
through call(): admin commands, and data commands inside MULTI."""

from __future__ import annotations

from typing import Any

from respd.latency import histogram, latency_level

# The labels redis-server 7.0 reports (seen with EVAL busy loops and SET).
LABELS = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816,
          67633, 135266, 270532, 541065, 1073741]


def test_levels_and_labels() -> None:
    counts = [0] * 64
    for ns in (0, 1000, 2000, 8000, 33000, 1_000_000, 5_000_000_000):
        counts[latency_level(ns)] += 1
    reply = histogram(counts)
    assert reply[b"calls"] == 7
    labels = list(reply[b"histogram_usec"])
    assert all(label in LABELS for label in labels)
    assert list(reply[b"histogram_usec"].values()) == sorted(reply[b"histogram_usec"].values())
    assert labels[0] == 1 and labels[-1] == 1073741  # 5 s is reported in the 1 s level


def test_histogram_counts_calls(r: Any, r3: Any) -> None:
    r.config_resetstat()
    pipe = r.pipeline(transaction=True)
    for _ in range(25):
        pipe.set("k", "v")
    pipe.get("k")
    pipe.execute()
    reply = r3.execute_command("LATENCY", "HISTOGRAM", "set", "get", "nosuch")
    assert set(reply) == {b"set", b"get"}
    assert reply[b"set"][b"calls"] == 25
    assert list(reply[b"set"][b"histogram_usec"].values())[-1] == 25
    assert all(label in LABELS for label in reply[b"set"][b"histogram_usec"])
    r.config_get("maxmemory")
    sub = r3.execute_command("LATENCY", "HISTOGRAM", "config")
    assert b"config|get" in sub and b"config|resetstat" in sub
    assert b"set" in r3.execute_command("LATENCY", "HISTOGRAM")
    flat = r.execute_command("LATENCY", "HISTOGRAM", "get")  # RESP2: flat arrays
    assert flat[0] == b"get" and flat[1][:3] == [b"calls", 1, b"histogram_usec"]
    assert r3.execute_command("LATENCY", "HISTOGRAM", "exec")[b"exec"][b"calls"] == 1
    r.config_resetstat()
    assert b"set" not in r3.execute_command("LATENCY", "HISTOGRAM", "set")


def test_tracking_off_records_nothing(r: Any, r3: Any) -> None:
    r.config_resetstat()
    r.config_set("latency-tracking", "no")
    try:
        r.config_get("maxmemory")
        assert r3.execute_command("LATENCY", "HISTOGRAM", "config|get") == {}
    finally:
        r.config_set("latency-tracking", "yes")
    r.config_get("maxmemory")
    reply = r3.execute_command("LATENCY", "HISTOGRAM", "config|get")
    assert reply[b"config|get"][b"calls"] == 1
