"""Differences from redis-server 7.0.15 found in review, each compared with the
reference: CLIENT KILL frees the victim at once, SELECT's int-range message, HELLO's
NOAUTH text, EXEC kept out of the slow log, the hash listpack default, and an inline
line too long for Redis's reads."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from conftest import redis_argv, respd_argv
from test_pipeline_state import (END, Pair, _start, command, each, exchange,  # noqa: F401
                                 pair, pipe, read_reply_stream, req)


def _victim(port: int, *setup: bytes) -> tuple[socket.socket, bytes]:
    victim = socket.create_connection(("127.0.0.1", port), timeout=5)
    victim.sendall(req("CLIENT", "ID"))
    cid = read_reply_stream(victim, b"\r\n", quiet=2.0)[1:-2]
    for data in setup:
        victim.sendall(data)
    return victim, cid


@pytest.mark.parametrize("after", [
    ["LPUSH q x", "LLEN q"],          # respd: the killed BLPOP pops x (LLEN 0): data lost
    ["CLIENT LIST"],                  # respd: the victim is still listed
], ids=["blocked-victim-served", "victim-listed"])
def test_killed_client_is_gone_for_the_rest_of_the_pipeline(after: list[str],
                                                            pair: Pair) -> None:
    results = []
    for server in (pair.redis, pair.respd):
        command(server.port, "FLUSHALL")
        victim, cid = _victim(server.port, req("BLPOP", "q", "0"))
        time.sleep(0.1)
        out = exchange(server.port, pipe(["CLIENT", "KILL", "ID", cid], *after, ["PING", END]),
                       END + b"\r\n")
        victim.close()
        results.append(out.count(b"id=") if after == ["CLIENT LIST"] else out)
    assert results[1] == results[0]


def test_killed_subscriber_no_longer_counted_by_publish(pair: Pair) -> None:
    results = []
    for server in (pair.redis, pair.respd):
        victim, cid = _victim(server.port, req("SUBSCRIBE", "ch"))
        time.sleep(0.1)
        results.append(exchange(server.port, pipe(["CLIENT", "KILL", "ID", cid], "PUBLISH ch m",
                                                  ["PING", END]), END + b"\r\n"))
        victim.close()
    assert results[1] == results[0]  # redis :1 :0 ; respd :1 :1


@pytest.mark.parametrize("index", [b"2147483648", b"-2147483649"])
def test_select_out_of_int_range_message(index: bytes, pair: Pair) -> None:
    # redis: ERR value is out of range, value must between -2147483648 and 2147483647
    assert command(pair.respd.port, "SELECT", index) == command(pair.redis.port, "SELECT",
                                                                 index)


def test_hello_noauth_message() -> None:
    servers = [_start(redis_argv, "--requirepass", "pw"), _start(respd_argv, "--requirepass",
                                                                  "pw")]
    try:
        ref, got = (command(s.port, "HELLO", "3") for s in servers)
        # redis 7.0.15: "... otherwise the HELLO AUTH <user> <pass> option can be used ..."
        assert got == ref
    finally:
        for s in servers:
            s.stop()


def test_slowlog_skips_exec(each: Any) -> None:
    import redis

    c = redis.Redis(port=each.port)
    try:
        c.config_set("slowlog-log-slower-than", 0)
        c.slowlog_reset()
        exchange(each.port, pipe("MULTI", "INCR a", "EXEC", ["PING", END]), END + b"\r\n")
        c.config_set("slowlog-log-slower-than", 10000)
        logged = [e["command"] for e in c.slowlog_get(128)]
    finally:
        c.config_set("slowlog-log-slower-than", 10000)
        c.slowlog_reset()
        c.close()
    assert b"EXEC" not in logged
    assert b"INCR a" in logged


def test_hash_max_listpack_entries_default(pair: Pair) -> None:
    # the reference binary answers 512; respd 128 (respd/config.py)
    assert command(pair.respd.port, "CONFIG", "GET", "hash-max-listpack-entries") == command(
        pair.redis.port, "CONFIG", "GET", "hash-max-listpack-entries")
def test_inline_line_of_100k_is_too_big(pair: Pair) -> None:  # noqa: F811
    # The same error; Redis resets the link (unread bytes), respd may close it cleanly.
    ref, got = (exchange(s.port, [b"ECHO " + b"a" * 100000 + b"\r\n"])
                for s in (pair.redis, pair.respd))
    assert got.split(b"\r\n")[0] == ref.split(b"\r\n")[0] == (
        b"-ERR Protocol error: too big inline request")


def test_monitor_client_cannot_touch_the_keyspace(pair: Pair) -> None:  # noqa: F811
    ref, got = (exchange(s.port, pipe("MONITOR", "SET b 2", "GET b", "HSET h f v"))
                for s in (pair.redis, pair.respd))
    assert got == ref == b"+OK\r\n" + b"-ERR Replica can't interact with the keyspace\r\n" * 3


def test_subscribe_confirmations_survive_client_reply_off(pair: Pair) -> None:  # noqa: F811
    # Confirmations are pushes: CLIENT REPLY OFF silences the PING, not them.
    ref, got = (exchange(s.port, pipe("CLIENT REPLY OFF", "SUBSCRIBE c d", "PING",
                                      "UNSUBSCRIBE c"))
                for s in (pair.redis, pair.respd))
    assert got == ref and ref.count(b"subscribe") == 3
