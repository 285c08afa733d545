"""Replication, replica side: the link to a primary (Redis's replication.c, slave half).

An asyncio task on the server's loop connects, runs Redis's handshake (PING, AUTH,
REPLCONF listening-port / capa eof psync2, PSYNC), loads the RDB of a full
resynchronisation, then applies the command stream through dispatch as the master
client (a ``loading`` client: no replies, no read-only or OOM refusals, no propagation
of its own).  The received bytes are fed verbatim to this server's backlog so replicas
of this replica (a chain) see the same stream at the same offsets, which also lets them
PSYNC to any node of the chain after a failover.  A lost link reconnects every second
and asks ``PSYNC <replid> <offset+1>``: a partial resynchronisation when the primary
still has the bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from respd.resp import RequestReader, encode_request

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

log = logging.getLogger("respd")


# Stream commands an AOF does not log (it writes its own SELECTs).
_NOT_LOGGED = frozenset({b"select", b"ping", b"replconf"})


class LinkError(Exception):
    pass


class MasterLink:
    """The replica's connection to its primary and what INFO reports about it."""

    def __init__(self, server: "Server", host: str, port: int) -> None:
        self.server = server
        self.host = host
        self.port = port
        self.state = "connect"  # Redis's master_link_status is "up" only when connected
        self.up = False
        self.down_since = time.time()
        self.last_io = 0.0
        self.sync_in_progress = False
        self.client: "Client | None" = None
        self.writer: asyncio.StreamWriter | None = None
        self.stopped = False
        self.last_ack = 0.0
        self.task = asyncio.ensure_future(self._run())

    # --- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        self.stopped = True
        self.task.cancel()
        self._drop_link()

    def kill(self) -> None:
        """CLIENT KILL TYPE master: close the link; it reconnects by itself."""
        if self.writer is not None:
            self.writer.close()

    def _drop_link(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.client is not None:
            self.server.remove_client(self.client)
            self.client = None
        if self.up:
            self.down_since = time.time()
        self.up = False
        self.sync_in_progress = False

    async def _run(self) -> None:
        while not self.stopped:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except (OSError, LinkError, asyncio.IncompleteReadError) as err:
                log.warning("Replication link with %s:%d: %s", self.host, self.port, err)
            except Exception:
                log.exception("Replication link with %s:%d failed", self.host, self.port)
            self._drop_link()
            self.state = "connect"
            if not self.stopped:
                await asyncio.sleep(1)

    # --- handshake and synchronisation -----------------------------------------------------

    async def _session(self) -> None:
        server = self.server
        config = server.config
        self.state = "connecting"
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), timeout=config.repl_timeout)
        self.writer = writer
        self.state = "handshake"

        async def ask(*argv: bytes) -> bytes:
            writer.write(encode_request(argv))
            line = b"\n"
            while line in (b"\n", b"\r\n"):  # newlines: the primary's keepalives
                line = await asyncio.wait_for(reader.readline(), timeout=config.repl_timeout)
                if not line:
                    raise LinkError("connection closed during the handshake")
            return line.rstrip(b"\r\n")

        reply = await ask(b"PING")
        if reply.startswith(b"-") and not reply.startswith((b"-NOAUTH", b"-NOPERM")):
            raise LinkError("Error reply to PING from master: " + reply.decode("latin-1"))
        if config.masterauth:
            creds = ([config.masteruser.encode()] if config.masteruser else []) \
                + [config.masterauth.encode()]
            reply = await ask(b"AUTH", *creds)
            if reply.startswith(b"-"):
                raise LinkError("Unable to AUTH to MASTER: " + reply.decode("latin-1"))
        port = config.replica_announce_port or config.port
        await ask(b"REPLCONF", b"listening-port", b"%d" % port)
        if config.replica_announce_ip:
            await ask(b"REPLCONF", b"ip-address", config.replica_announce_ip.encode())
        await ask(b"REPLCONF", b"capa", b"eof", b"capa", b"psync2")
        repl = server.replication
        handing_over = repl.failover is not None  # FAILOVER: the target promotes itself
        if repl.backlog is not None or repl.offset:
            reply = await ask(b"PSYNC", repl.replid.encode(), b"%d" % (repl.offset + 1),
                              *((b"FAILOVER",) if handing_over else ()))
        else:
            reply = await ask(b"PSYNC", b"?", b"-1")
        if handing_over:
            if reply.startswith((b"+FULLRESYNC", b"+CONTINUE")):
                server.replication.end_failover()
            else:  # the target refused: stay the primary
                asyncio.get_running_loop().call_soon(repl.failover.refused, server)
        self.state = "sync"
        if reply.startswith(b"+FULLRESYNC"):
            _, replid, offset = reply.split()
            await self._full_sync(reader, replid.decode(), int(offset))
        elif reply.startswith(b"+CONTINUE"):
            parts = reply.split()
            if len(parts) > 1 and parts[1].decode() != repl.replid:
                # The primary's history has a new ID (it was promoted): ours follows.
                repl.replid2 = repl.replid
                repl.second_offset = repl.offset + 1
                repl.replid = parts[1].decode()
            log.info("Successful partial resynchronization with master.")
        else:
            raise LinkError("Unexpected reply to PSYNC from master: "
                            + reply.decode("latin-1"))
        self._link_up()
        await self._stream(reader)

    async def _full_sync(self, reader: asyncio.StreamReader, replid: str, offset: int) -> None:
        self.sync_in_progress = True
        line = b"\n"
        while line in (b"\n", b"\r\n"):  # the primary's keepalive newlines
            line = await reader.readline()
        if not line.startswith(b"$"):
            raise LinkError("Bad protocol from MASTER, the first byte is not '$'")
        header = line.rstrip(b"\r\n")[1:]
        if header.startswith(b"EOF:"):
            mark = header[4:]
            data = await reader.readuntil(mark) if len(mark) == 40 else b""
            data = data[: -len(mark)]
        else:
            data = await reader.readexactly(int(header))
        load_image(self.server, data)
        repl = self.server.replication
        repl.replid = replid
        repl.replid2 = "0" * 40
        repl.second_offset = -1
        repl.offset = offset
        # Our own replicas must resynchronise: our history was replaced.
        repl.backlog = None
        for client in list(repl.replicas):
            if client.transport is not None:
                client.transport.close()
        repl.create_backlog()
        self.sync_in_progress = False
        log.info("MASTER <-> REPLICA sync: Finished with success")

    def _link_up(self) -> None:
        server = self.server
        client = server.new_client()
        client.loading = True  # obeyed as a master client: no checks, no replies
        client.deny_blocking = True
        client.authenticated = True
        client.acl_restricted = False
        client.flags_extra = "M"
        client.addr = f"{self.host}:{self.port}".encode()
        server.clients[client.id] = client  # listed by CLIENT LIST, killed by TYPE master
        self.client = client
        self.up = True
        self.state = "connected"
        self.last_io = time.time()
        server.replication.create_backlog()
        self.send_ack()

    async def _stream(self, reader: asyncio.StreamReader) -> None:
        server = self.server
        repl = server.replication
        requests_reader = RequestReader(1 << 40)
        from respd.dispatch import execute

        while True:
            data = await reader.read(1 << 16)
            if not data:
                raise LinkError("Connection with master lost.")
            self.last_io = time.time()
            requests, err = requests_reader.feed(data)
            if err is not None:
                raise LinkError("Protocol error from master: " + err.message)
            client = self.client
            assert client is not None
            aof = server.aof
            server.obeying_master = True
            try:
                for argv in requests:
                    execute(client, argv)
                    # After the command: a GETACK it ran acknowledged the bytes before it.
                    repl.feed_raw(encode_request(argv))
                    if aof is not None and argv[0].lower() not in _NOT_LOGGED:
                        aof.feed([(client.db.index, argv)])  # a replica's AOF logs the stream
            finally:
                server.obeying_master = False
            if server.blocking.ready:
                server.blocking.serve_ready()
            server.flush()

    # --- acknowledgements ------------------------------------------------------------------

    def send_ack(self) -> None:
        if self.writer is not None and self.up:
            self.writer.write(encode_request(
                [b"REPLCONF", b"ACK", b"%d" % self.server.replication.offset]))
            self.last_ack = time.time()

    def cron(self) -> None:
        if self.up and time.time() - self.last_ack >= 1:
            self.send_ack()
        if self.up and time.time() - self.last_io > self.server.config.repl_timeout:
            log.warning("MASTER timeout: no data nor PING received...")
            self.kill()

    def link_status(self) -> str:
        return "up" if self.up else "down"


def load_image(server: "Server", data: bytes) -> None:
    """Replace the dataset with the primary's RDB image."""
    from respd.dispatch import execute
    from respd.storage import rdb

    for db in server.dbs:
        db.flush()
    client = server.new_client()
    client.loading = True
    client.deny_blocking = True
    client.authenticated = True
    client.acl_restricted = False
    dirty = server.dirty
    execute(client, [b"FUNCTION", b"FLUSH"])
    keys, _ = rdb.load(data, server, lambda argv: _load_run(client, argv))
    server.dirty = dirty
    log.info("MASTER <-> REPLICA sync: Loading DB in memory: %d keys", keys)


def _load_run(client: "Client", argv: list[bytes]) -> None:
    from respd.dispatch import execute
    from respd.errors import ReplyError

    reply = execute(client, argv)
    if type(reply) is ReplyError:
        raise LinkError("Failed loading the RDB from MASTER: " + reply.line.decode("latin-1"))
