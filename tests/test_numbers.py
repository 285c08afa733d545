"""Redis's number rules (respd/numbers.py): string2ll, strtod, long double INCRBYFLOAT."""

from __future__ import annotations

import math

import pytest

from respd.numbers import format_double, long_double_add, parse_double, parse_int


@pytest.mark.parametrize(
    "raw, value",
    [
        (b"0", 0), (b"-1", -1), (b"123", 123),
        (b"9223372036854775807", 2**63 - 1), (b"-9223372036854775808", -(2**63)),
        (b"9223372036854775808", None), (b"01", None), (b"+1", None), (b" 1", None),
        (b"1 ", None), (b"1_0", None), (b"-0", None), (b"", None), (b"1.0", None),
        (b"0x10", None), (b"-", None),
    ],
)
def test_parse_int(raw: bytes, value: int | None) -> None:
    assert parse_int(raw) == value


@pytest.mark.parametrize(
    "raw, value",
    [
        (b"1.5", 1.5), (b".5", 0.5), (b"5.", 5.0), (b"-1e3", -1000.0), (b"+2", 2.0),
        (b"0x10", 16.0), (b"0x1p-2", 0.25), (b"inf", math.inf), (b"-Infinity", -math.inf),
        (b"1_0", None), (b" 1", None), (b"1 ", None), (b"nan", None), (b"", None),
        (b"1e400", None), (b"1e-400", None), (b"0x", None), (b"abc", None),
    ],
)
def test_parse_double(raw: bytes, value: float | None) -> None:
    assert parse_double(raw) == value


@pytest.mark.parametrize(
    "value, text",
    [(0.1, b"0.10000000000000001"), (1.0, b"1"), (math.inf, b"inf"), (-math.inf, b"-inf"),
     (1e20, b"1e+20"), (-2.5, b"-2.5")],
)
def test_format_double(value: float, text: bytes) -> None:
    assert format_double(value) == text


@pytest.mark.parametrize(
    "current, increment, result",
    [
        (b"10.5", b"0.1", b"10.6"),  # long double arithmetic, not double
        (None, b"0x10", b"16"),
        (b"3", b"1.0e3", b"1003"),
        (b"5", b"-5", b"0"),
        (b"1", b"0.00000000000000001", b"1.00000000000000001"),
        (b"-1.5", b"0.25", b"-1.25"),
    ],
)
def test_incrbyfloat_arithmetic(current: bytes | None, increment: bytes, result: bytes) -> None:
    assert long_double_add(current, increment) == result


def test_incrbyfloat_agrees_with_reference(redis_ref, respd) -> None:
    steps = [b"0.1", b"0.2", b"1e10", b"-3.3", b"0x1p-3", b"123456789.123456789", b"1e-5"]
    results = []
    for server in (redis_ref, respd):
        client = server.client()
        client.delete("f")
        results.append([client.incrbyfloat("f", float(s) if b"x" not in s else 0.125)
                        for s in steps])
        raw = client.execute_command("INCRBYFLOAT", "f", "0x10")
        results[-1].append(raw)
        client.delete("f")
        client.close()
    assert results[0] == results[1]
