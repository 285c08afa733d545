"""Replication, primary side (Redis's replication.c, master half): the replication ID
and offset, the backlog, the attached replicas and the stream they get.

The stream is what the AOF gets (deterministic commands, SELECT when the db changes,
several writes of one command wrapped in MULTI/EXEC), encoded once and appended to the
backlog and to every online replica's output.  Offsets count stream bytes, as Redis's
``master_repl_offset``, so a replica that lost its link asks ``PSYNC replid offset+1``
and gets ``+CONTINUE`` and the bytes it missed while they are still in the backlog.

A full resynchronisation sends ``+FULLRESYNC replid offset`` then the dataset as an RDB
(``$<len>`` framing, or ``$EOF:<mark>`` to replicas announcing ``capa eof`` when
repl-diskless-sync is on), produced in-process: the event loop is single-threaded, so
the image is the dataset exactly at ``offset`` and the replica continues from there.
"""

from __future__ import annotations

import io
import os
import time
from typing import TYPE_CHECKING, Any

from respd import errors
from respd.config import on_config_set
from respd.pause import PAUSE_KEYS
from respd.resp import encode_request
from respd.storage import rdb

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

_SELECT = b"SELECT"
_MULTI = encode_request([b"MULTI"])
_EXEC = encode_request([b"EXEC"])
_PING = encode_request([b"PING"])


def new_replid() -> str:
    return os.urandom(20).hex()


class ReplicaState:
    """What the primary knows about one attached replica (Redis's slave fields)."""

    __slots__ = ("port", "ip", "capa_eof", "capa_psync2", "ack_offset", "ack_time",
                 "online")

    def __init__(self) -> None:
        self.port = 0
        self.ip = b""
        self.capa_eof = False
        self.capa_psync2 = False
        self.ack_offset = 0
        self.ack_time = time.time()
        self.online = False


class Replication:
    """The server's replication state, both roles (see respd.replica for the link)."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.replid = new_replid()
        self.replid2 = "0" * 40
        self.second_offset = -1
        self.offset = 0
        self.backlog: bytearray | None = None
        self.backlog_start = 0  # the offset just before backlog[0]
        self.no_replicas_since = time.time()
        self.replicas: dict["Client", ReplicaState] = {}
        self.selected_db = -1
        self.master: Any = None  # respd.replica.MasterLink while a replica
        self.last_ping = 0.0
        self.waiting: list[tuple["Client", int, int, Any]] = []  # WAIT clients
        self.failover: Any = None  # respd.failover.Failover during FAILOVER
        self.sync_full = 0
        self.sync_partial_ok = 0
        self.sync_partial_err = 0

    # --- the stream ----------------------------------------------------------------------

    def feed(self, batch: list[tuple[int, list[bytes]]]) -> None:
        """One top-level command's writes, as the AOF gets them."""
        parts: list[bytes] = []
        wrap = len(batch) > 1 and batch[0][1][0].upper() != b"MULTI"
        for i, (db_index, argv) in enumerate(batch):
            if db_index >= 0 and db_index != self.selected_db:
                parts.append(encode_request([_SELECT, b"%d" % db_index]))
                self.selected_db = db_index
            if wrap and i == 0:
                parts.append(_MULTI)
            parts.append(encode_request(argv))
        if wrap:
            parts.append(_EXEC)
        self.feed_raw(b"".join(parts))

    def feed_raw(self, data: bytes) -> None:
        """Append stream bytes: backlog, offset, online replicas."""
        backlog = self.backlog
        if backlog is None:
            return
        backlog += data
        self.offset += len(data)
        excess = len(backlog) - self.server.config.repl_backlog_size
        if excess > 0:
            del backlog[:excess]
            self.backlog_start += excess
        for client, state in self.replicas.items():
            if state.online:
                client.push(data)

    # --- synchronisation -----------------------------------------------------------------

    def create_backlog(self) -> None:
        """The first replica: a backlog from here on, under a new history."""
        if self.backlog is None:
            self.backlog = bytearray()
            self.backlog_start = self.offset
            if self.master is None:
                self.replid = new_replid()
                self.replid2 = "0" * 40
                self.second_offset = -1
            self.server.update_propagating()

    def psync(self, client: "Client", replid: bytes, offset: int, psync: bool) -> None:
        """Answer PSYNC/SYNC on ``client``'s output: +CONTINUE with the missing bytes, or
        a full resynchronisation."""
        state = self.replicas.get(client)
        if state is None:
            state = self.replicas[client] = ReplicaState()
        client.flags_extra = "S"
        if self.can_continue(replid.decode("latin-1"), offset):
            self.sync_partial_ok += 1
            line = b"+CONTINUE %s\r\n" % self.replid.encode() if state.capa_psync2 \
                else b"+CONTINUE\r\n"
            start = offset - self.backlog_start - 1
            assert self.backlog is not None
            client.push(line + bytes(self.backlog[start:]))
            state.online = True
            state.ack_offset = offset - 1
            return
        if replid != b"?":
            self.sync_partial_err += 1
        self.sync_full += 1
        self.create_backlog()
        self.selected_db = -1  # the next command carries its SELECT
        image = io.BytesIO()
        rdb.dump(image, self.server)
        data = image.getvalue()
        # SYNC (a pre-PSYNC replica) gets the payload without the +FULLRESYNC line.
        header = b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), self.offset) if psync \
            else b""
        if state.capa_eof and self.server.config.repl_diskless_sync:
            mark = os.urandom(20).hex().encode()
            client.push(header + b"$EOF:" + mark + b"\r\n" + data + mark)
        else:
            client.push(header + b"$%d\r\n" % len(data) + data)
        state.online = True
        state.ack_offset = 0

    def can_continue(self, replid: str, offset: int) -> bool:
        if self.backlog is None or offset < 0:
            return False
        if replid != self.replid and not (replid == self.replid2
                                          and offset <= self.second_offset):
            return False
        return self.backlog_start + 1 <= offset <= self.offset + 1

    def replica_gone(self, client: "Client") -> None:
        if self.replicas.pop(client, None) is not None and not self.replicas:
            self.no_replicas_since = time.time()

    def ack(self, client: "Client", offset: int) -> None:
        state = self.replicas.get(client)
        if state is None:
            return
        state.ack_offset = max(state.ack_offset, offset)
        state.ack_time = time.time()
        if self.waiting:
            self.serve_waiting()
        if self.failover is not None:
            self.failover.progress(self.server)

    # --- min-replicas-to-write, WAIT -------------------------------------------------------

    def good_replicas(self) -> int:
        lag = self.server.config.min_replicas_max_lag
        now = time.time()
        return sum(1 for s in self.replicas.values() if s.online and now - s.ack_time <= lag)

    def acked(self, offset: int) -> int:
        return sum(1 for s in self.replicas.values() if s.online and s.ack_offset >= offset)

    def request_acks(self) -> None:
        self.feed_raw(encode_request([b"REPLCONF", b"GETACK", b"*"]))

    def serve_waiting(self) -> None:
        now = self.server.now_ms()
        still = []
        served = False
        for client, offset, needed, deadline in self.waiting:
            count = self.acked(offset)
            if count >= needed or (deadline and now >= deadline) or client.closed:
                if not client.closed:
                    self.server.blocking.unblock(client, count)
                    served = True
            else:
                still.append((client, offset, needed, deadline))
        self.waiting = still
        if served:
            self.server.flush()

    # --- periodic work -----------------------------------------------------------------------

    def cron(self) -> None:
        now = time.time()
        config = self.server.config
        if self.replicas and self.master is None \
                and now - self.last_ping >= config.repl_ping_replica_period:
            self.last_ping = now
            self.feed_raw(_PING)
        if self.replicas:
            timeout = config.repl_timeout
            for client, state in list(self.replicas.items()):
                if state.capa_psync2 and now - state.ack_time > timeout \
                        and client.transport is not None:
                    client.transport.close()  # Redis: "Disconnecting timedout replica"
        elif self.backlog is not None and self.master is None and config.repl_backlog_ttl \
                and now - self.no_replicas_since > config.repl_backlog_ttl:
            self.backlog = None
            self.server.update_propagating()
        if self.waiting:
            self.serve_waiting()
        if self.failover is not None:
            self.failover.progress(self.server)
        if self.master is not None:
            self.master.cron()

    # --- promotion -----------------------------------------------------------------------

    def shift_replid(self) -> None:
        """A replica becomes a primary: its history continues under a new ID, the old one
        stays valid up to here so former siblings can PSYNC (PSYNC2)."""
        self.replid2 = self.replid
        self.second_offset = self.offset + 1
        self.replid = new_replid()


# --- write refusals (dispatch asks Replication.refuse_write while server.write_guard is set)

    def end_failover(self) -> None:
        """FAILOVER is over (done or aborted): writes resume."""
        self.failover = None
        self.server.pause.end()

    def refuse_write(self, client: "Client", cmd: Any) -> Any:
        """processCommand's replication checks: the error a client gets, or None."""
        config = self.server.config
        link = self.master
        if link is not None:  # processCommand's order: READONLY, then MASTERDOWN
            if config.replica_read_only and cmd.is_write:
                return errors.READONLY
            if not link.up and not config.replica_serve_stale_data and "stale" not in cmd.flags:
                return errors.MASTERDOWN
            return None
        if config.min_replicas_to_write and cmd.is_write \
                and self.good_replicas() < config.min_replicas_to_write:
            return errors.NOREPLICAS
        return None


def update_write_guard(server: "Server", _: Any = None) -> None:
    """Whether dispatch must ask refuse_write (kept false when nothing can refuse)."""
    config = server.config
    link = server.replication.master
    server.write_guard = bool(
        (link is not None and (config.replica_read_only or not config.replica_serve_stale_data))
        or (link is None and config.min_replicas_to_write))


for _name in ("replica-read-only", "replica-serve-stale-data", "min-replicas-to-write"):
    on_config_set(_name, update_write_guard)


# --- role changes (REPLICAOF, the replicaof directive) -------------------------------------


def startup(server: "Server") -> None:
    update_write_guard(server)
    target = server.config.replicaof
    if target:
        replicate_from(server, target[0], int(target[1]))


def replicate_from(server: "Server", host: str, port: int) -> None:
    """Become a replica of host:port (replicationSetMaster)."""
    from respd.replica import MasterLink

    repl = server.replication
    if repl.master is not None:
        repl.master.stop()
    else:
        # Clients blocked on a primary would wait for writes that now come from elsewhere.
        for client in list(server.clients.values()):
            # Not the clients a pause holds back (FAILOVER's own): they run afterwards.
            if client.blocked is not None and client.blocked.keys is not PAUSE_KEYS:
                server.blocking.unblock(client, errors.UNBLOCKED_ROLE_CHANGE)
    _disconnect_replicas(server)  # they learn the new history by reconnecting
    repl.master = MasterLink(server, host, port)
    server.hides_expired = True
    server.config.replicaof = [host, str(port)]
    update_write_guard(server)


def replicate_none(server: "Server") -> None:
    """REPLICAOF NO ONE: a primary from here on, continuing the history (PSYNC2)."""
    repl = server.replication
    if repl.master is None:
        return
    repl.master.stop()
    repl.master = None
    server.hides_expired = False
    repl.shift_replid()
    repl.selected_db = -1
    server.config.replicaof = []
    _disconnect_replicas(server)
    update_write_guard(server)


def _disconnect_replicas(server: "Server") -> None:
    """Attached replicas reconnect to learn the new history (not a client still in its
    handshake, such as a primary handing over with PSYNC FAILOVER)."""
    for client, state in list(server.replication.replicas.items()):
        if state.online and client.transport is not None:
            client.transport.close()


# --- INFO replication ------------------------------------------------------------------------


def info_fields(server: "Server") -> list[tuple[str, Any]]:
    repl = server.replication
    config = server.config
    link = repl.master
    now = time.time()
    fields: list[tuple[str, Any]] = []
    if link is None:
        fields.append(("role", "master"))
    else:
        fields += [
            ("role", "slave"),
            ("master_host", link.host),
            ("master_port", link.port),
            ("master_link_status", link.link_status()),
            ("master_last_io_seconds_ago", int(now - link.last_io) if link.up else -1),
            ("master_sync_in_progress", int(link.sync_in_progress)),
            ("slave_read_repl_offset", repl.offset),
            ("slave_repl_offset", repl.offset),
        ]
        if not link.up:
            fields.append(("master_link_down_since_seconds", int(now - link.down_since)))
        fields += [
            ("slave_priority", config.replica_priority),
            ("slave_read_only", int(config.replica_read_only)),
            ("replica_announced", int(config.replica_announced)),
        ]
    online = [(c, s) for c, s in repl.replicas.items() if s.online]
    fields.append(("connected_slaves", len(online)))
    if link is None and config.min_replicas_to_write:
        fields.append(("min_slaves_good_slaves", repl.good_replicas()))
    for i, (client, state) in enumerate(online):
        ip = (state.ip or client.addr.rsplit(b":", 1)[0]).decode("latin-1")
        fields.append((f"slave{i}", f"ip={ip},port={state.port},state=online,"
                                    f"offset={state.ack_offset},lag={int(now - state.ack_time)}"))
    backlog = repl.backlog
    fields += [
        ("master_failover_state", repl.failover.state if repl.failover else "no-failover"),
        ("master_replid", repl.replid),
        ("master_replid2", repl.replid2),
        ("master_repl_offset", repl.offset),
        ("second_repl_offset", repl.second_offset),
        ("repl_backlog_active", int(backlog is not None)),
        ("repl_backlog_size", config.repl_backlog_size),
        ("repl_backlog_first_byte_offset", repl.backlog_start + 1 if backlog is not None else 0),
        ("repl_backlog_histlen", len(backlog) if backlog is not None else 0),
    ]
    return fields
