"""Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD XREADGROUP XACK
XPENDING XCLAIM XAUTOCLAIM XGROUP XINFO, as Redis 7.0.15 answers them.

Option loops follow t_stream.c's order, which decides the error a client sees.

Propagation (AOF) is made deterministic the way Redis does it: XADD logs the ID it
generated and, after ``~`` trimming, the exact threshold it reached (``=``); reads by a
group log one ``XCLAIM ... FORCE JUSTID LASTID`` per entry put in the PEL, or an
``XGROUP SETID ... ENTRIESREAD`` when nothing entered it (NOACK); XCLAIM and
XAUTOCLAIM log the same XCLAIM form instead of themselves.

Blocking: XREAD/XREADGROUP ``BLOCK`` park through ``client.block`` with ``$`` replaced by
the concrete last ID in the stored command; a write re-runs it.  A re-run that finds
its key gone (DEL, a type change, FLUSHALL) answers XREADGROUP with 7.0's ``UNBLOCKED``
error and keeps XREAD waiting; a destroyed group answers ``NOGROUP``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from respd import errors
from respd.client import Client
from respd.command import COMMANDS, command, container
from respd.commands._collections import elements_written
from respd.errors import ReplyError
from respd.numbers import int64, parse_int
from respd.resp import NULL_ARRAY, OK, Map, Raw, Status, encode
from respd.commands.respd_streams import settings_commands, watch_stream
from respd.commands.streams_idmp import auto_iid, info_fields as idmp_info_fields
from respd.commands.streams_idmp import state_of as idmp_state, stream_or_error
from respd.commands.streams_idmp import track as idmp_track
from respd.storage.db import register_type
from respd.storage.snapshot import register_rewriter
from respd.storage.stream import (
    ACKED, DELREF, INVALID_ENTRIES_READ, KEEPREF, MAX_ID, SEQ_MASK, Consumer, Group, Nack,
    Stream, format_id,
)

GROUP = "stream"
XREAD_BLOCKED_DEFAULT_COUNT = 1000  # entries served to a woken XREAD without COUNT
_MAX_TIMER_MS = 1 << 42  # longer BLOCK timeouts wait as good as forever
LLONG_MAX = (1 << 63) - 1  # XNACK FATAL's delivery count

register_type(Stream, b"stream", lambda value: b"stream")


# --- argument parsing -----------------------------------------------------------------------

_STRTOULL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def _string2ull(raw: bytes) -> int | None:
    """Redis's string2ull: an int64 >= 0, else what strtoull accepts (leading blanks,
    a sign; '-' wraps around as in C)."""
    value = parse_int(raw)
    if value is not None:
        return value if value >= 0 else None
    m = _STRTOULL.fullmatch(raw)
    if m is None:
        return None
    value = int(m.group(2))
    if value > SEQ_MASK:
        return None
    return (-value) & SEQ_MASK if m.group(1) == b"-" else value


def parse_id(raw: bytes, missing_seq: int = 0, strict: bool = False,
             seq_star: bool = False) -> tuple[int, bool]:
    """streamGenericParseIDOrReply: (ID, seq given).  ``strict`` refuses '-' and '+';
    ``seq_star`` accepts XADD's ``ms-*``."""
    if len(raw) > 127:
        raise errors.INVALID_STREAM_ID
    if raw == b"-" or raw == b"+":
        if strict:
            raise errors.INVALID_STREAM_ID
        return (0 if raw == b"-" else MAX_ID), True
    ms_part, dash, seq_part = raw.partition(b"-")
    ms = _string2ull(ms_part)
    if ms is None:
        raise errors.INVALID_STREAM_ID
    if not dash:
        return ms << 64 | missing_seq, True
    if seq_star and seq_part == b"*":
        return ms << 64, False
    seq = _string2ull(seq_part)
    if seq is None:
        raise errors.INVALID_STREAM_ID
    return ms << 64 | seq, True


def strict_id(raw: bytes) -> int:
    return parse_id(raw, strict=True)[0]


def _interval_id(raw: bytes, missing_seq: int) -> tuple[int, bool]:
    """An XRANGE/XPENDING bound: '(' makes it exclusive (and strict)."""
    if len(raw) > 1 and raw[:1] == b"(":
        return parse_id(raw[1:], missing_seq, strict=True)[0], True
    return parse_id(raw, missing_seq)[0], False


def _range_bounds(raw_start: bytes, raw_end: bytes) -> tuple[int, int]:
    start, excl = _interval_id(raw_start, 0)
    if excl:
        if start == MAX_ID:
            raise errors.XRANGE_BAD_START
        start += 1
    end, excl = _interval_id(raw_end, SEQ_MASK)
    if excl:
        if end == 0:
            raise errors.XRANGE_BAD_END
        end -= 1
    return start, end


def _incr_id(sid: int) -> int:
    # streamIncrID: the last possible ID wraps to 0-0.
    return sid + 1 if sid < MAX_ID else 0


def _block_timeout(raw: bytes) -> int:
    timeout = int64(raw, errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise errors.TIMEOUT_NEGATIVE
    return timeout


# --- shared helpers -------------------------------------------------------------------------


def _lookup(client: Client, key: bytes) -> Stream | None:
    return client.db.lookup_typed(key, Stream)  # type: ignore[no-any-return]


def _read(client: Client, key: bytes) -> Stream | None:
    """_lookup counted as a keyspace hit or miss: the reads, and XACK/XCLAIM/XAUTOCLAIM,
    which Redis also looks up as reads."""
    return client.db.read_typed(key, Stream)  # type: ignore[no-any-return]


def _entry(sid: int, fields: list[bytes]) -> list[Any]:
    return [format_id(sid), fields]


def _now(client: Client) -> int:
    if client.loading:
        # The AOF loader pins the server clock to 0 so nothing expires; stream times
        # (XCLAIM's TIME sanity check, consumers' seen time) stay real, as in Redis.
        return int(time.time() * 1000)
    return client.server.now_ms()


def _group_or_error(client: Client, key: bytes, group_name: bytes) -> tuple[Stream, Group]:
    """XPENDING/XCLAIM/XAUTOCLAIM: both the key and the group must exist."""
    stream = _read(client, key)
    group = stream.groups.get(group_name) if stream is not None else None
    if stream is None or group is None:
        raise errors.nogroup_key_or_group(key, group_name)
    return stream, group


def _claim_propagation(key: bytes, group_name: bytes, group: Group, sid: int,
                       nack: Nack) -> list[bytes]:
    """streamPropagateXCLAIM: an idempotent XCLAIM recreating this PEL entry."""
    return [b"XCLAIM", key, group_name, nack.consumer.name, b"0", format_id(sid),
            b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", format_id(group.last_id)]


def _setid_propagation(key: bytes, group_name: bytes, group: Group) -> list[bytes]:
    """streamPropagateGroupID."""
    return [b"XGROUP", b"SETID", key, group_name, format_id(group.last_id),
            b"ENTRIESREAD", b"%d" % group.entries_read]


def _consumer(group: Group, name: bytes, now: int, refresh: bool) -> tuple[Consumer, bool]:
    """(consumer, created); ``refresh`` marks it seen now (SLC_DEFAULT)."""
    found = group.consumers.get(name)
    if found is None:
        return group.consumer(name, now), True
    if refresh:
        found.seen_time = now
    return found, False


def _move_nack(group: Group, sid: int, nack: Nack, consumer: Consumer) -> None:
    """Give a pending entry to ``consumer`` (no-op if it already has it)."""
    if nack.consumer is not consumer:
        if nack.consumer is not None:
            del nack.consumer.pel[sid]
        consumer.pel[sid] = nack
        nack.consumer = consumer


def _drop_nack(group: Group, sid: int) -> None:
    group.ack(sid)


def _redelivered(count: int) -> int:
    """One more delivery; XNACK FATAL's LLONG_MAX stays (Redis saturates there)."""
    return count + 1 if count < LLONG_MAX else count


def _gone_propagation(key: bytes, group_name: bytes, group: Group, sid: int,
                      nack: Nack) -> list[bytes]:
    """What removes the pending record of an entry gone from the stream on a replica:
    the idempotent XCLAIM, or XACK for an unowned (XNACKed) one, as Redis 8.8 does."""
    if nack.consumer is None:
        return [b"XACK", key, group_name, format_id(sid)]
    return _claim_propagation(key, group_name, group, sid, nack)


def _dead_letter(client: Client, key: bytes, stream: Stream, group_name: bytes, group: Group,
                 sid: int, nack: Nack, propagate: list[list[bytes]]) -> bool:
    """respd's dead-letter streams (RESPD.XDEADLETTER): an entry whose next delivery
    would exceed the group's maximum goes to the dead-letter stream with where it came
    from (original ID, stream, group, last consumer, deliveries) and its fields, and is
    acknowledged; both logged as XADD + XACK.  False when the group has no setting, the
    entry may still be delivered, or the dead-letter key holds another type."""
    dl = group.dead_letter
    if dl is None or nack.delivery_count < dl.max_deliveries:
        return False
    db = client.db
    target = db.data.get(dl.key)
    if target is not None and type(target) is not Stream:
        return False
    fields = stream.get(sid)
    if fields is None:
        return False
    if target is None:
        target = Stream()
        db.add(dl.key, target)
        watch_stream(db, dl.key)
    if target.last_id == MAX_ID:
        return False
    config = client.server.config
    dead_id = target.next_id(_now(client))
    consumer_name = nack.consumer.name if nack.consumer is not None else b""
    record = [b"id", format_id(sid), b"stream", key, b"group", group_name,
              b"consumer", consumer_name, b"deliveries", b"%d" % nack.delivery_count, *fields]
    target.append(dead_id, record, config.stream_node_max_entries,
                  config.stream_node_max_bytes)
    elements_written(client, dl.key, "t", b"xadd")
    group.ack(sid)
    dl.count += 1
    propagate.append([b"XADD", dl.key, format_id(dead_id), *record])
    propagate.append([b"XACK", key, group_name, format_id(sid)])
    propagate.append([b"RESPD.XDEADLETTER", key, group_name, b"MAXDELIVERIES",
                      b"%d" % dl.max_deliveries, b"TO", dl.key, b"DEADLETTERED",
                      b"%d" % dl.count])  # the counter, for a replay
    return True


# --- XADD / XTRIM ---------------------------------------------------------------------------


@dataclass(slots=True)
class _AddTrimArgs:
    """What XADD's or XTRIM's options say (streamParseAddOrTrimArgsOrReply)."""

    strategy: bytes = b""  # b"", b"maxlen" or b"minid"
    maxlen: int = 0
    minid: int = 0
    approx: bool = False
    limit: int | None = None  # LIMIT as given; None: the default (see _trim_limit)
    arg_index: int = 0  # where the threshold is, for rewriting it
    nomkstream: bool = False
    id_index: int = 2  # XADD: where the ID is; the fields follow it
    id: int = 0
    seq_given: bool = True
    id_given: bool = False
    policy: int = KEEPREF  # 8.2's KEEPREF|DELREF|ACKED
    policy_given: bool = False
    idmp_pid: bytes | None = None  # 8.6's IDMP pid iid / IDMPAUTO pid
    idmp_iid: bytes | None = None  # None with a pid: IDMPAUTO


_POLICIES = {b"keepref": KEEPREF, b"delref": DELREF, b"acked": ACKED}


def _parse_add_trim(argv: list[bytes], xadd: bool, replaying: bool) -> _AddTrimArgs:
    """The options in Redis's order, which decides the error.  ``replaying``: the
    command comes from the AOF, whose LIMIT need not be approximate (mustObeyClient)."""
    args = _AddTrimArgs()
    argc = len(argv)
    i = 2
    while i < argc:
        more = argc - 1 - i
        opt = argv[i].lower()
        if xadd and argv[i] == b"*":
            break
        if (opt == b"maxlen" or opt == b"minid") and more:
            if args.strategy:
                raise errors.XTRIM_BOTH_STRATEGIES
            args.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt in (b"~", b"="):
                args.approx = nxt == b"~"
                i += 1
            if opt == b"maxlen":
                args.maxlen = int64(argv[i + 1])
                if args.maxlen < 0:
                    raise errors.XMAXLEN_NEGATIVE
            else:
                args.minid = strict_id(argv[i + 1])
            i += 1
            args.strategy = opt
            args.arg_index = i
        elif opt == b"limit" and more:
            args.limit = int64(argv[i + 1])
            if args.limit < 0:
                raise errors.XLIMIT_NEGATIVE
            i += 1
        elif opt in _POLICIES and not args.policy_given:
            args.policy = _POLICIES[opt]
            args.policy_given = True
        elif xadd and opt == b"nomkstream":
            args.nomkstream = True
        elif xadd and opt == b"idmpauto" and more:
            if args.idmp_pid is not None:
                raise errors.XADD_IDMP_TWICE
            if not argv[i + 1]:
                raise errors.XADD_IDMPAUTO_EMPTY_PID
            args.idmp_pid = argv[i + 1]
            i += 1
        elif xadd and opt == b"idmp" and more >= 2:
            if args.idmp_pid is not None:
                raise errors.XADD_IDMP_TWICE
            if not argv[i + 1]:
                raise errors.XADD_IDMP_EMPTY_PID
            if not argv[i + 2]:
                raise errors.XADD_IDMP_EMPTY_IID
            args.idmp_pid, args.idmp_iid = argv[i + 1], argv[i + 2]
            i += 2
        elif xadd:
            args.id, args.seq_given = parse_id(argv[i], strict=True, seq_star=True)
            # The AOF and a primary send the ID an IDMP XADD made (mustObeyClient).
            if args.idmp_pid is not None and not replaying:
                raise errors.XADD_IDMP_AUTO_ID_ONLY
            args.id_given = True
            break
        else:
            raise errors.SYNTAX
        i += 1
    args.id_index = i
    if args.limit and not args.strategy:
        raise errors.XLIMIT_NO_STRATEGY
    if not xadd and not args.strategy:
        raise errors.XTRIM_NO_STRATEGY
    if args.limit is not None and not args.approx and not replaying:
        raise errors.XLIMIT_NOT_APPROX
    return args


def _trim_limit(client: Client, args: _AddTrimArgs) -> int:
    """How many entries a trim may evict (0: no limit)."""
    if client.loading:
        return 0  # the log carries exact thresholds (Redis's mustObeyClient)
    if args.limit is not None:
        return args.limit
    if not args.approx:
        return 0
    limit = 100 * client.server.config.stream_node_max_entries
    return limit if 0 < limit <= 1_000_000 else 10_000


def _trim(client: Client, stream: Stream, args: _AddTrimArgs) -> int:
    limit = _trim_limit(client, args)
    if args.strategy == b"maxlen":
        return stream.trim(args.maxlen, None, args.approx, limit, args.policy)
    return stream.trim(None, args.minid, args.approx, limit, args.policy)


def _exact_trim_argv(argv: list[bytes], stream: Stream, args: _AddTrimArgs) -> list[bytes]:
    """streamRewriteApproxSpecifier + streamRewriteTrimArgument: '~' becomes '=' and the
    threshold the one actually reached, so a replay trims exactly as much."""
    out = list(argv)
    out[args.arg_index - 1] = b"="
    if args.strategy == b"maxlen":
        out[args.arg_index] = b"%d" % stream.length
    else:
        first = stream.nodes[0].id_at(0) if stream.nodes else MAX_ID
        out[args.arg_index] = format_id(first)
    return out


def _explicit_id(stream: Stream, args: _AddTrimArgs) -> int:
    """streamAppendItem's check of a given ID (``ms-*`` takes the next sequence)."""
    sid = args.id
    if not args.seq_given:
        if stream.last_id >> 64 == sid >> 64:
            if stream.last_id & SEQ_MASK == SEQ_MASK:
                raise errors.XADD_ID_TOO_SMALL
            sid = stream.last_id + 1
    if sid <= stream.last_id:
        raise errors.XADD_ID_TOO_SMALL
    return sid


def _parse_xadd(client: Client, argv: list[bytes]) -> _AddTrimArgs:
    args = _parse_add_trim(argv, xadd=True, replaying=client.loading)
    nfields = len(argv) - args.id_index - 1
    if nfields < 2 or nfields % 2:
        raise errors.wrong_arity("xadd")
    if args.id_given and args.seq_given and args.id == 0:
        raise errors.XADD_ID_ZERO
    return args


_AUTO_ID = _AddTrimArgs()  # what _parse_xadd returns for the plain form; never modified


@command("XADD", arity=-5, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0", summary="Appends a new entry to a stream",
         complexity="O(1) when adding a new entry, O(N) when trimming where N being the "
                    "number of entries evicted.",
         syntax="key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [IDMPAUTO pid|IDMP pid iid] "
                "[MAXLEN|MINID [=|~] threshold [LIMIT count:integer]] "
                "*|id field value [field value ...]",
         history=(("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and "
                            "the `LIMIT` option."),
                  ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
                  ("8.2.0", "Added the `KEEPREF`, `DELREF` and `ACKED` options."),
                  ("8.6.0", "Added the `IDMPAUTO` and `IDMP` options.")),
         tips="nondeterministic_output")
def xadd(client: Client, argv: list[bytes]) -> Any:
    # Options come before the ID: ``XADD key * field value ...`` has none to parse.
    args = _AUTO_ID if argv[2] == b"*" and len(argv) % 2 else _parse_xadd(client, argv)
    key = argv[1]
    db = client.db
    stream = db.lookup_typed(key, Stream)
    created = stream is None
    if created:
        if args.nomkstream:
            return None
        stream = Stream()
    if args.idmp_pid is not None:
        iid = args.idmp_iid if args.idmp_iid is not None else \
            auto_iid(argv[args.id_index + 1:])
        earlier = stream.idmp.find(args.idmp_pid, iid) if stream.idmp is not None else None
        if earlier is not None:  # a retried send: the entry the first one made
            stream.idmp.duplicates += 1  # type: ignore[union-attr]
            client.server.dirty += 1  # logged as sent: a replay finds it a duplicate too
            return format_id(earlier)
    if stream.last_id == MAX_ID:
        raise errors.STREAM_EXHAUSTED
    sid = _explicit_id(stream, args) if args.id_given else stream.next_id(_now(client))
    if created or stream.retention is not None:  # a renamed or restored stream too
        if created:
            db.add(key, stream)
        watch_stream(db, key)  # for the background retention cycle
    server = client.server
    config = server.config
    stream.append(sid, argv[args.id_index + 1:], config.stream_node_max_entries,
                  config.stream_node_max_bytes)
    if args.idmp_pid is not None:
        idmp_state(client, stream).record(args.idmp_pid, iid, sid)
        idmp_track(db, key)
    elements_written(client, key, "t", b"xadd")
    if args.strategy and _trim(client, stream, args):
        db.notify("t", b"xtrim", key)
    entry_id = format_id(sid)
    if server.propagating:  # only the AOF and replicas read propagated commands
        propagated = list(argv)
        if args.strategy and args.approx:
            propagated = _exact_trim_argv(propagated, stream, args)
        if not args.id_given or not args.seq_given:
            propagated[args.id_index] = entry_id
        client.propagate_as = [propagated]
    return entry_id


@command("XTRIM", arity=-4, flags="write", plain=True, keys=(1, 1, 1), group=GROUP, since="5.0.0",
         summary="Deletes messages from the beginning of a stream.",
         complexity="O(N), with N being the number of evicted entries.",
         syntax="key MAXLEN|MINID [=|~] threshold [LIMIT count:integer] "
                "[KEEPREF|DELREF|ACKED]",
         history=(("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."),
                  ("8.2.0", "Added the `KEEPREF`, `DELREF` and `ACKED` options.")),
         tips="nondeterministic_output")
def xtrim(client: Client, argv: list[bytes]) -> Any:
    args = _parse_add_trim(argv, xadd=False, replaying=client.loading)
    key = argv[1]
    stream = _lookup(client, key)
    if stream is None:
        return 0
    deleted = _trim(client, stream, args)
    if deleted:
        if args.approx:
            client.propagate_as = [_exact_trim_argv(argv, stream, args)]
        elements_written(client, key, "t", b"xtrim", deleted)
    return deleted


# --- XLEN, XRANGE, XREVRANGE, XDEL, XSETID --------------------------------------------------


@command("XLEN", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0",
         summary="Return the number of entries in a stream", syntax="key")
def xlen(client: Client, argv: list[bytes]) -> Any:
    stream = _read(client, argv[1])
    return stream.length if stream is not None else 0


def _xrange(client: Client, argv: list[bytes], rev: bool) -> Any:
    raw_start, raw_end = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start, end = _range_bounds(raw_start, raw_end)
    count = -1
    i = 4
    while i < len(argv):
        if argv[i].lower() == b"count" and i + 1 < len(argv):
            count = max(int64(argv[i + 1]), 0)
            i += 2
        else:
            raise errors.SYNTAX
    stream = _read(client, argv[1])
    if stream is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return [_entry(sid, fields)
            for sid, fields in stream.entries(start, end, max(count, 0), rev)]


@command("XRANGE", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0",
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval",
         complexity="O(N) with N being the number of elements being returned. If N is "
                    "constant (e.g. always asking for the first 10 elements with COUNT), you "
                    "can consider it O(1).",
         syntax="key start end [COUNT count:integer]",
         history=(("6.2.0", "Added exclusive ranges."),))
def xrange(client: Client, argv: list[bytes]) -> Any:
    return _xrange(client, argv, rev=False)


@command("XREVRANGE", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0",
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval, in reverse order (from greater to smaller IDs) compared to "
                 "XRANGE",
         complexity="O(N) with N being the number of elements returned. If N is constant "
                    "(e.g. always asking for the first 10 elements with COUNT), you can "
                    "consider it O(1).",
         syntax="key end start [COUNT count:integer]",
         history=(("6.2.0", "Added exclusive ranges."),))
def xrevrange(client: Client, argv: list[bytes]) -> Any:
    return _xrange(client, argv, rev=True)


@command("XDEL", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0",
         summary="Removes the specified entries from the stream. Returns the number of items "
                 "actually deleted, that may be different from the number of IDs passed in "
                 "case certain IDs do not exist.",
         complexity="O(1) for each single item to delete in the stream, regardless of the "
                    "stream size.",
         syntax="key id [id ...]")
def xdel(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    stream = _lookup(client, key)
    if stream is None:
        return 0
    ids = [strict_id(raw) for raw in argv[2:]]  # all or nothing
    deleted = sum(stream.delete(sid) for sid in ids)
    if deleted:
        elements_written(client, key, "t", b"xdel", deleted)
    return deleted


def _parse_ids_block(argv: list[bytes], start: int) -> tuple[int, list[int]]:
    """XDELEX/XACKDEL's ``[KEEPREF|DELREF|ACKED] IDS numids id ...`` from ``start``:
    (policy, IDs).  The block must end the command."""
    policy: int | None = None
    i = start
    argc = len(argv)
    while i < argc:
        opt = argv[i].lower()
        if opt in _POLICIES and policy is None:
            policy = _POLICIES[opt]
            i += 1
        elif opt == b"ids" and i + 1 < argc:
            numids = parse_int(argv[i + 1])
            if numids is None or numids < 1:
                raise errors.XIDS_NUMIDS_POSITIVE
            first = i + 2
            if numids > argc - first:
                raise errors.XIDS_NUMIDS_MISMATCH
            if first + numids != argc:
                raise errors.SYNTAX
            return (KEEPREF if policy is None else policy,
                    [strict_id(raw) for raw in argv[first:]])
        else:
            raise errors.SYNTAX
    raise errors.SYNTAX


def _delete_with_policy(stream: Stream, sid: int, policy: int) -> int:
    """One ID of XDELEX, or of XACKDEL once acknowledged: 1 deleted, 2 kept because a
    group still references it (ACKED), -1 not in the stream."""
    if policy == ACKED and stream.referenced(sid):
        return 2
    found = stream.delete(sid)
    if policy == DELREF:
        stream.drop_refs(sid)
    return 1 if found else -1


@command("XDELEX", arity=-5, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="8.2.0",
         summary="Deletes one or multiple entries from the stream.",
         complexity="O(1) for each single item to delete in the stream, regardless of the "
                    "stream size.",
         syntax="key [KEEPREF|DELREF|ACKED] IDS numids:integer id [id ...]")
def xdelex(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    policy, ids = _parse_ids_block(argv, 2)
    stream = _lookup(client, key)
    if stream is None:
        return [-1] * len(ids)
    replies = [_delete_with_policy(stream, sid, policy) for sid in ids]
    deleted = replies.count(1)
    if deleted:
        elements_written(client, key, "t", b"xdel", deleted)
    else:
        client.server.dirty += policy == DELREF  # PEL references may have gone
    return replies


@command("XACKDEL", arity=-6, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="8.2.0",
         summary="Acknowledges and deletes one or multiple messages for a stream consumer "
                 "group.",
         complexity="O(1) for each message ID processed.",
         syntax="key group [KEEPREF|DELREF|ACKED] IDS numids:integer id [id ...]")
def xackdel(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    policy, ids = _parse_ids_block(argv, 3)
    stream = _lookup(client, key)
    group = stream.groups.get(argv[2]) if stream is not None else None
    if stream is None or group is None:
        return [-1] * len(ids)
    replies = []
    acked = deleted = 0
    for sid in ids:
        if not group.ack(sid):
            replies.append(-1)
            continue
        acked += 1
        outcome = _delete_with_policy(stream, sid, policy)
        deleted += outcome == 1
        # Acknowledged: reported deleted even when the entry had already left the stream.
        replies.append(2 if outcome == 2 else 1)
    if deleted:
        elements_written(client, key, "t", b"xdel", deleted)
    client.server.dirty += acked
    return replies


@command("XSETID", arity=-3, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0", summary="An internal command for replicating stream values",
         syntax="key last-id [ENTRIESADDED entries_added:integer] "
                "[MAXDELETEDID max_deleted_entry_id]",
         history=(("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` "
                            "arguments."),))
def xsetid(client: Client, argv: list[bytes]) -> Any:
    sid = strict_id(argv[2])
    entries_added = -1
    max_deleted = 0
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"entriesadded" and i + 1 < len(argv):
            entries_added = int64(argv[i + 1])
            if entries_added < 0:
                raise errors.XSETID_ENTRIES_ADDED_NEGATIVE
        elif opt == b"maxdeletedid" and i + 1 < len(argv):
            max_deleted = strict_id(argv[i + 1])
            if sid < max_deleted:
                raise errors.XSETID_BELOW_GIVEN_MAXDELETED
        else:
            raise errors.SYNTAX
        i += 2
    key = argv[1]
    stream = _lookup(client, key)
    if stream is None:
        raise errors.NO_SUCH_KEY
    if stream.length:
        if sid < stream.last_entry_id():
            raise errors.XSETID_BELOW_TOP
        if entries_added != -1 and stream.length > entries_added:
            raise errors.XSETID_ENTRIES_ADDED_SMALL
    stream.last_id = sid
    if entries_added != -1:
        stream.entries_added = entries_added
    if max_deleted:
        stream.max_deleted_id = max_deleted
    # 7.0 signals no modification here: WATCH stays valid, blocked readers sleep on.
    client.server.dirty += 1
    client.db.notify("t", b"xsetid", key)
    return OK


# --- XIDMPRECORD (internal: restores one remembered ID) -----------------------------------------


@command("XIDMPRECORD", arity=5, flags="write denyoom fast", keys=(1, 1, 1), group=GROUP,
         since="8.6.2",
         summary="An internal command for setting IDMP metadata on an existing stream "
                 "message.",
         syntax="key pid iid stream-id")
def xidmprecord(client: Client, argv: list[bytes]) -> Any:
    key, pid, iid = argv[1], argv[2], argv[3]
    sid = strict_id(argv[4])
    if not pid:
        raise errors.XIDMP_EMPTY_PID
    if not iid:
        raise errors.XIDMP_EMPTY_IID
    stream = stream_or_error(client, key)
    if stream.get(sid) is None:
        raise errors.XIDMP_NO_MESSAGE
    idmp = idmp_state(client, stream)
    known = idmp.find(pid, iid)
    if known is not None:
        if known != sid:
            raise errors.XIDMP_OTHER_ID
        return OK
    idmp.record(pid, iid, sid)
    idmp_track(client.db, key)
    client.server.dirty += 1
    return OK



# --- XREAD / XREADGROUP ---------------------------------------------------------------------


@dataclass(slots=True)
class _ReadArgs:
    """What XREAD's or XREADGROUP's options say; the keys and IDs stay in argv."""

    timeout: int = -1  # -1: no BLOCK
    count: int = 0
    streams_at: int = 0
    nkeys: int = 0
    noack: bool = False
    group: bytes | None = None
    consumer: bytes = b""
    claim: int = -1  # 8.4's CLAIM min-idle-time; -1: not given
    max_count: int = 0  # 8.10's MAXCOUNT (entries across all streams); 0: none
    max_size: int = 0  # 8.10's MAXSIZE (reply bytes across all streams, soft); 0: none


class _Budget:
    """8.10's MAXCOUNT/MAXSIZE: what one XREAD/XREADGROUP reply may still hold, across
    its streams in the order named.  MAXSIZE is soft: the first entry always goes, so a
    reader makes progress whatever the size of an entry."""

    __slots__ = ("entries", "size", "used")

    def __init__(self, max_count: int, max_size: int) -> None:
        self.entries = max_count or -1  # -1: no MAXCOUNT
        self.size = max_size or -1  # -1: no MAXSIZE
        self.used = 0  # bytes of the entries taken so far

    def per_stream(self, count: int) -> int:
        """A stream's COUNT (0: all) within what MAXCOUNT leaves."""
        if self.entries < 0:
            return count
        return min(count, self.entries) if count else self.entries

    def take(self, entry: list[Any]) -> bool:
        """Whether ``entry`` (id, fields, ...) still fits; counts it if so."""
        if self.entries == 0:
            return False
        if self.size >= 0:
            size = _reply_size(entry)
            if self.used and self.used + size > self.size:
                self.entries = 0  # the reply is full: the streams after get nothing
                return False
            self.used += size
        if self.entries > 0:
            self.entries -= 1
        return True

    @property
    def full(self) -> bool:
        return self.entries == 0


def _reply_size(value: Any) -> int:
    """Bytes of a value in RESP2 (ids and fields are bulks, figures integers)."""
    if type(value) is bytes:
        return len(value) + len(b"%d" % len(value)) + 5
    if type(value) is int:
        return len(b"%d" % value) + 3
    if type(value) is list:
        return len(b"%d" % len(value)) + 3 + sum(_reply_size(item) for item in value)
    return 5  # a null


def _parse_read(client: Client, argv: list[bytes], xreadgroup: bool) -> _ReadArgs:
    args = _ReadArgs()
    argc = len(argv)
    i = 1
    while i < argc:
        more = argc - i - 1
        opt = argv[i].lower()
        if opt == b"block" and more:
            if client.in_script:  # 7.0 refuses rather than answer as a timeout
                raise errors.block_in_script(argv[0])
            i += 1
            args.timeout = _block_timeout(argv[i])
        elif opt == b"count" and more:
            i += 1
            args.count = max(int64(argv[i]), 0)
        elif opt == b"streams" and more:
            args.streams_at = i + 1
            remaining = argc - args.streams_at
            if remaining % 2:
                raise errors.XREAD_UNBALANCED
            args.nkeys = remaining // 2
            break
        elif opt == b"group" and more >= 2:
            if not xreadgroup:
                raise errors.XREAD_GROUP_OPTION
            args.group, args.consumer = argv[i + 1], argv[i + 2]
            i += 2
        elif opt == b"noack":
            if not xreadgroup:
                raise errors.XREAD_NOACK_OPTION
            args.noack = True
        elif opt == b"maxcount" and more:
            i += 1
            args.max_count = int64(argv[i])
            if args.max_count <= 0:
                raise errors.XREAD_MAXCOUNT
        elif opt == b"maxsize" and more:
            i += 1
            args.max_size = int64(argv[i])
            if args.max_size <= 0:
                raise errors.XREAD_MAXSIZE
        elif opt == b"claim" and more:
            if not xreadgroup:
                raise errors.XREAD_CLAIM_OPTION
            i += 1
            args.claim = int64(argv[i], errors.XREADGROUP_CLAIM_IDLE)
            if args.claim < 0:
                raise errors.XREADGROUP_CLAIM_NEGATIVE
        else:
            raise errors.SYNTAX
        i += 1
    if not args.streams_at:
        raise errors.SYNTAX
    if args.max_count and args.count and args.max_count < args.count:
        raise errors.XREAD_MAXCOUNT_BELOW_COUNT  # a cap across streams below the per-stream one
    if xreadgroup and args.group is None:
        raise errors.XREADGROUP_NO_GROUP
    return args


def _read_targets(client: Client, argv: list[bytes], args: _ReadArgs
                  ) -> list[tuple[bytes, Stream | None, Group | None, int]]:
    """(key, stream, group, ID) per key; ID MAX_ID stands for '>'."""
    rerun = client.reprocessing
    targets = []
    keys = argv[args.streams_at : args.streams_at + args.nkeys]
    raw_ids = argv[args.streams_at + args.nkeys :]
    # Redis looks every key up twice (IDs, then serving), both counted, except when a
    # blocked reader is served (its lookups are uncounted).
    lookup = client.db.lookup if rerun else client.db.read
    for key, raw in zip(keys, raw_ids):
        value = lookup(key)
        if value is not None and type(value) is not Stream:
            if rerun:  # 7.0: the key changed type under a blocked reader
                if args.group is not None:
                    raise errors.XREADGROUP_KEY_DELETED
                value = None
            else:
                raise errors.WRONGTYPE
        group = None
        if args.group is not None:
            if rerun and value is None:
                raise errors.XREADGROUP_KEY_DELETED
            group = value.groups.get(args.group) if value is not None else None
            if group is None:
                if rerun:
                    raise errors.XREADGROUP_GROUP_DESTROYED
                raise errors.nogroup_key_or_group(
                    key, args.group, b" in XREADGROUP with GROUP option")
        if raw == b"$":
            if args.group is not None:
                raise errors.XREADGROUP_DOLLAR
            sid = value.last_id if value is not None else 0
        elif raw == b">":
            if args.group is None:
                raise errors.XREAD_GREATER
            sid = MAX_ID
        else:
            sid = strict_id(raw)
        targets.append((key, value, group, sid))
    if not rerun:
        for key, value, _, _ in targets:
            client.db.counted(value, key)
    return targets


def _deliver_new(client: Client, key: bytes, stream: Stream, group_name: bytes,
                 group: Group, consumer: Consumer, start: int, count: int, noack: bool,
                 propagate: list[list[bytes]], budget: _Budget | None = None,
                 claim_form: bool = False) -> list[Any]:
    """New entries for a group (streamReplyWithRange with a group): advance the group,
    put each entry in the consumer's PEL (unless NOACK), log what a replica needs."""
    now = _now(client)
    out: list[Any] = []
    moved = False
    for sid, node, i in stream.range(start, MAX_ID):
        entry = _entry(sid, node.fields(i))
        if claim_form:  # a CLAIM read's new entries: idle 0, delivered 0 times before
            entry += [0, 0]
        if budget is not None and not budget.take(entry):
            break  # before the group moves: what is not served stays undelivered
        if sid > group.last_id:
            stream.advance_group(group, sid)
            moved = noack
        out.append(entry)
        if not noack:
            nack = group.pel.get(sid)
            if nack is None:
                nack = group.pel[sid] = consumer.pel[sid] = Nack(consumer, now)
            else:  # XGROUP SETID moved the group back: the entry changes hands
                _move_nack(group, sid, nack, consumer)
                nack.delivery_time = now
                nack.delivery_count = 1
            propagate.append(_claim_propagation(key, group_name, group, sid, nack))
        if len(out) == count:
            break
    if moved:
        propagate.append(_setid_propagation(key, group_name, group))
    return out


def _claim_idle(client: Client, key: bytes, stream: Stream, group_name: bytes,
                group: Group, consumer: Consumer, min_idle: int, count: int,
                propagate: list[list[bytes]], budget: _Budget | None = None) -> list[Any]:
    """XREADGROUP ... CLAIM: pending entries idle at least ``min_idle`` ms, longest idle
    first, handed to ``consumer``; each reply entry adds its idle time and how many
    times it was delivered before.  Entries gone from the stream leave the PEL."""
    now = _now(client)
    out: list[Any] = []
    # Walk the PEL's time index from the longest idle; an entry claimed here gets
    # delivery time ``now`` and may fall back into the range (min_idle 0): skip it.
    taken: set[int] = set()
    at: tuple[int, int] | None = None
    while not (count and len(out) == count):
        at = group.pel.idle_since(now - min_idle, at)
        if at is None:
            break
        delivered, sid = at
        if sid in taken:
            continue
        fields = stream.get(sid)
        if fields is None:
            _drop_nack(group, sid)
            propagate.append([b"XACK", key, group_name, format_id(sid)])
            continue
        nack = group.pel[sid]
        if budget is not None and budget.full:
            break
        if _dead_letter(client, key, stream, group_name, group, sid, nack, propagate):
            continue
        entry = [format_id(sid), fields, now - delivered, nack.delivery_count]
        if budget is not None and not budget.take(entry):
            break
        _move_nack(group, sid, nack, consumer)
        out.append(entry)
        taken.add(sid)
        nack.delivery_time = now
        nack.delivery_count = _redelivered(nack.delivery_count)
        propagate.append(_claim_propagation(key, group_name, group, sid, nack))
    return out


def _deliver_history(client: Client, stream: Stream, consumer: Consumer, start: int,
                     count: int, budget: _Budget | None = None) -> list[Any]:
    """A consumer's own pending entries from ``start``; deleted ones come back with a
    null in place of their fields."""
    now = _now(client)
    out: list[Any] = []
    for sid in consumer.pel.irange(minimum=start):
        if count and len(out) == count:
            break
        fields = stream.get(sid)
        entry = [format_id(sid), NULL_ARRAY if fields is None else fields]
        if budget is not None and not budget.take(entry):
            break
        if fields is None:
            out.append(entry)
            continue
        nack = consumer.pel[sid]
        nack.delivery_time = now
        nack.delivery_count = _redelivered(nack.delivery_count)
        out.append(entry)
    return out


def _read_reply(client: Client, served: list[tuple[bytes, list[Any]]]) -> Any:
    """RESP2: [key, entries] pairs; RESP3: a map, which repeats a key read twice."""
    if client.resp == 2:
        return [[key, entries] for key, entries in served]
    if len({key for key, _ in served}) == len(served):
        return Map(served)
    return Raw(b"%%%d\r\n" % len(served)
               + b"".join(encode(key, 3) + encode(entries, 3) for key, entries in served))


def _xread(client: Client, argv: list[bytes], xreadgroup: bool) -> Any:
    args = _parse_read(client, argv, xreadgroup)
    targets = _read_targets(client, argv, args)
    count = args.count
    if client.reprocessing and not count:
        count = XREAD_BLOCKED_DEFAULT_COUNT
    propagate: list[list[bytes]] = []
    served: list[tuple[bytes, list[Any]]] = []
    budget = _Budget(args.max_count, args.max_size) \
        if args.max_count or args.max_size else None
    whole_count = count
    for key, stream, group, gt in targets:
        if stream is None:
            continue
        if budget is not None:
            if budget.full:
                break  # MAXCOUNT/MAXSIZE reached: the streams after this are skipped
            count = budget.per_stream(whole_count)
        history = False
        claimed: list[Any] = []
        if group is not None:
            if gt != MAX_ID:
                history = True
            else:
                if args.claim >= 0 and group.pel:
                    consumer, created = _consumer(group, args.consumer, _now(client),
                                                  refresh=True)
                    claimed = _claim_idle(client, key, stream, args.group, group, consumer,
                                          args.claim, count, propagate, budget)
                    if (count and len(claimed) == count) or (budget is not None
                                                             and budget.full):
                        served.append((key, claimed))
                        continue
                if stream.length and stream.last_entry_id() > group.last_id:
                    gt = group.last_id
                else:
                    if claimed:
                        served.append((key, claimed))
                    continue
        elif not (stream.length and stream.last_entry_id() > gt):
            continue
        start = _incr_id(gt)
        if group is None:
            entries = [_entry(sid, f) for sid, f in stream.entries(start, MAX_ID, count)]
            if budget is not None:
                entries = [entry for entry in entries if budget.take(entry)]
                if not entries:
                    break
        else:
            assert args.group is not None
            consumer, created = _consumer(group, args.consumer, _now(client), refresh=True)
            if created:
                client.db.notify("t", b"xgroup-createconsumer", key)
                if args.noack:  # no XCLAIM will create it on replay (as Redis 7.0 logs)
                    propagate.append([b"XGROUP", b"CREATECONSUMER", key, args.group,
                                      args.consumer])
            if history:
                entries = _deliver_history(client, stream, consumer, start, count, budget)
            else:
                entries = _deliver_new(client, key, stream, args.group, group, consumer,
                                       start, count - len(claimed) if count else 0,
                                       args.noack, propagate, budget, args.claim >= 0)
                # Every entry of a CLAIM read carries the two figures.
                entries = claimed + entries
            if budget is not None and not entries and budget.full:
                break
        served.append((key, entries))
    if xreadgroup:
        client.propagate_as = propagate
        if propagate:
            client.server.dirty += 1
    if served:
        return _read_reply(client, served)
    if args.timeout == -1:
        return NULL_ARRAY
    # Park with '$' pinned to the IDs it meant now, so a re-run cannot miss entries.
    stored = list(argv)
    id_at = args.streams_at + args.nkeys
    for offset, (_, _, _, sid) in enumerate(targets):
        if stored[id_at + offset] == b"$":
            stored[id_at + offset] = format_id(sid)
    keys = [key for key, _, _, _ in targets]
    reply = client.block(keys, min(args.timeout, _MAX_TIMER_MS), NULL_ARRAY, stored)
    if args.claim >= 0 and client.blocked is not None:
        _wake_when_idle(client, targets, args.claim)
    return reply


def _wake_when_idle(client: Client, targets: list[tuple[bytes, Stream | None, Group | None,
                                                        int]], min_idle: int) -> None:
    """A parked CLAIM read is also served when a pending entry reaches min-idle-time:
    re-run it then, as if its key had been written."""
    server = client.server
    if server.loop is None:
        return
    soonest: tuple[int, bytes] | None = None
    for key, _, group, sid in targets:
        oldest = group.pel.oldest_delivery() if group is not None else None
        if sid == MAX_ID and oldest is not None:
            if soonest is None or oldest < soonest[0]:
                soonest = (oldest, key)
    if soonest is None:
        return
    state = client.blocked
    db = client.db
    key = soonest[1]

    def wake() -> None:
        if client.blocked is state:
            server.blocking.key_ready(db, key)
            server.blocking.serve_ready()
            server.flush()

    server.loop.call_later(max(soonest[0] + min_idle - _now(client), 0) / 1000.0 + 0.001,
                           wake)


def _xread_keys(argv: list[bytes]) -> list[int]:
    """Key positions: the first half of what follows STREAMS."""
    for i in range(1, len(argv)):
        if argv[i].lower() == b"streams":
            n = (len(argv) - i - 1) // 2
            return list(range(i + 1, i + 1 + n))
    return []


@command("XREAD", arity=-4, flags="readonly blocking", getkeys=_xread_keys, group=GROUP,
         since="5.0.0",
         summary="Return never seen elements in multiple streams, with IDs greater than the "
                 "ones reported by the caller for each stream. Can block.",
         complexity="For each stream mentioned: O(N) with N being the number of elements "
                    "being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note "
                    "that when the BLOCK option is used, XADD will pay O(M) time in order to "
                    "serve the M clients blocked on the stream getting new data.",
         syntax="[COUNT count:integer] [MAXCOUNT maxcount:integer] [MAXSIZE maxsize:integer] "
                "[BLOCK milliseconds:integer] STREAMS key [key ...] id [id ...]",
         history=(("8.10.0", "Added the `MAXCOUNT` and `MAXSIZE` options."),))
def xread(client: Client, argv: list[bytes]) -> Any:
    return _xread(client, argv, xreadgroup=False)


@command("XREADGROUP", arity=-7, flags="write blocking", getkeys=_xread_keys, group=GROUP,
         since="5.0.0",
         summary="Return new entries from a stream using a consumer group, or access the "
                 "history of the pending entries for a given consumer. Can block.",
         complexity="For each stream mentioned: O(M) with M being the number of elements "
                    "returned. If M is constant (e.g. always asking for the first 10 elements "
                    "with COUNT), you can consider it O(1). On the other side when XREADGROUP "
                    "blocks, XADD will pay the O(N) time in order to serve the N clients "
                    "blocked on the stream getting new data.",
         syntax="GROUP group consumer [COUNT count:integer] [MAXCOUNT maxcount:integer] "
                "[MAXSIZE maxsize:integer] [BLOCK milliseconds:integer] "
                "[CLAIM min-idle-time:integer] [NOACK] STREAMS key [key ...] id [id ...]",
         history=(("8.4.0", "Added the `CLAIM` option."),
                  ("8.10.0", "Added the `MAXCOUNT` and `MAXSIZE` options.")))
def xreadgroup(client: Client, argv: list[bytes]) -> Any:
    return _xread(client, argv, xreadgroup=True)


# --- XACK, XPENDING, XCLAIM, XAUTOCLAIM -----------------------------------------------------


@command("XACK", arity=-4, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0",
         summary="Marks a pending message as correctly processed, effectively removing it "
                 "from the pending entries list of the consumer group. Return value of the "
                 "command is the number of messages successfully acknowledged, that is, the "
                 "IDs we were actually able to resolve in the PEL.",
         complexity="O(1) for each message ID processed.",
         syntax="key group id [id ...]")
def xack(client: Client, argv: list[bytes]) -> Any:
    stream = _read(client, argv[1])
    group = stream.groups.get(argv[2]) if stream is not None else None
    if group is None:
        return 0
    ids = [strict_id(raw) for raw in argv[3:]]  # all or nothing
    acked = sum(group.ack(sid) for sid in ids)
    client.server.dirty += acked
    return acked


# --- XNACK (8.8) ------------------------------------------------------------------------------

_NACK_MODES = {b"silent": 0, b"fail": 1, b"fatal": 2}
_SILENT, _FAIL, _FATAL = 0, 1, 2


@dataclass(slots=True)
class _NackArgs:
    mode: int
    ids: list[int]
    retry_count: int = -1  # -1: not given
    force: bool = False


def _parse_xnack(argv: list[bytes]) -> _NackArgs:
    """xnackCommand's order: the mode, then the options (IDS numids id..., RETRYCOUNT,
    FORCE; a later IDS wins), then the IDs, all before anything changes."""
    mode = _NACK_MODES.get(argv[3].lower())
    if mode is None:
        raise errors.XNACK_MODE
    args = _NackArgs(mode, [])
    raw_ids: list[bytes] | None = None
    argc = len(argv)
    i = 4
    while i < argc:
        more = argc - 1 - i
        opt = argv[i].lower()
        if opt == b"ids" and more:
            numids = parse_int(argv[i + 1])
            if numids is None or not 1 <= numids <= 0x7FFFFFFF:
                raise errors.XNACK_NUMIDS
            if numids > argc - (i + 2):
                raise errors.XNACK_NUMIDS_MISMATCH
            raw_ids = argv[i + 2 : i + 2 + numids]
            i += 2 + numids
            continue
        if opt == b"force":
            args.force = True
        elif opt == b"retrycount" and more:
            i += 1
            args.retry_count = int64(argv[i])
            if args.retry_count < 0:
                raise errors.XNACK_RETRYCOUNT
        else:
            raise errors.xnack_option(argv[i])
        i += 1
    if raw_ids is None:
        raise errors.XNACK_NO_IDS
    args.ids = [strict_id(raw) for raw in raw_ids]
    return args


def _nack_count(count: int, args: _NackArgs) -> int:
    """The delivery counter after XNACK: RETRYCOUNT if given, else by mode (SILENT
    undoes the delivery, FAIL keeps it, FATAL marks the entry as failed for good)."""
    if args.retry_count >= 0:
        return args.retry_count
    if args.mode == _SILENT:
        return count - 1 if count > 0 else 0
    if args.mode == _FATAL:
        return LLONG_MAX
    return count


@command("XNACK", arity=-7, flags="write fast", keys=(1, 1, 1), group=GROUP, since="8.8.0",
         summary="Releases claimed messages back to the group's PEL without acknowledging "
                 "them, making them available for re-delivery.",
         complexity="O(1) for each message ID processed.",
         syntax="key group SILENT|FAIL|FATAL IDS numids:integer id [id ...] "
                "[RETRYCOUNT count:integer] [FORCE]")
def xnack(client: Client, argv: list[bytes]) -> Any:
    key, group_name = argv[1], argv[2]
    stream, group = _group_or_error(client, key, group_name)
    args = _parse_xnack(argv)
    nacked = 0
    kept: list[bytes] = []  # the IDs a replay must XNACK (the others were dead-lettered)
    moves: list[list[bytes]] = []
    for sid in args.ids:
        nack = group.pel.get(sid)
        if nack is None:
            if not args.force or stream.get(sid) is None:
                continue
            nack = group.pel[sid] = Nack(None, 0, 0)  # a synthetic entry: no delivery yet
        elif nack.consumer is not None:
            del nack.consumer.pel[sid]
            nack.consumer = None
        nack.delivery_count = _nack_count(nack.delivery_count, args)
        nack.delivery_time = 0  # claimable at once, ahead of every idle entry
        nacked += 1
        # respd: FATAL on a group with a dead-letter stream moves the entry there now.
        if not (args.mode == _FATAL and group.dead_letter is not None and not client.loading
                and _dead_letter(client, key, stream, group_name, group, sid, nack, moves)):
            kept.append(format_id(sid))
    if nacked:
        client.server.dirty += nacked
        db = client.db
        if db.watched or db.blocking:
            db.modified(key)  # a blocked XREADGROUP ... CLAIM may take them now
        if moves:
            replay = []
            if kept:
                replay.append([*argv[:4], b"IDS", b"%d" % len(kept), *kept,
                               *([b"RETRYCOUNT", b"%d" % args.retry_count]
                                 if args.retry_count >= 0 else []),
                               *([b"FORCE"] if args.force else [])])
            client.propagate_as = replay + moves
    return nacked


@command("XPENDING", arity=-3, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0",
         summary="Return information and entries from a stream consumer group pending "
                 "entries list, that are messages fetched but never acknowledged.",
         complexity="O(N) with N being the number of elements returned, so asking for a small "
                    "fixed number of entries per call is O(1). O(M), where M is the total "
                    "number of entries scanned when used with the IDLE filter. When the "
                    "command returns just the summary and the list of consumers is small, it "
                    "runs in O(1) time; otherwise, an additional O(N) time for iterating every "
                    "consumer.",
         syntax="key group [[IDLE min-idle-time:integer] start end count:integer [consumer]]",
         history=(("6.2.0", "Added the `IDLE` option and exclusive range intervals."),),
         tips="nondeterministic_output")
def xpending(client: Client, argv: list[bytes]) -> Any:
    argc = len(argv)
    if argc != 3 and not 6 <= argc <= 9:
        raise errors.SYNTAX
    if argc == 3:
        stream, group = _group_or_error(client, argv[1], argv[2])
        return _pending_summary(group)
    at = 3
    min_idle = 0
    if argv[3].lower() == b"idle":
        min_idle = int64(argv[4])
        if argc < 8:
            raise errors.SYNTAX
        at = 5
    count = max(int64(argv[at + 2]), 0)
    start, end = _range_bounds(argv[at], argv[at + 1])
    consumer_name = argv[at + 3] if at + 3 < argc else None
    stream, group = _group_or_error(client, argv[1], argv[2])
    pel = group.pel
    if consumer_name is not None:
        consumer = group.consumers.get(consumer_name)
        if consumer is None:
            return []
        pel = consumer.pel
    now = _now(client)
    out: list[Any] = []
    for sid in pel.irange(start, end):
        if len(out) >= count:
            break
        nack = pel[sid]
        owner = nack.consumer
        if owner is None:  # XNACKed: no owner, no idle time (-1), as Redis 8.8 shows it
            out.append([format_id(sid), b"", -1, nack.delivery_count])
            continue
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        out.append([format_id(sid), owner.name, max(now - nack.delivery_time, 0),
                    nack.delivery_count])
    return out


def _pending_summary(group: Group) -> list[Any]:
    if not group.pel:
        return [0, None, None, NULL_ARRAY]
    owners = [[c.name, b"%d" % len(c.pel)] for c in group.sorted_consumers() if c.pel]
    return [len(group.pel), format_id(group.pel.keys()[0]), format_id(group.pel.keys()[-1]),
            owners]


def _claim_reply(stream: Stream, sid: int, justid: bool) -> Any:
    if justid:
        return format_id(sid)
    fields = stream.get(sid)
    return _entry(sid, fields) if fields is not None else None


@command("XCLAIM", arity=-6, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0",
         summary="Changes (or acquires) ownership of a message in a consumer group, as if "
                 "the message was delivered to the specified consumer.",
         complexity="O(log N) with N being the number of messages in the PEL of the consumer "
                    "group.",
         syntax="key group consumer min-idle-time id [id ...] [IDLE ms:integer] "
                "[TIME unix-time-milliseconds:unix-time] [RETRYCOUNT count:integer] [FORCE] "
                "[JUSTID] [LASTID lastid]",
         tips="nondeterministic_output")
def xclaim(client: Client, argv: list[bytes]) -> Any:
    stream, group = _group_or_error(client, argv[1], argv[2])  # before any argument error
    now = _now(client)
    return _claim(client, argv, stream, group, _parse_xclaim(argv, now), now)


@dataclass(slots=True)
class _ClaimArgs:
    """XCLAIM's arguments after the consumer name."""

    min_idle: int
    ids: list[int]
    delivery_time: int  # what the claimed entries' delivery time becomes
    retry_count: int = -1  # -1: count one more delivery (unless JUSTID)
    force: bool = False
    justid: bool = False
    last_id: int = 0


def _parse_xclaim(argv: list[bytes], now: int) -> _ClaimArgs:
    """The IDs run until an argument is not one; the options follow (IDLE/TIME are
    relative to ``now``, the last one given wins)."""
    min_idle = max(int64(argv[4], errors.XCLAIM_MIN_IDLE), 0)
    ids: list[int] = []
    j = 5
    while j < len(argv):
        try:
            ids.append(strict_id(argv[j]))
        except ReplyError:
            break
        j += 1
    args = _ClaimArgs(min_idle, ids, -1)
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            args.force = True
        elif opt == b"justid":
            args.justid = True
        elif opt == b"idle" and more:
            j += 1
            args.delivery_time = now - int64(argv[j], errors.XCLAIM_IDLE)
        elif opt == b"time" and more:
            j += 1
            args.delivery_time = int64(argv[j], errors.XCLAIM_TIME)
        elif opt == b"retrycount" and more:
            j += 1
            args.retry_count = int64(argv[j], errors.XCLAIM_RETRYCOUNT)
        elif opt == b"lastid" and more:
            j += 1
            args.last_id = strict_id(argv[j])
        else:
            raise errors.xclaim_option(argv[j])
        j += 1
    if not 0 <= args.delivery_time <= now:  # none given (-1), or out of range
        args.delivery_time = now
    return args


def _claim(client: Client, argv: list[bytes], stream: Stream, group: Group,
           args: _ClaimArgs, now: int) -> list[Any]:
    """XCLAIM's work: the claimable IDs move to the consumer; propagated as one XCLAIM
    per entry (or XGROUP SETID when only LASTID moved)."""
    key, group_name = argv[1], argv[2]
    propagate: list[list[bytes]] = []
    propagate_last_id = False
    if args.last_id > group.last_id:
        group.last_id = args.last_id
        propagate_last_id = True
    consumer: Consumer | None = None
    out: list[Any] = []
    dirty = 0
    for sid in args.ids:
        nack = group.pel.get(sid)
        if stream.get(sid) is None:
            if nack is not None:  # the entry is gone: so is its pending record
                propagate.append(_gone_propagation(key, group_name, group, sid, nack))
                propagate_last_id = False
                _drop_nack(group, sid)
                dirty += 1
            continue
        if args.force and nack is None:
            nack = group.pel[sid] = Nack(None, now)  # type: ignore[arg-type]
        if nack is None:
            continue
        if nack.consumer is not None and args.min_idle and \
                now - nack.delivery_time < args.min_idle:
            continue
        if (not args.justid and args.retry_count < 0
                and _dead_letter(client, key, stream, group_name, group, sid, nack,
                                 propagate)):
            dirty += 1
            continue
        if consumer is None:
            consumer, created = _consumer(group, argv[3], now, refresh=True)
            if created:
                client.db.notify("t", b"xgroup-createconsumer", key)
        _move_nack(group, sid, nack, consumer)
        nack.delivery_time = args.delivery_time
        if args.retry_count >= 0:
            nack.delivery_count = args.retry_count
        elif not args.justid:
            nack.delivery_count = _redelivered(nack.delivery_count)
        out.append(_claim_reply(stream, sid, args.justid))
        propagate.append(_claim_propagation(key, group_name, group, sid, nack))
        propagate_last_id = False
        dirty += 1
    if propagate_last_id:
        propagate.append(_setid_propagation(key, group_name, group))
        dirty += 1
    client.server.dirty += dirty
    client.propagate_as = propagate
    return out


@command("XAUTOCLAIM", arity=-6, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.2.0",
         summary="Changes (or acquires) ownership of messages in a consumer group, as if the "
                 "messages were delivered to the specified consumer.",
         complexity="O(1) if COUNT is small.",
         syntax="key group consumer min-idle-time start [COUNT count:integer] [JUSTID]",
         history=(("7.0.0", "Added an element to the reply array, containing deleted entries "
                            "the command cleared from the PEL"),),
         tips="nondeterministic_output")
def xautoclaim(client: Client, argv: list[bytes]) -> Any:
    args = _parse_xautoclaim(argv)  # unlike XCLAIM, before the group lookup
    stream, group = _group_or_error(client, argv[1], argv[2])
    return _autoclaim(client, argv, stream, group, args)


@dataclass(slots=True)
class _AutoClaimArgs:
    """XAUTOCLAIM's arguments after the consumer name."""

    min_idle: int
    start: int  # the first PEL ID to examine
    count: int = 100
    justid: bool = False


def _parse_xautoclaim(argv: list[bytes]) -> _AutoClaimArgs:
    min_idle = max(int64(argv[4], errors.XAUTOCLAIM_MIN_IDLE), 0)
    start, excl = _interval_id(argv[5], 0)
    if excl:
        if start == MAX_ID:
            raise errors.XRANGE_BAD_START
        start += 1
    args = _AutoClaimArgs(min_idle, start)
    j = 6
    while j < len(argv):
        opt = argv[j].lower()
        if opt == b"count" and len(argv) - 1 - j:
            args.count = int64(argv[j + 1], errors.XAUTOCLAIM_COUNT)
            if not 1 <= args.count <= (1 << 63) // 16:
                raise errors.XAUTOCLAIM_COUNT
            j += 1
        elif opt == b"justid":
            args.justid = True
        else:
            raise errors.SYNTAX
        j += 1
    return args


def _autoclaim(client: Client, argv: list[bytes], stream: Stream, group: Group,
               args: _AutoClaimArgs) -> list[Any]:
    """XAUTOCLAIM's work: [next cursor, claimed entries, IDs gone from the stream],
    examining at most COUNT * 10 PEL entries."""
    key, group_name = argv[1], argv[2]
    count = args.count
    attempts = count * 10
    now = _now(client)
    # Snapshot the PEL slice this call can examine: the loop edits the PEL.
    candidates = []
    for sid in group.pel.irange(minimum=args.start):
        candidates.append(sid)
        if len(candidates) > attempts:
            break
    consumer: Consumer | None = None
    claimed: list[Any] = []
    deleted: list[bytes] = []
    propagate: list[list[bytes]] = []
    examined = 0
    while attempts and count and examined < len(candidates):
        attempts -= 1
        sid = candidates[examined]
        examined += 1
        nack = group.pel[sid]
        if stream.get(sid) is None:
            propagate.append(_gone_propagation(key, group_name, group, sid, nack))
            _drop_nack(group, sid)
            deleted.append(format_id(sid))
            count -= 1
            continue
        if nack.consumer is not None and args.min_idle and \
                now - nack.delivery_time < args.min_idle:
            continue
        if not args.justid and _dead_letter(client, key, stream, group_name, group, sid, nack,
                                            propagate):
            count -= 1
            continue
        if consumer is None:
            consumer, created = _consumer(group, argv[3], now, refresh=True)
            if created:
                client.db.notify("t", b"xgroup-createconsumer", key)
        _move_nack(group, sid, nack, consumer)
        nack.delivery_time = now
        if not args.justid:
            nack.delivery_count = _redelivered(nack.delivery_count)
        claimed.append(_claim_reply(stream, sid, args.justid))
        count -= 1
        propagate.append(_claim_propagation(key, group_name, group, sid, nack))
    cursor = candidates[examined] if examined < len(candidates) else 0
    client.server.dirty += len(propagate)
    client.propagate_as = propagate
    return [format_id(cursor), claimed, deleted]


# --- XGROUP -----------------------------------------------------------------------------------

container("XGROUP", group=GROUP, since="5.0.0", summary="A container for consumer groups commands")

_XGROUP_HELP = [
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
]


def _help(lines: list[str]) -> list[Status]:
    return [Status(line.encode()) for line in lines]


def _subcommand_syntax(argv: list[bytes]) -> ReplyError:
    return errors.unknown_subcommand_or_arity(argv[1], argv[0].decode("latin-1"))


def _xgroup_target(client: Client, argv: list[bytes], needs_group: bool,
                   mkstream: bool = False) -> tuple[Stream | None, Group | None]:
    """xgroupCommand's common checks: the key (unless MKSTREAM) and, for most
    subcommands, the group must exist."""
    stream = _lookup(client, argv[2])
    if mkstream:
        return stream, stream.groups.get(argv[3]) if stream is not None else None
    if stream is None:
        raise errors.XGROUP_NO_KEY
    group = stream.groups.get(argv[3])
    if group is None and needs_group:
        raise errors.nogroup_for_key(argv[3], argv[2])
    return stream, group


def _group_options(argv: list[bytes], create: bool) -> tuple[bool, int]:
    """(MKSTREAM, ENTRIESREAD) from XGROUP CREATE/SETID's options."""
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < len(argv):
        opt = argv[i].lower()
        if create and opt == b"mkstream":
            mkstream = True
            i += 1
        elif opt == b"entriesread" and i + 1 < len(argv):
            entries_read = int64(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise errors.XGROUP_ENTRIESREAD
            i += 2
        else:
            raise _subcommand_syntax(argv)
    return mkstream, entries_read


@command("XGROUP CREATE", arity=-5, flags="write denyoom", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", summary="Create a consumer group.",
         syntax="key group id|$ [MKSTREAM] [ENTRIESREAD entries_read:integer]",
         history=(("7.0.0", "Added the `entries_read` named argument."),))
def xgroup_create(client: Client, argv: list[bytes]) -> Any:
    mkstream, entries_read = _group_options(argv, create=True)
    stream, group = _xgroup_target(client, argv, needs_group=False, mkstream=mkstream)
    if len(argv) > 8:
        raise _subcommand_syntax(argv)
    if argv[4] == b"$":
        sid = stream.last_id if stream is not None else 0
    else:
        sid = strict_id(argv[4])
    key = argv[2]
    if stream is None:
        stream = Stream()
        client.db.add(key, stream)
        watch_stream(client.db, key)
    if argv[3] in stream.groups:
        raise errors.BUSYGROUP
    stream.groups[argv[3]] = Group(sid, entries_read)
    client.server.dirty += 1
    client.db.notify("t", b"xgroup-create", key)
    return OK


@command("XGROUP SETID", arity=-5, flags="write", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", summary="Set a consumer group to an arbitrary last delivered ID value.",
         syntax="key group id|$ [ENTRIESREAD entries_read:integer]",
         history=(("7.0.0", "Added the optional `entries_read` argument."),))
def xgroup_setid(client: Client, argv: list[bytes]) -> Any:
    _, entries_read = _group_options(argv, create=False)
    stream, group = _xgroup_target(client, argv, needs_group=True)
    assert stream is not None and group is not None
    if len(argv) not in (5, 7):
        raise _subcommand_syntax(argv)
    sid = stream.last_id if argv[4] == b"$" else parse_id(argv[4])[0]
    group.last_id = sid
    group.entries_read = entries_read
    client.server.dirty += 1
    client.db.notify("t", b"xgroup-setid", argv[2])
    return OK


@command("XGROUP DESTROY", arity=4, flags="write", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", summary="Destroy a consumer group.", syntax="key group",
         complexity="O(N) where N is the number of entries in the group's pending entries list "
                    "(PEL).")
def xgroup_destroy(client: Client, argv: list[bytes]) -> Any:
    stream, group = _xgroup_target(client, argv, needs_group=False)
    assert stream is not None
    if group is None:
        return 0
    del stream.groups[argv[3]]
    client.server.dirty += 1
    db = client.db
    db.notify("t", b"xgroup-destroy", argv[2])
    if argv[2] in db.blocking:  # readers blocked on the group must hear it is gone
        client.server.key_ready(db, argv[2])
    return 1


@command("XGROUP CREATECONSUMER", arity=5, flags="write denyoom", keys=(2, 2, 1),
         group=GROUP, since="6.2.0", summary="Create a consumer in a consumer group.",
         syntax="key group consumer")
def xgroup_createconsumer(client: Client, argv: list[bytes]) -> Any:
    _, group = _xgroup_target(client, argv, needs_group=True)
    assert group is not None
    _, created = _consumer(group, argv[4], _now(client), refresh=False)
    if not created:
        return 0
    client.server.dirty += 1
    client.db.notify("t", b"xgroup-createconsumer", argv[2])
    return 1


@command("XGROUP DELCONSUMER", arity=5, flags="write", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", summary="Delete a consumer from a consumer group.",
         syntax="key group consumer")
def xgroup_delconsumer(client: Client, argv: list[bytes]) -> Any:
    _, group = _xgroup_target(client, argv, needs_group=True)
    assert group is not None
    pending = group.delete_consumer(argv[4]) if argv[4] in group.consumers else 0
    client.server.dirty += 1
    client.db.notify("t", b"xgroup-delconsumer", argv[2])
    return pending


@command("XGROUP HELP", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands", syntax="")
def xgroup_help(client: Client, argv: list[bytes]) -> Any:
    return _help(_XGROUP_HELP)


# --- XINFO ------------------------------------------------------------------------------------

container("XINFO", group=GROUP, since="5.0.0",
          summary="A container for stream introspection commands")

_XINFO_HELP = [
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
]


def _existing(client: Client, key: bytes) -> Stream:
    stream = _read(client, key)
    if stream is None:
        raise errors.NO_SUCH_KEY
    return stream


@command("XINFO CONSUMERS", arity=4, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", summary="List the consumers in a consumer group", syntax="key group",
         tips="nondeterministic_output")
def xinfo_consumers(client: Client, argv: list[bytes]) -> Any:
    stream = _existing(client, argv[2])
    group = stream.groups.get(argv[3])
    if group is None:
        raise errors.nogroup_for_key(argv[3], argv[2])
    now = _now(client)
    return [Map([(b"name", c.name), (b"pending", len(c.pel)),
                 (b"idle", max(now - c.seen_time, 0))]) for c in group.sorted_consumers()]


def _group_head(stream: Stream, name: bytes, group: Group) -> list[tuple[bytes, Any]]:
    entries_read = group.entries_read if group.entries_read != INVALID_ENTRIES_READ else None
    return [(b"name", name), (b"last-delivered-id", format_id(group.last_id)),
            (b"entries-read", entries_read), (b"lag", stream.lag(group))]


@command("XINFO GROUPS", arity=3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", summary="List the consumer groups of a stream", syntax="key",
         history=(("7.0.0", "Added the `entries-read` and `lag` fields"),))
def xinfo_groups(client: Client, argv: list[bytes]) -> Any:
    stream = _existing(client, argv[2])
    out = []
    for name in sorted(stream.groups):
        group = stream.groups[name]
        head = _group_head(stream, name, group)
        extra = []
        dl = group.dead_letter
        if dl is not None:  # respd's setting: shown only when set, so Redis's reply stays
            extra = [(b"max-deliveries", dl.max_deliveries), (b"dead-letter-key", dl.key),
                     (b"dead-lettered", dl.count)]
        out.append(Map(head[:1] + [(b"consumers", len(group.consumers)),
                                   (b"pending", len(group.pel))] + head[1:] + extra))
    return out


def _stream_head(stream: Stream) -> list[tuple[bytes, Any]]:
    return [(b"length", stream.length), (b"radix-tree-keys", len(stream.nodes)),
            (b"radix-tree-nodes", stream.radix_tree_nodes()),
            (b"last-generated-id", format_id(stream.last_id)),
            (b"max-deleted-entry-id", format_id(stream.max_deleted_id)),
            (b"entries-added", stream.entries_added),
            (b"recorded-first-entry-id", format_id(stream.first_id))] + idmp_info_fields(stream)


def _full_group(stream: Stream, name: bytes, group: Group, count: int) -> Map:
    def limited(pel: Any) -> list[int]:
        ids = pel.keys()
        return list(ids[:count]) if count else list(ids)

    pending = []
    for sid in limited(group.pel):
        nack = group.pel[sid]
        owner = nack.consumer.name if nack.consumer is not None else b""  # XNACKed
        pending.append([format_id(sid), owner, nack.delivery_time, nack.delivery_count])
    consumers = []
    for c in group.sorted_consumers():
        own = [[format_id(sid), c.pel[sid].delivery_time, c.pel[sid].delivery_count]
               for sid in limited(c.pel)]
        consumers.append(Map([(b"name", c.name), (b"seen-time", c.seen_time),
                              (b"pel-count", len(c.pel)), (b"pending", own)]))
    # Redis 8.8's nacked-count, shown only while the group has XNACKed entries so that
    # 7.0's reply stays byte for byte what it was.
    nacked = len(group.nacked()) if group.pel else 0
    return Map(_group_head(stream, name, group) + [(b"pel-count", len(group.pel))]
               + ([(b"nacked-count", nacked)] if nacked else [])
               + [(b"pending", pending), (b"consumers", consumers)])


@command("XINFO STREAM", arity=-3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", summary="Get information about a stream", syntax="key [FULL [COUNT count:integer]]",
         history=(("6.0.0", "Added the `FULL` modifier."),
                  ("7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, "
                            "`recorded-first-entry-id`, `entries-read` and `lag` fields")))
def xinfo_stream(client: Client, argv: list[bytes]) -> Any:
    stream = _existing(client, argv[2])
    opts = argv[3:]
    count = 10
    if opts:
        if len(opts) not in (1, 3) or opts[0].lower() != b"full":
            raise _subcommand_syntax(argv)
        if len(opts) == 3:
            if opts[1].lower() != b"count":
                raise _subcommand_syntax(argv)
            count = int64(opts[2])
            if count < 0:
                count = 10
        entries = [_entry(sid, f) for sid, f in stream.entries(count=count)]
        groups = [_full_group(stream, name, stream.groups[name], count)
                  for name in sorted(stream.groups)]
        return Map(_stream_head(stream) + [(b"entries", entries), (b"groups", groups)])
    first = stream.entries(count=1)
    last = stream.entries(count=1, rev=True)
    return Map(_stream_head(stream) + [
        (b"groups", len(stream.groups)),
        (b"first-entry", _entry(*first[0]) if first else None),
        (b"last-entry", _entry(*last[0]) if last else None)])


@command("XINFO HELP", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands", syntax="")
def xinfo_help(client: Client, argv: list[bytes]) -> Any:
    return _help(_XINFO_HELP)


# --- AOF rewrite ------------------------------------------------------------------------------


def rewrite_stream(key: bytes, stream: Stream) -> list[list[bytes]]:
    """Commands that recreate ``stream`` with its groups, PELs and consumers (Redis's
    rewriteStreamObject)."""
    cmds: list[list[bytes]] = []
    if stream.length:
        for sid, fields in stream.entries():
            cmds.append([b"XADD", key, format_id(sid), *fields])
    else:
        # An empty stream still exists: create it with an entry trimmed at once.
        cmds.append([b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])
    cmds.append([b"XSETID", key, format_id(stream.last_id), b"ENTRIESADDED",
                 b"%d" % stream.entries_added, b"MAXDELETEDID", format_id(stream.max_deleted_id)])
    for name, group in stream.groups.items():
        cmds.append([b"XGROUP", b"CREATE", key, name, format_id(group.last_id),
                     b"ENTRIESREAD", b"%d" % group.entries_read])
        for sid, nack in group.pel.items():
            if nack.consumer is None:  # XNACKed: settings_commands recreates it
                continue
            cmds.append([b"XCLAIM", key, name, nack.consumer.name, b"0", format_id(sid),
                         b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT",
                         b"%d" % nack.delivery_count, b"JUSTID", b"FORCE"])
        for consumer in group.consumers.values():
            if not consumer.pel:
                cmds.append([b"XGROUP", b"CREATECONSUMER", key, name, consumer.name])
    cmds.extend(settings_commands(key, stream))
    return cmds


register_rewriter(Stream, rewrite_stream)


def _list_like_redis(container_name: bytes, order: list[bytes]) -> None:
    """COMMAND lists subcommands in the order of Redis's own table."""
    subs = COMMANDS[container_name].subcommands
    reordered = {name: subs[name] for name in order}
    subs.clear()
    subs.update(reordered)


_list_like_redis(b"xgroup", [b"delconsumer", b"create", b"setid", b"createconsumer",
                             b"help", b"destroy"])
_list_like_redis(b"xinfo", [b"stream", b"help", b"groups", b"consumers"])
