"""The real redis-cli against respd: one-shot commands, output modes (--raw, --csv, -3),
-n, --scan, --pipe mass insertion and the interactive prompt (through a pseudo-terminal,
so linenoise, COMMAND DOCS hints and the prompt are exercised).  Where the output does
not depend on ids or times, the same invocation runs against redis-server and the two
outputs must be identical."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from typing import Any, Callable

import pytest

from conftest import ServerProcess

WAIT = 10.0  # seconds: the bound on every redis-cli run


def _cli(tool: Callable[[str], str], port: int, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run([tool("redis-cli"), "-p", str(port), *args], input=stdin,
                          capture_output=True, timeout=WAIT)
    return (done.stdout + done.stderr).decode("utf-8", "replace")


@pytest.fixture
def cli(tool: Callable[[str], str], respd: ServerProcess, r: Any) -> Callable[..., str]:
    """Run redis-cli against the (flushed) session respd."""
    return lambda *args, stdin=None: _cli(tool, respd.port, *args, stdin=stdin)


def test_one_shot_and_output_modes(cli: Callable[..., str]) -> None:
    assert cli("set", "greeting", "hello world") == "OK\n"
    assert cli("get", "greeting") == "hello world\n"  # not a tty: raw by default
    assert cli("--no-raw", "get", "greeting") == '"hello world"\n'
    assert cli("--no-raw", "get", "missing") == "(nil)\n"
    assert cli("rpush", "l", "a", "b c") == "2\n"
    assert cli("--csv", "lrange", "l", "0", "-1") == '"a","b c"\n'
    assert cli("--raw", "lrange", "l", "0", "-1") == "a\nb c\n"
    assert cli("--no-raw", "incr", "greeting") == (
        "(error) ERR value is not an integer or out of range\n")


def test_database_option_and_scan(cli: Callable[..., str]) -> None:
    assert cli("-n", "3", "set", "in-three", "x") == "OK\n"
    assert cli("-n", "3", "dbsize") == "1\n"
    assert cli("dbsize") == "0\n"
    cli("mset", *[part for i in range(30) for part in (f"user:{i}", str(i))])
    cli("set", "other", "x")
    scanned = cli("--scan", "--pattern", "user:*").split()
    assert sorted(scanned) == sorted(f"user:{i}" for i in range(30))
    assert len(cli("--scan").split()) == 31


def test_pipe_mass_insertion(cli: Callable[..., str], r: Any) -> None:
    payload = b"".join(b"SET bulk:%d %d\r\n" % (i, i) for i in range(2000))
    payload += b"INCR bulk:1\r\nINCR not-a-number-key-is-fine\r\n"
    out = cli("--pipe", stdin=payload)
    assert "errors: 0, replies: 2002" in out
    assert r.get("bulk:1999") == b"1999" and r.get("bulk:1") == b"2"


def test_resp3_mode(cli: Callable[..., str]) -> None:
    cli("hset", "h", "field", "value")
    assert cli("-3", "hgetall", "h") == "field value\n"
    assert cli("-3", "--no-raw", "get", "missing") == "(nil)\n"
    assert cli("-3", "config", "get", "maxmemory") == "maxmemory 0\n"
    assert "redis_version:7.0.15" in cli("-3", "info", "server")


def test_same_output_as_redis_server(tool: Callable[[str], str], respd: ServerProcess,
                                     redis_ref: ServerProcess, r: Any) -> None:
    runs = [
        ("set", "k", "v"), ("--no-raw", "get", "k"), ("--csv", "mget", "k", "nokey"),
        ("--no-raw", "lpush", "k", "x"), ("-3", "--no-raw", "hgetall", "nohash"),
        ("--no-raw", "config", "get", "maxmemory"), ("-3", "config", "get", "hz"),
        ("--no-raw", "command", "getkeys", "mset", "a", "1", "b", "2"),
        ("command", "docs", "get"), ("-3", "command", "docs", "get"),
        ("--no-raw", "client", "getname"), ("--no-raw", "slowlog", "foo"),
        ("-n", "99", "ping"),
    ]
    for args in runs:
        want = _cli(tool, redis_ref.port, *args)
        got = _cli(tool, respd.port, *args)
        assert got == want, args
    _cli(tool, redis_ref.port, "del", "k")


# --- interactive mode ----------------------------------------------------------------------

class Terminal:
    """redis-cli on a pseudo-terminal; answers linenoise's cursor-position queries."""

    def __init__(self, argv: list[str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        env = dict(os.environ, TERM="xterm", HOME=os.environ.get("TMPDIR", "/tmp"))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     env=env, close_fds=True)
        os.close(slave)
        self.output = b""

    def read_until(self, marker: bytes, start: int = 0, timeout: float = WAIT) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.output[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{marker!r} not seen in {self.output[-500:]!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                break
            self.output += data
            if b"\x1b[6n" in data:
                os.write(self.master, b"\x1b[1;1R")
        return self.output

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def run(self, line: bytes, expect: bytes, prompt: bytes) -> None:
        """Type a command at a fresh prompt (linenoise drops input typed before it
        switches the terminal to raw mode) and wait for its output and the next prompt."""
        start = len(self.output)
        self.type(line + b"\r")
        self.read_until(expect, start)
        self.read_until(prompt, start + self.output[start:].find(expect))

    def close(self) -> int:
        try:
            return self.proc.wait(WAIT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(WAIT)
            os.close(self.master)


def _hints(output: bytes) -> list[bytes]:
    """The grey hint texts linenoise drew."""
    return re.findall(rb"\x1b\[0;90;49m(.*?)\x1b\[0m", output)


def test_interactive_session_with_hints(tool: Callable[[str], str], respd: ServerProcess,
                                        r: Any) -> None:
    term = Terminal([tool("redis-cli"), "-p", str(respd.port)])
    try:
        prompt = b"127.0.0.1:%d> " % respd.port
        startup = term.read_until(prompt)
        assert b"Unknown type" not in startup and b"rror" not in startup
        term.type(b"set k ")
        term.read_until(b"value [NX|XX]")  # the hint built from COMMAND DOCS
        term.run(b"v", b"OK", prompt)
        term.run(b"client info", b"cmd=client|info", prompt)
        term.run(b"rpush l a b", b"(integer) 2", prompt)
        term.run(b"lrange l 0 -1", b'2) "b"', prompt)
        term.run(b"config get maxmemory", b'2) "0"', prompt)
        term.run(b"incr l", b"(error) WRONGTYPE", prompt)
        term.type(b"quit\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.close()
    assert any(h.startswith(b" key value") for h in _hints(term.output))
    assert r.get("k") == b"v"
