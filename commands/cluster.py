"""CLUSTER subcommands, ASKING, READONLY, READWRITE (respd.cluster holds the state)."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client
from respd.cluster import config_file
from respd.cluster.routing import ASKING, READONLY
from respd.storage.slots import N_SLOTS, key_slot
from respd.cluster.state import (FAIL, MASTER, MYSELF, NOADDR, PFAIL, SLAVE, ClusterState,
                                 Node, random_name)
from respd.command import command, container
from respd.errors import ReplyError
from respd.numbers import parse_int
from respd.replication import replicate_none
from respd.resp import OK, Map, Status, Verbatim

GROUP = "cluster"
container("CLUSTER", group=GROUP, since="3.0.0",
          summary="A container for cluster commands")


def _state(client: Client) -> ClusterState:
    state = client.server.cluster
    if state is None:
        raise errors.CLUSTER_DISABLED
    return state


def _slot(raw: bytes) -> int:
    value = parse_int(raw)
    if value is None or not 0 <= value < N_SLOTS:
        raise errors.INVALID_SLOT
    return value


def _node(state: ClusterState, raw: bytes) -> Node:
    node = state.nodes.get(raw.decode("latin-1"))
    if node is None:
        raise ReplyError(errors.UNKNOWN_NODE_PREFIX + raw.decode("latin-1"))
    return node


def _changed(client: Client) -> None:
    state = _state(client)
    state.changed = True
    state.update_state()
    bus = client.server.cluster_bus
    if bus is not None:
        bus.save_if_changed()


_HELP = [
    b'CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    b'ADDSLOTS <slot> [<slot> ...]',
    b'    Assign slots to current node.',
    b'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
    b'    Assign slots which are between <start-slot> and <end-slot> to current node.',
    b'BUMPEPOCH',
    b'    Advance the cluster config epoch.',
    b'COUNT-FAILURE-REPORTS <node-id>',
    b'    Return number of failure reports for <node-id>.',
    b'COUNTKEYSINSLOT <slot>',
    b'    Return the number of keys in <slot>.',
    b'DELSLOTS <slot> [<slot> ...]',
    b'    Delete slots information from current node.',
    b'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
    b'    Delete slots information which are between <start-slot> and <end-slot> from current node.',
    b'FAILOVER [FORCE|TAKEOVER]',
    b'    Promote current replica node to being a master.',
    b'FORGET <node-id>',
    b'    Remove a node from the cluster.',
    b'GETKEYSINSLOT <slot> <count>',
    b'    Return key names stored by current node in a slot.',
    b'FLUSHSLOTS',
    b'    Delete current node own slots information.',
    b'INFO',
    b'    Return information about the cluster.',
    b'KEYSLOT <key>',
    b'    Return the hash slot for <key>.',
    b'MEET <ip> <port> [<bus-port>]',
    b'    Connect nodes into a working cluster.',
    b'MYID',
    b'    Return the node id.',
    b'NODES',
    b'    Return cluster configuration seen by node. Output format:',
    b'    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
    b'REPLICATE <node-id>',
    b'    Configure current node as replica to <node-id>.',
    b'RESET [HARD|SOFT]',
    b'    Reset current node (default: soft).',
    b'SET-CONFIG-EPOCH <epoch>',
    b'    Set config epoch of current node.',
    b'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)',
    b'    Set slot state.',
    b'REPLICAS <node-id>',
    b'    Return <node-id> replicas.',
    b'SAVECONFIG',
    b'    Force saving cluster configuration on disk.',
    b'SLOTS',
    b'    Return information about slots range mappings. Each range is made of:',
    b'    start, end, master and replicas IP addresses, ports and ids',
    b'SHARDS',
    b'    Return information about slot range mappings and the nodes associated with them.',
    b'LINKS',
    b'    Return information about all network links between this node and its peers.',
    b'    Output format is an array where each array element is a map containing attributes of a link',
    b'HELP',
    b'    Prints this help.',
]


@command("CLUSTER HELP", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands")
def cluster_help(client: Client, argv: list[bytes]) -> Any:
    return [Status(line) for line in _HELP]


@command("CLUSTER INFO", arity=2, flags="stale", group=GROUP, since="3.0.0",
         summary="Provides info about Redis Cluster node state")
def cluster_info(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    assigned = sum(1 for n in state.slots if n is not None)
    pfail = sum(1 for n in state.slots if n is not None and n.has(PFAIL))
    fail = sum(1 for n in state.slots if n is not None and n.has(FAIL))
    lines = [
        ("cluster_state", "ok" if state.ok else "fail"),
        ("cluster_slots_assigned", assigned),
        ("cluster_slots_ok", assigned - pfail - fail),
        ("cluster_slots_pfail", pfail),
        ("cluster_slots_fail", fail),
        ("cluster_known_nodes", len(state.nodes)),
        ("cluster_size", state.size()),
        ("cluster_current_epoch", state.current_epoch),
        ("cluster_my_epoch", (state.myself.master or state.myself).config_epoch),
    ]
    names = ("ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update",
             "mfstart", "module", "publishshard")
    for prefix, stats in (("sent", state.stats_sent), ("received", state.stats_received)):
        for name, count in zip(names, stats):
            if count:
                lines.append((f"cluster_stats_messages_{name}_{prefix}", count))
        lines.append((f"cluster_stats_messages_{prefix}", sum(stats)))
    lines.append(("total_cluster_links_buffer_limit_exceeded", 0))
    return Verbatim("".join(f"{k}:{v}\r\n" for k, v in lines).encode())


@command("CLUSTER MYID", arity=2, flags="stale", group=GROUP, since="3.0.0",
         summary="Return the node id")
def cluster_myid(client: Client, argv: list[bytes]) -> Any:
    return _state(client).myself.name.encode()


@command("CLUSTER NODES", arity=2, flags="stale", group=GROUP, since="3.0.0",
         summary="Get Cluster config for the node")
def cluster_nodes(client: Client, argv: list[bytes]) -> Any:
    return Verbatim(_state(client).nodes_text().encode())


def _node_entry(node: Node) -> list[Any]:
    return [node.ip.encode(), node.port, node.name.encode(), []]


@command("CLUSTER SLOTS", arity=2, flags="stale", group=GROUP, since="3.0.0",
         summary="Get array of Cluster slot to node mappings")
def cluster_slots(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    out = []
    for node in state.nodes.values():
        if not node.has(MASTER) or not node.num_slots:
            continue
        replicas = [n for n in state.nodes.values() if n.master is node and not n.has(FAIL)]
        for start, end in state.slot_ranges(node):
            out.append((start, [start, end, _node_entry(node)]
                        + [_node_entry(r) for r in replicas]))
    return [entry for _, entry in sorted(out, key=lambda e: e[0])]


@command("CLUSTER SHARDS", arity=2, flags="stale", group=GROUP, since="7.0.0",
         summary="Get array of cluster slots to node mappings")
def cluster_shards(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    out = []
    for node in state.nodes.values():
        if not node.has(MASTER):
            continue
        members = [node] + [n for n in state.nodes.values() if n.master is node]
        slots: list[int] = []
        for start, end in state.slot_ranges(node):
            slots += [start, end]
        out.append(Map({b"slots": slots, b"nodes": [
            _shard_node(n, client.server.replication.offset if n is state.myself
                        else n.repl_offset) for n in members]}))
    return out


def _shard_node(node: Node, offset: int) -> Map:
    health = b"fail" if node.has(FAIL) else b"loading" if node.has(SLAVE) and not offset \
        else b"online"
    return Map({b"id": node.name.encode(), b"port": node.port, b"ip": node.ip.encode(),
                b"endpoint": node.ip.encode(), b"role": b"replica" if node.has(SLAVE)
                else b"master", b"replication-offset": offset, b"health": health})


@command("CLUSTER KEYSLOT", arity=3, flags="stale", group=GROUP, since="3.0.0",
         summary="Returns the hash slot of the specified key")
def cluster_keyslot(client: Client, argv: list[bytes]) -> Any:
    _state(client)
    return key_slot(argv[2])



@command("CLUSTER COUNTKEYSINSLOT", arity=3, flags="stale", group=GROUP, since="3.0.0",
         summary="Return the number of local keys in the specified hash slot")
def cluster_countkeysinslot(client: Client, argv: list[bytes]) -> Any:
    _state(client)
    value = parse_int(argv[2])
    if value is None:
        raise errors.NOT_INTEGER
    if not 0 <= value < N_SLOTS:
        raise errors.cluster_error("INVALID_SLOT")
    return client.server.dbs[0].slot_keys().count(value)


@command("CLUSTER GETKEYSINSLOT", arity=4, flags="stale", group=GROUP, since="3.0.0",
         summary="Return local key names in the specified hash slot")
def cluster_getkeysinslot(client: Client, argv: list[bytes]) -> Any:
    _state(client)
    slot = parse_int(argv[2])
    count = parse_int(argv[3])
    if slot is None or count is None:
        raise errors.NOT_INTEGER
    if count < 0 or not 0 <= slot < N_SLOTS:
        raise errors.cluster_error("INVALID_SLOT_OR_NUMBER_OF_KEYS")
    return client.server.dbs[0].slot_keys().keys(slot, count)


def _add_del(client: Client, slots: list[int], add: bool) -> Any:
    state = _state(client)
    seen = set()
    for slot in slots:
        if add and state.slots[slot] is not None:
            raise errors.cluster_error("SLOT_BUSY", slot=slot)
        if not add and state.slots[slot] is None:
            raise errors.cluster_error("SLOT_UNASSIGNED", slot=slot)
        if slot in seen:
            raise errors.cluster_error("SLOT_REPEATED", slot=slot)
        seen.add(slot)
    for slot in slots:
        if add:
            state.importing.pop(slot, None)
            state.add_slot(state.myself, slot)
        else:
            state.del_slot(slot)
    _changed(client)
    return OK


def _ranges(argv: list[bytes]) -> list[int]:
    if len(argv) % 2:
        raise errors.wrong_arity(argv[0].decode().lower() + "|" + argv[1].decode().lower())
    slots: list[int] = []
    for i in range(2, len(argv), 2):
        start, end = _slot(argv[i]), _slot(argv[i + 1])
        if start > end:
            raise errors.cluster_error("START_SLOT_NUMBER", start=start, end=end)
        slots += range(start, end + 1)
    return slots


@command("CLUSTER ADDSLOTS", arity=-3, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Assign new hash slots to receiving node")
def cluster_addslots(client: Client, argv: list[bytes]) -> Any:
    return _add_del(client, [_slot(a) for a in argv[2:]], True)


@command("CLUSTER DELSLOTS", arity=-3, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Set hash slots as unbound in receiving node")
def cluster_delslots(client: Client, argv: list[bytes]) -> Any:
    return _add_del(client, [_slot(a) for a in argv[2:]], False)


@command("CLUSTER ADDSLOTSRANGE", arity=-4, flags="admin stale no_async_loading",
         group=GROUP, since="7.0.0", summary="Assign new hash slots to receiving node")
def cluster_addslotsrange(client: Client, argv: list[bytes]) -> Any:
    return _add_del(client, _ranges(argv), True)


@command("CLUSTER DELSLOTSRANGE", arity=-4, flags="admin stale no_async_loading",
         group=GROUP, since="7.0.0", summary="Set hash slots as unbound in receiving node")
def cluster_delslotsrange(client: Client, argv: list[bytes]) -> Any:
    return _add_del(client, _ranges(argv), False)


@command("CLUSTER FLUSHSLOTS", arity=2, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Delete a node's own slots information")
def cluster_flushslots(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    if client.server.dbs[0].data:
        raise errors.cluster_error("DB_MUST_BE_EMPTY_TO_PERFORM_CLUSTER_FLUS")
    for slot in range(N_SLOTS):
        if state.slots[slot] is state.myself:
            state.del_slot(slot)
    _changed(client)
    return OK


@command("CLUSTER MEET", arity=-4, flags="admin stale no_async_loading", group=GROUP, since="3.0.0",
         summary="Force a node cluster to handshake with another node")
def cluster_meet(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    if len(argv) > 5:
        raise errors.SYNTAX
    ip = argv[2].decode("latin-1")
    port = parse_int(argv[3])
    cport = parse_int(argv[4]) if len(argv) == 5 else (port + 10000 if port is not None
                                                        else None)
    if port is None or cport is None:
        raise errors.cluster_error("INVALID_TCP_BASE_PORT_SPECIFIED", argv=argv[3].decode())
    if not (0 < port < 65536 and 0 < cport < 65536) or not _valid_ip(ip):
        raise errors.cluster_error("INVALID_NODE_ADDRESS_SPECIFIED", ip=ip, port=port)
    client.server.cluster_bus.start_handshake(ip, port, cport)
    return OK


def _valid_ip(ip: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    return True


@command("CLUSTER FORGET", arity=3, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Remove a node from the nodes table")
def cluster_forget(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    node = _node(state, argv[2])
    if node is state.myself:
        raise errors.cluster_error("I_TRIED_HARD_BUT_I_CAN_T_FORGET_MYSELF")
    if state.myself.has(SLAVE) and state.myself.master is node:
        raise errors.cluster_error("CAN_T_FORGET_MY_MASTER")
    loop_time = client.server.loop.time()
    state.blacklist[node.name] = loop_time + 60  # Redis's 60 s nodes blacklist
    state.remove_node(node)
    _changed(client)
    return OK


@command("CLUSTER REPLICATE", arity=3, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Reconfigure a node as a replica of the specified master node")
def cluster_replicate(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    node = _node(state, argv[2])
    if node is state.myself:
        raise errors.cluster_error("CAN_T_REPLICATE_MYSELF")
    if node.has(SLAVE):
        raise errors.cluster_error("I_CAN_ONLY_REPLICATE_A_MASTER")
    if state.myself.has(MASTER) and (state.myself.num_slots or client.server.dbs[0].data):
        raise errors.cluster_error("TO_SET_A_MASTER_THE_NODE_MUST_BE_EMPTY")
    client.server.cluster_bus.elections.set_master(node)
    _changed(client)
    return OK


@command("CLUSTER FAILOVER", arity=-2, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Forces a replica to perform a manual failover of its master.",
         syntax="[FORCE|TAKEOVER]")
def cluster_failover(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    if len(argv) > 3:
        raise errors.unknown_subcommand_or_arity(argv[1], "CLUSTER")
    force = takeover = False
    if len(argv) == 3:
        option = argv[2].lower()
        if option == b"takeover":
            force = takeover = True
        elif option == b"force":
            force = True
        else:
            raise errors.SYNTAX
    me = state.myself
    if me.has(MASTER):
        raise errors.cluster_error("SEND_CLUSTER_FAILOVER_TO_A_REPLICA")
    master = me.master
    if master is None:
        raise errors.cluster_error("MY_MASTER_IS_UNKNOWN")
    if not force and (master.has(FAIL) or master.link is None or not master.link.connected):
        raise errors.cluster_error("MASTER_IS_DOWN_USE_FORCE")
    client.server.cluster_bus.elections.start_manual(force, takeover)
    _changed(client)
    return OK


@command("CLUSTER SLAVES", arity=3, flags="admin stale", group=GROUP, since="3.0.0",
         summary="List replica nodes of the specified master node")
def cluster_slaves(client: Client, argv: list[bytes]) -> Any:
    return _replicas(client, argv)


@command("CLUSTER REPLICAS", arity=3, flags="admin stale", group=GROUP, since="5.0.0",
         summary="List replica nodes of the specified master node")
def cluster_replicas(client: Client, argv: list[bytes]) -> Any:
    return _replicas(client, argv)


def _replicas(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    node = _node(state, argv[2])
    if node.has(SLAVE):
        raise errors.cluster_error("THE_SPECIFIED_NODE_IS_NOT_A_MASTER")
    return [state.node_line(n).encode() for n in state.nodes.values() if n.master is node]


@command("CLUSTER RESET", arity=-2, flags="admin noscript stale", group=GROUP, since="3.0.0",
         summary="Reset a Redis Cluster node")
def cluster_reset(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    if len(argv) > 3:
        raise errors.SYNTAX
    hard = False
    if len(argv) == 3:
        mode = argv[2].lower()
        if mode not in (b"hard", b"soft"):
            raise errors.SYNTAX
        hard = mode == b"hard"
    server = client.server
    if server.dbs[0].data and state.myself.has(MASTER):
        raise errors.cluster_error("CLUSTER_RESET_CAN_T_BE_CALLED_WITH_MASTE")
    me = state.myself
    if me.has(SLAVE):  # a replica becomes an empty primary
        me.flags = (me.flags & ~SLAVE) | MASTER
        me.master = None
        replicate_none(server)
        for db in server.dbs:
            db.flush()
    for slot in range(N_SLOTS):
        state.del_slot(slot)
    state.importing.clear()
    state.migrating.clear()
    for node in list(state.nodes.values()):
        if node is not state.myself:
            state.remove_node(node)
    if hard:
        state.current_epoch = state.last_vote_epoch = 0
        state.myself.config_epoch = 0
        state.rename(state.myself, random_name())
    _changed(client)
    return OK


@command("CLUSTER SETSLOT", arity=-4, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Bind a hash slot to a specific node")
def cluster_setslot(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    if state.myself.has(SLAVE):
        raise errors.cluster_error("PLEASE_USE_SETSLOT_ONLY_WITH_MASTERS")
    slot = _slot(argv[2])
    action = argv[3].lower()
    if action in (b"migrating", b"importing", b"node") and len(argv) != 5 or (
            action == b"stable" and len(argv) != 4):
        raise errors.cluster_error("INVALID_CLUSTER_SETSLOT_ACTION_OR_NUMBER")
    if action == b"migrating":
        if state.slots[slot] is not state.myself:
            raise errors.cluster_error("I_M_NOT_THE_OWNER_OF_HASH_SLOT", slot=slot)
        node = _node_or_unknown(state, argv[4])
        state.migrating[slot] = node
    elif action == b"importing":
        if state.slots[slot] is state.myself:
            raise errors.cluster_error("I_M_ALREADY_THE_OWNER_OF_HASH_SLOT", slot=slot)
        state.importing[slot] = _node_or_unknown(state, argv[4])
    elif action == b"stable":
        state.importing.pop(slot, None)
        state.migrating.pop(slot, None)
    elif action == b"node":
        node = _node(state, argv[4])
        if node.has(SLAVE):
            raise errors.cluster_error("TARGET_NODE_IS_NOT_A_MASTER")
        if state.slots[slot] is state.myself and node is not state.myself and \
                client.server.dbs[0].slot_keys().count(slot):
            raise errors.cluster_error("CAN_T_ASSIGN_HASHSLOT", slot=slot)
        if node is not state.myself:
            state.migrating.pop(slot, None)
        if node is state.myself and slot in state.importing:
            # Importing finished: take a new config epoch so the change wins everywhere.
            del state.importing[slot]
            state.bump_epoch(force=False)
        state.add_slot(node, slot)
    else:
        raise errors.cluster_error("INVALID_CLUSTER_SETSLOT_ACTION_OR_NUMBER")
    _changed(client)
    return OK


def _node_or_unknown(state: ClusterState, raw: bytes) -> Node:
    node = state.nodes.get(raw.decode("latin-1"))
    if node is None:
        raise errors.cluster_error("I_DON_T_KNOW_ABOUT_NODE", raw=raw.decode('latin-1'))
    return node


@command("CLUSTER BUMPEPOCH", arity=2, flags="admin stale no_async_loading", group=GROUP, since="3.0.0",
         summary="Advance the cluster config epoch")
def cluster_bumpepoch(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    bumped = state.bump_epoch(force=False)
    _changed(client)
    word = "BUMPED" if bumped else "STILL"
    return Status(f"{word} {state.myself.config_epoch}".encode())


@command("CLUSTER SET-CONFIG-EPOCH", arity=3, flags="admin stale no_async_loading", group=GROUP,
         since="3.0.0", summary="Set the configuration epoch in a new node")
def cluster_set_config_epoch(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    epoch = parse_int(argv[2])
    if epoch is None:
        raise errors.NOT_INTEGER
    if epoch < 0:
        raise errors.cluster_error("INVALID_CONFIG_EPOCH_SPECIFIED", epoch=epoch)
    if len(state.nodes) > 1:
        raise errors.cluster_error("THE_USER_CAN_ASSIGN_A_CONFIG_EPOCH_ONLY")
    if state.myself.config_epoch != 0:
        raise errors.cluster_error("NODE_CONFIG_EPOCH_IS_ALREADY_NON_ZERO")
    state.myself.config_epoch = epoch
    state.current_epoch = max(state.current_epoch, epoch)
    _changed(client)
    return OK


@command("CLUSTER COUNT-FAILURE-REPORTS", arity=3, flags="admin stale", group=GROUP,
         since="3.0.0", summary="Return the number of failure reports active for a given "
                                "node")
def cluster_count_failure_reports(client: Client, argv: list[bytes]) -> Any:
    return len(_node(_state(client), argv[2]).fail_reports)


@command("CLUSTER LINKS", arity=2, flags="stale", group=GROUP, since="7.0.0",
         summary="Returns a list of all TCP links to and from peer nodes in cluster")
def cluster_links(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    out = []
    for node in state.nodes.values():
        link = node.link
        if link is None or node.has(MYSELF | NOADDR):
            continue
        out.append(Map({b"direction": b"to", b"node": node.name.encode(),
                        b"create-time": link.ctime, b"events": b"r",
                        b"send-buffer-allocated": 0, b"send-buffer-used": 0}))
    return out


@command("CLUSTER SAVECONFIG", arity=2, flags="admin stale no_async_loading", group=GROUP, since="3.0.0",
         summary="Forces the node to save cluster state on disk")
def cluster_saveconfig(client: Client, argv: list[bytes]) -> Any:
    state = _state(client)
    try:
        config_file.save(state, client.server.config.cluster_config_file)
    except OSError as exc:
        raise errors.cluster_error("ERROR_SAVING_THE_CLUSTER_NODE_CONFIG", exc=exc.strerror) \
            from None
    return OK


@command("ASKING", arity=1, flags="fast", group=GROUP, acl="connection", since="3.0.0",
         summary="Sent by cluster clients after an -ASK redirect")
def asking(client: Client, argv: list[bytes]) -> Any:
    _state(client)
    client.cluster_flags |= ASKING
    return OK


@command("READONLY", arity=1, flags="loading stale fast", group=GROUP, acl="connection", since="3.0.0",
         summary="Enables read queries for a connection to a cluster replica node")
def readonly(client: Client, argv: list[bytes]) -> Any:
    _state(client)
    client.cluster_flags |= READONLY
    return OK


@command("READWRITE", arity=1, flags="loading stale fast", group=GROUP, acl="connection", since="3.0.0",
         summary="Disables read queries for a connection to a cluster replica node")
def readwrite(client: Client, argv: list[bytes]) -> Any:
    _state(client)
    client.cluster_flags &= ~READONLY
    return OK
