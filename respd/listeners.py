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

async def open_all(server: Any, factory: Callable[[], asyncio.Protocol]) -> list[Any]:
    """Every configured listener, as asyncio servers; raises ListenError."""
    config = server.config
    loop = asyncio.get_running_loop()
    opened: list[Any] = []
    backlog = config.tcp_backlog  # the loop listens again with its own default otherwise
    try:
        context = tls.reloadable(tls.server_context(config)) if config.tls_port else None
    except tls.TLSConfigError as err:
        raise ListenError(f"{err}\nFailed to configure TLS. Check logs for more info.") from None
    server.tls_context = context
    try:
        if config.port:
            for sock in _tcp_sockets(config.bind, config.port, backlog, "TCP"):
                opened.append(await loop.create_server(factory, sock=sock, backlog=backlog))
        if context is not None:
            for sock in _tcp_sockets(config.bind, config.tls_port, backlog, "TLS"):
                opened.append(await loop.create_server(factory, sock=sock, ssl=context,
                                                       backlog=backlog))
        if config.unixsocket:
            opened.append(await loop.create_unix_server(
                factory, sock=_unix_socket(config.unixsocket, config.unixsocketperm, backlog),
                backlog=backlog))
    except BaseException:
        for srv in opened:
            srv.close()
        raise
    if not opened:
        raise ListenError("Configured to not listen anywhere, exiting.")
    return opened


def _tcp_sockets(binds: list[str], port: int, backlog: int, kind: str) -> list[socket.socket]:
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
                    f"bind: {err.strerror}\nFailed listening on port {port} ({kind}), "
                    "aborting.") from None
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
        raise ConfigError("Unable to update TLS configuration. Check server logs.") from None


for _name in PARAMS:
    if _name.startswith("tls-") and PARAMS[_name].mutable:
        on_config_set(_name, reload_tls)


def remove_unix_socket(path: str) -> None:
    """At shutdown, like Redis: the socket file goes with the server."""
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


__all__ = ["DENIED", "ListenError", "denied_by_protected_mode", "is_local_peer", "open_all",
           "reload_tls", "remove_unix_socket", "tune_tcp", "unix_addr"]
