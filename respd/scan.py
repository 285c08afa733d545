"""The SCAN family's shared parts: cursor and option parsing in Redis's order, and the
cursor walk over a collection's keys (HSCAN, SSCAN, ZSCAN).

Small encodings (listpack, intset) are scanned in one call that returns everything with
cursor 0, exactly as Redis does.  Larger collections are walked by position from the
end of their key array towards the start: cursor ``c`` means "positions below c are
still to do".  That needs the array to change only by appending and by moving the
*last* key into a removed key's slot (storage.sets.IndexedKeys works so): a key present
for the whole scan is then never moved from the unvisited part into the visited part,
so it is returned at least once, as Redis guarantees, at O(COUNT) per call.

SCAN walks the keyspace the same way, over a database's ``KeyOrder`` (storage.sets, kept by storage.db).
"""

from __future__ import annotations

from typing import Callable, Sequence

from respd import errors
from respd.glob import compile_pattern
from respd.numbers import int64

ULONG_MAX = 0xFFFF_FFFF_FFFF_FFFF
EMPTY_SCAN = [b"0", []]
COMPLEXITY = ("O(1) for every call. O(N) for a complete iteration, including enough command "
              "calls for the cursor to return back to 0. N is the number of elements inside "
              "the collection.")


def parse_cursor(raw: bytes) -> int:
    """parseScanCursorOrReply: strtoul base 10 (optional sign, a '-' wraps around),
    nothing after the digits, no leading space; an empty string reads as 0."""
    digits = raw[1:] if raw[:1] in (b"-", b"+") else raw
    if raw[:1].isspace() or (digits and not digits.isdigit()) or (raw and not digits):
        raise errors.INVALID_CURSOR
    value = int(digits) if digits else 0
    if value > ULONG_MAX:
        raise errors.INVALID_CURSOR
    return (-value) & ULONG_MAX if raw[:1] == b"-" else value


class ScanOptions:
    __slots__ = ("count", "pattern", "type")

    def __init__(self) -> None:
        self.count = 10
        self.pattern: bytes | None = None
        self.type: bytes | None = None

    def matcher(self) -> Callable[[bytes], bool] | None:
        """None when every key matches (no MATCH, or MATCH *)."""
        if self.pattern is None or self.pattern == b"*":
            return None
        return compile_pattern(self.pattern)


def parse_options(argv: list[bytes], start: int, allow_type: bool = False) -> ScanOptions:
    """scanGenericCommand's option loop: each option needs its argument, COUNT is checked
    where it is met, TYPE exists only for SCAN itself."""
    opts = ScanOptions()
    i = start
    while i < len(argv):
        option = argv[i].lower()
        if len(argv) - i < 2:
            raise errors.SYNTAX
        if option == b"count":
            opts.count = int64(argv[i + 1])
            if opts.count < 1:
                raise errors.SYNTAX
        elif option == b"match":
            opts.pattern = argv[i + 1]
        elif option == b"type" and allow_type:
            opts.type = argv[i + 1].lower()
        else:
            raise errors.SYNTAX
        i += 2
    return opts


def walk(keys: Sequence[bytes], compact: bool, cursor: int, count: int) -> tuple[bytes, Sequence[bytes]]:
    """(next cursor, keys to visit now) for one call over a collection's key array."""
    if compact:
        return b"0", keys
    stop = len(keys) if cursor == 0 else min(cursor, len(keys))
    start = max(stop - count, 0)
    return (b"%d" % start if start else b"0"), keys[start:stop]
