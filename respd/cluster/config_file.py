"""nodes.conf (cluster-config-file) in Redis's format: one CLUSTER NODES line per node, then
`vars currentEpoch N lastVoteEpoch M`.  Written atomically (temporary file, fsync,
rename), read back at start-up."""

from __future__ import annotations

import os

from respd.storage.slots import N_SLOTS
from respd.cluster.state import MYSELF, SLAVE, ClusterState, Node

_FLAG_BITS = {"myself": MYSELF, "master": 1, "slave": SLAVE, "fail?": 4, "fail": 8,
              "handshake": 32, "noaddr": 64, "nofailover": 512, "noflags": 0}


class NodesConfError(Exception):
    pass


def save(state: ClusterState, path: str) -> None:
    text = state.nodes_text() + (
        f"vars currentEpoch {state.current_epoch} lastVoteEpoch {state.last_vote_epoch}\n")
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    state.changed = False


def load(state: ClusterState, path: str) -> bool:
    """Fill ``state`` from ``path``; False when there is no file (a fresh node)."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return False
    if not any(line.strip() for line in lines):
        return False
    state.nodes.clear()
    masters: dict[Node, str] = {}
    myself = None
    for line in lines:
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "vars":
            for key, value in zip(fields[1::2], fields[2::2]):
                if key == "currentEpoch":
                    state.current_epoch = int(value)
                elif key == "lastVoteEpoch":
                    state.last_vote_epoch = int(value)
            continue
        if len(fields) < 8:
            raise NodesConfError(f"Unrecoverable error: corrupted cluster config file "
                                 f"\"{line}\".")
        name, addr, flag_text, master = fields[0], fields[1], fields[2], fields[3]
        hostport = addr.split(",", 1)[0]
        ipport, _, cport = hostport.partition("@")
        ip, _, port = ipport.rpartition(":")
        flags = 0
        for word in flag_text.split(","):
            flags |= _FLAG_BITS.get(word, 0)
        node = Node(name, flags, ip, int(port), int(cport or 0))
        node.config_epoch = int(fields[6])
        state.nodes[name] = node
        if flags & MYSELF:
            myself = node
        if master != "-":
            masters[node] = master
        for spec in fields[8:]:
            if spec.startswith("["):
                slot_text, arrow, other = spec[1:-1].partition("->-")
                if not arrow:
                    slot_text, _, other = spec[1:-1].partition("-<-")
                peer = state.nodes.get(other) or _placeholder(state, other)
                (state.migrating if arrow else state.importing)[int(slot_text)] = peer
                continue
            start, _, end = spec.partition("-")
            for slot in range(int(start), int(end or start) + 1):
                if 0 <= slot < N_SLOTS:
                    state.add_slot(node, slot)
    if myself is None:
        raise NodesConfError("Unrecoverable error: the cluster config file has no myself")
    for node, master in masters.items():
        node.master = state.nodes.get(master) or _placeholder(state, master)
    state.myself = myself
    # The address this node announces comes from configuration, not the file.
    config = state.config
    myself.port = config.cluster_announce_port or config.port
    myself.cport = config.cluster_announce_bus_port or config.cluster_port or config.port + 10000
    if config.cluster_announce_ip:
        myself.ip = config.cluster_announce_ip
    state.changed = False
    return True


def _placeholder(state: ClusterState, name: str) -> Node:
    node = Node(name, 1 | 64)  # master, noaddr until the bus tells us more
    state.nodes[name] = node
    return node
