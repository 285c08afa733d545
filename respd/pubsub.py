"""Pub/sub state: channel, pattern and shard-channel subscriptions, fan-out of published
messages, keyspace notifications and the output-buffer limits that protect the server
from subscribers that stop reading.

Fire-and-forget: a message goes to the clients subscribed at the moment of PUBLISH and
is gone.  Each message is encoded once per protocol version and the same bytes object is
queued to every subscriber (no per-subscriber encoding); ``client.push`` puts it in the
client's output list, so a RESP3 client publishing to its own channel sees the push
before its ``:1``, as with Redis.

Tables map a name to an ordered set of clients (``dict[Client, None]``); each client
keeps its own ordered sets (``client.channels`` / ``patterns`` / ``shard_channels``) for
UNSUBSCRIBE-all, CLIENT LIST and cleanup on disconnect.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable

from respd import notify
from respd.glob import compile_pattern
from respd.resp import bulk

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

log = logging.getLogger("respd")

# The three kinds of subscription, named after the Client/PubSub attributes holding them.
CHANNELS = "channels"
PATTERNS = "patterns"
SHARD_CHANNELS = "shard_channels"

_MESSAGE = b"$7\r\nmessage\r\n"
_SMESSAGE = b"$8\r\nsmessage\r\n"
_PMESSAGE = b"$8\r\npmessage\r\n"

# Channels whose matching patterns are remembered; the memo is dropped when it grows past
# this (keyspace notifications name a channel per key) or when the set of patterns changes.
_MATCH_MEMO_MAX = 4096

Subscribers = dict["Client", None]


class PubSub:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self.channels: dict[bytes, Subscribers] = {}
        self.patterns: dict[bytes, Subscribers] = {}
        self.shard_channels: dict[bytes, Subscribers] = {}
        self._matchers: dict[bytes, Callable[[bytes], bool]] = {}
        self._matching: dict[bytes, tuple[bytes, ...]] = {}
        # Clients over their soft output limit → when they first crossed it (monotonic).
        self._soft_since: dict["Client", float] = {}
        # Per-channel [published, delivered, dropped] for /metrics; None (one test per
        # PUBLISH) unless the HTTP listener is on (respd.metrics).
        self.channel_stats: dict[bytes, list[int]] | None = None

    # --- subscriptions -------------------------------------------------------------------

    def subscribe(self, client: "Client", kind: str, name: bytes) -> None:
        """Add ``name`` to the client's ``kind`` subscriptions (no-op if present)."""
        own: dict[bytes, None] = getattr(client, kind)
        if name in own:
            return
        own[name] = None
        table: dict[bytes, Subscribers] = getattr(self, kind)
        subscribers = table.get(name)
        if subscribers is None:
            subscribers = table[name] = {}
            if kind == PATTERNS:
                self._matchers[name] = compile_pattern(name)
                self._matching.clear()
        subscribers[client] = None

    def unsubscribe(self, client: "Client", kind: str, name: bytes) -> None:
        own: dict[bytes, None] = getattr(client, kind)
        if name not in own:
            return
        del own[name]
        table: dict[bytes, Subscribers] = getattr(self, kind)
        subscribers = table[name]
        del subscribers[client]
        if not subscribers:
            # Forget empty entries so that many short-lived channels cost nothing.
            del table[name]
            if kind == PATTERNS:
                del self._matchers[name]
                self._matching.clear()

    def remove_client(self, client: "Client") -> None:
        """Disconnect and RESET: drop every subscription and limit-tracking state."""
        for kind in (CHANNELS, PATTERNS, SHARD_CHANNELS):
            for name in list(getattr(client, kind)):
                self.unsubscribe(client, kind, name)
        self._soft_since.pop(client, None)

    # --- publishing ----------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes, shard: bool = False) -> int:
        """PUBLISH / SPUBLISH: deliver and count; returns the number of receivers.
        Keyspace notifications bypass the counters: they are not clients' messages."""
        if shard:
            receivers = self._deliver_shard(channel, message)
        elif channel in self.channels or self.patterns:
            receivers = self._deliver(channel, message)
        else:  # the lossy model's common case: nobody listens, the message is dropped
            receivers = 0
        stats = self.server.stats
        stats["pubsub_published"] += 1
        if receivers:
            stats["pubsub_deliveries"] += receivers
        else:
            stats["pubsub_dropped"] += 1
        if self.channel_stats is not None:
            self._count_channel(channel, receivers)
        return receivers

    def _count_channel(self, channel: bytes, receivers: int) -> None:
        table = self.channel_stats
        assert table is not None
        counts = table.get(channel)
        if counts is None:
            # Bounded: channels beyond the cap are only in the totals.
            if len(table) >= self.server.config.metrics_max_series // 4:
                return
            counts = table[channel] = [0, 0, 0]
        counts[0] += 1
        if receivers:
            counts[1] += receivers
        else:
            counts[2] += 1

    def _deliver(self, channel: bytes, message: bytes) -> int:
        receivers = 0
        subscribers = self.channels.get(channel)
        if subscribers:
            _fan_out(subscribers, 3, _MESSAGE + bulk(channel) + bulk(message),
                     self.server.pending_writes)
            receivers = len(subscribers)
        matching = self._patterns_matching(channel) if self.patterns else ()
        if matching:
            tail = bulk(channel) + bulk(message)
            for pattern in matching:
                subscribers = self.patterns[pattern]
                _fan_out(subscribers, 4, _PMESSAGE + bulk(pattern) + tail,
                         self.server.pending_writes)
                receivers += len(subscribers)
        return receivers

    def _deliver_shard(self, channel: bytes, message: bytes) -> int:
        # Shard channels ignore patterns.
        subscribers = self.shard_channels.get(channel)
        if not subscribers:
            return 0
        _fan_out(subscribers, 3, _SMESSAGE + bulk(channel) + bulk(message),
                 self.server.pending_writes)
        return len(subscribers)

    def _patterns_matching(self, channel: bytes) -> tuple[bytes, ...]:
        """The subscribed patterns matching channel, memoised per channel so a busy
        channel is not tested against every pattern on each message."""
        found = self._matching.get(channel)
        if found is None:
            found = tuple(p for p, matches in self._matchers.items() if matches(channel))
            if len(self._matching) >= _MATCH_MEMO_MAX:
                self._matching.clear()
            self._matching[channel] = found
        return found

    # --- keyspace notifications ----------------------------------------------------------

    def notify_keyspace_event(self, dbindex: int, cls: str, event: bytes, key: bytes) -> None:
        """Publish __keyspace@<db>__:<key> <event> and __keyevent@<db>__:<event> <key>
        when notify-keyspace-events enables ``cls`` (a class letter: "g", "$", "x"...)."""
        flags = self.server.config.notify_keyspace_events
        if not flags or not flags & notify.CLASS_BITS[cls]:
            return
        if flags & notify.KEYSPACE:
            self._deliver(b"__keyspace@%d__:%s" % (dbindex, key), event)
        if flags & notify.KEYEVENT:
            self._deliver(b"__keyevent@%d__:%s" % (dbindex, event), key)

    # --- slow subscribers ----------------------------------------------------------------

    def check_output_limits(self, client: "Client") -> None:
        """client-output-buffer-limit, after a write: close a client whose unsent output
        reached the hard limit, or stayed over the soft limit longer than allowed.  The
        output lives in the transport's buffer, so the publisher never waits for it."""
        cls = "replica" if client.flags_extra == "S" else (
            "pubsub" if client.in_pubsub_mode else "normal")
        hard, soft, seconds = self.server.config.client_output_buffer_limit[cls]
        if not (hard or soft) or client.transport is None:
            self._soft_since.pop(client, None)  # limits may have been switched off
            return
        used = client.transport.get_write_buffer_size()
        if hard and used >= hard:
            self.disconnect_over_limit(client, cls, used)
        elif soft and used >= soft:
            since = self._soft_since.setdefault(client, time.monotonic())
            if time.monotonic() - since > seconds:
                self.disconnect_over_limit(client, cls, used)
        else:
            self._soft_since.pop(client, None)

    def cron(self) -> None:
        """A client over its soft limit may receive nothing more: check it anyway."""
        for client in list(self._soft_since):
            if client.closed:
                del self._soft_since[client]
            else:
                self.check_output_limits(client)

    def disconnect_over_limit(self, client: "Client", cls: str, used: int) -> None:
        log.warning("Client id=%d addr=%s (%s) closed for overcoming of output buffer "
                    "limits (%d bytes pending).", client.id, client.addr.decode(), cls, used)
        self.server.stats["client_output_buffer_disconnections"] += 1
        transport = client.transport
        # Drop what is queued instead of trying to send it, and forget the client now so
        # nothing more is queued for it.
        self.server.remove_client(client)
        transport.abort()


def _fan_out(subscribers: Subscribers, length: int, body: bytes,
             pending_writes: dict["Client", None]) -> None:
    """Queue one message to every subscriber: two encodings, shared by all.  Client.push
    inlined (this loop runs once per subscriber per message); subscribers are live
    network clients, as a disconnect unsubscribes them at once."""
    resp2 = b"*%d\r\n" % length + body
    resp3 = b">%d\r\n" % length + body
    for client in subscribers:
        out = client.out
        if not out:
            pending_writes[client] = None
        out.append(resp3 if client.resp == 3 else resp2)