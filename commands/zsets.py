"""Sorted-set commands (Redis 7.0's t_zset.c semantics), BZPOPMIN/BZPOPMAX/BZMPOP included.

Scores are C doubles: replies use the float reply value (RESP3 double, %.17g bulk in
RESP2); ZSCAN shows ``d2string`` text (``_score_text``).  Range arguments follow Redis's two
number grammars: ZADD scores and weights use the strict one (``numbers.double``), score
ranges use plain ``strtod`` (leading spaces, an empty string reading as 0, overflow to
inf), see ``_strtod``.
"""

from __future__ import annotations

import random
import re
from typing import Any, Iterable, NamedTuple

from respd import errors, scan
from respd.client import Client
from respd.command import command
from respd.commands._collections import (candidate_keys, elements_removed, elements_written,
                                         typed_or_skip)
from respd.commands.args import (MAX, MIN, index_range, min_max, mpop_key_positions,
                                 numkeys_and_where, parse_timeout, positive_count)
from respd.numbers import INT64_MAX, double, format_double, int64
from respd.resp import NULL_ARRAY
from respd.storage.db import type_name
from respd.storage.zset import LexRange, ScoreRange, ZSet

GROUP = "sorted_set"
_POP_EVENTS = (b"zpopmin", b"zpopmax")
_POP_NAMES = (b"ZPOPMIN", b"ZPOPMAX")
_LONG_MAX = INT64_MAX
RANK, SCORE, LEX = 0, 1, 2
_C_SPACE = b" \t\n\v\f\r"
_STRTOD_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_STRTOD_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                         rb"(?:[pP][+-]?[0-9]+)?")
_STRTOD_INF = re.compile(rb"[+-]?(?:inf|infinity)", re.IGNORECASE)


# --- argument parsing --------------------------------------------------------------------


def _strtod(raw: bytes) -> float | None:
    """strtod over the whole string, as zslParseRange uses it: leading white space is
    skipped, "" reads as 0 (nothing converted, nothing left over), NaN is refused."""
    if not raw:
        return 0.0
    text = raw.lstrip(_C_SPACE)
    if _STRTOD_DEC.fullmatch(text):
        return float(text)
    if _STRTOD_INF.fullmatch(text):
        return float("-inf") if text[:1] == b"-" else float("inf")
    if _STRTOD_HEX.fullmatch(text):
        sign = -1.0 if text[:1] == b"-" else 1.0
        body = text.lstrip(b"+-")
        if b"p" not in body.lower():
            body += b"p0"
        try:
            return sign * float.fromhex(body.decode())
        except OverflowError:
            return sign * float("inf")
    return None


def _score_end(raw: bytes) -> tuple[float, bool]:
    exclusive = raw[:1] == b"("
    value = _strtod(raw[1:] if exclusive else raw)
    if value is None:
        raise errors.MIN_MAX_NOT_FLOAT
    return value, exclusive


def parse_score_range(lo: bytes, hi: bytes) -> ScoreRange:
    (lo_v, lo_ex), (hi_v, hi_ex) = _score_end(lo), _score_end(hi)
    return ScoreRange(lo_v, hi_v, lo_ex, hi_ex)


def _lex_end(raw: bytes) -> tuple[tuple[int, bytes], bool]:
    head = raw[:1]
    if head in (b"+", b"-") and len(raw) == 1:
        return (1 if head == b"+" else -1, b""), True
    if head == b"(":
        return (0, raw[1:]), True
    if head == b"[":
        return (0, raw[1:]), False
    raise errors.MIN_MAX_NOT_LEX


def parse_lex_range(lo: bytes, hi: bytes) -> LexRange:
    (lo_v, lo_ex), (hi_v, hi_ex) = _lex_end(lo), _lex_end(hi)
    return LexRange(lo_v, hi_v, lo_ex, hi_ex)


# --- storage helpers ---------------------------------------------------------------------


def _lookup(client: Client, key: bytes) -> ZSet | None:
    return client.db.read_typed(key, ZSet)  # counted: the reading commands


def _new_zset(client: Client, size_hint: int, value_len_hint: int) -> ZSet:
    """zsetTypeCreate: a listpack while the hints fit the zset-max-listpack-* limits."""
    config = client.server.config
    return ZSet(size_hint <= config.zset_max_listpack_entries
                and value_len_hint <= config.zset_max_listpack_value)


def _insert(client: Client, zset: ZSet, member: bytes, score: float) -> None:
    """zsetAdd's insertion: a listpack grown past the limits becomes a skiplist."""
    zset.set(member, score)
    if zset.listpack:
        config = client.server.config
        if len(zset) > config.zset_max_listpack_entries or \
                len(member) > config.zset_max_listpack_value:
            zset.listpack = False


def _store(client: Client, dst: bytes, pairs: list[tuple[float, bytes]], event: bytes) -> int:
    """Replace dst with a zset of pairs, or delete it when there are none (the *STORE
    commands' ending): returns the stored size."""
    db = client.db
    if not pairs:
        if db.delete(dst):
            db.notify("g", b"del", dst)
            client.server.dirty += 1
        return 0
    zset = _new_zset(client, len(pairs), max(len(m) for _, m in pairs))
    for score, member in pairs:
        _insert(client, zset, member, score)
    db.set(dst, zset)
    db.notify("z", event, dst)
    client.server.dirty += 1
    return len(zset)


def _pairs_reply(pairs: Iterable[tuple[float, bytes]], withscores: bool,
                 nested: bool) -> list[Any]:
    """Members, or members and scores: flat, or as [member, score] pairs (RESP3)."""
    if not withscores:
        return [member for _, member in pairs]
    if nested:
        return [[member, score] for score, member in pairs]
    out: list[Any] = []
    for score, member in pairs:
        out.append(member)
        out.append(score)
    return out


# --- ZADD / ZINCRBY ----------------------------------------------------------------------


class _ZAddOptions(NamedTuple):
    """ZADD's flags (ZINCRBY is ZADD INCR of one pair); a tuple, so the work unpacks it
    in one step."""

    nx: bool = False
    xx: bool = False
    gt: bool = False
    lt: bool = False
    ch: bool = False
    incr: bool = False


_ZADD_FLAG_BITS = {b"nx": 1, b"xx": 2, b"gt": 4, b"lt": 8, b"ch": 16, b"incr": 32}
# Every combination built once, indexed by its bits: parsing allocates no record.
_ZADD_OPTIONS = [_ZAddOptions(*(bool(bits & bit) for bit in (1, 2, 4, 8, 16, 32)))
                 for bits in range(64)]


def _parse_zadd(argv: list[bytes],
                incr: bool) -> tuple[_ZAddOptions, list[float], list[bytes]]:
    """zaddGenericCommand's parsing, in its order (which decides the error): the flags,
    the pairs' count, the flag conflicts, INCR's single pair, then every score.
    Returns the options, the scores and the members."""
    bits = 32 if incr else 0
    i = 2
    while i < len(argv):
        bit = _ZADD_FLAG_BITS.get(argv[i].lower())
        if bit is None:
            break
        bits |= bit
        i += 1
    opts = _ZADD_OPTIONS[bits]
    nargs = len(argv) - i  # score member ...
    if not nargs or nargs % 2:
        raise errors.SYNTAX
    if i > 2:  # the usual call has no flag to check
        if opts.nx and opts.xx:
            raise errors.ZADD_XX_NX
        if (opts.gt and opts.nx) or (opts.lt and opts.nx) or (opts.gt and opts.lt):
            raise errors.ZADD_GT_LT_NX
        if opts.incr and nargs > 2:
            raise errors.ZADD_INCR_PAIR
    if nargs == 2:  # one pair is the usual call: spared the slices and map
        return opts, [double(argv[i])], [argv[i + 1]]
    return opts, list(map(double, argv[i::2])), argv[i + 1::2]


def _zadd(client: Client, key: bytes, opts: _ZAddOptions, scores: list[float],
          members: list[bytes]) -> Any:
    """zaddGenericCommand's work: the reply is the number added (or changed, with CH),
    or INCR's new score (None when a flag stopped it)."""
    nx, xx, gt, lt, ch, incr = opts
    db = client.db
    zset = db.lookup_typed(key, ZSet)
    added = updated = processed = 0
    score = 0.0
    if zset is None:
        if xx:
            return None if incr else 0
        zset = _new_zset(client, len(scores), len(members[0]))
        db.add(key, zset)
    elif zset.listpack and len(scores) > client.server.config.zset_max_listpack_entries:
        zset.listpack = False
    try:
        for member, score in zip(members, scores):
            current = zset.scores.get(member)
            if current is None:
                if xx:
                    continue
                _insert(client, zset, member, score)
                added += 1
            else:
                if nx:
                    continue
                if incr:
                    score += current
                    if score != score:
                        raise errors.ZSET_NAN
                if (lt and score >= current) or (gt and score <= current):
                    continue
                if score != current:
                    _insert(client, zset, member, score)
                    updated += 1
            processed += 1
    finally:
        if added or updated:
            elements_written(client, key, "z", b"zincr" if incr else b"zadd", added + updated)
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command("ZADD", arity=-4, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Add one or more members to a sorted set, or update its "
                                "score if it already exists",
         complexity="O(log(N)) for each item added, where N is the number of elements in "
                    "the sorted set.",
         syntax="key [NX|XX] [GT|LT] [CH] [INCR] score:double member "
                "[score:double member ...]",
         history=(("2.4.0", "Accepts multiple elements."),
                  ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
                  ("6.2.0", "Added the `GT` and `LT` options.")))
def zadd(client: Client, argv: list[bytes]) -> Any:
    # ``ZADD key score member``, the usual call, has no option to parse (as XADD's plain
    # form): what _parse_zadd would return, without the call.
    if len(argv) == 4 and argv[2].lower() not in _ZADD_FLAG_BITS:
        return _zadd(client, argv[1], _ZADD_OPTIONS[0], [double(argv[2])], [argv[3]])
    opts, scores, members = _parse_zadd(argv, False)
    return _zadd(client, argv[1], opts, scores, members)


@command("ZINCRBY", arity=4, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Increment the score of a member in a sorted set",
         complexity="O(log(N)) where N is the number of elements in the sorted set.",
         syntax="key increment:double member")
def zincrby(client: Client, argv: list[bytes]) -> Any:
    opts, scores, members = _parse_zadd(argv, True)
    return _zadd(client, argv[1], opts, scores, members)


# --- single-member reads and removal ------------------------------------------------------


@command("ZREM", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0",
         summary="Remove one or more members from a sorted set",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set and "
                    "M the number of elements to be removed.",
         syntax="key member [member ...]",
         history=(("2.4.0", "Accepts multiple elements."),))
def zrem(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    zset = client.db.lookup_typed(key, ZSet)
    if zset is None:
        return 0
    removed = 0
    for member in argv[2:]:
        removed += zset.remove(member)
        if not zset:
            break
    if removed:
        elements_removed(client, key, zset, "z", b"zrem", removed)
    return removed


@command("ZSCORE", arity=3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Get the score associated with the given member in a "
                                "sorted set", syntax="key member")
def zscore(client: Client, argv: list[bytes]) -> Any:
    zset = _lookup(client, argv[1])
    return None if zset is None else zset.score(argv[2])


@command("ZMSCORE", arity=-3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.2.0", summary="Get the score associated with the given members in a "
                                "sorted set",
         complexity="O(N) where N is the number of members being requested.",
         syntax="key member [member ...]")
def zmscore(client: Client, argv: list[bytes]) -> Any:
    zset = _lookup(client, argv[1])
    if zset is None:
        return [None] * (len(argv) - 2)
    return [zset.score(member) for member in argv[2:]]


@command("ZCARD", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Get the number of members in a sorted set", syntax="key")
def zcard(client: Client, argv: list[bytes]) -> Any:
    zset = _lookup(client, argv[1])
    return 0 if zset is None else len(zset)


def _rank(client: Client, argv: list[bytes], reverse: bool) -> Any:
    zset = _lookup(client, argv[1])
    if zset is None:
        return None
    rank = zset.rank(argv[2])
    if rank is None:
        return None
    return len(zset) - 1 - rank if reverse else rank


@command("ZRANK", arity=3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Determine the index of a member in a sorted set",
         complexity="O(log(N))", syntax="key member")
def zrank(client: Client, argv: list[bytes]) -> Any:
    return _rank(client, argv, False)


@command("ZREVRANK", arity=3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Determine the index of a member in a sorted set, with "
                                "scores ordered from high to low",
         complexity="O(log(N))", syntax="key member")
def zrevrank(client: Client, argv: list[bytes]) -> Any:
    return _rank(client, argv, True)


# --- counting ----------------------------------------------------------------------------


@command("ZCOUNT", arity=4, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Count the members in a sorted set with scores within the "
                                "given values",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         syntax="key min:double max:double")
def zcount(client: Client, argv: list[bytes]) -> Any:
    rng = parse_score_range(argv[2], argv[3])
    zset = _lookup(client, argv[1])
    if zset is None:
        return 0
    start, stop = zset.score_span(rng)
    return stop - start


@command("ZLEXCOUNT", arity=4, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.8.9", summary="Count the number of members in a sorted set between a "
                                "given lexicographical range",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         syntax="key min max")
def zlexcount(client: Client, argv: list[bytes]) -> Any:
    rng = parse_lex_range(argv[2], argv[3])
    zset = _lookup(client, argv[1])
    if zset is None:
        return 0
    start, stop = zset.lex_span(rng)
    return stop - start


# --- ranges ------------------------------------------------------------------------------


class _RangeRequest:
    """What zrangeGenericCommand parsed: the kind, bounds, direction and LIMIT."""

    __slots__ = ("kind", "reverse", "withscores", "offset", "limit", "start", "end", "bounds")

    def __init__(self) -> None:
        self.kind = -1
        self.reverse: bool | None = None
        self.withscores = False
        self.offset = 0
        self.limit = -1
        self.start = self.end = 0
        self.bounds: ScoreRange | LexRange | None = None


def _parse_range(argv: list[bytes], at: int, store: bool, kind: int,
                 reverse: bool | None) -> _RangeRequest:
    """zrangeGenericCommand's steps 1-2 for argv[at] = key, then min, max, options."""
    req = _RangeRequest()
    req.kind, req.reverse = kind, reverse
    i = at + 3
    while i < len(argv):
        option = argv[i].lower()
        left = len(argv) - i - 1
        if not store and option == b"withscores":
            req.withscores = True
        elif option == b"limit" and left >= 2:
            req.offset, req.limit = int64(argv[i + 1]), int64(argv[i + 2])
            i += 2
        elif req.reverse is None and option == b"rev":
            req.reverse = True
        elif req.kind < 0 and option == b"bylex":
            req.kind = LEX
        elif req.kind < 0 and option == b"byscore":
            req.kind = SCORE
        else:
            raise errors.SYNTAX
        i += 1
    req.reverse = bool(req.reverse)
    if req.kind < 0:
        req.kind = RANK
    if req.limit != -1 and req.kind == RANK:
        raise errors.ZRANGE_LIMIT_NEEDS_BY
    if req.withscores and req.kind == LEX:
        raise errors.ZRANGE_WITHSCORES_BYLEX
    lo, hi = argv[at + 1], argv[at + 2]
    if req.reverse and req.kind != RANK:
        lo, hi = hi, lo  # given as max, min
    if req.kind == RANK:
        req.start, req.end = int64(lo), int64(hi)
    elif req.kind == SCORE:
        req.bounds = parse_score_range(lo, hi)
    else:
        req.bounds = parse_lex_range(lo, hi)
    return req


def _range_pairs(zset: ZSet, req: _RangeRequest) -> list[tuple[float, bytes]]:
    n = len(zset)
    if req.kind == RANK:
        span = index_range(req.start, req.end, n)
        if span is None:
            return []
        start, end = span
        if req.reverse:
            start, end = n - 1 - end, n - 1 - start
        return list(zset.slice(start, end + 1, req.reverse))
    if req.offset < 0 or (req.offset > 0 and req.offset >= n):
        return []
    offset = req.offset
    if isinstance(req.bounds, ScoreRange):
        start, stop = zset.score_span(req.bounds)
    else:
        assert req.bounds is not None
        start, stop = zset.lex_span(req.bounds, req.reverse, offset)  # offset skipped
        offset = 0
    if req.reverse:
        stop -= offset
        if req.limit >= 0:
            start = max(start, stop - req.limit)
    else:
        start += offset
        if req.limit >= 0:
            stop = min(stop, start + req.limit)
    if start >= stop:
        return []
    return list(zset.slice(start, stop, req.reverse))


def _zrange(client: Client, argv: list[bytes], kind: int = -1,
            reverse: bool | None = None) -> Any:
    req = _parse_range(argv, 1, False, kind, reverse)
    zset = _lookup(client, argv[1])
    if zset is None:
        return []
    return _pairs_reply(_range_pairs(zset, req), req.withscores, client.resp > 2)


_RANGE_HISTORY = (("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),)


@command("ZRANGE", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0",
         summary="Return a range of members in a sorted set",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements returned.",
         syntax="key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset:integer count:integer] "
                "[WITHSCORES]",
         history=_RANGE_HISTORY)
def zrange(client: Client, argv: list[bytes]) -> Any:
    return _zrange(client, argv)


@command("ZREVRANGE", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Return a range of members in a sorted set, by index, with "
                                "scores ordered from high to low",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements returned.",
         syntax="key start:integer stop:integer [WITHSCORES]")
def zrevrange(client: Client, argv: list[bytes]) -> Any:
    return _zrange(client, argv, RANK, True)


@command("ZRANGEBYSCORE", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.5", summary="Return a range of members in a sorted set, by score",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned.",
         syntax="key min:double max:double [WITHSCORES] [LIMIT offset:integer count:integer]",
         history=(("2.0.0", "Added the `WITHSCORES` modifier."),))
def zrangebyscore(client: Client, argv: list[bytes]) -> Any:
    return _zrange(client, argv, SCORE, False)


@command("ZREVRANGEBYSCORE", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.2.0", summary="Return a range of members in a sorted set, by score, with "
                                "scores ordered from high to low",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned.",
         syntax="key max:double min:double [WITHSCORES] [LIMIT offset:integer count:integer]")
def zrevrangebyscore(client: Client, argv: list[bytes]) -> Any:
    return _zrange(client, argv, SCORE, True)


@command("ZRANGEBYLEX", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.8.9", summary="Return a range of members in a sorted set, by "
                                "lexicographical range",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned.",
         syntax="key min max [LIMIT offset:integer count:integer]")
def zrangebylex(client: Client, argv: list[bytes]) -> Any:
    return _zrange(client, argv, LEX, False)


@command("ZREVRANGEBYLEX", arity=-4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.8.9", summary="Return a range of members in a sorted set, by "
                                "lexicographical range, ordered from higher to lower strings.",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements being returned.",
         syntax="key max min [LIMIT offset:integer count:integer]")
def zrevrangebylex(client: Client, argv: list[bytes]) -> Any:
    return _zrange(client, argv, LEX, True)


@command("ZRANGESTORE", arity=-5, flags="write denyoom", plain=True, keys=(1, 2, 1), group=GROUP,
         since="6.2.0", summary="Store a range of members from sorted set into another key",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements stored into the destination key.",
         syntax="dst:key src:key min max [BYSCORE|BYLEX] [REV] "
                "[LIMIT offset:integer count:integer]")
def zrangestore(client: Client, argv: list[bytes]) -> Any:
    req = _parse_range(argv, 2, True, -1, None)
    zset = _lookup(client, argv[2])
    pairs = [] if zset is None else _range_pairs(zset, req)
    return _store(client, argv[1], pairs, b"zrangestore")


# --- removing ranges ---------------------------------------------------------------------


def _zremrange(client: Client, argv: list[bytes], kind: int, event: bytes) -> Any:
    if kind == RANK:
        start, end = int64(argv[2]), int64(argv[3])
    elif kind == SCORE:
        score_range = parse_score_range(argv[2], argv[3])
    else:
        lex_range = parse_lex_range(argv[2], argv[3])
    key = argv[1]
    zset = client.db.lookup_typed(key, ZSet)
    if zset is None:
        return 0
    if kind == RANK:
        span = index_range(start, end, len(zset))
        if span is None:
            return 0
        first, stop = span[0], span[1] + 1
    elif kind == SCORE:
        first, stop = zset.score_span(score_range)
    else:
        first, stop = zset.lex_span(lex_range)
    removed = zset.delete_span(first, stop)
    if removed:
        elements_removed(client, key, zset, "z", event, removed)
    return removed


@command("ZREMRANGEBYRANK", arity=4, flags="write", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Remove all members in a sorted set within the given indexes",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements removed by the operation.",
         syntax="key start:integer stop:integer")
def zremrangebyrank(client: Client, argv: list[bytes]) -> Any:
    return _zremrange(client, argv, RANK, b"zremrangebyrank")


@command("ZREMRANGEBYSCORE", arity=4, flags="write", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Remove all members in a sorted set within the given scores",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements removed by the operation.",
         syntax="key min:double max:double")
def zremrangebyscore(client: Client, argv: list[bytes]) -> Any:
    return _zremrange(client, argv, SCORE, b"zremrangebyscore")


@command("ZREMRANGEBYLEX", arity=4, flags="write", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.8.9", summary="Remove all members in a sorted set between the given "
                                "lexicographical range",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                    "the number of elements removed by the operation.",
         syntax="key min max")
def zremrangebylex(client: Client, argv: list[bytes]) -> Any:
    return _zremrange(client, argv, LEX, b"zremrangebylex")


# --- popping -----------------------------------------------------------------------------


def _pop(client: Client, key: bytes, zset: ZSet, where: int,
         count: int) -> list[tuple[float, bytes]]:
    popped = [zset.pop(where == MAX) for _ in range(min(count, len(zset)))]
    if popped:
        elements_removed(client, key, zset, "z", _POP_EVENTS[where], len(popped))
    return popped


def _zpop(client: Client, argv: list[bytes], where: int) -> Any:
    if len(argv) > 3:  # unlike LPOP, a syntax error rather than an arity error
        raise errors.SYNTAX
    count = positive_count(argv[2]) if len(argv) == 3 else None
    key = argv[1]
    zset = client.db.lookup_typed(key, ZSet)
    if zset is None or count == 0:
        return []
    popped = _pop(client, key, zset, where, 1 if count is None else count)
    # RESP3 nests [member, score] pairs only when a count was given.
    return _pairs_reply(popped, True, client.resp > 2 and count is not None)


@command("ZPOPMIN", arity=-2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0", summary="Remove and return members with the lowest scores in a "
                                "sorted set",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, and "
                    "M being the number of elements popped.",
         syntax="key [count:integer]")
def zpopmin(client: Client, argv: list[bytes]) -> Any:
    return _zpop(client, argv, MIN)


@command("ZPOPMAX", arity=-2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="5.0.0", summary="Remove and return members with the highest scores in a "
                                "sorted set",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, and "
                    "M being the number of elements popped.",
         syntax="key [count:integer]")
def zpopmax(client: Client, argv: list[bytes]) -> Any:
    return _zpop(client, argv, MAX)


def _first_nonempty(client: Client, keys: list[bytes]) -> tuple[bytes, ZSet] | None:
    """The blocking pops' candidate: the first key holding a zset (on a re-run, the ready
    key if it does)."""
    for key in candidate_keys(client, keys):
        zset = typed_or_skip(client, key, ZSet)
        if zset:
            return key, zset
    return None


def _blocking_zpop(client: Client, argv: list[bytes], where: int) -> Any:
    keys = argv[1:-1]
    timeout = parse_timeout(argv[-1])
    found = _first_nonempty(client, keys)
    if found is None:
        return client.block(keys, timeout, NULL_ARRAY, argv)
    key, zset = found
    (score, member), = _pop(client, key, zset, where, 1)
    client.propagate_as = [[_POP_NAMES[where], key]]
    return [key, member, score]


@command("BZPOPMIN", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
         group=GROUP, since="5.0.0",
         summary="Remove and return the member with the lowest score from one or more "
                 "sorted sets, or block until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         syntax="key [key ...] timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def bzpopmin(client: Client, argv: list[bytes]) -> Any:
    return _blocking_zpop(client, argv, MIN)


@command("BZPOPMAX", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
         group=GROUP, since="5.0.0",
         summary="Remove and return the member with the highest score from one or more "
                 "sorted sets, or block until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         syntax="key [key ...] timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def bzpopmax(client: Client, argv: list[bytes]) -> Any:
    return _blocking_zpop(client, argv, MAX)


def _mpop_serve(client: Client, keys: list[bytes], where: int, count: int) -> Any:
    """ZMPOP's reply [key, [[member, score], ...]] from the first key with a zset."""
    found = _first_nonempty(client, keys)
    if found is None:
        return None
    key, zset = found
    popped = _pop(client, key, zset, where, count)
    client.propagate_as = [[_POP_NAMES[where], key, b"%d" % len(popped)]]
    return [key, _pairs_reply(popped, True, True)]


@command("ZMPOP", arity=-4, flags="write", plain=True,
         getkeys=lambda argv: mpop_key_positions(argv, 1),
         group=GROUP, since="7.0.0",
         summary="Remove and return members with scores in a sorted set",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the "
                    "number of elements in the sorted set, and M being the number of elements "
                    "popped.",
         syntax="numkeys:integer key [key ...] MIN|MAX [COUNT count:integer]")
def zmpop(client: Client, argv: list[bytes]) -> Any:
    keys, where, count = numkeys_and_where(argv, 1, min_max)
    result = _mpop_serve(client, keys, where, count)
    return NULL_ARRAY if result is None else result


@command("BZMPOP", arity=-5, flags="write blocking",
         getkeys=lambda argv: mpop_key_positions(argv, 2),
         group=GROUP, since="7.0.0",
         summary="Remove and return members with scores in a sorted set or block until one "
                 "is available",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the "
                    "number of elements in the sorted set, and M being the number of elements "
                    "popped.",
         syntax="timeout:double numkeys:integer key [key ...] MIN|MAX [COUNT count:integer]")
def bzmpop(client: Client, argv: list[bytes]) -> Any:
    keys, where, count = numkeys_and_where(argv, 2, min_max)
    timeout = parse_timeout(argv[1])
    result = _mpop_serve(client, keys, where, count)
    if result is not None:
        return result
    return client.block(keys, timeout, NULL_ARRAY, argv)


# --- union, intersection, difference ------------------------------------------------------

UNION, INTER, DIFF = 0, 1, 2
_STORE_EVENTS = (b"zunionstore", b"zinterstore", b"zdiffstore")


class _SetOp:
    """zunionInterDiffGenericCommand's parsed arguments."""

    __slots__ = ("sources", "weights", "aggregate", "withscores", "limit")

    def __init__(self, sources: list[dict[bytes, float] | None]) -> None:
        self.sources = sources
        self.weights = [1.0] * len(sources)
        self.aggregate = b"sum"
        self.withscores = False
        self.limit = 0


def _as_scores(value: Any) -> dict[bytes, float] | None:
    """A source's member → score view: zsets as they are, plain sets with score 1."""
    if value is None:
        return None
    if type(value) is ZSet:
        return value.scores
    if type_name(value) == b"set":
        return dict.fromkeys(value, 1.0)
    raise errors.WRONGTYPE


def _parse_setop(client: Client, argv: list[bytes], at: int, op: int, store: bool,
                 card_only: bool) -> _SetOp:
    numkeys = int64(argv[at])
    if numkeys < 1:
        raise errors.at_least_one_key(argv[0].decode("latin-1").lower())
    first = at + 1
    if numkeys > len(argv) - first:
        raise errors.SYNTAX
    lookup = client.db.read  # counted, ZUNIONSTORE and the others alike
    spec = _SetOp([_as_scores(lookup(key)) for key in argv[first : first + numkeys]])
    i = first + numkeys
    while i < len(argv):
        option = argv[i].lower()
        left = len(argv) - i
        weighted = op != DIFF and not card_only
        if weighted and option == b"weights" and left >= numkeys + 1:
            spec.weights = [double(raw, errors.WEIGHT_NOT_FLOAT)
                            for raw in argv[i + 1 : i + 1 + numkeys]]
            i += numkeys + 1
        elif weighted and option == b"aggregate" and left >= 2:
            spec.aggregate = argv[i + 1].lower()
            if spec.aggregate not in (b"sum", b"min", b"max"):
                raise errors.SYNTAX
            i += 2
        elif not store and not card_only and option == b"withscores":
            spec.withscores = True
            i += 1
        elif card_only and option == b"limit" and left >= 2:
            spec.limit = positive_count(argv[i + 1], errors.LIMIT_NEGATIVE)
            i += 2
        else:
            raise errors.SYNTAX
    return spec


def _aggregate(how: bytes, current: float, value: float) -> float:
    """zunionInterAggregate: a NaN sum becomes 0; MIN/MAX keep the current on NaN."""
    if how == b"sum":
        total = current + value
        return 0.0 if total != total else total
    if how == b"min":
        return value if value < current else current
    return value if value > current else current


def _weighted(score: float, weight: float) -> float:
    value = score * weight
    return 0.0 if value != value else value


def _union(spec: _SetOp) -> dict[bytes, float]:
    result: dict[bytes, float] = {}
    for source, weight in zip(spec.sources, spec.weights):
        for member, score in (source or {}).items():
            value = _weighted(score, weight)
            current = result.get(member)
            if current is not None:
                value = _aggregate(spec.aggregate, current, value)
            result[member] = value
    return result


def _inter(spec: _SetOp, limit: int = 0) -> dict[bytes, float]:
    """Walk the smallest source and look members up in the others (smallest first)."""
    if any(not source for source in spec.sources):
        return {}
    ordered = sorted(zip(spec.sources, spec.weights), key=lambda sw: len(sw[0] or ()))
    (base, base_weight), others = ordered[0], ordered[1:]
    result: dict[bytes, float] = {}
    for member, score in (base or {}).items():
        total = _weighted(score, base_weight)
        for source, weight in others:
            found = (source or {}).get(member)
            if found is None:
                break
            total = _aggregate(spec.aggregate, total, found * weight)
        else:
            result[member] = total
            if limit and len(result) >= limit:
                break
    return result


def _diff(spec: _SetOp) -> dict[bytes, float]:
    base, others = spec.sources[0], [s for s in spec.sources[1:] if s]
    if not base:
        return {}
    return {m: s for m, s in base.items() if not any(m in other for other in others)}


_OPS = (_union, _inter, _diff)


def _sorted_pairs(result: dict[bytes, float]) -> list[tuple[float, bytes]]:
    return sorted((score, member) for member, score in result.items())


def _setop_store(client: Client, argv: list[bytes], op: int) -> Any:
    spec = _parse_setop(client, argv, 2, op, True, False)
    return _store(client, argv[1], _sorted_pairs(_OPS[op](spec)), _STORE_EVENTS[op])


def _setop_reply(client: Client, argv: list[bytes], op: int) -> Any:
    spec = _parse_setop(client, argv, 1, op, False, False)
    pairs = _sorted_pairs(_OPS[op](spec))
    return _pairs_reply(pairs, spec.withscores, client.resp > 2)


def _setop_keys(argv: list[bytes], at: int) -> list[int]:
    """COMMAND GETKEYS: the destination (if any) and numkeys source keys."""
    numkeys = int64(argv[at], errors.INVALID_COMMAND_ARGS)
    if numkeys < 1 or at + numkeys >= len(argv):
        raise errors.INVALID_COMMAND_ARGS
    return list(range(1, at)) + list(range(at + 1, at + 1 + numkeys))


_SETOP_STORE_SYNTAX = ("destination:key numkeys:integer key [key ...] "
                       "[WEIGHTS weight:integer [weight:integer ...]] [AGGREGATE SUM|MIN|MAX]")
_SETOP_SYNTAX = ("numkeys:integer key [key ...] [WEIGHTS weight:integer [weight:integer ...]] "
                 "[AGGREGATE SUM|MIN|MAX] [WITHSCORES]")
_SETOP_COMPLEXITY = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted "
                     "sets, and M being the number of elements in the resulting sorted set.")
_INTER_COMPLEXITY = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted "
                     "set, K being the number of input sorted sets and M being the number of "
                     "elements in the resulting sorted set.")
_DIFF_COMPLEXITY = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in "
                    "all the sets, N is the size of the first set, and K is the size of the "
                    "result set.")


@command("ZUNIONSTORE", arity=-4, flags="write denyoom", plain=True, keys=(1, 1, 1),
         getkeys=lambda a: _setop_keys(a, 2),
         group=GROUP, since="2.0.0", summary="Add multiple sorted sets and store the "
                                             "resulting sorted set in a new key",
         complexity=_SETOP_COMPLEXITY, syntax=_SETOP_STORE_SYNTAX)
def zunionstore(client: Client, argv: list[bytes]) -> Any:
    return _setop_store(client, argv, UNION)


@command("ZINTERSTORE", arity=-4, flags="write denyoom", plain=True, keys=(1, 1, 1),
         getkeys=lambda a: _setop_keys(a, 2),
         group=GROUP, since="2.0.0", summary="Intersect multiple sorted sets and store the "
                                             "resulting sorted set in a new key",
         complexity=_INTER_COMPLEXITY, syntax=_SETOP_STORE_SYNTAX)
def zinterstore(client: Client, argv: list[bytes]) -> Any:
    return _setop_store(client, argv, INTER)


@command("ZDIFFSTORE", arity=-4, flags="write denyoom", plain=True, keys=(1, 1, 1),
         getkeys=lambda a: _setop_keys(a, 2),
         group=GROUP, since="6.2.0", summary="Subtract multiple sorted sets and store the "
                                             "resulting sorted set in a new key",
         complexity=_DIFF_COMPLEXITY,
         syntax="destination:key numkeys:integer key [key ...]")
def zdiffstore(client: Client, argv: list[bytes]) -> Any:
    return _setop_store(client, argv, DIFF)


@command("ZUNION", arity=-3, flags="readonly", plain=True, getkeys=lambda a: _setop_keys(a, 1),
         group=GROUP, since="6.2.0", summary="Add multiple sorted sets",
         complexity=_SETOP_COMPLEXITY, syntax=_SETOP_SYNTAX)
def zunion(client: Client, argv: list[bytes]) -> Any:
    return _setop_reply(client, argv, UNION)


@command("ZINTER", arity=-3, flags="readonly", plain=True, getkeys=lambda a: _setop_keys(a, 1),
         group=GROUP, since="6.2.0", summary="Intersect multiple sorted sets",
         complexity=_INTER_COMPLEXITY, syntax=_SETOP_SYNTAX)
def zinter(client: Client, argv: list[bytes]) -> Any:
    return _setop_reply(client, argv, INTER)


@command("ZDIFF", arity=-3, flags="readonly", plain=True, getkeys=lambda a: _setop_keys(a, 1),
         group=GROUP, since="6.2.0", summary="Subtract multiple sorted sets",
         complexity=_DIFF_COMPLEXITY, syntax="numkeys:integer key [key ...] [WITHSCORES]")
def zdiff(client: Client, argv: list[bytes]) -> Any:
    return _setop_reply(client, argv, DIFF)


@command("ZINTERCARD", arity=-3, flags="readonly", plain=True, getkeys=lambda a: _setop_keys(a, 1),
         group=GROUP, since="7.0.0",
         summary="Intersect multiple sorted sets and return the cardinality of the result",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K being "
                    "the number of input sorted sets.",
         syntax="numkeys:integer key [key ...] [LIMIT limit:integer]")
def zintercard(client: Client, argv: list[bytes]) -> Any:
    spec = _parse_setop(client, argv, 1, INTER, False, True)
    return len(_inter(spec, spec.limit))


# --- random members and scanning ----------------------------------------------------------


@command("ZRANDMEMBER", arity=-2, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.2.0", summary="Get one or multiple random elements from a sorted set",
         complexity="O(N) where N is the number of elements returned",
         syntax="key [count:integer [WITHSCORES]]")
def zrandmember(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        zset = _lookup(client, argv[1])
        if zset is None:
            return None
        return random.choice(zset.order)[1]
    count = int64(argv[2])
    if count < -_LONG_MAX:
        raise errors.out_of_range_between(-_LONG_MAX, _LONG_MAX)
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
        raise errors.SYNTAX
    withscores = len(argv) == 4
    if withscores and not -_LONG_MAX // 2 <= count <= _LONG_MAX // 2:
        raise errors.VALUE_OUT_OF_RANGE
    zset = _lookup(client, argv[1])
    if zset is None or count == 0:
        return []
    order = zset.order
    if count < 0 or count == 1:
        picks = [order[random.randrange(len(order))] for _ in range(abs(count))]
    elif count >= len(order):
        picks = list(reversed(order))  # Redis 7.0 answers the whole set highest first
    else:
        picks = [order[i] for i in random.sample(range(len(order)), count)]
    return _pairs_reply(picks, withscores, client.resp > 2)


_EXACT_INT_LIMIT = float(1 << 62)  # double2ll's safe range, LLONG_MAX/2


def _score_text(score: float) -> bytes:
    """d2string, the text ZSCAN shows: integral scores in double2ll's range print as
    integers (1.2345678901234568e+17 reads 123456789012345680), others as %.17g."""
    if -_EXACT_INT_LIMIT <= score <= _EXACT_INT_LIMIT and score.is_integer():
        return b"%d" % int(score)
    return format_double(score)


@command("ZSCAN", arity=-3, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.8.0",
         summary="Incrementally iterate sorted sets elements and associated scores",
         complexity=scan.COMPLEXITY + ".",  # Redis's ZSCAN docs end in ".."
         syntax="key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]")
def zscan(client: Client, argv: list[bytes]) -> Any:
    cursor = scan.parse_cursor(argv[2])
    zset = _lookup(client, argv[1])
    if zset is None:
        return scan.EMPTY_SCAN
    opts = scan.parse_options(argv, 3)
    if zset.listpack:  # Redis answers a small set whole, in score order
        next_cursor, members = b"0", [m for _, m in zset.order]
    else:
        next_cursor, members = scan.walk(zset.members, False, cursor, opts.count)
    matches = opts.matcher()
    flat: list[bytes] = []
    for member in members:
        if matches is None or matches(member):
            flat += (member, _score_text(zset.scores[member]))
    return [next_cursor, flat]
