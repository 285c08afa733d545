"""Which node serves a request (Redis's getNodeByQuery): None to run it here, or the
redirection / refusal the client gets.  Keys come from the command table
(Command.key_positions), the same source as COMMAND GETKEYS and ACL key checks."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.storage.slots import key_slot
from respd.cluster.state import SLAVE, ClusterState
from respd.errors import ReplyError

ASKING = 1
READONLY = 2
# Sharded pub/sub is served by a replica of the slot's primary without READONLY.
_SHARD_PUBSUB = frozenset({"ssubscribe", "sunsubscribe", "spublish"})


def route(state: ClusterState, client: Any, cmd: Any, argv: list[bytes]) -> ReplyError | None:
    if cmd.name == "exec":
        if client.multi is None:
            return None
        requests = client.multi
    elif not cmd.first_key and cmd.getkeys is None:
        return None
    else:
        requests = [(cmd, argv)]
    owner = None
    slot = -1
    first: bytes | None = None
    migrating = importing = multiple = False
    missing = existing = 0
    is_write = False
    db = client.db
    for c, args in requests:
        is_write = is_write or c.is_write
        for pos in c.key_positions(args):
            key = args[pos]
            if first is None:
                first = key
                slot = key_slot(key)
                owner = state.slots[slot]
                if owner is None:
                    return errors.CLUSTERDOWN_UNBOUND
                if owner is state.myself and slot in state.migrating:
                    migrating = True
                elif slot in state.importing:
                    importing = True
            elif key != first:
                if key_slot(key) != slot:
                    return errors.CROSSSLOT
                multiple = True
            if migrating or importing:
                if key in db.data:
                    existing += 1
                else:
                    missing += 1
    if owner is None:
        return None
    if not state.ok:
        if not state.config.cluster_allow_reads_when_down:
            return errors.CLUSTERDOWN
        if is_write:
            return errors.CLUSTERDOWN_RO
    if (migrating or importing) and cmd.name == "migrate":
        return None
    if migrating and missing:
        if existing:
            return errors.TRYAGAIN_UNSTABLE
        target = state.migrating[slot]
        return errors.redirect("ASK", slot, target.ip, target.port)
    if importing and (client.cluster_flags & ASKING or "asking" in cmd.flags):
        if multiple and missing:
            return errors.TRYAGAIN_UNSTABLE
        return None
    me = state.myself
    if ((client.cluster_flags & READONLY or cmd.name in _SHARD_PUBSUB) and not is_write
            and me.has(SLAVE) and me.master is owner):
        return None
    if owner is me:
        return None
    return errors.redirect("MOVED", slot, owner.ip, owner.port)


def check(state: ClusterState, client: Any, cmd: Any, argv: list[bytes]) -> ReplyError | None:
    """Routing, then Redis's resetClient rule: ASKING lasts for one command (outside
    MULTI)."""
    err = route(state, client, cmd, argv)
    if client.cluster_flags & ASKING and client.multi is None and cmd.name != "asking":
        client.cluster_flags &= ~ASKING
    return err
