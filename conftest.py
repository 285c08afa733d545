"""Fixtures shared by tests/ and compat/: real servers on free loopback ports.

- ``respd``: one respd process for the session (``python -m respd``), FLUSHALL'd per test
  through the ``r``/``r3`` clients (redis-py, RESP2 and RESP3).
- ``redis_ref``: the reference ``redis-server`` 7.0.x for the session.  Without it the
  tests that need it skip, unless RESPD_REQUIRE_REFERENCE=1, which makes them fail.
- ``spawn``: start extra servers (respd or redis-server) with their own options; they
  are stopped when the test ends.
- ``tool(name)``: the path of redis-cli, redis-benchmark, redis-check-aof...; missing
  tools skip or fail like the reference server.
- ``pair`` / ``each``: the reference server and respd side by side (one pair per test
  module), for byte-for-byte comparisons with the raw-protocol helpers ``req``, ``pipe``,
  ``exchange``, ``command`` and ``read_reply_stream``.
- ``eventually`` / ``wait_until``: bounded polling for state another party brings about.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import re
import time
from typing import Any, Callable, Iterator

import pytest

from compat.harness import RawConnection
from respd.resp import encode_request

REQUIRE_REFERENCE = os.environ.get("RESPD_REQUIRE_REFERENCE") == "1"
REFERENCE_VERSION_PREFIX = "7.0."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def missing(what: str) -> None:
    """Skip, or fail when the reference tools are required (CI)."""
    if REQUIRE_REFERENCE:
        pytest.fail(f"{what} is required (RESPD_REQUIRE_REFERENCE=1) but not available")
    pytest.skip(f"{what} not available")


def eventually(predicate: Callable[[], Any], timeout: float = 5.0) -> bool:
    """True once predicate() holds; bounded so a regression fails instead of hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> None:
    """Assert that predicate() comes to hold within timeout seconds."""
    assert eventually(predicate, timeout), f"timed out waiting for {what}"


def require_module(name: str) -> Any:
    """importorskip that fails instead under RESPD_REQUIRE_REFERENCE=1 (CI installs the
    optional libraries the tests use)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"Python package {name!r}")


class ServerProcess:
    """A server child process on 127.0.0.1:port, ready once it answers PING."""

    def __init__(self, argv: list[str], port: int, workdir: str) -> None:
        self.argv = argv
        self.port = port
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "server.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> "ServerProcess":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.argv}\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return self
                time.sleep(0.05)
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.argv}\n{self.log()}")

    def log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def stop(self, sig: str = "term") -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            if sig == "kill":
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def client(self, **kwargs: Any) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)


def respd_argv(port: int, *extra: str) -> list[str]:
    # DEBUG is off by default, as in Redis; its own test suite turns it on the same way.
    return [sys.executable, "-m", "respd", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", *extra]


def redis_argv(port: int, *extra: str) -> list[str]:
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", *extra]


def reference_available() -> bool:
    exe = shutil.which("redis-server")
    if exe is None:
        return False
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    return f"v={REFERENCE_VERSION_PREFIX}" in out


def _start(kind: str, extra: tuple[str, ...], workdir: str | None = None) -> ServerProcess:
    port = free_port()
    workdir = workdir or tempfile.mkdtemp(prefix=f"{kind}-")
    argv = respd_argv(port, *extra) if kind == "respd" else redis_argv(port, *extra)
    return ServerProcess(argv, port, workdir).start()


@pytest.fixture(scope="session")
def respd() -> Iterator[ServerProcess]:
    server = _start("respd", ())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_ref() -> Iterator[ServerProcess]:
    if not reference_available():
        missing("redis-server 7.0.x")
    server = _start("redis", ())
    yield server
    server.stop()


@pytest.fixture
def r(respd: ServerProcess) -> Iterator[Any]:
    client = respd.client(protocol=2)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def r3(respd: ServerProcess) -> Iterator[Any]:
    client = respd.client(protocol=3)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., ServerProcess]]:
    """spawn("respd", "--appendonly", "yes", workdir=...) → a started server."""
    started: list[ServerProcess] = []

    def start(kind: str = "respd", *extra: str, workdir: str | None = None) -> ServerProcess:
        if kind == "redis" and not reference_available():
            missing("redis-server 7.0.x")
        server = _start(kind, extra, workdir)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def tool() -> Callable[[str], str]:
    def find(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            missing(name)
        assert path is not None
        return path

    return find


# --- raw protocol, and the reference server and respd side by side ------------------------

END = b"zz-end-zz"  # PING END answers ...END\r\n in every mode (RESP2/3, subscribed)


def req(*args: Any) -> bytes:
    return encode_request([a if isinstance(a, bytes) else str(a).encode() for a in args])


def pipe(*cmds: Any) -> bytes:
    """Requests from "SET a 1" strings (split on spaces) or argument lists."""
    return b"".join(req(*c.split()) if isinstance(c, str) else req(*c) for c in cmds)


def read_reply_stream(sock: socket.socket, until: bytes | None = None,
                      quiet: float = 0.3, limit: float = 5.0) -> bytes:
    """Read until ``until`` ends the data, the server closes, or (without ``until``)
    nothing more comes for ``quiet`` seconds; never longer than ``limit``."""
    received = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if until is not None and received.endswith(until):
            break
        sock.settimeout(quiet)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            if until is None:
                break
            continue  # the awaited reply may follow a pause or a block
        except ConnectionResetError:
            received += b"<reset>"
            break
        if not chunk:
            received += b"<closed>"
            break
        received += chunk
    return received


def exchange(port: int, pieces: bytes | list[bytes], until: bytes | None = None,
             gap: float = 0.03) -> bytes:
    """Send the pieces (separate writes, so separate reads on the server) on a fresh
    connection and return everything the server answered."""
    if isinstance(pieces, bytes):
        pieces = [pieces]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for i, piece in enumerate(pieces):
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break  # closed (QUIT, protocol error): read what it answered
            if i < len(pieces) - 1:
                time.sleep(gap)
        return read_reply_stream(s, until)


def command(port: int, *args: Any) -> bytes:
    """One command on a fresh connection: its whole reply frame."""
    conn = RawConnection(port)
    try:
        conn.send([a if isinstance(a, bytes) else str(a).encode() for a in args])
        return conn.read(5.0)
    finally:
        conn.close()


def client_with_id(port: int, *setup: bytes) -> tuple[socket.socket, bytes]:
    """A raw connection and its CLIENT ID, the ``setup`` requests then sent on it (their
    replies left unread)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.sendall(req("CLIENT", "ID"))
    cid = read_reply_stream(conn, b"\r\n", quiet=2.0)[1:-2]
    for data in setup:
        conn.sendall(data)
    return conn, cid


def normalise(data: bytes) -> bytes:
    """Client ids (HELLO's map) differ between servers."""
    return re.sub(rb"(\$2\r\nid\r\n):\d+", rb"\1:ID", data)


def drain(sock: socket.socket, quiet: float = 0.3) -> bytes:
    return read_reply_stream(sock, None, quiet=quiet)


class Pair:
    """The reference server and respd, started alike (fixture ``pair``, one per module)."""

    def __init__(self, redis: ServerProcess, respd: ServerProcess) -> None:
        self.redis = redis
        self.respd = respd

    def both(self, data: bytes | list[bytes],
             until: bytes | None = None) -> tuple[bytes, bytes]:
        """What each server answers to ``data`` on a fresh connection, from empty."""
        out = []
        for server in (self.redis, self.respd):
            command(server.port, "FLUSHALL")
            out.append(normalise(exchange(server.port, data, until)))
        return out[0], out[1]


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    if not reference_available():
        missing("redis-server 7.0.x")
    options = ("--enable-debug-command", "yes")
    redis = _start("redis", options)
    try:
        respd = _start("respd", options)
    except Exception:
        redis.stop()
        raise
    yield Pair(redis, respd)
    respd.stop()
    redis.stop()


@pytest.fixture(params=["redis", "respd"])
def each(request: Any, pair: Pair) -> ServerProcess:
    """One of the two servers: the assertions hold on both."""
    server = pair.redis if request.param == "redis" else pair.respd
    command(server.port, "FLUSHALL")
    return server


class Lockstep:
    """The same commands to redis-server and respd on one connection each, raw replies
    compared (fixture ``lockstep``: the reference and the session respd, flushed)."""

    def __init__(self, redis_port: int, respd_port: int) -> None:
        from compat.harness import RawConnection

        self.redis, self.respd = RawConnection(redis_port), RawConnection(respd_port)

    def both(self, *argv: Any) -> tuple[bytes, bytes]:
        raw = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        replies = []
        for conn in (self.redis, self.respd):
            conn.send(raw)
            replies.append(conn.read())
        return replies[0], replies[1]

    def same(self, *argv: Any) -> bytes:
        want, got = self.both(*argv)
        assert want == got, (" ".join(map(str, argv))[:200], want[:300], got[:300])
        return want

    def close(self) -> None:
        self.redis.close()
        self.respd.close()


@pytest.fixture
def lockstep(redis_ref: ServerProcess, respd: ServerProcess) -> Iterator[Lockstep]:
    p = Lockstep(redis_ref.port, respd.port)
    p.same("FLUSHALL")
    yield p
    p.close()
