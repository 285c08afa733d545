"""Sets, and the keyed array hashes share with them.

``IndexedKeys`` keeps its keys in a list plus a key → position map, so membership, add,
remove and picking a random key are all O(1) (SRANDMEMBER, SPOP and HRANDFIELD must not
cost O(n) per call).  Removal moves the last key into the hole, which is also what keeps
SSCAN/HSCAN's cursor sound (see respd.scan).

``compact`` mirrors Redis 7.0's small encodings (intset for sets, listpack for hashes):
while it holds, removal keeps the order (as deleting from a listpack does) and an intset
keeps its members sorted by value, so small replies come out in Redis's order.  The
structures are small then (at most set-max-intset-entries / hash-max-listpack-entries),
so the O(n) shifting stays cheap; once a value outgrows the limits it converts for good,
as in Redis.
"""

from __future__ import annotations

import bisect
import random
from itertools import count
from typing import Iterable, Iterator

from respd.numbers import parse_int
from respd.storage.db import register_type
from respd.storage.snapshot import batched, register_rewriter


class IndexedKeys:
    __slots__ = ("keys", "pos", "compact")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.pos: dict[bytes, int] = {}
        self.compact = True

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: object) -> bool:
        return key in self.pos

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.keys)

    def _append(self, key: bytes) -> None:
        self.pos[key] = len(self.keys)
        self.keys.append(key)

    def _reindex(self, start: int) -> None:
        pos, keys = self.pos, self.keys
        for i in range(start, len(keys)):
            pos[keys[i]] = i

    def _discard(self, key: bytes) -> bool:
        i = self.pos.pop(key, None)
        if i is None:
            return False
        keys = self.keys
        if self.compact:
            del keys[i]
            self._reindex(i)
        else:
            last = keys.pop()
            if i < len(keys):
                keys[i] = last
                self.pos[last] = i
        return True

    def random_key(self) -> bytes:
        return random.choice(self.keys)  # keys[randrange(len(keys))], with less checking

    def random_pick(self, count: int) -> list[bytes]:
        """SRANDMEMBER/HRANDFIELD with a count: a positive count gives distinct keys (all
        of them, in order, when it covers the whole collection), a negative one picks
        |count| times with repetition."""
        if count < 0:
            return random.choices(self.keys, k=-count)
        if count >= len(self.keys):
            return list(self.keys)
        return random.sample(self.keys, count)


class SetValue(IndexedKeys):
    __slots__ = ()

    def __init__(self, members: Iterable[bytes] = (), max_intset: int = 512) -> None:
        super().__init__()
        for member in members:
            self.add(member, max_intset)

    def add(self, member: bytes, max_intset: int) -> bool:
        """setTypeAdd: True if member was new; converts an intset that stops fitting."""
        if member in self.pos:
            return False
        if self.compact:
            value = parse_int(member)
            if value is None or len(self.keys) >= max_intset:
                self.compact = False
            else:
                i = bisect.bisect(self.keys, value, key=int)
                self.keys.insert(i, member)
                self._reindex(i)
                return True
        self._append(member)
        return True

    def remove(self, member: bytes) -> bool:
        return self._discard(member)

    def pop_random(self) -> bytes:
        member = random.choice(self.keys)
        self._discard(member)
        return member


def _encoding(value: SetValue) -> bytes:
    return b"intset" if value.compact else b"hashtable"


def _rewrite(key: bytes, value: SetValue) -> Iterable[list[bytes]]:
    return batched(b"SADD", key, value.keys)


register_type(SetValue, b"set", _encoding)
register_rewriter(SetValue, _rewrite)


class KeyOrder(IndexedKeys):
    """A database's keys as an array SCAN can walk and RANDOMKEY can pick from in O(1):
    adds append, removals move the last key into the hole (never the compact form)."""

    __slots__ = ()

    def __init__(self, keys: Iterable[bytes] = ()) -> None:
        super().__init__()
        self.compact = False
        self.keys = list(keys)
        self.pos = dict(zip(self.keys, count()))  # builtins only: fast for millions

    def add(self, key: bytes) -> None:
        if key not in self.pos:
            self._append(key)

    discard = IndexedKeys._discard
