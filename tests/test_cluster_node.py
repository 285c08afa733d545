"""Cluster directives on one or two respd nodes: announced addresses, coverage rules,
reads while down, failure detection after cluster-node-timeout."""

from __future__ import annotations

import socket
from typing import Callable

import pytest

from conftest import ServerProcess, free_port, wait_until

pytestmark = pytest.mark.slow


def _node(spawn: Callable[..., ServerProcess], *extra: str,
          kind: str = "respd") -> ServerProcess:
    return spawn(kind, "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
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


def test_keys_in_slot_follow_writes(spawn: Callable[..., ServerProcess]) -> None:
    c = _node(spawn).client()
    c.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    slot = c.execute_command("CLUSTER", "KEYSLOT", "{t}")
    assert c.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    c.mset({"{t}a": 1, "{t}b": 2, "{t}c": 3})
    assert c.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 3
    c.delete("{t}b")
    c.set("{t}d", 4, px=1)
    wait_until(lambda: c.get("{t}d") is None, "expiry")
    assert sorted(c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)) == [b"{t}a",
                                                                              b"{t}c"]
    assert len(c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1)) == 1
    c.flushall()
    assert c.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0


def _pair(spawn: Callable[..., ServerProcess], kind: str,
          kind_b: str = "") -> tuple[ServerProcess, ...]:
    a, b = _node(spawn, kind=kind), _node(spawn, kind=kind_b or kind)
    ca, cb = a.client(), b.client()
    ca.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    bus_b = b.argv[b.argv.index("--cluster-port") + 1]
    ca.execute_command("CLUSTER", "MEET", "127.0.0.1", b.port, bus_b)
    a_id = ca.execute_command("CLUSTER", "MYID")
    b_id = cb.execute_command("CLUSTER", "MYID")
    wait_until(lambda: b"cluster_state:ok" in cb.execute_command("CLUSTER", "INFO")
               and a_id in ca.execute_command("CLUSTER", "NODES")
               and b_id in ca.execute_command("CLUSTER", "NODES"), "two nodes joined")
    return a, b


def test_redirections_match_redis(spawn: Callable[..., ServerProcess]) -> None:
    from test_cluster import _raw  # the raw reply bytes

    transcripts = []
    for kind in ("redis", "respd"):
        a, b = _pair(spawn, kind)
        ca, cb = a.client(), b.client()
        a_id, b_id = (n.client().execute_command("CLUSTER", "MYID") for n in (a, b))
        ca.set("{s}here", "v")
        slot = ca.execute_command("CLUSTER", "KEYSLOT", "{s}")
        ca.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", b_id)
        cb.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", a_id)
        replies = [
            _raw(a.port, b"GET", b"{s}here"),
            _raw(a.port, b"GET", b"{s}gone"),
            _raw(a.port, b"MGET", b"{s}here", b"{s}gone"),
            _raw(a.port, b"MGET", b"{s}here", b"other"),
            _raw(b.port, b"GET", b"{s}gone"),
            _raw(b.port, b"GET", b"foo"),
            _raw(a.port, b"EVAL", b"return 1", b"0"),
        ]
        replies.append(_exchange(b.port, b"*1\r\n$6\r\nASKING\r\n*2\r\n$3\r\nGET\r\n"
                                 b"$6\r\n{s}gone\r\n*2\r\n$3\r\nGET\r\n$6\r\n{s}gone\r\n", 3))
        # A transaction: a redirected command dooms it.
        replies.append(_exchange(b.port, b"*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nGET\r\n"
                                 b"$3\r\nfoo\r\n*1\r\n$4\r\nEXEC\r\n", 3))
        replies.append(_exchange(a.port, b"*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nGET\r\n"
                                 b"$3\r\nfoo\r\n*2\r\n$3\r\nGET\r\n$6\r\n{s}gone\r\n"
                                 b"*1\r\n$4\r\nEXEC\r\n", 4))
        replies.append(_raw(b.port, b"INFO", b"errorstats").split(b"\r\n", 1)[1])
        transcripts.append([r.replace(b":%d" % a.port, b":A").replace(b":%d" % b.port, b":B")
                            for r in replies])
    assert transcripts[1] == transcripts[0]
    assert transcripts[0][1].startswith(b"-ASK ")
    assert transcripts[0][8].startswith(b"+OK\r\n-MOVED ")


def _exchange(port: int, data: bytes, lines: int) -> bytes:
    """Send raw requests and read until the replies hold this many lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        got = b""
        while got.count(b"\r\n") < lines:
            chunk = sock.recv(4096)
            assert chunk
            got += chunk
    return got


def test_publish_crosses_the_bus_both_ways(spawn: Callable[..., ServerProcess]) -> None:
    a, b = _pair(spawn, "respd", "redis")  # a respd node and a redis-server node
    for publisher, listener in ((a, b), (b, a)):
        sub = listener.client().pubsub()
        sub.subscribe("news")
        assert sub.get_message(timeout=5)["type"] == "subscribe"
        publisher.client().publish("news", f"from {publisher.port}")
        msg = sub.get_message(timeout=5)
        assert msg is not None and msg["data"] == f"from {publisher.port}".encode()
        sub.close()


SCRIPT = [
    b"CLUSTER HELP", b"CLUSTER ADDSLOTSRANGE 0 16383", b"CLUSTER BUMPEPOCH",
    b"CLUSTER COUNTKEYSINSLOT 99999", b"CLUSTER COUNTKEYSINSLOT x",
    b"CLUSTER COUNTKEYSINSLOT 5", b"CLUSTER GETKEYSINSLOT 99999 1",
    b"CLUSTER GETKEYSINSLOT x 1", b"CLUSTER GETKEYSINSLOT 1 -1", b"CLUSTER ADDSLOTS 1",
    b"CLUSTER ADDSLOTS x", b"CLUSTER DELSLOTS 1 1", b"CLUSTER ADDSLOTSRANGE 5 1",
    b"CLUSTER DELSLOTSRANGE 1", b"CLUSTER SETSLOT 1 MIGRATING abc",
    b"CLUSTER SETSLOT 1 foo", b"CLUSTER SETSLOT 1 NODE", b"CLUSTER FORGET abc",
    b"CLUSTER MEET 1.2.3 4", b"CLUSTER MEET 127.0.0.1 abc", b"CLUSTER REPLICAS abc",
    b"CLUSTER COUNT-FAILURE-REPORTS abc", b"CLUSTER SET-CONFIG-EPOCH 5",
    b"CLUSTER RESET foo", b"CLUSTER KEYSLOT {a}b", b"CLUSTER FLUSHSLOTS", b"SET k v",
    b"CLUSTER RESET", b"SELECT 1", b"SELECT 0", b"ASKING", b"READONLY", b"READWRITE",
]


def test_cluster_replies_match_redis(spawn: Callable[..., ServerProcess]) -> None:
    from test_cluster import _raw

    transcripts = []
    for kind in ("redis", "respd"):
        node = _node(spawn, kind=kind)
        transcripts.append([_raw(node.port, *line.split()) for line in SCRIPT])
    for line, want, got in zip(SCRIPT, *transcripts):
        assert got == want, line


def test_announced_address_follows_config_set(spawn: Callable[..., ServerProcess]) -> None:
    c = _node(spawn).client()
    c.config_set("cluster-announce-ip", "10.9.8.7")
    c.config_set("cluster-announce-port", "6999")
    wait_until(lambda: c.execute_command("CLUSTER", "NODES").split()[1].startswith(
        b"10.9.8.7:6999@"), "the announced address")


def test_pipelined_requests_are_routed(spawn: Callable[..., ServerProcess]) -> None:
    node = _node(spawn)  # owns no slot: every key request is refused
    with socket.create_connection(("127.0.0.1", node.port), timeout=5) as sock:
        sock.sendall(b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n" * 3 + b"*1\r\n$4\r\nPING\r\n")
        got = b""
        while not got.endswith(b"+PONG\r\n"):
            chunk = sock.recv(4096)
            assert chunk
            got += chunk
    assert got == b"-CLUSTERDOWN Hash slot not served\r\n" * 3 + b"+PONG\r\n"
