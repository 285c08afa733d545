"""The bookkeeping every collection family (lists, hashes, sets, sorted sets, streams) does
after writing elements: dirty count, WATCH/blocking signal, keyspace events; and the
lookups the blocking pops of lists and sorted sets share.

It lives here rather than next to ``Database`` because it needs the client (for
``server.dirty``) and speaks in Redis's command-level terms; ``Database`` stays at the
level of keys.  The order of keyspace events is what clients observe (compat cases compare
it byte for byte): the family's event first, then ``del`` when the key went away.

These run after every collection write, so they test the cheap flags first and call
``modified``/``notify`` only when something watches, waits or listens (as ``Database.set``
does).
"""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client


def elements_written(client: Client, key: bytes, cls: str, event: bytes,
                     count: int = 1) -> None:
    """After elements were added or changed in the collection at key (which exists)."""
    server = client.server
    server.dirty += count
    db = client.db
    db.resized[key] = None  # its memory estimate is redone when next asked
    if db.watched or db.blocking:
        db.modified(key)
    if server.notifying:
        db.notify(cls, event, key)


def elements_removed(client: Client, key: bytes, value: Any, cls: str, event: bytes,
                     count: int) -> None:
    """listElementsRemoved and its kin: the event, then the key deleted (and 'del'
    notified) once ``value``, the collection as it now is, is empty; dirty += count."""
    server = client.server
    db = client.db
    if server.notifying:
        db.notify(cls, event, key)
    if not value:
        db.delete(key)
        db.notify("g", b"del", key)
    else:
        db.resized[key] = None  # its memory estimate is redone when next asked
        if db.watched or db.blocking:
            db.modified(key)
    server.dirty += count


def candidate_keys(client: Client, keys: list[bytes]) -> list[bytes]:
    """The keys a blocking pop may serve from: all of them, or on a re-run only the key
    that became ready."""
    key = client.server.blocking.serving_key
    if client.reprocessing and key is not None:
        return [key] if key in keys else []
    return keys


def typed_or_skip(client: Client, key: bytes, cls: type) -> Any:
    """The value at key if it is a ``cls``; WRONGTYPE, except on a re-run where a key of
    another type is treated as empty (the client keeps waiting)."""
    value = client.db.lookup(key)
    if value is not None and type(value) is not cls:
        if client.reprocessing:
            return None
        raise errors.WRONGTYPE
    return value
