"""Redis's glob matching (util.c ``stringmatchlen``), shared by KEYS, SCAN MATCH,
PSUBSCRIBE, PUBSUB CHANNELS and CONFIG GET.

Python's ``fnmatch`` differs on purpose-critical points: Redis negates a class only with
``^`` (``[!a]`` is a class holding '!' and 'a'), a backslash escapes the next byte
inside and outside classes, an unterminated class runs to the end of the pattern, and an
empty subject never matches anything but the empty pattern.  Patterns are translated
once into an equivalent regular expression by a scanner that walks the pattern exactly
as ``stringmatchlen`` does, and the compiled result is cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

_SPECIAL = frozenset(b"*?[\\")


def _class_regex(ranges: list[tuple[int, int]], negate: bool) -> bytes:
    if not ranges:
        # "[]" matches nothing, "[^]" matches any single byte.
        return b"[\\x00-\\xff]" if negate else b"(?!)"
    body = b"".join(
        b"\\x%02x" % lo if lo == hi else b"\\x%02x-\\x%02x" % (lo, hi) for lo, hi in ranges
    )
    return b"[" + (b"^" if negate else b"") + body + b"]"


def translate(pattern: bytes) -> bytes:
    """The regular expression (for ``fullmatch``) equivalent to a Redis glob pattern."""
    out: list[bytes] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == 0x2A:  # '*' (runs of stars are one star)
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            out.append(b".*")
        elif ch == 0x3F:  # '?'
            out.append(b".")
        elif ch == 0x5B:  # '['
            i += 1
            negate = i < n and pattern[i] == 0x5E
            if negate:
                i += 1
            ranges: list[tuple[int, int]] = []
            while True:
                if i < n and pattern[i] == 0x5C and n - i >= 2:
                    i += 1
                    ranges.append((pattern[i], pattern[i]))
                elif i < n and pattern[i] == 0x5D:
                    break
                elif i >= n:
                    # Unterminated: stringmatchlen steps back onto the last byte it read.
                    break
                elif n - i >= 3 and pattern[i + 1] == 0x2D:
                    lo, hi = pattern[i], pattern[i + 2]
                    if lo > hi:
                        lo, hi = hi, lo
                    ranges.append((lo, hi))
                    i += 2
                else:
                    ranges.append((pattern[i], pattern[i]))
                i += 1
            out.append(_class_regex(ranges, negate))
        elif ch == 0x5C and n - i >= 2:  # backslash escapes the next byte
            i += 1
            out.append(re.escape(pattern[i : i + 1]))
        else:
            out.append(re.escape(pattern[i : i + 1]))
        i += 1
    return b"".join(out)


@lru_cache(maxsize=4096)
def compile_pattern(pattern: bytes, nocase: bool = False) -> Callable[[bytes], bool]:
    """A predicate ``subject -> bool`` for ``pattern``; cheap cases avoid the regex."""
    if not pattern:
        return lambda subject: not subject
    if pattern == b"*":
        return lambda subject: bool(subject)
    if not nocase and not _SPECIAL.intersection(pattern):
        return pattern.__eq__
    if (
        not nocase
        and pattern.endswith(b"*")
        and not _SPECIAL.intersection(pattern.rstrip(b"*"))
    ):
        prefix = pattern.rstrip(b"*")
        return lambda subject: subject.startswith(prefix) and bool(subject)
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    regex = re.compile(translate(pattern), flags)
    return lambda subject: bool(subject) and regex.fullmatch(subject) is not None


def match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    return compile_pattern(pattern, nocase)(subject)
