"""Malformed and hostile input over real sockets: respd answers as redis-server 7.0
does (byte for byte where Redis replies), never crashes or hangs, and other clients
are not affected."""

from __future__ import annotations

import socket
import time

import pytest

from compat.harness import RawConnection
from respd.resp import encode_request


def exchange(port: int, data: bytes, timeout: float = 3.0) -> bytes:
    """Send data, then read until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(0.3)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if received:
                    break
                continue
            except ConnectionResetError:
                break
            if not chunk:
                received += b"<closed>"
                break
            received += chunk
        return received


BAD_INPUTS = {
    "garbage_type": b"*1\r\n!x\r\n",
    "letters_as_count": b"*abc\r\n",
    "negative_bulk": b"*1\r\n$-5\r\n",
    "huge_bulk": b"*1\r\n$2147483648000\r\n",
    "huge_multibulk": b"*99999999999\r\n",
    "leading_zero_count": b"*01\r\n$4\r\nPING\r\n",
    "unbalanced_quotes": b'SET "a b\r\n',
    "after_good_commands": b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n",
    "simple_string_element": b"*2\r\n$4\r\nECHO\r\n+hi\r\n",
    "nested_array": b"*1\r\n*1\r\n$4\r\nPING\r\n",
    "binary_garbage": bytes(range(256)) * 4,
    "inline_nul": b"ECHO a\x00b\r\n",
    "quotes_inline_ok": b"ECHO \"a\\x00b\"\r\n",
    # RESP3 types in request position are inline commands (or protocol errors) to Redis.
    "resp3_map": b"%1\r\n$1\r\na\r\n$1\r\nb\r\n",
    "resp3_set": b"~1\r\n$4\r\nPING\r\n",
    "resp3_push": b">1\r\n$4\r\nPING\r\n",
    "resp3_scalars": b"#t\r\n,1.5\r\n_\r\n(123\r\n",
    "lone_cr_inline": b"PING\rPING\r\n",
    "lone_cr_count": b"*1\r\r\n$4\r\nPING\r\n",
    "empty_line_for_bulk": b"*2\r\n$4\r\nECHO\r\n\r\n",
    "nested_deep": b"*1\r\n" * 20 + b"$4\r\nPING\r\n",
    "plus_sign_count": b"*+1\r\n$4\r\nPING\r\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_same_reply_as_redis(name: str, redis_ref, respd) -> None:
    data = BAD_INPUTS[name]
    assert exchange(respd.port, data) == exchange(redis_ref.port, data)


def test_half_frames_then_disconnect_leave_server_healthy(respd) -> None:
    pieces = [b"*3\r\n$3\r\nSET\r\n$1\r\nk", b"*2\r\n$3\r\nGET\r\n$100000\r\nabc", b"*", b"PI"]
    for piece in pieces:
        with socket.create_connection(("127.0.0.1", respd.port)) as s:
            s.sendall(piece)
    probe = RawConnection(respd.port)
    probe.send([b"PING"])
    assert probe.read() == b"+PONG\r\n"
    probe.close()


def test_ten_thousand_pipelined_commands_in_one_write(respd) -> None:
    conn = RawConnection(respd.port)
    n = 10_000
    conn.send_raw(b"".join(encode_request([b"ECHO", b"%d" % i]) for i in range(n)))
    for i in range(n):
        assert conn.read(10) == b"$%d\r\n%d\r\n" % (len(b"%d" % i), i)
    conn.close()


def test_other_clients_unaffected_by_a_protocol_error(respd) -> None:
    bystander = RawConnection(respd.port)
    bystander.send([b"ECHO", b"before"])
    assert bystander.read() == b"$6\r\nbefore\r\n"
    assert exchange(respd.port, b"*1\r\n$x\r\n").startswith(b"-ERR Protocol error")
    bystander.send([b"ECHO", b"after"])
    assert bystander.read() == b"$5\r\nafter\r\n"
    bystander.close()


def test_query_buffer_limit_closes_the_client(spawn) -> None:
    server = spawn("respd", "--client-query-buffer-limit", "1mb")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"*2\r\n$4\r\nECHO\r\n$100000000\r\n")
        closed = False
        try:
            for _ in range(40):
                s.sendall(b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            s.settimeout(5)
            try:
                closed = s.recv(100) == b""
            except ConnectionResetError:
                closed = True
    assert closed
    probe = RawConnection(server.port)
    probe.send([b"PING"])
    assert probe.read() == b"+PONG\r\n"
    probe.close()
