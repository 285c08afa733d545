"""Replicas inside a cluster: redis-cli --cluster create --cluster-replicas 1, READONLY
reads, automatic failover after kill -9 of a primary (with redis-py's RedisCluster
following), CLUSTER FAILOVER [FORCE|TAKEOVER], the replica directives, and elections
between respd and redis-server nodes."""

from __future__ import annotations

import subprocess
import time
from typing import Any, Callable

import pytest

from conftest import ServerProcess, free_port, wait_until

pytestmark = pytest.mark.slow

# cluster-node-timeout: failure detection in a couple of seconds, yet no false alarm when
# the shared machine is slow to answer a ping.
TIMEOUT_MS = 2000


def _node(spawn: Callable[..., ServerProcess], *extra: str, kind: str = "respd",
          timeout_ms: int = TIMEOUT_MS) -> ServerProcess:
    return spawn(kind, "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                 "--cluster-node-timeout", str(timeout_ms), *extra)


def _cli(tool: Callable[[str], str], *args: str) -> str:
    out = subprocess.run([tool("redis-cli"), *args], capture_output=True, text=True,
                         timeout=60)
    return out.stdout + out.stderr


def _myid(node: ServerProcess) -> str:
    return node.client().execute_command("CLUSTER", "MYID").decode()


def _nodes(node: ServerProcess) -> dict[str, list[str]]:
    """CLUSTER NODES as id -> fields."""
    lines = node.client().execute_command("CLUSTER", "NODES").decode().splitlines()
    return {line.split()[0]: line.split() for line in lines}


def _role(node: ServerProcess) -> bytes:
    return node.client().execute_command("ROLE")[0]


def _replica_of(node: ServerProcess, master: ServerProcess) -> bool:
    mine = _nodes(node)[_myid(node)]
    return "slave" in mine[2] and mine[3] == _myid(master)


def _check(tool: Callable[[str], str], node: ServerProcess) -> str:
    out = _cli(tool, "--cluster", "check", f"127.0.0.1:{node.port}")
    assert "[OK] All nodes agree about slots configuration." in out, out
    assert "[OK] All 16384 slots covered." in out, out
    assert "[ERR]" not in out and "[WARNING]" not in out, out
    return out


def _slots_view(node: ServerProcess) -> list[tuple[str, str, tuple[str, ...]]]:
    """Who serves which slots, and the config epochs, as one node sees it."""
    return sorted((name, f[6], tuple(f[8:])) for name, f in _nodes(node).items()
                  if "master" in f[2])


def _meet(nodes: list[ServerProcess]) -> None:
    """Everyone meets the first node, then waits until all know all and agree about
    the slots (a node learns a primary's slots from that primary's own messages)."""
    first = nodes[0].client()
    for n in nodes[1:]:
        bus = n.argv[n.argv.index("--cluster-port") + 1]
        first.execute_command("CLUSTER", "MEET", "127.0.0.1", n.port, bus)
    wait_until(lambda: all(len(_nodes(n)) == len(nodes) and not any(
        "handshake" in f[2] for f in _nodes(n).values()) for n in nodes)
        and all(_slots_view(n) == _slots_view(nodes[0]) for n in nodes[1:]),
        "the nodes met and agree", timeout=30)


def _primary_with_replica(spawn: Callable[..., ServerProcess],
                          kind: str = "respd") -> tuple[ServerProcess, ServerProcess]:
    """One primary serving every slot and one replica (a manual failover needs no other
    voter: the primary votes for its own replica)."""
    primary, replica = _node(spawn), _node(spawn, kind=kind)
    primary.client().execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    _meet([primary, replica])
    assert replica.client().execute_command("CLUSTER", "REPLICATE", _myid(primary)) == b"OK"
    wait_until(lambda: _replica_of(replica, primary)
               and "slave" in _nodes(primary)[_myid(replica)][2], "the replica known as one")
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up",
               "the replication link", timeout=30)
    return primary, replica


def test_create_with_replicas_kill_a_primary(spawn: Callable[..., ServerProcess],
                                            tool: Callable[[str], str]) -> None:
    from redis.cluster import RedisCluster
    from redis.exceptions import MovedError

    nodes = [_node(spawn) for _ in range(6)]
    out = _cli(tool, "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in nodes],
               "--cluster-replicas", "1", "--cluster-yes")
    assert "[OK] All 16384 slots covered." in out, out
    for n in nodes:
        wait_until(lambda n=n: b"cluster_state:ok" in n.client().execute_command(
            "CLUSTER", "INFO") and sum("slave" in f[2] for f in _nodes(n).values()) == 3,
            "every node sees three primaries and three replicas")
    out = _check(tool, nodes[0])
    assert out.count("M: ") == 3 and out.count("S: ") == 3 and out.count("replicates ") == 3
    ids = {_myid(n): n for n in nodes}
    pairs = [(ids[f[3]], ids[name]) for name, f in _nodes(nodes[0]).items()
             if "slave" in f[2]]
    assert len(pairs) == 3
    slots = nodes[0].client().execute_command("CLUSTER", "SLOTS")
    assert len(slots) == 3 and all(len(entry) == 4 for entry in slots)  # range, master, replica
    shards = nodes[0].client().execute_command("CLUSTER", "SHARDS")
    assert sorted(len(s.get("nodes") or s[b"nodes"]) for s in shards) == [2, 2, 2]
    by_port = {n.port: n for n in nodes}
    entry = next(e for e in slots if e[0] <= 12182 <= e[1])  # foo's slot
    primary, replica = by_port[entry[2][1]], by_port[entry[3][1]]
    primary_id = _myid(primary)
    assert [line.split()[0].decode() for line in primary.client().execute_command(
        "CLUSTER", "REPLICAS", primary_id)] == [_myid(replica)]
    assert replica.client().info("replication")["role"] == "slave"

    rc = RedisCluster(host="127.0.0.1", port=nodes[0].port)
    try:
        for i in range(200):
            rc.set(f"key:{i}", i)
        rc.set("foo", "bar")
        # A replica answers reads after READONLY, redirects writes to its primary.
        primary.client().execute_command("WAIT", 1, 5000)
        r = replica.client()
        moved = f"12182 127.0.0.1:{primary.port}"
        with pytest.raises(MovedError, match=moved):
            r.get("foo")
        pipe = r.pipeline(transaction=False)
        pipe.execute_command("READONLY").get("foo").set("foo", "x")
        got = pipe.execute(raise_on_error=False)
        assert got[:2] == [True, b"bar"] and type(got[2]) is MovedError and str(got[2]) == moved
        for p, _ in pairs:
            p.client().execute_command("WAIT", 1, 5000)

        primary.stop("kill")
        wait_until(lambda: _role(replica) == b"master", "the replica's promotion",
                   timeout=30 * TIMEOUT_MS / 1000)
        survivors = [n for n in nodes if n is not primary]
        wait_until(lambda: all(_nodes(n)[_myid(replica)][2].endswith("master")
                               and "fail" in _nodes(n)[primary_id][2].split(",")
                               for n in survivors), "every node knows the new primary",
                   timeout=30)
        # The client follows: every write acknowledged before the kill is there.
        deadline = time.monotonic() + 20
        while True:
            try:
                values = [rc.get(f"key:{i}") for i in range(200)]
                rc.set("after", "failover")
                break
            except Exception:
                assert time.monotonic() < deadline, "RedisCluster did not follow"
        assert values == [b"%d" % i for i in range(200)] and rc.get("foo") == b"bar"
        assert rc.get("after") == b"failover"
    finally:
        rc.close()
    # The old primary comes back as a replica of the node that took its slots.
    primary.start()
    wait_until(lambda: _replica_of(primary, replica)
               and "slave" in _nodes(replica)[primary_id][2].split(","),
               "the old primary follows", timeout=30)
    wait_until(lambda: primary.client().info("replication")["master_link_status"] == "up",
               "its replication link")
    out = _check(tool, replica)
    assert out.count("M: ") == 3 and out.count("S: ") == 3


def test_manual_failover_demotes_the_primary(spawn: Callable[..., ServerProcess]) -> None:
    primary, replica = _primary_with_replica(spawn)
    # Sharded pub/sub reaches the shard's other node over the bus, both ways; a replica
    # serves SSUBSCRIBE without READONLY.
    for publisher, listener in ((primary, replica), (replica, primary)):
        sub = listener.client().pubsub()
        sub.ssubscribe("news")
        assert sub.get_sharded_message(timeout=5)["type"] == "ssubscribe"
        assert publisher.client().spublish("news", f"from {publisher.port}") == 0
        msg = sub.get_sharded_message(timeout=5)
        assert msg is not None and msg["data"] == f"from {publisher.port}".encode()
        sub.close()
    c = primary.client()
    for i in range(100):
        c.set(f"k{i}", i)
    assert replica.client().execute_command("CLUSTER", "FAILOVER") == b"OK"
    # Both views converge before the next failover (a primary only votes for a node it
    # knows as its replica).
    wait_until(lambda: _role(replica) == b"master" and _replica_of(primary, replica)
               and "slave" in _nodes(replica)[_myid(primary)][2], "the roles swapped")
    wait_until(lambda: primary.client().info("replication")["master_link_status"] == "up",
               "the old primary replicates")
    r = replica.client()
    assert r.dbsize() == 100 and r.set("new", "1")
    primary.client().execute_command("READONLY")
    wait_until(lambda: primary.client().execute_command("DBSIZE") == 101, "replicated")
    epoch = int(_nodes(replica)[_myid(replica)][6])
    # FORCE: no handshake with the primary; TAKEOVER: no election either.
    for option, before in ((b"FORCE", replica), (b"TAKEOVER", primary)):
        after = primary if before is replica else replica
        assert after.client().execute_command("CLUSTER", "FAILOVER", option) == b"OK"
        wait_until(lambda after=after, before=before: _role(after) == b"master"
                   and _replica_of(before, after)
                   and "slave" in _nodes(after)[_myid(before)][2], f"FAILOVER {option.decode()}")
        new_epoch = int(_nodes(after)[_myid(after)][6])
        assert new_epoch > epoch
        epoch = new_epoch
    # The refusals, in Redis's words.
    master_c, replica_c = replica.client(), primary.client()
    with pytest.raises(Exception, match="You should send CLUSTER FAILOVER to a replica"):
        master_c.execute_command("CLUSTER", "FAILOVER")
    with pytest.raises(Exception, match="syntax error"):
        replica_c.execute_command("CLUSTER", "FAILOVER", "NOW")
    with pytest.raises(Exception, match="I can only replicate a master, not a replica."):
        master_c.execute_command("CLUSTER", "REPLICATE", _myid(primary))
    with pytest.raises(Exception, match="Can't replicate myself"):
        replica_c.execute_command("CLUSTER", "REPLICATE", _myid(primary))
    with pytest.raises(Exception, match="REPLICAOF not allowed in cluster mode."):
        replica_c.execute_command("REPLICAOF", "NO", "ONE")
    with pytest.raises(Exception, match="FAILOVER not allowed in cluster mode."):
        master_c.execute_command("FAILOVER")
    # CLUSTER RESET makes a replica an empty primary on its own.
    assert replica_c.execute_command("CLUSTER", "RESET") == b"OK"
    assert _role(primary) == b"master" and replica_c.dbsize() == 0
    assert list(_nodes(primary).values())[0][2] == "myself,master"


def test_replica_directives(spawn: Callable[..., ServerProcess],
                            tool: Callable[[str], str]) -> None:
    """cluster-replica-no-failover keeps a replica from running; a replica whose data is
    older than cluster-replica-validity-factor allows does not run either."""
    primaries = [_node(spawn, timeout_ms=1000) for _ in range(3)]
    # Data older than 1 s (the ping period) + 1 x node timeout is too old.
    replica = _node(spawn, "--cluster-replica-no-failover", "yes",
                    "--cluster-replica-validity-factor", "1", "--repl-ping-replica-period", "1",
                    timeout_ms=1000)
    out = _cli(tool, "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in primaries],
               "--cluster-yes")
    assert "[OK] All 16384 slots covered." in out, out
    _meet(primaries + [replica])
    target = primaries[0]
    replica.client().execute_command("CLUSTER", "REPLICATE", _myid(target))
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up",
               "the replication link", timeout=30)
    assert "nofailover" in _nodes(replica)[_myid(replica)][2]
    target_id = _myid(target)
    target.stop("kill")
    wait_until(lambda: "fail" in _nodes(replica)[target_id][2].split(","),
               "the primary marked FAIL")
    time.sleep(4)  # the replica's data ages past the validity limit (2 s)
    assert _role(replica) == b"slave"
    replica.client().config_set("cluster-replica-no-failover", "no")
    time.sleep(3)  # an election would have run by now
    assert _role(replica) == b"slave"  # too old to take over
    replica.client().config_set("cluster-replica-validity-factor", "0")
    wait_until(lambda: _role(replica) == b"master", "the promotion once any age is fine")
    assert "nofailover" not in _nodes(replica)[_myid(replica)][2]


@pytest.mark.parametrize("replica_kind", ["redis", "respd"])
def test_election_with_redis_server_nodes(spawn: Callable[..., ServerProcess],
                                          tool: Callable[[str], str],
                                          replica_kind: str) -> None:
    """A redis-server replica of a respd primary wins its election with respd votes, and
    a respd replica of a redis-server primary with redis-server votes."""
    voter_kind = "respd" if replica_kind == "redis" else "redis"
    target = _node(spawn, kind=voter_kind)
    voters = [_node(spawn, kind=voter_kind) for _ in range(2)]
    primaries = [target] + voters
    replica = _node(spawn, kind=replica_kind)
    out = _cli(tool, "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in primaries],
               "--cluster-yes")
    assert "[OK] All 16384 slots covered." in out, out
    _meet(primaries + [replica])
    replica.client().execute_command("CLUSTER", "REPLICATE", _myid(target))
    target.client().set("bar", "baz")  # slot 5061: the first primary's
    wait_until(lambda: replica.client().info("replication").get("master_link_status") == "up",
               "the replication link", timeout=30)
    target.client().execute_command("WAIT", 1, 5000)
    target.stop("kill")
    wait_until(lambda: _role(replica) == b"master", "the promotion", timeout=60)
    for n in voters:
        wait_until(lambda n=n: _nodes(n)[_myid(replica)][2] == "master"
                   and len(_nodes(n)[_myid(replica)]) > 8, "the voters see the new primary")
    r = replica.client()
    assert r.get("bar") == b"baz"
    assert _check(tool, replica).count("M: ") == 3


def test_cluster_demo_runs() -> None:
    """examples/cluster.py: six nodes, streams over slots, a primary killed, its replica
    promoted, the client following."""
    import re
    import sys
    from pathlib import Path

    demo = Path(__file__).resolve().parent.parent / "examples" / "cluster.py"
    done = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "its replica has won the election" in out, out
    assert re.search(r"the producer writes to orders:\w+ again", out), out
    produced = re.search(r"(\d+) orders produced, (\d+) consumed and acknowledged", out)
    assert produced is not None and int(produced[2]) > 300, out
