"""CRC-64 Jones (Redis's crc64) over long runs, eight bytes per step: the same value as
the byte-at-a-time definition for every length and alignment, and Redis's check value."""

from __future__ import annotations

import random

from respd.storage import rdb


def _bytewise(crc: int, data: bytes) -> int:
    for byte in data:
        crc = rdb._CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def test_check_value() -> None:
    # Redis's crc64.c test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
    assert rdb.crc64(0, b"123456789") == 0xE9C6D914C4B8D9CA
    assert rdb.crc64(0, b"123456789" * 20) == _bytewise(0, b"123456789" * 20)


def test_every_length_and_running_value() -> None:
    rng = random.Random(7)
    for n in [*range(0, 130), 1000, 4097, 65539]:
        data = rng.randbytes(n)
        start = rng.getrandbits(64)
        assert rdb.crc64(start, data) == _bytewise(start, data), n
        assert rdb.crc64(start, bytearray(data)) == _bytewise(start, data), n
    # Split anywhere, the running CRC continues.
    data = rng.randbytes(1000)
    assert rdb.crc64(rdb.crc64(0, data[:333]), data[333:]) == _bytewise(0, data)
