"""Redis's number rules, not Python's.

Redis parses integers with ``string2ll`` (no spaces, no '+', no leading zeros, no '_'),
doubles with ``strtod`` (hex floats and 'inf' accepted, a leading space or NaN refused)
and INCRBYFLOAT arithmetic in C ``long double`` printed with ``%.17Lf``.  Python's
``int()`` and ``float()`` disagree with all of these, so every conversion of client input
goes through this module.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from respd.errors import NAN_OR_INF, NOT_FLOAT, NOT_INTEGER, ReplyError

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# string2ll: optional '-', then either "0" alone or a digit 1-9 followed by digits.
_INT_RE = re.compile(rb"-?[1-9][0-9]*|0")


def parse_int(raw: bytes) -> int | None:
    """string2ll: the int64 value of ``raw`` or None if Redis would refuse it."""
    if raw.isdigit() and len(raw) < 19 and (raw[0] != 48 or len(raw) == 1):
        return int(raw)  # the usual case: few digits, no sign, no leading zero
    if len(raw) > 20 or not _INT_RE.fullmatch(raw):
        return None
    value = int(raw)
    if value < INT64_MIN or value > INT64_MAX:
        return None
    return value


def int64(raw: bytes, err: ReplyError = NOT_INTEGER) -> int:
    if raw.isdigit() and len(raw) < 19 and (raw[0] != 48 or len(raw) == 1):
        return int(raw)  # parse_int's usual case, spared a call (INCR and the counts)
    value = parse_int(raw)
    if value is None:
        raise err
    return value


# strtod's grammar: decimal with optional exponent, hex with optional binary exponent,
# inf/infinity.  'nan' parses but Redis refuses NaN, so it is not in the grammar.
_DEC_RE = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_RE = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_INF_RE = re.compile(rb"[+-]?(?:inf|infinity)", re.IGNORECASE)


def _exact_rational(raw: bytes) -> Fraction | None:
    """The exact value strtod/strtold read, or None; +-inf is reported by the callers."""
    if _DEC_RE.fullmatch(raw):
        text = raw.decode()
        if text[-1] == ".":
            text += "0"
        if text.lstrip("+-").startswith("."):
            sign = text[0] if text[0] in "+-" else ""
            text = sign + "0" + text.lstrip("+-")
        return Fraction(text.replace(".e", ".0e").replace(".E", ".0E"))
    if _HEX_RE.fullmatch(raw):
        return Fraction(_hex_to_float_exact(raw))
    return None


def _hex_to_float_exact(raw: bytes) -> Fraction:
    text = raw.decode().lower()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")[2:]
    exp = 0
    if "p" in text:
        text, exp_text = text.split("p")
        exp = int(exp_text)
    whole, _, frac = text.partition(".")
    mantissa = int((whole or "0") + frac, 16) if (whole or frac) else 0
    return sign * Fraction(mantissa) * Fraction(2) ** (exp - 4 * len(frac))


def parse_double(raw: bytes) -> float | None:
    """Redis's getDoubleFromObject: strtod over the whole string, no leading space, no NaN,
    no overflow to +-inf and no underflow to zero from a non-zero literal."""
    if raw.isdigit() and len(raw) < 16:
        return float(raw)  # the usual score: a few digits, exact in a double
    if not raw or raw[:1].isspace():
        return None
    if _INF_RE.fullmatch(raw):
        return -math.inf if raw[:1] == b"-" else math.inf
    if _HEX_RE.fullmatch(raw):
        exact = _exact_rational(raw)
        assert exact is not None
        try:
            value = float(exact)
        except OverflowError:
            return None
        if value == 0.0 and exact != 0:
            return None
        return value
    if not _DEC_RE.fullmatch(raw):
        return None
    value = float(raw)
    if math.isinf(value):
        return None
    if value == 0.0 and any(c in b"123456789" for c in raw.split(b"e")[0].split(b"E")[0]):
        return None  # ERANGE underflow
    return value


def double(raw: bytes, err: ReplyError = NOT_FLOAT) -> float:
    value = parse_double(raw)
    if value is None:
        raise err
    return value


def format_double(value: float) -> bytes:
    """addReplyDouble / the zset score format: %.17g, 'inf' and '-inf'."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    return b"%.17g" % value


# --- long double arithmetic for INCRBYFLOAT / HINCRBYFLOAT -------------------------------
# x86-64 long double: 64-bit significand, exponent range far beyond what matters here
# except for overflow to infinity, which Redis reports as an error anyway.
_LD_MANT_BITS = 64
_LD_MAX_EXP = 16384


def _round_to_long_double(value: Fraction) -> Fraction | None:
    """Round an exact rational to the nearest 64-bit-significand binary value (ties to
    even), as the FPU does after each long double operation; None on overflow."""
    if value == 0:
        return Fraction(0)
    sign = -1 if value < 0 else 1
    mag = abs(value)
    exp = mag.numerator.bit_length() - mag.denominator.bit_length()
    if Fraction(2) ** exp > mag:
        exp -= 1
    if exp >= _LD_MAX_EXP:
        return None
    shift = _LD_MANT_BITS - 1 - exp
    scaled = mag * Fraction(2) ** shift
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator or (twice == scaled.denominator and q & 1):
        q += 1
    return sign * Fraction(q) / Fraction(2) ** shift


def parse_long_double(raw: bytes) -> Fraction | None:
    """strtold as Redis uses it (string2ld): whole string, no leading space; None on error.
    Infinities come back as None too: the callers then refuse NaN/Infinity results."""
    if not raw or raw[:1].isspace() or len(raw) > 5 * 1024:
        return None
    if _INF_RE.fullmatch(raw):
        return None
    exact = _exact_rational(raw)
    if exact is None:
        return None
    return _round_to_long_double(exact)


def long_double_add(current: bytes | None, increment: bytes) -> bytes:
    """INCRBYFLOAT's arithmetic and printing; raises Redis's errors."""
    base = Fraction(0) if current is None else parse_long_double(current)
    if base is None:
        raise NOT_FLOAT
    inc = parse_long_double(increment)
    if inc is None:
        if _INF_RE.fullmatch(increment):
            raise NAN_OR_INF
        raise NOT_FLOAT
    total = _round_to_long_double(base + inc)
    if total is None:
        raise NAN_OR_INF
    return format_long_double(total)


def format_long_double(value: Fraction) -> bytes:
    """'%.17Lf' with trailing zeros (and a bare '.') removed, '-0' shown as '0'."""
    negative = value < 0
    scaled = abs(value) * 10**17
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator or (twice == scaled.denominator and q & 1):
        q += 1
    digits = str(q).rjust(18, "0")
    text = digits[:-17] + "." + digits[-17:]
    text = text.rstrip("0").rstrip(".")
    if negative and text != "0":
        text = "-" + text
    return text.encode()
