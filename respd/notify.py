"""notify-keyspace-events: Redis's flag letters and their canonical text.

The setting is kept as an ``int`` bit set so the write path's test is one ``&``.
Letters: K keyspace channel, E keyevent channel, g generic, $ string, l list, s set,
h hash, z sorted set, x expired, e evicted, t stream, m key miss, d module, n new key,
A alias for "g$lshzxetd".  Emission lives in ``respd.pubsub``.
"""

from __future__ import annotations

from respd import errors
from respd.errors import ConfigError

KEYSPACE = 1 << 0
KEYEVENT = 1 << 1
GENERIC = 1 << 2
STRING = 1 << 3
LIST = 1 << 4
SET = 1 << 5
HASH = 1 << 6
ZSET = 1 << 7
EXPIRED = 1 << 8
EVICTED = 1 << 9
STREAM = 1 << 10
KEY_MISS = 1 << 11
MODULE = 1 << 12
NEW = 1 << 13
ALL = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE

# Event classes as commands name them (db.notify("l", b"lpush", key)).
CLASS_BITS: dict[str, int] = {
    "g": GENERIC, "$": STRING, "l": LIST, "s": SET, "h": HASH, "z": ZSET,
    "x": EXPIRED, "e": EVICTED, "t": STREAM, "m": KEY_MISS, "d": MODULE, "n": NEW,
}
_LETTERS: dict[int, int] = {ord(k): v for k, v in CLASS_BITS.items()}
_LETTERS.update({ord("A"): ALL, ord("K"): KEYSPACE, ord("E"): KEYEVENT})

# The order CONFIG GET prints classes in when "A" does not cover them all.
_CLASS_ORDER = "g$lshzxetdn"


def parse_flags(raw: bytes) -> int:
    flags = 0
    for byte in raw:
        bit = _LETTERS.get(byte)
        if bit is None:
            raise ConfigError(errors.NOTIFY_FLAGS_INVALID)
        flags |= bit
    return flags


def format_flags(flags: int) -> bytes:
    """Redis's canonical text: "A" or the class letters, then K, E and m."""
    if flags & ALL == ALL:
        text = "A"
    else:
        text = "".join(c for c in _CLASS_ORDER if flags & CLASS_BITS[c])
    if flags & KEYSPACE:
        text += "K"
    if flags & KEYEVENT:
        text += "E"
    if flags & KEY_MISS:
        text += "m"
    return text.encode()
