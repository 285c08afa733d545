"""TLS on ``tls-port`` (beside the plain port, or alone with ``port 0``): redis-py with
``ssl=True``, ``redis-cli --tls``, client certificates (tls-auth-clients), protocols,
ciphers and session caching, each compared with redis-server started the same way.

The CA and certificates are made at run time with the openssl command line.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import redis

from conftest import (ServerProcess, free_port, missing, redis_argv, reference_available,
                      respd_argv, wait_until)

KINDS = ("redis", "respd")


@pytest.fixture(scope="session")
def certs(tmp_path_factory: Any) -> Path:
    """ca.crt, server.crt/key and client.crt/key (both for localhost and 127.0.0.1),
    signed by a throwaway CA; client-enc.key is client.key under the password 'secret'."""
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("openssl")
    d = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
        "ca.crt", "-days", "2", "-subj", "/CN=respd test CA")
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", "san.ext")
    run("pkey", "-in", "server.key", "-out", "server-enc.key", "-aes256", "-passout",
        "pass:secret")
    run("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "dh_param:ffdhe2048",
        "-out", "dh.pem")
    (d / "cadir").mkdir()
    (d / "cadir" / "ca.pem").write_bytes((d / "ca.crt").read_bytes())
    run("rehash", str(d / "cadir"))
    return d


def tls_options(certs: Path, *extra: str) -> list[str]:
    return ["--tls-cert-file", str(certs / "server.crt"), "--tls-key-file",
            str(certs / "server.key"), "--tls-ca-cert-file", str(certs / "ca.crt"), *extra]


class TLSServer(ServerProcess):
    """A server whose readiness is checked over TLS (it may have no plain port)."""

    def __init__(self, argv: list[str], tls_port: int, workdir: str, certs: Path) -> None:
        super().__init__(argv, tls_port, workdir)
        self.certs = certs

    def start(self, timeout: float = 15.0) -> "TLSServer":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.argv}\n{self.log()}")
            try:
                if self.client().ping():
                    return self
            except (redis.ConnectionError, OSError):
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.argv}\n{self.log()}")

    def client(self, **kwargs: Any) -> Any:
        options = dict(ssl=True, ssl_ca_certs=str(self.certs / "ca.crt"),
                       ssl_certfile=str(self.certs / "client.crt"),
                       ssl_keyfile=str(self.certs / "client.key"))
        options.update(kwargs)
        return redis.Redis(host="127.0.0.1", port=self.port, **options)


@pytest.fixture
def tls_server(certs: Path) -> Any:
    """tls_server(kind, *options) → a started server with TLS on a free port, the plain
    port 0 unless the options give one."""
    started: list[TLSServer] = []

    def start(kind: str, *options: str, plain_port: int = 0) -> TLSServer:
        if kind == "redis" and not reference_available():
            missing("redis-server 7.0.x")
        tls_port = free_port()
        argv_of = respd_argv if kind == "respd" else redis_argv
        argv = argv_of(plain_port, "--tls-port", str(tls_port), *tls_options(certs),
                       *options)
        server = TLSServer(argv, tls_port, tempfile.mkdtemp(prefix=f"{kind}-tls-"), certs)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def raw_tls(port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return context.wrap_socket(sock, server_hostname="localhost")


def client_context(certs: Path, with_cert: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    if with_cert:
        ctx.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
    return ctx


def outcome(port: int, context: ssl.SSLContext) -> str:
    """'PONG', or the kind of failure a client sees (handshake refused or closed)."""
    try:
        with raw_tls(port, context) as conn:
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = conn.recv(64)
            return data.decode().strip("+\r\n") if data else "closed"
    except ssl.SSLError as err:
        return f"ssl:{err.reason}"
    except (ConnectionError, OSError):
        return "closed"


# --- basics ----------------------------------------------------------------------------------

def test_redis_py_over_tls_only(tls_server: Any) -> None:
    server = tls_server("respd")
    client = server.client()
    assert client.set("k", "v") and client.get("k") == b"v"
    info = client.info("server")
    assert info["tcp_port"] == 0
    assert client.config_get("tls-port") == {"tls-port": str(server.port)}
    line = client.execute_command("CLIENT", "INFO").decode()
    assert f"laddr=127.0.0.1:{server.port} " in line and "flags=N " in line


def test_tls_beside_the_plain_port(tls_server: Any) -> None:
    plain = free_port()
    server = tls_server("respd", plain_port=plain)
    server.client().set("k", "over tls")
    assert redis.Redis(port=plain).get("k") == b"over tls"
    with pytest.raises(redis.ConnectionError):  # plain RESP on the TLS port
        redis.Redis(port=server.port, socket_timeout=5).ping()


def test_redis_cli_tls(tls_server: Any, certs: Path, tool: Callable[[str], str]) -> None:
    outputs = []
    for kind in KINDS:
        server = tls_server(kind)
        done = subprocess.run(
            [tool("redis-cli"), "-p", str(server.port), "--tls", "--cacert",
             str(certs / "ca.crt"), "--cert", str(certs / "client.crt"), "--key",
             str(certs / "client.key"), "ECHO", "hello"],
            capture_output=True, text=True, timeout=10)
        outputs.append(done.stdout)
    assert outputs == ["hello\n", "hello\n"]


# --- client certificates ------------------------------------------------------------------

@pytest.mark.parametrize("auth", ["yes", "no", "optional"])
def test_tls_auth_clients(tls_server: Any, certs: Path, auth: str) -> None:
    results = {}
    for kind in KINDS:
        server = tls_server(kind, "--tls-auth-clients", auth)
        results[kind] = (outcome(server.port, client_context(certs, with_cert=True)),
                         outcome(server.port, client_context(certs, with_cert=False)))
        assert server.client().config_get("tls-auth-clients") == {"tls-auth-clients": auth}
    assert results["respd"][0] == results["redis"][0] == "PONG"
    if auth == "yes":
        assert results["respd"][1] != "PONG" and results["redis"][1] != "PONG"
    else:
        assert results["respd"][1] == results["redis"][1] == "PONG"


def test_redis_py_without_certificate_is_refused(tls_server: Any) -> None:
    server = tls_server("respd")  # tls-auth-clients yes, Redis's default
    with pytest.raises(redis.ConnectionError):
        server.client(ssl_certfile=None, ssl_keyfile=None, socket_timeout=5).ping()


def test_ca_cert_dir(tls_server: Any, certs: Path) -> None:
    """Client certificates checked against a hashed CA directory instead of a file."""
    for kind in KINDS:
        server = tls_server(kind, "--tls-ca-cert-file", "", "--tls-ca-cert-dir",
                            str(certs / "cadir"))
        assert outcome(server.port, client_context(certs)) == "PONG"
        assert outcome(server.port, client_context(certs, with_cert=False)) != "PONG"


def test_encrypted_key_file(tls_server: Any, certs: Path) -> None:
    for kind in KINDS:
        server = tls_server(kind, "--tls-key-file", str(certs / "server-enc.key"),
                            "--tls-key-file-pass", "secret")
        assert server.client().ping()


# --- protocols, ciphers, sessions ---------------------------------------------------------

def _negotiated(port: int, certs: Path, setup: Callable[[ssl.SSLContext], None]) -> Any:
    ctx = client_context(certs)
    setup(ctx)
    try:
        with raw_tls(port, ctx) as conn:
            return conn.version(), conn.cipher()[0]
    except (ssl.SSLError, OSError):
        return "refused"


def _tls12(ctx: ssl.SSLContext) -> None:
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2


def _tls13(ctx: ssl.SSLContext) -> None:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3


def _tls12_dhe(ctx: ssl.SSLContext) -> None:
    _tls12(ctx)
    ctx.set_ciphers("DHE-RSA-AES128-GCM-SHA256")


def _tls12_client_order(ctx: ssl.SSLContext) -> None:
    _tls12(ctx)
    ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")


CASES = {
    "defaults": ((), (_tls12, _tls13)),
    "protocols-1.3": (("--tls-protocols", "TLSv1.3"), (_tls12, _tls13)),
    "protocols-1.2": (("--tls-protocols", "tlsv1.2"), (_tls12, _tls13)),
    "ciphers": (("--tls-ciphers", "ECDHE-RSA-AES256-GCM-SHA384"), (_tls12, _tls13)),
    "ciphersuites": (("--tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"), (_tls13,)),
    "dh-auto": ((), (_tls12_dhe,)),
    "dh-params-file": (("--tls-dh-params-file", "{certs}/dh.pem"), (_tls12_dhe,)),
    "client-order": (("--tls-ciphers",
                      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
                     (_tls12_client_order,)),
    "server-order": (("--tls-ciphers",
                      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
                      "--tls-prefer-server-ciphers", "yes"), (_tls12_client_order,)),
}


@pytest.mark.parametrize("case", CASES)
def test_protocols_and_ciphers_like_redis(tls_server: Any, certs: Path, case: str) -> None:
    options, clients = CASES[case]
    options = tuple(option.format(certs=certs) for option in options)
    seen = {kind: [_negotiated(tls_server(kind, *options).port, certs, setup)
                   for setup in clients] for kind in KINDS}
    assert seen["respd"] == seen["redis"]
    assert any(result != "refused" for result in seen["respd"])


def _first_session(port: int, certs: Path) -> tuple[ssl.SSLContext, Any]:
    ctx = client_context(certs)
    _tls12(ctx)
    with raw_tls(port, ctx) as first:
        first.sendall(b"*1\r\n$4\r\nPING\r\n")
        first.recv(64)
        return ctx, first.session


def _resume(port: int, ctx: ssl.SSLContext, session: Any) -> str:
    """What happens when a new connection offers an earlier connection's session."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        with ctx.wrap_socket(sock, server_hostname="localhost", session=session) as second:
            second.sendall(b"*1\r\n$4\r\nPING\r\n")
            second.recv(64)
            return "resumed" if second.session_reused else "full handshake"
    except ssl.SSLError:
        return "refused"


def _resumption(port: int, certs: Path) -> str:
    return _resume(port, *_first_session(port, certs))


def test_session_cache_timeout(tls_server: Any, certs: Path) -> None:
    """Sessions (and tickets) expire after tls-session-cache-timeout seconds."""
    for kind in KINDS:
        port = tls_server(kind, "--tls-session-cache-timeout", "1").port
        ctx, session = _first_session(port, certs)
        assert _resume(port, ctx, session) == "resumed"
        wait_until(lambda: _resume(port, ctx, session) == "full handshake",
                   f"{kind}: an expired session is not resumed")


def test_session_caching(tls_server: Any, certs: Path) -> None:
    """tls-session-caching yes resumes sessions, as Redis does; with 'no' respd makes a
    full handshake where Redis 7.0 aborts the handshake (an internal-error alert):
    neither resumes."""
    assert [_resumption(tls_server(kind).port, certs) for kind in KINDS] == ["resumed"] * 2
    seen = [_resumption(tls_server(kind, "--tls-session-caching", "no").port, certs)
            for kind in KINDS]
    assert seen == ["refused", "full handshake"]


# --- start-up checks -----------------------------------------------------------------------

def _start_fails(argv: list[str]) -> tuple[int, str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("options,reason", [
    (("--tls-client-cert-file", "/nonexistent.crt", "--tls-client-key-file",
      "/nonexistent.key"), "Failed to load"),
    (("--tls-dh-params-file", "/nonexistent.pem"), "Failed to load"),
    (("--tls-cert-file", ""), "No tls-cert-file configured!"),
    (("--tls-ca-cert-file", ""), "Either tls-ca-cert-file or tls-ca-cert-dir must be"),
    (("--tls-protocols", "TLSv9"), "Invalid tls-protocols specified."),
    (("--tls-cert-file", "/nonexistent.crt"), "Failed to load certificate"),
])
def test_bad_tls_configuration_fails_start(certs: Path, options: tuple[str, ...],
                                           reason: str) -> None:
    argvs = {"respd": respd_argv}
    if reference_available():
        argvs["redis"] = redis_argv
    for kind, argv_of in argvs.items():
        code, out = _start_fails(argv_of(0, "--tls-port", str(free_port()),
                                         *tls_options(certs, *options)))
        assert code == 1, (kind, out)
        assert "Failed to configure TLS. Check logs for more info." in out, (kind, out)
        assert reason in out, (kind, out)


@pytest.mark.parametrize("name", ["tls-replication", "tls-cluster"])
def test_tls_for_absent_features_refused(name: str) -> None:
    code, out = _start_fails(respd_argv(free_port(), f"--{name}", "yes"))
    assert code == 1 and "FATAL CONFIG FILE ERROR" in out and "only 'no'" in out



# --- changes at run time -------------------------------------------------------------------

def test_config_set_applies_to_new_connections(tls_server: Any, certs: Path) -> None:
    """CONFIG SET of a tls-* directive rebuilds the context for the connections that
    follow (Redis's applyTlsCfg); a context that cannot be built is refused and the old
    one stays; connections already made are kept."""
    seen = {}
    for kind in KINDS:
        server = tls_server(kind)
        admin = server.client()
        admin.ping()
        before = outcome(server.port, client_context(certs, with_cert=False))
        admin.config_set("tls-auth-clients", "no")
        after = outcome(server.port, client_context(certs, with_cert=False))
        with pytest.raises(redis.ResponseError) as failed:
            admin.config_set("tls-cert-file", "/nonexistent.crt")
        kept = admin.config_get("tls-cert-file")["tls-cert-file"]
        still = outcome(server.port, client_context(certs, with_cert=False))
        seen[kind] = (before != "PONG", after, str(failed.value), kept, still, admin.ping())
    assert seen["respd"] == seen["redis"]
    assert seen["respd"][:2] == (True, "PONG")
    assert seen["respd"][2] == ("CONFIG SET failed (possibly related to argument "
                                "'tls-cert-file') - Unable to update TLS configuration. "
                                "Check server logs.")


def test_ports_and_bind_change_at_run_time(certs: Path, spawn: Any) -> None:
    """CONFIG SET port / bind / tls-port reopen the listeners as Redis does, with its
    refusals when the new ones cannot be opened."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    seen = {}
    try:
        for kind in KINDS:
            server = spawn(kind)
            admin = server.client()
            steps: list[Any] = []

            def attempt(*pairs: str) -> str:
                try:
                    return str(admin.config_set(*pairs) if len(pairs) == 2 else
                               admin.execute_command("CONFIG", "SET", *pairs))
                except redis.ResponseError as err:
                    return str(err)

            steps.append(attempt("port", str(taken)))
            steps.append(attempt("bind", "127.0.0.1 192.0.2.254"))
            steps.append(attempt("tls-port", str(free_port())))
            steps.append(admin.ping())  # the old listeners still serve
            steps.append(attempt("bind", "127.0.0.1 -192.0.2.254"))
            tls_port = free_port()
            files = [option.lstrip("-") for option in tls_options(certs)]
            steps.append(attempt(*files, "tls-port", str(tls_port)))
            tls_client = TLSServer([], tls_port, "", certs).client()
            steps.append(tls_client.ping())
            new_port = free_port()
            steps.append(attempt("port", str(new_port)))
            moved = redis.Redis(port=new_port)
            steps.append(moved.info("server")["tcp_port"] == new_port)
            with pytest.raises(redis.ConnectionError):
                redis.Redis(port=server.port, socket_timeout=5).ping()
            moved.config_set("tls-port", "0")
            steps.append(tls_client.ping())  # connections made stay
            tls_client.close()
            with pytest.raises(redis.ConnectionError):
                TLSServer([], tls_port, "", certs).client(socket_timeout=5).ping()
            moved.config_set("port", str(server.port))  # back, for the fixture's stop
            seen[kind] = steps
    finally:
        busy.close()
    assert seen["respd"] == seen["redis"]
    assert seen["respd"][:3] == [
        "CONFIG SET failed (possibly related to argument 'port') - Unable to listen on "
        "this port. Check server logs.",
        "CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to "
        "specified addresses.",
        "CONFIG SET failed (possibly related to argument 'tls-port') - Unable to update "
        "TLS configuration. Check server logs."]
