"""The Lua libraries Redis bundles and lupa does not: cjson, cmsgpack, struct and bit
(LuaBitOp), written in Python with the C versions' rules and messages, plus a RESP
reply parser for replies handed to scripts as already-encoded bytes.

Every library function answers ``(True, value, ...)`` or ``(False, message)``;
respd.scripting raises the message from the calling script's line, as the C functions'
``luaL_error`` does.
"""

from __future__ import annotations

import math
import struct as pystruct
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable

import lupa.lua51 as lupa

from respd import cjson_decode
from respd.errors import ReplyError
from respd.resp import NULL_ARRAY, AttrSet, Map, Push, Status, Verbatim

if TYPE_CHECKING:
    from respd.scripting import ScriptEngine

Result = tuple[Any, ...]


def functions(engine: "ScriptEngine") -> dict[str, Callable[..., Result]]:
    """The Python side of every bundled library, by the name the Lua prelude uses."""
    lua = engine.lua
    funcs: dict[str, Callable[..., Result]] = {
        "json_encode": lambda *a: _json_encode(engine, a),
        "json_decode": lambda *a: _json_decode(engine, a),
        "mp_pack": lambda *a: _mp_pack(a),
        "mp_unpack": lambda *a: _mp_unpack(lua, a, 0, 0, True),
        "mp_unpack_one": lambda s=None, offset=0, *_: _mp_unpack(lua, (s,), 1, offset, False),
        "mp_unpack_limit": lambda s=None, limit=0, offset=0, *_:
            _mp_unpack(lua, (s,), limit, offset, False),
        "struct_pack": _struct_pack,
        "struct_unpack": _struct_unpack,
        "struct_size": _struct_size,
    }
    for name, fn in _BIT.items():
        funcs["bit_" + name] = fn
    return funcs


def _type_name(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, bytes):
        return "string"
    return lupa.lua_type(value) or "userdata"


def _number(value: Any) -> float | None:
    """luaL_checknumber's view: numbers and numeric strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, bytes):
        try:
            return float(value.strip())
        except ValueError:
            try:
                return float(int(value.strip(), 16))
            except ValueError:
                return None
    return None


_NO_VALUE = object()


def _bad_arg(n: int, fname: str, expected: str, got: Any = _NO_VALUE) -> Result:
    name = "no value" if got is _NO_VALUE else _type_name(got)
    return _arg_error(n, fname, f"{expected} expected, got {name}")


def _arg_error(n: int, fname: str, message: str) -> Result:
    return False, b"bad argument #%d to '%s' (%s)" % (n, fname.encode(), message.encode())


# --- cjson -------------------------------------------------------------------------------

_JSON_ESCAPES = {i: b"\\u%04x" % i for i in range(32)}
_JSON_ESCAPES.update({8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r",
                      34: b'\\"', 92: b"\\\\", 47: b"\\/", 127: b"\\u007f"})


def _json_string(s: bytes) -> bytes:
    return b'"' + b"".join(_JSON_ESCAPES.get(c, bytes((c,))) for c in s) + b'"'


def _json_number(n: float) -> bytes:
    return b"%.14g" % n


class _JsonError(Exception):
    pass


def _json_encode(engine: "ScriptEngine", args: tuple[Any, ...]) -> Result:
    if len(args) != 1:
        return False, b"bad argument #1 to 'encode' (expected 1 argument)"
    out: list[bytes] = []
    try:
        with _deep_recursion():
            _json_value(args[0], out, 0)
    except _JsonError as err:
        return False, str(err).encode()
    return True, b"".join(out)


def _json_value(value: Any, out: list[bytes], depth: int) -> None:
    kind = _type_name(value)
    if kind == "string":
        out.append(_json_string(value))
    elif kind == "number":
        if not math.isfinite(value):
            raise _JsonError("Cannot serialise number: must not be NaN or Inf")
        out.append(_json_number(value))
    elif kind == "boolean":
        out.append(b"true" if value else b"false")
    elif kind in ("nil", "userdata"):  # cjson.null is the only userdata scripts can hold
        out.append(b"null")
    elif kind == "table":
        if depth >= 1000:
            raise _JsonError(f"Cannot serialise, excessive nesting ({depth + 1})")
        _json_table(value, out, depth + 1)
    else:
        raise _JsonError(f"Cannot serialise {kind}: type not supported")


def _json_array_length(table: Any) -> int:
    """cjson's lua_array_length: -1 for an object, else the array length."""
    highest = items = 0
    for key in table.keys():
        if isinstance(key, bool) or not isinstance(key, (int, float)):
            return -1
        if key < 1 or math.floor(key) != key:
            return -1
        highest = max(highest, int(key))
        items += 1
    if highest > items * 2 and highest > 10:
        raise _JsonError("Cannot serialise table: excessively sparse array")
    return highest


def _json_table(table: Any, out: list[bytes], depth: int) -> None:
    length = _json_array_length(table)
    if length > 0:
        out.append(b"[")
        for i in range(1, length + 1):
            if i > 1:
                out.append(b",")
            _json_value(table[i], out, depth)
        out.append(b"]")
        return
    out.append(b"{")
    first = True
    for key, item in table.items():
        if isinstance(key, bytes):
            name = key
        elif isinstance(key, (int, float)) and not isinstance(key, bool):
            name = _json_number(key)
        else:
            raise _JsonError(
                f"Cannot serialise {_type_name(key)}: table key must be a number or string")
        if not first:
            out.append(b",")
        first = False
        out.append(_json_string(name) + b":")
        _json_value(item, out, depth)
    out.append(b"}")


_JSON_MAX_DEPTH = 1000  # lua_cjson's decode_max_depth and encode_max_depth


@contextmanager
def _deep_recursion() -> Any:
    """cjson nests 1000 levels deep; the Python code walking that recurses a few frames
    per level, past the interpreter's default limit."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 8 * _JSON_MAX_DEPTH + 1000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _json_decode(engine: "ScriptEngine", args: tuple[Any, ...]) -> Result:
    if len(args) != 1:
        return False, b"bad argument #1 to 'decode' (expected 1 argument)"
    doc = args[0]
    if isinstance(doc, (int, float)) and not isinstance(doc, bool):
        doc = _json_number(doc)
    if not isinstance(doc, bytes):
        return _bad_arg(1, "decode", "string", doc)
    try:
        with _deep_recursion():
            return True, _json_to_lua(engine, cjson_decode.decode(doc))
    except cjson_decode.JsonDecodeError as err:
        return False, str(err).encode()


def _json_to_lua(engine: "ScriptEngine", value: Any) -> Any:
    if value is cjson_decode.NULL:
        return engine.json_null
    if isinstance(value, list):
        table = engine.lua.table()
        for i, item in enumerate(value, 1):
            table[i] = _json_to_lua(engine, item)
        return table
    if isinstance(value, dict):
        table = engine.lua.table()
        for key, item in value.items():
            table[key] = _json_to_lua(engine, item)
        return table
    return value  # bytes, float, bool


# --- cmsgpack ----------------------------------------------------------------------------

_MP_MAX_NESTING = 16


def _mp_pack(args: tuple[Any, ...]) -> Result:
    if not args:
        return _arg_error(0, "pack", "MessagePack pack needs input.")
    out = bytearray()
    for value in args:
        _mp_value(value, out, 0)
    return True, bytes(out)


def _mp_value(value: Any, out: bytearray, depth: int) -> None:
    kind = _type_name(value)
    if kind == "string":
        _mp_bytes(value, out)
    elif kind == "boolean":
        out.append(0xC3 if value else 0xC2)
    elif kind == "number":
        if math.isfinite(value) and value == math.floor(value) and abs(value) < 2 ** 63:
            _mp_int(int(value), out)
        else:
            _mp_double(float(value), out)
    elif kind == "table" and depth < _MP_MAX_NESTING:
        _mp_table(value, out, depth + 1)
    else:
        out.append(0xC0)


def _mp_bytes(s: bytes, out: bytearray) -> None:
    n = len(s)
    if n < 32:
        out.append(0xA0 | n)
    elif n <= 0xFF:
        out += b"\xd9" + bytes((n,))
    elif n <= 0xFFFF:
        out += b"\xda" + pystruct.pack(">H", n)
    else:
        out += b"\xdb" + pystruct.pack(">I", n)
    out += s


def _mp_int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + pystruct.pack(">B", n)
        elif n <= 0xFFFF:
            out += b"\xcd" + pystruct.pack(">H", n)
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + pystruct.pack(">I", n)
        else:
            out += b"\xcf" + pystruct.pack(">Q", n)
    elif n >= -32:
        out.append(n & 0xFF)
    elif n >= -128:
        out += b"\xd0" + pystruct.pack(">b", n)
    elif n >= -32768:
        out += b"\xd1" + pystruct.pack(">h", n)
    elif n >= -2147483648:
        out += b"\xd2" + pystruct.pack(">i", n)
    else:
        out += b"\xd3" + pystruct.pack(">q", n)


def _mp_double(d: float, out: bytearray) -> None:
    as_float = pystruct.unpack(">f", pystruct.pack(">f", d))[0] if abs(d) < 3.5e38 or \
        not math.isfinite(d) else None
    if as_float == d or (as_float is not None and math.isnan(d)):
        out += b"\xca" + pystruct.pack(">f", d)
    else:
        out += b"\xcb" + pystruct.pack(">d", d)


def _mp_table(table: Any, out: bytearray, depth: int) -> None:
    keys = list(table.keys())
    count, highest = len(keys), 0
    is_array = True
    for key in keys:
        if isinstance(key, bool) or not isinstance(key, (int, float)) or key <= 0 \
                or key != int(key):
            is_array = False
            break
        highest = max(highest, int(key))
    if is_array and highest == count:
        _mp_header(count, out, 0x90, b"\xdc", b"\xdd")
        for i in range(1, count + 1):
            _mp_value(table[i], out, depth)
        return
    _mp_header(count, out, 0x80, b"\xde", b"\xdf")
    for key, value in table.items():
        _mp_value(key, out, depth)
        _mp_value(value, out, depth)


def _mp_header(n: int, out: bytearray, fix: int, m16: bytes, m32: bytes) -> None:
    if n < 16:
        out.append(fix | n)
    elif n <= 0xFFFF:
        out += m16 + pystruct.pack(">H", n)
    else:
        out += m32 + pystruct.pack(">I", n)


class _MpError(Exception):
    pass


_MP_FIXED = {0xCA: ">f", 0xCB: ">d", 0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
             0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
_MP_SIZED = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}


class _MpReader:
    def __init__(self, lua: Any, data: bytes, pos: int) -> None:
        self.lua = lua
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _MpError("Missing bytes in input.")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def fixed(self, fmt: str) -> Any:
        return pystruct.unpack(fmt, self.take(pystruct.calcsize(fmt)))[0]

    def value(self) -> Any:
        c = self.take(1)[0]
        if c <= 0x7F:
            return c
        if c >= 0xE0:
            return c - 256
        if 0xA0 <= c <= 0xBF:
            return self.take(c & 0x1F)
        if 0x90 <= c <= 0x9F:
            return self.array(c & 0x0F)
        if 0x80 <= c <= 0x8F:
            return self.map(c & 0x0F)
        if c == 0xC0:
            return None
        if c in (0xC2, 0xC3):
            return c == 0xC3
        if c in _MP_FIXED:
            return self.fixed(_MP_FIXED[c])
        if c in _MP_SIZED:
            return self.take(self.fixed(_MP_SIZED[c]))
        if c in (0xDC, 0xDD):
            return self.array(self.fixed(">H" if c == 0xDC else ">I"))
        if c in (0xDE, 0xDF):
            return self.map(self.fixed(">H" if c == 0xDE else ">I"))
        raise _MpError("Bad data format in input.")

    def array(self, n: int) -> Any:
        table = self.lua.table()
        for i in range(1, n + 1):
            table[i] = self.value()
        return table

    def map(self, n: int) -> Any:
        table = self.lua.table()
        for _ in range(n):
            key = self.value()
            value = self.value()
            if key is not None:
                table[key] = value
        return table


def _mp_unpack(lua: Any, args: tuple[Any, ...], limit: Any, offset: Any,
               decode_all: bool) -> Result:
    data = args[0] if args else None
    if not isinstance(data, bytes):
        return _bad_arg(1, "unpack", "string", data)
    limit, offset = int(limit or 0), int(offset or 0)
    if limit < 0 or offset < 0:
        return False, b"Invalid request to unpack with offset of %d and limit of %d." % (
            offset, limit)
    if offset > len(data):
        return False, b"Start offset %d greater than input length %d." % (offset, len(data))
    reader = _MpReader(lua, data, offset)
    values: list[Any] = []
    try:
        while reader.pos < len(data) and (limit == 0 or len(values) < limit):
            values.append(reader.value())
    except _MpError as err:
        return False, str(err).encode()
    if not decode_all:
        values.insert(0, -1 if reader.pos == len(data) else reader.pos)
    return (True, *values)


# --- struct ------------------------------------------------------------------------------

_STRUCT_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8,
                 "x": 1}


class _StructError(Exception):
    """``arg``: the argument luaL_argerror names; 0 for a plain luaL_error."""

    def __init__(self, message: str, arg: int = 1) -> None:
        super().__init__(message)
        self.arg = arg


def _struct_fail(err: _StructError, fname: str) -> Result:
    if err.arg:
        return _arg_error(err.arg, fname, str(err))
    return False, str(err).encode()


def _struct_items(fmt: bytes) -> list[tuple[str, int, bool, int]]:
    """Parse a format into (option, size, little_endian, alignment padding base)."""
    items = []
    little = True
    align = 1
    text = fmt.decode("latin-1")
    i = 0
    while i < len(text):
        opt = text[i]
        i += 1
        digits = ""
        while i < len(text) and text[i].isdigit():
            digits += text[i]
            i += 1
        if opt == " ":
            continue
        if opt in "<>=":
            little = opt != ">"
            continue
        if opt == "!":
            align = int(digits) if digits else 8
            if align & (align - 1):
                raise _StructError(f"alignment {align} is not a power of 2")
            continue
        if opt in "iI":
            size = int(digits) if digits else 4
            if size > 8:
                raise _StructError(f"integral size {size} is larger than limit of 8", 0)
        elif opt == "c":
            size = int(digits) if digits else 1
        elif opt == "s":
            size = 0
        elif opt in _STRUCT_SIZES:
            size = _STRUCT_SIZES[opt]
        else:
            raise _StructError(f"invalid format option '{opt}'")
        items.append((opt, size, little, align))
    return items


def _struct_pad(total: int, opt: str, size: int, align: int) -> int:
    if size == 0 or opt in "cs" or align <= 1:
        return 0
    size = min(size, align)
    return (size - (total & (size - 1))) & (size - 1)


def _struct_pack(fmt: Any = None, *args: Any) -> Result:
    if not isinstance(fmt, bytes):
        return _bad_arg(1, "pack", "string", fmt)
    out = bytearray()
    argn = 0
    try:
        for opt, size, little, align in _struct_items(fmt):
            out += b"\0" * _struct_pad(len(out), opt, size, align)
            if opt == "x":
                out.append(0)
                continue
            value = args[argn] if argn < len(args) else None
            argn += 1
            if opt in "cs":
                if not isinstance(value, bytes):
                    if _number(value) is None:
                        return _bad_arg(argn + 1, "pack", "string", value)
                    value = b"%.14g" % _number(value)
                if opt == "c":
                    take = size or len(value)
                    if len(value) < take:
                        raise _StructError("string too short", argn + 1)
                    out += value[:take]
                else:
                    out += value + b"\0"
                continue
            num = _number(value)
            if num is None:
                return _bad_arg(argn + 1, "pack", "number", value)
            if opt == "f" or opt == "d":
                out += pystruct.pack(("<" if little else ">") + opt, num)
            else:
                raw = (int(num) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                out += raw if little else raw[::-1]
    except _StructError as err:
        return _struct_fail(err, "pack")
    return True, bytes(out)


def _struct_unpack(fmt: Any = None, data: Any = None, init: Any = 1, *_: Any) -> Result:
    if not isinstance(fmt, bytes):
        return _bad_arg(1, "unpack", "string", fmt)
    if not isinstance(data, bytes):
        return _bad_arg(2, "unpack", "string", data)
    pos = int(init or 1) - 1
    if pos < 0 or pos > len(data):
        return False, b"bad argument #3 to 'unpack' (offset out of range)"
    values: list[Any] = []
    try:
        for opt, size, little, align in _struct_items(fmt):
            pos += _struct_pad(pos, opt, size, align)
            if opt == "s":
                end = data.find(b"\0", pos)
                if end < 0:
                    raise _StructError("unfinished string in data", 2)
                values.append(data[pos:end])
                pos = end + 1
                continue
            if opt == "c" and size == 0:
                if not values or not isinstance(values[-1], (int, float)):
                    raise _StructError("format 'c0' needs a previous size", 0)
                size = int(values.pop())
            if pos + size > len(data):
                raise _StructError("data string too short", 2)
            chunk = data[pos:pos + size]
            pos += size
            if opt == "x":
                continue
            if opt == "c":
                values.append(chunk)
            elif opt in "fd":
                values.append(pystruct.unpack(("<" if little else ">") + opt, chunk)[0])
            else:
                values.append(int.from_bytes(chunk, "little" if little else "big",
                                             signed=opt in "bhliT" and opt != "T"))
    except _StructError as err:
        return _struct_fail(err, "unpack")
    return (True, *values, pos + 1)


def _struct_size(fmt: Any = None, *_: Any) -> Result:
    if not isinstance(fmt, bytes):
        return _bad_arg(1, "size", "string", fmt)
    total = 0
    try:
        for opt, size, _little, align in _struct_items(fmt):
            if opt == "s" or (opt == "c" and size == 0):
                raise _StructError(f"option '{opt}{'' if opt == 's' else '0'}' has no fixed size")
            total += _struct_pad(total, opt, size, align) + size
    except _StructError as err:
        return _struct_fail(err, "size")
    return True, total


# --- bit (LuaBitOp) ----------------------------------------------------------------------


def _tobit(value: float) -> int:
    """Lua number → signed 32 bits, rounding to nearest even as LuaBitOp's trick does."""
    n = int(round(value)) & 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def _bits(fname: str, args: tuple[Any, ...], count: int | None = None) -> list[int] | Result:
    out = []
    for i, arg in enumerate(args if count is None else args[:count]):
        num = _number(arg)
        if num is None or not math.isfinite(num):
            return _bad_arg(i + 1, fname, "number", arg)
        out.append(_tobit(num))
    if count is not None and len(args) < count:
        return _bad_arg(len(args) + 1, fname, "number")
    if not out:
        return _bad_arg(1, fname, "number")
    return out


def _bit_unary(fname: str, op: Callable[[int], int]) -> Callable[..., Result]:
    def fn(*args: Any) -> Result:
        vals = _bits(fname, args, 1)
        if isinstance(vals, tuple):
            return vals
        return True, _tobit(op(vals[0]))
    return fn


def _bit_fold(fname: str, op: Callable[[int, int], int]) -> Callable[..., Result]:
    def fn(*args: Any) -> Result:
        vals = _bits(fname, args)
        if isinstance(vals, tuple):
            return vals
        acc = vals[0]
        for v in vals[1:]:
            acc = op(acc, v)
        return True, _tobit(acc)
    return fn


def _bit_shift(fname: str, op: Callable[[int, int], int]) -> Callable[..., Result]:
    def fn(*args: Any) -> Result:
        vals = _bits(fname, args, 2)
        if isinstance(vals, tuple):
            return vals
        return True, _tobit(op(vals[0] & 0xFFFFFFFF, vals[1] & 31))
    return fn


def _bit_tohex(*args: Any) -> Result:
    vals = _bits("tohex", args[:1], 1)
    if isinstance(vals, tuple):
        return vals
    n = 8
    if len(args) > 1 and args[1] is not None:
        width = _bits("tohex", args[1:2], 1)
        if isinstance(width, tuple):
            return width
        n = width[0]
    digits = "0123456789abcdef"
    if n < 0:
        n, digits = -n, digits.upper()
    n = min(n, 8)
    b = vals[0] & 0xFFFFFFFF
    text = "".join(digits[(b >> (4 * i)) & 15] for i in range(n - 1, -1, -1))
    return True, text.encode()


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


_BIT: dict[str, Callable[..., Result]] = {
    "tobit": _bit_unary("tobit", lambda x: x),
    "bnot": _bit_unary("bnot", lambda x: ~x),
    "bswap": _bit_unary("bswap", lambda x: int.from_bytes(
        (x & 0xFFFFFFFF).to_bytes(4, "little"), "big")),
    "band": _bit_fold("band", lambda a, b: a & b),
    "bor": _bit_fold("bor", lambda a, b: a | b),
    "bxor": _bit_fold("bxor", lambda a, b: a ^ b),
    "lshift": _bit_shift("lshift", lambda x, n: x << n),
    "rshift": _bit_shift("rshift", lambda x, n: x >> n),
    "arshift": _bit_shift("arshift", lambda x, n: _tobit(x) >> n),
    "rol": _bit_shift("rol", _rol),
    "ror": _bit_shift("ror", lambda x, n: _rol(x, (32 - n) & 31)),
    "tohex": _bit_tohex,
}


# --- RESP replies back to values ---------------------------------------------------------


class BigNumber(bytes):
    """A RESP3 big number ('(' reply): scripts see {big_number=...}."""


def parse_reply(data: bytes, pos: int) -> tuple[Any, int]:
    """One encoded reply at ``pos`` as a reply value; returns (value, next position)."""
    nl = data.index(b"\r\n", pos)
    kind, head, pos = data[pos:pos + 1], data[pos + 1:nl], nl + 2
    if kind == b"+":
        return Status(head), pos
    if kind == b"-":
        return ReplyError(head), pos
    if kind == b":":
        return int(head), pos
    if kind == b",":
        return float(head), pos
    if kind == b"_":
        return None, pos
    if kind == b"#":
        return head == b"t", pos
    if kind == b"(":
        return BigNumber(head), pos
    if kind in (b"$", b"="):
        size = int(head)
        if size < 0:
            return None, pos
        body = data[pos:pos + size]
        return (Verbatim(body[4:]) if kind == b"=" else body), pos + size + 2
    count = int(head)
    if count < 0:
        return NULL_ARRAY, pos
    if kind == b"|":  # attributes are dropped, the reply follows them
        for _ in range(2 * count):
            _, pos = parse_reply(data, pos)
        return parse_reply(data, pos)
    items = []
    for _ in range(2 * count if kind == b"%" else count):
        item, pos = parse_reply(data, pos)
        items.append(item)
    if kind == b"%":
        return Map(zip(items[::2], items[1::2])), pos
    if kind == b"~":
        return AttrSet(items), pos
    if kind == b">":
        return Push(items), pos
    return items, pos
