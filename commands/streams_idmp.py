"""Redis 8.6's idempotent producers: ``XADD key ... IDMP pid iid | IDMPAUTO pid * ...``
answers a retried send with the entry the first one made instead of adding another.

The state of a stream (``storage.stream.Idmp``) is made by its first IDMP/IDMPAUTO XADD
or XCFGSET, with the ``stream-idmp-duration``/``stream-idmp-maxsize`` defaults of that
moment; ``XCFGSET`` changes a stream's window (clearing what it remembers when a value
changes), ``XIDMPRECORD`` (commands/streams.py, which parses its ID) restores one
remembered ID (AOF rewrites, RDB extras).  The
background cycle forgets IDs older than the window, as Redis's cron does.

IDMPAUTO's idempotent ID is a 128-bit hash of the field/value pairs that does not depend
on their order (each pair hashed, the pair hashes combined by sum and xor, as Redis
combines its XXH3 ones); respd uses BLAKE2b for the pairs, so the bytes differ from
Redis's, which only ``XIDMPRECORD`` between the two servers could show.

XINFO STREAM shows the six IDMP fields only for a stream that has this state, so a 7.0
reply stays byte for byte what it was.
"""

from __future__ import annotations

import hashlib
from typing import Any
from weakref import WeakKeyDictionary

from respd import errors
from respd.background import every_cycle
from respd.client import Client
from respd.command import command
from respd.numbers import int64
from respd.resp import OK
from respd.storage.db import Database
from respd.storage.stream import Idmp, Stream, format_id

GROUP = "stream"
_MASK64 = (1 << 64) - 1
_DURATION_RANGE = (1, 86400)
_MAXSIZE_RANGE = (1, 10000)

# Streams with remembered IDs, per server: (db index, key).  A key whose stream is gone
# or remembers nothing is dropped by the cycle.
_TRACKED: WeakKeyDictionary[Any, dict[tuple[int, bytes], None]] = WeakKeyDictionary()


def state_of(client: Client, stream: Stream) -> Idmp:
    """The stream's IDMP state, made with the server's defaults when it has none."""
    if stream.idmp is None:
        config = client.server.config
        stream.idmp = Idmp(config.stream_idmp_duration, config.stream_idmp_maxsize)
    return stream.idmp


def track(db: Database, key: bytes) -> None:
    tracked = _TRACKED.get(db.events)
    if tracked is None:
        tracked = _TRACKED[db.events] = {}
    tracked[(db.index, key)] = None


def auto_iid(fields: list[bytes]) -> bytes:
    """IDMPAUTO's idempotent ID: the same for the same pairs in any order."""
    sum_lo = sum_hi = xor_lo = xor_hi = 0
    for i in range(0, len(fields), 2):
        field, value = fields[i], fields[i + 1]
        digest = hashlib.blake2b(field + len(field).to_bytes(8, "little") + value,
                                 digest_size=16).digest()
        lo, hi = int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")
        sum_lo, sum_hi = (sum_lo + lo) & _MASK64, (sum_hi + hi) & _MASK64
        xor_lo, xor_hi = xor_lo ^ lo, xor_hi ^ hi
    lo = sum_lo ^ _rotl1(xor_hi)
    hi = sum_hi ^ _rotl1(xor_lo)
    return lo.to_bytes(8, "little") + hi.to_bytes(8, "little")


def _rotl1(x: int) -> int:
    return ((x << 1) | (x >> 63)) & _MASK64


@every_cycle
def expire_idmp(server: Any) -> None:
    """handleExpiredIdmpEntries: forget IDs older than their stream's window."""
    tracked = _TRACKED.get(server)
    if not tracked:
        return
    now = server.now_ms()
    for slot in list(tracked):
        db_index, key = slot
        stream = server.dbs[db_index].data.get(key) if db_index < len(server.dbs) else None
        if type(stream) is not Stream or stream.idmp is None:
            del tracked[slot]
            continue
        stream.idmp.expire(now)
        if not stream.idmp.producers:
            del tracked[slot]


def info_fields(stream: Stream) -> list[tuple[bytes, Any]]:
    """XINFO STREAM's IDMP fields (after recorded-first-entry-id), when there is state."""
    idmp = stream.idmp
    if idmp is None:
        return []
    return [(b"idmp-duration", idmp.duration), (b"idmp-maxsize", idmp.maxsize),
            (b"pids-tracked", len(idmp.producers)), (b"iids-tracked", idmp.tracked()),
            (b"iids-added", idmp.added), (b"iids-duplicates", idmp.duplicates)]


def restore_commands(key: bytes, stream: Stream) -> list[list[bytes]]:
    """What recreates the state after the stream itself (AOF rewrite, RDB extras): the
    window, the remembered IDs oldest first, then the lifetime counters."""
    idmp = stream.idmp
    if idmp is None:
        return []
    cmds = [[b"XCFGSET", key, b"IDMP-DURATION", b"%d" % idmp.duration,
             b"IDMP-MAXSIZE", b"%d" % idmp.maxsize]]
    for pid, known in idmp.producers.items():
        for iid, sid in known.items():
            if stream.get(sid) is not None:  # XIDMPRECORD wants the entry (it may be gone)
                cmds.append([b"XIDMPRECORD", key, pid, iid, format_id(sid)])
    cmds.append([b"RESPD.XIDMPCOUNTERS", key, b"%d" % idmp.added, b"%d" % idmp.duplicates])
    return cmds


def stream_or_error(client: Client, key: bytes) -> Stream:
    stream = client.db.lookup_typed(key, Stream)
    if stream is None:
        raise errors.NO_SUCH_KEY
    return stream


# --- XCFGSET -----------------------------------------------------------------------------------


def _bounded(raw: bytes, bounds: tuple[int, int], error: errors.ReplyError) -> int:
    value = int64(raw)
    if not bounds[0] <= value <= bounds[1]:
        raise error
    return value


@command("XCFGSET", arity=-2, flags="write fast", keys=(1, 1, 1), group=GROUP, since="8.6.0",
         summary="Sets the IDMP configuration parameters for a stream.",
         syntax="key [IDMP-DURATION duration:integer] [IDMP-MAXSIZE maxsize:integer]")
def xcfgset(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    stream = stream_or_error(client, key)  # before the options, as Redis looks it up
    duration = maxsize = -1
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        more = i + 1 < len(argv)
        if opt == b"idmp-duration" and more:
            if duration != -1:
                raise errors.XCFGSET_DURATION_TWICE
            duration = _bounded(argv[i + 1], _DURATION_RANGE, errors.XCFGSET_DURATION_RANGE)
        elif opt == b"idmp-maxsize" and more:
            if maxsize != -1:
                raise errors.XCFGSET_MAXSIZE_TWICE
            maxsize = _bounded(argv[i + 1], _MAXSIZE_RANGE, errors.XCFGSET_MAXSIZE_RANGE)
        else:
            raise errors.SYNTAX
        i += 2
    if duration == -1 and maxsize == -1:
        raise errors.XCFGSET_NOTHING
    config = client.server.config
    idmp = stream.idmp
    current = (idmp.duration, idmp.maxsize) if idmp is not None else (
        config.stream_idmp_duration, config.stream_idmp_maxsize)
    wanted = (duration if duration != -1 else current[0],
              maxsize if maxsize != -1 else current[1])
    # A new value clears what the stream remembers; the same one does not, so that
    # every producer may set the window before it starts.
    if wanted != current:
        idmp = state_of(client, stream)
        idmp.duration, idmp.maxsize = wanted
        idmp.clear()
        client.server.dirty += 1
    return OK


# --- RESPD.XIDMPCOUNTERS (respd: restores the lifetime counters) --------------------------------


@command("RESPD.XIDMPCOUNTERS", arity=4, flags="write fast", keys=(1, 1, 1), group=GROUP,
         since="0.1.0",
         summary="Restores a stream's iids-added and iids-duplicates counters (respd only; "
                 "written by AOF rewrites and RDB files).",
         syntax="key added:integer duplicates:integer")
def respd_xidmpcounters(client: Client, argv: list[bytes]) -> Any:
    stream = stream_or_error(client, argv[1])
    added, duplicates = int64(argv[2]), int64(argv[3])
    if added < 0 or duplicates < 0:
        raise errors.RESPD_RETENTION_NEGATIVE
    idmp = state_of(client, stream)
    idmp.added, idmp.duplicates = added, duplicates
    client.server.dirty += 1
    return OK
