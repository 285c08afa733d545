"""The cluster as this node sees it: the node table, the slot map, epochs, open slots.

Facts follow Redis 7.0's cluster.c (flags, CLUSTER NODES line format, epochs, the rule
that a slot moves to a master claiming it with a greater config epoch); the code is ours.
"""

from __future__ import annotations

import os
import time
from typing import Any

from respd.storage.slots import N_SLOTS

# Node flags (Redis's CLUSTER_NODE_*), also their bus encoding.
MASTER, SLAVE, PFAIL, FAIL, MYSELF, HANDSHAKE, NOADDR, MEET, MIGRATE_TO, NOFAILOVER = (
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_FLAG_NAMES = ((MYSELF, "myself"), (MASTER, "master"), (SLAVE, "slave"), (PFAIL, "fail?"),
               (FAIL, "fail"), (HANDSHAKE, "handshake"), (NOADDR, "noaddr"),
               (NOFAILOVER, "nofailover"))
NULL_NAME = b"\0" * 40


def random_name() -> str:
    return os.urandom(20).hex()


def now_ms() -> int:
    return int(time.time() * 1000)


class Node:
    """One cluster member (Redis's clusterNode)."""

    def __init__(self, name: str, flags: int, ip: str = "", port: int = 0,
                 cport: int = 0) -> None:
        self.name = name
        self.flags = flags
        self.ip = ip
        self.port = port
        self.cport = cport
        self.config_epoch = 0
        self.slots = bytearray(N_SLOTS // 8)  # the bitmap the bus carries
        self.num_slots = 0
        self.master: Node | None = None  # for a replica
        self.ping_sent = 0
        self.pong_received = 0
        self.ctime = now_ms()
        self.link: Any = None  # outgoing bus connection (bus.Link)
        self.fail_reports: dict[str, int] = {}  # reporter name -> time
        self.fail_time = 0
        self.repl_offset = 0  # the replication offset its last message carried
        self.voted_time = 0  # a primary: when we last voted for one of its replicas

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)

    def owns(self, slot: int) -> bool:
        return bool(self.slots[slot >> 3] & (1 << (slot & 7)))

    def flag_names(self) -> str:
        names = [n for bit, n in _FLAG_NAMES if self.flags & bit]
        return ",".join(names) if names else "noflags"

    def addr(self) -> str:
        return f"{self.ip}:{self.port}@{self.cport}"


class ClusterState:
    def __init__(self, config: Any) -> None:
        self.config = config
        self.myself = Node(random_name(), MYSELF | MASTER)
        self.myself.port = config.cluster_announce_port or config.port
        self.myself.cport = config.cluster_announce_bus_port or _bus_port(config)
        self.myself.ip = config.cluster_announce_ip
        self.nodes: dict[str, Node] = {self.myself.name: self.myself}
        self.slots: list[Node | None] = [None] * N_SLOTS
        self.importing: dict[int, Node] = {}
        self.migrating: dict[int, Node] = {}
        self.current_epoch = 0
        self.last_vote_epoch = 0
        self.ok = False
        self.blacklist: dict[str, float] = {}  # FORGET: name -> until (monotonic s)
        self.changed = False  # nodes.conf must be rewritten
        self.stats_sent = [0] * 11
        self.stats_received = [0] * 11
        self.update_state()

    # --- slots ---------------------------------------------------------------------------

    def add_slot(self, node: Node, slot: int) -> None:
        old = self.slots[slot]
        if old is node:
            return
        if old is not None:
            self.del_slot(slot)
        self.slots[slot] = node
        node.slots[slot >> 3] |= 1 << (slot & 7)
        node.num_slots += 1
        self.changed = True

    def del_slot(self, slot: int) -> None:
        node = self.slots[slot]
        if node is None:
            return
        self.slots[slot] = None
        node.slots[slot >> 3] &= ~(1 << (slot & 7)) & 0xFF
        node.num_slots -= 1
        self.changed = True

    def slot_ranges(self, node: Node) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        start = -1
        for slot in range(N_SLOTS + 1):
            owned = slot < N_SLOTS and self.slots[slot] is node
            if owned and start < 0:
                start = slot
            elif not owned and start >= 0:
                ranges.append((start, slot - 1))
                start = -1
        return ranges

    # --- nodes ---------------------------------------------------------------------------

    def add_node(self, node: Node) -> None:
        self.nodes[node.name] = node
        self.changed = True

    def rename(self, node: Node, name: str) -> None:
        del self.nodes[node.name]
        node.name = name
        self.nodes[name] = node
        self.changed = True

    def remove_node(self, node: Node) -> None:
        for slot in range(N_SLOTS):
            if self.slots[slot] is node:
                self.del_slot(slot)
            if self.importing.get(slot) is node:
                del self.importing[slot]
            if self.migrating.get(slot) is node:
                del self.migrating[slot]
        for other in self.nodes.values():
            other.fail_reports.pop(node.name, None)
            if other.master is node:
                other.master = None
        if node.link is not None:
            node.link.close()
        self.nodes.pop(node.name, None)
        self.changed = True

    def masters(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.has(MASTER)]

    def size(self) -> int:
        """Masters serving at least one slot (cluster_size)."""
        return sum(1 for n in self.masters() if n.num_slots)

    def update_state(self) -> None:
        """Redis's clusterUpdateState: ok unless a slot is unserved or served by a failed
        node (with cluster-require-full-coverage), or this node is in a minority."""
        ok = True
        if self.config.cluster_require_full_coverage:
            for node in self.slots:
                if node is None or node.has(FAIL):
                    ok = False
                    break
        size = self.size()
        if ok and size:
            reachable = sum(1 for n in self.masters()
                            if n.num_slots and not n.has(FAIL | PFAIL))
            ok = reachable >= size // 2 + 1
        self.ok = ok

    def max_epoch(self) -> int:
        return max(self.current_epoch, *(n.config_epoch for n in self.nodes.values()))

    def bump_epoch(self, force: bool) -> bool:
        """A new config epoch without consensus (CLUSTER BUMPEPOCH, importing a slot,
        FAILOVER TAKEOVER) unless ours is already the greatest and unique."""
        me = self.myself
        if force or me.config_epoch == 0 or me.config_epoch != self.max_epoch() or any(
                n.config_epoch == me.config_epoch for n in self.nodes.values() if n is not me):
            self.current_epoch += 1
            me.config_epoch = self.current_epoch
            self.changed = True
            return True
        return False

    # --- CLUSTER NODES -------------------------------------------------------------------

    def node_line(self, node: Node) -> str:
        master = node.master.name if node.master is not None else "-"
        link = "connected" if node.has(MYSELF) or (
            node.link is not None and node.link.connected) else "disconnected"
        # A replica shows its primary's config epoch.
        epoch = node.master.config_epoch if node.has(SLAVE) and node.master else node.config_epoch
        parts = [node.name, node.addr(), node.flag_names(), master, str(node.ping_sent),
                 str(node.pong_received), str(epoch), link]
        for start, end in self.slot_ranges(node):
            parts.append(str(start) if start == end else f"{start}-{end}")
        if node.has(MYSELF):
            for slot, other in sorted(self.migrating.items()):
                parts.append(f"[{slot}->-{other.name}]")
            for slot, other in sorted(self.importing.items()):
                parts.append(f"[{slot}-<-{other.name}]")
        return " ".join(parts)

    def nodes_text(self) -> str:
        return "".join(self.node_line(n) + "\n" for n in self.nodes.values())


def _bus_port(config: Any) -> int:
    return config.cluster_port or config.port + 10000
