"""How long one well-behaved client waits while others load the server.

A bystander connection sends PING every 10 ms and times each reply, while either

- ``pipeline``: 50 clients pipeline 100 SETs of 1 KB at full speed
  (``redis-benchmark -c 50 -P 100 -d 1000 -t set``), or
- ``fuzz``: a seeded stream of malformed and mutated frames arrives over many short
  connections, closed politely, abruptly or with a reset (see ``frames``),

on respd and on redis-server side by side.  Prints p50/p99/max of the bystander's wait.

    python -m benchmarks.bystander [pipeline] [fuzz] [--frames N] [--seed S]
    python -m benchmarks.bystander --soak        # fuzz with 1,000,000 frames

The fuzz machinery is shared with tests/test_fuzz_protocol.py.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

INTERVAL = 0.010  # the bystander's PING period


# --- the bystander -------------------------------------------------------------------------


@dataclass
class Bystander:
    """A thread sending PING every 10 ms on one connection and timing each reply.  A
    reply that never comes is recorded in ``missing`` (the thread waits at most
    ``give_up`` seconds for one, then counts it and reconnects)."""

    port: int
    give_up: float = 5.0
    latencies: list[float] = field(default_factory=list)
    missing: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "Bystander":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.give_up + 5)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.give_up)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _reconnect(self) -> socket.socket:
        while True:
            try:
                return self._connect()
            except OSError as exc:
                self.missing += 1
                self.errors.append(f"reconnect: {exc!r}")
                if self._stop.wait(0.1):
                    raise

    def _run(self) -> None:
        sock = self._connect()
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                    got = b""
                    while len(got) < 7:
                        ready, _, _ = select.select([sock], [], [],
                                                    self.give_up - (time.perf_counter() - started))
                        if not ready:
                            raise TimeoutError("no reply")
                        chunk = sock.recv(64)
                        if not chunk:
                            raise ConnectionError("closed by the server")
                        got += chunk
                    if got != b"+PONG\r\n":
                        raise ValueError(f"unexpected reply {got!r}")
                    self.latencies.append(time.perf_counter() - started)
                except (OSError, ValueError) as exc:
                    self.missing += 1
                    self.errors.append(repr(exc))
                    sock.close()
                    sock = self._reconnect()
                pause = INTERVAL - (time.perf_counter() - started)
                if pause > 0:
                    self._stop.wait(pause)
        finally:
            sock.close()

    def summary(self) -> dict[str, float]:
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]
        return {"n": len(self.latencies), "missing": self.missing,
                "p50": ms[len(ms) // 2], "p99": ms[min(len(ms) - 1, len(ms) * 99 // 100)],
                "max": ms[-1]}


def format_summary(name: str, s: dict[str, float]) -> str:
    return (f"{name:6s} bystander PING: n={s['n']:.0f} missing={s['missing']:.0f} "
            f"p50={s['p50']:.2f} ms p99={s['p99']:.2f} ms max={s['max']:.2f} ms")


# --- malformed traffic -----------------------------------------------------------------------

# Commands the valid frames are built from: nothing that stops, pauses, saves, reconfigures
# or slows the server on purpose (the mutations are screened against _FORBIDDEN below).
_SAFE_COMMANDS: list[list[bytes]] = [
    [b"PING"], [b"ECHO", b"hello"], [b"SET", b"fz:k1", b"v" * 20], [b"GET", b"fz:k1"],
    [b"INCR", b"fz:n"], [b"LPUSH", b"fz:l", b"a", b"b"], [b"LRANGE", b"fz:l", b"0", b"3"],
    [b"HSET", b"fz:h", b"f", b"v"], [b"SADD", b"fz:s", b"m"], [b"ZADD", b"fz:z", b"1", b"m"],
    [b"DEL", b"fz:k2"], [b"APPEND", b"fz:k3", b"xyz"], [b"MGET", b"fz:k1", b"fz:k2"],
    [b"EXPIRE", b"fz:k3", b"100"], [b"TTL", b"fz:k3"], [b"SUBSCRIBE", b"fz:c"],
    [b"PSUBSCRIBE", b"fz:*"], [b"MULTI"], [b"EXEC"], [b"HELLO", b"3"],
    [b"CLIENT", b"SETNAME", b"fz"], [b"KEYS", b"fz:[a-z]*"], [b"SCAN", b"0", b"MATCH", b"fz*"],
    [b"TYPE", b"fz:k1"], [b"STRLEN", b"fz:k1"], [b"LTRIM", b"fz:l", b"0", b"9"],
]
# Screened out of every frame (case-insensitively): commands that would stop or stall the
# server, or change settings, if a mutation happened to spell them.
_FORBIDDEN = (b"SHUTDOWN", b"DEBUG", b"SAVE", b"FLUSH", b"PAUSE", b"CONFIG", b"ACL",
              b"REPLICAOF", b"SLAVEOF", b"FAILOVER", b"EVAL", b"FUNCTION", b"SCRIPT",
              b"SWAPDB", b"MIGRATE", b"SYNC", b"WAIT", b"MONITOR", b"KILL", b"SLEEP",
              b"BLPOP", b"BRPOP", b"BLMOVE", b"BZPOP", b"XREAD", b"BLMPOP", b"BZMPOP",
              b"BRPOPLPUSH", b"RESTORE", b"MODULE", b"LATENCY", b"CLUSTER", b"AUTH",
              b"KEYS", b"SCAN")
# KEYS and SCAN are sent only as the valid frames above (_is_safe_valid): a mutation could
# widen their pattern to the whole keyspace, which is slow by design, not a fault.

_ABSURD: list[bytes] = [
    b"*2000000000\r\n", b"*99999999999\r\n", b"*1\r\n$-7\r\n", b"*2147483647\r\n$3\r\nSET\r\n",
    b"*100000\r\n$3\r\nSET\r\n$1\r\nk\r\n", b"*65536\r\n" + b"$0\r\n\r\n" * 5,
    b"*1024\r\n" + b"$1\r\nx\r\n" * 10, b"*1\r\n$2147483648000\r\n", b"*-1\r\n", b"*-99\r\n",
    b"*1\r\n$999999999999999999999\r\n", b"*1048577\r\n", b"*1048576\r\n$1\r\nx\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n", b"*1\r\n$536870912\r\nabc",
    b"*+5\r\n", b"*1\r\n$+4\r\nPING\r\n", b"*01\r\n$4\r\nPING\r\n", b"*1\r\n$04\r\nPING\r\n",
    b"*1\r\n\r\n", b"*2\r\n$4\r\nECHO\r\n\r\n", b"*1\r\n$\r\n", b"*\r\n", b"$4\r\nPING\r\n",
]
_RESP3_TYPES = [b"%1\r\n$1\r\na\r\n$1\r\nb\r\n", b"~1\r\n$4\r\nPING\r\n", b">1\r\n$4\r\nPING\r\n",
                b"#t\r\n", b",1.5\r\n", b"_\r\n", b"(12345678901234567890\r\n",
                b"=8\r\ntxt:PING\r\n", b"|1\r\n+a\r\n+b\r\n", b"!3\r\nERR\r\n", b":5\r\n",
                b"+PING\r\n", b"-ERR\r\n"]


def _encode(args: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _valid(rng: random.Random) -> bytes:
    args = rng.choice(_SAFE_COMMANDS)
    if rng.random() < 0.3:
        return b" ".join(args) + b"\r\n"  # inline form
    return _encode(args)


def _mutated(rng: random.Random) -> bytes:
    data = bytearray(_valid(rng))
    kind = rng.randrange(5)
    if kind == 0:  # flip bytes
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:  # truncate
        del data[rng.randrange(1, len(data)):]
    elif kind == 2:  # splice two frames at random points
        other = _valid(rng)
        data = data[: rng.randrange(len(data))] + other[rng.randrange(len(other)):]
    elif kind == 3:  # insert a lone CR or LF
        data.insert(rng.randrange(len(data)), rng.choice(b"\r\n"))
    else:  # delete a byte
        del data[rng.randrange(len(data))]
    return bytes(data)


def _nested(rng: random.Random) -> bytes:
    depth = rng.randint(1, 50)
    return b"*1\r\n" * depth + _encode([b"PING"])


def _inline_odd(rng: random.Random) -> bytes:
    return rng.choice([b'SET "a b\r\n', b"ECHO 'x\r\n", b'ECHO "a"b\r\n', b"ECHO \"\\x4\r\n",
                       b"\r\n\r\n\r\n", b"\r", b"PING\r", b"PING\n", b"\x00PING\r\n",
                       b"ECHO a\x00b\r\n"])


def _huge_inline(rng: random.Random) -> bytes:
    size = rng.choice([64 * 1024 - 10, 64 * 1024 + 10, 80 * 1024 + 10, 200 * 1024])
    line = b"ECHO " + b"x" * size
    return line + (b"\r\n" if rng.random() < 0.5 else b"")


def _random_bytes(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randint(1, 300))


_GENERATORS = [(_random_bytes, 10), (_mutated, 40), (lambda rng: rng.choice(_ABSURD), 15),
               (_nested, 5), (lambda rng: rng.choice(_RESP3_TYPES), 8), (_inline_odd, 10),
               (_huge_inline, 2), (_valid, 10)]
_KINDS = [g for g, weight in _GENERATORS for _ in range(weight)]


def frames(seed: int) -> Iterator[bytes]:
    """An endless, reproducible stream of hostile frames."""
    rng = random.Random(seed)
    while True:
        frame = rng.choice(_KINDS)(rng)
        upper = frame.upper()
        if any(word in upper for word in _FORBIDDEN) and not _is_safe_valid(frame):
            continue
        yield frame


_SAFE_ENCODED = frozenset(_encode(a) for a in _SAFE_COMMANDS) | frozenset(
    b" ".join(a) + b"\r\n" for a in _SAFE_COMMANDS)


def _is_safe_valid(frame: bytes) -> bool:
    return frame in _SAFE_ENCODED


# --- sending them ----------------------------------------------------------------------------


def _close(sock: socket.socket, how: int) -> None:
    if how == 0:  # polite: half-close, read what comes for a moment
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(0.05)
            while sock.recv(65536):
                pass
        except OSError:
            pass
    elif how == 2:  # reset: SO_LINGER 0 turns close() into an RST
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def send_frames(port: int, seed: int, count: int) -> int:
    """Send ``count`` frames: 1-3 per short connection, each connection closed politely,
    abruptly or with a reset; every 200 frames a burst of 50 connections holding half
    frames at once.  Returns the number of connections opened."""
    rng = random.Random(seed ^ 0x5EED)
    stream = frames(seed)
    sent = connections = 0
    while sent < count:
        if sent % 200 == 0 and sent:
            connections += _burst(port, stream, rng)
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.01)
            continue
        connections += 1
        try:
            for _ in range(rng.randint(1, 3)):
                sock.sendall(next(stream))
                sent += 1
        except OSError:
            pass
        _close(sock, rng.randrange(3))
    return connections


def _burst(port: int, stream: Iterator[bytes], rng: random.Random) -> int:
    socks = []
    for _ in range(50):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            frame = next(stream)
            sock.sendall(frame[: rng.randint(1, len(frame))])
            socks.append(sock)
        except OSError:
            pass
    for sock in socks:
        _close(sock, rng.randrange(1, 3))
    return len(socks)


def fuzz_in_child(port: int, seed: int, count: int, workers: int = 2) -> None:
    """Run send_frames in ``workers`` child processes (so the sender's own work does not
    stall the bystander thread's clock) and wait for them."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.bystander", "--send",
                               str(port), str(seed + i), str(count // workers)], cwd=root)
             for i in range(workers)]
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError("fuzz sender failed")


def pipeline_load(port: int, requests: int = 1_000_000) -> None:
    """redis-benchmark -c 50 -P 100 -d 1000 -t set."""
    exe = shutil.which("redis-benchmark")
    if exe is None:
        raise RuntimeError("redis-benchmark not found")
    subprocess.run([exe, "-p", str(port), "-c", "50", "-P", "100", "-d", "1000", "-t", "set",
                    "-n", str(requests), "-q"], check=True, stdout=subprocess.DEVNULL)


def measure(port: int, load: str, frames_count: int, seed: int) -> dict[str, float]:
    bystander = Bystander(port).start()
    time.sleep(0.2)
    try:
        if load == "pipeline":
            pipeline_load(port)
        else:
            fuzz_in_child(port, seed, frames_count)
    finally:
        bystander.stop()
    return bystander.summary()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("loads", nargs="*", default=["pipeline", "fuzz"])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--soak", action="store_true", help="fuzz with 1,000,000 frames")
    parser.add_argument("--only", choices=["respd", "redis"])
    parser.add_argument("--send", nargs=3, type=int, metavar=("PORT", "SEED", "COUNT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.send:
        send_frames(*args.send)
        return
    from benchmarks import servers

    if args.soak:
        args.loads, args.frames = ["fuzz"], 1_000_000
    names = [args.only] if args.only else ["respd", "redis"]
    for load in args.loads:
        for name in names:
            server = servers.start(name)
            try:
                rss_before = server.rss_bytes()
                started = time.monotonic()
                s = measure(server.port, load, args.frames, args.seed)
                alive = server.proc.poll() is None
                print(f"[{load}] {format_summary(name, s)} "
                      f"({time.monotonic() - started:.0f} s, alive={alive}, RSS "
                      f"{rss_before / 2**20:.0f} -> "
                      f"{server.rss_bytes() / 2**20 if alive else 0:.0f} MB)", flush=True)
            finally:
                server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
