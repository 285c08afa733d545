"""What the narrated demos in examples/ share: a private respd, and narration.

The demos run as scripts (``python examples/x.py``), so Python puts examples/ on
``sys.path`` and ``from demo_support import ...`` works from any working directory.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from typing import Iterator

import redis

START_TIMEOUT = 15.0  # seconds to wait for a fresh respd to answer PING
STOP_TIMEOUT = 10.0  # seconds to wait for it to exit after SIGTERM


def say(text: str = "") -> None:
    # Flushed at once, so the narration interleaves correctly with the demo's threads
    # and child processes, and shows up promptly when piped.
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_respd(port: int, *extra_args: str, cwd: str | None = None) -> subprocess.Popen[bytes]:
    """Start ``python -m respd`` on ``port`` without persistence, and return once it
    answers PING; exit the demo if it does not within START_TIMEOUT."""
    proc = subprocess.Popen([sys.executable, "-m", "respd", "--port", str(port), "--save", "",
                             "--appendonly", "no", *extra_args],
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        # A server that exited (bad option, port taken) will never answer: stop waiting.
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                return proc
            except redis.ConnectionError:
                time.sleep(0.05)
    finally:
        client.close()
    stop_respd(proc)
    raise SystemExit("respd did not start")


def stop_respd(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server from start_respd; a no-op if it has already exited."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:  # never leave a stray server behind
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def respd_server(*extra_args: str, port: int | None = None) -> Iterator[int]:
    """Yield the port of a server for the demo.

    With ``port`` (a demo's ``--port`` option), use the server already running there and
    leave it alone.  Otherwise start a private respd on a free port, with ``extra_args``
    added to its command line, and stop it on exit.
    """
    if port is not None:
        yield port
        return
    port = free_port()
    proc = start_respd(port, *extra_args)
    try:
        yield port
    finally:
        stop_respd(proc)
