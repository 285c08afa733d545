"""The choke point every command goes through (Redis's processCommand + call).

``execute`` is processCommand: it decides which error a client sees, in Redis's order.
Redis 7.0 checks (server.c processCommand), and where each lives here:

    lookup (unknown command / subcommand)        command.lookup, in execute
    arity                                        Command.min_argc/max_argc, in execute
    protected commands (enable-debug-command…)   respd.protected, in execute
    authentication (NOAUTH)                      _refusal
    no_multi commands inside MULTI               _refusal
    ACL (command, keys, channels)                _refusal (respd.acl)
    cluster redirection (MOVED, ASK, CROSSSLOT)  _refusal (respd.cluster.routing)
    OOM for denyoom commands (maxmemory)         _refusal (respd.eviction)
    MISCONF                                      _refusal (server.disk_error: respd.misconf)
    min-replicas, read-only and stale replica    _refusal (respd.replication)
    RESP2 subscribed-mode rule                   _refusal
    replica (a MONITOR client) touching keys     _refusal
    CLIENT PAUSE postpones                       _refusal (respd.pause)
    MULTI queueing                               execute
    call()                                       call

``_refusal`` holds every check after arity, one ``if`` each in that order: a new check
is one line there, plus one term in ``Server.update_checks`` when it can refuse a
command of an authenticated client in the plain state (see below).  A refusal is
Redis's rejectCommand (``_reject``): counted as a rejected call and an error, it dooms a
transaction, and a refused EXEC discards it.

``call`` is the one executor: it runs a handler, turns a raised ``ReplyError`` into the
reply, records statistics, failed calls, the slow log, feeds MONITOR clients, and
collects what must be propagated to the AOF.  Every path runs commands through it:
``execute``, the pipelined loop ``run_batch``, EXEC, scripts and blocked clients
re-run when their keys are ready (``rerun_blocked``, Redis's CMD_CALL_REPROCESSING).
After a top-level command, clients blocked on keys it made ready are served and the
propagated commands are handed to the AOF (``_after_command``).

``run_batch`` runs the requests of one read.  While the client is in the plain state
and ``Server.checks_needed`` is false, no check can refuse, postpone or queue a plain
command (``Command.plain``), so such a command skips straight to ``call``; everything
else goes through ``execute``.

Handlers are synchronous ``handler(client, argv) -> reply value``; they raise
``ReplyError`` for error replies.  Nothing here awaits, so every command, transaction and
script is atomic.
"""

from __future__ import annotations

import logging
from time import perf_counter_ns
from typing import Any

from respd import acl, errors, pause, protected
from respd.cluster import routing as cluster_routing
from respd.client import REPLY_ON, REPLY_SKIP, Client
from respd.command import COMMANDS, Command, lookup
from respd.errors import ReplyError
from respd.latency import LATENCY_STEP_NS, command_sample
from respd.resp import BLOCKED, BULK_HEADERS, INT_REPLIES, NO_REPLY, OK, PONG, QUEUED, encode

log = logging.getLogger("respd")

# Commands a client in MULTI runs at once instead of queueing.
_MULTI_IMMEDIATE = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# Commands a RESP2 client with subscriptions may still run.
_SUBSCRIBED_ALLOWED = frozenset(
    {"subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
     "punsubscribe", "ping", "quit", "reset"}
)

# The plain commands (Command.plain) by the spelling clients send, for run_batch;
# filled by execute as it meets them.
_PLAIN_BY_SPELLING: dict[bytes, Command] = {}
_SPELLINGS_MAX = 4096
_NONE: dict[bytes, Command] = {}  # the table outside the plain state
# What run_batch finds for a request it does not run itself: no argument count fits.
# (A Command, so the attribute load in run_batch sees one type.)
_NOT_PLAIN = Command(name="", handler=None, arity=0, flags=())
_NOT_PLAIN.min_argc, _NOT_PLAIN.max_argc = 1, 0


def resolve(argv: list[bytes]) -> Command:
    """Lookup and arity, raising Redis's errors (for callers outside execute)."""
    cmd = lookup(argv)
    if cmd is None:
        raise _unknown(argv)
    if not cmd.min_argc <= len(argv) <= cmd.max_argc:
        raise errors.wrong_arity(cmd.name)
    return cmd


def _unknown(argv: list[bytes]) -> ReplyError:
    """commandCheckExistence: an unknown subcommand of a known container, or an unknown
    command."""
    container = COMMANDS.get(argv[0].lower())
    if container is not None and container.subcommands and len(argv) > 1:
        return errors.unknown_subcommand(argv)
    return errors.unknown_command(argv)


def execute(client: Client, argv: list[bytes]) -> Any:
    """processCommand: run one request from a client and return its reply value."""
    cmd = lookup(argv)
    client.last_cmd = cmd  # Redis's c->lastcmd: set before a rejection or queueing
    if cmd is None:
        return _reject(client, None, _unknown(argv))
    if not cmd.min_argc <= len(argv) <= cmd.max_argc:
        return _reject(client, cmd, errors.wrong_arity(cmd.name))
    if cmd.name in protected.COMMANDS:  # DEBUG, MODULE: before authentication, as Redis
        try:
            protected.check_command(client, cmd.name)
        except ReplyError as err:
            return _reject(client, cmd, err)
    if cmd.plain and len(_PLAIN_BY_SPELLING) < _SPELLINGS_MAX:
        _PLAIN_BY_SPELLING[argv[0]] = cmd
    refusal = _refusal(client, cmd, argv)
    if refusal is not None:
        return refusal if refusal is BLOCKED else _reject(client, cmd, refusal)
    if client.multi is not None and cmd.name not in _MULTI_IMMEDIATE:
        client.multi.append((cmd, argv))
        return QUEUED
    if client.tracking is not None:  # client-side caching: its invalidations follow the reply
        return client.server.tracking.execute(client, cmd, argv, call, _after_command)
    reply = call(client, cmd, argv)
    _after_command(client.server)
    return reply


def _refusal(client: Client, cmd: Command, argv: list[bytes]) -> Any:
    """processCommand's checks after arity, in Redis's order (see the module docstring):
    the error of the first that refuses, BLOCKED if CLIENT PAUSE postpones the command,
    or None to run it."""
    server = client.server
    if not client.authenticated and not cmd.no_auth:
        return errors.NOAUTH
    if cmd.no_multi and client.multi is not None:
        return errors.NOT_ALLOWED_IN_MULTI
    if client.acl_restricted and (denied := acl.check_command(client, cmd, argv)) is not None:
        return denied
    # getNodeByQuery; the master link and AOF loading (loading clients) are obeyed as is.
    if server.cluster is not None and not client.loading \
            and (redirect := cluster_routing.check(server.cluster, client, cmd, argv)) is not None:
        return redirect  # -MOVED, -ASK, -CROSSSLOT, -TRYAGAIN, -CLUSTERDOWN
    if server.memory_limited and (oom := server.memory.admit(client, cmd, argv)) is not None:
        return oom  # maxmemory(-clients): evicts first, -OOM for denyoom commands
    if server.disk_error is not None \
            and (misconf := server.disk_error.refusal(client, cmd, argv)) is not None:
        return misconf  # a failed background save (stop-writes-on-bgsave-error)
    if server.write_guard and not client.loading \
            and (refused := server.replication.refuse_write(client, cmd)) is not None:
        return refused  # -NOREPLICAS, -READONLY, -MASTERDOWN
    if client.resp == 2 and (client.channels or client.patterns or client.shard_channels) \
            and cmd.name not in _SUBSCRIBED_ALLOWED:
        return errors.not_allowed_in_subscribed(cmd.name)
    # A MONITOR client is a replica to Redis: it may not read or write keys, nor is it
    # ever paused.
    if client.is_monitor and (cmd.is_write or cmd.is_readonly or "may_replicate" in cmd.flags):
        return errors.REPLICA_KEYSPACE
    if server.pause.until_ms and not client.is_monitor and client.transport is not None \
            and pause.postpones(client, cmd, argv):
        return BLOCKED
    return None


def _reject(client: Client, cmd: Command | None, err: ReplyError) -> ReplyError:
    """Redis's rejectCommand: a rejected call of the command and an error reply; inside
    MULTI it dooms the transaction, and a rejected EXEC discards it."""
    server = client.server
    if client.multi is not None:
        client.multi_error = True
    if cmd is not None:
        server.cmd_stats[cmd.stat_index][2] += 1
        if cmd.name == "exec":
            client.discard_transaction()  # execCommandAbort
            err = errors.exec_aborted_by(err)
    server.count_error(err)
    return err


def call(client: Client, cmd: Command, argv: list[bytes], start: int = 0) -> Any:
    """Run the handler and account for it: statistics, failed calls and error counts,
    the slow log, MONITOR clients, propagation of writes to the AOF.

    ``start`` is when the command began (``perf_counter_ns()``; read here when 0).
    run_batch reads the clock once per command: each command's time runs from the end
    of the previous one (``server.call_end``), so it includes building the previous
    reply, as Redis's includes building its own."""
    server = client.server
    # Without an AOF or a replication backlog nothing consumes propagated commands.
    propagating = server.propagating
    if propagating:
        dirty = server.dirty
        client.propagate_as = None
    if not start:
        start = perf_counter_ns()
    handler = cmd.handler  # an attribute, not a method: LOAD_ATTR stays specialized
    try:
        reply = handler(client, argv)  # type: ignore[misc]
    except ReplyError as err:
        # Error replies are shared instances: each raise would chain its frames (argv,
        # the client) onto the same object for good, so they are dropped here.
        err.__traceback__ = err.__context__ = err.__cause__ = None
        reply = err
    except Exception:
        reply = _internal_error(argv)
    server.call_end = end = perf_counter_ns()
    duration = end - start
    index = cmd.stat_index
    stats = server.cmd_stats[index]
    if reply is not BLOCKED:  # a parked command counts once, when it is served
        stats[0] += 1
    stats[1] += duration
    if type(reply) is ReplyError:
        stats[3] += 1
        server.count_error(reply)
    server.latency_rows[index][(duration // LATENCY_STEP_NS).bit_length()] += 1
    if server.tracking_reads and cmd.is_readonly:  # client-side caching remembers the keys
        server.tracking.remember(client, cmd, argv)
    if duration >= server.latency_threshold_ns:  # latency-monitor-threshold (off: 2**62)
        command_sample(server, "fast" in cmd.flags, duration)
    if duration > server.slowlog_threshold_ns and "skip_slowlog" not in cmd.flags:
        server.slowlog_add(client, argv, duration)  # not EXEC: its commands are logged
    if propagating and server.dirty != dirty and not client.loading:
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


def _after_command(server: Any) -> None:
    """After a top-level command: serve the clients blocked on keys it made ready, hand
    what it wrote to the AOF."""
    if server.blocking.ready:
        server.blocking.serve_ready()
    if server.propagated:
        server.propagate_pending()


_OK_LINE = encode(OK)  # the most common reply, encoded once
_PONG_LINE = encode(PONG)  # and the cheapest command's
_NULL_LINES = {proto: encode(None, proto) for proto in (2, 3)}  # by protocol


def run_batch(client: Client, requests: Any) -> None:
    """Run the requests of one read in order, appending the encoded replies to
    ``client.out``, until done, blocked or closing (the rest wait in client.pending).

    In the plain state (``_plain_state``) a plain command of the right arity goes
    straight to ``call``: no check of ``execute`` can refuse, postpone or queue it
    there.  Anything else goes through ``execute``, after which the state is looked at
    again."""
    server = client.server
    append = client.out.append
    blocking = server.blocking
    # The plain table while in the plain state, none otherwise: one lookup decides.
    plain_get = (_PLAIN_BY_SPELLING if _plain_state(client) else _NONE).get
    resp = client.resp
    null_line = _NULL_LINES[resp]
    start = perf_counter_ns()
    for argv in requests:
        cmd = plain_get(argv[0], _NOT_PLAIN)
        if cmd.min_argc <= len(argv) <= cmd.max_argc:
            client.last_cmd = cmd
            reply = call(client, cmd, argv, start)
            # The commonest replies from resp.encode's tables and lines it encoded once:
            # a call to it costs more than these tests (~1,500 instructions for PONG).
            t = type(reply)
            if reply is OK:
                append(_OK_LINE)
            elif t is bytes:
                n = len(reply)
                append((BULK_HEADERS[n] if n < 1025 else b"$%d\r\n" % n) + reply + b"\r\n")
            elif t is int:
                append(INT_REPLIES[reply] if 0 <= reply <= 10000 else b":%d\r\n" % reply)
            elif reply is PONG:
                append(_PONG_LINE)
            elif reply is None:
                append(null_line)
            else:
                append(encode(reply, resp))
            if blocking.ready:
                blocking.serve_ready()
                start = perf_counter_ns()
            else:
                start = server.call_end
            continue
        if client.blocked is not None or client.close_after_reply:
            client.pending.append(argv)
            continue
        reply = execute(client, argv)
        plain_get = (_PLAIN_BY_SPELLING if _plain_state(client) else _NONE).get
        resp = client.resp  # HELLO may switch protocols mid-batch
        null_line = _NULL_LINES[resp]
        start = perf_counter_ns()
        if reply is BLOCKED or reply is NO_REPLY:
            continue
        if client.reply_mode:  # CLIENT REPLY OFF or SKIP
            if client.reply_mode == REPLY_SKIP:
                client.reply_mode = REPLY_ON
            continue
        append(_OK_LINE if reply is OK else encode(reply, resp))
    if server.propagated:  # expired keys; with no AOF nothing else is collected
        server.propagate_pending()
    if client.out and client.transport is not None:
        server.pending_writes[client] = None


def _plain_state(client: Client) -> bool:
    """Nothing for execute to decide but the command itself: an authenticated network
    client whose user may run anything (no ACL check), not in MULTI, not subscribed in RESP2, not a monitor, not blocked, closing
    or silenced; no check needed on the server (Server.checks_needed) and nothing
    writes are handed over after each command)."""
    server = client.server
    return (client.authenticated and not client.acl_restricted and client.multi is None
            and client.blocked is None
            and not client.close_after_reply and client.reply_mode == REPLY_ON
            and not client.loading and client.transport is not None
            and not client.is_monitor and client.tracking is None
            and not (client.resp == 2 and (client.channels or client.patterns
                                           or client.shard_channels))
            and not server.checks_needed and not server.propagating)


def _internal_error(argv: list[bytes]) -> ReplyError:
    """A bug must cost one reply, never the server."""
    log.exception("internal error running %s",
                  argv[0].decode("latin-1") if argv else "(empty command)")
    return errors.INTERNAL


def rerun_blocked(client: Client, argv: list[bytes]) -> Any:
    """Re-run a parked command for respd.blocking; BLOCKED means it still waits."""
    cmd = lookup(argv)  # the argv was resolved once already: it names a command
    assert cmd is not None
    client.reprocessing = True
    try:
        return call(client, cmd, argv)
    finally:
        client.reprocessing = False
