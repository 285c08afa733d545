"""CLIENT PAUSE: the server's pause state and the clients it holds back.

While a pause is on, dispatch asks ``postpones`` about every command (the last check of
processCommand, see respd.dispatch): a command the pause holds (all of them, or in
WRITE mode those that write or may replicate) is parked with everything the client
pipelined after it in ``client.pending``, behind a marker ``BlockState``.  When the
pause ends (``end``: CLIENT UNPAUSE, its timer, or the first command after its time)
every parked client is unparked and its requests run again, meeting the check afresh.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from respd.client import BlockState, Client

if TYPE_CHECKING:
    from respd.command import Command
    from respd.server import Server

PAUSE_KEYS: list[bytes] = []  # identifies the BlockState of a paused client


def now_ms() -> int:
    return int(time.time() * 1000)


class Pause:
    """Until when the server is paused, whether only writes wait, and who is parked."""

    __slots__ = ("server", "until_ms", "writes_only", "parked", "timer")

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.until_ms = 0  # 0: no pause
        self.writes_only = True
        self.parked: dict[Client, None] = {}
        self.timer: Any = None

    def start(self, timeout_ms: int, writes_only: bool) -> None:
        """CLIENT PAUSE: a pause only ever grows, the later end and the stricter mode
        win."""
        server = self.server
        self.writes_only = writes_only and (self.writes_only or not self.until_ms)
        self.until_ms = max(self.until_ms, now_ms() + timeout_ms)
        if self.timer is not None:
            self.timer.cancel()
        if server.loop is not None:
            delay = (self.until_ms - now_ms()) / 1000
            self.timer = server.loop.call_later(max(delay, 0), self._expired)

    def end(self) -> None:
        """Lift the pause and let every parked client run what it had sent."""
        server = self.server
        self.until_ms = 0
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        parked, self.parked = self.parked, {}
        for client in parked:
            server.blocking.unpark(client)
            server.resume_soon(client)

    def _expired(self) -> None:
        self.timer = None
        self.end()
        self.server.flush()


def postpones(client: Client, cmd: "Command", argv: list[bytes]) -> bool:
    """Called by dispatch while a pause is on: park the request if the pause holds it."""
    server = client.server
    state = server.pause
    if now_ms() >= state.until_ms:
        state.end()
        return False
    if state.writes_only and not _writes(client, cmd):
        return False
    client.pending.appendleft(argv)
    client.blocked = BlockState(client.db, PAUSE_KEYS, argv, None, 0)
    server.blocking.blocked_count += 1
    state.parked[client] = None
    return True


def _writes(client: Client, cmd: "Command") -> bool:
    """Redis's is_may_replicate_command: EXEC counts its queued commands."""
    if cmd.is_write or "may_replicate" in cmd.flags:
        return True
    if cmd.name == "exec" and client.multi:
        return any(q.is_write or "may_replicate" in q.flags for q, _ in client.multi)
    return False


def is_paused(client: Client) -> bool:
    """Whether a blocked client is held by the pause rather than waiting on keys."""
    return client.blocked is not None and client.blocked.keys is PAUSE_KEYS
