"""Logs and the command line as redis-server does them: the line format (parsed with a
regex of Redis's format), CONFIG SET loglevel at run time, the log file (start-up
failures included), syslog without a daemon, command-line errors, --help, and
``python -m respd`` from a directory holding a checkout named respd."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable

from conftest import ServerProcess, wait_until

ROOT = Path(__file__).resolve().parent.parent
# pid:role dd Mon yyyy HH:MM:SS.mmm <level-char> message (Redis's serverLogRaw)
LINE = re.compile(r"^(\d+):([MCSX]) (\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3}) "
                  r"([.\-*#]) (.*)$")


def read_lines(path: Path) -> list[re.Match[str]]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    matches = [LINE.match(line) for line in text.splitlines()]
    assert all(matches), [line for line, m in zip(text.splitlines(), matches) if not m]
    return [m for m in matches if m is not None]


def test_lines_are_in_redis_format_and_loglevel_changes_at_run_time(
        spawn: Callable[..., ServerProcess], tmp_path: Path) -> None:
    logfile = tmp_path / "respd.log"
    server = spawn("respd", "--logfile", str(logfile), "--loglevel", "verbose")
    r = server.client()
    r.ping()
    r.close()
    accepted = lambda: [m for m in read_lines(logfile) if m[5].startswith("Accepted ")]  # noqa: E731
    wait_until(lambda: any("Client closed connection" in m[5] for m in read_lines(logfile)),
               "the disconnection line")
    lines = read_lines(logfile)
    assert {m[1] for m in lines} == {str(server.proc.pid)}  # type: ignore[union-attr]
    assert {m[2] for m in lines} == {"M"}
    first = accepted()[0]
    assert first[4] == "-" and re.fullmatch(r"Accepted 127\.0\.0\.1:\d+", first[5])
    assert not any("b'" in m[5] for m in lines)  # addresses as text, not Python bytes
    texts = [m[5] for m in lines]
    assert any(t.startswith("Warning: no config file specified") for t in texts)
    assert any("Ready to accept connections" in t for t in texts)
    notice = [m for m in lines if "Ready to accept" in m[5]][0]
    assert notice[4] == "*"

    # Raised to warning: connections no longer logged; lowered again: logged.
    admin = server.client()
    assert admin.config_set("loglevel", "warning")
    before = len(accepted())
    for _ in range(3):
        server.client().ping()
    admin.execute_command("DEBUG", "LOG", "marker-after-warning")
    wait_until(lambda: any("marker-after-warning" in m[5] for m in read_lines(logfile)),
               "the DEBUG LOG line")
    assert len(accepted()) == before
    assert [m[4] for m in read_lines(logfile) if "marker-after-warning" in m[5]] == ["#"]
    assert admin.config_set("loglevel", "verbose")
    server.client().ping()
    wait_until(lambda: len(accepted()) > before, "connections logged again")
    assert admin.config_get("loglevel") == {"loglevel": "verbose"}


def test_port_in_use_reaches_the_log_file(tmp_path: Path) -> None:
    logfile = tmp_path / "respd.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "respd", "--port", str(port),
                                 "--logfile", str(logfile), "--save", ""],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    texts = [m[5] for m in read_lines(logfile)]
    assert any(t.startswith("Warning: Could not create server TCP listening socket")
               and "in use" in t for t in texts), texts
    assert f"Failed listening on port {port} (TCP), aborting." in texts


def test_syslog_without_a_daemon_does_not_stop_the_server(
        spawn: Callable[..., ServerProcess]) -> None:
    server = spawn("respd", "--syslog-enabled", "yes", "--syslog-ident", "respd-test",
                   "--syslog-facility", "local3", "--loglevel", "verbose")
    r = server.client()
    assert r.ping()
    assert r.config_get("syslog-*") == {"syslog-enabled": "yes",
                                        "syslog-ident": "respd-test",
                                        "syslog-facility": "local3"}


def _error_text(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    return (result.stdout + result.stderr).strip()


def test_command_line_errors_read_as_redis_servers(redis_ref: ServerProcess,
                                                   tmp_path: Path) -> None:
    conf = tmp_path / "one.conf"
    conf.write_text("maxclients 100\n")
    cases = [["--port", "abc"], ["--port"], ["--port", "1", "2"], ["--no-such", "1"],
             ["--bind", "127.0.0.1", "--port", "a b"], [str(conf), "--maxclients", "5",
                                                        "--loglevel", "loud"]]
    for args in cases:
        ours = _error_text([sys.executable, "-m", "respd", *args])
        theirs = _error_text(["redis-server", *args])
        # Same lines; the banner names the program, and a file error names the file.
        theirs = theirs.replace("(Redis 7.0.15)", "(respd {v})")
        from respd import __version__

        assert ours == theirs.replace("{v}", __version__), (args, ours, theirs)


def test_help_lists_every_directive() -> None:
    from respd.config import PARAMS

    result = subprocess.run([sys.executable, "-m", "respd", "--help"], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0
    listed = set(re.findall(r"^  --([a-z0-9_-]+)", result.stdout, re.M))  # server_cpulist
    assert set(PARAMS) <= listed


def test_python_m_respd_from_the_directory_holding_a_checkout(tmp_path: Path) -> None:
    (tmp_path / "respd").symlink_to(ROOT)  # a checkout named respd, beside the caller
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "respd", "--version"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    assert "redis_version=7.0.15" in result.stdout
