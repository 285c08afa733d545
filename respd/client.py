"""A client's state: everything Redis keeps in its ``client`` struct that commands read.

A ``Client`` does not own a socket: ``transport`` is set by the connection for network
clients and left None for the internal clients that run Lua's ``redis.call`` and AOF
replay through the same dispatch path.  Replies are appended to ``out`` (encoded bytes)
and the server writes them all at once after the current batch of commands
(``Server.flush``), so pipelined replies and pub/sub pushes leave in one write.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from respd.resp import RequestReader

if TYPE_CHECKING:
    from respd.command import Command
    from respd.server import Server
    from respd.storage.db import Database


# CLIENT REPLY modes; ON is falsy so the hot path tests one attribute.
REPLY_ON, REPLY_OFF, REPLY_SKIP = 0, 1, 2


class BlockState:
    """Why and until when a client is parked (see respd.blocking)."""

    __slots__ = ("db", "keys", "argv", "timer", "timeout_reply", "deadline_ms", "unblock_error")

    def __init__(
        self, db: "Database", keys: list[bytes], argv: list[bytes], timeout_reply: Any,
        deadline_ms: int,
    ) -> None:
        self.db = db
        self.keys = keys
        self.argv = argv
        self.timeout_reply = timeout_reply
        self.deadline_ms = deadline_ms  # 0: forever
        self.timer: Any = None
        self.unblock_error: Any = None


class Client:
    __slots__ = (
        "id", "server", "db", "resp", "name", "lib_name", "lib_ver", "authenticated",
        "out", "transport", "reader", "pending", "addr", "laddr", "fd",
        "created", "last_interaction", "last_cmd", "read_size",
        "multi", "multi_error", "watched", "dirty_cas",
        "channels", "patterns", "shard_channels",
        "blocked", "reprocessing", "deny_blocking", "in_script", "loading",
        "propagate_as", "reply_mode", "close_after_reply", "closed",
        "no_evict", "no_touch", "is_monitor", "paused_output", "flags_extra",
        "tracking", "user", "acl_restricted", "cluster_flags",
    )

    def __init__(self, server: "Server", client_id: int, transport: Any = None) -> None:
        self.id = client_id
        self.server = server
        self.db: Database = server.dbs[0]
        self.resp = 2
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        # ACL: every connection starts as the default user, authenticated if that user
        # needs no password; acl_restricted (the user may be denied something) is what
        # dispatch tests, so an unrestricted user costs one attribute test.
        default = server.acl.default
        self.user = default
        self.authenticated = default.nopass and default.enabled
        self.acl_restricted = default.restricted
        self.out: list[bytes] = []
        self.transport = transport
        self.reader = RequestReader(server.config.proto_max_bulk_len)
        self.pending: deque[list[bytes]] = deque()  # parsed, not yet run (blocked/paused)
        self.addr = b""
        self.laddr = b""
        self.fd = -1
        self.created = time.time()
        self.last_interaction = self.created
        self.last_cmd: Command | None = None  # rendered only by CLIENT LIST/INFO
        self.read_size = 0  # bytes of the last read: the caller's qbuf in CLIENT LIST/INFO
        # MULTI: None when not in a transaction, else the queued (command, argv) pairs.
        self.multi: list[tuple[Any, list[bytes]]] | None = None
        self.multi_error = False
        self.watched: list[tuple["Database", bytes]] = []
        self.dirty_cas = False
        # Subscriptions, as ordered sets.
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_channels: dict[bytes, None] = {}
        self.blocked: BlockState | None = None
        self.reprocessing = False  # re-running a blocked command: do not park again
        self.deny_blocking = False  # inside MULTI/EXEC, a script, or AOF loading
        self.in_script = False
        self.loading = False
        # None: propagate the command as executed; a list: propagate these instead.
        self.propagate_as: list[list[bytes]] | None = None
        self.reply_mode = REPLY_ON
        self.close_after_reply = False
        self.closed = False
        self.no_evict = False
        self.no_touch = False
        self.is_monitor = False
        self.paused_output = False
        self.flags_extra = ""
        self.tracking: Any = None  # respd.tracking.ClientTracking while CLIENT TRACKING is on
        self.cluster_flags = 0  # respd.cluster.routing: ASKING / READONLY

    @property
    def subscription_count(self) -> int:
        return len(self.channels) + len(self.patterns)

    @property
    def last_cmd_name(self) -> bytes:
        return self.last_cmd.name.encode() if self.last_cmd is not None else b"NULL"

    @property
    def in_pubsub_mode(self) -> bool:
        return bool(self.channels or self.patterns or self.shard_channels)

    def push(self, frame: bytes) -> None:
        """Queue already-encoded bytes (a pub/sub message) for the next flush."""
        if self.transport is None or self.closed:
            return
        if not self.out:
            self.server.pending_writes[self] = None
        self.out.append(frame)

    def reply(self, value: Any) -> None:
        """Queue a reply value outside the normal request/response flow (unblocking)."""
        from respd.resp import encode

        self.push(encode(value, self.resp))

    def block(self, keys: list[bytes], timeout_ms: int, timeout_reply: Any,
              argv: list[bytes] | None = None) -> Any:
        """Park this client on ``keys`` (see respd.blocking).  Inside MULTI, a script or
        AOF loading the command cannot block, and answers its timeout reply at once."""
        if self.deny_blocking:
            return timeout_reply
        return self.server.blocking.park(self, keys, timeout_ms, timeout_reply, argv)

    def discard_transaction(self) -> None:
        """Leave MULTI, if in it, and forget the WATCHed keys (discardTransaction)."""
        self.multi = None
        self.multi_error = False
        self.unwatch_all()

    def unwatch_all(self) -> None:
        for db, key in self.watched:
            watchers = db.watched.get(key)
            if watchers is not None:
                watchers.pop(self, None)
                if not watchers:
                    del db.watched[key]
        self.watched.clear()
        self.dirty_cas = False


# --- CLIENT LIST lines and CLIENT KILL, also used by ACL and the log -------------------------

CLIENT_TYPES = {b"normal": "normal", b"master": "master", b"slave": "replica",
                b"replica": "replica", b"pubsub": "pubsub"}


def client_type(client: Client) -> str:
    # Monitors count as normal clients, as in Redis's getClientType.
    if client.flags_extra:  # replication: "S" an attached replica, "M" our primary
        return "replica" if client.flags_extra == "S" else "master"
    return "pubsub" if client.in_pubsub_mode else "normal"


def _flags(client: Client) -> str:
    """Flag letters in catClientInfoString's order."""
    flags = client.flags_extra  # "S" a replica, "M" the primary (replication)
    if client.is_monitor:
        flags += "O"
    if client.in_pubsub_mode:
        flags += "P"
    if client.multi is not None:
        flags += "x"
    if client.blocked is not None:
        flags += "b"
    if client.tracking is not None:
        flags += "t" + ("R" if client.tracking.broken else "") + (
            "B" if client.tracking.bcast else "")
    if client.dirty_cas:
        flags += "d"
    if client.close_after_reply:
        flags += "c"
    if client.addr[:1] == b"/":  # a Unix socket client (its address is the path)
        flags += "U"
    if client.no_evict:
        flags += "e"
    return flags or "N"


# Redis's query buffer as CLIENT LIST shows it: an empty sds (4 bytes free, an 8-byte
# allocation) until the first read, room for a 16 KB read (20474 bytes free in a 20480-byte
# allocation) once read into, trimmed back when idle for more than 2 s (clientsCron).
_QUERY_EMPTY = (4, 8)
_QUERY_ALLOC, _QUERY_SIZE = 20474, 20480
_QUERY_IDLE_S = 2
# zmalloc_size(client) and the static reply buffer (rbs) of Redis 7.0 on 64-bit Linux.
_CLIENT_STRUCT = 768
_REPLY_BUFFER = 16384


def _query_buffer(client: Client, qbuf: int, now: float) -> tuple[int, int]:
    """(qbuf-free, allocation) of the client's query buffer, as Redis would have it."""
    if not client.read_size:
        return _QUERY_EMPTY
    if qbuf == 0 and now - client.last_interaction > _QUERY_IDLE_S:
        return 0, 8
    return max(_QUERY_ALLOC - qbuf, 0), max(_QUERY_SIZE, qbuf + 6)


def _pubsub_overhead(client: Client) -> int:
    """Redis counts a list node per pattern and a dict entry and bucket per channel."""
    channels = len(client.channels)
    buckets = 0 if not channels else max(4, 1 << (channels - 1).bit_length())
    return 24 * len(client.patterns) + 24 * channels + 8 * buckets


def client_info_line(client: Client, me: Client, current: bytes,
                     argv: list[bytes] | None = None) -> bytes:
    """One CLIENT LIST line; ``current`` is the command the caller is running, which
    Redis already reports as the caller's cmd=, and ``argv`` its arguments (the caller's
    query buffer still holds the read they came in, and argv-mem counts them)."""
    now = time.time()
    queued = len(client.multi) if client.multi is not None else -1
    caller = client is me
    qbuf = client.reader.buffered()
    if caller and argv is not None:
        qbuf += client.read_size
    qfree, qsize = _query_buffer(client, qbuf, now)
    argv_mem = sum(map(len, argv)) if caller and argv is not None else 0
    argc = len(argv) if caller and argv is not None else 0
    out = sum(len(chunk) for chunk in client.out)
    # replies that fit the static reply buffer are part of it, not extra memory
    tot_mem = (max(out - _REPLY_BUFFER, 0) + qsize + _CLIENT_STRUCT + _REPLY_BUFFER + argv_mem
               + 8 * argc + _pubsub_overhead(client))
    cmd = current if caller else client.last_cmd_name
    return (
        f"id={client.id} addr={client.addr.decode()} laddr={client.laddr.decode()} "
        f"fd={client.fd} name={client.name.decode('latin-1')} "
        f"age={int(now - client.created)} idle={int(now - client.last_interaction)} "
        f"flags={_flags(client)} db={client.db.index} sub={len(client.channels)} "
        f"psub={len(client.patterns)} ssub={len(client.shard_channels)} multi={queued} "
        f"qbuf={qbuf} qbuf-free={qfree} argv-mem={argv_mem} multi-mem=0 "
        f"rbs=16384 rbp=16384 obl=0 oll={len(client.out)} omem={out} "
        f"tot-mem={tot_mem} events=r cmd={cmd.decode('latin-1')} "
        f"user={client.user.name.decode('latin-1')} "
        f"redir={client.tracking.redirect if client.tracking is not None else -1} "
        f"resp={client.resp}"
    ).encode()


def kill_client(target: Client, me: Client) -> None:
    """The caller itself goes after this reply; anyone else goes now: unregistered at
    once (a killed BLPOP must not take the next push, a killed subscriber no longer
    counts), as Redis frees it inside CLIENT KILL."""
    if target is me:
        target.close_after_reply = True
    elif target.flags_extra == "M":  # the replication link reconnects by itself
        target.server.replication.master.kill()
    elif target.transport is not None:
        transport = target.transport
        target.server.remove_client(target)
        transport.close()
