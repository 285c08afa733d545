"""respd's own stream features, in a ``RESPD.`` command family (as Redis modules name
theirs, so no present or future Redis name can collide):

``RESPD.XRETENTION key [MAXAGE ms] [MAXLEN n] [MAXBYTES n] [KEEPREF|DELREF|ACKED]``
    sets a retention policy that the server enforces in its background cycle, like
    Kafka's retention.ms/retention.bytes; ``RESPD.XRETENTION key OFF`` removes it and
    ``RESPD.XRETENTION key`` shows it.  ``ACKED`` keeps what a group has not yet been
    delivered or acknowledged ("keep 7 days, but never drop unacknowledged entries").

``RESPD.XDEADLETTER key group MAXDELIVERIES n TO dlq-key``
    gives a group a dead-letter stream (see ``dead_letter`` in commands/streams.py);
    ``RESPD.XDEADLETTER key group OFF`` removes it, ``RESPD.XDEADLETTER key group`` shows it.

Retention work is bounded per cycle (rounds of ``_BUDGET`` entries, whole nodes first, as
MINID trimming does, for at most ``_CYCLE_SECONDS``), so a big backlog is worked off over
several cycles without a latency spike.  Each cycle's trim is propagated (AOF and replicas, through
``server.propagated`` as expiry's DELs are) as ``XTRIM key MAXLEN = <length left>
[DELREF|ACKED]``, which replays to the same state whatever the policy (trims remove
deletable entries in ID order); KEEPREF, the default, is left out so that a redis-server
7.0 replica applies the trims too.  A replica never trims on its own: its primary's
XTRIMs do it.  A server-wide default comes from the ``respd-stream-retention-*`` directives
and applies to streams without their own policy.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any
from weakref import WeakKeyDictionary

from respd import errors
from respd.background import every_cycle
from respd.client import Client
from respd.command import command
from respd.numbers import int64
from respd.resp import OK
from respd.commands.streams_idmp import restore_commands
from respd.storage.db import Database
from respd.storage.rdb import register_extras
from respd.storage.stream import (
    ACKED, DELREF, KEEPREF, DeadLetter, Retention, Stream, format_id,
)

GROUP = "stream"
_POLICY_NAMES = {KEEPREF: b"KEEPREF", DELREF: b"DELREF", ACKED: b"ACKED"}
_POLICIES = {name.lower(): policy for policy, name in _POLICY_NAMES.items()}
_BUDGET = 1000  # entries one trimming round may remove (at least two nodes)
_CYCLE_SECONDS = 0.001  # the retention work one background cycle may do

_REDISCOVER_MS = 10_000  # at most one keyspace pass per this, after a stream went missing


class _Watch:
    """One server's streams that may need retention work.  Streams created by XADD or
    XGROUP CREATE MKSTREAM, or given a policy, are added as that happens; the others
    (loaded from a file or from a primary, renamed, moved, restored) are found by a
    pass over the keyspace: at the first cycle as a primary (so after loading and after
    a promotion), when the server-wide default changes, and (rate-limited) after a
    watched stream went missing, which is how a rename shows."""

    __slots__ = ("keys", "discovered", "default", "lost_at")

    def __init__(self) -> None:
        self.keys: dict[tuple[int, bytes], None] = {}  # (db index, key)
        self.discovered = False
        self.default: Retention | None = None
        self.lost_at = -1  # when a watched stream was first found missing, or -1


_STATE: WeakKeyDictionary[Any, _Watch] = WeakKeyDictionary()  # by server


def _state(server: Any) -> _Watch:
    state = _STATE.get(server)
    if state is None:
        state = _STATE[server] = _Watch()
    return state


def watch_stream(db: Database, key: bytes) -> None:
    """A stream was created or given a policy: let the background cycle look at it."""
    _state(db.events).keys[(db.index, key)] = None


def _default_retention(server: Any) -> Retention | None:
    config = server.config
    age = config.respd_stream_retention_maxage
    length = config.respd_stream_retention_maxlen
    size = config.respd_stream_retention_maxbytes
    if not (age or length or size):
        return None
    return Retention(age, length, size, _POLICIES[config.respd_stream_retention_policy.encode()])


def _discover(server: Any, state: _Watch) -> None:
    """One pass over every database for streams a policy applies to."""
    everything = state.default is not None
    for db in server.dbs:
        for key, value in db.data.items():
            if type(value) is Stream and (everything or value.retention is not None):
                state.keys[(db.index, key)] = None
    state.discovered = True
    state.lost_at = -1


def _apply(stream: Stream, retention: Retention, now_ms: int, budget: int) -> int:
    """Trim by each limit; returns the entries removed."""
    deleted = 0
    if retention.max_age:
        minid = max(now_ms - retention.max_age, 0) << 64
        deleted += stream.trim(None, minid, False, budget, retention.policy)
    if retention.max_len and stream.length > retention.max_len:
        deleted += stream.trim(retention.max_len, None, False, budget - deleted or 1,
                               retention.policy)
    if retention.max_bytes:
        target = stream.len_within_bytes(retention.max_bytes)
        if target < stream.length:
            deleted += stream.trim(target, None, False, budget - deleted or 1,
                                   retention.policy)
    return deleted


@every_cycle
def enforce_retention(server: Any) -> None:
    """The background cycle's step: bounded trimming of the watched streams, each
    cycle's trim of a stream propagated (AOF and replicas) as an exact XTRIM."""
    state = _state(server)
    if server.replication.master is not None:
        # A replica trims when its primary's XTRIMs arrive; a promotion looks again.
        state.discovered = False
        return
    default = _default_retention(server)
    if not _same(default, state.default):
        state.default = default
        state.discovered = False
    now = server.now_ms()
    if not state.discovered or (state.lost_at >= 0 and now - state.lost_at >= _REDISCOVER_MS):
        _discover(server, state)
    if not state.keys:
        return
    budget = max(_BUDGET, 2 * server.config.stream_node_max_entries)
    deadline = perf_counter() + _CYCLE_SECONDS
    worked = False
    for slot in list(state.keys):
        if worked and perf_counter() > deadline:
            break  # the rest wait for the next cycle, first in line (see below)
        db_index, key = slot
        db = server.dbs[db_index] if db_index < len(server.dbs) else None
        stream = db.data.get(key) if db is not None else None
        if type(stream) is not Stream:
            del state.keys[slot]
            if state.lost_at < 0:
                state.lost_at = now
            continue
        retention = stream.retention or default
        if retention is None:
            del state.keys[slot]
            continue
        # Rounds of ``budget`` entries while the cycle's time lasts: a big backlog goes
        # at ~100k entries/s (whole nodes) without a cycle ever holding the loop long.
        deleted = 0
        while True:
            done = _apply(stream, retention, now, budget)
            deleted += done
            if not done or perf_counter() > deadline:
                break
        state.keys.pop(slot)  # to the back of the line: every stream gets its turn
        state.keys[slot] = None
        if deleted:
            worked = True
            server.dirty += deleted
            db.resized[key] = None
            if db.watched or db.blocking:
                db.modified(key)
            db.notify("t", b"xtrim", key)
            if server.propagating:  # the one path to the AOF and the replicas
                trim = [b"XTRIM", key, b"MAXLEN", b"=", b"%d" % stream.length]
                if retention.policy != KEEPREF:  # the default: 7.0 replicas read the rest
                    trim.append(_POLICY_NAMES[retention.policy])
                server.propagated.append((db_index, trim))


def _same(a: Retention | None, b: Retention | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.max_age, a.max_len, a.max_bytes, a.policy) == \
        (b.max_age, b.max_len, b.max_bytes, b.policy)


def settings_commands(key: bytes, stream: Stream) -> list[list[bytes]]:
    """The commands that restore what Redis 7.0's formats cannot hold (AOF rewrite, the
    RDB auxiliary field): respd's settings, XNACKed entries; none when it has none."""
    cmds: list[list[bytes]] = restore_commands(key, stream)  # 8.6's IDMP state
    r = stream.retention
    if r is not None:
        cmds.append([b"RESPD.XRETENTION", key, b"MAXAGE", b"%d" % r.max_age, b"MAXLEN",
                     b"%d" % r.max_len, b"MAXBYTES", b"%d" % r.max_bytes,
                     _POLICY_NAMES[r.policy]])
    for name, group in stream.groups.items():
        # XNACKed (unowned) pending entries: Redis 7.0's RDB format has no such thing
        # (its loader expects an owner for every pending entry), so they travel here.
        for sid in group.nacked():
            cmds.append([b"XNACK", key, name, b"FAIL", b"IDS", b"1", format_id(sid),
                         b"RETRYCOUNT", b"%d" % group.pel[sid].delivery_count, b"FORCE"])
        dl = group.dead_letter
        if dl is not None:
            cmds.append([b"RESPD.XDEADLETTER", key, name, b"MAXDELIVERIES",
                         b"%d" % dl.max_deliveries, b"TO", dl.key, b"DEADLETTERED",
                         b"%d" % dl.count])
    return cmds


# --- RESPD.XRETENTION ---------------------------------------------------------------------------


def _retention_reply(retention: Retention | None) -> list[Any]:
    if retention is None:
        return []
    return [b"maxage", retention.max_age, b"maxlen", retention.max_len,
            b"maxbytes", retention.max_bytes, b"policy", _POLICY_NAMES[retention.policy]]


def _parse_retention(argv: list[bytes]) -> Retention | None:
    if len(argv) == 3 and argv[2].lower() == b"off":
        return None
    retention = Retention()
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if opt in _POLICIES:
            retention.policy = _POLICIES[opt]
            i += 1
            continue
        if i + 1 >= len(argv) or opt not in (b"maxage", b"maxlen", b"maxbytes"):
            raise errors.SYNTAX
        value = int64(argv[i + 1])
        if value < 0:
            raise errors.RESPD_RETENTION_NEGATIVE
        setattr(retention, {b"maxage": "max_age", b"maxlen": "max_len",
                            b"maxbytes": "max_bytes"}[opt], value)
        i += 2
    if not (retention.max_age or retention.max_len or retention.max_bytes):
        return None  # every limit off: no policy
    return retention


@command("RESPD.XRETENTION", arity=-2, flags="write", keys=(1, 1, 1), group=GROUP,
         since="0.1.0",
         summary="Sets, shows or removes a stream's retention policy, enforced by the server "
                 "in the background (respd only).",
         complexity="O(1); the trimming happens in the background cycle, bounded per cycle.",
         syntax="key [OFF | [MAXAGE ms:integer] [MAXLEN count:integer] "
                "[MAXBYTES bytes:integer] [KEEPREF|DELREF|ACKED]]")
def respd_xretention(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    stream = client.db.lookup_typed(key, Stream)
    if len(argv) == 2:
        return _retention_reply(stream.retention if stream is not None else None)
    retention = _parse_retention(argv)
    if stream is None:
        raise errors.NO_SUCH_KEY
    stream.retention = retention
    watch_stream(client.db, key)
    client.server.dirty += 1
    return OK


# --- RESPD.XDEADLETTER --------------------------------------------------------------------------


def _deadletter_keys(argv: list[bytes]) -> list[int]:
    """The stream, and the dead-letter stream when one is named (ACL key checks: a user
    may only route entries into a key it may write)."""
    if len(argv) > 6 and argv[5].lower() == b"to":
        return [1, 6]
    return [1]


@command("RESPD.XDEADLETTER", arity=-3, flags="write", keys=(1, 1, 1),
         getkeys=_deadletter_keys, group=GROUP,
         since="0.1.0",
         summary="Sets, shows or removes a consumer group's maximum delivery count and "
                 "dead-letter stream (respd only).",
         complexity="O(1)",
         syntax="key group [OFF | MAXDELIVERIES count:integer TO dlq-key "
                "[DEADLETTERED count:integer]]")
def respd_xdeadletter(client: Client, argv: list[bytes]) -> Any:
    key, group_name = argv[1], argv[2]
    stream = client.db.lookup_typed(key, Stream)
    group = stream.groups.get(group_name) if stream is not None else None
    if stream is None or group is None:
        raise errors.nogroup_key_or_group(key, group_name)
    rest = [arg.lower() for arg in argv[3:]]
    if not rest:
        dl = group.dead_letter
        if dl is None:
            return []
        return [b"maxdeliveries", dl.max_deliveries, b"to", dl.key, b"dead-lettered", dl.count]
    if rest == [b"off"]:
        group.dead_letter = None
    elif (len(rest) in (4, 6) and rest[0] == b"maxdeliveries" and rest[2] == b"to"
          and (len(rest) == 4 or rest[4] == b"deadlettered")):
        count = int64(argv[4])
        if count < 1:
            raise errors.RESPD_MAXDELIVERIES
        if argv[6] == key:
            raise errors.RESPD_DLQ_SAME_KEY
        if len(rest) == 6:  # the counter, as AOF rewrites and RDB files restore it
            dead = int64(argv[8])
        else:
            dead = group.dead_letter.count if group.dead_letter is not None else 0
        group.dead_letter = DeadLetter(count, argv[6], dead)
    else:
        raise errors.SYNTAX
    client.server.dirty += 1
    return OK


register_extras(Stream, settings_commands)
