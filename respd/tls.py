"""TLS for the ``tls-port`` listener: an ``ssl.SSLContext`` built from the tls-* directives
the way Redis's tlsConfigure reads them.

The standard library has no setters for TLSv1.3 ciphersuites or the server session cache;
those few OpenSSL calls go through ctypes on the context's own ``SSL_CTX`` (found and
checked once, see ``_native``).  Where that is impossible a non-default value of those
directives is refused at start-up rather than ignored.
"""

from __future__ import annotations

import ctypes
import logging
import ssl
from typing import Any

log = logging.getLogger("respd")


class TLSConfigError(Exception):
    """Why the TLS context could not be built (Redis logs the same sentence)."""


_PROTOCOLS = {
    "tlsv1": ssl.TLSVersion.TLSv1, "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2, "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}
_AUTH_CLIENTS = {"yes": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL,
                 "no": ssl.CERT_NONE}

# OpenSSL's SSL_CTX_ctrl codes and session cache modes (ssl.h).
_SET_SESS_CACHE_SIZE = 42
_SET_SESS_CACHE_MODE = 44
_SET_DH_AUTO = 118
_SESS_CACHE_OFF = 0
_SESS_CACHE_SERVER = 2


class ReloadableContext(ssl.SSLContext):
    """What a TLS listener holds: every new connection is wrapped by the context
    configured at that moment (``current``), so CONFIG SET of a tls-* directive applies
    to the connections that follow, as Redis's applyTlsCfg does."""

    current: ssl.SSLContext

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        return self.current.wrap_bio(*args, **kwargs)


def reloadable(context: ssl.SSLContext) -> ReloadableContext:
    holder = ReloadableContext(ssl.PROTOCOL_TLS_SERVER)
    holder.current = context
    return holder


def server_context(config: Any) -> ssl.SSLContext:
    """The context for accepted connections; raises TLSConfigError with Redis's reason."""
    if not config.tls_cert_file:
        raise TLSConfigError("No tls-cert-file configured!")
    if not config.tls_key_file:
        raise TLSConfigError("No tls-key-file configured!")
    auth = config.tls_auth_clients
    if auth != "no" and not (config.tls_ca_cert_file or config.tls_ca_cert_dir):
        raise TLSConfigError(
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
            "tls-replication or tls-auth-clients are enabled!")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _set_protocols(ctx, config.tls_protocols)
    try:
        ctx.load_cert_chain(config.tls_cert_file, config.tls_key_file,
                            password=config.tls_key_file_pass or None)
    except (OSError, ssl.SSLError) as err:
        raise TLSConfigError(f"Failed to load certificate: {config.tls_cert_file}: {err}")
    if config.tls_client_cert_file:
        # Used only for outgoing connections (replication, cluster), which respd never
        # makes; loaded anyway so a bad file fails the start as in Redis.
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(
                config.tls_client_cert_file, config.tls_client_key_file or None,
                password=config.tls_client_key_file_pass or None)
        except (OSError, ssl.SSLError) as err:
            raise TLSConfigError(
                f"Failed to load certificate: {config.tls_client_cert_file}: {err}")
    if config.tls_ca_cert_file or config.tls_ca_cert_dir:
        try:
            ctx.load_verify_locations(config.tls_ca_cert_file or None,
                                      config.tls_ca_cert_dir or None)
        except (OSError, ssl.SSLError) as err:
            raise TLSConfigError(f"Failed to configure CA certificate(s) file/directory: {err}")
    ctx.verify_mode = _AUTH_CLIENTS[auth]
    # Python's server contexts prefer their own cipher order and a cipher list of their
    # own; Redis leaves both to OpenSSL unless told otherwise.
    if config.tls_prefer_server_ciphers:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    try:
        ctx.set_ciphers(config.tls_ciphers or "DEFAULT")
    except ssl.SSLError as err:
        raise TLSConfigError(f"Failed to configure ciphers: {err}")
    if config.tls_dh_params_file:
        try:
            ctx.load_dh_params(config.tls_dh_params_file)
        except (OSError, ssl.SSLError) as err:
            raise TLSConfigError(
                f"Failed to load DH params file: {config.tls_dh_params_file}: {err}")
    _set_native(ctx, config)
    return ctx


def _set_protocols(ctx: ssl.SSLContext, text: str) -> None:
    """Space-separated TLSv1..TLSv1.3, case-insensitive; empty means TLSv1.2 and 1.3."""
    names = text.lower().split() or ["tlsv1.2", "tlsv1.3"]
    if any(name not in _PROTOCOLS for name in names):
        raise TLSConfigError("Invalid tls-protocols specified. Use a combination of 'TLSv1', "
                             "'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
    versions = sorted(_PROTOCOLS[name] for name in names)
    ctx.minimum_version, ctx.maximum_version = versions[0], versions[-1]


def _set_native(ctx: ssl.SSLContext, config: Any) -> None:
    """TLSv1.3 ciphersuites, the server session cache and automatic DH parameters (no
    Python API for them)."""
    lib, handle = _native(ctx)
    defaults = (not config.tls_ciphersuites and config.tls_session_caching
                and config.tls_session_cache_size == 20480
                and config.tls_session_cache_timeout == 300)
    if lib is None:
        if not defaults:
            raise TLSConfigError("tls-ciphersuites and tls-session-* need OpenSSL calls "
                                 "this Python cannot make; leave them at their defaults")
        return
    if not config.tls_dh_params_file:
        lib.SSL_CTX_ctrl(handle, _SET_DH_AUTO, 1, None)  # as Redis with OpenSSL 3
    if config.tls_ciphersuites and not lib.SSL_CTX_set_ciphersuites(
            handle, config.tls_ciphersuites.encode()):
        raise TLSConfigError(f"Failed to configure ciphersuites: {config.tls_ciphersuites}")
    if config.tls_session_caching:
        lib.SSL_CTX_ctrl(handle, _SET_SESS_CACHE_MODE, _SESS_CACHE_SERVER, None)
        lib.SSL_CTX_ctrl(handle, _SET_SESS_CACHE_SIZE, config.tls_session_cache_size, None)
        lib.SSL_CTX_set_timeout(handle, config.tls_session_cache_timeout)
        lib.SSL_CTX_set_session_id_context(handle, b"redis", 5)
    else:
        lib.SSL_CTX_ctrl(handle, _SET_SESS_CACHE_MODE, _SESS_CACHE_OFF, None)
        # Nor stateless tickets: no session is resumed.  (Redis 7.0 fails such a
        # handshake with an internal-error alert instead; here the client gets a full one.)
        ctx.options |= ssl.OP_NO_TICKET


def _native(ctx: ssl.SSLContext) -> tuple[Any, int]:
    """libssl (as the ssl module loaded it) and the context's SSL_CTX pointer, which
    CPython keeps as the first field after the object header.  The pointer is trusted
    only if OpenSSL reports the same options for it as Python does."""
    try:
        lib = ctypes.CDLL(ssl._ssl.__file__)  # type: ignore[attr-defined]
        lib.SSL_CTX_get_options.restype = ctypes.c_uint64
        lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.SSL_CTX_ctrl.restype = ctypes.c_long
        lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long,
                                     ctypes.c_void_p]
        lib.SSL_CTX_set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
        lib.SSL_CTX_set_session_id_context.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                       ctypes.c_uint]
    except (OSError, AttributeError):
        return None, 0
    handle = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not handle or lib.SSL_CTX_get_options(handle) != ctx.options:
        return None, 0
    return lib, handle


__all__ = ["ReloadableContext", "TLSConfigError", "reloadable", "server_context"]
