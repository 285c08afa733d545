"""Writes lost across a Sentinel failover, with and without WAIT (used by
benchmarks.replication).

A primary, two replicas of the same kind (respd or redis-server) and three real
redis-sentinel processes (quorum 2, down-after 1000 ms).  A steady writer follows the
primary through redis-py's ``Sentinel`` client, sending pipelines of ``SET w:<n> <n>``;
a write counts as acknowledged when the primary answered OK and, in the WAIT mode, when
``WAIT 1 100`` after the pipeline reported a replica.  The primary gets SIGKILL after a
second of writing; the writer keeps going until it has written to the new primary for a
second.  Reported: acknowledged writes missing on the new primary, and the time from
the kill to the first acknowledged write on the new primary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

from benchmarks.servers import BenchServer, free_port, start

NAME = "bench"
PIPELINE = 10
TIMEOUT = 60.0


@dataclass
class Loss:
    acknowledged: int
    lost: int
    recovery_s: float


class _Sentinel:
    def __init__(self, primary_port: int) -> None:
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="bench-sentinel-")
        conf = os.path.join(self.workdir, "sentinel.conf")
        with open(conf, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\ndaemonize no\n"
                    f"sentinel monitor {NAME} 127.0.0.1 {primary_port} 2\n"
                    f"sentinel down-after-milliseconds {NAME} 1000\n"
                    f"sentinel failover-timeout {NAME} 5000\n")
        exe = shutil.which("redis-sentinel")
        if exe is None:
            raise RuntimeError("redis-sentinel is needed for the failover figures")
        self.proc = subprocess.Popen([exe, conf], cwd=self.workdir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(port=self.port, socket_timeout=1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _wait(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    import redis

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except redis.RedisError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def _ready(sentinels: list[_Sentinel]) -> bool:
    for s in sentinels:
        state = s.client().sentinel_master(NAME)
        if state["num-slaves"] != 2 or state["num-other-sentinels"] != 2:
            return False
    return True


def run_once(name: str, use_wait: bool) -> Loss:
    import redis
    from redis.sentinel import Sentinel

    servers: list[BenchServer] = []
    sentinels: list[_Sentinel] = []
    try:
        # Redis 7.0 would wait 5 s for more replicas before its diskless sync.
        options = ("--repl-diskless-sync-delay", "0") if name == "redis" else ()
        primary = start(name, *options, cpu=0)
        servers.append(primary)
        for _ in range(2):
            servers.append(start(name, "--replicaof", "127.0.0.1", str(primary.port), cpu=1))
        for replica in servers[1:]:
            _wait(lambda: replica.client().info("replication")["master_link_status"] == "up",
                  "the replicas to synchronise")
        sentinels = [_Sentinel(primary.port) for _ in range(3)]
        _wait(lambda: _ready(sentinels), "the Sentinels to discover the replicas")
        sentinel = Sentinel([("127.0.0.1", s.port) for s in sentinels], socket_timeout=0.5)
        writer = sentinel.master_for(NAME, socket_timeout=0.5)
        acked: list[int] = []
        killed_at: list[float] = []
        first_after: list[float] = []
        stop = threading.Event()

        def write() -> None:
            n = 0
            while not stop.is_set():
                batch = list(range(n + 1, n + PIPELINE + 1))
                n += PIPELINE
                try:
                    pipe = writer.pipeline(transaction=False)
                    for i in batch:
                        pipe.set(f"w:{i}", i)
                    if use_wait:
                        pipe.execute_command("WAIT", 1, 100)
                    replies = pipe.execute()
                except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
                    time.sleep(0.02)
                    continue
                if use_wait and replies[-1] < 1:
                    continue
                acked.extend(batch)
                if killed_at and not first_after:
                    first_after.append(time.monotonic())

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(1.0)
        primary.proc.kill()
        primary.proc.wait()
        killed_at.append(time.monotonic())
        _wait(lambda: bool(first_after) and time.monotonic() - first_after[0] > 1.0,
              "the writer to continue on a new primary")
        stop.set()
        thread.join()
        host, port = sentinel.discover_master(NAME)
        new = redis.Redis(host=host, port=port)
        lost = 0
        for start_at in range(0, len(acked), 1000):
            chunk = acked[start_at:start_at + 1000]
            lost += sum(v is None for v in new.mget([f"w:{i}" for i in chunk]))
        return Loss(len(acked), lost, first_after[0] - killed_at[0])
    finally:
        for s in sentinels:
            s.stop()
        for server in servers:
            server.stop()
