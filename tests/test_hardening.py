"""Regression tests for the protocol and fairness hardening (issue #12): a request
header costs nothing in proportion to what it declares, a reader failure is a protocol
error and never a dropped transport, one client's traffic cannot strand another's
replies or hold the event loop, abusive glob patterns answer at once, and error replies
do not leak memory.  Replies are compared with redis-server 7.0 byte for byte."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from typing import Any

import pytest

from benchmarks.bystander import Bystander, send_frames
from respd.resp import encode_request
from respd.server import PASS_MIN_REQUESTS, Connection, Server

# --- helpers -------------------------------------------------------------------------------


def exchange(port: int, data: bytes, timeout: float = 2.0) -> bytes:
    """Send data, then read until the server closes (marked) or goes quiet.  A reset is
    a close: Redis reads 16 KB at a time and closes with unread input (the kernel then
    resets), respd has read it all; the client gets the same bytes either way."""
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
                received += b"<closed>"
                break
            if not chunk:
                received += b"<closed>"
                break
            received += chunk
        return received


def ping_seconds(port: int, limit: float = 10.0) -> float:
    """How long a PING on a fresh connection takes to be answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as s:
        started = time.monotonic()
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert s.recv(64) == b"+PONG\r\n"
        return time.monotonic() - started


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_and_close(port: int, data: bytes, how: str) -> socket.socket | None:
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(data)
    if how == "open":
        return s
    if how == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return None


# --- 1. a header alone costs nothing in proportion to what it declares -------------------------

HEADERS = [
    b"*2000000000\r\n",
    b"*99999999999\r\n",
    b"*1\r\n$-7\r\n",
    b"*2147483647\r\n$3\r\nSET\r\n",
    b"*100000\r\n$3\r\nSET\r\n$1\r\nk\r\n",
    b"*65536\r\n" + b"$0\r\n\r\n" * 5,
    b"*1024\r\n" + b"$1\r\nx\r\n" * 10,
    b"*1048576\r\n$1\r\nx\r\n",
    b"*1\r\n$536870912\r\nabc",
]


@pytest.mark.parametrize("how", ["open", "close", "reset"])
@pytest.mark.parametrize("header", HEADERS)
def test_a_header_does_not_stall_other_clients(respd, header: bytes, how: str) -> None:
    held = send_and_close(respd.port, header, how)
    try:
        # A bystander is answered at once (these took 1-5.6 s when the header was
        # handed to a parser that allocates what it declares).
        assert ping_seconds(respd.port) < 1.0
    finally:
        if held is not None:
            held.close()


@pytest.mark.parametrize("header", HEADERS)
def test_header_replies_match_redis(redis_ref, respd, header: bytes) -> None:
    assert exchange(respd.port, header) == exchange(redis_ref.port, header)


def test_declared_sizes_cost_no_memory(spawn) -> None:
    server = spawn("respd")
    before = rss_kb(server.proc.pid)
    held = [send_and_close(server.port, header, "open")
            for header in (b"*2147483647\r\n$3\r\nSET\r\n", b"*1048576\r\n",
                           b"*1\r\n$536870912\r\nabc") for _ in range(30)]
    assert ping_seconds(server.port) < 2.0
    grown = rss_kb(server.proc.pid) - before
    for s in held:
        assert s is not None
        s.close()
    assert grown < 32 * 1024, f"RSS grew by {grown} kB for 90 headers"


# --- limits, byte for byte with Redis -----------------------------------------------------------

LIMITS = [
    b"*2147483648\r\n",
    b"*2147483647\r\n",
    b"*1\r\n$536870913\r\n",
    b"*1\r\n$\r\n",
    b"*\r\n",
    b"ECHO " + b"x" * 70_000 + b"\r\n",
    b"ECHO " + b"x" * 100_000,
    b"*1\r\n$" + b"1" * 70_000,
]


@pytest.mark.parametrize("data", LIMITS, ids=range(len(LIMITS)))
def test_limits_match_redis(redis_ref, respd, data: bytes) -> None:
    assert exchange(respd.port, data) == exchange(redis_ref.port, data)


UNAUTHENTICATED = [
    b"*11\r\n",
    b"*10\r\n$4\r\nECHO\r\n",
    b"*1\r\n$16385\r\n",
    b"*1\r\n$16384\r\n",
    b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n",
    b"AUTH pw\r\n*11\r\n$4\r\nECHO\r\n",  # authenticated by the time the header is read
    b"AUTH pw\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + b"x" * 20_000 + b"\r\n",
    b"AUTH nope\r\n*11\r\n",
]


def test_unauthenticated_limits_match_redis(spawn) -> None:
    ours = spawn("respd", "--requirepass", "pw")
    theirs = spawn("redis", "--requirepass", "pw")
    for data in UNAUTHENTICATED:
        assert exchange(ours.port, data) == exchange(theirs.port, data), data[:40]


def test_query_buffer_limit_closes_like_redis(spawn) -> None:
    ours = spawn("respd", "--client-query-buffer-limit", "1mb")
    theirs = spawn("redis", "--client-query-buffer-limit", "1mb")
    data = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n" + b"x" * 1_500_000
    assert exchange(ours.port, data) == exchange(theirs.port, data)
    assert "Closing client that reached max query buffer length" in ours.log()
    assert ping_seconds(ours.port) < 2.0


# --- 3. an empty line where '$' is expected --------------------------------------------------

EXPECTED_DOLLAR = [b"*1\r\n\r\n", b"*2\r\n$4\r\nECHO\r\n\r\n", b"*1\r\n\xff\r\n",
                   b"*1\r\nx\r\n", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n\n\r\n"]


@pytest.mark.parametrize("data", EXPECTED_DOLLAR)
def test_expected_dollar_errors_match_redis(redis_ref, spawn, data: bytes) -> None:
    server = spawn("respd")
    assert exchange(server.port, data) == exchange(redis_ref.port, data)
    log = server.log()
    assert "Traceback" not in log and "Fatal error" not in log


def test_a_reader_failure_is_a_protocol_error(caplog) -> None:
    # A bug in the reader costs the client a protocol error and its connection, and is
    # logged at warning level: never an exception escaping to the transport.
    server = Server()
    conn, transport = connect(server)

    def broken(data: bytes) -> Any:
        raise IndexError("reader bug")

    conn.client.reader.feed = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="respd"):
        conn.data_received(b"*1\r\n$4\r\nPING\r\n")
    assert transport.take() == b"-ERR Protocol error: unreadable request\r\n"
    assert transport.closed
    assert any("reader failed" in r.getMessage() and r.exc_info for r in caplog.records)


# --- 2. replies queued for one client always leave, whatever another client does --------------


class CaptureTransport:
    """Enough of a transport for a Connection; keeps what was written."""

    def __init__(self, fail: bool = False) -> None:
        self.data = bytearray()
        self.closed = False
        self.fail = fail
        self.reading = True
        self.protocol: Any = None

    def write(self, data: bytes) -> None:
        if self.fail:
            raise RuntimeError("unable to perform operation: the handler is closed")
        self.data += data

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> Any:
        return None

    def get_protocol(self) -> Any:
        return self.protocol

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


def connect(server: Server, fail: bool = False) -> tuple[Connection, CaptureTransport]:
    conn = Connection(server)
    transport = CaptureTransport(fail)
    transport.protocol = conn
    conn.connection_made(transport)
    return conn, transport


def test_a_failing_write_does_not_strand_other_clients(caplog) -> None:
    server = Server()
    broken, broken_transport = connect(server, fail=True)
    healthy, healthy_transport = connect(server)
    with caplog.at_level(logging.WARNING, logger="respd"):
        for _ in range(3):
            # Both have replies queued when one flush writes them.
            broken.client.out.append(b"+PONG\r\n")
            server.pending_writes[broken.client] = None
            healthy.data_received(b"*1\r\n$4\r\nPING\r\n")
            assert healthy_transport.take() == b"+PONG\r\n"
    assert broken_transport.closed
    assert any("writing its replies failed" in r.getMessage() for r in caplog.records)


def test_bystander_keeps_its_replies_under_malformed_traffic(respd) -> None:
    bystander = Bystander(respd.port, give_up=2.0).start()
    try:
        senders = [threading.Thread(target=send_frames, args=(respd.port, seed, 400))
                   for seed in (1, 2)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        time.sleep(0.1)
    finally:
        bystander.stop()
    assert bystander.missing == 0, bystander.errors[:5]
    assert len(bystander.latencies) > 5
    assert ping_seconds(respd.port) < 2.0


# --- fairness: one client's long pipeline is served in shares ----------------------------------


def test_a_long_pipeline_runs_in_shares_in_order() -> None:
    async def scenario() -> None:
        server = Server()
        server.loop = asyncio.get_running_loop()
        conn, transport = connect(server)
        n = 2000
        conn.data_received(b"".join(encode_request([b"ECHO", b"%d" % i]) for i in range(n)))
        # One pass ran a share (about 16 KB of requests), the rest waits, and the
        # client is not read meanwhile.
        assert PASS_MIN_REQUESTS <= n - len(conn.client.pending) < n // 2
        assert not transport.reading
        for _ in range(n):
            if not conn.client.pending:
                break
            await asyncio.sleep(0)
        assert not conn.client.pending and transport.reading
        assert transport.take() == b"".join(b"$%d\r\n%d\r\n" % (len(b"%d" % i), i)
                                            for i in range(n))

    asyncio.run(scenario())


def test_protocol_error_after_a_long_pipeline_comes_last() -> None:
    async def scenario() -> None:
        server = Server()
        server.loop = asyncio.get_running_loop()
        conn, transport = connect(server)
        conn.data_received(encode_request([b"PING"]) * 500 + b"*1\r\n$x\r\n")
        for _ in range(500):
            if transport.closed:
                break
            await asyncio.sleep(0)
        assert transport.take() == (b"+PONG\r\n" * 500
                                    + b"-ERR Protocol error: invalid bulk length\r\n")
        assert transport.closed

    asyncio.run(scenario())


def test_bystander_answered_while_a_client_pipelines_a_lot(respd) -> None:
    n = 50_000
    heavy = socket.create_connection(("127.0.0.1", respd.port), timeout=10)
    try:
        heavy.sendall(b"".join(encode_request([b"SET", b"k%d" % (i % 100), b"v" * 100])
                               for i in range(n)))
        assert ping_seconds(respd.port) < 2.0
        expected = b"+OK\r\n" * n
        got = b""
        while len(got) < len(expected):
            chunk = heavy.recv(1 << 20)
            assert chunk
            got += chunk
        assert got == expected
    finally:
        heavy.close()


# --- 5. abusive glob patterns ---------------------------------------------------------------


def test_abusive_keys_pattern_answers_like_redis(redis_ref, respd) -> None:
    pattern = b"a*" * 18 + b"b"
    results = []
    for server in (redis_ref, respd):
        client = server.client(socket_timeout=20)
        client.flushall()
        client.set(b"a" * 120, b"1")
        started = time.monotonic()
        results.append(client.keys(pattern))
        assert time.monotonic() - started < 2.0
        # The same matcher serves SCAN MATCH and PSUBSCRIBE.
        assert client.scan(0, match=pattern, count=1000) == (0, [])
        client.flushall()
        client.close()
    assert results[0] == results[1] == []


# --- 4. error replies do not leak -------------------------------------------------------------


def test_error_replies_leave_memory_flat(spawn) -> None:
    server = spawn("respd")
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    conn.sendall(encode_request([b"RPUSH", b"list", b"x"]))
    assert conn.recv(64) == b":1\r\n"
    request = encode_request([b"APPEND", b"list", b"v" * 500])
    reply = (b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")

    def errors(count: int) -> None:
        batch = 1000
        for _ in range(count // batch):
            conn.sendall(request * batch)
            want = len(reply) * batch
            got = b""
            while len(got) < want:
                chunk = conn.recv(1 << 20)
                assert chunk
                got += chunk
            assert got == reply * batch

    errors(10_000)  # warm up the allocator
    before = rss_kb(server.proc.pid)
    errors(100_000)
    grown = rss_kb(server.proc.pid) - before
    conn.close()
    assert grown < 4 * 1024, f"RSS grew by {grown} kB over 100,000 error replies"


def test_unauthenticated_client_flooding_replies_is_closed_like_redis(spawn) -> None:
    # An unauthenticated client that sends without reading: Redis closes it once its
    # unsent replies pass 16 KB + 1 KB; a few replies are answered normally.
    ours = spawn("respd", "--requirepass", "pw")
    theirs = spawn("redis", "--requirepass", "pw")
    for count in (10, 100, 3000):
        data = b"PING\r\n" * count
        assert exchange(ours.port, data) == exchange(theirs.port, data), count
    assert exchange(ours.port, b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"


def test_unauthenticated_then_authenticated_pipeline_like_redis(spawn) -> None:
    ours = spawn("respd", "--requirepass", "pw")
    theirs = spawn("redis", "--requirepass", "pw")
    data = b"PING\r\n" * 100 + b"AUTH pw\r\n" + encode_request([b"PING"]) * 5000
    replies = []
    for server in (ours, theirs):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(data)
            want = len(b"-NOAUTH Authentication required.\r\n") * 100 + 5 + 7 * 5000
            got = b""
            while len(got) < want:
                chunk = s.recv(1 << 20)
                assert chunk
                got += chunk
            replies.append(got)
    assert replies[0] == replies[1]
    assert replies[0].endswith(b"+OK\r\n" + b"+PONG\r\n" * 5000)
