"""MISCONF: writes refused while the server cannot persist (stop-writes-on-bgsave-error).

Redis refuses write commands, and PING, with ``-MISCONF ...`` once a background save
failed, as long as save points are configured and stop-writes-on-bgsave-error is yes;
the next successful save lifts it.  ``server.disk_error`` is the ``DiskError`` in force
(None almost always), so dispatch asks its ``refusal`` only then (an attribute, so
dispatch does not import this module and what it needs).  The commands a replica obeys
from its primary are not refused: with replica-ignore-disk-write-errors no the replica
stops (Redis panics), with yes it logs and applies them.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from respd import errors
from respd.config import on_config_set
from respd.errors import ReplyError
from respd.eviction import script_flags

if TYPE_CHECKING:
    from respd.client import Client
    from respd.command import Command
    from respd.server import Server

log = logging.getLogger("respd")

_LOG_INTERVAL = 10.0  # seconds between "applying a command" warnings, as Redis


def update(server: "Server", _: Any = None) -> None:
    """writeCommandsDeniedByDiskError (the RDB case): recomputed when a save ends and
    when its settings change."""
    config = server.config
    failing = (config.stop_writes_on_bgsave_error and bool(config.save)
               and not server.persistence.last_bgsave_ok)
    server.disk_error = RDB_ERROR if failing else None
    server.update_checks()


for _name in ("stop-writes-on-bgsave-error", "save"):
    on_config_set(_name, update)


def _writes(client: "Client", cmd: "Command", argv: list[bytes]) -> bool:
    """processCommand's is_write_command: the command's flags, an EXEC's queued
    commands, a script's declared flags (without no-writes it may write)."""
    if cmd.is_write:
        return True
    if cmd.name == "exec":
        return client.multi is not None and any(c.is_write for c, _ in client.multi)
    if cmd.name in ("eval", "evalsha", "fcall") and len(argv) > 1:
        flags = script_flags(client.server, cmd.name, argv[1])
        return flags is not None and b"no-writes" not in flags
    return False


class DiskError:
    __slots__ = ("error", "last_warning")

    def __init__(self, error: ReplyError) -> None:
        self.error = error
        self.last_warning = -_LOG_INTERVAL

    def refusal(self, client: "Client", cmd: "Command", argv: list[bytes]) -> ReplyError | None:
        """The MISCONF error for this command, or None to run it."""
        if not (cmd.name == "ping" or _writes(client, cmd, argv)):
            return None
        if not client.loading:
            return self.error
        if cmd.name != "ping" and not client.server.config.replica_ignore_disk_write_errors:
            log.critical("Guru Meditation: Replica was unable to write command to disk.")
            logging.shutdown()
            os._exit(1)
        now = time.monotonic()
        if now - self.last_warning > _LOG_INTERVAL:
            self.last_warning = now
            log.warning("Replica is applying a command even though it is unable to write "
                        "to disk.")
        return None


RDB_ERROR = DiskError(errors.MISCONF_RDB)
