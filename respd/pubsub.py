"""Pub/sub state: channel and pattern subscriptions, and fan-out of published messages.

Fire-and-forget: a message goes to the clients subscribed at the moment of PUBLISH and
is gone.  Each message is encoded once per protocol version and the same bytes object is
queued to every subscriber (no per-subscriber encoding).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respd.glob import compile_pattern
from respd.resp import bulk

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server


class PubSub:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self.channels: dict[bytes, dict["Client", None]] = {}
        self.patterns: dict[bytes, dict["Client", None]] = {}

    def publish(self, channel: bytes, message: bytes) -> int:
        receivers = 0
        subscribers = self.channels.get(channel)
        if subscribers:
            body = b"$7\r\nmessage\r\n" + bulk(channel) + bulk(message)
            frames = (b"*3\r\n" + body, b">3\r\n" + body)
            for client in subscribers:
                client.push(frames[client.resp == 3])
            receivers += len(subscribers)
        for pattern, clients in self.patterns.items():
            if compile_pattern(pattern)(channel):
                body = b"$8\r\npmessage\r\n" + bulk(pattern) + bulk(channel) + bulk(message)
                frames = (b"*4\r\n" + body, b">4\r\n" + body)
                for client in clients:
                    client.push(frames[client.resp == 3])
                receivers += len(clients)
        return receivers

    def remove_client(self, client: "Client") -> None:
        for channel in client.channels:
            self._drop(self.channels, channel, client)
        for pattern in client.patterns:
            self._drop(self.patterns, pattern, client)
        client.channels.clear()
        client.patterns.clear()

    @staticmethod
    def _drop(table: dict[bytes, dict["Client", None]], name: bytes, client: "Client") -> None:
        clients = table.get(name)
        if clients is not None:
            clients.pop(client, None)
            if not clients:
                del table[name]

    def notify_keyspace_event(self, dbindex: int, cls: str, event: bytes, key: bytes) -> None:
        """Keyspace notifications: filled in with notify-keyspace-events support."""

    def check_output_limits(self, client: "Client") -> None:
        """Output-buffer limits for subscribers."""

    def cron(self) -> None:
        """Periodic checks (soft output limits)."""
