"""Client-side caching beyond the compat script (compat/cases/client_tracking.txt):
REDIRECT (ids differ between servers), broken redirections, INFO's tracking fields,
CLIENT LIST flags, tracking-table-max-keys and redis-py's RESP3 push handler.  Every
assertion holds on redis-server 7.0.15 and on respd (fixture ``each``)."""

from __future__ import annotations

import re

import redis

from conftest import client_with_id, command, drain, req, read_reply_stream, wait_until


def _info(port: int, field: str) -> int:
    text = command(port, "INFO", "all").decode()
    return int(re.search(rf"^{field}:(\d+)", text, re.M).group(1))


def test_redirect_to_a_resp2_subscriber(each) -> None:
    sub, sub_id = client_with_id(each.port, req("SUBSCRIBE", "__redis__:invalidate"))
    tracker, _ = client_with_id(each.port)
    drain(sub)
    tracker.sendall(req("CLIENT", "TRACKING", "on", "REDIRECT", sub_id)
                    + req("CLIENT", "GETREDIR") + req("GET", "rk") + req("CLIENT", "INFO"))
    got = read_reply_stream(tracker, b"\n\r\n")
    assert got.startswith(b"+OK\r\n:" + sub_id + b"\r\n$-1\r\n")
    assert b"flags=t " in got and b"redir=" + sub_id + b" " in got
    assert command(each.port, "SET", "rk", "1") == b"+OK\r\n"
    assert drain(sub) == (b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
                          b"*1\r\n$2\r\nrk\r\n")
    command(each.port, "FLUSHALL")
    assert drain(sub) == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    tracker.close()
    sub.close()


def test_broken_redirect_is_pushed_and_flagged(each) -> None:
    target, target_id = client_with_id(each.port)
    tracker, _ = client_with_id(each.port, req("HELLO", "3"))
    drain(tracker)
    tracker.sendall(req("CLIENT", "TRACKING", "on", "REDIRECT", target_id) + req("GET", "bk"))
    assert drain(tracker) == b"+OK\r\n_\r\n"
    target.close()
    wait_until(lambda: b"id=" + target_id + b" " not in command(each.port, "CLIENT", "LIST"),
               "the redirection target is gone")
    command(each.port, "SET", "bk", "1")
    assert drain(tracker) == b">2\r\n$21\r\ntracking-redir-broken\r\n:" + target_id + b"\r\n"
    tracker.sendall(req("CLIENT", "TRACKINGINFO") + req("CLIENT", "INFO"))
    got = drain(tracker)
    assert b"$15\r\nbroken_redirect\r\n" in got and b"flags=tR " in got
    tracker.close()


def test_info_counts_keys_items_prefixes(each) -> None:
    one, _ = client_with_id(each.port, req("CLIENT", "TRACKING", "on"), req("MGET", "a", "b"))
    two, _ = client_with_id(each.port, req("CLIENT", "TRACKING", "on"), req("GET", "a"))
    three, _ = client_with_id(each.port, req("CLIENT", "TRACKING", "on", "BCAST", "PREFIX",
                                             "p", "PREFIX", "q"), req("CLIENT", "INFO"))
    for conn in (one, two):
        drain(conn)
    assert b"flags=tB " in drain(three)
    assert _info(each.port, "tracking_clients") == 3
    assert _info(each.port, "tracking_total_keys") == 2
    assert _info(each.port, "tracking_total_items") == 3
    assert _info(each.port, "tracking_total_prefixes") == 2
    command(each.port, "SET", "a", "1")
    assert _info(each.port, "tracking_total_keys") == 1
    for conn in (one, two, three):
        conn.close()
    wait_until(lambda: _info(each.port, "tracking_clients") == 0, "trackers gone")
    assert _info(each.port, "tracking_total_prefixes") == 0


def test_table_max_keys_evicts_with_invalidations(each) -> None:
    command(each.port, "CONFIG", "SET", "tracking-table-max-keys", "2")
    try:
        tracker, _ = client_with_id(each.port, req("HELLO", "3"))
        drain(tracker)
        tracker.sendall(req("CLIENT", "TRACKING", "on") + req("MGET", "k1", "k2", "k3"))
        got = drain(tracker, quiet=0.5)
        wait_until(lambda: _info(each.port, "tracking_total_keys") <= 2, "table shrunk")
        got += drain(tracker)
        assert got.startswith(b"+OK\r\n*3\r\n_\r\n_\r\n_\r\n")
        assert got.count(b">2\r\n$10\r\ninvalidate\r\n") >= 1
        tracker.close()
    finally:
        command(each.port, "CONFIG", "SET", "tracking-table-max-keys", "1000000")


def test_redis_py_resp3_push_handler(each) -> None:
    pushes: list[object] = []
    client = redis.Redis(port=each.port, protocol=3, single_connection_client=True)
    try:
        client.connection._parser.set_invalidation_push_handler(pushes.append)
        client.execute_command("CLIENT", "TRACKING", "on")
        assert client.get("pk") is None
        other = redis.Redis(port=each.port)
        other.set("pk", "1")
        other.close()
        wait_until(lambda: client.ping() and pushes, "the invalidation arrives")
        assert pushes == [[b"invalidate", [b"pk"]]]
    finally:
        client.close()
