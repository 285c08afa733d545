"""Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH SSUBSCRIBE
SUNSUBSCRIBE SPUBLISH PUBSUB.

A (un)subscribe command answers with one confirmation per name, each its own top-level
frame (an array in RESP2, a push in RESP3) carrying the client's running count.  They
are returned together as ``Raw`` bytes, which is also what Redis puts inside an EXEC
reply.  The RESP2 subscribed-mode restriction is enforced in respd.dispatch.
"""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import REPLY_ON, REPLY_SKIP, Client
from respd.command import command, container
from respd.glob import compile_pattern
from respd.pubsub import CHANNELS, PATTERNS, SHARD_CHANNELS
from respd.resp import NO_REPLY, Push, Raw, Status, encode

GROUP = "pubsub"
_SUBSCRIBE_FLAGS = "pubsub noscript loading stale"


def _count(client: Client, kind: str) -> int:
    # Shard subscriptions are counted apart from channels and patterns, as in Redis.
    if kind == SHARD_CHANNELS:
        return len(client.shard_channels)
    return len(client.channels) + len(client.patterns)


def _confirm(client: Client, word: bytes, name: bytes | None, kind: str) -> bytes:
    return encode(Push([word, name, _count(client, kind)]), client.resp)


def _confirmations(client: Client, frames: list[bytes]) -> Any:
    """The (un)subscribe confirmations are pushes: CLIENT REPLY OFF and SKIP do not
    silence them (Redis's CLIENT_PUSHING); this command is the one SKIP skipped."""
    if client.reply_mode != REPLY_ON:
        if client.reply_mode == REPLY_SKIP:
            client.reply_mode = REPLY_ON
        for frame in frames:
            client.push(frame)
        return NO_REPLY
    return Raw(b"".join(frames))


def _subscribe(client: Client, argv: list[bytes], kind: str, word: bytes) -> Any:
    pubsub = client.server.pubsub
    frames = []
    for name in argv[1:]:
        pubsub.subscribe(client, kind, name)
        frames.append(_confirm(client, word, name, kind))
    return _confirmations(client, frames)


def _unsubscribe(client: Client, argv: list[bytes], kind: str, word: bytes) -> Any:
    """Named ones, or all of this kind; with none at all, one confirmation with a null
    name."""
    names = argv[1:] or list(getattr(client, kind))
    if not names:
        return _confirmations(client, [_confirm(client, word, None, kind)])
    pubsub = client.server.pubsub
    frames = []
    for name in names:
        pubsub.unsubscribe(client, kind, name)
        frames.append(_confirm(client, word, name, kind))
    return _confirmations(client, frames)


@command("SUBSCRIBE", arity=-2, flags=_SUBSCRIBE_FLAGS, group=GROUP, since="2.0.0",
         summary="Listen for messages published to the given channels",
         complexity="O(N) where N is the number of channels to subscribe to.",
         syntax="channel ...")
def subscribe(client: Client, argv: list[bytes]) -> Any:
    return _subscribe(client, argv, CHANNELS, b"subscribe")


@command("UNSUBSCRIBE", arity=-1, flags=_SUBSCRIBE_FLAGS, group=GROUP, since="2.0.0",
         summary="Stop listening for messages posted to the given channels",
         complexity="O(N) where N is the number of clients already subscribed to a channel.",
         syntax="[channel ...]")
def unsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv, CHANNELS, b"unsubscribe")


@command("PSUBSCRIBE", arity=-2, flags=_SUBSCRIBE_FLAGS, group=GROUP, since="2.0.0",
         summary="Listen for messages published to channels matching the given patterns",
         complexity="O(N) where N is the number of patterns the client is already "
                    "subscribed to.",
         syntax="pattern:pattern ...")
def psubscribe(client: Client, argv: list[bytes]) -> Any:
    return _subscribe(client, argv, PATTERNS, b"psubscribe")


@command("PUNSUBSCRIBE", arity=-1, flags=_SUBSCRIBE_FLAGS, group=GROUP, since="2.0.0",
         summary="Stop listening for messages posted to channels matching the given "
                 "patterns",
         complexity="O(N+M) where N is the number of patterns the client is already "
                    "subscribed and M is the number of total patterns subscribed in the "
                    "system (by any client).",
         syntax="[pattern:pattern ...]")
def punsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv, PATTERNS, b"punsubscribe")


@command("SSUBSCRIBE", arity=-2, flags=_SUBSCRIBE_FLAGS, keys=(1, -1, 1), group=GROUP,
         since="7.0.0", summary="Listen for messages published to the given shard channels",
         complexity="O(N) where N is the number of shard channels to subscribe to.",
         syntax="shardchannel ...")
def ssubscribe(client: Client, argv: list[bytes]) -> Any:
    # Unlike SUBSCRIBE (allowed in MULTI for backward compatibility), SSUBSCRIBE refuses
    # any client that expects exactly one reply per command.
    if client.deny_blocking:
        raise errors.SSUBSCRIBE_DENY_BLOCKING
    return _subscribe(client, argv, SHARD_CHANNELS, b"ssubscribe")


@command("SUNSUBSCRIBE", arity=-1, flags=_SUBSCRIBE_FLAGS, keys=(1, -1, 1), group=GROUP,
         since="7.0.0", summary="Stop listening for messages posted to the given shard "
                                "channels",
         complexity="O(N) where N is the number of clients already subscribed to a shard "
                    "channel.",
         syntax="[shardchannel ...]")
def sunsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv, SHARD_CHANNELS, b"sunsubscribe")


@command("PUBLISH", arity=3, flags="pubsub loading stale fast", plain=True, group=GROUP,
         since="2.0.0",
         summary="Post a message to a channel",
         complexity="O(N+M) where N is the number of clients subscribed to the receiving "
                    "channel and M is the total number of subscribed patterns (by any "
                    "client).",
         syntax="channel message")
def publish(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if server.cluster_bus is not None:  # cluster mode: the bus, not the replication stream, carries it
        server.cluster_bus.publish(argv[1], argv[2])
    else:
        repl = server.replication
        if repl.backlog is not None and repl.master is None:  # Redis replicates PUBLISH
            repl.feed([(client.db.index, argv)])
    return client.server.pubsub.publish(argv[1], argv[2])


@command("SPUBLISH", arity=3, flags="pubsub loading stale fast", plain=True, keys=(1, 1, 1),
         group=GROUP, since="7.0.0", summary="Post a message to a shard channel",
         complexity="O(N) where N is the number of clients subscribed to the receiving "
                    "shard channel.",
         syntax="shardchannel message")
def spublish(client: Client, argv: list[bytes]) -> Any:
    bus = client.server.cluster_bus
    if bus is not None:  # the shard's other nodes: its primary and replicas
        bus.publish(argv[1], argv[2], shard=True)
    return client.server.pubsub.publish(argv[1], argv[2], shard=True)


# --- PUBSUB introspection ----------------------------------------------------------------

container("PUBSUB", group=GROUP, since="2.8.0", summary="A container for Pub/Sub commands")

_HELP = [
    b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CHANNELS [<pattern>]",
    b"    Return the currently active channels matching a <pattern> (default: '*').",
    b"NUMPAT",
    b"    Return number of subscriptions to patterns.",
    b"NUMSUB [<channel> ...]",
    b"    Return the number of subscribers for the specified channels, excluding",
    b"    pattern subscriptions(default: no channels).",
    b"SHARDCHANNELS [<pattern>]",
    b"    Return the currently active shard level channels matching a <pattern> "
    b"(default: '*').",
    b"SHARDNUMSUB [<shardchannel> ...]",
    b"    Return the number of subscribers for the specified shard level channel(s)",
    b"HELP",
    b"    Prints this help.",
]


@command("PUBSUB HELP", arity=2, flags="loading stale", group=GROUP, since="6.2.0", acl="",
         summary="Show helpful text about the different subcommands")
def pubsub_help(client: Client, argv: list[bytes]) -> Any:
    return [Status(line) for line in _HELP]


def _channel_list(argv: list[bytes], table: dict[bytes, Any]) -> list[bytes]:
    if len(argv) > 3:
        raise errors.unknown_subcommand_or_arity(argv[1], "pubsub")
    if len(argv) == 2:
        return list(table)
    matches = compile_pattern(argv[2])
    return [name for name in table if matches(name)]


def _numsub(argv: list[bytes], table: dict[bytes, Any]) -> list[Any]:
    reply: list[Any] = []
    for name in argv[2:]:
        reply += (name, len(table.get(name, ())))
    return reply


@command("PUBSUB CHANNELS", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="2.8.0", summary="List active channels",
         complexity="O(N) where N is the number of active channels, and assuming constant "
                    "time pattern matching (relatively short channels and patterns)",
         syntax="[pattern:pattern]")
def pubsub_channels(client: Client, argv: list[bytes]) -> Any:
    return _channel_list(argv, client.server.pubsub.channels)


@command("PUBSUB NUMSUB", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="2.8.0", summary="Get the count of subscribers for channels",
         complexity="O(N) for the NUMSUB subcommand, where N is the number of requested "
                    "channels",
         syntax="[channel ...]")
def pubsub_numsub(client: Client, argv: list[bytes]) -> Any:
    return _numsub(argv, client.server.pubsub.channels)


@command("PUBSUB NUMPAT", arity=2, flags="pubsub loading stale", group=GROUP,
         since="2.8.0", summary="Get the count of unique patterns pattern subscriptions")
def pubsub_numpat(client: Client, argv: list[bytes]) -> Any:
    return len(client.server.pubsub.patterns)


@command("PUBSUB SHARDCHANNELS", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="7.0.0", summary="List active shard channels",
         complexity="O(N) where N is the number of active shard channels, and assuming "
                    "constant time pattern matching (relatively short shard channels).",
         syntax="[pattern:pattern]")
def pubsub_shardchannels(client: Client, argv: list[bytes]) -> Any:
    return _channel_list(argv, client.server.pubsub.shard_channels)


@command("PUBSUB SHARDNUMSUB", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="7.0.0", summary="Get the count of subscribers for shard channels",
         complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of "
                    "requested shard channels",
         syntax="[shardchannel ...]")
def pubsub_shardnumsub(client: Client, argv: list[bytes]) -> Any:
    return _numsub(argv, client.server.pubsub.shard_channels)
