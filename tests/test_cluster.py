"""Redis Cluster: respd nodes built and checked by redis-cli --cluster, used by redis-py's
RedisCluster, resharded with MIGRATE, and mixed with a redis-server node on one bus."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any, Callable

import hiredis
import pytest

from conftest import ServerProcess, free_port, wait_until

pytestmark = pytest.mark.slow


def _node(spawn: Callable[..., ServerProcess], kind: str = "respd") -> ServerProcess:
    return spawn(kind, "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                 "--cluster-node-timeout", "5000")


def _cli(tool: Callable[[str], str], *args: str, timeout: float = 30) -> str:
    out = subprocess.run([tool("redis-cli"), *args], capture_output=True, text=True,
                         timeout=timeout)
    return out.stdout + out.stderr


def _create(tool: Callable[[str], str], nodes: list[ServerProcess]) -> None:
    out = _cli(tool, "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in nodes],
               "--cluster-yes")
    assert "[OK] All 16384 slots covered." in out, out
    for n in nodes:
        wait_until(lambda n=n: b"cluster_state:ok" in n.client().execute_command(
            "CLUSTER", "INFO"), "cluster_state:ok")


def _check(tool: Callable[[str], str], node: ServerProcess) -> str:
    out = _cli(tool, "--cluster", "check", f"127.0.0.1:{node.port}")
    assert "[OK] All nodes agree about slots configuration." in out, out
    assert "[OK] All 16384 slots covered." in out, out
    assert "[ERR]" not in out and "[WARNING]" not in out, out
    return out


@pytest.fixture
def three(spawn: Callable[..., ServerProcess], tool: Callable[[str], str]) -> list[Any]:
    nodes = [_node(spawn) for _ in range(3)]
    _create(tool, nodes)
    return nodes


def test_create_and_check(three: list[ServerProcess], tool: Callable[[str], str]) -> None:
    _check(tool, three[0])
    views = []
    for n in three:
        c = n.client()
        lines = c.execute_command("CLUSTER", "NODES").decode().splitlines()
        assert len(lines) == 3
        views.append(sorted((ln.split()[0], tuple(ln.split()[8:])) for ln in lines))
        info = c.execute_command("CLUSTER", "INFO").decode()
        assert "cluster_known_nodes:3" in info and "cluster_size:3" in info
        slots = c.execute_command("CLUSTER", "SLOTS")
        assert sorted((s[0], s[1]) for s in slots) == [(0, 5460), (5461, 10922),
                                                        (10923, 16383)]
        assert len(c.execute_command("CLUSTER", "SHARDS")) == 3
    assert views[0] == views[1] == views[2]


def test_redis_py_cluster_and_redirections(three: list[ServerProcess]) -> None:
    from redis.cluster import RedisCluster

    rc = RedisCluster(host="127.0.0.1", port=three[0].port)
    try:
        for i in range(100):
            rc.set(f"key:{i}", i)
        assert [rc.get(f"key:{i}") for i in range(100)] == [b"%d" % i for i in range(100)]
        rc.mset({"{u1}a": "1", "{u1}b": "2"})
        assert rc.mget("{u1}a", "{u1}b") == [b"1", b"2"]
        pipe = rc.pipeline()
        for i in range(20):
            pipe.incr(f"counter:{i}")
        assert pipe.execute() == [1] * 20
    finally:
        rc.close()
    c = three[0].client()
    slot = c.execute_command("CLUSTER", "KEYSLOT", "foo")
    assert slot == 12182
    replies = [_raw(n.port, b"GET", b"foo") for n in three]
    moved = [r for r in replies if r.startswith(b"-")]
    assert len(moved) == 2
    owner = next(n for n, r in zip(three, replies) if not r.startswith(b"-"))
    assert all(m == b"-MOVED 12182 127.0.0.1:%d\r\n" % owner.port for m in moved)
    assert _raw(three[0].port, b"MGET", b"a", b"b") == (
        b"-CROSSSLOT Keys in request don't hash to the same slot\r\n")
    assert _raw(three[0].port, b"SELECT", b"1") == (
        b"-ERR SELECT is not allowed in cluster mode\r\n")


def test_reshard_moves_keys_with_migrate(three: list[ServerProcess],
                                         tool: Callable[[str], str]) -> None:
    src, dst = three[0], three[1]
    c = src.client()
    keys = [k for k in (f"k{i}" for i in range(3000))
            if c.execute_command("CLUSTER", "KEYSLOT", k) < 100][:20]
    for k in keys:
        c.set(k, k, ex=1000)
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    out = _cli(tool, "--cluster", "reshard", f"127.0.0.1:{src.port}", "--cluster-from",
               src.client().execute_command("CLUSTER", "MYID").decode(), "--cluster-to",
               dst_id, "--cluster-slots", "100", "--cluster-yes", timeout=60)
    assert "Moving slot 99" in out, out
    for n in three:
        wait_until(lambda n=n: _moved(n, dst_id), "slots 0-99 owned by the target")
    _check(tool, src)
    d = dst.client()
    assert sorted(k.decode() for k in d.keys()) == sorted(keys)
    assert all(0 < d.ttl(k) <= 1000 for k in keys)
    assert c.dbsize() == 0


def _raw(port: int, *args: bytes) -> bytes:
    """The reply's bytes (redis-py rewrites redirection errors)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        reader, data = hiredis.Reader(), b""
        while True:
            chunk = sock.recv(65536)
            assert chunk, "connection closed"
            data += chunk
            reader.feed(chunk)
            if reader.gets() is not False:
                return data


def _moved(node: ServerProcess, owner: str) -> bool:
    for line in node.client().execute_command("CLUSTER", "NODES").decode().splitlines():
        fields = line.split()
        if fields[0] == owner:
            return "0-99" in fields[8:] or any(f.startswith("0-") for f in fields[8:])
    return False


def test_mixed_cluster_with_redis_server(spawn: Callable[..., ServerProcess],
                                         tool: Callable[[str], str]) -> None:
    nodes = [_node(spawn, "redis"), _node(spawn), _node(spawn)]
    _create(tool, nodes)
    out = _check(tool, nodes[1])
    assert out.count("slots:[") == 3
    from redis.cluster import RedisCluster

    rc = RedisCluster(host="127.0.0.1", port=nodes[1].port)
    try:
        for i in range(60):
            rc.set(f"m:{i}", i)
        assert [rc.get(f"m:{i}") for i in range(60)] == [b"%d" % i for i in range(60)]
    finally:
        rc.close()
    assert nodes[0].client().dbsize() > 0  # redis-server serves its share


def test_nodes_conf_reloaded_on_restart(spawn: Callable[..., ServerProcess]) -> None:
    node = spawn("respd", "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                 "--cluster-config-file", "my-nodes.conf")
    c = node.client()
    c.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 99)
    c.execute_command("CLUSTER", "SET-CONFIG-EPOCH", 7)
    myid = c.execute_command("CLUSTER", "MYID")
    with open(os.path.join(node.workdir, "my-nodes.conf")) as f:
        text = f.read()
    assert text.endswith("vars currentEpoch 7 lastVoteEpoch 0\n")
    node.stop()
    node.start()
    c = node.client()
    assert c.execute_command("CLUSTER", "MYID") == myid
    line = c.execute_command("CLUSTER", "NODES").decode().split()
    assert line[6] == "7" and line[8] == "0-99"


def test_add_node_and_del_node(three: list[ServerProcess], spawn: Callable[..., ServerProcess],
                               tool: Callable[[str], str]) -> None:
    new = _node(spawn)
    out = _cli(tool, "--cluster", "add-node", f"127.0.0.1:{new.port}",
               f"127.0.0.1:{three[0].port}")
    assert "[OK] New node added correctly." in out, out
    new_id = new.client().execute_command("CLUSTER", "MYID")
    for n in three:
        wait_until(lambda n=n: new_id in n.client().execute_command("CLUSTER", "NODES"),
                   "the new node gossiped to every node")
    wait_until(lambda: len(new.client().execute_command("CLUSTER", "NODES").splitlines())
               == 4, "the new node knows everyone")
    assert _check(tool, new).count("M: ") == 4
    out = _cli(tool, "--cluster", "del-node", f"127.0.0.1:{three[0].port}", new_id.decode())
    assert "SHUTDOWN" in out or "Sending CLUSTER RESET SOFT" in out, out
    for n in three:
        assert new_id not in n.client().execute_command("CLUSTER", "NODES")
    assert _check(tool, three[1]).count("M: ") == 3
