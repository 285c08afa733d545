"""LATENCY HISTOGRAM: per-command call counts by latency level, in Redis 7.0's shape
(map of command → {calls, histogram_usec: {usec: cumulative count}}), reset by CONFIG
RESETSTAT and not recorded while latency-tracking is no.  Commands run on dispatch's
inline path (data commands of a plain client) are not recorded; the ones here go
through call(): admin commands, and data commands inside MULTI."""

from __future__ import annotations

from typing import Any

from conftest import command
from respd.latency import histogram, latency_level, value_at_percentile

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


# --- INFO latencystats (latency-tracking-info-percentiles) ---------------------------------

def _latencystats(port: int) -> dict[str, dict[str, float]]:
    """{command: {"p50": usec, ...}} from INFO latencystats' raw lines."""
    text = command(port, "INFO", "latencystats").decode().partition("\r\n")[2]
    out = {}
    for line in text.splitlines()[1:-1]:  # the header, the bulk's closing CRLF
        name, _, values = line.partition(":")
        assert name.startswith("latency_percentiles_usec_"), line
        pairs = [v.partition("=") for v in values.split(",")] if values else []
        assert all(len(value.partition(".")[2]) == 3 for _, _, value in pairs), line
        out[name[len("latency_percentiles_usec_"):]] = {k: float(v) for k, _, v in pairs}
    return out


def test_info_latencystats_like_redis(spawn: Any) -> None:
    seen = []
    for kind in ("redis", "respd"):
        server = spawn(kind)
        client = server.client()
        client.config_resetstat()
        for i in range(20):
            client.set("k", i)
        client.get("k")
        stats = _latencystats(server.port)
        assert set(stats["set"]) == {"p50", "p99", "p99.9"}
        assert 0 < stats["set"]["p50"] <= stats["set"]["p99"] <= stats["set"]["p99.9"]
        client.config_set("latency-tracking-info-percentiles", "0 12.5 100")
        reported = client.config_get("latency-tracking-info-percentiles")
        stats = _latencystats(server.port)
        assert list(stats["get"]) == ["p0", "p12.5", "p100"]
        assert stats["set"]["p0"] <= stats["set"]["p12.5"] <= stats["set"]["p100"]
        client.config_set("latency-tracking-info-percentiles", "")
        empty = _latencystats(server.port)
        client.config_set("latency-tracking", "no")
        off = command(server.port, "INFO", "latencystats")
        client.config_set("latency-tracking", "yes")
        seen.append((sorted(stats), reported, empty["set"], off, sorted(stats["get"])))
    assert seen[0] == seen[1]
    assert seen[1][1] == {"latency-tracking-info-percentiles": "0 12.5 100"}
    assert seen[1][3] == b"$16\r\n# Latencystats\r\n\r\n"


def test_percentile_errors_like_redis(lockstep: Any) -> None:
    for value in ("101", "-1", "abc", "50 x", "50.0000 99 99.90"):
        lockstep.same("CONFIG", "SET", "latency-tracking-info-percentiles", value)
        lockstep.same("CONFIG", "GET", "latency-tracking-info-percentiles")
    lockstep.same("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")


def test_percentiles_follow_the_levels() -> None:
    counts = [0] * 64
    counts[0], counts[3] = 99, 1  # 99 calls under 1.032 us, one of 4.128 to 8.255 us
    assert value_at_percentile(counts, 50) == value_at_percentile(counts, 99) == 1.031
    assert value_at_percentile(counts, 99.9) == value_at_percentile(counts, 100) == 8.255
    assert value_at_percentile(counts, 0) == 0.0
