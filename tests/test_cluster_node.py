"""Cluster directives on one or two respd nodes: announced addresses, coverage rules,
reads while down, failure detection after cluster-node-timeout."""

from __future__ import annotations

from typing import Callable

import pytest

from conftest import ServerProcess, free_port, wait_until

pytestmark = pytest.mark.slow


def _node(spawn: Callable[..., ServerProcess], *extra: str) -> ServerProcess:
    return spawn("respd", "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                 *extra)


def _err(fn: Callable[[], object]) -> str:
    with pytest.raises(Exception) as info:
        fn()
    return str(info.value)


def test_announced_address(spawn: Callable[..., ServerProcess]) -> None:
    node = _node(spawn, "--cluster-announce-ip", "10.1.2.3", "--cluster-announce-port",
                 "7777", "--cluster-announce-bus-port", "17777")
    line = node.client().execute_command("CLUSTER", "NODES").decode().split()
    assert line[1] == "10.1.2.3:7777@17777" and line[2] == "myself,master"


def test_full_coverage_and_reads_when_down(spawn: Callable[..., ServerProcess]) -> None:
    node = _node(spawn)
    c = node.client()
    c.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    wait_until(lambda: b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO"), "ok")
    c.set("foo", "bar")
    c.execute_command("CLUSTER", "DELSLOTS", 5)
    assert b"cluster_state:fail" in c.execute_command("CLUSTER", "INFO")
    assert _err(lambda: c.get("foo")) == "The cluster is down"
    c.config_set("cluster-allow-reads-when-down", "yes")
    assert c.get("foo") == b"bar"
    assert _err(lambda: c.set("foo", "x")) == (
        "The cluster is down and only accepts read commands")
    c.config_set("cluster-require-full-coverage", "no")
    wait_until(lambda: b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO"), "ok")
    assert c.set("foo", "x")
    slot5 = next(k for k in (f"k{i}" for i in range(100000))
                 if c.execute_command("CLUSTER", "KEYSLOT", k) == 5)
    assert _err(lambda: c.get(slot5)) == "Hash slot not served"


def test_node_timeout_marks_peer_failing(spawn: Callable[..., ServerProcess]) -> None:
    a = _node(spawn, "--cluster-node-timeout", "1000")
    b = _node(spawn, "--cluster-node-timeout", "1000")
    ca = a.client()
    bus_b = b.argv[b.argv.index("--cluster-port") + 1]
    ca.execute_command("CLUSTER", "MEET", "127.0.0.1", b.port, bus_b)
    b_id = b.client().execute_command("CLUSTER", "MYID").decode()

    def flags() -> str:
        for line in ca.execute_command("CLUSTER", "NODES").decode().splitlines():
            if line.startswith(b_id):
                return line.split()[2]
        return ""

    wait_until(lambda: flags() == "master", "the handshake")
    b.stop()
    wait_until(lambda: "fail" in flags(), "failure detection", timeout=10)
