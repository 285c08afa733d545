"""Directives about the process that respd honours as Redis 7.0 does, each checked side by
side with redis-server: shutdown-on-sigint/-sigterm, crash-log-enabled, disable-thp,
bind-source-addr."""

from __future__ import annotations

import os
import signal
from typing import Any, Callable

import pytest

from conftest import ServerProcess, wait_until


def _stop_with(server: ServerProcess, sig: int) -> None:
    assert server.proc is not None
    server.proc.send_signal(sig)
    server.proc.wait(15)


@pytest.mark.parametrize("sig, directive, flags, save, saved", [
    (signal.SIGTERM, "shutdown-on-sigterm", "save", "", True),
    (signal.SIGTERM, "shutdown-on-sigterm", "default", "", False),
    (signal.SIGINT, "shutdown-on-sigint", "nosave now", "3600 1", False),
    (signal.SIGINT, "shutdown-on-sigint", "default", "3600 1", True),
    (signal.SIGTERM, "shutdown-on-sigterm", "save force", "", True),
])
def test_shutdown_signal_flags_like_redis(spawn: Callable[..., ServerProcess], sig: int,
                                          directive: str, flags: str, save: str,
                                          saved: bool) -> None:
    seen = []
    for kind in ("redis", "respd"):
        server = spawn(kind, "--save", save, f"--{directive}", flags)
        server.client().set("k", "v")
        _stop_with(server, sig)
        seen.append(os.path.exists(os.path.join(server.workdir, "dump.rdb")))
    assert seen == [saved, saved]


@pytest.mark.parametrize("enabled", ["yes", "no"])
def test_crash_log_on_fatal_signal(spawn: Callable[..., ServerProcess], enabled: str) -> None:
    """A fatal signal leaves a crash report in the log unless crash-log-enabled is no
    (Redis's bug report; respd's is the stack of every thread)."""
    reports = {"redis": "REDIS BUG REPORT START", "respd": "Fatal Python error"}
    seen = []
    for kind in ("redis", "respd"):
        server = spawn(kind, "--crash-log-enabled", "yes")
        server.client().config_set("crash-log-enabled", enabled)  # at run time, too
        _stop_with(server, signal.SIGSEGV)
        assert server.proc is not None and server.proc.returncode != 0
        with open(server.log_path, "rb") as f:  # the whole log: a report is long
            seen.append(reports[kind].encode() in f.read())
    assert seen == [enabled == "yes"] * 2


def _thp_flag(server: ServerProcess) -> str:
    assert server.proc is not None
    with open(f"/proc/{server.proc.pid}/status") as f:
        return next(line for line in f if line.startswith("THP_enabled")).split()[1]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux /proc needed")
@pytest.mark.parametrize("value", ["yes", "no"])
def test_disable_thp_like_redis(spawn: Callable[..., ServerProcess], value: str) -> None:
    """Redis turns THP off for itself only when the kernel's mode is 'always'."""
    redis_server = spawn("redis", "--disable-thp", value)
    respd = spawn("respd", "--disable-thp", value)
    assert _thp_flag(redis_server) == _thp_flag(respd)
    assert respd.client().config_get("disable-thp") == {"disable-thp": value}


def test_bind_source_addr_of_the_replica_link(spawn: Callable[..., ServerProcess]) -> None:
    primary = spawn("redis", "--protected-mode", "no")  # 127.0.0.2 is no loopback to it
    replicas = [spawn(kind, "--bind-source-addr", "127.0.0.2", "--replicaof", "127.0.0.1",
                      str(primary.port)) for kind in ("redis", "respd")]
    conn = primary.client()

    def ips() -> list[str]:
        info: Any = conn.info("replication")
        return [info[f"slave{i}"]["ip"] for i in range(info["connected_slaves"])]

    wait_until(lambda: len(ips()) == 2, "both replicas connected")
    assert ips() == ["127.0.0.2", "127.0.0.2"]
    # changeable at run time, for the next connection
    assert replicas[1].client().config_set("bind-source-addr", "") is True


def test_deprecated_directives_are_read_and_ignored_like_redis(
        spawn: Callable[..., ServerProcess]) -> None:
    """Redis 7.0 still starts with the directives it retired (one argument each)."""
    options = ("--lua-replicate-commands", "yes", "--list-max-ziplist-entries", "5",
               "--list-max-ziplist-value", "64")
    for kind in ("redis", "respd"):
        conn = spawn(kind, *options).client()
        assert conn.config_get("lua-replicate-commands") == {}
        assert conn.config_get("list-max-listpack-size") == {"list-max-listpack-size": "-2"}


def test_config_rewrite_reads_back_the_new_parameters(tmp_path: Any) -> None:
    from respd.cli import build_config

    path = tmp_path / "respd.conf"
    path.write_text("port 0\n")
    config = build_config([str(path)])
    values = {"shutdown-on-sigterm": b"nosave force", "shutdown-on-sigint": b"save now",
              "proc-title-template": b"{title} {port}", "oom-score-adj-values": b"1 2 3",
              "bind-source-addr": b"127.0.0.2", "crash-log-enabled": b"no"}
    for name, raw in values.items():
        config.set(name, raw)
    config.rewrite()
    again = build_config([str(path)])
    assert {name: again.get_raw(name) for name in values} == values
