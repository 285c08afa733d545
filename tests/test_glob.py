"""Redis glob semantics (util.c stringmatchlen), which differ from fnmatch."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respd.glob import match, translate

CASES = [
    (b"*", b"anything", True),
    (b"*", b"", False),  # an empty subject matches only the empty pattern
    (b"", b"", True),
    (b"h?llo", b"hello", True),
    (b"h?llo", b"hllo", False),
    (b"h*llo", b"heeeello", True),
    (b"h[ae]llo", b"hallo", True),
    (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"[!b]", b"!", True),  # '!' is not a negation in Redis
    (b"[!b]", b"b", True),
    (b"[!b]", b"a", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hallo", True),  # reversed ranges are swapped
    (b"h\\*llo", b"h*llo", True),
    (b"h\\*llo", b"hello", False),
    (b"[\\]]", b"]", True),
    (b"[abc", b"b", True),  # an unterminated class runs to the end
    (b"[abc", b"d", False),
    (b"[]", b"a", False),
    (b"[^]", b"a", True),
    (b"a*", b"a", True),
    (b"a**b", b"ab", True),
    (b"*a", b"ba", True),
    (b"foo\\", b"foo\\", True),
    (b"user:*:name", b"user:1:name", True),
    (b"user:*:name", b"user:1:nam", False),
    (b"*\n*", b"a\nb", True),
]


@pytest.mark.parametrize("pattern, subject, expected", CASES)
def test_match(pattern: bytes, subject: bytes, expected: bool) -> None:
    assert match(pattern, subject) is expected


def test_nocase() -> None:
    assert match(b"MAXMEMORY*", b"maxmemory-policy", nocase=True)
    assert not match(b"MAXMEMORY*", b"maxmemory-policy")


def test_keys_agrees_with_reference(redis_ref, respd) -> None:
    """The same patterns through KEYS on both servers."""
    keys = [b"a", b"!", b"b", b"*", b"hello", b"hallo", b"h]llo", b"h[llo", b"x\\y", b""]
    patterns = [b"[!b]", b"h[^e]llo", b"h[a-z]llo", b"*", b"h\\[llo", b"[", b"x\\\\y",
                b"?", b"[]]", b"h[]llo", b"*l*"]
    results = []
    for server in (redis_ref, respd):
        client = server.client()
        client.flushall()
        client.mset({k: b"1" for k in keys})
        results.append([sorted(client.keys(p)) for p in patterns])
        client.flushall()
        client.close()
    assert results[0] == results[1]


# --- the matcher without backtracking agrees with the backtracking one --------------------

_ALPHABET = [b"a", b"b", b"*", b"?", b"[", b"]", b"^", b"-", b"\\", b"A"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=12).map(b"".join),
       st.lists(st.sampled_from([b"a", b"b", b"A", b"*", b"-", b"]"]), max_size=10).map(b"".join),
       st.booleans())
def test_segment_matcher_agrees_with_a_backtracking_regex(pattern: bytes, subject: bytes,
                                                          nocase: bool) -> None:
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    expected = bool(subject) and re.fullmatch(translate(pattern), subject, flags) is not None
    if pattern == b"":
        expected = subject == b""
    assert match(pattern, subject, nocase) is expected


# --- abusive patterns: bounded time, Redis's answers ------------------------------------------

WORST_CASES = [
    (b"a*" * 18 + b"b", b"a" * 120),
    (b"*a" * 30 + b"*b", b"a" * 5000),
    (b"*?" * 40 + b"x", b"y" * 5000),
    (b"*[a-z]" * 40 + b"*!", b"q" * 5000),
    (b"*" + b"a*" * 500 + b"b", b"a" * 5000),
]


@pytest.mark.parametrize("pattern, subject", WORST_CASES)
def test_abusive_patterns_answer_at_once(pattern: bytes, subject: bytes) -> None:
    started = time.monotonic()
    assert not match(pattern, subject)
    assert time.monotonic() - started < 2.0  # a generous bound: backtracking takes hours


def test_more_than_1000_nested_stars_match_nothing() -> None:
    subject = b"a" * 1001
    assert match(b"*a" * 1000, subject)
    assert not match(b"*a" * 1001, subject)
    assert match(b"a*" * 1001, subject)  # the last star is not nested: it ends the match


def test_abusive_keys_agree_with_reference(redis_ref, respd) -> None:
    patterns = [b"a*" * 18 + b"b", b"*a" * 999, b"*a" * 1001, b"a*" * 1001, b"*a*a*a*",
                b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"]
    results = []
    for server in (redis_ref, respd):
        client = server.client(socket_timeout=10)
        client.flushall()
        client.set(b"a" * 120, b"1")
        client.set(b"a" * 1001, b"1")
        results.append([sorted(client.keys(p)) for p in patterns])
        client.flushall()
        client.close()
    assert results[0] == results[1]
