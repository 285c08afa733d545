"""FAILOVER (Redis 7.0's coordinated failover): the primary pauses writes, waits until a
replica (the TO target, or any) has acknowledged every byte of the stream, then becomes
a replica of it; its PSYNC carries ``FAILOVER`` so the target promotes itself before
answering, and the history continues there with ``+CONTINUE`` (PSYNC2).  Without
FORCE, a TIMEOUT reached while waiting aborts and writes resume."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from respd.replication import replicate_from, replicate_none

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

NO_FAILOVER = "no-failover"
WAITING = "waiting-for-sync"
IN_PROGRESS = "failover-in-progress"

_PAUSE_MS = 10 * 365 * 86400 * 1000  # until the failover ends (Redis pauses "forever")


class Failover:
    """The state of one FAILOVER, kept on the replication state."""

    def __init__(self, target: tuple[str, int] | None, timeout_ms: int, force: bool) -> None:
        self.target = target
        self.deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms else 0.0
        self.force = force
        self.state = WAITING

    def progress(self, server: "Server") -> None:
        """Replication calls this on every replica ACK and from its cron."""
        update(server)

    def refused(self, server: "Server") -> None:
        """The replica link calls this when the target refused PSYNC FAILOVER."""
        rejected(server)


def start(client: "Client", target: tuple[str, int] | None, timeout_ms: int,
          force: bool) -> None:
    server = client.server
    server.replication.failover = Failover(target, timeout_ms, force)
    server.pause.start(_PAUSE_MS, writes_only=True)
    server.replication.request_acks()
    update(server)


def abort(server: "Server", reason: str) -> None:
    logging.getLogger("respd").warning("FAILOVER aborted: %s", reason)
    finish(server)


def finish(server: "Server") -> None:
    server.replication.end_failover()


def update(server: "Server") -> None:
    """updateFailoverStatus: called from the cron and on every replica ACK."""
    repl = server.replication
    failover = repl.failover
    if failover is None or failover.state != WAITING:
        return
    chosen: tuple[str, int] | None = None
    for client, state in repl.replicas.items():
        address = (replica_ip(client, state), state.port)
        if failover.target is not None and address != failover.target:
            continue
        if state.online and state.ack_offset == repl.offset:
            chosen = address
            break
    if chosen is None and failover.deadline and time.monotonic() >= failover.deadline:
        if failover.force and failover.target is not None:
            chosen = failover.target
        else:
            abort(server, "Replica never caught up before timeout")
            return
    if chosen is None:
        return
    failover.state = IN_PROGRESS  # the link's PSYNC says FAILOVER while this is set
    replicate_from(server, chosen[0], chosen[1])


def replica_ip(client: "Client", state: Any) -> str:
    return (state.ip or client.addr.rsplit(b":", 1)[0]).decode("latin-1")


def rejected(server: "Server") -> None:
    """The target refused PSYNC FAILOVER: back to being the primary, writes resume."""
    replicate_none(server)
    abort(server, "Failover target rejected psync request")
    server.flush()
