"""MISCONF after a failed background save (stop-writes-on-bgsave-error), and what a
replica does with its primary's writes meanwhile (replica-ignore-disk-write-errors),
side by side with redis-server 7.0.15.  A save fails here because its directory is
removed under the running server."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import Lockstep, ServerProcess, eventually, wait_until

MISCONF_SCRIPT = "return redis.{}('set', 'k', 'v')"


def _failed_bgsave(server: ServerProcess, data_dir: Path) -> None:
    shutil.rmtree(data_dir)  # the disk went away
    client = server.client()
    client.bgsave()
    wait_until(lambda: client.info("persistence")["rdb_bgsave_in_progress"] == 0
               and client.info("persistence")["rdb_last_bgsave_status"] == "err",
               "the failed BGSAVE")


def _whole_log(server: ServerProcess) -> str:
    return Path(server.log_path).read_text(errors="replace")  # a crash report is long


def _start_failing(spawn: Any, tmp_path: Path, kind: str, *options: str) -> ServerProcess:
    data_dir = tmp_path / kind / "data"
    data_dir.mkdir(parents=True)
    server = spawn(kind, "--save", "3600 1", "--dir", str(data_dir), *options,
                   workdir=str(data_dir.parent))
    _failed_bgsave(server, data_dir)
    return server


def test_misconf_after_a_failed_bgsave_like_redis(spawn: Any, tmp_path: Path) -> None:
    redis, respd = (_start_failing(spawn, tmp_path, kind) for kind in ("redis", "respd"))
    pair = Lockstep(redis.port, respd.port)
    try:
        refused = pair.same("SET", "k", "v")
        assert refused.startswith(b"-MISCONF Redis is configured to save RDB snapshots")
        assert pair.same("PING") == refused
        pair.same("GET", "k")  # reads go on
        pair.same("MULTI")
        pair.same("SET", "k", "v")
        pair.same("EXEC")
        for how in ("call", "pcall"):
            pair.same("EVAL", MISCONF_SCRIPT.format(how), "0")
        pair.same("EVAL", "return 1", "0")  # a script without flags may run
        pair.same("EVAL", "#!lua\nreturn 1", "0")  # declared flags without no-writes
        pair.same("EVAL", "#!lua flags=no-writes\nreturn 1", "0")
        pair.same("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
        pair.same("SET", "k", "v")
        pair.same("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
        assert pair.same("DEL", "k") == refused
        pair.same("CONFIG", "SET", "save", "")  # no save points: nothing to protect
        pair.same("PING")
        pair.same("CONFIG", "SET", "save", "3600 1")
        assert pair.same("SET", "k", "v") == refused
        pair.same("INFO", "errorstats")
    finally:
        pair.close()


def test_a_successful_save_lifts_misconf(spawn: Any, tmp_path: Path) -> None:
    server = _start_failing(spawn, tmp_path, "respd")
    client = server.client()
    with pytest.raises(Exception, match="MISCONF"):
        client.set("k", "v")
    (tmp_path / "respd" / "data").mkdir()
    client.bgsave()
    wait_until(lambda: client.info("persistence")["rdb_last_bgsave_status"] == "ok",
               "a successful BGSAVE")
    assert client.set("k", "v") and client.ping()


@pytest.mark.parametrize("kind", ["redis", "respd"])
@pytest.mark.parametrize("ignore", ["yes", "no"])
def test_replica_with_disk_errors_obeys_its_primary(spawn: Any, tmp_path: Path, kind: str,
                                                    ignore: str) -> None:
    """A replica refuses its own clients' writes with MISCONF; its primary's writes are
    applied with a warning (yes), or stop the replica (no, Redis panics)."""
    primary = spawn(kind, "--repl-diskless-sync-delay", "0")
    data_dir = tmp_path / "replica" / "data"
    data_dir.mkdir(parents=True)
    replica = spawn(kind, "--save", "3600 1", "--dir", str(data_dir),
                    "--replicaof", "127.0.0.1", str(primary.port),
                    "--replica-ignore-disk-write-errors", ignore, workdir=str(data_dir.parent))
    client = replica.client()
    wait_until(lambda: client.info("replication").get("master_link_status") == "up",
               "the replication link")
    _failed_bgsave(replica, data_dir)
    with pytest.raises(Exception, match="MISCONF"):
        client.ping()
    primary.client().set("k", "from the primary")
    if ignore == "yes":
        wait_until(lambda: client.get("k") == b"from the primary", "the write on the replica")
        assert "applying a command even though it is unable to write to disk" in _whole_log(replica)
    else:
        wait_until(lambda: not replica.alive, "the replica to stop")
        assert "Replica was unable to write command to disk" in _whole_log(replica)
    assert eventually(lambda: primary.client().ping())
