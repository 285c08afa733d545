"""RESP requests in, RESP2/RESP3 replies out: sans-I/O, no sockets here.

Requests.  ``RequestReader.feed(data)`` returns the complete requests in ``data`` (plus
whatever was buffered) and, if the bytes are malformed, the ProtocolError Redis would
reply with after executing the good requests before it.  Well-formed multibulk traffic
goes through hiredis's C parser; inline commands, and anything hiredis refuses or reads
differently from Redis, are re-read by ``PyRequestParser``, a transcription of Redis's
``processInlineBuffer``/``processMultibulkBuffer`` that produces Redis's exact messages.

Replies.  Handlers return plain Python values; ``encode(value, proto)`` turns them into
bytes for the client's protocol.  See ``encode`` for the mapping.
"""

from __future__ import annotations

import math
import re
from itertools import chain
from typing import Any, Iterable

import hiredis

from respd.errors import ProtocolError, ReplyError
from respd.numbers import parse_int  # string2ll, as Redis reads lengths

PROTO_INLINE_MAX_SIZE = 64 * 1024
# Redis reads 16 KB at a time and refuses an inline line once more than 64 KB of it sit
# in the buffer without a newline: a line arriving at once is refused from 80 KB.
_INLINE_LINE_LIMIT = PROTO_INLINE_MAX_SIZE + 16 * 1024
INT_MAX = 2**31 - 1


# --- inline argument splitting (sdssplitargs) ----------------------------------------------

_SPLIT_SLOW = re.compile(rb"[\"'\x0b\x0c]")
# What makes a read of inline lines need the exact parser: quotes, \v/\f, NUL (a C
# string ends there), or a multibulk request starting after a line.
_INLINE_SLOW = re.compile(rb"[\"'\x0b\x0c\x00]|\n\*")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("a"): b"\a"}
_HEX = b"0123456789abcdefABCDEF"


def split_args(line: bytes) -> list[bytes] | None:
    """sdssplitargs: split a line the way redis-cli and inline commands do; None when the
    quotes are unbalanced (or a closing quote is not followed by a space)."""
    line = line.split(b"\0", 1)[0]  # C string: a NUL ends the line
    if not _SPLIT_SLOW.search(line):
        # No quotes, and no \v or \f (blanks between words but not inside one):
        # plain whitespace splitting is the same thing, in C.
        return line.split()
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i : i + 1].isspace():
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 0x5C
                    and i + 3 < n
                    and line[i + 1] == ord("x")
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current += _ESCAPES.get(line[i], line[i : i + 1])
                elif c == 0x22:
                    if i + 1 < n and not line[i + 1 : i + 2].isspace():
                        return None
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_single:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and not line[i + 1 : i + 2].isspace():
                        return None
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in b" \n\r\t\0":
                    break
                if c == 0x22:
                    in_double = True
                elif c == 0x27:
                    in_single = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


# --- the exact (pure Python) request parser -------------------------------------------------


class PyRequestParser:
    """Redis's request framing, byte for byte.  Slow but exact: used for inline commands
    and to find the precise error when the fast path meets something odd."""

    def __init__(self, max_bulk_len: int) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.max_bulk_len = max_bulk_len
        # Offset (from the start of the buffer as it was before parse()) up to which the
        # incomplete request needs no new look: the end of the payload being waited for.
        self.wait_until = 0

    def pending(self) -> int:
        return len(self.buf) - self.pos

    def parse(self) -> tuple[list[list[bytes]], ProtocolError | None]:
        """Every complete request in the buffer, then the error that stops reading, if any."""
        requests: list[list[bytes]] = []
        self.wait_until = len(self.buf)
        try:
            while self.pos < len(self.buf):
                if self.buf[self.pos] == 0x2A:  # '*'
                    req = self._multibulk()
                else:
                    req = self._inline()
                if req is None:
                    break
                if req:
                    requests.append(req)
        except ProtocolError as err:
            return requests, err
        finally:
            if self.pos:
                del self.buf[: self.pos]
                self.pos = 0
        return requests, None

    def _find(self, char: bytes) -> int:
        """strchr semantics, as Redis searches its query buffer: a NUL byte ends the
        search, so a line with a NUL before its terminator is not (yet) a line."""
        found = self.buf.find(char, self.pos)
        nul = self.buf.find(b"\0", self.pos, found if found >= 0 else len(self.buf))
        return -1 if nul >= 0 else found

    def _inline(self) -> list[bytes] | None:
        newline = self._find(b"\n")
        if newline < 0:
            if len(self.buf) - self.pos > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("too big inline request")
            return None
        if newline - self.pos >= _INLINE_LINE_LIMIT:
            raise ProtocolError("too big inline request")
        end = newline
        if end > self.pos and self.buf[end - 1] == 0x0D:
            end -= 1
        args = split_args(bytes(self.buf[self.pos : end]))
        if args is None:
            raise ProtocolError("unbalanced quotes in request")
        self.pos = newline + 1
        return args

    def _line(self, too_big: str) -> bytes | None:
        """The header line at pos (up to '\\r'), or None until it is complete."""
        cr = self._find(b"\r")
        if cr < 0:
            if len(self.buf) - self.pos > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError(too_big)
            return None
        if cr - self.pos > len(self.buf) - self.pos - 2:
            return None  # the '\n' has not arrived yet
        return bytes(self.buf[self.pos : cr])

    def _multibulk(self) -> list[bytes] | None:
        start = self.pos
        line = self._line("too big mbulk count string")
        if line is None:
            return None
        count = parse_int(line[1:])
        if count is None or count > INT_MAX:
            raise ProtocolError("invalid multibulk length")
        self.pos += len(line) + 2
        if count <= 0:
            return []
        args: list[bytes] = []
        while len(args) < count:
            line = self._line("too big bulk count string")
            if line is None:
                self.pos = start
                return None
            if line[:1] != b"$":
                raise ProtocolError(f"expected '$', got '{chr(line[0])}'")
            size = parse_int(line[1:])
            if size is None or size < 0 or size > self.max_bulk_len:
                raise ProtocolError("invalid bulk length")
            body = self.pos + len(line) + 2
            if len(self.buf) - body < size + 2:
                self.wait_until = body + size + 2
                self.pos = start
                return None
            args.append(bytes(self.buf[body : body + size]))
            self.pos = body + size + 2
        return args


# --- the reader connections use --------------------------------------------------------------


# Byte values below 10 and below 100: deleting them from a bytes object of lengths
# counts, in C, the lengths of two and of three digits.
_BELOW_10 = bytes(range(10))
_BELOW_100 = bytes(range(100))


def _checked_size(requests: list[list[bytes]]) -> int:
    """Bytes the requests took on the wire (canonical multibulk, the only form the exact
    parser accepts), or -1 when something is not a list of bulk strings: joining raises
    for any element that is not bytes (a nested aggregate, an integer, a null), and a
    request that is not a list (a RESP3 map or push at the top) is refused by type.
    Whole-batch C-level iteration: it runs for every read, so no per-argument Python
    code.  The first request of a read is known to start with '*' (see feed)."""
    try:
        if len(requests) == 1:  # a read of one request (no pipelining) is the usual one
            flat = requests[0]
        elif list(map(type, requests)).count(list) != len(requests):
            return -1
        else:
            flat = list(chain.from_iterable(requests))
        payload = len(b"".join(flat))
        counts = bytes(map(len, requests))
        lens = bytes(map(len, flat))
    except TypeError:
        return -1
    except ValueError:  # a length above 255
        return _checked_size_long(requests, payload)
    # "$<len>\r\n<arg>\r\n" per argument and "*<count>\r\n" per request, where a length
    # has one digit, plus one if >= 10, plus one if >= 100.
    below_10, below_100 = _BELOW_10, _BELOW_100
    return (payload + 6 * len(lens) + 4 * len(counts)
            + len(lens.translate(None, below_10)) + len(lens.translate(None, below_100))
            + len(counts.translate(None, below_10)) + len(counts.translate(None, below_100)))


def _checked_size_long(requests: list[list[bytes]], payload: int) -> int:
    """_checked_size for batches with a length above 255 (already type-checked)."""
    lens = list(map(len, chain.from_iterable(requests)))
    digits = sum(len(b"%d" % n) for n in lens) + sum(len(b"%d" % len(r)) for r in requests)
    return payload + digits + 5 * len(lens) + 3 * len(requests)


class RequestReader:
    """Fast path: hiredis parses multibulk requests.  hiredis does not say where a
    request starts, so the reader counts bytes: ``_fed`` bytes were given to hiredis
    since the last request boundary and ``_consumed`` of them formed the requests it
    returned.  Equal counts mean a boundary: the remembered chunks are dropped, and a
    chunk starting with something other than '*' (an inline command) goes to the exact
    parser.  When hiredis reports an error, or returns something Redis would refuse, the
    bytes after the last complete request are re-read by the exact parser, which also
    vets the headers of an incomplete request as soon as they arrive (a huge declared
    length is refused before its payload comes, as Redis does)."""

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self.max_bulk_len = max_bulk_len
        self._fast = hiredis.Reader()
        self._chunks: list[bytes] = []  # fed to hiredis since the last boundary
        self._fed = 0
        self._consumed = 0
        self._checked = 0  # offset up to which the incomplete request has been vetted
        self._slow: PyRequestParser | None = None

    def buffered(self) -> int:
        if self._slow is not None:
            return self._slow.pending()
        return self._fed - self._consumed

    def feed(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        if self._slow is not None:
            return self._feed_slow(data)
        at_boundary = not self._fed
        if at_boundary and data[:1] != b"*":
            if (data[-1:] == b"\n" and len(data) < _INLINE_LINE_LIMIT
                    and not _INLINE_SLOW.search(data)):
                # Whole inline lines with nothing for sdssplitargs to interpret (telnet,
                # redis-benchmark's inline PING): split in C; empty lines are skipped.
                return [args for line in data.split(b"\n")[:-1] if (args := line.split())], None
            self._slow = PyRequestParser(self.max_bulk_len)
            return self._feed_slow(data)
        fast = self._fast
        fast.feed(data)
        batch_start = self._consumed
        requests: list[list[bytes]] = []
        append = requests.append
        try:
            while (req := fast.gets()) is not False:
                append(req)
        except hiredis.ProtocolError:
            self._chunks.append(data)
            self._fed += len(data)
            return self._reparse(batch_start)
        if at_boundary and not fast.has_data():
            # The usual read: whole requests only.  Nothing to remember, but the size
            # check still proves hiredis read them as Redis would.
            if _checked_size(requests) != len(data):
                self._chunks.append(data)
                self._fed = len(data)
                return self._reparse(0)
            if [] in requests:  # "*0" requests are skipped, as Redis does
                requests = [r for r in requests if r]
            return requests, None
        self._chunks.append(data)
        self._fed += len(data)
        if requests:
            size = _checked_size(requests)
            if size < 0:
                return self._reparse(batch_start)
            self._consumed += size
            if [] in requests:  # "*0" requests are skipped, as Redis does
                requests = [r for r in requests if r]
        if self._consumed == self._fed:
            self._chunks.clear()
            self._fed = self._consumed = self._checked = 0
        elif self._consumed > self._fed:
            # Elements hiredis accepts but Redis refuses (+simple strings): re-read.
            return self._reparse(batch_start)
        elif self._fed > self._checked:
            parser = self._exact_from(self._consumed)
            parsed, err = parser.parse()
            if err is not None or parsed:
                return self._reparse(batch_start)
            self._checked = self._consumed + parser.wait_until
        return requests, None

    def _exact_from(self, offset: int) -> PyRequestParser:
        parser = PyRequestParser(self.max_bulk_len)
        parser.buf += b"".join(self._chunks)[offset:]
        return parser

    def _reparse(self, offset: int) -> tuple[list[list[bytes]], ProtocolError | None]:
        """hiredis balked (or read something Redis would not): the exact parser takes
        over from the start of the current batch."""
        parser = self._exact_from(offset)
        self._fast = hiredis.Reader()
        self._chunks = []
        self._fed = self._consumed = self._checked = 0
        self._slow = parser
        return self._feed_slow(b"")

    def _feed_slow(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        slow = self._slow
        assert slow is not None
        slow.buf += data
        requests, err = slow.parse()
        if err is None and slow.pending() == 0:
            self._slow = None
        return requests, err


# --- replies ---------------------------------------------------------------------------------


class Status(bytes):
    """A simple-string reply (+OK)."""


class Verbatim(bytes):
    """RESP3 verbatim string (=txt:...); a bulk string in RESP2."""


class Map(dict):  # type: ignore[type-arg]
    """A RESP3 map (%); a flat array in RESP2."""


class AttrSet(list):  # type: ignore[type-arg]
    """A RESP3 set (~); an array in RESP2."""


class Push(list):  # type: ignore[type-arg]
    """A RESP3 push (>); an array in RESP2 (pub/sub messages)."""


class Raw(bytes):
    """Bytes already encoded for the wire, sent as they are."""


class _NullArray:
    __slots__ = ()


NULL_ARRAY = _NullArray()  # *-1 in RESP2, _ in RESP3
OK = Status(b"OK")
QUEUED = Status(b"QUEUED")
PONG = Status(b"PONG")


class _Marker:
    """A result that is not a reply: nothing is encoded for it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


BLOCKED = _Marker("BLOCKED")  # parked (respd.blocking) or postponed (CLIENT PAUSE): no reply yet
NO_REPLY = _Marker("NO_REPLY")  # the handler already queued what the client gets (or nothing)

# Pre-encoded headers and small integers: most replies are built from these.
INT_REPLIES = [b":%d\r\n" % i for i in range(10001)]
BULK_HEADERS = [b"$%d\r\n" % i for i in range(1025)]
ARRAY_HEADERS = [b"*%d\r\n" % i for i in range(1025)]


def _double2(v: float) -> bytes:
    if math.isinf(v):
        text = b"inf" if v > 0 else b"-inf"
    else:
        text = b"%.17g" % v
    return b"$%d\r\n%s\r\n" % (len(text), text)


def _double3(v: float) -> bytes:
    if math.isinf(v):
        return b",inf\r\n" if v > 0 else b",-inf\r\n"
    return b",%.17g\r\n" % v


def bulk(value: bytes) -> bytes:
    n = len(value)
    return (BULK_HEADERS[n] if n < 1025 else b"$%d\r\n" % n) + value + b"\r\n"


def _encode_into(out: list[bytes], v: Any, proto: int) -> None:
    t = type(v)
    if t is bytes:
        n = len(v)
        out.append(BULK_HEADERS[n] if n < 1025 else b"$%d\r\n" % n)
        out.append(v)
        out.append(b"\r\n")
    elif t is int:
        out.append(INT_REPLIES[v] if 0 <= v <= 10000 else b":%d\r\n" % v)
    elif t is list or t is tuple:
        n = len(v)
        out.append(ARRAY_HEADERS[n] if n < 1025 else b"*%d\r\n" % n)
        for item in v:
            _encode_into(out, item, proto)
    elif v is None:
        out.append(b"_\r\n" if proto == 3 else b"$-1\r\n")
    elif t is Status:
        out.append(b"+" + v + b"\r\n")
    elif t is ReplyError:
        out.append(b"-" + v.line + b"\r\n")
    elif t is Raw:
        out.append(v)
    elif t is float:
        out.append(_double3(v) if proto == 3 else _double2(v))
    elif t is Map:
        if proto == 3:
            out.append(b"%%%d\r\n" % len(v))
        else:
            out.append(b"*%d\r\n" % (2 * len(v)))
        for key, item in v.items():
            _encode_into(out, key, proto)
            _encode_into(out, item, proto)
    elif t is AttrSet:
        out.append((b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(v))
        for item in v:
            _encode_into(out, item, proto)
    elif t is Push:
        out.append((b">%d\r\n" if proto == 3 else b"*%d\r\n") % len(v))
        for item in v:
            _encode_into(out, item, proto)
    elif v is NULL_ARRAY:
        out.append(b"_\r\n" if proto == 3 else b"*-1\r\n")
    elif t is bool:
        if proto == 3:
            out.append(b"#t\r\n" if v else b"#f\r\n")
        else:
            out.append(b":1\r\n" if v else b":0\r\n")
    elif t is Verbatim:
        if proto == 3:
            out.append(b"=%d\r\ntxt:" % (len(v) + 4) + v + b"\r\n")
        else:
            out.append(bulk(v))
    elif isinstance(v, bytes):
        _encode_into(out, t.__mro__[1](v) if t.__mro__[1] is not bytes else bytes(v), proto)
    else:
        raise TypeError(f"cannot encode reply of type {t.__name__}")


def encode(value: Any, proto: int = 2) -> bytes:
    """bytes → bulk, int → integer, None → null bulk (RESP3 null), list/tuple → array,
    Status → +line, ReplyError → -line, float → double (a bulk in RESP2), Map → map,
    AttrSet → set, Push → push, bool → boolean (integer in RESP2), NULL_ARRAY → null
    array, Verbatim → verbatim string, Raw → itself."""
    t = type(value)
    if t is bytes:
        n = len(value)
        return (BULK_HEADERS[n] if n < 1025 else b"$%d\r\n" % n) + value + b"\r\n"
    if t is Status:
        return b"+" + value + b"\r\n"
    if t is int:
        return INT_REPLIES[value] if 0 <= value <= 10000 else b":%d\r\n" % value
    if value is None:
        return b"_\r\n" if proto == 3 else b"$-1\r\n"
    out: list[bytes] = []
    _encode_into(out, value, proto)
    return b"".join(out)


def encode_request(args: Iterable[bytes]) -> bytes:
    """A command as a multibulk request (what clients send, and the AOF format)."""
    items = list(args)
    return b"*%d\r\n" % len(items) + b"".join(bulk(a) for a in items)
