"""latency-monitor-threshold and LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR: the same
assertions on redis-server 7.0.15 and respd (fixture ``each``)."""

from __future__ import annotations

import redis


def test_slow_command_is_an_event(each) -> None:
    r = redis.Redis(port=each.port)
    try:
        r.latency_reset()
        r.config_set("latency-monitor-threshold", 0)
        r.execute_command("DEBUG", "SLEEP", "0.12")
        assert r.execute_command("LATENCY", "LATEST") == []
        r.config_set("latency-monitor-threshold", 100)
        r.execute_command("DEBUG", "SLEEP", "0.12")
        latest = r.execute_command("LATENCY", "LATEST")
        assert len(latest) == 1 and latest[0][0] == b"command"
        assert 120 <= latest[0][2] == latest[0][3] < 1000
        history = r.execute_command("LATENCY", "HISTORY", "command")
        assert len(history) == 1 and history[0][1] == latest[0][2]
        assert r.execute_command("LATENCY", "HISTORY", "nothing") == []
        graph = r.execute_command("LATENCY", "GRAPH", "command")
        assert graph.startswith(b"command - high ")
        assert b"latency spikes" in r.execute_command("LATENCY", "DOCTOR")
        assert r.execute_command("LATENCY", "RESET", "nothing", "command") == 1
        assert r.execute_command("LATENCY", "LATEST") == []
    finally:
        r.config_set("latency-monitor-threshold", 0)
        r.close()
