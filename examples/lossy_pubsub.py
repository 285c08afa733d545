"""Pub/Sub is fire-and-forget: a narrated run.

    python examples/lossy_pubsub.py              # starts its own respd on a free port
    python examples/lossy_pubsub.py --port 6379  # or uses a running server

1. A message published before anyone subscribes reaches nobody (PUBLISH returns 0).
2. Three subscribers, one of them by pattern, each receive every message, in order.
3. A subscriber that disconnects misses what is published meanwhile: nothing is kept.
4. A subscriber that stops reading is cut off at client-output-buffer-limit: the
   server protects itself instead of buffering for it without end.
5. A stream, by contrast, keeps messages: a late reader replays them with XRANGE.
"""

from __future__ import annotations

import argparse
import socket
import time
from typing import Any, Iterator

import redis

from demo_support import respd_server, say

WAIT = 5.0


def received(p: Any, count: int) -> list[str]:
    """Up to ``count`` message bodies, waiting at most WAIT seconds."""
    bodies: list[str] = []
    deadline = time.monotonic() + WAIT
    while len(bodies) < count and time.monotonic() < deadline:
        msg = p.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if msg is not None:
            bodies.append(msg["data"].decode())
    return bodies


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def subscriber(port: int, name: str, pattern: bool = False) -> Any:
    p = redis.Redis(port=port).pubsub()
    if pattern:
        p.psubscribe("news*")
    else:
        p.subscribe("news")
    p.get_message(timeout=WAIT)  # the confirmation
    say(f"   {name} {'PSUBSCRIBE news*' if pattern else 'SUBSCRIBE news'}")
    return p


def publish(r: Any, *bodies: str) -> None:
    for body in bodies:
        say(f"   PUBLISH news {body!r} -> {r.publish('news', body)} receiver(s)")


def slow_subscriber(r: Any, port: int) -> None:
    """A subscriber that never reads, with a small receive buffer so that the backlog
    stays in the server: past the hard pubsub limit the server disconnects it."""
    say("4. A slow subscriber: subscribed, but it never reads its socket")
    previous = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    r.config_set("client-output-buffer-limit", "pubsub 256kb 128kb 10")
    say("   CONFIG SET client-output-buffer-limit 'pubsub 256kb 128kb 10'")
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", port))
    slow.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nslow\r\n")
    wait_until(lambda: r.pubsub_numsub("slow") == [("slow", 1)])
    before = r.info("stats").get("client_output_buffer_disconnections")
    body = "x" * 4096
    sent = 0
    while sent < 2000 and r.publish("slow", body):  # 1 while it is still subscribed
        sent += 1
    say(f"   PUBLISH slow <4 KB> x{sent} -> 1 receiver each, then 0: cut off after "
        f"{sent * 4} KB (the kernel's socket buffers took the first part; what piled up "
        "in the server past 256 KB ended it)")
    after = r.info("stats").get("client_output_buffer_disconnections")
    if before is not None:  # respd's counter (redis-server logs the event instead)
        say(f"   INFO stats: client_output_buffer_disconnections {before} -> {after}")
    slow.close()
    r.config_set("client-output-buffer-limit", previous)
    say("   The publisher never waited: the slow reader lost its subscription, not the "
        "others their messages.\n")


def demo(port: int) -> None:
    r = redis.Redis(port=port, decode_responses=True)
    say(f"respd on port {port}\n")

    say("1. Publish before anyone listens:")
    publish(r, "hello, anyone?")
    say("   Zero receivers: the message is gone. Pub/Sub keeps nothing.\n")

    say("2. Three subscribers, one by pattern:")
    subs = {"alice": subscriber(port, "alice"), "bob": subscriber(port, "bob"),
            "carol": subscriber(port, "carol", pattern=True)}
    publish(r, "one", "two", "three")
    for name, p in subs.items():
        say(f"   {name} received {received(p, 3)}")
    say("   Everyone got every message, in publish order.\n")

    say("3. Bob disconnects; two messages are published; Bob comes back:")
    subs["bob"].close()
    wait_until(lambda: r.pubsub_numsub("news") == [("news", 1)])  # the server noticed
    publish(r, "four", "five")
    subs["bob"] = subscriber(port, "bob")
    publish(r, "six")
    for name, p in subs.items():
        say(f"   {name} received {received(p, 3 if name != 'bob' else 1)}")
    say("   Bob never sees 'four' and 'five': they were delivered to whoever was "
        "listening, then dropped.\n")
    for p in subs.values():
        p.close()

    stats = r.info("stats")
    if "pubsub_dropped" in stats:  # respd's counters; redis-server has none
        say(f"   INFO stats: pubsub_published={stats['pubsub_published']} "
            f"pubsub_deliveries={stats['pubsub_deliveries']} "
            f"pubsub_dropped={stats['pubsub_dropped']}\n")

    slow_subscriber(r, port)

    say("5. The same messages through a stream:")
    r.delete("news-log")
    try:
        for body in ("one", "two", "three", "four", "five", "six"):
            r.xadd("news-log", {"body": body})
    except redis.ResponseError as err:  # a server without streams
        say(f"   (no streams on this server: {err})")
        return
    say("   XADD news-log x6, with nobody reading")
    late = [fields["body"] for _, fields in r.xrange("news-log", "-", "+")]
    say(f"   a reader arriving now: XRANGE news-log - + -> {late}")
    say("   The stream kept everything: a late reader replays the whole history.")


def main(argv: Iterator[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Pub/Sub is fire-and-forget")
    parser.add_argument("--port", type=int, help="use a running server on this port")
    args = parser.parse_args(argv)
    with respd_server(port=args.port or None) as port:
        demo(port)


if __name__ == "__main__":
    main()
