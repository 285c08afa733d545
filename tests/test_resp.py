"""The RESP request reader and reply encoder (respd/resp.py), without sockets."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respd.errors import ReplyError
from respd.resp import (
    NULL_ARRAY,
    OK,
    AttrSet,
    Map,
    Push,
    PyRequestParser,
    RequestReader,
    Status,
    Verbatim,
    encode,
    encode_request,
    split_args,
)

PIPELINE = (
    encode_request([b"SET", b"key", b"va\r\nlue"])
    + b"PING\r\n"
    + encode_request([b"GET", b"key"])
    + b'set "a b" \'c\' \\x41\r\n'
    + encode_request([b"ECHO", b""])
    + b"*0\r\n"
    + encode_request([b"X" * 5000])
)
EXPECTED = [
    [b"SET", b"key", b"va\r\nlue"],
    [b"PING"],
    [b"GET", b"key"],
    [b"set", b"a b", b"c", b"\\x41"],
    [b"ECHO", b""],
    [b"X" * 5000],
]


def feed_in_pieces(pieces: list[bytes]) -> tuple[list[list[bytes]], object]:
    reader = RequestReader()
    got: list[list[bytes]] = []
    error = None
    for piece in pieces:
        requests, error = reader.feed(piece)
        got += requests
        if error:
            break
    return got, error


def test_whole_pipeline_in_one_read() -> None:
    assert feed_in_pieces([PIPELINE]) == (EXPECTED, None)


def test_split_at_every_byte_boundary() -> None:
    for cut in range(1, len(PIPELINE)):
        got, error = feed_in_pieces([PIPELINE[:cut], PIPELINE[cut:]])
        assert error is None, cut
        assert got == EXPECTED, cut


def test_one_byte_at_a_time() -> None:
    got, error = feed_in_pieces([PIPELINE[i : i + 1] for i in range(len(PIPELINE))])
    assert (got, error) == (EXPECTED, None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.binary(max_size=40), min_size=1, max_size=6), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=400), max_size=10),
)
def test_any_multibulk_stream_any_chunking(requests: list[list[bytes]], cuts: list[int]) -> None:
    data = b"".join(encode_request(r) for r in requests)
    points = sorted({c % len(data) for c in cuts} - {0})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]
    assert feed_in_pieces(pieces) == (requests, None)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"*abc\r\n", "invalid multibulk length"),
        (b"*-\r\n", "invalid multibulk length"),
        (b"*01\r\n", "invalid multibulk length"),
        (b"*3000000000\r\n", "invalid multibulk length"),
        (b"*1\r\n$abc\r\n", "invalid bulk length"),
        (b"*1\r\n$-1\r\n", "invalid bulk length"),
        (b"*1\r\n$999999999999\r\n", "invalid bulk length"),
        (b"*1\r\n+PINGX\r\n:1\r\n", "expected '$', got '+'"),
        (b"*1\r\n:1\r\n", "expected '$', got ':'"),
        (b'SET "a\r\n', "unbalanced quotes in request"),
        (b"SET 'a'b\r\n", "unbalanced quotes in request"),
        (b"*" + b"1" * 70000, "too big mbulk count string"),
        (b"*1\r\n$" + b"1" * 70000, "too big bulk count string"),
        (b"PING" + b" " * 70000, "too big inline request"),
    ],
)
def test_protocol_errors_match_redis(data: bytes, message: str) -> None:
    requests, error = RequestReader().feed(data)
    assert requests == []
    assert error is not None and error.message == message


def test_good_requests_before_an_error_are_returned() -> None:
    data = encode_request([b"PING"]) + b"*1\r\n$x\r\n"
    requests, error = RequestReader().feed(data)
    assert requests == [[b"PING"]]
    assert error is not None and error.message == "invalid bulk length"


def test_huge_declared_length_refused_before_payload() -> None:
    reader = RequestReader(max_bulk_len=1024 * 1024)
    requests, error = reader.feed(b"*2\r\n$3\r\nGET\r\n$2000000\r\nabc")
    assert error is not None and error.message == "invalid bulk length"


def test_large_value_arrives_in_many_chunks() -> None:
    value = b"v" * 300_000
    data = encode_request([b"SET", b"k", value])
    reader = RequestReader()
    got = []
    for i in range(0, len(data), 1000):
        requests, error = reader.feed(data[i : i + 1000])
        assert error is None
        got += requests
    assert got == [[b"SET", b"k", value]]
    assert reader.buffered() == 0


def test_empty_multibulk_and_blank_inline_lines_are_skipped() -> None:
    assert RequestReader().feed(b"*0\r\n*-1\r\n\r\n  \r\nPING\r\n") == ([[b"PING"]], None)


@pytest.mark.parametrize(
    "line, args",
    [
        (b"a b  c", [b"a", b"b", b"c"]),
        (b'"a\\x41\\n" b', [b"aA\n", b"b"]),
        (b"'it\\'s' x", [b"it's", b"x"]),
        (b'foo"bar baz"', [b"foobar baz"]),
        (b'""', [b""]),
        (b"  ", []),
        (b'"\\q"', [b"q"]),
    ],
)
def test_split_args(line: bytes, args: list[bytes]) -> None:
    assert split_args(line) == args


@pytest.mark.parametrize("line", [b'"abc', b"'abc", b'"a"b', b"'a'b"])
def test_split_args_unbalanced(line: bytes) -> None:
    assert split_args(line) is None


@pytest.mark.parametrize(
    "value, resp2, resp3",
    [
        (b"hi", b"$2\r\nhi\r\n", b"$2\r\nhi\r\n"),
        (OK, b"+OK\r\n", b"+OK\r\n"),
        (12345678901, b":12345678901\r\n", b":12345678901\r\n"),
        (-1, b":-1\r\n", b":-1\r\n"),
        (None, b"$-1\r\n", b"_\r\n"),
        (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
        ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
        (ReplyError("ERR x"), b"-ERR x\r\n", b"-ERR x\r\n"),
        (0.1, b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
        (float("inf"), b"$3\r\ninf\r\n", b",inf\r\n"),
        (Map({b"a": 1}), b"*2\r\n$1\r\na\r\n:1\r\n", b"%1\r\n$1\r\na\r\n:1\r\n"),
        (AttrSet([b"x"]), b"*1\r\n$1\r\nx\r\n", b"~1\r\n$1\r\nx\r\n"),
        (Push([b"m"]), b"*1\r\n$1\r\nm\r\n", b">1\r\n$1\r\nm\r\n"),
        (True, b":1\r\n", b"#t\r\n"),
        (Verbatim(b"ab"), b"$2\r\nab\r\n", b"=6\r\ntxt:ab\r\n"),
        (Status(b"QUEUED"), b"+QUEUED\r\n", b"+QUEUED\r\n"),
    ],
)
def test_encode(value: object, resp2: bytes, resp3: bytes) -> None:
    assert encode(value, 2) == resp2
    assert encode(value, 3) == resp3


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=30).map(lambda b: bytes(c for c in b if c not in b"\"'\x00")))
def test_split_args_fast_path_agrees_with_full_scanner(line: bytes) -> None:
    # A trailing quoted word sends the same line through the character scanner.
    assert split_args(line + b' "x"') == [*split_args(line), b"x"]


# Bytes that matter to inline and multibulk framing, and to sdssplitargs.
_FRAMING_BYTES = list(b"ab1 *$\r\n\t\x0b\x0c\x00\"'\\")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_FRAMING_BYTES), max_size=40).map(bytes))
def test_reader_agrees_with_the_exact_parser_on_any_read(data: bytes) -> None:
    # Whatever fast path the reader takes for a read, the outcome is the transcription
    # of Redis's parser: the same requests, then the same error (or none).
    exact = PyRequestParser(512 * 1024 * 1024)
    exact.buf += data
    want, want_error = exact.parse()
    got, got_error = RequestReader().feed(data)
    assert got == want
    assert (got_error and got_error.message) == (want_error and want_error.message)


# --- what a header declares costs nothing; limits as Redis 7.0 has them ------------------------


def test_declared_count_costs_nothing_until_arguments_arrive() -> None:
    reader = RequestReader()
    assert reader.feed(b"*2000000000\r\n") == ([], None)
    assert reader.buffered() == 0
    assert reader.feed(b"$1\r\nx\r\n" * 3) == ([], None)
    assert reader.buffered() == 3  # the arguments received so far, nothing more


def test_a_big_request_in_small_reads_is_read_once() -> None:
    # Every byte is examined once: 200,000 arguments in 4 KB reads (quadratic before).
    n = 200_000
    data = b"*%d\r\n" % n + b"$1\r\nx\r\n" * n + encode_request([b"PING"])
    reader = RequestReader()
    got: list[list[bytes]] = []
    started = time.monotonic()
    for i in range(0, len(data), 4096):
        requests, error = reader.feed(data[i : i + 4096])
        assert error is None
        got += requests
    assert time.monotonic() - started < 10  # generous: seconds where it took minutes
    assert len(got) == 2 and len(got[0]) == n and got[1] == [b"PING"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"*11\r\n", "unauthenticated multibulk length"),
        (b"*1\r\n$16385\r\n", "unauthenticated bulk length"),
    ],
)
def test_unauthenticated_limits(data: bytes, message: str) -> None:
    reader = RequestReader()
    reader.auth_required = True
    requests, error = reader.feed(data)
    assert requests == [] and error is not None and error.message == message
    reader = RequestReader()
    reader.auth_required = True
    assert reader.feed(b"*10\r\n$16384\r\n") == ([], None)


def test_unauthenticated_reads_one_request_at_a_time() -> None:
    reader = RequestReader()
    reader.auth_required = True
    data = encode_request([b"AUTH", b"pw"]) + b"*11\r\n" + b"$1\r\nx\r\n" * 11
    assert reader.feed(data) == ([[b"AUTH", b"pw"]], None)
    reader.auth_required = False  # the AUTH succeeded
    requests, error = reader.feed(b"")
    assert error is None and requests == [[b"x"] * 11]


@pytest.mark.parametrize("data, got", [(b"*1\r\n\r\n", " "), (b"*1\r\n\n\r\n", " "),
                                       (b"*2\r\n$4\r\nECHO\r\nx\r\n", "x")])
def test_expected_dollar_names_the_byte_found(data: bytes, got: str) -> None:
    requests, error = RequestReader().feed(data)
    assert error is not None and error.message == f"expected '$', got '{got}'"
