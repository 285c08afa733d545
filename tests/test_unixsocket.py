"""Unix socket listeners (``unixsocket``, ``unixsocketperm``, ``port 0`` for socket-only),
with redis-py's ``unix_socket_path`` and ``redis-cli -s``, compared with redis-server."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from typing import Any, Callable, Iterator

import pytest
import redis

from conftest import (ServerProcess, eventually, reference_available, redis_argv,
                      respd_argv, missing)


class UnixServer(ServerProcess):
    """A server listening on a Unix socket only (port 0)."""

    def __init__(self, argv: list[str], path: str, workdir: str) -> None:
        super().__init__(argv, 0, workdir)
        self.path = path

    def start(self, timeout: float = 15.0) -> "UnixServer":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdout=log, stderr=log)

        def answers() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.argv}\n{self.log()}")
            try:
                return bool(self.client().ping())
            except (redis.ConnectionError, OSError):
                return False

        if not eventually(answers, timeout):
            raise RuntimeError(f"server did not start: {self.argv}\n{self.log()}")
        return self

    def client(self, **kwargs: Any) -> Any:
        return redis.Redis(unix_socket_path=self.path, **kwargs)


@pytest.fixture
def unix_server() -> Iterator[Callable[..., UnixServer]]:
    """unix_server(kind, *options) → a started server on <tmp>/<kind>.sock."""
    started: list[UnixServer] = []

    def start(kind: str, *options: str) -> UnixServer:
        if kind == "redis" and not reference_available():
            missing("redis-server 7.0.x")
        workdir = tempfile.mkdtemp(prefix=f"{kind}-unix-")
        path = os.path.join(workdir, f"{kind}.sock")
        argv_of = respd_argv if kind == "respd" else redis_argv
        server = UnixServer(argv_of(0, "--unixsocket", path, *options), path, workdir)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def test_socket_only_server(unix_server: Callable[..., UnixServer]) -> None:
    server = unix_server("respd")
    client = server.client()
    assert client.set("k", "v") and client.get("k") == b"v"
    assert client.info("server")["tcp_port"] == 0
    assert client.config_get("unixsocket") == {"unixsocket": server.path}
    assert stat.S_ISSOCK(os.stat(server.path).st_mode)


def test_client_list_like_redis(unix_server: Callable[..., UnixServer]) -> None:
    lines = []
    for kind in ("redis", "respd"):
        server = unix_server(kind)
        line = server.client().execute_command("CLIENT", "INFO").decode()
        fields = dict(f.split("=", 1) for f in line.split())
        assert fields["addr"] == fields["laddr"] == f"{server.path}:0"
        lines.append({k: fields[k] for k in ("flags", "db", "cmd", "user", "resp")})
    assert lines[0] == lines[1]
    assert lines[1]["flags"] == "U"


def test_unixsocketperm(unix_server: Callable[..., UnixServer]) -> None:
    modes = []
    for kind in ("redis", "respd"):
        server = unix_server(kind, "--unixsocketperm", "640")
        modes.append(stat.S_IMODE(os.stat(server.path).st_mode))
        assert server.client().config_get("unixsocketperm") == {"unixsocketperm": "640"}
    assert modes == [0o640, 0o640]


def test_beside_tcp_and_redis_cli(spawn: Any, tool: Callable[[str], str],
                                  tmp_path: Any) -> None:
    path = str(tmp_path / "both.sock")
    server = spawn("respd", "--unixsocket", path)
    assert server.client().set("shared", "1")  # over TCP
    out = subprocess.run([tool("redis-cli"), "-s", path, "GET", "shared"],
                         capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "1"
    listed = server.client().client_list()
    assert {c["addr"] for c in listed} and all(c["addr"] != f"{path}:0" for c in listed)


def test_stale_socket_replaced_and_removed_at_shutdown(
        unix_server: Callable[..., UnixServer]) -> None:
    workdir = tempfile.mkdtemp(prefix="respd-stale-")
    path = os.path.join(workdir, "respd.sock")
    with open(path, "w"):  # left behind by an earlier run
        pass
    server = UnixServer(respd_argv(0, "--unixsocket", path), path, workdir).start()
    try:
        assert server.client().ping()
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    finally:
        assert server.stop() == 0
    assert not os.path.exists(path)


def test_unix_clients_are_local(unix_server: Callable[..., UnixServer]) -> None:
    """enable-debug-command local admits Unix socket clients, as in Redis."""
    replies = []
    for kind in ("redis", "respd"):
        server = unix_server(kind, "--enable-debug-command", "local",
                             "--enable-protected-configs", "local")
        client = server.client()
        replies.append((client.execute_command("DEBUG", "SLEEP", "0"),
                        client.config_set("dbfilename", "other.rdb")))
    assert replies[0] == replies[1] == (b"OK", True)


def test_listening_nowhere_is_refused(tool: Callable[[str], str]) -> None:
    results = []
    argvs = [respd_argv(0)]
    if reference_available():
        argvs.append(redis_argv(0))
    for argv in argvs:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        results.append(done.returncode)
        assert "Configured to not listen anywhere, exiting." in done.stdout + done.stderr
    assert all(code == 1 for code in results)


def test_unixsocket_is_immutable(unix_server: Callable[..., UnixServer]) -> None:
    client = unix_server("respd").client()
    for name in ("unixsocket", "unixsocketperm"):
        with pytest.raises(redis.ResponseError, match=re.escape("can't set immutable")):
            client.config_set(name, "0")


def test_too_long_path_is_refused(tmp_path: Any) -> None:
    path = str(tmp_path / ("s" * 120))
    argvs = [respd_argv(0, "--unixsocket", path)]
    if reference_available():
        argvs.append(redis_argv(0, "--unixsocket", path))
    for argv in argvs:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert done.returncode == 1
        assert f"unix socket path too long ({len(path)}), must be under 108" in (
            done.stdout + done.stderr)
