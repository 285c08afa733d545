"""Hash slots: CRC16-XMODEM of the key (or of its first non-empty {hash tag}) mod 16384."""

from __future__ import annotations

N_SLOTS = 16384


def _table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


_CRC = _table()


def crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC[((crc >> 8) ^ byte) & 0xFF]
    return crc


def key_slot(key: bytes) -> int:
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:  # an empty tag "{}" hashes the whole key
            key = key[start + 1:end]
    return crc16(key) & (N_SLOTS - 1)
