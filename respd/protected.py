"""Redis's protected actions: DEBUG, MODULE LOAD/LOADEX/UNLOAD and the protected configs
(dir, dbfilename...) are allowed when their enable-* directive says 'yes', or 'local'
and the client is local (a Unix socket, or 127.0.0.1 / ::1)."""

from __future__ import annotations

from typing import Any

from respd import errors

# command name → (config attribute, name in the error, directive)
COMMANDS = {
    "debug": ("enable_debug_command", "DEBUG", "enable-debug-command"),
    "module|load": ("enable_module_command", "MODULE", "enable-module-command"),
    "module|loadex": ("enable_module_command", "MODULE", "enable-module-command"),
    "module|unload": ("enable_module_command", "MODULE", "enable-module-command"),
}


def is_local(client: Any) -> bool:
    """Redis's islocalClient, from the address CLIENT LIST shows: Unix socket clients
    ('/path:0') and the exact peers 127.0.0.1 / ::1; internal clients have none."""
    addr: bytes = client.addr
    return not addr or addr[:1] == b"/" or addr.rpartition(b":")[0] in (b"127.0.0.1",
                                                                         b"[::1]")


def allows(setting: str, client: Any) -> bool:
    return setting == "yes" or (setting == "local" and is_local(client))


def check_command(client: Any, name: str) -> None:
    """Raise Redis's rejection when a protected command is not enabled for this client
    (dispatch calls this after the arity check, before authentication, as Redis does)."""
    entry = COMMANDS.get(name)
    if entry is not None and not allows(getattr(client.server.config, entry[0]), client):
        raise errors.protected_command_not_allowed(entry[1], entry[2])


__all__ = ["COMMANDS", "allows", "check_command", "is_local"]
