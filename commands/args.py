"""Argument parsers more than one command family uses: blocking timeouts, counts, the
``LEFT|RIGHT`` and ``MIN|MAX`` words, the ``numkeys key... WHERE [COUNT n]`` head of the
*MPOP commands and the start/end normalisation of index ranges.

Each raises the error Redis's shared helper raises (getTimeoutFromObjectOrReply,
getPositiveLongFromObjectOrReply, ...), so the families agree on which message a client
sees.
"""

from __future__ import annotations

import math
from typing import Callable

from respd import errors
from respd.numbers import int64, parse_long_double

# LEFT|RIGHT (lists) and MIN|MAX (sorted sets): which end of the collection.
LEFT, RIGHT = 0, 1
MIN, MAX = 0, 1

# Timeouts beyond this wait forever (Redis's own deadline arithmetic overflows there).
_FOREVER_MS = 100 * 365 * 86400 * 1000
_INF_WORDS = (b"inf", b"infinity")


def parse_timeout(raw: bytes) -> int:
    """getTimeoutFromObjectOrReply in seconds: a long double, rounded up to whole ms
    (0.0001 waits 1 ms, -0.0001 rounds to 0: forever).  An infinite or too large value
    wraps negative in Redis's cast to long long."""
    value = parse_long_double(raw)
    if value is None:
        if raw.lstrip(b"+-").lower() in _INF_WORDS and not raw[:1].isspace():
            raise errors.TIMEOUT_NEGATIVE
        raise errors.TIMEOUT_NOT_FLOAT
    ms = math.ceil(value * 1000)
    if ms < 0 or ms >= 1 << 63:
        raise errors.TIMEOUT_NEGATIVE
    return 0 if ms > _FOREVER_MS else ms


def positive_count(raw: bytes, err: errors.ReplyError = errors.COUNT_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: one message for non-numbers and negatives."""
    value = int64(raw, err)
    if value < 0:
        raise err
    return value


def left_right(raw: bytes) -> int:
    """LEFT or RIGHT, any case."""
    word = raw.lower()
    if word == b"left":
        return LEFT
    if word == b"right":
        return RIGHT
    raise errors.SYNTAX


def min_max(raw: bytes) -> int:
    """MIN or MAX, any case."""
    word = raw.lower()
    if word == b"min":
        return MIN
    if word == b"max":
        return MAX
    raise errors.SYNTAX


def numkeys_and_where(argv: list[bytes], at: int,
                      parse_where: Callable[[bytes], int]) -> tuple[list[bytes], int, int]:
    """[B]LMPOP/[B]ZMPOP's head: numkeys at argv[at], the keys, the direction word
    (``left_right`` or ``min_max``) and an optional COUNT (default 1), checked in Redis's
    order."""
    numkeys = int64(argv[at], errors.NUMKEYS_POSITIVE)
    if numkeys < 1:
        raise errors.NUMKEYS_POSITIVE
    where_at = at + numkeys + 1
    if where_at >= len(argv):
        raise errors.SYNTAX
    where = parse_where(argv[where_at])
    count = -1
    i = where_at + 1
    while i < len(argv):
        if count == -1 and argv[i].lower() == b"count" and i + 1 < len(argv):
            count = int64(argv[i + 1], errors.COUNT_GREATER_ZERO)
            if count < 1:
                raise errors.COUNT_GREATER_ZERO
            i += 2
        else:
            raise errors.SYNTAX
    return argv[at + 1 : where_at], where, max(count, 1)


def mpop_key_positions(argv: list[bytes], at: int) -> list[int]:
    """COMMAND GETKEYS for the *MPOP family: numkeys keys after argv[at]."""
    numkeys = int64(argv[at], errors.NUMKEYS_POSITIVE)
    if numkeys < 1 or at + numkeys >= len(argv):
        raise errors.INVALID_COMMAND_ARGS
    return list(range(at + 1, at + 1 + numkeys))


def index_range(start: int, end: int, length: int) -> tuple[int, int] | None:
    """Redis's start/end normalisation for LRANGE/LTRIM/ZRANGE: (start, end) inclusive,
    or None for an empty range."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    if start < 0:
        start = 0
    if start > end or start >= length:
        return None
    return start, min(end, length - 1)
