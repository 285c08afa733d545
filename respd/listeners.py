"""Where clients come from: the TCP (``bind``/``port``), TLS (``tls-port``) and Unix socket
(``unixsocket``) listeners, and the per-connection decisions Redis makes from the peer's
address: protected mode.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from typing import Any, Callable

from respd import tls
from respd.config import PARAMS, ConfigError, on_config_set

log = logging.getLogger("respd")

# Redis's acceptCommonHandler text, sent before closing a refused connection.
DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted "
    b"from the loopback interface. If you want to connect from external computers to Redis "
    b"you may adopt one of the following solutions: 1) Just disable protected mode sending "
    b"the command 'CONFIG SET protected-mode no' from the loopback interface by connecting "
    b"to Redis from the same host the server is running, however MAKE SURE Redis is not "
    b"publicly accessible from internet if you do so. Use CONFIG REWRITE to make this "
    b"change permanent. 2) Alternatively you can just disable the protected mode by editing "
    b"the Redis configuration file, and setting the protected mode option to 'no', and then "
    b"restarting the server. 3) If you started the server manually just for testing, "
    b"restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    b"password for the default user. NOTE: You only need to do one of the above things in "
    b"order for the server to start accepting connections from the outside.\r\n"
)

# The only peers Redis calls local, besides Unix sockets (islocalClient, connIsLocal):
# the exact loopback addresses, not the whole 127/8 range.
_LOOPBACK_PEERS = ("127.0.0.1", "::1")


class ListenError(Exception):
    """The server cannot listen as configured (Redis exits with this line)."""


def is_local_peer(peer: Any) -> bool:
    """peername as a transport reports it: a (host, port, ...) tuple for TCP, a path
    string (often empty) for a Unix socket."""
    return not isinstance(peer, tuple) or peer[0] in _LOOPBACK_PEERS


def denied_by_protected_mode(server: Any, peer: Any) -> bool:
    """Protected mode: without a password for the default user, only local peers."""
    return (server.config.protected_mode and not server.default_user_has_password()
            and not is_local_peer(peer))


def tune_tcp(sock: Any, keepalive: int) -> None:
    """TCP_NODELAY, and tcp-keepalive as Redis's anetKeepAlive sets it: probes after
    `keepalive` idle seconds, every third of that, three of them."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, keepalive)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(keepalive // 3, 1))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:
        pass  # the peer may already be gone


def unix_addr(path: str) -> bytes:
    """How Redis shows both ends of a Unix socket connection."""
    return path.encode() + b":0"


# --- opening the listeners -----------------------------------------------------------------

class Listeners:
    """The server's listening sockets: TCP (bind, port), TLS (bind, tls-port) and the
    Unix socket.  CONFIG SET of port, bind or tls-port reopens the TCP or TLS ones, as
    Redis's changeListener does: the old sockets close first (the new ones may take the
    same addresses); if the new ones cannot be opened, the old settings are reopened and
    the change is refused."""

    def __init__(self, server: Any, factory: Callable[[], asyncio.Protocol]) -> None:
        self.server = server
        self.factory = factory
        # kind → the (bind addresses, port) it was opened with, and its asyncio servers
        self.opened: dict[str, tuple[list[str], int]] = {}
        self.servers: dict[str, list[Any]] = {"tcp": [], "tls": [], "unix": []}
        self._starting: set[asyncio.Task[Any]] = set()

    async def open_all(self) -> None:
        """Every configured listener; raises ListenError."""
        config = self.server.config
        try:
            context = tls.reloadable(tls.server_context(config)) if config.tls_port else None
        except tls.TLSConfigError as err:
            raise ListenError(
                f"{err}\nFailed to configure TLS. Check logs for more info.") from None
        self.server.tls_context = context
        try:
            for kind, port in (("tcp", config.port), ("tls", config.tls_port)):
                self.opened[kind] = (list(config.bind), port)
                try:
                    socks = self._sockets(config.bind, port)
                except ListenError as err:
                    raise ListenError(f"{err}\nFailed listening on port {port} "
                                      f"({kind.upper()}), aborting.") from None
                for sock in socks:
                    self.servers[kind].append(await self._serve(kind, sock))
            if config.unixsocket:
                sock = _unix_socket(config.unixsocket, config.unixsocketperm,
                                    config.tcp_backlog)
                self.servers["unix"].append(await self.server.loop.create_unix_server(
                    self.factory, sock=sock, backlog=config.tcp_backlog))
        except BaseException:
            self.close()
            raise
        if not any(self.servers.values()):
            raise ListenError("Configured to not listen anywhere, exiting.")

    def reopen(self, kind: str, refusal: str) -> None:
        """After CONFIG SET port/bind ('tcp') or tls-port/bind ('tls'); raises
        ConfigError with Redis's refusal."""
        config = self.server.config
        wanted = (list(config.bind), config.port if kind == "tcp" else config.tls_port)
        previous = self.opened[kind]
        if wanted == previous:
            return
        if kind == "tls" and wanted[1] and self.server.tls_context is None:
            try:
                self.server.tls_context = tls.reloadable(tls.server_context(config))
            except tls.TLSConfigError as err:
                log.warning("%s", err)
                raise ConfigError(TLS_UPDATE_FAILED) from None
        self._close(kind)
        try:
            socks = self._sockets(*wanted)
        except ListenError as err:
            log.warning("%s", err)
            try:
                self._start(kind, previous, self._sockets(*previous))
            except ListenError as again:
                log.warning("%s", again)
            raise ConfigError(refusal) from None
        self._start(kind, wanted, socks)

    def _sockets(self, binds: list[str], port: int) -> list[socket.socket]:
        if not port:
            return []
        return _tcp_sockets(binds, port, self.server.config.tcp_backlog)

    def _serve(self, kind: str, sock: socket.socket) -> Any:
        context = self.server.tls_context if kind == "tls" else None
        return self.server.loop.create_server(self.factory, sock=sock, ssl=context,
                                              backlog=self.server.config.tcp_backlog)

    def _start(self, kind: str, opened: tuple[list[str], int],
               socks: list[socket.socket]) -> None:
        """Serve already listening sockets (the kernel queues connections meanwhile)."""
        self.opened[kind] = opened
        for sock in socks:
            task = self.server.loop.create_task(self._serve(kind, sock))
            self._starting.add(task)
            task.add_done_callback(lambda t, kind=kind: self._started(kind, t))

    def _started(self, kind: str, task: asyncio.Task[Any]) -> None:
        self._starting.discard(task)
        if not task.cancelled() and task.exception() is None:
            self.servers[kind].append(task.result())

    def _close(self, kind: str) -> None:
        for srv in self.servers[kind]:
            srv.close()

    def close(self) -> None:
        for kind in self.servers:
            self._close(kind)

    async def wait_closed(self) -> None:
        for task in list(self._starting):
            await asyncio.wait([task])
        self.close()  # listeners that started while shutting down
        for group in self.servers.values():
            for srv in group:
                await srv.wait_closed()


TLS_UPDATE_FAILED = "Unable to update TLS configuration. Check server logs."


def _tcp_sockets(binds: list[str], port: int, backlog: int) -> list[socket.socket]:
    """One listening socket per bind address.  '*' is every IPv4 address, '::*' every
    IPv6 one; a leading '-' makes an address optional (skipped if it does not exist)."""
    socks: list[socket.socket] = []
    try:
        for spec in binds:
            optional = spec.startswith("-")
            host = spec.lstrip("-")
            host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
            try:
                socks.append(_tcp_socket(host, port, backlog))
            except OSError as err:
                if optional and err.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT,
                                              errno.EPROTONOSUPPORT):
                    continue
                raise ListenError(
                    f"Warning: Could not create server TCP listening socket {spec}:{port}: "
                    f"bind: {err.strerror}") from None
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


def _tcp_socket(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            # Like Redis: '::' takes IPv6 only, so '0.0.0.0' can share the port.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _unix_socket(path: str, perm: int, backlog: int) -> socket.socket:
    """A stale socket file from an earlier run is replaced, as Redis does; unixsocketperm
    (when not 0) sets the file's mode."""
    if len(path.encode()) >= _SUN_PATH:
        raise ListenError(f"unix socket path too long ({len(path.encode())}), must be under "
                          f"{_SUN_PATH}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        sock.bind(path)
        if perm:
            os.chmod(path, perm)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as err:
        sock.close()
        raise ListenError(f"Failed opening Unix socket: {err.strerror or err}") from None
    return sock


def reload_tls(server: Any, _value: Any = None) -> None:
    """CONFIG SET of a tls-* directive while TLS is in use: a new context for the
    connections that follow; on failure the directive keeps its old value."""
    holder = getattr(server, "tls_context", None)
    if holder is None:
        return
    try:
        holder.current = tls.server_context(server.config)
    except tls.TLSConfigError as err:
        log.warning("%s", err)
        raise ConfigError(TLS_UPDATE_FAILED) from None


for _name in PARAMS:
    if _name.startswith("tls-") and _name != "tls-port":
        on_config_set(_name, reload_tls)
_LISTEN_FAILED = "Unable to listen on this port. Check server logs."
on_config_set("port", lambda server, _: server.listeners.reopen("tcp", _LISTEN_FAILED))
on_config_set("tls-port", lambda server, _: server.listeners.reopen("tls", _LISTEN_FAILED))


def _bind_changed(server: Any, _value: Any) -> None:
    for kind in ("tcp", "tls"):
        server.listeners.reopen(kind, "Failed to bind to specified addresses.")


on_config_set("bind", _bind_changed)


_SUN_PATH = 108  # sizeof(sockaddr_un.sun_path) on Linux, the terminating NUL included


def remove_unix_socket(path: str) -> None:
    """At shutdown, like Redis: the socket file goes with the server."""
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


__all__ = ["DENIED", "ListenError", "Listeners", "denied_by_protected_mode", "is_local_peer",
           "reload_tls", "remove_unix_socket", "tune_tcp", "unix_addr"]
