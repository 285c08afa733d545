"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

A bitmap is a string (``bytes`` in the keyspace): SET and SETBIT work on the same value.
Bit 0 is the most significant bit of the first byte.  Writes grow the string with zero
bytes as far as the highest bit addressed and keep its TTL, as Redis changes the string in
place."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command
from respd.commands.keyspace import delete_key, mark_raw
from respd.commands.strings import _store
from respd.numbers import INT64_MAX, parse_int, int64
from respd.storage.bitfield import (
    FAIL, SAT, U64, WRAP, add_field, bitop as bitop_values, count_bits, find_bit, get_field,
    set_field,
)

GROUP = "bitmap"
_ACL = "bitmap"


def _word(raw: bytes) -> bytes:
    """An option as strcasecmp sees it: lower-cased, ended by a NUL byte."""
    return raw.split(b"\0", 1)[0].lower()


def _wrap64(value: int) -> int:
    """C's signed 64-bit wrap-around (a '#' offset times the width may overflow)."""
    value &= U64
    return value - (1 << 64) if value > INT64_MAX else value


def _bit_offset(client: Client, raw: bytes, bits: int = 0) -> int:
    """getBitOffsetFromArgument: non-negative, inside proto-max-bulk-len bytes; with
    ``bits`` > 0 the '#n' form means n fields of that width."""
    by_field = bits > 0 and raw[:1] == b"#"
    value = parse_int(raw[1:] if by_field else raw)
    if value is None:
        raise errors.BIT_OFFSET
    if by_field:
        value = _wrap64(value * bits)
    # the AOF loader replays what was once accepted
    if value < 0 or (not client.loading and value >> 3 >= client.server.config.proto_max_bulk_len):
        raise errors.BIT_OFFSET
    return value


def _bit_range(value: bytes, start: int, end: int, in_bits: bool) -> tuple[int, int]:
    """Redis's start/end conversion (negative from the end, clamped): the inclusive range
    of bit positions, empty when first > last."""
    total = len(value) * 8 if in_bits else len(value)
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = min(max(end, 0), total - 1)
    if in_bits:
        return start, end
    return start * 8, end * 8 + 7 if start <= end else -1


def _unit(raw: bytes) -> bool:
    """BIT or BYTE (the 7.0 index mode): True for bits."""
    word = _word(raw)
    if word == b"bit":
        return True
    if word == b"byte":
        return False
    raise errors.SYNTAX


@command("SETBIT", arity=4, flags="write denyoom", keys=(1, 1, 1), group=GROUP, since="2.2.0",
         acl=_ACL, summary="Sets or clears the bit at offset in the string value stored at key",
         syntax="key offset:integer value:integer")
def setbit(client: Client, argv: list[bytes]) -> Any:
    offset = _bit_offset(client, argv[2])
    on = int64(argv[3], errors.BIT_VALUE)
    if on & ~1:
        raise errors.BIT_VALUE
    key = argv[1]
    value = client.db.lookup_typed(key, bytes)
    byte, shift = offset >> 3, 7 - (offset & 7)
    if value is None or len(value) <= byte:  # grown with zeros: the old bit was 0
        base = value or b""
        grown = b"".join((base, bytes(byte - len(base)), bytes((on << shift,))))
        _store(client, key, grown, b"setbit", keep_ttl=True)
        mark_raw(client.db, key)
        return 0
    current = value[byte]
    old = (current >> shift) & 1
    if old != on:
        current ^= 1 << shift
        _store(client, key, b"".join((value[:byte], bytes((current,)), value[byte + 1:])),
               b"setbit", keep_ttl=True)
    mark_raw(client.db, key)  # Redis unshares the string even when the bit is unchanged
    return old


@command("GETBIT", arity=3, flags="readonly fast", keys=(1, 1, 1), group=GROUP, since="2.2.0",
         acl=_ACL, summary="Returns the bit value at offset in the string value stored at key",
         syntax="key offset:integer")
def getbit(client: Client, argv: list[bytes]) -> Any:
    offset = _bit_offset(client, argv[2])
    value = client.db.read_typed(argv[1], bytes)
    byte = offset >> 3
    if value is None or byte >= len(value):
        return 0
    return (value[byte] >> (7 - (offset & 7))) & 1


@command("BITCOUNT", arity=-2, flags="readonly", keys=(1, 1, 1), group=GROUP, since="2.6.0",
         acl=_ACL, summary="Count set bits in a string", complexity="O(N)",
         syntax="key [start:integer end:integer [BYTE | BIT]]",
         history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitcount(client: Client, argv: list[bytes]) -> Any:
    value = client.db.read_typed(argv[1], bytes)
    if value is None:
        return 0
    argc = len(argv)
    if argc == 2:
        return count_bits(value, 0, len(value) * 8 - 1)
    if argc not in (4, 5):
        raise errors.SYNTAX
    start, end = int64(argv[2]), int64(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    in_bits = argc == 5 and _unit(argv[4])
    return count_bits(value, *_bit_range(value, start, end, in_bits))


@command("BITPOS", arity=-3, flags="readonly", keys=(1, 1, 1), group=GROUP, since="2.8.7",
         acl=_ACL, summary="Find first bit set or clear in a string", complexity="O(N)",
         syntax="key bit:integer [start:integer [end:integer [BYTE | BIT]]]",
         history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitpos(client: Client, argv: list[bytes]) -> Any:
    bit = int64(argv[2])
    if bit not in (0, 1):
        raise errors.BIT_ARGUMENT
    value = client.db.read_typed(argv[1], bytes)
    if value is None:  # an endless run of zero bits
        return -1 if bit else 0
    argc = len(argv)
    end_given = argc >= 5
    if argc == 3:
        first, last = 0, len(value) * 8 - 1
    elif argc <= 6:
        start = int64(argv[3])
        in_bits = argc == 6 and _unit(argv[5])
        if end_given:
            end = int64(argv[4])
        else:
            end = len(value) * 8 + 7 if in_bits else len(value) - 1
        first, last = _bit_range(value, start, end, in_bits)
    else:
        raise errors.SYNTAX
    if first > last:
        return -1
    found = find_bit(value, bit, first, last)
    if found < 0 and not bit and not end_given:
        # without an explicit end the string counts as padded with zeros on the right
        return ((last >> 3) + 1) * 8
    return found


_BITOPS = (b"and", b"or", b"xor", b"not")


@command("BITOP", arity=-4, flags="write denyoom", keys=(2, -1, 1), group=GROUP, since="2.6.0",
         acl=_ACL, summary="Perform bitwise operations between strings", complexity="O(N)",
         syntax="operation destkey:key key:key [key:key ...]")
def bitop(client: Client, argv: list[bytes]) -> Any:
    op = _word(argv[1])
    if op not in _BITOPS:
        raise errors.SYNTAX
    if op == b"not" and len(argv) != 4:
        raise errors.BITOP_NOT_ONE_KEY
    lookup = client.db.read_typed  # the sources are counted reads
    sources = [lookup(key, bytes) or b"" for key in argv[3:]]
    size = max(len(s) for s in sources)
    dest = argv[2]
    if size:
        _store(client, dest, bitop_values(op, sources), b"set")
        mark_raw(client.db, dest)  # a result built in a buffer: raw whatever its length
    else:
        delete_key(client, dest)
    return size


# --- BITFIELD ----------------------------------------------------------------------------------

_GET, _SET, _INCRBY = 0, 1, 2
_OPS = {b"get": (_GET, 2), b"set": (_SET, 3), b"incrby": (_INCRBY, 3)}
_OVERFLOWS = {b"wrap": WRAP, b"sat": SAT, b"fail": FAIL}


def _field_type(raw: bytes) -> tuple[bool, int]:
    """getBitfieldTypeFromArgument: (signed, bits) from i1..i64 or u1..u63."""
    kind = raw[:1]
    if kind not in (b"i", b"u"):
        raise errors.BITFIELD_TYPE
    bits = parse_int(raw[1:].split(b"\0", 1)[0])
    signed = kind == b"i"
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise errors.BITFIELD_TYPE
    return signed, bits


def _bitfield(client: Client, argv: list[bytes], read_only_command: bool) -> Any:
    ops: list[tuple[int, int, bool, int, int, int]] = []
    overflow = WRAP
    highest = -1  # the last bit a SET/INCRBY touches
    argc = len(argv)
    j = 2
    while j < argc:
        word = _word(argv[j])
        spec = _OPS.get(word)
        if spec is not None and argc - j - 1 >= spec[1]:
            opcode = spec[0]
        elif word == b"overflow" and argc - j - 1 >= 1:
            mode = _OVERFLOWS.get(_word(argv[j + 1]))
            if mode is None:
                raise errors.BITFIELD_OVERFLOW
            overflow = mode
            j += 2
            continue
        else:
            raise errors.SYNTAX
        signed, bits = _field_type(argv[j + 1])
        offset = _bit_offset(client, argv[j + 2], bits)
        operand = 0
        if opcode != _GET:
            highest = max(highest, offset + bits - 1)
            operand = int64(argv[j + 3])
        ops.append((opcode, offset, signed, bits, operand, overflow))
        j += 3 if opcode == _GET else 4

    key = argv[1]
    db = client.db
    grown = False
    if highest < 0:  # only GETs: a missing key reads as zeros
        data: bytes | bytearray = db.read_typed(key, bytes) or b""
    else:
        if read_only_command:
            raise errors.BITFIELD_RO_GET_ONLY
        data = bytearray(db.lookup_typed(key, bytes) or b"")
        need = (highest >> 3) + 1
        grown = len(data) < need
        if grown:
            data.extend(bytes(need - len(data)))

    replies: list[Any] = []
    changes = 0
    for opcode, offset, signed, bits, operand, mode in ops:
        old = get_field(data, offset, bits, signed)
        if opcode == _GET:
            replies.append(old)
            continue
        if opcode == _INCRBY:
            new = add_field(old, operand, bits, signed, mode)
        else:  # an unsigned field reads the SET value as a uint64, as Redis casts it
            new = add_field(operand if signed else operand & U64, 0, bits, signed, mode)
        if new is None:
            replies.append(None)  # OVERFLOW FAIL: nothing written
            continue
        replies.append(new if opcode == _INCRBY else old)
        assert isinstance(data, bytearray)
        set_field(data, offset, bits, new)
        if grown or new != old:
            changes += 1

    if highest >= 0:
        if changes:
            _store(client, key, bytes(data), b"setbit", keep_ttl=True)
            client.server.dirty += changes - 1  # one per changing operation
        elif grown:  # Redis grew the string in place, without an event or a dirty count
            db.set(key, bytes(data), keep_ttl=True)
        mark_raw(db, key)  # a writing BITFIELD unshares the string even if nothing changed
    return replies


@command("BITFIELD", arity=-2, flags="write denyoom", keys=(1, 1, 1), group=GROUP,
         since="3.2.0", acl=_ACL,
         summary="Perform arbitrary bitfield integer operations on strings",
         complexity="O(1) for each subcommand specified",
         syntax="key [GET encoding offset:integer | [OVERFLOW WRAP | SAT | FAIL] "
                "(SET encoding offset:integer value:integer | "
                "INCRBY encoding offset:integer increment:integer) ...]")
def bitfield(client: Client, argv: list[bytes]) -> Any:
    return _bitfield(client, argv, False)


@command("BITFIELD_RO", arity=-2, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="6.0.0", acl=_ACL,
         summary="Perform arbitrary bitfield integer operations on strings. Read-only variant "
                 "of BITFIELD",
         complexity="O(1) for each subcommand specified",
         syntax="key [GET encoding offset:integer [GET encoding offset:integer ...]]")
def bitfield_ro(client: Client, argv: list[bytes]) -> Any:
    return _bitfield(client, argv, True)
