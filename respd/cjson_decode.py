"""cjson.decode as Redis's bundled lua_cjson reads JSON: its tokenizer (numbers are
whatever strtod takes, so hex, "inf", "nan", leading zeros and a leading '+' pass; the
document ends at a NUL byte), its nesting limit and its error texts ("Expected <what>
but found <token> at character <n>").

``decode`` returns Python values for the Lua side to convert: dict (object), list
(array), bytes (string), float (number), bool, and ``NULL`` for JSON null.
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 1000  # lua_cjson's decode_max_depth
NULL = object()  # JSON null (cjson.null on the Lua side)


class JsonDecodeError(Exception):
    pass


_WHITESPACE = b" \t\n\r"
_SINGLE = {ord("{"): "T_OBJ_BEGIN", ord("}"): "T_OBJ_END", ord("["): "T_ARR_BEGIN",
           ord("]"): "T_ARR_END", ord(":"): "T_COLON", ord(","): "T_COMMA"}
# Characters that may start a string, a number or a literal (lua_cjson's T_UNKNOWN).
_FURTHER = frozenset(b'"+-0123456789fiInNt')
_ESCAPES = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b",
            ord("f"): b"\f", ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}
# The longest prefix glibc's strtod converts.
_STRTOD = re.compile(
    rb"[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    rb"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
    rb"|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)")
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")


def _strtod(text: bytes) -> float:
    body = text.lstrip(b"+-")
    negative = text.startswith(b"-")
    if body[:2] in (b"0x", b"0X"):
        value = float.fromhex(body.decode())
    elif body[:3].lower() == b"nan":
        value = float("nan")  # "nan(chars)" too
    else:
        value = float(body)  # inf, infinity and nan included
    return -value if negative else value


def _is_invalid_number(doc: bytes, pos: int) -> bool:
    """json_is_invalid_number: what strict JSON forbids but strtod reads."""
    if doc[pos:pos + 1] == b"+":
        return True
    if doc[pos:pos + 1] == b"-":
        pos += 1
    if doc[pos:pos + 1] == b"0":
        second = doc[pos + 1:pos + 2]
        return second in (b"x", b"X") or second.isdigit()
    if doc[pos:pos + 1].isdigit():
        return False
    return doc[pos:pos + 3].lower() in (b"inf", b"nan")


class _Parser:
    def __init__(self, doc: bytes) -> None:
        self.doc = doc.split(b"\0", 1)[0]  # a C string: a NUL ends the document
        self.pos = 0
        self.depth = 0
        # the current token: (type, index, value); type "error" carries its message
        self.kind = ""
        self.index = 0
        self.value: Any = None

    def error(self, message: str) -> None:
        self.kind, self.index, self.value = "error", self.pos, message

    def next(self) -> None:
        doc = self.doc
        while self.pos < len(doc) and doc[self.pos] in _WHITESPACE:
            self.pos += 1
        self.index = pos = self.pos
        if pos >= len(doc):
            self.kind = "T_END"
            return
        c = doc[pos]
        if c in _SINGLE:
            self.kind = _SINGLE[c]
            self.pos += 1
        elif c not in _FURTHER:
            self.error("invalid token")
        elif c == 34:
            self.string()
        elif c == 45 or 48 <= c <= 57:
            self.number()
        elif doc.startswith(b"true", pos):
            self.kind, self.value, self.pos = "T_BOOLEAN", True, pos + 4
        elif doc.startswith(b"false", pos):
            self.kind, self.value, self.pos = "T_BOOLEAN", False, pos + 5
        elif doc.startswith(b"null", pos):
            self.kind, self.value, self.pos = "T_NULL", NULL, pos + 4
        elif _is_invalid_number(doc, pos):
            self.number()
        else:
            self.error("invalid token")

    def number(self) -> None:
        match = _STRTOD.match(self.doc, self.pos)
        if match is None:
            self.error("invalid number")
            return
        self.kind, self.value, self.pos = "T_NUMBER", _strtod(match.group()), match.end()

    def string(self) -> None:
        doc = self.doc
        out = bytearray()
        self.pos += 1
        while True:
            if self.pos >= len(doc):
                self.error("unexpected end of string")
                return
            c = doc[self.pos]
            if c == 34:
                break
            if c != 92:
                out.append(c)
                self.pos += 1
                continue
            escape = doc[self.pos + 1:self.pos + 2]
            if escape == b"u":
                decoded = self.unicode_escape()
                if decoded is None:
                    self.error("invalid unicode escape code")
                    return
                out += decoded
                continue
            char = _ESCAPES.get(escape[0]) if escape else None
            if char is None:
                self.error("invalid escape code")
                return
            out += char
            self.pos += 2
        self.pos += 1
        self.kind, self.value = "T_STRING", bytes(out)

    def unicode_escape(self) -> bytes | None:
        """json_append_unicode_escape: \\uXXXX (a surrogate pair as two) in UTF-8."""
        doc, pos = self.doc, self.pos
        if not _HEX4.fullmatch(doc, pos + 2, pos + 6):
            return None
        code = int(doc[pos + 2:pos + 6], 16)
        length = 6
        if code & 0xF800 == 0xD800:
            if code & 0x400 or doc[pos + 6:pos + 8] != b"\\u" \
                    or not _HEX4.fullmatch(doc, pos + 8, pos + 12):
                return None
            low = int(doc[pos + 8:pos + 12], 16)
            if low & 0xFC00 != 0xDC00:
                return None
            code = (((code & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
            length = 12
        self.pos += length
        return chr(code).encode("utf-8", "surrogatepass")

    def fail(self, expected: str) -> None:
        found = self.value if self.kind == "error" else self.kind
        raise JsonDecodeError(f"Expected {expected} but found {found} at character "
                              f"{self.index + 1}")

    def descend(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise JsonDecodeError(f"Found too many nested data structures ({self.depth}) at "
                                  f"character {self.pos}")

    def value_here(self) -> Any:
        kind = self.kind
        if kind in ("T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL"):
            return self.value
        if kind == "T_OBJ_BEGIN":
            return self.object()
        if kind == "T_ARR_BEGIN":
            return self.array()
        self.fail("value")

    def object(self) -> dict[bytes, Any]:
        self.descend()
        result: dict[bytes, Any] = {}
        self.next()
        if self.kind != "T_OBJ_END":
            while True:
                if self.kind != "T_STRING":
                    self.fail("object key string")
                key = self.value
                self.next()
                if self.kind != "T_COLON":
                    self.fail("colon")
                self.next()
                result[key] = self.value_here()
                self.next()
                if self.kind == "T_OBJ_END":
                    break
                if self.kind != "T_COMMA":
                    self.fail("comma or object end")
                self.next()
        self.depth -= 1
        return result

    def array(self) -> list[Any]:
        self.descend()
        result: list[Any] = []
        self.next()
        if self.kind != "T_ARR_END":
            while True:
                result.append(self.value_here())
                self.next()
                if self.kind == "T_ARR_END":
                    break
                if self.kind != "T_COMMA":
                    self.fail("comma or array end")
                self.next()
        self.depth -= 1
        return result


def decode(doc: bytes) -> Any:
    """The value of a JSON document, or JsonDecodeError with lua_cjson's message."""
    if len(doc) >= 2 and (not doc[0] or not doc[1]):
        raise JsonDecodeError("JSON parser does not support UTF-16 or UTF-32")
    parser = _Parser(doc)
    parser.next()
    value = parser.value_here()
    parser.next()
    if parser.kind != "T_END":
        parser.fail("the end")
    return value
