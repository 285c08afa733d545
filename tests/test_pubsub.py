"""Pub/Sub with real clients: redis-py PubSub (sync and asyncio, RESP2 and RESP3,
get_message / listen / run_in_thread), redis-cli SUBSCRIBE, raw sockets, keyspace
notifications.  Byte-exact replies are compared with redis-server in
compat/cases/pubsub_*.txt; slow subscribers are in test_pubsub_limits.py."""

from __future__ import annotations

import asyncio
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis
import redis.asyncio

from compat.harness import RawConnection
from conftest import END, Pair, client_with_id, command, exchange, pipe, req, wait_until
from respd.resp import encode_request
from conftest import eventually

WAIT = 5.0  # upper bound for anything to arrive


def messages(p: Any, n: int, timeout: float = WAIT) -> list[dict[str, Any]]:
    """Up to n messages from a redis-py PubSub, waiting at most ``timeout`` in all."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        msg = p.get_message(timeout=0.2)
        if msg is not None:
            got.append(msg)
    return got


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def proto(request: Any) -> int:
    return int(request.param)


@pytest.fixture
def sub(respd: Any, proto: int) -> Iterator[Any]:
    client = respd.client(protocol=proto, socket_timeout=WAIT)
    yield client
    client.close()


def test_confirmations_carry_running_counts(sub: Any, r: Any) -> None:
    p = sub.pubsub()
    p.subscribe("a", "b")
    p.psubscribe("x*")
    p.ssubscribe("s1")
    got = [(m["type"], m["channel"], m["data"]) for m in messages(p, 4)]
    assert got == [("subscribe", b"a", 1), ("subscribe", b"b", 2),
                   ("psubscribe", b"x*", 3), ("ssubscribe", b"s1", 1)]
    p.unsubscribe("a")
    assert messages(p, 1)[0]["data"] == 2
    p.close()


def test_channel_and_pattern_both_deliver_in_publish_order(sub: Any, r: Any) -> None:
    p = sub.pubsub(ignore_subscribe_messages=True)
    p.subscribe("news.sport")
    p.psubscribe("news.*")
    assert eventually(lambda: r.pubsub_numpat() == 1 and
                    r.pubsub_numsub("news.sport") == [(b"news.sport", 1)])
    for i in range(50):
        assert r.publish("news.sport", str(i)) == 2
    got = messages(p, 100)
    assert [(m["type"], m["data"]) for m in got] == [
        (kind, str(i).encode()) for i in range(50) for kind in ("message", "pmessage")
    ]
    assert {m["pattern"] for m in got if m["type"] == "pmessage"} == {b"news.*"}
    p.close()


def test_lossy_publish_before_subscribe_is_gone(sub: Any, r: Any) -> None:
    assert r.publish("late", "lost") == 0
    p = sub.pubsub(ignore_subscribe_messages=True)
    p.subscribe("late")
    assert eventually(lambda: r.pubsub_numsub("late") == [(b"late", 1)])
    assert r.publish("late", "seen") == 1
    assert [m["data"] for m in messages(p, 1)] == [b"seen"]
    p.close()


def test_shard_channels(sub: Any, r: Any) -> None:
    p = sub.pubsub(ignore_subscribe_messages=True)
    p.ssubscribe("orders")
    p.psubscribe("*")
    assert eventually(lambda: r.pubsub_shardnumsub("orders") == [(b"orders", 1)])
    assert r.spublish("orders", "o1") == 1  # patterns never see shard messages
    got = messages(p, 1)
    assert [(m["type"], m["channel"], m["data"]) for m in got] == [
        ("smessage", b"orders", b"o1")]
    assert r.pubsub_shardchannels() == [b"orders"]
    p.close()


def test_listen(sub: Any, r: Any) -> None:
    p = sub.pubsub(ignore_subscribe_messages=True)
    p.subscribe("jobs")
    assert eventually(lambda: r.pubsub_numsub("jobs") == [(b"jobs", 1)])
    for body in ("one", "two", "stop"):
        r.publish("jobs", body)
    seen = []
    for msg in p.listen():  # bounded by the client's socket_timeout
        seen.append(msg["data"])
        if msg["data"] == b"stop":
            break
    assert seen == [b"one", b"two", b"stop"]
    p.close()


def test_run_in_thread(sub: Any, r: Any) -> None:
    received: list[bytes] = []
    done = threading.Event()

    def handler(msg: dict[str, Any]) -> None:
        received.append(msg["data"])
        if len(received) == 10:
            done.set()

    p = sub.pubsub(ignore_subscribe_messages=True)
    p.subscribe(**{"events": handler})
    thread = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        assert eventually(lambda: r.pubsub_numsub("events") == [(b"events", 1)])
        for i in range(10):
            r.publish("events", str(i))
        assert done.wait(WAIT)
    finally:
        thread.stop()
        thread.join(WAIT)
    assert received == [str(i).encode() for i in range(10)]


def test_asyncio_pubsub(respd: Any, proto: int) -> None:
    async def scenario() -> list[tuple[str, bytes]]:
        client = redis.asyncio.Redis(port=respd.port, protocol=proto)
        publisher = redis.asyncio.Redis(port=respd.port, protocol=proto)
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as p:
                await p.subscribe("aio")
                await p.psubscribe("ai*")
                for i in range(5):
                    assert await publisher.publish("aio", str(i)) == 2
                got = []
                deadline = time.monotonic() + WAIT
                while len(got) < 10 and time.monotonic() < deadline:
                    msg = await p.get_message(timeout=0.2)
                    if msg is not None:
                        got.append((msg["type"], msg["data"]))
                return got
        finally:
            await client.aclose()
            await publisher.aclose()

    got = asyncio.run(asyncio.wait_for(scenario(), 3 * WAIT))
    assert got == [(kind, str(i).encode()) for i in range(5)
                   for kind in ("message", "pmessage")]


def test_resp3_client_runs_commands_and_sees_own_push_first(respd: Any) -> None:
    conn = RawConnection(respd.port)
    try:
        conn.send([b"HELLO", b"3"])
        conn.read()
        conn.send([b"SUBSCRIBE", b"self"])
        assert conn.read() == b">3\r\n$9\r\nsubscribe\r\n$4\r\nself\r\n:1\r\n"
        conn.send([b"SET", b"pubsub:own", b"v"])
        assert conn.read() == b"+OK\r\n"
        conn.send([b"PUBLISH", b"self", b"hi"])
        assert conn.read() == b">3\r\n$7\r\nmessage\r\n$4\r\nself\r\n$2\r\nhi\r\n"
        assert conn.read() == b":1\r\n"
    finally:
        conn.close()


def test_resp2_subscribed_mode_pipeline_keeps_order(respd: Any) -> None:
    """Confirmations, errors and pongs of one pipelined batch come back in order."""
    conn = RawConnection(respd.port)
    try:
        conn.send_raw(encode_request([b"SUBSCRIBE", b"p1", b"p2"])
                      + encode_request([b"GET", b"x"])
                      + encode_request([b"PING"])
                      + encode_request([b"UNSUBSCRIBE"]))
        frames = [conn.read() for _ in range(6)]
        assert frames[0].endswith(b"$2\r\np1\r\n:1\r\n")
        assert frames[1].endswith(b"$2\r\np2\r\n:2\r\n")
        assert frames[2].startswith(b"-ERR Can't execute 'get'")
        assert frames[3] == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        assert frames[4:] == [b"*3\r\n$11\r\nunsubscribe\r\n$2\r\np1\r\n:1\r\n",
                              b"*3\r\n$11\r\nunsubscribe\r\n$2\r\np2\r\n:0\r\n"]
    finally:
        conn.close()


def test_disconnect_drops_subscriptions(respd: Any, r: Any) -> None:
    conn = RawConnection(respd.port)
    conn.send([b"SUBSCRIBE", b"gone"])
    conn.read()
    conn.send([b"PSUBSCRIBE", b"gone.*"])
    conn.read()
    conn.send([b"SSUBSCRIBE", b"gone.s"])
    conn.read()
    assert r.pubsub_numsub("gone") == [(b"gone", 1)]
    conn.close()
    assert eventually(lambda: r.pubsub_numsub("gone") == [(b"gone", 0)]
                    and r.pubsub_numpat() == 0
                    and r.pubsub_shardnumsub("gone.s") == [(b"gone.s", 0)])
    assert r.publish("gone", "nobody") == 0


def test_client_list_shows_subscription_counts(respd: Any, r: Any) -> None:
    conn = RawConnection(respd.port)
    try:
        conn.send([b"CLIENT", b"ID"])
        client_id = conn.read()[1:-2].decode()
        for argv in ([b"SUBSCRIBE", b"l1", b"l2"], [b"PSUBSCRIBE", b"l*"],
                     [b"SSUBSCRIBE", b"ls"]):
            conn.send(argv)
            for _ in argv[1:]:
                conn.read()
        mine = [c for c in r.client_list() if c["id"] == client_id]
        assert len(mine) == 1
        assert (mine[0]["flags"], mine[0]["sub"], mine[0]["psub"], mine[0]["ssub"]) == (
            "P", "2", "1", "1")
    finally:
        conn.close()


def test_many_subscribers_one_encoding_each_gets_it(respd: Any, r: Any) -> None:
    conns = [RawConnection(respd.port) for _ in range(50)]
    try:
        for i, conn in enumerate(conns):
            if i % 2:
                conn.send([b"HELLO", b"3"])
                conn.read()
            conn.send([b"SUBSCRIBE", b"fan"])
            conn.read()
        assert r.publish("fan", "x" * 3000) == 50
        for i, conn in enumerate(conns):
            head = b">3" if i % 2 else b"*3"
            assert conn.read() == head + b"\r\n$7\r\nmessage\r\n$3\r\nfan\r\n$3000\r\n" \
                + b"x" * 3000 + b"\r\n"
    finally:
        for conn in conns:
            conn.close()


def test_stats_count_published_deliveries_dropped(respd: Any, r: Any) -> None:
    before = r.info("stats")
    for field in ("pubsub_published", "pubsub_deliveries", "pubsub_dropped"):
        assert field in before
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("counted")
    p.psubscribe("count*")
    assert eventually(lambda: r.pubsub_numpat() == 1)
    r.publish("counted", "a")  # 2 deliveries
    r.publish("nobody-listens", "b")  # dropped
    after = r.info("stats")
    assert after["pubsub_published"] - before["pubsub_published"] == 2
    assert after["pubsub_deliveries"] - before["pubsub_deliveries"] == 2
    assert after["pubsub_dropped"] - before["pubsub_dropped"] == 1
    assert after["pubsub_channels"] >= 1 and after["pubsub_patterns"] >= 1
    p.close()


def test_redis_cli_subscribe(respd: Any, r: Any, tool: Any) -> None:
    cli = subprocess.Popen([tool("redis-cli"), "-p", str(respd.port), "SUBSCRIBE", "clinews"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: queue.Queue[bytes] = queue.Queue()

    def pump() -> None:
        assert cli.stdout is not None
        for line in cli.stdout:
            lines.put(line.rstrip(b"\n"))

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert [lines.get(timeout=WAIT) for _ in range(3)] == [b"subscribe", b"clinews", b"1"]
        assert r.publish("clinews", "hello from respd") == 1
        assert [lines.get(timeout=WAIT) for _ in range(3)] == [
            b"message", b"clinews", b"hello from respd"]
    finally:
        cli.kill()
        cli.wait(WAIT)


def test_killed_subscriber_no_longer_counted_by_publish(pair: Pair) -> None:
    results = []
    for server in (pair.redis, pair.respd):
        victim, cid = client_with_id(server.port, req("SUBSCRIBE", "ch"))
        wait_until(lambda: command(server.port, "PUBSUB", "NUMSUB", "ch").endswith(b":1\r\n"),
                   "the subscription")
        results.append(exchange(server.port, pipe(["CLIENT", "KILL", "ID", cid], "PUBLISH ch m",
                                                  ["PING", END]), END + b"\r\n"))
        victim.close()
    assert results[1] == results[0]
    assert results[1].startswith(b":1\r\n:0\r\n")  # killed, then no receiver


def test_subscribe_confirmations_survive_client_reply_off(pair: Pair) -> None:
    # Confirmations are pushes: CLIENT REPLY OFF silences the PING, not them.
    ref, got = (exchange(s.port, pipe("CLIENT REPLY OFF", "SUBSCRIBE c d", "PING",
                                      "UNSUBSCRIBE c"))
                for s in (pair.redis, pair.respd))
    assert got == ref and ref.count(b"subscribe") == 3


# --- keyspace notifications ------------------------------------------------------------


@pytest.fixture
def notifications(r: Any) -> Iterator[Any]:
    """Enable every event class for the test, then switch them off again."""
    r.config_set("notify-keyspace-events", "KEA")
    yield r
    r.config_set("notify-keyspace-events", "")


def test_notify_flags_canonical_form(r: Any) -> None:
    try:
        for given, shown in (("KEA", "AKE"), ("gd$lshzxet", "A"), ("nmEKg", "gnKEm"),
                             ("AKEmn", "AKEm"), ("$", "$"), ("", "")):
            r.config_set("notify-keyspace-events", given)
            assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": shown}
        with pytest.raises(redis.ResponseError, match="Invalid event class character"):
            r.config_set("notify-keyspace-events", "Kq")
    finally:
        r.config_set("notify-keyspace-events", "")


def test_notify_flags_from_startup_options(spawn: Any) -> None:
    server = spawn("respd", "--notify-keyspace-events", "xKE")
    client = server.client()
    try:
        assert client.config_get("notify-keyspace-events") == {
            "notify-keyspace-events": "xKE"}
    finally:
        client.close()


def test_keyspace_and_keyevent_messages(notifications: Any, respd: Any) -> None:
    r = notifications
    listener = respd.client(socket_timeout=WAIT)
    p = listener.pubsub(ignore_subscribe_messages=True)
    p.psubscribe("__key*@0__:*")
    assert eventually(lambda: r.pubsub_numpat() == 1)
    r.set("nk", "v")
    got = {(m["channel"], m["data"]) for m in messages(p, 2)}
    assert got == {(b"__keyspace@0__:nk", b"set"), (b"__keyevent@0__:set", b"nk")}
    p.close()
    listener.close()


def test_expired_event_from_active_expiry(notifications: Any, respd: Any) -> None:
    r = notifications
    listener = respd.client(socket_timeout=WAIT)
    p = listener.pubsub(ignore_subscribe_messages=True)
    p.subscribe("__keyevent@0__:expired")
    assert eventually(lambda: r.pubsub_numsub("__keyevent@0__:expired")[0][1] == 1)
    r.set("short-lived", "v", px=30)
    # Nobody reads the key: only the server's expiry cycle can produce the event.
    got = messages(p, 1)
    assert [(m["channel"], m["data"]) for m in got] == [
        (b"__keyevent@0__:expired", b"short-lived")]
    p.close()
    listener.close()


def test_disabled_classes_are_silent(r: Any, respd: Any) -> None:
    listener = respd.client(socket_timeout=WAIT)
    p = listener.pubsub(ignore_subscribe_messages=True)
    p.psubscribe("__key*")
    try:
        r.config_set("notify-keyspace-events", "Kg")  # generic only: SET is silent
        assert eventually(lambda: r.pubsub_numpat() == 1)
        for key in ("quiet", "marker"):
            r.set(key, "v")
            r.delete(key)
        got = messages(p, 2)
        assert [(m["channel"], m["data"]) for m in got] == [
            (b"__keyspace@0__:quiet", b"del"), (b"__keyspace@0__:marker", b"del")]
    finally:
        r.config_set("notify-keyspace-events", "")
        p.close()
        listener.close()


def test_lossy_pubsub_example_runs(respd: Any) -> None:
    script = Path(__file__).parent.parent / "examples" / "lossy_pubsub.py"
    done = subprocess.run([sys.executable, str(script), "--port", str(respd.port)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "PUBLISH news 'hello, anyone?' -> 0 receiver(s)" in done.stdout
    assert "carol received ['one', 'two', 'three']" in done.stdout
    assert "bob received ['six']" in done.stdout
