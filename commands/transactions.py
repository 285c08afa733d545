"""Transactions: MULTI EXEC DISCARD WATCH UNWATCH.

Queueing lives in dispatch.execute (``client.multi`` collects (command, argv) pairs and
``client.multi_error`` records a rejected one).  EXEC runs the queue through
``dispatch.call`` with blocking denied, so the whole transaction is one synchronous step.

WATCH follows Redis 7.0: a key modified by anyone (``Database.modified`` sets
``dirty_cas``), emptied by FLUSHDB/FLUSHALL/SWAPDB while it exists, or whose TTL has
passed by EXEC time aborts the transaction with a null array.

Propagation: the writes of an EXEC (or a script, see ``propagation_unit``) reach the AOF
wrapped in MULTI/EXEC when there is more than one of them, as Redis 7.0's
propagatePendingCommands does; the EXEC command itself is never propagated.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from respd import errors
from respd.acl import check_exec
from respd.client import Client
from respd.command import command
from respd.dispatch import call
from respd.resp import NO_REPLY, NULL_ARRAY, OK

GROUP = "transactions"

# How many EXEC/script propagation units are open: only the outermost one wraps, so an
# EVAL inside EXEC does not produce a nested MULTI.
_open_units = 0


@contextmanager
def propagation_unit(client: Client) -> Iterator[None]:
    """Everything propagated inside the block reaches the AOF as one MULTI/EXEC unit,
    and the command that opened the unit (EXEC, EVAL...) is not propagated itself."""
    global _open_units
    server = client.server
    start = len(server.propagated)
    _open_units += 1
    try:
        yield
    finally:
        _open_units -= 1
        client.propagate_as = []
        batch = server.propagated[start:]
        if _open_units == 0 and len(batch) > 1:
            server.propagated[start:] = [
                (batch[0][0], [b"MULTI"]), *batch, (batch[-1][0], [b"EXEC"]),
            ]


def _watched_key_expired(client: Client) -> bool:
    """A WATCHed key that was alive at WATCH time and has reached its TTL since."""
    now = client.server.now_ms()
    for db, key in client.watched:
        when = db.expires.get(key)
        if when is not None and when <= now:
            return True
    return False


@command("MULTI", arity=1, flags="noscript loading stale fast allow_busy", group=GROUP,
         since="1.2.0", summary="Mark the start of a transaction block")
def multi(client: Client, argv: list[bytes]) -> Any:
    if client.multi is not None:
        raise errors.MULTI_NESTED
    client.multi = []
    client.multi_error = False
    return OK


@command("DISCARD", arity=1, flags="noscript loading stale fast allow_busy", group=GROUP,
         since="2.0.0", summary="Discard all commands issued after MULTI")
def discard(client: Client, argv: list[bytes]) -> Any:
    if client.multi is None:
        raise errors.DISCARD_WITHOUT_MULTI
    client.discard_transaction()
    return OK


@command("EXEC", arity=1, flags="noscript loading stale skip_slowlog", group=GROUP,
         since="1.2.0", summary="Execute all commands issued after MULTI")
def exec_(client: Client, argv: list[bytes]) -> Any:
    queued = client.multi
    if queued is None:
        raise errors.EXEC_WITHOUT_MULTI
    if client.multi_error:
        client.discard_transaction()
        raise errors.EXECABORT
    if client.dirty_cas or _watched_key_expired(client):
        client.discard_transaction()
        return NULL_ARRAY
    # Unwatch first: the transaction's own writes must not flag this client.
    client.discard_transaction()
    replies: list[Any] = []
    denied = client.deny_blocking
    client.deny_blocking = True
    try:
        with propagation_unit(client):
            for cmd, cmd_argv in queued:
                # ACLs are checked again: the rules may have changed since queueing.
                denied = client.acl_restricted and check_exec(client, cmd, cmd_argv)
                reply = denied or call(client, cmd, cmd_argv)
                if reply is not NO_REPLY:  # CLIENT REPLY and the like answer nothing
                    replies.append(reply)
    finally:
        client.deny_blocking = denied
    return replies


@command("WATCH", arity=-2, flags="noscript loading stale fast allow_busy", keys=(1, -1, 1),
         group=GROUP, since="2.2.0",
         summary="Monitor changes to keys to determine execution of the MULTI/EXEC block",
         syntax="key [key ...]")
def watch(client: Client, argv: list[bytes]) -> Any:
    if client.multi is not None:
        raise errors.WATCH_IN_MULTI
    for key in argv[1:]:
        db = client.db
        watchers = db.watched.setdefault(key, {})
        if client in watchers:
            continue
        # A key already past its TTL is gone for this client: removing it now means its
        # later deletion cannot count as a change (Redis 7.0 skips such stale keys).
        db.lookup(key)
        watchers[client] = None
        client.watched.append((db, key))
    return OK


@command("UNWATCH", arity=1, flags="noscript loading stale fast allow_busy", group=GROUP,
         since="2.2.0", summary="Forget about all watched keys")
def unwatch(client: Client, argv: list[bytes]) -> Any:
    client.unwatch_all()
    return OK
