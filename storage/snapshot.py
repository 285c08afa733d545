"""The dataset as commands: the base an AOF rewrite writes with aof-use-rdb-preamble no
(otherwise, and for snapshots, it is an RDB file: respd.storage.rdb).

Each data type contributes a *rewriter*: ``fn(key, value) -> iterable of argv`` that
rebuilds the value from nothing (strings ``SET``, lists ``RPUSH``, hashes ``HSET``...).
Families register theirs with ``register_rewriter(cls, fn)``; a value whose type has no
rewriter makes the rewrite fail (the previous files stay in use) instead of silently
dropping a key.  Expiry times follow as ``PEXPIREAT``.

Background work runs in a forked child (``fork_child``), Redis's approach: the child gets
a copy-on-write image of the dataset as of the fork, serialises it and exits, while the
parent keeps serving clients.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import traceback
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from respd.numbers import format_double
from respd.resp import encode_request
from respd.storage.db import TYPE_NAMES
from respd.storage.lists import ListValue
from respd.storage.zset import ZSet

if TYPE_CHECKING:
    from respd.server import Server

log = logging.getLogger("respd")

Rewriter = Callable[[bytes, Any], Iterable[list[bytes]]]

# Redis's AOF_REWRITE_ITEMS_PER_CMD: variadic commands carry at most this many items.
ITEMS_PER_COMMAND = 64


class RewriteError(Exception):
    pass


def _rewrite_string(key: bytes, value: bytes) -> Iterable[list[bytes]]:
    return ([b"SET", key, value],)


def register_rewriter(cls: type, fn: Rewriter) -> None:
    """Let a data type take part in AOF rewrites."""
    REWRITERS[cls] = fn


# FUNCTION libraries are part of the dataset: the scripting family says where their
# source code is (``fn(server) -> codes``).
FUNCTION_SOURCES: list[Callable[["Server"], Iterable[bytes]]] = []


def function_libraries(server: "Server") -> list[bytes]:
    return [code for source in FUNCTION_SOURCES for code in source(server)]


def batched(name: bytes, key: bytes, items: Iterable[bytes]) -> Iterator[list[bytes]]:
    """``name key item...`` commands of at most ITEMS_PER_COMMAND items (pairs count as
    two items: pass them flattened and the count stays even)."""
    argv: list[bytes] = [name, key]
    for item in items:
        argv.append(item)
        if len(argv) - 2 >= ITEMS_PER_COMMAND:
            yield argv
            argv = [name, key]
    if len(argv) > 2:
        yield argv


def _rewrite_list(key: bytes, value: ListValue) -> Iterable[list[bytes]]:
    return batched(b"RPUSH", key, value)


def _rewrite_zset(key: bytes, value: ZSet) -> Iterable[list[bytes]]:
    # %.17g scores read back as the very same doubles.
    return batched(b"ZADD", key, (item for member, score in value.items()
                                  for item in (format_double(score), member)))


REWRITERS: dict[type, Rewriter] = {
    bytes: _rewrite_string, ListValue: _rewrite_list, ZSet: _rewrite_zset,
}


def dataset_commands(server: "Server", now_ms: int) -> Iterator[bytes]:
    """The whole dataset as encoded commands: FUNCTION libraries, then database by
    database.  Keys already past their expiry are left out, as Redis's rewrite does."""
    for code in function_libraries(server):
        yield encode_request([b"FUNCTION", b"LOAD", code])
    for db in server.dbs:
        if not db.data:
            continue
        yield encode_request([b"SELECT", b"%d" % db.index])
        expires = db.expires
        for key, value in db.data.items():
            when = expires.get(key)
            if when is not None and when <= now_ms:
                continue
            rewriter = REWRITERS.get(type(value))
            if rewriter is None:
                name = TYPE_NAMES.get(type(value), type(value).__name__.encode())
                raise RewriteError(f"no rewriter for values of type {name.decode()}")
            yield b"".join(map(encode_request, rewriter(key, value)))
            if when is not None:
                yield encode_request([b"PEXPIREAT", key, b"%d" % when])


def write_commands_file(path: str, server: "Server") -> int:
    """Write the dataset to ``path`` (fsynced); returns its size."""
    size = 0
    with open(path, "wb", buffering=1 << 20) as f:
        for chunk in dataset_commands(server, server.now_ms()):
            f.write(chunk)
            size += len(chunk)
        f.flush()
        os.fsync(f.fileno())
    return size


def fsync_dir(path: str) -> None:
    """Make a rename or a new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _die_with_parent() -> None:
    # A child left behind by a killed server would hold its listening socket.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def fork_child(work: Callable[[], None]) -> int:
    """Run ``work`` in a forked child that exits 0 on success; returns the child's pid.
    The child never returns into the event loop."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        _die_with_parent()
        work()
        code = 0
    except BaseException:  # report whatever went wrong, then leave
        traceback.print_exc()
    finally:
        os._exit(code)
