"""High availability with real redis-sentinel 7.0: three Sentinels watch one respd
primary and two respd replicas; the primary is killed with SIGKILL under a steady
writer (redis-py's Sentinel client); a replica is promoted, the other follows it, the
writer continues, and no write acknowledged by ``WAIT 1`` is lost."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from typing import Any, Iterator

import pytest

from conftest import ServerProcess, free_port, missing, wait_until

pytestmark = pytest.mark.slow

NAME = "mymaster"


def _respd(port: int, *extra: str) -> ServerProcess:
    """A respd with a config file, so Sentinel's CONFIG REWRITE works as on Redis."""
    workdir = tempfile.mkdtemp(prefix="respd-ha-")
    conf = os.path.join(workdir, "respd.conf")
    with open(conf, "w") as f:
        f.write(f"port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\n")
    argv = [sys.executable, "-m", "respd", conf, *extra]
    return ServerProcess(argv, port, workdir).start()


def _sentinel(port: int, primary_port: int) -> ServerProcess:
    exe = shutil.which("redis-sentinel")
    if exe is None:
        missing("redis-sentinel")
    workdir = tempfile.mkdtemp(prefix="sentinel-")
    conf = os.path.join(workdir, "sentinel.conf")
    with open(conf, "w") as f:
        f.write(f"port {port}\nbind 127.0.0.1\ndaemonize no\n"
                f"sentinel monitor {NAME} 127.0.0.1 {primary_port} 2\n"
                f"sentinel down-after-milliseconds {NAME} 1000\n"
                f"sentinel failover-timeout {NAME} 6000\n"
                f"sentinel parallel-syncs {NAME} 2\n")
    return ServerProcess([exe or "redis-sentinel", conf], port, workdir).start()


@pytest.fixture
def cluster() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        primary = _respd(free_port())
        started.append(primary)
        for _ in range(2):
            started.append(_respd(free_port(), "--replicaof", "127.0.0.1", str(primary.port)))
        for _ in range(3):
            started.append(_sentinel(free_port(), primary.port))
        yield started
    finally:
        for server in started:
            server.stop()


def test_sentinel_fails_over_a_killed_respd_primary(cluster: list[ServerProcess]) -> None:
    from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError
    from redis.sentinel import Sentinel

    primary, replicas, sentinels = cluster[0], cluster[1:3], cluster[3:]
    for replica in replicas:
        r = replica.client()
        wait_until(lambda: r.info("replication")["master_link_status"] == "up",
                   "replicas attached")
    s0 = sentinels[0].client()
    # Every Sentinel sees both replicas and the other Sentinels (INFO, hello channel).
    wait_until(lambda: all(
        len(s.client().sentinel_slaves(NAME)) == 2
        and s.client().sentinel_master(NAME)["num-other-sentinels"] == 2 for s in sentinels),
        "Sentinels discover", timeout=20)

    sentinel = Sentinel([("127.0.0.1", s.port) for s in sentinels], socket_timeout=0.5)
    writer = sentinel.master_for(NAME, socket_timeout=0.5)
    acked: list[int] = []
    i = 0

    def write_some(n: int) -> int:
        """Writes with WAIT 1; returns how many failed (connection lost, read-only)."""
        nonlocal i
        failures = 0
        for _ in range(n):
            i += 1
            try:
                writer.set(f"w:{i}", i)
                if writer.execute_command("WAIT", 1, 500) >= 1:
                    acked.append(i)
            except (ConnectionError, TimeoutError, ReadOnlyError):
                failures += 1
                time.sleep(0.05)
        return failures

    assert write_some(100) == 0
    primary.stop("kill")
    killed_at = time.monotonic()
    recovered_at = None
    deadline = killed_at + 25
    while time.monotonic() < deadline:
        if write_some(5) == 0:
            recovered_at = time.monotonic()
            break
    assert recovered_at is not None, "the writer never reached a new primary"
    write_some(50)
    new_addr = s0.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", NAME)
    new_port = int(new_addr[1])
    assert new_port in (replicas[0].port, replicas[1].port)
    new_primary = next(r for r in replicas if r.port == new_port)
    other = next(r for r in replicas if r.port != new_port)
    np = new_primary.client()
    assert np.info("replication")["role"] == "master"
    # Nothing acknowledged by WAIT 1 was lost.
    values = np.mget([f"w:{n}" for n in acked])
    lost = [n for n, v in zip(acked, values) if v is None]
    assert lost == []
    # The other replica follows the new primary.
    o = other.client()
    wait_until(lambda: o.info("replication").get("master_port") == new_port
               and o.info("replication")["master_link_status"] == "up",
               "the other replica follows the new primary", timeout=20)
    # Sentinel rewrote the configurations (CONFIG REWRITE inside its MULTI/EXEC).
    with open(os.path.join(other.workdir, "respd.conf")) as f:
        assert f"replicaof 127.0.0.1 {new_port}" in f.read().splitlines()
    print(f"\nfailover: writer recovered {recovered_at - killed_at:.2f}s after SIGKILL; "
          f"{len(acked)} acknowledged writes, {len(lost)} lost")
