"""Slow subscribers never take the server down: client-output-buffer-limit, with real
sockets that stop reading while a publisher floods (every flood bounded)."""

from __future__ import annotations

import socket
import time
from typing import Any

from compat.harness import RawConnection
from respd.resp import encode_request
from conftest import eventually

PAYLOAD = b"x" * 65536
MAX_FLOOD_BYTES = 128 * 1024 * 1024  # far beyond kernel buffers plus the limits used here
WAIT = 5.0


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def non_reader(port: int, *commands: list[bytes]) -> socket.socket:
    """A connection with a small receive buffer that sends commands and never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"".join(encode_request(argv) for argv in commands))
    return sock


def closed_by_server(sock: socket.socket, timeout: float = WAIT) -> bool:
    """Drain what the server sent; True once it closed (EOF or reset) within timeout."""
    sock.settimeout(0.5)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
    return False


def flood_until_dropped(publisher: Any, channel: str) -> int:
    """Publish 1 MB batches until no subscriber is left; returns the bytes published."""
    sent = 0
    while sent < MAX_FLOOD_BYTES:
        pipe = publisher.pipeline(transaction=False)
        for _ in range(16):
            pipe.publish(channel, PAYLOAD)
        receivers = pipe.execute()
        sent += 16 * len(PAYLOAD)
        if receivers[-1] == 0:
            return sent
    raise AssertionError(f"subscriber still connected after {sent} bytes")


def test_hard_limit_disconnects_subscriber_publisher_unaffected(spawn: Any) -> None:
    server = spawn("respd", "--client-output-buffer-limit", "pubsub 1mb 512kb 60")
    publisher = server.client(socket_timeout=WAIT)
    slow = non_reader(server.port, [b"SUBSCRIBE", b"flood"])
    healthy = RawConnection(server.port)
    try:
        healthy.send([b"SUBSCRIBE", b"flood"])
        healthy.read()
        assert eventually(lambda: publisher.pubsub_numsub("flood") == [(b"flood", 2)])
        rss_before = rss_bytes(server.proc.pid)
        # The healthy subscriber reads along, so only the slow one is dropped.
        sent = 0
        while publisher.publish("flood", PAYLOAD) == 2:
            assert healthy.read().endswith(PAYLOAD + b"\r\n")
            sent += len(PAYLOAD)
            assert sent < MAX_FLOOD_BYTES, "slow subscriber never dropped"
        assert healthy.read().endswith(PAYLOAD + b"\r\n")  # the last one still arrived
        assert closed_by_server(slow)
        assert publisher.pubsub_numsub("flood") == [(b"flood", 1)]
        assert publisher.ping()
        stats = publisher.info("stats")
        assert stats["client_output_buffer_disconnections"] == 1
        assert rss_bytes(server.proc.pid) - rss_before < 64 * 1024 * 1024
    finally:
        slow.close()
        healthy.close()
        publisher.close()


def test_soft_limit_held_too_long_disconnects_even_without_new_messages(spawn: Any) -> None:
    server = spawn("respd", "--client-output-buffer-limit", "pubsub 0 256kb 0")
    publisher = server.client(socket_timeout=WAIT)
    slow = non_reader(server.port, [b"SUBSCRIBE", b"soft"])
    try:
        assert eventually(lambda: publisher.pubsub_numsub("soft") == [(b"soft", 1)])
        # Enough to sit above the soft limit once kernel buffers are full; then stop
        # publishing: the server's cron must notice the limit held past 0 seconds.
        pipe = publisher.pipeline(transaction=False)
        for _ in range(160):
            pipe.publish("soft", PAYLOAD)
        pipe.execute()
        assert eventually(lambda: publisher.pubsub_numsub("soft") == [(b"soft", 0)])
        assert closed_by_server(slow)
        assert publisher.info("stats")["client_output_buffer_disconnections"] == 1
    finally:
        slow.close()
        publisher.close()


def test_config_set_merges_classes_and_takes_effect(spawn: Any) -> None:
    server = spawn("respd")
    publisher = server.client(socket_timeout=WAIT)
    try:
        publisher.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 1")
        assert publisher.config_get("client-output-buffer-limit") == {
            "client-output-buffer-limit":
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 1"}
        slow = non_reader(server.port, [b"SUBSCRIBE", b"c"])
        try:
            assert eventually(lambda: publisher.pubsub_numsub("c") == [(b"c", 1)])
            flood_until_dropped(publisher, "c")
            assert closed_by_server(slow)
        finally:
            slow.close()
    finally:
        publisher.close()


def test_normal_class_limit_applies_when_set(spawn: Any) -> None:
    server = spawn("respd", "--client-output-buffer-limit", "normal 1mb 0 0")
    client = server.client(socket_timeout=WAIT)
    try:
        client.set("big", b"v" * (512 * 1024))
        # 40 pipelined GETs of 512 KB each, never read: 20 MB of replies.
        slow = non_reader(server.port, *([[b"GET", b"big"]] * 40))
        try:
            assert closed_by_server(slow)
        finally:
            slow.close()
        assert client.info("stats")["client_output_buffer_disconnections"] == 1
        assert client.get("big") == b"v" * (512 * 1024)  # a reading client is fine
    finally:
        client.close()
