"""Redis Cluster on one machine: a narrated run.

    python examples/cluster.py

1. Six respd processes start in cluster mode.  Three become primaries, each serving a
   third of the 16,384 hash slots; the other three become their replicas with CLUSTER
   REPLICATE (the cluster bus is Redis 7.0's, so redis-cli and redis-server nodes could
   join too).
2. redis-py's RedisCluster, unchanged, talks to the cluster: six order streams land on
   slots served by different primaries; a producer appends to them and one consumer per
   stream reads them in a consumer group and acknowledges (XREADGROUP/XACK).
3. The primary serving the first stream is killed (SIGKILL).  The other primaries mark it
   FAIL, its replica wins an election and takes its slots; the client follows the new
   slot map and production and consumption go on.  The demo reports how long each step
   took and whether any acknowledged write was lost.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import redis
from redis.cluster import RedisCluster

from demo_support import free_port, say

NODE_TIMEOUT_MS = 1000  # cluster-node-timeout: failure detection in about a second
WAIT = 30.0  # bound on every wait in the demo
STREAMS = [f"orders:{region}" for region in ("eu", "us", "asia", "africa", "oceania", "sa")]


class Node:
    """One respd cluster node in its own directory (its nodes.conf lives there)."""

    def __init__(self, root: str, index: int) -> None:
        self.port = free_port()
        self.bus_port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"node{index}-", dir=root)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "respd", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--cluster-enabled", "yes",
             "--cluster-port", str(self.bus_port),
             "--cluster-node-timeout", str(NODE_TIMEOUT_MS)],
            cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port, socket_timeout=5)

    def call(self, *args: Any) -> Any:
        return self.client.execute_command(*args)

    @property
    def id(self) -> str:
        return self.call("CLUSTER", "MYID").decode()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def until(predicate: Any, what: str) -> float:
    """Wait for predicate() to hold; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < WAIT:
        try:
            if predicate():
                return time.monotonic() - start
        except redis.RedisError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def build(nodes: list[Node]) -> None:
    primaries, replicas = nodes[:3], nodes[3:]
    bounds = [(0, 5460), (5461, 10922), (10923, 16383)]
    for epoch, (node, (first, last)) in enumerate(zip(primaries, bounds), start=1):
        node.call("CLUSTER", "ADDSLOTSRANGE", first, last)
        node.call("CLUSTER", "SET-CONFIG-EPOCH", epoch)
        say(f"  primary :{node.port} serves slots {first}-{last}")
    for node in nodes[1:]:
        nodes[0].call("CLUSTER", "MEET", "127.0.0.1", node.port, node.bus_port)
    until(lambda: all(len(n.call("CLUSTER", "NODES").splitlines()) == 6 for n in nodes),
          "every node to know every other")
    for replica, primary in zip(replicas, primaries):
        until(lambda r=replica, p=primary: r.call("CLUSTER", "REPLICATE", p.id), "REPLICATE")
        say(f"  replica :{replica.port} follows :{primary.port} (CLUSTER REPLICATE)")
    until(lambda: all(b"cluster_state:ok" in n.call("CLUSTER", "INFO") for n in nodes)
          and all(r.client.info("replication")["master_link_status"] == "up"
                  for r in replicas), "the cluster to be ok and the replicas in sync")


def main() -> None:
    root = tempfile.mkdtemp(prefix="respd-cluster-demo-")
    nodes: list[Node] = []
    stop = threading.Event()
    try:
        say("1. Six respd nodes in cluster mode, three primaries and three replicas:")
        nodes = [Node(root, i) for i in range(6)]
        for node in nodes:
            until(node.client.ping, f"node :{node.port} to start")
        build(nodes)
        by_port = {n.port: n for n in nodes}

        say("\n2. RedisCluster (redis-py, unchanged) spreads six order streams over slots:")
        rc = RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=2)
        owner: dict[str, Node] = {}
        for stream in STREAMS:
            slot = rc.keyslot(stream)
            port = rc.get_node_from_key(stream).port
            owner[stream] = by_port[port]
            rc.xgroup_create(stream, "shipping", id="0", mkstream=True)
            say(f"  {stream:16} slot {slot:5} on :{port}")
        produced: dict[str, list[bytes]] = {s: [] for s in STREAMS}
        acked: dict[str, set[bytes]] = {s: set() for s in STREAMS}
        errors = {"producer": 0, "consumers": 0}

        def producer() -> None:
            n = 0
            while not stop.is_set():
                stream = STREAMS[n % len(STREAMS)]
                try:
                    produced[stream].append(rc.xadd(stream, {"order": n}))
                    n += 1
                except redis.RedisError:
                    errors["producer"] += 1  # during the failover: retried with the next
                    time.sleep(0.05)
                time.sleep(0.002)

        def consumer(stream: str) -> None:
            client = RedisCluster(host="127.0.0.1", port=nodes[1].port, socket_timeout=2)
            while not stop.is_set():
                try:
                    got = client.xreadgroup("shipping", "worker", {stream: ">"}, count=50,
                                            block=100)
                    for _, entries in got or []:
                        ids = [entry_id for entry_id, _ in entries]
                        if ids:
                            client.xack(stream, "shipping", *ids)
                            acked[stream].update(ids)
                except redis.RedisError:
                    errors["consumers"] += 1
                    time.sleep(0.05)
            client.close()

        threads = [threading.Thread(target=producer)] + [
            threading.Thread(target=consumer, args=(s,)) for s in STREAMS]
        for t in threads:
            t.start()
        until(lambda: sum(map(len, acked.values())) >= 300, "orders to flow")
        say(f"  orders flowing: {sum(map(len, produced.values()))} produced, "
            f"{sum(map(len, acked.values()))} acknowledged by consumers")

        victim = owner[STREAMS[0]]
        replica = nodes[3 + nodes.index(victim)]
        say(f"\n3. SIGKILL to primary :{victim.port} (serving {STREAMS[0]}); "
            f"its replica is :{replica.port}")
        before = len(produced[STREAMS[0]])
        victim_id = victim.id
        witness = nodes[1] if victim is not nodes[1] else nodes[2]

        def flags() -> list[str]:
            for line in witness.call("CLUSTER", "NODES").decode().splitlines():
                if line.startswith(victim_id):
                    return line.split()[2].split(",")
            return []

        killed = time.monotonic()
        victim.stop(signal.SIGKILL)
        failed = until(lambda: "fail" in flags(), "the FAIL flag")
        say(f"  after {failed:.1f} s the primaries mark it FAIL (node timeout "
            f"{NODE_TIMEOUT_MS} ms, then a majority of failure reports)")
        until(lambda: replica.client.execute_command("ROLE")[0] == b"master", "the promotion")
        say(f"  after {time.monotonic() - killed:.1f} s its replica has won the election "
            "(FAILOVER_AUTH_REQUEST/ACK on the bus) and serves the slots")
        until(lambda: len(produced[STREAMS[0]]) > before + 20, "writes to the moved slots")
        resumed = time.monotonic() - killed
        say(f"  after {resumed:.1f} s the producer writes to {STREAMS[0]} again "
            f"(RedisCluster refreshed its slot map); {errors['producer']} failed attempts "
            "in between")
        time.sleep(1)  # let the consumers catch up with what was produced meanwhile
        stop.set()
        for t in threads:
            t.join(10)
        total = sum(map(len, produced.values()))
        missing = {s: len(set(produced[s]) - set(
            entry_id for entry_id, _ in rc.xrange(s))) for s in STREAMS}
        say(f"\n  {total} orders produced, {sum(map(len, acked.values()))} consumed and "
            f"acknowledged; acknowledged writes lost in the failover: {sum(missing.values())}")
        say("  (replication is asynchronous, as in Redis: a write acknowledged by a primary "
            "in the instant before it died can be lost; WAIT narrows that window)")
        rc.close()
    finally:
        stop.set()
        for node in nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
