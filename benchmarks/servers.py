"""Start redis-server and respd side by side for benchmarks, with the same settings
(persistence off unless asked), optionally pinned to a CPU, and read their CPU time."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin_prefix(cpu: int | None) -> list[str]:
    if cpu is None or shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu)]


@dataclass
class BenchServer:
    name: str  # "redis" or "respd"
    port: int
    proc: subprocess.Popen[bytes]
    workdir: str
    extra: list[str] = field(default_factory=list)

    def cpu_seconds(self) -> float:
        """utime + stime of the server process, from /proc."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.proc.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def client(self, **kwargs):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start(name: str, *extra: str, cpu: int | None = None,
          env: dict[str, str] | None = None) -> BenchServer:
    """redis-server (name "redis") or respd started with this interpreter (``env`` e.g. a
    PYTHONPATH naming another source tree)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix=f"bench-{name}-")
    common = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              *extra]
    if name == "redis":
        argv = ["redis-server", *common]
    else:
        argv = [sys.executable, "-m", "respd", *common]
    proc = subprocess.Popen(pin_prefix(cpu) + argv, cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return BenchServer(name, port, proc, workdir, list(extra))
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not start")


def start_pair(*extra: str, cpu: int | None = 0) -> tuple[BenchServer, BenchServer]:
    """(redis-server, respd) with the same options, both on the same CPU."""
    return start("redis", *extra, cpu=cpu), start("respd", *extra, cpu=cpu)
