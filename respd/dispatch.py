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

from respd import errors
from respd.blocking import BLOCKED
from respd.client import Client
from respd.command import COMMANDS, Command
from respd.errors import ReplyError
from respd.resp import QUEUED

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
        if not cmd.subcommands and len(_BY_SPELLING) < _SPELLINGS_MAX:
            _BY_SPELLING[name] = cmd
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
    if server.paused_until_ms and client.transport is not None:
        from respd.commands.client import pause_postpones  # only while CLIENT PAUSE is on

        if pause_postpones(client, cmd, argv):
            return BLOCKED
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
        if not client.authenticated and not cmd.no_auth:
            raise errors.NOAUTH
    except ReplyError as err:
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
        reply = err
    except Exception:  # a bug must cost one reply, never the server
        log.exception("internal error running %r", argv[:1])
        reply = errors.INTERNAL
    duration = perf_counter_ns() - start
    stats = server.cmd_stats[cmd.stat_index]
    if reply is not BLOCKED:  # a parked command counts once, when it is served
        stats[0] += 1
    stats[1] += duration
    if type(reply) is ReplyError:
        stats[3] += 1
        server.count_error(reply)
    if duration > server.slowlog_threshold_ns:
        server.slowlog_add(client, argv, duration)
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


def rerun_blocked(client: Client, argv: list[bytes]) -> Any:
    """Re-run a parked command for respd.blocking; BLOCKED means it still waits."""
    cmd = _lookup(argv)  # the argv was resolved once already: it names a command
    client.reprocessing = True
    try:
        reply = call(client, cmd, argv)
    finally:
        client.reprocessing = False
    return reply
