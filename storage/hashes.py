"""Hashes: field order and positions from IndexedKeys (O(1) random fields, sound HSCAN
cursors, listpack order while small), values in a dict by field."""

from __future__ import annotations

from typing import Iterable, Iterator

from respd.storage.db import register_type
from respd.storage.sets import IndexedKeys
from respd.storage.snapshot import batched, register_rewriter


class HashValue(IndexedKeys):
    __slots__ = ("values",)

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[bytes, bytes] = {}

    def get(self, field: bytes) -> bytes | None:
        return self.values.get(field)

    def put(self, field: bytes, value: bytes) -> bool:
        """Set field to value; True if the field is new."""
        new = field not in self.values
        if new:
            self._append(field)
        self.values[field] = value
        return new

    def remove(self, field: bytes) -> bool:
        if not self._discard(field):
            return False
        del self.values[field]
        return True

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        values = self.values
        return ((field, values[field]) for field in self.keys)

    def fit(self, max_entries: int, max_value: int, written: Iterable[bytes]) -> None:
        """hashTypeTryConversion + hashTypeSet's length check: a listpack that got too many
        fields, or was handed a field/value longer than hash-max-listpack-value, becomes
        a hash table for good."""
        if not self.compact:
            return
        if len(self.keys) > max_entries:
            self.compact = False
            return
        for item in written:  # a plain loop: any() over a generator costs 5x more here
            if len(item) > max_value:
                self.compact = False
                return


def _encoding(value: HashValue) -> bytes:
    return b"listpack" if value.compact else b"hashtable"


def _rewrite(key: bytes, value: HashValue) -> Iterable[list[bytes]]:
    return batched(b"HSET", key, (item for pair in value.items() for item in pair))


register_type(HashValue, b"hash", _encoding)
register_rewriter(HashValue, _rewrite)
