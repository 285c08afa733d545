"""Pub/Sub fan-out: delivered messages per second, respd next to redis-server.

    python -m benchmarks.fanout              # every scenario
    python -m benchmarks.fanout --quick      # small counts, a smoke test

Scenarios: 1, 10, 100 and 1000 subscribers on one channel; 1000 channels with one
subscriber each; 100 subscribers on one shared pattern; 1000 distinct patterns with one
match per message.  A publisher thread sends pipelined PUBLISH batches and waits for each
batch's replies; subscribers are raw RESP2 sockets in one selector loop that only count
bytes (every frame's size is known in advance, and both servers send identical bytes),
so the clients stay cheap.  The clock runs from the first PUBLISH until every subscriber
has received every message.  Both servers run pinned to CPU 0 with output-buffer limits
off (a flood must not cost subscribers); this process runs on CPU 1.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass

from benchmarks.servers import BenchServer, start_pair
from respd.glob import match
from respd.resp import encode, encode_request

PAYLOAD = b"m" * 32
BATCH = 100  # PUBLISH commands per pipelined batch
DEADLINE = 300.0  # seconds any one run may take


@dataclass
class Scenario:
    name: str
    # Each subscriber: (command word, names); the publisher cycles over ``channels``.
    subscribers: list[tuple[bytes, list[bytes]]]
    channels: list[bytes]
    messages: int  # PUBLISH commands in the run

    def per_channel(self) -> dict[bytes, int]:
        """How many of the run's messages go to each channel."""
        rounds, extra = divmod(self.messages, len(self.channels))
        return {c: rounds + (i < extra) for i, c in enumerate(self.channels)}

    def expected(self, sub: tuple[bytes, list[bytes]]) -> tuple[int, int, int]:
        """(confirmation bytes, message bytes, messages) one subscriber receives."""
        word, names = sub
        confirm = sum(len(encode([word.lower(), n, i + 1])) for i, n in enumerate(names))
        size = count = 0
        for channel, sent in self.per_channel().items():
            frames = _frames(word, names, channel)
            size += sent * sum(frames)
            count += sent * len(frames)
        return confirm, size, count


def _frames(word: bytes, names: list[bytes], channel: bytes) -> list[int]:
    """Sizes of the frames a subscriber gets for one message on channel."""
    if word == b"SUBSCRIBE":
        return [len(encode([b"message", channel, PAYLOAD]))] if channel in names else []
    return [len(encode([b"pmessage", p, channel, PAYLOAD]))
            for p in names if match(p, channel)]


def scenarios(deliveries: int) -> list[Scenario]:
    found = []
    for n in (1, 10, 100, 1000):
        found.append(Scenario(f"1 channel, {n} subscriber(s)",
                              [(b"SUBSCRIBE", [b"bench"])] * n, [b"bench"],
                              max(deliveries // n, 200)))
    many = [b"ch:%d" % i for i in range(1000)]
    found.append(Scenario("1000 channels, 1 subscriber each",
                          [(b"SUBSCRIBE", [c]) for c in many], many, deliveries // 5))
    found.append(Scenario("1 pattern, 100 subscribers",
                          [(b"PSUBSCRIBE", [b"bench.*"])] * 100, [b"bench.x"],
                          max(deliveries // 100, 200)))
    patterns = [b"p:%d:*" % i for i in range(1000)]
    found.append(Scenario("1000 patterns, 1 match per message",
                          [(b"PSUBSCRIBE", [p]) for p in patterns],
                          [b"p:%d:x" % i for i in range(1000)], deliveries // 5))
    return found


def _publisher(port: int, scenario: Scenario, errors: list[str]) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            channels = scenario.channels
            sent = 0
            while sent < scenario.messages:
                count = min(BATCH, scenario.messages - sent)
                sock.sendall(b"".join(
                    encode_request([b"PUBLISH", channels[(sent + i) % len(channels)],
                                    PAYLOAD]) for i in range(count)))
                replies = b""
                while replies.count(b"\r\n") < count:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("publisher connection closed")
                    replies += chunk
                sent += count
    except Exception as exc:  # reported by the main thread
        errors.append(repr(exc))


def _drain(sel: selectors.BaseSelector, remaining: dict[socket.socket, int],
           deadline: float) -> None:
    """Read every socket until it received exactly its expected bytes."""
    for sock in remaining:
        sel.register(sock, selectors.EVENT_READ)
    while any(remaining.values()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sum(remaining.values())} bytes never arrived")
        for key, _ in sel.select(timeout=1.0):
            sock = key.fileobj
            data = sock.recv(1 << 20)  # type: ignore[union-attr]
            if not data:
                raise ConnectionError("subscriber connection closed")
            remaining[sock] -= len(data)  # type: ignore[index]
            if remaining[sock] <= 0:  # type: ignore[index]
                sel.unregister(sock)
    for sock in list(sel.get_map() or ()):
        sel.unregister(sock)


def run(server: BenchServer, scenario: Scenario) -> tuple[float, float]:
    """(delivered messages per second, per second of server CPU) for one scenario."""
    socks: list[socket.socket] = []
    sel = selectors.DefaultSelector()
    try:
        confirm: dict[socket.socket, int] = {}
        payload: dict[socket.socket, int] = {}
        deliveries = 0
        for sub in scenario.subscribers:
            sock = socket.create_connection(("127.0.0.1", server.port))
            socks.append(sock)
            word, names = sub
            sock.sendall(encode_request([word, *names]))
            confirm[sock], payload[sock], count = scenario.expected(sub)
            deliveries += count
        _drain(sel, confirm, time.monotonic() + 60)
        errors: list[str] = []
        publisher = threading.Thread(target=_publisher, args=(server.port, scenario, errors))
        cpu = server.cpu_seconds()
        start = time.perf_counter()
        publisher.start()
        _drain(sel, payload, time.monotonic() + DEADLINE)
        elapsed = time.perf_counter() - start
        cpu = max(server.cpu_seconds() - cpu, 0.01)  # /proc counts 10 ms ticks
        publisher.join(DEADLINE)
        if errors:
            raise RuntimeError(errors[0])
        return deliveries / elapsed, deliveries / cpu
    finally:
        sel.close()
        for sock in socks:
            sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (smoke test)")
    parser.add_argument("--deliveries", type=int, default=1_000_000,
                        help="target deliveries per scenario (default 1000000; a fifth of\n                        that where each message reaches one subscriber)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    redis_srv, respd_srv = start_pair("--client-output-buffer-limit", "pubsub 0 0 0",
                                      "--maxclients", "10000")
    try:
        print(f"{'':<36} {'delivered msg/s (wall)':^32} {'msg per server CPU-s':^32}")
        print(f"{'scenario':<36}" + f" {'redis':>10} {'respd':>10} {'ratio':>10}" * 2)
        for scenario in scenarios(50_000 if args.quick else args.deliveries):
            ref = run(redis_srv, scenario)
            ours = run(respd_srv, scenario)
            print(f"{scenario.name:<36}" + "".join(
                f" {r:>10,.0f} {o:>10,.0f} {o / r:>10.2f}" for r, o in zip(ref, ours)),
                flush=True)
    finally:
        redis_srv.stop()
        respd_srv.stop()


if __name__ == "__main__":
    main()
