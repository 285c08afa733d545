"""Replication commands: the primary side's REPLCONF, PSYNC, SYNC and WAIT, the role
changes REPLICAOF/SLAVEOF, and ROLE (machinery in respd.replication, respd.replica)."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client
from respd.command import COMMANDS, command
from respd.resp import NO_REPLY
from respd.numbers import parse_int
from respd.replication import replicate_from, replicate_none
from respd.resp import OK, Status

GROUP = "server"


def _int(raw: bytes) -> int:
    value = parse_int(raw)
    if value is None:
        raise errors.NOT_INTEGER
    return value


@command("REPLCONF", arity=-1, flags="admin noscript loading stale allow_busy", group=GROUP,
         since="3.0.0", summary="An internal command for configuring the replication stream",
         acl="admin dangerous")
def replconf(client: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2 == 0:
        raise errors.SYNTAX
    repl = client.server.replication
    state = repl.replicas.get(client)
    for i in range(1, len(argv), 2):
        option, value = argv[i].lower(), argv[i + 1]
        if option == b"ack":
            # A replica's acknowledgement: never answered.
            if state is not None:
                repl.ack(client, _int(value))
            return NO_REPLY
        if option == b"getack":
            if client.loading and repl.master is not None and client is repl.master.client:
                repl.master.send_ack()
            return NO_REPLY
        if state is None:
            from respd.replication import ReplicaState

            state = repl.replicas[client] = ReplicaState()
        if option == b"listening-port":
            state.port = _int(value)
        elif option == b"ip-address":
            state.ip = value
        elif option == b"capa":
            if value.lower() == b"eof":
                state.capa_eof = True
            elif value.lower() == b"psync2":
                state.capa_psync2 = True
        elif option == b"rdb-only" or option == b"rdb-filter-only":
            pass
        else:
            raise errors.unrecognized_replconf(argv[i])
    return OK


@command("PSYNC", arity=-3, flags="admin noscript no_async_loading no_multi", group=GROUP,
         since="2.8.0", summary="Internal command used for replication",
         syntax="replicationid offset", complexity="", acl="admin dangerous")
def psync(client: Client, argv: list[bytes]) -> Any:
    repl = client.server.replication
    if len(argv) > 3 and argv[3].lower() == b"failover":
        # The primary hands over to us (FAILOVER): promote first, then continue it.
        if argv[1].decode("latin-1") != repl.replid:
            raise errors.PSYNC_FAILOVER_REPLID
        replicate_none(client.server)
    return _sync(client, argv[1], _int(argv[2]), True)


@command("SYNC", arity=1, flags="admin noscript no_async_loading no_multi", group=GROUP,
         since="1.0.0", summary="Internal command used for replication", complexity="",
         acl="admin dangerous")
def sync(client: Client, argv: list[bytes]) -> Any:
    return _sync(client, b"?", -1, False)


def _sync(client: Client, replid: bytes, offset: int, psync: bool) -> Any:
    repl = client.server.replication
    if client.flags_extra == "S" and repl.replicas.get(client) is not None \
            and repl.replicas[client].online:
        return NO_REPLY  # already synchronised
    if repl.failover is not None:
        raise errors.SYNC_WHILE_FAILING_OVER
    if repl.master is not None and not repl.master.up:
        raise errors.NOMASTERLINK
    repl.psync(client, replid, offset, psync)
    return NO_REPLY


def _replicaof(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if server.cluster is not None:  # roles come from CLUSTER REPLICATE and elections
        raise errors.cluster_error("REPLICAOF_IN_CLUSTER_MODE")
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        replicate_none(server)
        return OK
    port = parse_int(argv[2])
    if port is None or not 0 <= port <= 65535:
        raise errors.INVALID_MASTER_PORT
    host = argv[1].decode("latin-1")
    link = server.replication.master
    if link is not None and link.host == host and link.port == port:
        return Status(b"OK Already connected to specified master")
    replicate_from(server, host, port)
    return OK


for _name, _since in (("REPLICAOF", "5.0.0"), ("SLAVEOF", "1.0.0")):
    command(_name, arity=3, flags="admin noscript stale no_async_loading", group=GROUP,
            since=_since, summary="Make the server a replica of another instance, or promote "
            "it as master", syntax="host port", acl="admin dangerous")(_replicaof)


@command("ROLE", arity=1, flags="noscript loading stale fast", group=GROUP, since="2.8.12",
         summary="Return the role of the instance in the context of replication",
         acl="admin dangerous")
def role(client: Client, argv: list[bytes]) -> Any:
    repl = client.server.replication
    link = repl.master
    if link is not None:
        offset = repl.offset if link.up else -1
        return [b"slave", link.host.encode(), link.port, link.state.encode(), offset]
    return [b"master", repl.offset,
            [[state.ip or client_ip(c), b"%d" % state.port, b"%d" % state.ack_offset]
             for c, state in repl.replicas.items() if state.online]]


def client_ip(client: Client) -> bytes:
    return client.addr.rsplit(b":", 1)[0]


@command("WAIT", arity=3, flags="noscript", group="generic", since="3.0.0",
         summary="Wait for the synchronous replication of all the write commands sent in "
         "the context of the current connection", syntax="numreplicas timeout",
         complexity="O(1)", acl="connection")
def wait(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    repl = server.replication
    if repl.master is not None:
        raise errors.WAIT_ON_REPLICA
    needed = _int(argv[1])
    timeout = parse_int(argv[2])
    if timeout is None:
        raise errors.TIMEOUT_NOT_INTEGER
    if timeout < 0:
        raise errors.TIMEOUT_NEGATIVE
    offset = repl.offset
    acked = repl.acked(offset)
    if acked >= needed or client.deny_blocking or client.multi is not None:
        return acked
    deadline = server.now_ms() + timeout if timeout else 0
    blocked = client.block([], 0, None, argv)
    repl.waiting.append((client, offset, needed, deadline))
    repl.request_acks()
    if timeout and server.loop is not None:
        server.loop.call_later(timeout / 1000 + 0.001, repl.serve_waiting)
    return blocked


@command("FAILOVER", arity=-1, flags="admin noscript stale", group=GROUP, since="6.2.0",
         summary="Start a coordinated failover between this server and one of its replicas.",
         syntax="[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]",
         complexity="O(1)", acl="admin dangerous")
def failover_command(client: Client, argv: list[bytes]) -> Any:
    from respd import failover

    server = client.server
    if server.cluster is not None:
        raise errors.cluster_error("FAILOVER_IN_CLUSTER_MODE")
    repl = server.replication
    target: tuple[str, int] | None = None
    timeout = 0
    force = abort = False
    i = 1
    while i < len(argv):
        word = argv[i].lower()
        if word == b"to" and i + 2 < len(argv) and target is None:
            target = (argv[i + 1].decode("latin-1"), _int(argv[i + 2]))
            i += 3
        elif word == b"timeout" and i + 1 < len(argv) and not timeout:
            timeout = _int(argv[i + 1])
            if timeout <= 0:
                raise errors.FAILOVER_TIMEOUT
            i += 2
        elif word == b"force" and not force:
            force = True
            i += 1
        elif word == b"abort" and not abort:
            abort = True
            i += 1
        else:
            raise errors.SYNTAX
    if abort:
        if len(argv) != 2:
            raise errors.SYNTAX
        if repl.failover is None:
            raise errors.FAILOVER_NONE
        failover.abort(server, "Failover manually aborted")
        return OK
    # failoverCommand's order of refusals.
    if repl.failover is not None:
        raise errors.FAILOVER_IN_PROGRESS
    if repl.master is not None:
        raise errors.FAILOVER_ON_REPLICA
    if not any(s.online for s in repl.replicas.values()):
        raise errors.FAILOVER_NO_REPLICAS
    if force and (not timeout or target is None):
        raise errors.FAILOVER_FORCE
    if target is not None:
        found = [s for c, s in repl.replicas.items()
                 if (failover.replica_ip(c, s), s.port) == target]
        if not found:
            raise errors.FAILOVER_NOT_REPLICA
        if not found[0].online:
            raise errors.FAILOVER_NOT_ONLINE
    failover.start(client, target, timeout, force)
    return OK


# WAIT parks its client: never run on run_batch's inline path (Redis flags it only
# noscript, so the blocking flag that would say so is not set).
COMMANDS[b"wait"].plain = False
