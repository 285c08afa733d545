"""Redis glob semantics (util.c stringmatchlen), which differ from fnmatch."""

from __future__ import annotations

import pytest

from respd.glob import match

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
