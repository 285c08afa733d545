"""The replication link's timers, side by side with redis-server 7.0.15: repl-timeout
(a primary drops a replica that stopped acknowledging, a replica drops a primary that
went silent and connects again) and repl-backlog-ttl (the backlog of a primary left
without replicas is freed, under a new replication ID).  The other end of each link is
a raw socket here, so it can fall silent at will."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from conftest import ServerProcess, eventually, wait_until

PRIMARY_OPTIONS = ("--repl-diskless-sync", "no", "--repl-ping-replica-period", "1")
# A replication ID and the smallest RDB file a replica loads (no checksum: 8 zero bytes).
REPLID = b"a" * 40
EMPTY_RDB = b"REDIS0010\xff" + b"\0" * 8


def _fake_replica(server: ServerProcess) -> socket.socket:
    """A replica that completes a full synchronisation; what it does next is up to the
    test (it acknowledges nothing by itself)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    for request in (b"PING", b"REPLCONF listening-port 1", b"REPLCONF capa psync2"):
        sock.sendall(request + b"\r\n")
        assert sock.recv(64).startswith((b"+PONG", b"+OK"))
    sock.sendall(b"PSYNC ? -1\r\n")
    received = b""
    while b"REDIS" not in received:  # the payload has begun: the replica is being served
        chunk = sock.recv(65536)
        assert chunk, "the primary closed the link during the synchronisation"
        received += chunk
    return sock


def _read_until_closed(sock: socket.socket, acks: bool, seconds: float) -> bool:
    """Read for up to ``seconds`` (sending REPLCONF ACK every 0.2 s when ``acks``);
    True when the primary closed the link."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            pass
        if acks:
            sock.sendall(b"REPLCONF ACK 0\r\n")
    return False


def _replicas(server: ServerProcess) -> int:
    return server.client().info("replication")["connected_slaves"]


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_primary_drops_a_replica_that_stops_acknowledging(spawn: Any, kind: str) -> None:
    server = spawn(kind, *PRIMARY_OPTIONS, "--repl-timeout", "2")
    sock = _fake_replica(server)
    try:
        wait_until(lambda: _replicas(server) == 1, "the replica online")
        # Acknowledged: kept past the timeout.
        assert not _read_until_closed(sock, acks=True, seconds=5)
        assert _replicas(server) == 1
        # Silent: dropped ("Disconnecting timedout replica").
        assert _read_until_closed(sock, acks=False, seconds=30)
        wait_until(lambda: _replicas(server) == 0, "the replica gone")
    finally:
        sock.close()


class FakePrimary:
    """A primary that serves one full synchronisation per connection, then pings while
    ``pinging`` is set and otherwise says nothing; it counts the replica's connections."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.pinging = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            self.connections += 1
            threading.Thread(target=self._link, args=(conn,), daemon=True).start()

    def _link(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        buffer = b""
        synced = False
        with conn:
            while not self.stopped.is_set():
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    chunk = None
                except OSError:
                    return
                if chunk == b"":
                    return
                if not synced:
                    buffer += chunk or b""
                    buffer, synced = self._answer(conn, buffer)
                elif self.pinging.is_set():  # ACKs from the replica need no answer
                    conn.sendall(b"*1\r\n$4\r\nPING\r\n")

    @staticmethod
    def _answer(conn: socket.socket, buffer: bytes) -> tuple[bytes, bool]:
        """Replies to the handshake (inline or multibulk: the command name is a line of
        its own); True once the payload is sent."""
        while b"\r\n" in buffer:
            line, buffer = buffer.split(b"\r\n", 1)
            word = line.upper()
            if word == b"PING":
                conn.sendall(b"+PONG\r\n")
            elif word in (b"REPLCONF", b"AUTH"):
                conn.sendall(b"+OK\r\n")
            elif word in (b"PSYNC", b"SYNC"):
                conn.sendall(b"+FULLRESYNC " + REPLID + b" 0\r\n$%d\r\n" % len(EMPTY_RDB)
                             + EMPTY_RDB)
                return b"", True
        return buffer, False

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def fake_primary() -> Any:
    primary = FakePrimary()
    yield primary
    primary.close()


def _link_up(server: ServerProcess) -> bool:
    return server.client().info("replication").get("master_link_status") == "up"


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_replica_drops_a_silent_primary(spawn: Any, fake_primary: FakePrimary,
                                        kind: str) -> None:
    fake_primary.pinging.set()
    replica = spawn(kind, "--repl-timeout", "2",
                    "--replicaof", "127.0.0.1", str(fake_primary.port))
    wait_until(lambda: _link_up(replica), "the link up")
    time.sleep(4)  # pinged: the link outlives the timeout
    assert fake_primary.connections == 1 and _link_up(replica)
    fake_primary.pinging.clear()  # silence: "MASTER timeout", then a new connection
    wait_until(lambda: fake_primary.connections >= 2, "the replica to connect again", 30)
    assert "MASTER timeout" in replica.log()


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_backlog_freed_after_its_ttl(spawn: Any, kind: str) -> None:
    server = spawn(kind, *PRIMARY_OPTIONS, "--repl-backlog-ttl", "1")
    client = server.client()
    assert client.info("replication")["repl_backlog_active"] == 0
    sock = _fake_replica(server)
    wait_until(lambda: _replicas(server) == 1, "the replica online")
    info = client.info("replication")
    assert info["repl_backlog_active"] == 1
    sock.close()
    wait_until(lambda: client.info("replication")["repl_backlog_active"] == 0,
               "the backlog freed", 30)
    after = client.info("replication")
    assert after["master_replid"] != info["master_replid"]
    assert str(after["master_replid2"]).strip("0") == ""  # redis-py reads it as 0


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_backlog_kept_with_ttl_zero(spawn: Any, kind: str) -> None:
    server = spawn(kind, *PRIMARY_OPTIONS, "--repl-backlog-ttl", "0")
    client = server.client()
    sock = _fake_replica(server)
    wait_until(lambda: _replicas(server) == 1, "the replica online")
    sock.close()
    wait_until(lambda: _replicas(server) == 0, "the replica gone")
    assert not eventually(lambda: client.info("replication")["repl_backlog_active"] == 0,
                          timeout=3)


# --- replica-ignore-maxmemory ----------------------------------------------------------------

VALUE = b"v" * 10_000


@pytest.mark.parametrize("kind", ["redis", "respd"])
@pytest.mark.parametrize("ignore", ["yes", "no"])
def test_replica_ignore_maxmemory(spawn: Any, kind: str, ignore: str) -> None:
    """A replica over its maxmemory keeps every key of its primary (yes, the default),
    or evicts by its own policy as the primary's writes arrive (no)."""
    primary = spawn(kind)
    replica = spawn(kind, "--replicaof", "127.0.0.1", str(primary.port),
                    "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-random",
                    "--replica-ignore-maxmemory", ignore)
    wait_until(lambda: _link_up(replica), "the link up")
    writer = primary.client()
    for i in range(400):  # 4 MB
        writer.set(f"k{i}", VALUE)
    client = replica.client()
    offset = writer.info("replication")["master_repl_offset"]
    wait_until(lambda: client.info("replication")["slave_repl_offset"] >= offset,
               "the replica to catch up")
    client.get("k0")  # a command of the replica's own client
    stats = client.info("stats")
    if ignore == "yes":
        assert client.dbsize() == 400 and stats["evicted_keys"] == 0
    else:
        assert client.dbsize() < 400 and stats["evicted_keys"] > 0
