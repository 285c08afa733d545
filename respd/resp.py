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

# What a client that still has to authenticate may declare (Redis's authRequired guard).
UNAUTH_MAX_MULTIBULK = 10
UNAUTH_MAX_BULK = 16384


def _expected_dollar(byte: int) -> ProtocolError:
    # Redis's error replies turn '\r' and '\n' into spaces.
    return ProtocolError("expected '$', got '%s'" % (" " if byte in (10, 13) else chr(byte)))


class PyRequestParser:
    """Redis's request framing, byte for byte, and incremental as Redis's is: a multibulk
    request being read keeps its state between reads (the arguments so far, how many are
    still to come, the length of the bulk awaited), so each byte is examined once and
    memory grows with the bytes received, never with what a header declares."""

    def __init__(self, max_bulk_len: int, auth_required: bool = False) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.max_bulk_len = max_bulk_len
        self.auth_required = auth_required
        self.args: list[bytes] | None = None  # the multibulk request being read
        self.remaining = 0  # its arguments still to come
        self.bulk_len = -1  # the length of the bulk awaited; -1 while its '$' line is
        self.args_size = 0  # bytes in args: they count against the query buffer limit

    def pending(self) -> int:
        return len(self.buf) - self.pos + self.args_size

    def parse(self, handback: bool = False,
              first_only: bool = False) -> tuple[list[list[bytes]], ProtocolError | None]:
        """Every complete request in the buffer, then the error that stops reading, if
        any.  ``handback``: stop at the first request boundary after a request where a
        multibulk request starts (the fast path takes the rest); ``first_only``: stop
        after one request (an unauthenticated client's limits depend on its AUTH)."""
        requests: list[list[bytes]] = []
        buf = self.buf
        try:
            while True:
                if self.args is None:
                    if self.pos >= len(buf):
                        break
                    if requests and (first_only or (handback and buf[self.pos] == 0x2A)):
                        break
                    if buf[self.pos] != 0x2A:  # '*'
                        req = self._inline()
                        if req is None:
                            break
                        if req:
                            requests.append(req)
                        continue
                    if not self._multibulk_header():
                        break
                    if self.args is None:
                        continue  # "*0" and negative counts are skipped, as Redis does
                if not self._arguments():
                    break
                requests.append(self.args)  # type: ignore[arg-type]
                self.args = None
                self.args_size = 0
        except ProtocolError as err:
            err.__traceback__ = None  # its frames would keep the connection alive
            return requests, err
        finally:
            if self.pos:
                del buf[: self.pos]
                self.pos = 0
        return requests, None

    def take_rest(self) -> bytes:
        """The unread bytes (at a request boundary), leaving the parser empty."""
        rest = bytes(self.buf[self.pos :])
        self.buf.clear()
        self.pos = 0
        return rest

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

    def _line(self, too_big: str) -> int:
        """The end ('\\r') of the header line at pos, or -1 until it is complete."""
        cr = self._find(b"\r")
        if cr < 0:
            if len(self.buf) - self.pos > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError(too_big)
            return -1
        if cr - self.pos > len(self.buf) - self.pos - 2:
            return -1  # the '\n' has not arrived yet
        return cr

    def _multibulk_header(self) -> bool:
        cr = self._line("too big mbulk count string")
        if cr < 0:
            return False
        count = parse_int(bytes(self.buf[self.pos + 1 : cr]))
        if count is None or count > INT_MAX:
            raise ProtocolError("invalid multibulk length")
        if count > UNAUTH_MAX_MULTIBULK and self.auth_required:
            raise ProtocolError("unauthenticated multibulk length")
        self.pos = cr + 2
        if count > 0:
            self.args = []  # grows with the arguments that arrive
            self.remaining = count
            self.bulk_len = -1
        return True

    def _arguments(self) -> bool:
        """Read arguments of the current request; True once it is complete."""
        buf = self.buf
        args = self.args
        assert args is not None
        while self.remaining:
            size = self.bulk_len
            if size < 0:
                cr = self._line("too big bulk count string")
                if cr < 0:
                    return False
                if buf[self.pos] != 0x24:  # '$'
                    raise _expected_dollar(buf[self.pos])
                size = parse_int(bytes(buf[self.pos + 1 : cr]))
                if size is None or size < 0 or size > self.max_bulk_len:
                    raise ProtocolError("invalid bulk length")
                if size > UNAUTH_MAX_BULK and self.auth_required:
                    raise ProtocolError("unauthenticated bulk length")
                self.pos = cr + 2
                self.bulk_len = size
            body = self.pos
            if len(buf) - body < size + 2:
                return False  # nothing is copied until the whole bulk is here
            args.append(bytes(buf[body : body + size]))
            self.args_size += size
            self.pos = body + size + 2
            self.bulk_len = -1
            self.remaining -= 1
        return True


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
    lens = tuple(map(len, chain.from_iterable(requests)))
    counts = tuple(map(len, requests))
    # The decimal digits of all the lengths, formatted in one C call.
    digits = len(b"%d" * len(lens) % lens) + len(b"%d" * len(counts) % counts)
    return payload + digits + 5 * len(lens) + 3 * len(requests)


# A multibulk count of four digits or more: hiredis would allocate the array it declares
# as soon as it reads the header, so a read holding one (even inside a payload, rarely)
# goes to the exact parser, which allocates only for what arrives.
_BIG_COUNT = re.compile(rb"\*\d{4}")


class RequestReader:
    """Fast path: hiredis parses the whole multibulk requests of a read, in C.  hiredis
    never keeps state from one read to the next: when a read ends inside a request, the
    bytes after the last complete one go to the exact parser, which reads (and vets, as
    Redis does: a huge declared length is refused before its payload comes) that request
    as the rest of it arrives, then hands what follows back to the fast path.  The exact
    parser also takes inline commands, reads where hiredis errs or returns something
    Redis would refuse, reads declaring big multibulk counts, and every read of a client
    that has yet to authenticate (``auth_required``, Redis's tighter limits)."""

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self.max_bulk_len = max_bulk_len
        self.auth_required = False
        self._fast = hiredis.Reader()
        self._slow: PyRequestParser | None = None
        self._handback = False  # may the exact parser give the rest back to hiredis?

    def buffered(self) -> int:
        return self._slow.pending() if self._slow is not None else 0

    def feed(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        if self._slow is not None or self.auth_required:
            return self._feed_slow(data)
        if data[:1] != b"*":
            if (data[-1:] == b"\n" and len(data) < _INLINE_LINE_LIMIT
                    and not _INLINE_SLOW.search(data)):
                # Whole inline lines with nothing for sdssplitargs to interpret (telnet,
                # redis-benchmark's inline PING): split in C; empty lines are skipped.
                return [args for line in data.split(b"\n")[:-1] if (args := line.split())], None
            return self._exact(data, handback=True)
        if _BIG_COUNT.search(data) is not None or len(data) > self.max_bulk_len:
            return self._exact(data, handback=False)
        fast = self._fast
        fast.feed(data)
        requests: list[list[bytes]] = []
        append = requests.append
        try:
            while (req := fast.gets()) is not False:
                append(req)
        except hiredis.ProtocolError:
            requests = None  # type: ignore[assignment]
        if requests is None:  # outside the handler: no exception context to keep
            self._fast = hiredis.Reader()
            return self._exact(data, handback=False)
        if not fast.has_data():
            # The usual read: whole requests only.  The size check proves hiredis read
            # them as Redis would.
            if _checked_size(requests) != len(data):
                return self._exact(data, handback=False)
        else:
            # The read ends inside a request: the exact parser takes it from its start.
            self._fast = hiredis.Reader()
            size = _checked_size(requests) if requests else 0
            if size < 0 or size >= len(data) or data[size] != 0x2A:
                return self._exact(data, handback=False)
            rest, err = self._exact(data[size:], handback=True)
            if err is not None or rest:  # hiredis and Redis disagree: Redis decides
                self._slow = None
                return self._exact(data, handback=False)
        if [] in requests:  # "*0" requests are skipped, as Redis does
            requests = [r for r in requests if r]
        return requests, None

    def _exact(self, data: bytes,
               handback: bool) -> tuple[list[list[bytes]], ProtocolError | None]:
        self._slow = PyRequestParser(self.max_bulk_len)
        self._handback = handback
        return self._feed_slow(data)

    def _feed_slow(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        slow = self._slow
        if slow is None:
            slow = self._slow = PyRequestParser(self.max_bulk_len)
            self._handback = False
        slow.buf += data
        slow.auth_required = self.auth_required
        slow.max_bulk_len = self.max_bulk_len
        requests, err = slow.parse(handback=self._handback and not self.auth_required,
                                   first_only=self.auth_required)
        if err is not None or slow.args is not None:
            return requests, err
        if not slow.pending():
            self._slow = None
        elif self._handback and not self.auth_required and requests:
            # At a boundary with a multibulk request next: back to the fast path.
            rest = slow.take_rest()
            self._slow = None
            more, err = self.feed(rest)
            return requests + more, err
        return requests, None


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
