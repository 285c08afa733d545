"""The server: owns the databases, the clients and the subsystems, and runs the
network side with an ``asyncio.Protocol`` per connection.

The event loop is the only thread.  Per read: parse every complete request, run them in
order through ``dispatch.execute`` (about 16 KB of them per event-loop pass: a longer
read is served in shares, see ``Connection``), append the encoded replies to the
client's output, then ``flush``: the AOF buffer is written (and fsynced if asked) before
any reply leaves, then every client with output gets one ``transport.write``.  A client
whose replies back up (the transport asks us to pause writing) stops being read until
they drain.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import time
from collections import deque
from typing import Any

import respd.commands  # noqa: F401  the command table: the one import of the command families in respd/
from respd import __version__, background, errors, latency, listeners
from respd.blocking import Blocking
from respd.client import Client, client_info_line
from respd.command import ALL_COMMANDS
from respd.config import Config, on_config_set
from respd import replication
from respd.dispatch import rerun_blocked, run_batch
from respd.errors import ProtocolError, ReplyError
from respd.replication import Replication
from respd.eviction import Evictor
from respd.info import Instantaneous
from respd.log import VERBOSE  # also registers CONFIG SET loglevel
from respd.misconf import DiskError
from respd.pause import Pause
from respd.persistence import Persistence
from respd.pubsub import PubSub
from respd.resp import RequestReader, encode
from respd.storage.db import Database
from respd.tracking import Tracking

log = logging.getLogger("respd")

# Young-generation collections every 50k surviving containers instead of 700: datasets of
# hashes, sets or stream nodes otherwise spend 3-14% of the time in the collector.
_GC_THRESHOLDS = (50_000, 20, 100)


class Clock:
    """Wall-clock milliseconds; tests may pin it with ``freeze``."""

    __slots__ = ("frozen",)

    def __init__(self) -> None:
        self.frozen: int | None = None

    def ms(self) -> int:
        if self.frozen is not None:
            return self.frozen
        return int(time.time() * 1000)


class Server:
    def __init__(self, config: Config | None = None) -> None:
        from respd.acl import Acl

        self.config = config or Config()
        self.clock = Clock()
        # The DatabaseEvents clock, bound once: every TTL check and SET PX reads it.
        self.now_ms = self.clock.ms
        self.dbs = [Database(i, self) for i in range(self.config.databases)]
        self.clients: dict[int, Client] = {}
        self.acl = Acl(self)  # users and the ACL log; before any client exists
        self._next_client_id = 1
        self.pending_writes: dict[Client, None] = {}
        self.blocking = Blocking(self, rerun_blocked)
        self.pubsub = PubSub(self)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.dirty = 0
        self.propagated: list[tuple[int, list[bytes]]] = []
        self.monitors: dict[Client, None] = {}
        self.start_time = time.time()
        self.run_id = os.urandom(20).hex()
        self.stats: dict[str, int] = {}
        self.error_stats: dict[bytes, int] = {}
        # [calls, total ns, rejected calls, failed calls] by Command.stat_index
        self.cmd_stats: list[list[int]] = []
        # LATENCY HISTOGRAM: per command, call counts by power-of-two latency level
        # (respd.latency); dispatch counts into latency_sink while latency-tracking is no.
        self.latency_hist: list[list[int]] = []
        self.latency_sink: list[list[int]] = []
        self.latency_rows: list[list[int]] = []  # one of the two above
        self.slowlog_threshold_ns = _slowlog_threshold_ns(self.config.slowlog_log_slower_than)
        self.slowlog: list[tuple[int, int, int, list[bytes], bytes, bytes]] = []
        self.slowlog_next_id = 0
        self.call_end = 0  # perf_counter_ns at the end of the last command run (dispatch.call)
        self.reset_stats()
        self.listeners = listeners.Listeners(self, lambda: Connection(self))
        self._shutdown: asyncio.Future[None] | None = None
        self.last_save = int(time.time())
        # Propagated commands are collected only while something reads them: the AOF or
        # the replication backlog (see update_propagating); dispatch tests this flag.
        self.propagating = False
        self.write_guard = False  # replication may refuse writes: dispatch asks refuse_write
        self.disk_error: DiskError | None = None  # MISCONF in force (respd.misconf)
        self.checks_needed = False  # see update_checks
        self.cluster: Any = None  # respd.cluster.state.ClusterState with cluster-enabled
        self.cluster_bus: Any = None
        self.hides_expired = False  # a replica: expired keys wait for the primary's DEL
        self.obeying_master = False  # running the primary's stream (respd.replica)
        self.replication = Replication(self)  # respd.replication: backlog, replicas, link
        self.aof: Any = None  # respd.storage.aof.AppendOnlyFile when appendonly is on
        self.persistence = Persistence(self)  # AOF/snapshot state, background children
        self.pause = Pause(self)  # CLIENT PAUSE
        self.instantaneous: Instantaneous | None = None  # INFO's rates, from the first INFO
        self.active_expire_enabled = True  # DEBUG SET-ACTIVE-EXPIRE 0 turns it off
        self.notifying = bool(self.config.notify_keyspace_events)  # read by every write
        self.maxmemory = 0  # config.maxmemory, mirrored by respd.eviction
        self.memory_limited = False  # maxmemory or maxmemory-clients set: dispatch checks
        self.memory = Evictor(self)  # maxmemory, eviction, used_memory accounting
        self.supervision: Any = None  # respd.process.Supervision, set by the command line
        self.tls_context: Any = None  # respd.tls.ReloadableContext while tls-port listens
        self.http: Any = None  # respd.http.HttpListener when http-port is set
        self.scripts: Any = None  # respd.scripting.ScriptEngine, made by its first use
        self.tracking = Tracking(self)  # client-side caching (CLIENT TRACKING)
        # The latency monitor (respd.latency): events, and the threshold call() tests.
        self.latency_events: dict[bytes, latency.Event] = {}
        self.latency_threshold_ns = 0
        latency.init_monitor(self)
        self.tracking_reads = False  # a default-mode tracking client exists: call() records

        self.update_checks()

    def update_checks(self) -> None:
        """Recompute ``checks_needed``: whether a check of dispatch's processCommand order
        (dispatch._refusal) may refuse or postpone a command of an authenticated client
        in the plain state.  False on a plain server: dispatch.run_batch then runs plain
        commands straight through call().  A plain attribute rather than a property
        (read on every read; a property call costs a nested interpreter frame there), so
        whatever changes one of its terms calls this; a new server-wide check adds its
        switch here (ACL users, maxmemory, MISCONF,
        cluster mode's redirections)."""
        self.checks_needed = (self.pause.until_ms != 0 or self.memory_limited
                              or self.write_guard or self.disk_error is not None
                              or self.cluster is not None)

    # --- statistics ----------------------------------------------------------------------

    def reset_stats(self) -> None:
        self.stats = dict.fromkeys(
            (
                "total_connections_received", "total_commands_processed", "expired_keys",
                "evicted_keys", "rejected_connections",
                "total_net_input_bytes", "total_net_output_bytes", "pubsub_published",
                "pubsub_deliveries", "pubsub_dropped", "total_error_replies",
                "client_output_buffer_disconnections", "expired_stale_perc",
            ),
            0,
        )
        for db in self.dbs:  # keyspace_hits/misses: counted by each database's reads
            db.hits = db.misses = 0
        self.error_stats = {}
        self.cmd_stats = [[0, 0, 0, 0] for _ in ALL_COMMANDS]
        latency.reset(self, len(ALL_COMMANDS))

    def all_command_stats(self) -> dict[str, list[int]]:
        """The counters of every command used since the last reset, by name."""
        return {cmd.name: stats for cmd, stats in zip(ALL_COMMANDS, self.cmd_stats)
                if stats[0] or stats[2] or stats[3]}

    def count_error(self, err: ReplyError) -> None:
        code = err.code
        self.error_stats[code] = self.error_stats.get(code, 0) + 1
        self.stats["total_error_replies"] += 1

    def slowlog_add(self, client: Client, argv: list[bytes], duration_ns: int) -> None:
        args = [a if len(a) <= 128 else a[:128] + b"... (%d more bytes)" % (len(a) - 128)
                for a in argv[:32]]
        if len(argv) > 32:
            args[-1] = b"... (%d more arguments)" % (len(argv) - 31)
        entry = (self.slowlog_next_id, int(time.time()), duration_ns // 1000, args,
                 client.addr, client.name)
        self.slowlog_next_id += 1
        self.slowlog.insert(0, entry)
        del self.slowlog[self.config.slowlog_max_len:]

    # --- the database events interface (storage.db.DatabaseEvents) ------------------------

    def key_expired(self, db: Database, key: bytes) -> None:
        self.stats["expired_keys"] += 1
        self.propagated.append((db.index, [b"DEL", key]))
        self.notify(db, "x", b"expired", key)

    def key_ready(self, db: Database, key: bytes) -> None:
        self.blocking.key_ready(db, key)

    def notify(self, db: Database, cls: str, event: bytes, key: bytes) -> None:
        if self.notifying:
            self.pubsub.notify_keyspace_event(db.index, cls, event, key)

    # --- propagation (AOF) -----------------------------------------------------------------

    def propagate_pending(self) -> None:
        batch, self.propagated = self.propagated, []
        aof = self._aof
        if aof is not None:
            aof.feed(batch)
        # A replica passes on its primary's stream as received (respd.replica), never
        # its own changes (keys it expires are deleted by the primary's DEL).
        if self.replication.backlog is not None and self.replication.master is None:
            self.replication.feed(batch)

    @property
    def aof(self) -> Any:
        return self._aof

    @aof.setter
    def aof(self, value: Any) -> None:
        self._aof = value
        self.update_propagating()

    def update_propagating(self) -> None:
        self.propagating = self._aof is not None or self.replication.backlog is not None

    # --- clients ---------------------------------------------------------------------------

    def new_client(self, transport: Any = None) -> Client:
        client = Client(self, self._next_client_id, transport)
        self._next_client_id += 1
        if transport is not None:
            self.clients[client.id] = client
            self.stats["total_connections_received"] += 1
        return client

    def remove_client(self, client: Client) -> None:
        client.closed = True
        self.clients.pop(client.id, None)
        self.blocking.unpark(client)
        client.unwatch_all()
        self.pubsub.remove_client(client)
        self.monitors.pop(client, None)
        self.pending_writes.pop(client, None)
        self.replication.replica_gone(client)  # a replica, or a client that sent REPLCONF
        if client.tracking is not None:
            self.tracking.disable(client)

    def feed_monitors(self, client: Client, argv: list[bytes]) -> None:
        from respd.resp import Status

        now = time.time()
        origin = b"lua" if client.in_script else client.addr
        line = b"%.6f [%d %s]" % (now, client.db.index, origin)
        for arg in argv:
            line += b' "' + _monitor_escape(arg) + b'"'
        frame = encode(Status(line), 2)
        for monitor in self.monitors:
            monitor.push(frame)

    def resume(self, client: Client) -> None:
        """Run what a client sent but could not run yet (pipelined while it was blocked
        or paused, or beyond one pass's share), a share per event-loop pass."""
        if client.closed:
            return
        transport = client.transport
        conn = transport.get_protocol() if transport is not None else None
        if isinstance(conn, Connection):
            conn.drain()
            return
        while client.pending and client.blocked is None and not client.close_after_reply:
            run_batch(client, [client.pending.popleft()])
        self.flush()

    def resume_soon(self, client: Client) -> None:
        if client.transport is not None and self.loop is not None:
            self.pending_writes[client] = None
            self.loop.call_soon(self.resume, client)

    def flush(self) -> None:
        """Write the AOF buffer, then every pending reply (Redis's beforeSleep order).
        A client whose transport fails is dropped; the others are written all the same."""
        aof = self._aof  # the attribute behind the aof property: this runs per read
        if aof is not None and aof.flush():
            return  # appendfsync always: the replies wait for the pass's group fsync
        if not self.pending_writes:
            return
        clients, self.pending_writes = self.pending_writes, {}
        for client in clients:
            transport = client.transport
            try:
                if client.out and transport is not None and not client.closed:
                    data = b"".join(client.out) if len(client.out) > 1 else client.out[0]
                    client.out.clear()
                    self.stats["total_net_output_bytes"] += len(data)
                    transport.write(data)
                    # Limits concern unsent output: nearly always the write sent it all.
                    if transport.get_write_buffer_size():
                        self.pubsub.check_output_limits(client)  # pubsub and normal classes
                else:
                    client.out.clear()
                if client.close_after_reply and transport is not None:
                    transport.close()
            except Exception:
                self._write_failed(client, transport)

    def _write_failed(self, client: Client, transport: Any) -> None:
        log.warning("Dropping client %s: writing its replies failed", client.addr.decode(),
                    exc_info=True)
        client.out.clear()
        try:
            transport.abort()
        except Exception:  # already closed: connection_lost forgets the client
            pass

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._shutdown = self.loop.create_future()
        self.persistence.startup()  # load the dataset before accepting connections
        if self.config.http_port:  # aiohttp is imported only when the listener is on
            from respd.http import HttpListener

            self.http = HttpListener(self)
            await self.http.start()
        if self.config.cluster_enabled:  # node table from nodes.conf, bus listener
            from respd.cluster.node import start_cluster

            await start_cluster(self)
        await self.listeners.open_all()
        replication.startup(self)  # the replicaof directive
        self._cron_handle = self.loop.call_later(1 / self.config.hz, self._cron)
        config = self.config
        log.info("respd %s (redis_version 7.0.15) pid %d listening on %s port %d "
                 "tls-port %d unixsocket %s", __version__, os.getpid(), " ".join(config.bind),
                 config.port, config.tls_port, config.unixsocket or "-")
        log.info("Ready to accept connections tcp")
        if self.supervision is not None:
            self.supervision.ready()

    def default_user_has_password(self) -> bool:
        """Protected mode's condition (Redis 7.0: the default user lacks the nopass flag;
        requirepass sets its password)."""
        return not self.acl.default.nopass

    async def serve_forever(self) -> None:
        await self.start()
        tune_collector()
        assert self.loop is not None and self._shutdown is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self.loop.add_signal_handler(sig, self._shutdown_signal, sig)
            except (NotImplementedError, RuntimeError):
                pass
        await self._shutdown
        await self.close()

    def _shutdown_signal(self, sig: int) -> None:
        """shutdown-on-sigterm/-sigint: SAVE or NOSAVE override the save points as
        SHUTDOWN's modifiers do (NOW and FORCE are how respd always shuts down: it waits
        for no replica and exits even when the final save fails)."""
        flags = (self.config.shutdown_on_sigint if sig == signal.SIGINT
                 else self.config.shutdown_on_sigterm)
        if "save" in flags or "nosave" in flags:
            self.persistence.shutdown_save = "save" in flags
        self.request_shutdown()

    def request_shutdown(self) -> None:
        log.info("Received shutdown request, preparing to shut down")
        if self._shutdown is not None and not self._shutdown.done():
            self._shutdown.set_result(None)

    async def close(self) -> None:
        if self.supervision is not None:
            self.supervision.stopping()
        if self.http is not None:
            await self.http.stop()
        self.listeners.close()
        if self.cluster_bus is not None:
            self.cluster_bus.close()
        for client in list(self.clients.values()):
            if client.transport is not None:
                client.transport.close()
        self.persistence.shutdown()  # flush and fsync the AOF
        await self.listeners.wait_closed()
        listeners.remove_unix_socket(self.config.unixsocket)
        self._cron_handle.cancel()
        log.info("respd is now ready to exit, bye bye...")

    def _cron(self) -> None:
        """Periodic work (Redis's serverCron): active expiry, idle clients, limits."""
        assert self.loop is not None
        now = self.now_ms()
        for db in self.dbs:
            if db.expires and self.active_expire_enabled and not self.hides_expired:
                db.active_expire(now, 1000)
        for step in background.STEPS:  # the command families' periodic work
            step(self)
        if self.propagated:
            self.propagate_pending()
        idle = self.config.timeout
        if idle:
            cutoff = time.time() - idle
            for client in list(self.clients.values()):
                if (client.last_interaction < cutoff and client.blocked is None
                        and not client.in_pubsub_mode and client.transport is not None):
                    client.transport.close()
        self.pubsub.cron()
        self.persistence.cron()
        self.replication.cron()
        self.memory.cron()
        self.flush()
        self._cron_handle = self.loop.call_later(1 / self.config.hz, self._cron)


def tune_collector() -> None:
    """The process is a server from here on: modules, the command table and the loaded
    dataset are never scanned again, and young collections come rarely."""
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


def _slowlog_threshold_ns(usec: int) -> int:
    """Durations above this are logged; a negative setting turns the slow log off."""
    return usec * 1000 if usec >= 0 else 1 << 62


def _slowlog_threshold_changed(server: Server, usec: int) -> None:
    # Cached on the server: dispatch compares against it after every command.
    server.slowlog_threshold_ns = _slowlog_threshold_ns(usec)


on_config_set("slowlog-log-slower-than", _slowlog_threshold_changed)


def _notify_flags_changed(server: Server, flags: Any) -> None:
    server.notifying = bool(flags)


on_config_set("notify-keyspace-events", _notify_flags_changed)


def _monitor_escape(arg: bytes) -> bytes:
    """sdscatrepr: printable bytes as they are, the rest escaped."""
    out = bytearray()
    for byte in arg:
        ch = bytes((byte,))
        if ch in b'\\"':
            out += b"\\" + ch
        elif ch == b"\n":
            out += b"\\n"
        elif ch == b"\r":
            out += b"\\r"
        elif ch == b"\t":
            out += b"\\t"
        elif ch == b"\a":
            out += b"\\a"
        elif ch == b"\b":
            out += b"\\b"
        elif 32 <= byte < 127:
            out += ch
        else:
            out += b"\\x%02x" % byte
    return bytes(out)


# One event-loop pass runs about this much of one client's input before the other
# clients get their turn (Redis reads 16 KB of a client per event), and at least this
# many of its requests: a short pipeline always runs at once.
PASS_BYTES = 16 * 1024
PASS_MIN_REQUESTS = 16
# Replies of a client with a backlog leave once they add up to this (or the backlog is
# done): a write per share would cost more than the share.
HOLD_OUTPUT_BYTES = 64 * 1024
# Unsent replies an unauthenticated client may have: Redis's 16 KB reply buffer plus
# the 1 KB of reply list it tolerates for such a client.
UNAUTH_OUTPUT_LIMIT = 16 * 1024 + 1024


class Connection(asyncio.Protocol):
    """One TCP client: bytes in, commands run, replies queued for the server's flush.

    Fairness: a read holding more than a pass's share of requests runs the share, keeps
    the rest in ``client.pending`` and stops reading the client; ``drain`` runs the next
    share on the following pass (``call_soon``) until the backlog is gone.  A protocol
    error found after requests that have not run yet waits for them (``error``)."""

    __slots__ = ("server", "client", "transport", "share", "error", "read_paused",
                 "write_paused", "drain_scheduled", "more_input")

    def __init__(self, server: Server) -> None:
        self.server = server
        self.share = PASS_MIN_REQUESTS
        self.error: ProtocolError | None = None
        self.read_paused = False
        self.write_paused = False
        self.drain_scheduled = False
        self.more_input = False  # an unauthenticated client's read is not all parsed

    def connection_made(self, transport: Any) -> None:  # uvloop's is no asyncio.Transport
        server = self.server
        self.transport = transport
        self.client = None
        peer = transport.get_extra_info("peername")
        if len(server.clients) >= server.config.maxclients:
            refusal = encode(errors.MAX_CLIENTS)
        elif listeners.denied_by_protected_mode(server, peer):
            refusal = listeners.DENIED
        else:
            refusal = b""
        if refusal:
            server.stats["rejected_connections"] += 1
            transport.write(refusal)
            transport.close()
            return
        client = server.new_client(transport)
        self.client = client
        sock = transport.get_extra_info("socket")
        local = transport.get_extra_info("sockname")
        if isinstance(local, str):  # a Unix socket: Redis shows the path for both ends
            client.addr = client.laddr = listeners.unix_addr(local)
        else:
            client.addr = _format_addr(peer)
            client.laddr = _format_addr(local)
            if sock is not None:
                listeners.tune_tcp(sock, server.config.tcp_keepalive)
        if sock is not None:
            client.fd = sock.fileno()
        if log.isEnabledFor(VERBOSE):
            log.log(VERBOSE, "Accepted %s", client.addr.decode())

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None or client.closed or client.close_after_reply or self.error:
            return
        server = self.server
        server.stats["total_net_input_bytes"] += len(data)
        client.last_interaction = time.time()
        client.read_size = len(data)
        if not client.authenticated:
            err = self._receive_unauthenticated(client, data)
        else:
            try:
                requests, err = client.reader.feed(data)
            except Exception:  # a reader bug costs this client its connection, not more
                requests, err = [], self._reader_failed(client)
            if client.pending or client.blocked is not None:
                client.pending.extend(requests)
            elif len(requests) > PASS_MIN_REQUESTS:
                self._run_share(client, requests, len(data))
            elif requests:
                run_batch(client, requests)
        if err is not None:
            err.__traceback__ = None  # kept until sent: not the parser's frames
            self.error = err
        elif client.reader.slow is not None \
                and client.reader.buffered() > server.config.client_query_buffer_limit:
            log.warning("Closing client that reached max query buffer length: %s",
                        client.addr.decode())
            client.close_after_reply = True
            server.pending_writes[client] = None
        if client.pending or self.error or self.read_paused or self.more_input:
            self._after_pass(client)
        server.flush()

    def _run_share(self, client: Client, requests: list[list[bytes]], size: int) -> None:
        """Run this pass's share of a long read; the rest waits for the next passes."""
        share = max(PASS_MIN_REQUESTS, PASS_BYTES * len(requests) // size)
        self.share = share
        if len(requests) <= share or self.server.loop is None:  # in process: no passes
            run_batch(client, requests)
            return
        run_batch(client, requests[:share])
        client.pending.extend(requests[share:])  # after what run_batch left, if anything

    def _receive_unauthenticated(self, client: Client, data: bytes) -> ProtocolError | None:
        """Until it authenticates, a client's requests are read one at a time under
        Redis's tighter limits, each after the previous one ran (it may be the AUTH),
        16 KB of its input per pass as Redis reads it, and it is closed once more than
        UNAUTH_OUTPUT_LIMIT of replies wait unsent (Redis's guard for such clients)."""
        reader = client.reader
        total = reader.buffered() + len(data)  # this pass reads PASS_BYTES of it
        unsent = sum(map(len, client.out)) + self.transport.get_write_buffer_size()
        while True:
            reader.auth_required = not client.authenticated
            try:
                requests, err = reader.feed(data)
            except Exception:
                requests, err = [], self._reader_failed(client)
            data = b""
            if client.pending or client.blocked is not None:
                client.pending.extend(requests)
            elif requests:
                queued = len(client.out)
                run_batch(client, requests)
                unsent += sum(map(len, client.out[queued:]))
                if unsent > UNAUTH_OUTPUT_LIMIT and not client.authenticated:
                    self.server.pubsub.disconnect_over_limit(client, "normal", unsent)
                    return None
            left = reader.buffered()
            if err is not None or not requests or client.closed or client.close_after_reply \
                    or total - left >= PASS_BYTES:
                # Past a pass's share the rest waits for the next pass (_read_more).
                self.more_input = err is None and bool(requests) and bool(left)
                reader.auth_required = not client.authenticated
                return err

    def _reader_failed(self, client: Client) -> ProtocolError:
        log.warning("Protocol error from client %s: the request reader failed",
                    client.addr.decode(), exc_info=True)
        client.reader = RequestReader(self.server.config.proto_max_bulk_len)
        return ProtocolError(errors.PROTOCOL_UNREADABLE)

    def drain(self) -> None:
        """The next share of the client's backlog (scheduled by _after_pass)."""
        self.drain_scheduled = False
        client = self.client
        if client is None or client.closed:
            return
        pending = client.pending
        if pending and client.blocked is None and not client.close_after_reply:
            client.pending = deque()  # what run_batch cannot run goes before the rest
            if len(pending) <= self.share:
                run_batch(client, pending)
            else:
                popleft = pending.popleft
                run_batch(client, [popleft() for _ in range(self.share)])
                if client.pending:
                    client.pending.extend(pending)
                else:
                    client.pending = pending
        self._after_pass(client)
        self.server.flush()

    def _schedule(self, step: Any) -> None:
        if not self.drain_scheduled:
            self.drain_scheduled = True
            loop = self.server.loop
            if loop is not None:
                loop.call_soon(step)
            else:  # in process (tests, benchmarks): no loop to share
                step()

    def _read_more(self) -> None:
        """The rest of an unauthenticated client's read (scheduled by _after_pass)."""
        self.drain_scheduled = False
        self.more_input = False
        if self.client is not None and not self.client.closed:
            self.data_received(b"")

    def _hold_output(self, client: Client) -> None:
        """Mid-backlog, a client's replies leave with a later share unless they add up:
        one write per read or so, rather than one per share."""
        if sum(map(len, client.out)) < HOLD_OUTPUT_BYTES:
            self.server.pending_writes.pop(client, None)

    def _after_pass(self, client: Client) -> None:
        """Schedule the next share, or send the protocol error once all before it ran;
        read the client only while it has no backlog and reads its replies."""
        if client.closed:
            return
        runnable = client.blocked is None and not client.close_after_reply
        if client.pending and runnable:
            self._hold_output(client)
            self._schedule(self.drain)
        elif self.more_input and runnable:
            self._schedule(self._read_more)
        else:
            if client.out:
                self.server.pending_writes[client] = None  # held output, if any
            if self.error is not None and runnable:
                self._protocol_error(client, self.error)
        paused = (self.write_paused or bool(self.error)
                  or (runnable and bool(client.pending or self.more_input)))
        if paused != self.read_paused and not client.close_after_reply:
            self.read_paused = paused
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def _protocol_error(self, client: Client, err: ProtocolError) -> None:
        server = self.server
        reply = errors.protocol_error(err.message)
        server.count_error(reply)
        client.out.append(encode(reply))
        server.pending_writes[client] = None
        client.close_after_reply = True
        log.debug("Protocol error (%s) from client %s", err.message, client.addr.decode())

    def pause_writing(self) -> None:
        # Replies are backing up: stop reading this client until they drain.
        self.write_paused = True
        if self.client is not None and not self.client.closed:
            self._after_pass(self.client)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.client is not None and not self.client.closed:
            self._after_pass(self.client)

    def connection_lost(self, exc: Exception | None) -> None:
        client = self.client
        if client is not None:
            if log.isEnabledFor(VERBOSE) and not client.closed:
                log.log(VERBOSE, "Client closed connection %s", client_info_line(
                    client, client, client.last_cmd_name).decode("latin-1"))
            self.server.remove_client(client)
            self.client = None
        # The transport refers back to this protocol: break the cycles so a closed
        # connection is freed at once, not by a collection pass (many short connections
        # otherwise make young collections take tenths of a second).
        self.transport = None
        self.error = None


def _format_addr(addr: Any) -> bytes:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host = addr[0]
        return (f"[{host}]:{addr[1]}" if ":" in host else f"{host}:{addr[1]}").encode()
    return b""


__all__ = ["Server", "Connection", "Clock"]
