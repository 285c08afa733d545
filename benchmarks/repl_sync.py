"""Replica lag under load and full-sync time, respd and redis-server in the same roles
(used by benchmarks.replication).

Lag: redis-benchmark writes to a primary with one replica attached while this process
samples both offsets (``master_repl_offset`` on the primary, then ``slave_repl_offset``
on the replica: the difference is the stream bytes the replica has not applied yet) and
times ``WAIT 1 5000`` from a second connection; after the load stops, the time the
replica takes to catch up.

Full sync: a primary holding N string keys (``DEBUG POPULATE``), an empty server told
``REPLICAOF``; the time until its link is up with every key loaded.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from dataclasses import dataclass

from benchmarks.run import LOADGEN_CPU
from benchmarks.servers import BenchServer, pin_prefix, start

TIMEOUT = 600.0


def _options(name: str) -> tuple[str, ...]:
    # Redis 7.0 waits 5 s for more replicas before a diskless sync; respd starts at once.
    return ("--repl-diskless-sync-delay", "0") if name == "redis" else ()


def _poll(predicate, what: str, interval: float = 0.01) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > TIMEOUT:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


def _link_up(replica: BenchServer, keys: int | None = None) -> bool:
    c = replica.client()
    info = c.info("replication")
    if info.get("master_link_status") != "up" or info.get("master_sync_in_progress"):
        return False
    return keys is None or c.dbsize() == keys


@dataclass
class Lag:
    samples: int
    lag_median: float  # bytes
    lag_max: int
    wait_median_ms: float
    wait_p99_ms: float
    wait_max_ms: float
    catch_up_ms: float
    writes_per_s: float


def _field(info: bytes, name: bytes) -> int:
    return int(info.split(name + b":", 1)[1].split(b"\r\n", 1)[0])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def lag(primary_name: str, replica_name: str, requests: int, pipeline: int) -> Lag:
    primary = start(primary_name, *_options(primary_name), cpu=0)
    replica = start(replica_name, "--replicaof", "127.0.0.1", str(primary.port), cpu=1)
    try:
        _poll(lambda: _link_up(replica), "the replica to attach")
        p, r, waiter = primary.client(), replica.client(), primary.client()
        argv = pin_prefix(LOADGEN_CPU) + [
            "redis-benchmark", "-p", str(primary.port), "-n", str(requests), "-c", "50",
            "-P", str(pipeline), "-r", "100000", "-t", "set", "-q", "--csv"]
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        lags: list[int] = []
        waits: list[float] = []

        def wait_loop() -> None:
            while load.poll() is None:
                t = time.perf_counter()
                waiter.execute_command("WAIT", 1, 5000)
                waits.append((time.perf_counter() - t) * 1000)
                time.sleep(0.02)

        thread = threading.Thread(target=wait_loop)
        started = time.monotonic()
        thread.start()
        # INFO goes to both servers before either reply is read: the two offsets are
        # taken at (nearly) the same moment.
        pc, rc = p.connection_pool.get_connection(), r.connection_pool.get_connection()
        while load.poll() is None:
            pc.send_command("INFO", "replication")
            rc.send_command("INFO", "replication")
            ahead = _field(pc.read_response(), b"master_repl_offset")
            lags.append(max(0, ahead - _field(rc.read_response(), b"slave_repl_offset")))
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        thread.join()
        target = p.info("replication")["master_repl_offset"]
        catch_up = _poll(lambda: r.info("replication")["slave_repl_offset"] >= target,
                         "the replica to catch up", interval=0.001)
        load.communicate()
        return Lag(len(lags), statistics.median(lags) if lags else 0.0, max(lags, default=0),
                   statistics.median(waits) if waits else 0.0,
                   _percentile(waits, 0.99) if waits else 0.0, max(waits, default=0.0),
                   catch_up * 1000, requests / elapsed)
    finally:
        replica.stop()
        primary.stop()


def full_sync(primary_name: str, replica_name: str, keys: int) -> tuple[float, float]:
    """(seconds from REPLICAOF to the link up with every key, the primary's CPU seconds
    in that time)."""
    primary = start(primary_name, *_options(primary_name), "--enable-debug-command", "yes",
                    cpu=0)
    replica = start(replica_name, cpu=1)
    try:
        p = primary.client()
        p.execute_command("DEBUG", "POPULATE", keys)
        assert p.dbsize() == keys
        cpu0 = primary.cpu_seconds()
        started = time.monotonic()
        replica.client().execute_command("REPLICAOF", "127.0.0.1", primary.port)
        _poll(lambda: _link_up(replica, keys), "the full sync", interval=0.02)
        return time.monotonic() - started, primary.cpu_seconds() - cpu0
    finally:
        replica.stop()
        primary.stop()
