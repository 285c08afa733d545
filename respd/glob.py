"""Redis's glob matching (util.c ``stringmatchlen``), shared by KEYS, SCAN MATCH,
PSUBSCRIBE, PUBSUB CHANNELS, CONFIG GET and ACL patterns.

Python's ``fnmatch`` differs on purpose-critical points: Redis negates a class only with
``^`` (``[!a]`` is a class holding '!' and 'a'), a backslash escapes the next byte
inside and outside classes, an unterminated class runs to the end of the pattern, and an
empty subject never matches anything but the empty pattern.

A pattern is scanned once (as ``stringmatchlen`` walks it) into single-byte tokens and
stars.  The stars cut it into segments of fixed length, each compiled to a regular
expression without repetition; the subject matches when the first segment matches at
the start, the last at the end, and each one between at its leftmost place after the
previous one.  Leftmost placement is optimal for fixed-length segments, so no
backtracking across stars is needed: time is at most subject length times pattern length,
where a backtracking matcher is exponential in the stars ("a*a*a*...b").  Like Redis
7.0, a pattern whose match needs more than 1000 nested stars matches nothing.
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


# A match recursing through more stars than this fails in Redis 7.0 (its ``nesting``
# guard against abusive patterns).
MAX_NESTING = 1000

_STAR = b""  # the star token (every other token is a one-byte expression)


def _tokens(pattern: bytes) -> list[bytes]:
    """The pattern as regular expressions of one byte each, and _STAR for each run of
    stars, scanned as stringmatchlen walks it."""
    out: list[bytes] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == 0x2A:  # '*' (runs of stars are one star)
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            out.append(_STAR)
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
    return out


def translate(pattern: bytes) -> bytes:
    """The regular expression (for ``fullmatch``) equivalent to a Redis glob pattern
    (apart from the nesting limit); documentation and tests, not used for matching."""
    return b"".join(b".*" if t == _STAR else t for t in _tokens(pattern))


def _segments(tokens: list[bytes]) -> list[list[bytes]]:
    """The tokens between stars: n stars give n + 1 segments (possibly empty)."""
    segments: list[list[bytes]] = [[]]
    for token in tokens:
        if token == _STAR:
            segments.append([])
        else:
            segments[-1].append(token)
    return segments


def _star_matcher(segments: list[list[bytes]], flags: int) -> Callable[[bytes], bool]:
    first, *middle, last = [(re.compile(b"".join(seg), flags), len(seg)) for seg in segments]
    head, head_len = first
    tail, tail_len = last
    middle_searches = [regex.search for regex, _ in middle]

    def matches(subject: bytes) -> bool:
        end = len(subject) - tail_len  # where the last segment must start
        if not subject or end < head_len or (head_len and not head.match(subject, 0, head_len)):
            return False
        pos = head_len
        for search in middle_searches:
            found = search(subject, pos, end)
            if found is None:
                return False
            pos = found.end()
        return not tail_len or tail.match(subject, end) is not None

    return matches


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
    segments = _segments(_tokens(pattern))
    stars = len(segments) - 1
    if stars - (not segments[-1]) > MAX_NESTING:  # stars followed by something
        return lambda subject: False
    if not stars:
        regex = re.compile(b"".join(segments[0]), flags)
        return lambda subject: bool(subject) and regex.fullmatch(subject) is not None
    return _star_matcher(segments, flags)


def match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    return compile_pattern(pattern, nocase)(subject)
