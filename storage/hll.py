"""Redis's HyperLogLog, byte for byte: the string layout, hash, encodings and estimator of
Redis 7.0, so that an HLL moves between respd and Redis with GET/SET and counts the same.

Layout (a plain string value): a 16-byte header -- "HYLL", the encoding (0 dense,
1 sparse), three unused bytes, the cached cardinality as 8 little-endian bytes whose top
bit set means "stale" -- then the registers.  16384 registers of 6 bits:

- dense: 12288 bytes, register i in bits 6i..6i+5 counted from the least significant
  bit of each byte;
- sparse: run-length opcodes -- ZERO ``00llllll`` (1..64 zero registers), XZERO
  ``01llllll llllllll`` (1..16384), VAL ``1vvvvvll`` (1..4 registers of value 1..32).

An element is hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the
register, 1 + the number of trailing zeros of the rest is the value it proposes.  The
sparse opcodes are edited the way Redis edits them (split the run that covers the
register, then merge equal neighbouring VAL runs in a window of five opcodes), so the
bytes match Redis's even where they are not the shortest encoding; a sparse HLL becomes
dense when a value above 32 arrives or when it would grow past hll-sparse-max-bytes.
The count is Otmar Ertl's improved estimator over the register histogram.
"""

from __future__ import annotations

import math
import random
import re
import struct
from bisect import bisect_right
from itertools import accumulate
from typing import Callable

REGISTERS = 16384
HEADER = 16
DENSE_SIZE = HEADER + REGISTERS * 6 // 8
DENSE, SPARSE = 0, 1
_Q = 50  # hash bits left after the 14 index bits
_ALPHA_INF = 0.721347520444481703680  # 0.5 / ln 2

_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1
_SEED = 0xADC83B19

# Sparse opcode kinds.
_ZERO, _XZERO, _VAL = 0, 1, 2
_VAL_MAX_VALUE, _VAL_MAX_LEN, _ZERO_MAX_LEN = 32, 4, 64


def murmur64a(data: bytes, seed: int = _SEED) -> int:
    """MurmurHash64A as Redis computes it (little-endian 8-byte blocks)."""
    size = len(data)
    h = (seed ^ (size * _M)) & _MASK
    blocks = size >> 3
    for k in struct.unpack_from("<%dQ" % blocks, data):
        k = (k * _M) & _MASK
        k ^= k >> 47
        h ^= (k * _M) & _MASK
        h = (h * _M) & _MASK
    if size & 7:
        h ^= int.from_bytes(data[blocks << 3:], "little")
        h = (h * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    return h ^ (h >> 47)


def pattern(element: bytes) -> tuple[int, int]:
    """(register index, value) an element proposes: hllPatLen."""
    h = murmur64a(element)
    rest = (h >> 14) | (1 << _Q)
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


def new_sparse() -> bytes:
    """An empty HLL as PFADD/PFMERGE create it: sparse, one XZERO over every register."""
    return b"HYLL\x01" + bytes(11) + _xzero(REGISTERS)


def is_valid(value: bytes) -> bool:
    """isHLLObjectOrReply: the header and, for dense, the exact size."""
    return (len(value) >= HEADER and value[:4] == b"HYLL" and value[4] <= SPARSE
            and (value[4] == SPARSE or len(value) == DENSE_SIZE))


def cached_count(value: bytes) -> int | None:
    """The cached cardinality, or None when it is stale."""
    if value[15] & 0x80:
        return None
    return int.from_bytes(value[8:16], "little")


def with_cached_count(value: bytes, count: int) -> bytes:
    return value[:8] + count.to_bytes(8, "little") + value[16:]


# --- sparse opcodes ---------------------------------------------------------------------------


def _xzero(span: int) -> bytes:
    return bytes((((span - 1) >> 8) | 0x40, (span - 1) & 0xFF))


def _encode_op(kind: int, value: int, span: int) -> bytes:
    if kind == _VAL:
        return bytes((0x80 | (value - 1) << 2 | (span - 1),))
    if kind == _ZERO:
        return bytes((span - 1,))
    return _xzero(span)


# Every opcode's (kind, value, span), by its bytes; a lone XZERO byte (a truncated last
# opcode) reads its second byte as 0, as Redis reads the string's terminator.
OPCODES: dict[bytes, tuple[int, int, int]] = {}
for _b in range(256):
    if _b & 0x80:
        OPCODES[bytes((_b,))] = (_VAL, ((_b >> 2) & 0x1F) + 1, (_b & 3) + 1)
    elif _b & 0x40:
        OPCODES[bytes((_b,))] = (_XZERO, 0, ((_b & 0x3F) << 8) + 1)
    else:
        OPCODES[bytes((_b,))] = (_ZERO, 0, (_b & 0x3F) + 1)
for _span in range(1, REGISTERS + 1):
    OPCODES[_xzero(_span)] = (_XZERO, 0, _span)
_SPANS = {op: span for op, (_, _, span) in OPCODES.items()}
_OPCODE_RE = re.compile(rb"[\x40-\x7f][\x00-\xff]?|[\x00-\x3f\x80-\xff]", re.DOTALL)


def split_sparse(body: bytes) -> list[bytes]:
    """A sparse body cut into its opcodes (one or two bytes each)."""
    return _OPCODE_RE.findall(body)


def decode_sparse(body: bytes) -> list[tuple[int, int, int]]:
    """The opcodes of a sparse body as (kind, value, span)."""
    return [OPCODES[op] for op in split_sparse(body)]


def _zero_run(span: int) -> tuple[int, int, int]:
    return (_XZERO if span > _ZERO_MAX_LEN else _ZERO, 0, span)


# --- dense registers --------------------------------------------------------------------------


def _dense_get(regs: bytearray, index: int) -> int:
    pos = index * 6
    byte, shift = pos >> 3, pos & 7
    return ((regs[byte] >> shift) | (regs[byte + 1] << (8 - shift))) & 63


def _dense_set(regs: bytearray, index: int, value: int) -> None:
    pos = index * 6
    byte, shift = pos >> 3, pos & 7
    regs[byte] = (regs[byte] & ~(63 << shift) & 0xFF) | ((value << shift) & 0xFF)
    regs[byte + 1] = (regs[byte + 1] & ~(63 >> (8 - shift))) | (value >> (8 - shift))


def _or(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def _table(fn: Callable[[int], int]) -> bytes:
    return bytes(fn(i) & 0xFF for i in range(256))


# Unpacking 3 bytes into 4 registers with bytes.translate over strided slices.
_LOW6 = _table(lambda b: b & 63)
_TOP2 = _table(lambda b: b >> 6)
_LOW4_UP2 = _table(lambda b: (b & 15) << 2)
_TOP4 = _table(lambda b: b >> 4)
_LOW2_UP4 = _table(lambda b: (b & 3) << 4)
_TOP6 = _table(lambda b: b >> 2)
# ... and packing them back.
_REG_UP6 = _table(lambda r: (r & 3) << 6)
_REG_DOWN2 = _table(lambda r: (r >> 2) & 15)
_REG_UP4 = _table(lambda r: (r & 15) << 4)
_REG_DOWN4 = _table(lambda r: (r >> 4) & 3)
_REG_UP2 = _table(lambda r: (r & 63) << 2)


def unpack_dense(packed: bytes) -> bytes:
    """The 16384 registers of a dense body, one byte each."""
    b0, b1, b2 = packed[0::3], packed[1::3], packed[2::3]
    out = bytearray(REGISTERS)
    out[0::4] = b0.translate(_LOW6)
    out[1::4] = _or(b0.translate(_TOP2), b1.translate(_LOW4_UP2))
    out[2::4] = _or(b1.translate(_TOP4), b2.translate(_LOW2_UP4))
    out[3::4] = b2.translate(_TOP6)
    return bytes(out)


def pack_dense(registers: bytes) -> bytes:
    r0, r1, r2, r3 = (registers[k::4] for k in range(4))
    out = bytearray(DENSE_SIZE - HEADER)
    out[0::3] = _or(r0.translate(_LOW6), r1.translate(_REG_UP6))
    out[1::3] = _or(r1.translate(_REG_DOWN2), r2.translate(_REG_UP4))
    out[2::3] = _or(r2.translate(_REG_DOWN4), r3.translate(_REG_UP2))
    return bytes(out)


# --- counting ---------------------------------------------------------------------------------


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if previous == z:
            return z / 3


def estimate(histogram: list[int]) -> int:
    """Ertl's estimator from the count of registers holding each value 0..63."""
    m = float(REGISTERS)
    z = m * _tau((m - histogram[_Q + 1]) / m)
    for j in range(_Q, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    e = _ALPHA_INF * m * m / z
    whole = math.floor(e)
    return int(whole) + (1 if e - whole >= 0.5 else 0)  # llroundl: halves away from 0


_BYTE_VALUES = [bytes((v,)) for v in range(64)]


def histogram_of(registers: bytes) -> list[int]:
    """Register-value histogram of one-byte-per-register data (counting stops once every
    register is accounted for: values rarely go past 20)."""
    histogram = [0] * 64
    left = len(registers)
    for v in range(64):
        if not left:
            break
        found = registers.count(_BYTE_VALUES[v])
        histogram[v] = found
        left -= found
    return histogram


def count(value: bytes) -> int | None:
    """hllCount of a valid HLL string; None when a sparse body does not cover exactly
    16384 registers (corrupted)."""
    if value[4] == DENSE:
        return estimate(histogram_of(unpack_dense(value[HEADER:])))
    histogram = [0] * 64
    covered = 0
    for kind, val, span in decode_sparse(value[HEADER:]):
        histogram[val] += span
        covered += span
    if covered != REGISTERS:
        return None
    return estimate(histogram)


def merge_into(registers: bytearray, value: bytes) -> bool:
    """registers[i] = max(registers[i], this HLL's register i); False if corrupted."""
    if value[4] == DENSE:
        registers[:] = bytes(map(max, registers, unpack_dense(value[HEADER:])))
        return True
    i = 0
    for kind, val, span in decode_sparse(value[HEADER:]):
        if kind == _VAL:
            if i + span > REGISTERS:
                return False
            for j in range(i, i + span):
                if val > registers[j]:
                    registers[j] = val
        i += span
    return i == REGISTERS


# --- an HLL being changed ---------------------------------------------------------------------


class Corrupted(Exception):
    """A sparse body that does not describe 16384 registers."""


class Hll:
    """A working copy of an HLL string: sparse opcodes (their bytes, with the first
    register each covers) or dense registers, turned back into the string by
    ``to_bytes``."""

    __slots__ = ("header", "ops", "starts", "size", "dense", "max_sparse")

    def __init__(self, value: bytes, max_sparse: int) -> None:
        self.header = bytearray(value[:HEADER])
        self.max_sparse = max_sparse  # hll-sparse-max-bytes
        self.dense: bytearray | None = None
        self.ops: list[bytes] = []
        self.starts: list[int] = []
        self.size = len(value)
        if value[4] == DENSE:
            self.dense = bytearray(value[HEADER:]) + b"\0"  # the last register peeks one byte on
        else:
            self.ops = split_sparse(value[HEADER:])
            self.starts = [0, *accumulate(map(_SPANS.__getitem__, self.ops))][:-1]

    @property
    def encoding(self) -> int:
        return DENSE if self.dense is not None else SPARSE

    def invalidate(self) -> None:
        self.header[15] |= 0x80

    def to_bytes(self) -> bytes:
        if self.dense is not None:
            return bytes(self.header) + bytes(self.dense[:-1])
        return bytes(self.header) + b"".join(self.ops)

    def add(self, element: bytes) -> bool:
        """PFADD of one element: True when a register grew.  Raises Corrupted."""
        index, value = pattern(element)
        return self.set(index, value)

    def set(self, index: int, value: int) -> bool:
        """Raise register ``index`` to ``value`` if it is lower: True when it grew."""
        dense = self.dense
        if dense is not None:
            if value > _dense_get(dense, index):
                _dense_set(dense, index, value)
                return True
            return False
        return self._sparse_set(index, value)

    def to_dense(self) -> None:
        """hllSparseToDense: the header is kept (cached count included)."""
        if self.dense is not None:
            return
        regs = bytearray(DENSE_SIZE - HEADER + 1)
        i = 0
        for op in self.ops:
            kind, val, span = OPCODES[op]
            if kind == _VAL:
                if i + span > REGISTERS:
                    break
                for j in range(i, i + span):
                    _dense_set(regs, j, val)
            i += span
        if i != REGISTERS:
            raise Corrupted
        self.dense = regs
        self.header[4] = DENSE
        self.ops, self.starts = [], []

    def _sparse_set(self, index: int, value: int) -> bool:
        if value > _VAL_MAX_VALUE:
            return self._promote(index, value)
        ops, starts = self.ops, self.starts
        at = bisect_right(starts, index) - 1
        if at < 0:
            raise Corrupted  # no opcodes at all
        kind, current, span = OPCODES[ops[at]]
        if index >= starts[at] + span:
            raise Corrupted  # the opcodes end before the register
        if kind == _VAL and current >= value:
            return False
        if span == 1 and kind != _XZERO:  # a lone ZERO or VAL: rewrite it in place
            ops[at] = _encode_op(_VAL, value, 1)
        else:
            first = starts[at]
            last = first + span - 1
            seq = []
            if index != first:
                seq.append(_zero_run(index - first) if kind != _VAL
                           else (_VAL, current, index - first))
            seq.append((_VAL, value, 1))
            if index != last:
                seq.append(_zero_run(last - index) if kind != _VAL
                           else (_VAL, current, last - index))
            new_ops = [_encode_op(*op) for op in seq]
            grow = sum(map(len, new_ops)) - (2 if kind == _XZERO else 1)
            if grow > 0 and self.size + grow > self.max_sparse:
                return self._promote(index, value)
            if kind == _XZERO and len(ops[at]) == 1:
                # A truncated XZERO ending the string: Redis counts it as two bytes, so
                # the last byte of its replacement lands past the string's end.
                tail = split_sparse(b"".join(new_ops)[:-1])
                offsets = [0, *accumulate(map(_SPANS.__getitem__, tail))][:-1]
                ops[at:] = tail
                starts[at:] = [first + offset for offset in offsets]
            else:
                ops[at:at + 1] = new_ops
                seq_starts = []
                for _, _, run in seq:
                    seq_starts.append(first)
                    first += run
                starts[at:at + 1] = seq_starts
            self.size += grow
        self._merge_from(at - 1 if at > 0 else 0)
        self.invalidate()
        return True

    def _merge_from(self, at: int) -> None:
        """Merge equal adjacent VAL runs, looking at five opcodes from ``at`` (Redis's
        window: the representation need not end up minimal)."""
        ops, starts = self.ops, self.starts
        budget = 5
        while at < len(ops) and budget:
            budget -= 1
            kind, value, span = OPCODES[ops[at]]
            if kind != _VAL:
                at += 1
                continue
            if at + 1 < len(ops):
                nkind, nvalue, nspan = OPCODES[ops[at + 1]]
                if nkind == _VAL and nvalue == value and span + nspan <= _VAL_MAX_LEN:
                    ops[at] = _encode_op(_VAL, value, span + nspan)
                    del ops[at + 1]
                    del starts[at + 1]
                    self.size -= 1
                    continue
            at += 1

    def _promote(self, index: int, value: int) -> bool:
        self.to_dense()
        assert self.dense is not None
        _dense_set(self.dense, index, value)
        return True


# --- PFSELFTEST ---------------------------------------------------------------------------------


def selftest(rng: random.Random, max_sparse: int, cycles: int = 3,
             elements: int = 10000) -> str | None:
    """PFSELFTEST's two checks, scaled to Python: dense registers keep exactly what was
    stored, and sparse and dense HLLs fed the same elements agree, staying sparse while
    small and within six standard errors at 1, 10, 100, ... elements.  None when all
    pass, else what failed."""
    for _ in range(cycles):
        regs = bytearray(DENSE_SIZE - HEADER + 1)
        wanted = bytes(rng.randrange(64) for _ in range(REGISTERS))
        for i, value in enumerate(wanted):
            _dense_set(regs, i, value)
        for i, value in enumerate(wanted):
            if _dense_get(regs, i) != value:
                return "Register %d should be %d but is %d" % (i, value, _dense_get(regs, i))
    dense = Hll(b"HYLL\x00" + bytes(DENSE_SIZE - 5), max_sparse)
    sparse = Hll(new_sparse(), max_sparse)
    relerr = 1.04 / math.sqrt(REGISTERS)
    seed = rng.getrandbits(64)
    checkpoint = 1
    for j in range(1, elements + 1):
        element = struct.pack("<Q", j ^ seed)
        dense.add(element)
        sparse.add(element)
        if j != checkpoint:
            continue
        if j < max_sparse // 2 and sparse.encoding != SPARSE:
            return "sparse encoding not used"
        card = count(dense.to_bytes())
        if card != count(sparse.to_bytes()):
            return "dense/sparse disagree"
        assert card is not None
        maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
        if abs(checkpoint - card) > maxerr:
            return "Too big error. card:%d abserr:%d" % (checkpoint, abs(checkpoint - card))
        checkpoint *= 10
    return None


# --- parsed sparse HLLs kept between commands -----------------------------------------------


class WorkingCopies:
    """Sparse HLLs recently written, kept parsed so that the next PFADD on the same string
    skips re-reading its opcodes.  Entries are keyed by the identity of the stored string
    and hold it, so an identity cannot be reused while its entry lives; taking an entry
    removes it (the caller changes the copy), keeping puts it back under the new string."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: dict[int, tuple[bytes, Hll]] = {}

    def take(self, value: bytes, max_sparse: int) -> Hll:
        entry = self.entries.pop(id(value), None)
        if entry is None:
            return Hll(value, max_sparse)
        work = entry[1]
        work.max_sparse = max_sparse  # the setting may have changed since
        return work

    def keep(self, value: bytes, work: Hll) -> None:
        if work.dense is not None:  # a dense copy is one cheap bytearray copy away
            return
        if len(self.entries) >= self.size:
            del self.entries[next(iter(self.entries))]
        self.entries[id(value)] = (value, work)

    def replaced(self, old: bytes, new: bytes) -> None:
        """``new`` is ``old`` with another header (the cached count): move the entry."""
        entry = self.entries.pop(id(old), None)
        if entry is not None:
            work = entry[1]
            work.header[:] = new[:HEADER]
            self.keep(new, work)
