"""Bits of a string, in Redis's order: bit 0 is the most significant bit of byte 0.

Pure functions over ``bytes``/``bytearray``: counting and searching bit ranges (BITCOUNT,
BITPOS), bitwise operations (BITOP), and the integer fields of BITFIELD with Redis's
overflow rules.  Python integers do the word-at-a-time work Redis does with ``long``.
"""

from __future__ import annotations

U64 = (1 << 64) - 1

# Overflow behaviours of BITFIELD ... OVERFLOW.
WRAP, SAT, FAIL = 0, 1, 2


def bit_slice(data: bytes, first: int, last: int) -> int:
    """Bits first..last (inclusive, within data) as an integer, first bit most significant."""
    chunk = int.from_bytes(data[first >> 3:(last >> 3) + 1], "big")
    chunk >>= 7 - (last & 7)
    return chunk & ((1 << (last - first + 1)) - 1)


# Long ranges are read in pieces of this many bits: no integer of the whole string.
_CHUNK = 8 * 65536


def _pieces(first: int, last: int) -> range:
    return range(first, last + 1, _CHUNK)


def count_bits(data: bytes, first: int, last: int) -> int:
    """Set bits among bits first..last (inclusive); 0 for an empty range."""
    total = 0
    for start in _pieces(first, last):
        end = min(last, start + _CHUNK - 1)
        total += bit_slice(data, start, end).bit_count()
    return total


def find_bit(data: bytes, bit: int, first: int, last: int) -> int:
    """Position of the first bit equal to ``bit`` among bits first..last, or -1."""
    for start in _pieces(first, last):
        end = min(last, start + _CHUNK - 1)
        width = end - start + 1
        value = bit_slice(data, start, end)
        if not bit:
            value ^= (1 << width) - 1
        if value:
            return start + width - value.bit_length()
    return -1


def bitop(op: bytes, sources: list[bytes]) -> bytes:
    """AND/OR/XOR/NOT over sources, shorter ones padded with zero bytes."""
    size = max(len(s) for s in sources)
    if op == b"not":
        return sources[0].translate(_INVERT)
    values = [int.from_bytes(s.ljust(size, b"\0"), "big") for s in sources]
    result = values[0]
    for value in values[1:]:
        if op == b"and":
            result &= value
        elif op == b"or":
            result |= value
        else:
            result ^= value
    return result.to_bytes(size, "big")


_INVERT = bytes(255 - i for i in range(256))


# --- BITFIELD integers ----------------------------------------------------------------------


def get_field(data: bytes | bytearray, offset: int, bits: int, signed: bool) -> int:
    """The ``bits``-wide integer at bit ``offset``; bits past the end read as zero."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    chunk = bytes(data[first:last + 1]).ljust(last - first + 1, b"\0")
    value = int.from_bytes(chunk, "big") >> (7 - ((offset + bits - 1) & 7))
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def set_field(data: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low ``bits`` bits of value at bit ``offset`` (data is long enough)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    shift = 7 - ((offset + bits - 1) & 7)
    mask = ((1 << bits) - 1) << shift
    size = last - first + 1
    chunk = int.from_bytes(data[first:last + 1], "big")
    chunk = (chunk & ~mask) | ((value << shift) & mask)
    data[first:last + 1] = chunk.to_bytes(size, "big")


def _int64(value: int) -> int:
    """A 64-bit pattern read as C's int64_t."""
    value &= U64
    return value - (1 << 64) if value >> 63 else value


def add_field(value: int, incr: int, bits: int, signed: bool, overflow: int) -> int | None:
    """value + incr stored in the field's type (SET is value + 0): the result wrapped,
    saturated, or None when it overflows under FAIL.

    The overflow test is Redis's, including its 64-bit arithmetic: the room left above
    ``value`` is computed in wrapping integers, so for instance a signed SET far below the
    minimum saturates to the *maximum*, as Redis does."""
    if signed:
        top = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
        low = -top - 1
        room_up = _int64(top - value)
        room_down = _int64(low - value)
        up = value > top or (bits != 64 and incr > room_up) or (
            value >= 0 and incr > 0 and incr > room_up)
        down = not up and (value < low or (bits != 64 and incr < room_down) or (
            value < 0 and incr < 0 and incr < room_down))
    else:  # value is a uint64 here
        top, low = (1 << bits) - 1, 0
        up = value > top or (incr > 0 and incr > _int64(top - value))
        down = not up and incr < 0 and incr < _int64(-value)
    if not (up or down):
        return value + incr
    if overflow == FAIL:
        return None
    if overflow == SAT:
        return top if up else low
    wrapped = (value + incr) & ((1 << bits) - 1)
    if signed and wrapped >> (bits - 1):
        wrapped -= 1 << bits
    return wrapped
