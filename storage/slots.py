"""Hash slots: CRC16-XMODEM of the key (or of its first non-empty {hash tag}) mod 16384,
and the per-slot key index cluster mode keeps (COUNTKEYSINSLOT, GETKEYSINSLOT)."""

from __future__ import annotations

from binascii import crc_hqx
from itertools import islice
from typing import Iterable

N_SLOTS = 16384


def crc16(data: bytes) -> int:
    """CRC16-XMODEM, Redis's key hash: binascii's CRC-CCITT with a zero seed (in C)."""
    return crc_hqx(data, 0)


def key_slot(key: bytes) -> int:
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:  # an empty tag "{}" hashes the whole key
            key = key[start + 1:end]
    return crc16(key) & (N_SLOTS - 1)


class SlotIndex:
    """slot -> its keys (dicts as ordered sets), built from a database's keys on first use
    in cluster mode and then kept current by Database's key creation and deletion."""

    __slots__ = ("by_slot",)

    def __init__(self, keys: Iterable[bytes] = ()) -> None:
        self.by_slot: dict[int, dict[bytes, None]] = {}
        for key in keys:
            self.add(key)

    def add(self, key: bytes) -> None:
        slot = key_slot(key)
        keys = self.by_slot.get(slot)
        if keys is None:
            self.by_slot[slot] = {key: None}
        else:
            keys[key] = None

    def discard(self, key: bytes) -> None:
        slot = key_slot(key)
        keys = self.by_slot.get(slot)
        if keys is not None:
            keys.pop(key, None)
            if not keys:
                del self.by_slot[slot]

    def count(self, slot: int) -> int:
        return len(self.by_slot.get(slot, ()))

    def keys(self, slot: int, limit: int) -> list[bytes]:
        return list(islice(self.by_slot.get(slot, ()), limit))
