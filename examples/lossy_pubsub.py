"""Pub/Sub is fire-and-forget: a narrated run.

    python examples/lossy_pubsub.py              # starts its own respd on a free port
    python examples/lossy_pubsub.py --port 6379  # or uses a running server

1. A message published before anyone subscribes reaches nobody (PUBLISH returns 0).
2. Three subscribers, one of them by pattern, each receive every message, in order.
3. A subscriber that disconnects misses what is published meanwhile: nothing is kept.
4. A stream, by contrast, keeps messages: a late reader replays them with XRANGE.
"""

from __future__ import annotations

import argparse
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

    say("4. The same messages through a stream:")
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
