"""The cost of durability: redis-benchmark SET/INCR throughput with appendonly no,
appendfsync everysec and appendfsync always, on respd and on redis-server for reference;
then, under everysec, what kill -9 loses (acknowledged writes are in the OS before
the reply, so nothing) and how long written data waits for fsync (what a machine crash
could lose).

    .venv/bin/python -m benchmarks.persistence [--requests 20000] [--clients 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from benchmarks.run import redis_benchmark
from benchmarks.servers import BenchServer, start

MODES = {
    "appendonly no": ("--appendonly", "no"),
    "everysec": ("--appendonly", "yes", "--appendfsync", "everysec"),
    "always": ("--appendonly", "yes", "--appendfsync", "always"),
}
TESTS = {"SET": ["-t", "set"], "INCR": ["-t", "incr"]}


def throughput(requests: int, clients: int, rounds: int) -> dict[tuple[str, str, str], float]:
    """Median req/s per (server, mode, test); modes are interleaved round by round so a
    busy machine skews them alike."""
    servers = {(name, mode): start(name, *options)
               for name in ("redis", "respd") for mode, options in MODES.items()}
    samples: dict[tuple[str, str, str], list[float]] = {}
    try:
        for _ in range(rounds):
            for (name, mode), server in servers.items():
                for test, args in TESTS.items():
                    rate = redis_benchmark(server, args, requests, 1, clients)
                    samples.setdefault((name, mode, test), []).append(rate)
    finally:
        for server in servers.values():
            server.stop()
    return {key: statistics.median(rates) for key, rates in samples.items()}


def _raw_set(sock: socket.socket, n: int) -> bool:
    key = b"k%d" % n
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n" % (len(key), key))
    return sock.recv(16) == b"+OK\r\n"


def _write_until_dead(port: int, seconds: float) -> int:
    """SET k0, k1, ... one at a time; returns how many were acknowledged."""
    acked = 0
    deadline = time.monotonic() + seconds
    try:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            while time.monotonic() < deadline and _raw_set(sock, acked):
                acked += 1
    except OSError:
        pass
    return acked


def everysec_kill9(seconds: float) -> tuple[int, int]:
    """kill -9 respd (everysec) under writes; restart on the same files:
    (acknowledged writes, acknowledged writes missing after the restart)."""
    server = start("respd", *MODES["everysec"])
    try:
        threading.Timer(seconds, os.kill, (server.proc.pid, signal.SIGKILL)).start()
        acked = _write_until_dead(server.port, seconds + 5)
        server.proc.wait(10)
        restarted = _restart_in(server)
        kept = len(restarted.client().keys("k*"))
        restarted.proc.terminate()
        restarted.proc.wait(10)
    finally:
        server.stop()
    return acked, max(acked - kept, 0)


def everysec_exposure(seconds: float) -> float:
    """The longest time written data waited for its fsync under everysec (what a machine
    crash could lose), from respd's own log line at shutdown, in ms."""
    server = start("respd", *MODES["everysec"], "--logfile", "respd.log")
    try:
        _write_until_dead(server.port, seconds)
        server.proc.terminate()
        server.proc.wait(10)
        with open(os.path.join(server.workdir, "respd.log")) as f:
            line = [x for x in f if "waited at most" in x][-1]
    finally:
        server.stop()
    return float(line.split("waited at most ")[1].split()[0])


def _restart_in(old: BenchServer) -> BenchServer:
    """respd again on the killed server's port and directory."""
    argv = [sys.executable, "-m", "respd", "--port", str(old.port), "--bind", "127.0.0.1",
            "--save", "", *MODES["everysec"]]
    proc = subprocess.Popen(argv, cwd=old.workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", old.port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return BenchServer("respd", old.port, proc, old.workdir)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("respd did not restart")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kills", type=int, default=5, help="everysec kill -9 trials")
    args = parser.parse_args()
    results = throughput(args.requests, args.clients, args.rounds)
    print(f"{'server':8} {'mode':14} {'test':5} {'req/s':>10} {'vs no':>7}")
    for (name, mode, test), rate in results.items():
        base = results[(name, "appendonly no", test)]
        print(f"{name:8} {mode:14} {test:5} {rate:10.0f} {rate / base:7.2f}")
    for i in range(args.kills):
        acked, lost = everysec_kill9(1.0 + 0.37 * i)
        print(f"everysec kill -9: {acked} writes acknowledged, {lost} lost")
    print(f"everysec fsync exposure (machine crash): written data waited at most "
          f"{everysec_exposure(5.0):.0f} ms for fsync")

if __name__ == "__main__":
    main()
