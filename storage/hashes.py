"""Hashes.  While small (Redis's listpack) a hash is its ``values`` dict alone: a dict
keeps insertion order and deleting keeps the others' order, as a listpack does, so the
field order, HSCAN's whole-hash reply and random fields (O(n) over at most
hash-max-listpack-entries, as in a listpack) come from it.  Once it outgrows the limits
it converts for good and adds an IndexedKeys array beside the dict (O(1) random fields,
sound HSCAN cursors).  Small hashes are the common ones: the array and its position map
would triple their size."""

from __future__ import annotations

import random
from typing import Iterable, Iterator

from respd.storage.db import register_type
from respd.storage.sets import IndexedKeys, pick
from respd.storage.snapshot import batched, register_rewriter


class HashValue:
    __slots__ = ("values", "index", "compact")

    def __init__(self) -> None:
        self.values: dict[bytes, bytes] = {}
        self.index: IndexedKeys | None = None  # the array, once converted
        self.compact = True

    def __len__(self) -> int:
        return len(self.values)

    def __contains__(self, field: object) -> bool:
        return field in self.values

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.fields())

    def fields(self) -> list[bytes]:
        """The fields in order (the array itself once converted: HSCAN walks it)."""
        return list(self.values) if self.index is None else self.index.keys

    def get(self, field: bytes) -> bytes | None:
        return self.values.get(field)

    def put(self, field: bytes, value: bytes) -> bool:
        """Set field to value; True if the field is new."""
        values = self.values
        new = field not in values
        if new and self.index is not None:
            self.index._append(field)
        values[field] = value
        return new

    def remove(self, field: bytes) -> bool:
        values = self.values
        if field not in values:
            return False
        del values[field]
        if self.index is not None:
            self.index._discard(field)
        return True

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        values = self.values
        if self.index is None:
            return iter(values.items())
        return ((field, values[field]) for field in self.index.keys)

    def random_key(self) -> bytes:
        if self.index is None:
            return random.choice(list(self.values))
        return self.index.random_key()

    def random_pick(self, count: int) -> list[bytes]:
        """HRANDFIELD with a count (see storage.sets.pick)."""
        return pick(self.fields(), count)

    def fit(self, max_entries: int, max_value: int, written: Iterable[bytes]) -> None:
        """hashTypeTryConversion + hashTypeSet's length check: a listpack that got too many
        fields, or was handed a field/value longer than hash-max-listpack-value, becomes
        a hash table for good."""
        if not self.compact:
            return
        if len(self.values) > max_entries:
            self._convert()
            return
        for item in written:  # a plain loop: any() over a generator costs 5x more here
            if len(item) > max_value:
                self._convert()
                return

    def _convert(self) -> None:
        index = IndexedKeys()
        index.compact = False  # removals move the last field into the hole from now on
        for field in self.values:
            index._append(field)
        self.index = index
        self.compact = False


def _encoding(value: HashValue) -> bytes:
    return b"listpack" if value.compact else b"hashtable"


def _rewrite(key: bytes, value: HashValue) -> Iterable[list[bytes]]:
    return batched(b"HSET", key, (item for pair in value.items() for item in pair))


register_type(HashValue, b"hash", _encoding)
register_rewriter(HashValue, _rewrite)
