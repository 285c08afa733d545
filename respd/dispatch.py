"""The choke point every command goes through (Redis's processCommand + call).

``execute`` applies, in Redis's order, the checks that decide which error a client sees:
lookup (unknown command / subcommand), arity, authentication, MULTI queueing, the RESP2
subscribed-mode restriction; then ``call`` runs the handler, records statistics, and
collects what must be propagated to the AOF.  After a top-level command, clients blocked
on keys it made ready are served and the propagated commands are handed to the AOF.

Handlers are synchronous ``handler(client, argv) -> reply value``; they raise
``ReplyError`` for error replies.  Nothing here awaits, so every command, transaction and
script is atomic.
"""

from __future__ import annotations

import logging
from time import perf_counter_ns
from typing import Any

from respd import acl, errors, protected
from respd.blocking import BLOCKED
from respd.cluster import routing as cluster_routing
from respd.client import REPLY_ON, REPLY_SKIP, Client
from respd.command import COMMANDS, Command
from respd.errors import ReplyError
from respd.latency import latency_level, latency_table
from respd.resp import BULK_HEADERS, INT_REPLIES, OK, QUEUED, encode

log = logging.getLogger("respd")

# Commands a client in MULTI runs at once instead of queueing.
_MULTI_IMMEDIATE = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# Commands a RESP2 client with subscriptions may still run.
_SUBSCRIBED_ALLOWED = frozenset(
    {"subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
     "punsubscribe", "ping", "quit", "reset"}
)


class _NoReply:
    __slots__ = ()


NO_REPLY = _NoReply()  # the handler already queued what the client gets (or nothing)


# Plain (non-container) command names as clients spell them (usually upper case), so the
# common path skips bytes.lower(); filled on first use, capped so odd mixed-case spellings
# cannot grow it.
_BY_SPELLING: dict[bytes, Command] = {}
_SPELLINGS_MAX = 4096
# The plain commands among them (Command.plain) as run_batch needs them: (handler, arity,
# stat_index, command), one tuple unpacking instead of four attribute loads.
_PLAIN_BY_SPELLING: dict[bytes, tuple[Any, int, int, Command]] = {}


def resolve(argv: list[bytes]) -> Command:
    """Lookup and arity, with Redis's errors."""
    cmd = _lookup(argv)
    _check_arity(cmd, argv)
    return cmd


def _lookup(argv: list[bytes]) -> Command:
    """The command or subcommand argv names; unknown ones raise Redis's errors."""
    name = argv[0]
    cmd = _BY_SPELLING.get(name)
    if cmd is None:
        cmd = COMMANDS.get(name.lower())
        if cmd is None:
            raise errors.unknown_command(argv)
        if not cmd.subcommands and cmd.name not in protected.COMMANDS and len(
                _BY_SPELLING) < _SPELLINGS_MAX:
            _BY_SPELLING[name] = cmd
            if cmd.plain:
                _PLAIN_BY_SPELLING[name] = (cmd.handler, cmd.arity, cmd.stat_index, cmd)
    if cmd.subcommands and len(argv) > 1:
        sub = cmd.subcommands.get(argv[1].lower())
        if sub is None:
            raise errors.unknown_subcommand(argv)
        cmd = sub
    return cmd


def _check_arity(cmd: Command, argv: list[bytes]) -> None:
    arity = cmd.arity
    n = len(argv)
    if (arity > 0 and n != arity) or n < -arity:
        raise errors.wrong_arity(cmd.name)


def execute(client: Client, argv: list[bytes]) -> Any:
    """Run one request from a client and return its reply value."""
    server = client.server
    # The common case inline (a known plain command, right arity, authenticated); the
    # rest goes through resolve() for Redis's errors.
    cmd = _BY_SPELLING.get(argv[0])
    if cmd is None or not client.authenticated or (
            len(argv) != cmd.arity and (cmd.arity > 0 or len(argv) < -cmd.arity)):
        checked = _checked(client, argv)
        if type(checked) is ReplyError:
            return checked
        cmd = checked
    client.last_cmd = cmd  # Redis's c->lastcmd: set before queueing or a later rejection
    # ACL (processCommand's ACLCheckAllPerm, after auth): only a client whose user may be
    # denied something pays for it; run_batch's inline path is off for such clients.
    if client.acl_restricted:
        denied = _acl_denied(client, cmd, argv)
        if denied is not None:
            return denied
    # Cluster redirection (processCommand's getNodeByQuery, after ACL, before OOM):
    # -MOVED/-ASK/-CROSSSLOT/-TRYAGAIN/-CLUSTERDOWN; server.cluster is None outside
    # cluster mode.
    if server.cluster is not None:
        redirect = cluster_routing.check(server.cluster, client, cmd, argv)
        if redirect is not None:
            if client.multi is not None:
                client.multi_error = True
            return _rejected(client, cmd, redirect)
    if server.memory_limited:  # maxmemory(-clients): evict, or refuse with -OOM
        oom = server.memory.admit(client, cmd, argv)
        if oom is not None:
            return _rejected(client, cmd, oom)
    if server.paused_until_ms and client.transport is not None:
        from respd.commands.client import pause_postpones  # only while CLIENT PAUSE is on

        if pause_postpones(client, cmd, argv):
            return BLOCKED
    # A MONITOR client is a replica to Redis: it may not read or write keys.
    if client.is_monitor and (cmd.is_write or cmd.is_readonly or "may_replicate" in cmd.flags):
        return _rejected(client, cmd, errors.REPLICA_KEYSPACE)
    if client.multi is not None and cmd.name not in _MULTI_IMMEDIATE:
        if cmd.no_multi:
            client.multi_error = True
            return _rejected(client, cmd, errors.NOT_ALLOWED_IN_MULTI)
        client.multi.append((cmd, argv))
        return QUEUED
    # in_pubsub_mode spelled out: this runs for every RESP2 request.
    if client.resp == 2 and (client.channels or client.patterns or client.shard_channels) \
            and cmd.name not in _SUBSCRIBED_ALLOWED:
        return _rejected(client, cmd, errors.not_allowed_in_subscribed(cmd.name))
    reply = call(client, cmd, argv)
    if server.blocking.ready:
        server.blocking.serve_ready()
    if server.propagated:
        server.propagate_pending()
    return reply


def _checked(client: Client, argv: list[bytes]) -> Command | ReplyError:
    """Lookup, arity and authentication; a rejection is counted and returned."""
    cmd: Command | None = None
    try:
        cmd = _lookup(argv)
        _check_arity(cmd, argv)
        protected.check_command(client, cmd.name)
        if not client.authenticated and not cmd.no_auth:
            raise errors.NOAUTH
    except ReplyError as err:
        err.__traceback__ = None
        client.last_cmd = cmd  # None (CLIENT LIST's NULL) for an unknown command
        # Rejected before running: inside MULTI this dooms the transaction.
        if client.multi is not None:
            client.multi_error = True
        if argv[0].lower() == b"exec":
            # A rejected EXEC discards the transaction (Redis's execCommandAbort).
            client.discard_transaction()
            err = errors.exec_aborted_by(err)
        return _rejected(client, cmd, err)
    return cmd


def _acl_denied(client: Client, cmd: Command, argv: list[bytes]) -> ReplyError | None:
    """The NOPERM rejection, or None.  A no_multi command inside MULTI is refused for
    that first, as Redis checks it before the ACLs."""
    if client.multi is not None and cmd.no_multi:
        return None
    err = acl.check_command(client, cmd, argv)
    if err is None:
        return None
    if client.multi is not None:
        client.multi_error = True
        if cmd.name == "exec":
            client.discard_transaction()
            err = errors.exec_aborted_by(err)
    return _rejected(client, cmd, err)


def _rejected(client: Client, cmd: Command | None, err: ReplyError) -> ReplyError:
    """Redis's rejectCommand: counted in errorstats and as the command's rejected call."""
    if cmd is not None:
        client.server.cmd_stats[cmd.stat_index][2] += 1
    client.server.count_error(err)
    return err


def call(client: Client, cmd: Command, argv: list[bytes]) -> Any:
    """Run the handler: statistics, error accounting, propagation of writes."""
    server = client.server
    dirty = server.dirty
    client.propagate_as = None
    start = perf_counter_ns()
    try:
        reply = cmd.handler(client, argv)  # type: ignore[misc]
    except ReplyError as err:
        err.__traceback__ = None  # shared error objects would keep every frame alive
        reply = err
    except Exception:
        reply = _internal_error(argv)
    duration = perf_counter_ns() - start
    stats = server.cmd_stats[cmd.stat_index]
    if reply is not BLOCKED:  # a parked command counts once, when it is served
        stats[0] += 1
        # LATENCY HISTOGRAM (not on run_batch's inline path: it would cost ~3% there)
        latency_table(server)[cmd.stat_index][latency_level(duration)] += 1
    stats[1] += duration
    if type(reply) is ReplyError:
        stats[3] += 1
        server.count_error(reply)
    if duration > server.slowlog_threshold_ns and "skip_slowlog" not in cmd.flags:
        server.slowlog_add(client, argv, duration)  # not EXEC: its commands are logged
    # Without an AOF nothing consumes propagated commands: skip collecting them.
    if server.dirty != dirty and server.aof is not None and not client.loading:
        if client.propagate_as is None:
            server.propagated.append((client.db.index, argv))
        else:
            for extra in client.propagate_as:
                server.propagated.append((client.db.index, extra))
    if server.monitors and not client.loading and not client.reprocessing:
        # Like Redis, admin commands (MONITOR, CONFIG, ...) are not shown to monitors.
        if "admin" not in cmd.flags and "skip_monitor" not in cmd.flags:
            server.feed_monitors(client, argv)
    return reply


_OK_LINE = encode(OK)  # the most common reply, encoded once


def run_batch(client: Client, requests: Any) -> None:
    """Run the requests of one read in order, appending the encoded replies to
    ``client.out``, until done, blocked or closing (the rest wait in client.pending).

    While the client and server are in the plain state (see ``_plain_state``), a plain
    command (``Command.plain``) of the right arity runs inline: ``execute`` and ``call``
    would only test conditions that state rules out, and this loop runs for every
    request of every pipeline.  Anything else goes through ``execute``, after which the
    state is looked at again.  One clock read per command: a command's duration runs
    from the end of the previous one to the end of its own reply, as Redis's call()
    includes building the reply."""
    server = client.server
    out = client.out
    append = out.append
    cmd_stats = server.cmd_stats
    blocking = server.blocking
    plain_get = _PLAIN_BY_SPELLING.get
    clock = perf_counter_ns
    plain = _plain_state(client)
    resp = client.resp
    slow_ns = server.slowlog_threshold_ns
    last_plain: Command | None = None
    start = clock()
    for argv in requests:
        if plain:
            entry = plain_get(argv[0])
            if entry is not None:
                handler, arity, stat_index, cmd = entry
                if len(argv) == arity or (arity < 0 and len(argv) >= -arity):
                    last_plain = cmd
                    try:
                        reply = handler(client, argv)
                    except ReplyError as err:
                        err.__traceback__ = None
                        reply = err
                    except Exception:
                        reply = _internal_error(argv)
                    if reply is OK:
                        append(_OK_LINE)
                    elif type(reply) is bytes:
                        n = len(reply)
                        append((BULK_HEADERS[n] if n < 1025 else b"$%d\r\n" % n) + reply + b"\r\n")
                    elif type(reply) is int:
                        append(INT_REPLIES[reply] if 0 <= reply <= 10000 else b":%d\r\n" % reply)
                    else:
                        if type(reply) is ReplyError:
                            cmd_stats[stat_index][3] += 1
                            server.count_error(reply)
                        append(encode(reply, resp))
                    end = clock()
                    stats = cmd_stats[stat_index]
                    stats[0] += 1
                    stats[1] += end - start
                    if end - start > slow_ns:
                        server.slowlog_add(client, argv, end - start)
                    if blocking.ready:
                        blocking.serve_ready()
                        end = clock()
                    start = end
                    continue
        last_plain = None
        if client.blocked is not None or client.close_after_reply:
            client.pending.append(argv)
            continue
        reply = execute(client, argv)
        plain = _plain_state(client)
        resp = client.resp  # HELLO may switch protocols mid-batch
        slow_ns = server.slowlog_threshold_ns
        start = clock()
        if reply is BLOCKED or reply is NO_REPLY:
            continue
        if client.reply_mode:  # CLIENT REPLY OFF or SKIP
            if client.reply_mode == REPLY_SKIP:
                client.reply_mode = REPLY_ON
            continue
        append(_OK_LINE if reply is OK else encode(reply, resp))
    if last_plain is not None:  # execute() sets it for the others
        client.last_cmd = last_plain
    if server.propagated:  # expired keys; with no AOF nothing else is collected
        server.propagate_pending()
    if out and client.transport is not None:
        server.pending_writes[client] = None


def _plain_state(client: Client) -> bool:
    """Nothing for execute/call to decide but the command itself: an authenticated
    network client whose user may run anything (no ACL check), not in MULTI, not
    subscribed in RESP2, not blocked, closing or silenced; no pause, monitor, AOF or
    maxmemory on the server."""
    server = client.server
    return (client.authenticated and not client.acl_restricted and client.multi is None
            and client.blocked is None
            and not client.close_after_reply and client.reply_mode == REPLY_ON
            and not client.loading and client.transport is not None
            and not (client.resp == 2 and (client.channels or client.patterns
                                           or client.shard_channels))
            and not server.paused_until_ms and not server.monitors and server.aof is None
            and not server.memory_limited and server.cluster is None)


def _internal_error(argv: list[bytes]) -> ReplyError:
    """A bug must cost one reply, never the server."""
    log.exception("internal error running %s",
                  argv[0].decode("latin-1") if argv else "(empty command)")
    return errors.INTERNAL


def rerun_blocked(client: Client, argv: list[bytes]) -> Any:
    """Re-run a parked command for respd.blocking; BLOCKED means it still waits."""
    cmd = _lookup(argv)  # the argv was resolved once already: it names a command
    client.reprocessing = True
    try:
        reply = call(client, cmd, argv)
    finally:
        client.reprocessing = False
    return reply
