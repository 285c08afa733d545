"""The respd command line: config files in redis.conf syntax, --directive options,
--version/--help, clean stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ServerProcess, free_port

RESPD = [sys.executable, "-m", "respd"]


def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RESPD, *args], capture_output=True, text=True, timeout=timeout)


def test_version_and_help() -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and "redis_version=7.0.15" in version.stdout
    usage = run_cli("--help")
    assert usage.returncode == 0 and "--port" in usage.stdout


def test_unknown_directive_names_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("# a comment\nport 7000\n\nno-such-directive yes\n")
    result = run_cli(str(conf))
    assert result.returncode != 0
    assert "bad.conf" in result.stderr and "line 4" in result.stderr
    assert "no-such-directive" in result.stderr and "Bad directive" in result.stderr


def test_bad_value_is_a_startup_error(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("appendfsync sometimes\n")
    result = run_cli(str(conf))
    assert result.returncode != 0 and "line 1" in result.stderr


def test_config_file_and_command_line_apply_in_order(tmp_path: Path) -> None:
    port = free_port()
    conf = tmp_path / "respd.conf"
    conf.write_text(
        f'port {port}\nbind 127.0.0.1\nrequirepass "from file"\nsave ""\n'
        "hash-max-ziplist-entries 64\nmaxmemory 10mb\n"
    )
    # The command line wins over the file, as with redis-server.
    server = ServerProcess([*RESPD, str(conf), "--requirepass", "s3cret"], port,
                           str(tmp_path)).start()
    try:
        client = server.client(password="s3cret")
        assert client.config_get("hash-max-listpack-entries") == {
            "hash-max-listpack-entries": "64"}
        assert client.config_get("maxmemory") == {"maxmemory": "10485760"}
        assert client.config_get("port") == {"port": str(port)}
        client.close()
    finally:
        assert server.stop() == 0


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess([*RESPD, "--port", str(port), "--save", ""], port,
                           str(tmp_path)).start()
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(15) == 0
    assert "bye" in server.log()


def test_defaults_are_loopback_6379() -> None:
    from respd.config import Config

    config = Config()
    assert config.port == 6379 and config.bind == ["127.0.0.1"]


@pytest.mark.parametrize("argv", [["--port"], ["stray"]])
def test_bad_command_lines_fail(argv: list[str]) -> None:
    assert run_cli(*argv).returncode != 0
