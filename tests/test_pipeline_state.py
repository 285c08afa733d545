"""State changes in the middle of a pipeline, and the request reader, against
redis-server 7.0 byte for byte.

``dispatch.run_batch`` runs *plain* data commands inline while the client and server
are in the plain state, and ``RequestReader.feed`` splits whole reads of requests
without its bookkeeping.  These tests pipeline plain commands around everything that
leaves (or re-enters) that state -- MULTI, SUBSCRIBE in RESP2 and RESP3, CLIENT REPLY,
HELLO, AUTH, RESET, QUIT, CLIENT PAUSE, MONITOR, CONFIG SET appendonly, blocked clients,
WATCH, keyspace events -- and compare the replies (and what other connections see)
with the reference server.  In-process tests check that the inline path and the
general one (execute/call) agree on replies, statistics and data.
"""

from __future__ import annotations

import random
import re
import socket
import time
from typing import Any

import pytest

from conftest import (END, Pair, ServerProcess, command, drain, eventually, exchange, normalise,
                      pipe, read_reply_stream, req, wait_until)
from respd import dispatch
from respd.command import COMMANDS
from respd.resp import encode_request
from respd.server import Connection, Server

# --- client state changing in the middle of a pipeline --------------------------------------

STATE_CASES: dict[str, list[Any]] = {
    "multi": ["SET a 1", "MULTI", "SET a 2", "GET a", "INCR a", "EXEC", "GET a", "LPUSH l x"],
    "multi_errors": ["GET a", "MULTI", "SET a 1", "GET", "EXEC", "GET a", "MULTI", "NOSUCH",
                     "EXEC", "MULTI", "SET a 2", "DISCARD", "GET a", "INCR a"],
    "multi_then_subscribe": ["SET a 1", "MULTI", "SUBSCRIBE c", "EXEC", "GET a"],
    "subscribe_resp2": ["SET a 1", "SUBSCRIBE ch", "GET a", "PING", "PING x", "SET b 1",
                        "PUBLISH ch x", "ECHO e", "UNSUBSCRIBE", "GET a", "GET b"],
    "psubscribe_resp2": ["PSUBSCRIBE *", "PUBLISH c x", "LPUSH l x", "PUNSUBSCRIBE",
                         "LPUSH l y", "LLEN l"],
    "ssubscribe_resp2": ["SSUBSCRIBE s", "SPUBLISH s x", "GET a", "SUNSUBSCRIBE", "GET a"],
    "subscribe_resp3": ["SET a 1", "HELLO 3", "SUBSCRIBE ch", "GET a", "PUBLISH ch x",
                        "ZADD z 1.5 m", "ZSCORE z m", "HSET h f v", "HGETALL h", "GET nokey",
                        "SPUBLISH ch y", "PING"],
    "psubscribe_resp3_publish_to_self": ["HELLO 3", "PSUBSCRIBE *", "PUBLISH c x", "SET a 1",
                                         "PUBLISH a b", "PUNSUBSCRIBE", "PUBLISH a c"],
    "resp3_then_resp2_subscribed": ["HELLO 3", "SUBSCRIBE c", "PUBLISH c x", "HELLO 2",
                                    "PING", "GET a", "PUBLISH c y"],
    "hello3_reply_types": ["HELLO 3", "ZADD z 1.5 m 2 n", "ZPOPMIN z", "ZPOPMAX z 1",
                           "ZADD z 1 a 2 b", "ZRANGE z 0 -1 WITHSCORES", "HSET h f v",
                           "HGETALL h", "GET nokey", "LPOP nokey 1", "HELLO 2",
                           "ZRANGE z 0 -1 WITHSCORES", "ZSCORE z a", "ZINCRBY z 0.1 a",
                           "GET nokey", "LPOP nokey 1"],
    "hello_errors": ["SET a 1", "HELLO 4", "HELLO 3 SETNAME x", "CLIENT GETNAME", "GET a"],
    "reply_off": ["SET a 1", "CLIENT REPLY OFF", "SET a 2", "GET a", "NOSUCH", "GET",
                  "CLIENT REPLY ON", "GET a"],
    "reply_skip": ["SET a 1", "CLIENT REPLY SKIP", "GET a", "GET a", "CLIENT REPLY SKIP",
                   "INCR a", "INCR a", "CLIENT REPLY SKIP", "NOSUCH", "GET", "PING"],
    "reply_off_then_skip": ["CLIENT REPLY OFF", "GET a", "INCR b", "CLIENT REPLY SKIP",
                            "CLIENT REPLY ON", "GET b"],
    "reset": ["HELLO 3", "SELECT 2", "SET a 1", "SUBSCRIBE c", "GET a", "RESET", "GET a",
              "SELECT 2", "GET a", "ZADD z 1 m", "ZSCORE z m"],
    "select_swapdb_move": ["SELECT 2", "SET a 1", "SWAPDB 0 2", "GET a", "SELECT 0", "GET a",
                           "MOVE a 5", "GET a", "SELECT 5", "GET a", "SELECT 99", "GET a"],
    "quit": ["SET a 1", "QUIT", "SET a 2", "GET a"],
    "reset_then_quit": ["SET a 1", "RESET", "QUIT", "SET a 3"],
}


@pytest.mark.parametrize("name", sorted(STATE_CASES))
def test_state_changes_mid_pipeline_match_redis(name: str, pair: Pair) -> None:
    cmds = STATE_CASES[name]
    data = pipe(*cmds, ["PING", END])
    ref, got = pair.both(data, until=END + b"\r\n")
    assert got == ref
    # And once more with every request in its own read.
    ref, got = pair.both([pipe(c) for c in cmds] + [pipe(["PING", END])],
                         until=END + b"\r\n")
    assert got == ref


def test_quit_mid_pipeline_runs_nothing_after_it(each: ServerProcess) -> None:
    assert exchange(each.port, pipe("SET a 1", "QUIT", "SET a 2", "INCR n")) == (
        b"+OK\r\n+OK\r\n<closed>")
    assert command(each.port, "MGET", "a", "n") == b"*2\r\n$1\r\n1\r\n$-1\r\n"


def test_auth_mid_pipeline(pair: Pair, spawn: Any) -> None:
    servers = [spawn(kind, "--requirepass", "pw") for kind in ("redis", "respd")]
    cmds = ["GET a", "SET a 1", "AUTH pw", "SET a 1", "GET a", "AUTH wrong", "GET a",
            "AUTH default pw", "INCR a", "HELLO 2 AUTH default wrong", "GET a",
            "HELLO 3 AUTH default pw", "GET nokey", "HGETALL nokey", "RESET", "GET a",
            "AUTH pw", "GET a", ["PING", END]]
    replies = [normalise(exchange(s.port, pipe(*cmds), END + b"\r\n")) for s in servers]
    assert replies[1] == replies[0]
    assert replies[1].startswith(b"-NOAUTH Authentication required.\r\n" * 2 + b"+OK\r\n")
    # Unauthenticated pipelines: nothing runs before AUTH, everything after.
    cmds = ["LPUSH l x", "PING", "ECHO y", "AUTH pw", "LPUSH l x", "LLEN l"]
    replies = [exchange(s.port, pipe(*cmds, ["PING", END]), END + b"\r\n")
               for s in servers]
    assert replies[1] == replies[0]
    assert b":1\r\n:1\r\n" in replies[1]


# --- other connections: MONITOR, CLIENT PAUSE, blocked clients, WATCH ------------------------


def _monitored(port: int, data: bytes) -> tuple[bytes, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as mon:
        mon.sendall(req("MONITOR"))
        assert read_reply_stream(mon, b"+OK\r\n", quiet=2.0) == b"+OK\r\n"
        replies = exchange(port, data, END + b"\r\n")
        seen = drain(mon)
    # Timestamps and client addresses differ.
    return replies, re.sub(rb"\+\d+\.\d+ \[(\d+) [^\]]*\]", rb"+T [\1 addr]", seen)


def test_monitor_sees_pipelined_plain_commands(pair: Pair) -> None:
    cmds = ["SET a 1", "GET a", "SELECT 3", "LPUSH l x", "PING", "PUBLISH c m", "ECHO e",
            "CONFIG GET hz", "INCR n", "GET", "NOSUCH x", "HSET h f v", "ZADD z 1 m",
            "XADD s 1-1 f v", "SADD s2 a", "SELECT 0", "DEL a", ["PING", END]]
    data = pipe(*cmds)
    command(pair.redis.port, "FLUSHALL")
    command(pair.respd.port, "FLUSHALL")
    ref = _monitored(pair.redis.port, data)
    got = _monitored(pair.respd.port, data)
    assert got == ref
    assert got[1].count(b"\r\n") == 15  # CONFIG is admin, the rejected two never ran


def test_monitor_ends_and_plain_pipelines_are_no_longer_shown(each: ServerProcess) -> None:
    mon = socket.create_connection(("127.0.0.1", each.port), timeout=5)
    mon.sendall(req("MONITOR"))
    assert read_reply_stream(mon, b"+OK\r\n", quiet=2.0) == b"+OK\r\n"
    exchange(each.port, pipe("SET a 1", ["PING", END]), END + b"\r\n")
    assert b'"SET" "a" "1"' in drain(mon)
    mon.close()
    assert eventually(lambda: b"cmd=monitor" not in command(each.port, "CLIENT", "LIST"))
    with socket.create_connection(("127.0.0.1", each.port), timeout=5) as mon2:
        mon2.sendall(req("MONITOR"))
        assert read_reply_stream(mon2, b"+OK\r\n", quiet=2.0) == b"+OK\r\n"
        exchange(each.port, pipe("SET b 2", "GET b", ["PING", END]), END + b"\r\n")
        seen = drain(mon2)
    assert b'"SET" "b" "2"' in seen and b'"GET" "b"' in seen


def test_client_pause_write_from_another_client_holds_pipelined_writes(
        each: ServerProcess) -> None:
    pauser = socket.create_connection(("127.0.0.1", each.port), timeout=5)
    pauser.sendall(req("CLIENT", "PAUSE", "20000", "WRITE"))
    assert read_reply_stream(pauser, b"+OK\r\n", quiet=2.0) == b"+OK\r\n"
    try:
        c = socket.create_connection(("127.0.0.1", each.port), timeout=5)
        c.sendall(pipe("GET a", "SET a 1", "GET a", "LPUSH l x", "PING"))
        assert read_reply_stream(c, b"$-1\r\n", quiet=2.0) == b"$-1\r\n"
        assert drain(c) == b""  # the SET waits, and everything after it
        assert command(each.port, "GET", "a") == b"$-1\r\n"  # reads still run
    finally:
        pauser.sendall(req("CLIENT", "UNPAUSE"))
        read_reply_stream(pauser, b"+OK\r\n", quiet=2.0)
        pauser.close()
    assert read_reply_stream(c, b"+PONG\r\n", quiet=2.0) == b"+OK\r\n$1\r\n1\r\n:1\r\n+PONG\r\n"
    c.close()


def test_client_pause_in_own_pipeline(pair: Pair) -> None:
    cmds = ["SET a 0", "CLIENT PAUSE 300 WRITE", "GET a", "INCR a", "GET a", "LPUSH l x",
            ["PING", END]]
    ref, got = pair.both(pipe(*cmds), END + b"\r\n")
    assert got == ref == b"+OK\r\n+OK\r\n$1\r\n0\r\n:1\r\n$1\r\n1\r\n:1\r\n$9\r\nzz-end-zz\r\n"


BLOCKED_CASES = [
    (["BLPOP", "l", "2"], ["LPUSH l a", "LLEN l", "LPUSH l b c", "LRANGE l 0 -1"]),
    (["BLPOP", "l", "2"], ["SET l x", "DEL l", "RPUSH l a", "LLEN l"]),
    (["BLPOP", "l", "2"], ["SET l x", "GET l", "LPUSH l a"]),
    (["BLPOP", "l", "2"], ["RPUSH l a b", "LPOP l", "LRANGE l 0 -1"]),
    (["BLPOP", "l", "2"], ["SELECT 1", "RPUSH l a", "SELECT 0", "RPUSH l b", "LRANGE l 0 -1"]),
    (["BLPOP", "l", "2"], ["MULTI", "RPUSH l a", "RPUSH l b", "EXEC", "LRANGE l 0 -1"]),
    (["BLPOP", "l", "2"], ["RPUSH tmp a", "LMOVE tmp l LEFT LEFT", "LLEN l"]),
    (["BLPOP", "l", "2"], ["RPUSH tmp a", "RENAME tmp l", "LLEN l"]),
    (["BRPOP", "l", "m", "2"], ["RPUSH m x y", "LLEN m", "RPUSH l z", "LLEN l"]),
    (["BLMOVE", "l", "d", "LEFT", "RIGHT", "2"], ["RPUSH l a b", "LRANGE d 0 -1", "LLEN l"]),
    (["BLMOVE", "l", "d", "LEFT", "LEFT", "2"], ["SET d str", "RPUSH l a", "LLEN l", "GET d"]),
    (["BLMPOP", "2", "1", "l", "LEFT", "COUNT", "5"], ["RPUSH l a b c", "LLEN l"]),
    (["BZPOPMIN", "z", "2"], ["LPUSH z a", "DEL z", "ZADD z 1 m 2 n", "ZCARD z"]),
    (["BZMPOP", "2", "1", "z", "MAX", "COUNT", "2"], ["ZADD z 1 a 2 b 3 c", "ZCARD z"]),
    (["XREAD", "BLOCK", "2000", "STREAMS", "x", "$"], ["SET x 1", "DEL x", "XADD x 1-1 f v",
                                                      "XLEN x"]),
]


@pytest.mark.parametrize("waiter,cmds", BLOCKED_CASES,
                         ids=[f"{w[0]}-{i}" for i, (w, _) in enumerate(BLOCKED_CASES)])
def test_blocked_client_woken_by_pipelined_plain_write(waiter: list[str], cmds: list[str],
                                                       pair: Pair) -> None:
    results = []
    for server in (pair.redis, pair.respd):
        command(server.port, "FLUSHALL")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as w:
            w.sendall(req(*waiter))
            assert eventually(lambda: b"blocked_clients:1" in command(
                server.port, "INFO", "clients"))
            replies = exchange(server.port, pipe(*cmds, ["PING", END]), END + b"\r\n")
            woken = read_reply_stream(w, None, quiet=0.5)
        results.append((replies, woken))
    assert results[1] == results[0]


WATCH_WRITES = ["SET k 1", "LPUSH k x", "RPUSH k x", "LPOP k", "RPOP k", "HSET k f v",
                "SADD k m", "ZADD k 1 m", "XADD k 1-1 f v", "INCR k", "SPOP k", "ZPOPMIN k",
                "DEL k", "APPEND k x", "SETRANGE k 0 y", "GETDEL k", "EXPIRE k 100",
                "SET k 1 NX", "SET k 1 XX", "SETNX k 1", "HSET other f v", "GETEX k PERSIST"]
WATCH_SETUP = {"LPOP": "RPUSH k a b", "RPOP": "RPUSH k a b", "SPOP": "SADD k a",
               "ZPOPMIN": "ZADD k 1 a 2 b", "EXPIRE": "SET k 1", "GETDEL": "SET k 1",
               "SET k 1 XX": "SET k 0", "GETEX": "SET k 1 EX 100"}


@pytest.mark.parametrize("write", WATCH_WRITES)
def test_watch_invalidated_by_pipelined_plain_write(write: str, pair: Pair) -> None:
    setup = next((s for p, s in WATCH_SETUP.items() if write.startswith(p)), None)
    results = []
    for server in (pair.redis, pair.respd):
        command(server.port, "FLUSHALL")
        if setup:
            exchange(server.port, pipe(setup), b"\r\n")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as watcher:
            watcher.sendall(req("WATCH", "k"))
            assert read_reply_stream(watcher, b"+OK\r\n", quiet=2.0) == b"+OK\r\n"
            other = exchange(server.port, pipe(write, "GET unrelated", ["PING", END]),
                             END + b"\r\n")
            watcher.sendall(pipe("MULTI", "PING", "EXEC"))
            results.append((other, read_reply_stream(watcher, None, quiet=0.5)))
        # The same write pipelined by the watcher itself, before its MULTI.
        command(server.port, "FLUSHALL")
        if setup:
            exchange(server.port, pipe(setup), b"\r\n")
        own = exchange(server.port, pipe("WATCH k", write, "MULTI", "PING", "EXEC",
                                         ["PING", END]), END + b"\r\n")
        results.append(own)
    assert results[2:] == results[:2]


def test_watch_untouched_by_pipelined_reads(pair: Pair) -> None:
    cmds = ["SET k 1", "WATCH k", "GET k", "EXISTS k", "TTL k", "TYPE k", "STRLEN k",
            "SET other 1", "MULTI", "INCR k", "EXEC", ["PING", END]]
    ref, got = pair.both(pipe(*cmds), END + b"\r\n")
    assert got == ref
    assert b"*1\r\n:2\r\n" in got


# --- keyspace notifications, expiry ----------------------------------------------------------


def _events(port: int, cmds: list[Any], setup: list[Any], flags: bytes = b"KEA",
            settle: float = 0.05) -> tuple[bytes, bytes, bytes]:
    command(port, "FLUSHALL")
    command(port, "CONFIG", "SET", "notify-keyspace-events", flags)
    command(port, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        if setup:
            exchange(port, pipe(*setup, ["PING", END]), END + b"\r\n")
        time.sleep(settle)  # TTLs of a few ms have passed: the next access expires them
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sub:
            sub.sendall(req("PSUBSCRIBE", "__key*@*__:*"))
            assert read_reply_stream(sub, b":1\r\n", quiet=2.0).endswith(b":1\r\n")
            command(port, "CONFIG", "RESETSTAT")
            replies = exchange(port, pipe(*cmds, ["PING", END]), END + b"\r\n")
            seen = drain(sub)
        info = command(port, "INFO", "stats")
        expired = re.search(rb"expired_keys:\d+", info)
        assert expired is not None
        return replies, seen, expired.group(0)
    finally:
        command(port, "CONFIG", "SET", "notify-keyspace-events", "")
        command(port, "DEBUG", "SET-ACTIVE-EXPIRE", "1")


EVENT_CASES: dict[str, tuple[list[str], list[str]]] = {
    "strings": (["SET a 1", "SET a 2 EX 100", "SET a 3 KEEPTTL", "SET a 4 GET", "INCR n",
                 "INCRBY n 5", "DECR n", "APPEND a x", "GETDEL a", "SETNX b 1", "MSET c 1 d 2",
                 "GETEX c EX 10", "GETEX c PERSIST", "SET e 1 PX 100000", "SET e 2 NX",
                 "SET e 3 XX", "INCRBYFLOAT n 1.5", "SETRANGE f 0 x"], []),
    "lists": (["LPUSH l a b", "RPUSH l c", "LPOP l", "RPOP l", "LPOP l", "LPOP l",
               "RPUSHX l z", "LPUSHX l z", "LPUSH l2 x", "RPOP l2 1", "LPUSH l3 x y",
               "LPOP l3 5", "RPUSH l4 a", "LMOVE l4 l5 LEFT RIGHT"], []),
    "hashes": (["HSET h f v", "HSET h f v", "HSETNX h f v", "HINCRBY h n 1", "HDEL h f n",
                "HMSET h2 a 1 b 2", "HINCRBYFLOAT h2 a 1.5", "HSET h2 a 1 c 3"], []),
    "sets": (["SADD s a b", "SADD s a", "SREM s a", "SADD s2 1 2 3", "SREM s2 1 2 3",
              "SADD s3 x", "SMOVE s3 s4 x"], []),
    "zsets": (["ZADD z 1 a 2 b", "ZADD z 1 a", "ZADD z INCR 1 a", "ZPOPMIN z", "ZPOPMAX z",
               "ZADD z2 1 a 2 b 3 c", "ZPOPMIN z2 5", "ZINCRBY z3 1 m", "ZADD z4 XX 1 m"], []),
    "streams": (["XADD s 1-1 f v", "XADD s MAXLEN 1 2-1 f v", "XADD s NOMKSTREAM 3-1 f v",
                 "XADD s2 NOMKSTREAM 1-1 f v", "XTRIM s MAXLEN 0", "XDEL s 3-1",
                 "XADD s3 * f v"], []),
    "lazy_expiry_reads": (
        ["GET a", "GET a", "LLEN l", "HGET h g", "SCARD s", "ZCARD z", "XLEN x", "EXISTS b c",
         "DBSIZE"],
        ["SET a 1 PX 5", "SET c 5 PX 5", "RPUSH l y", "PEXPIRE l 5", "HSET h g w",
         "PEXPIRE h 5", "SADD s n", "PEXPIRE s 5", "ZADD z 2 n", "PEXPIRE z 5",
         "XADD x 0-1 g w", "PEXPIRE x 5", "SET b 0 PX 5"]),
    "lazy_expiry_writes": (
        ["SET a 2", "INCR c", "LPUSH l x", "HSET h f v", "SADD s m", "ZADD z 1 m",
         "XADD x 1-1 f v", "LPOP l", "SPOP s", "ZPOPMIN z", "SET b 2 NX", "RPUSHX l z"],
        ["SET a 1 PX 5", "SET c 5 PX 5", "RPUSH l y", "PEXPIRE l 5", "HSET h g w",
         "PEXPIRE h 5", "SADD s n", "PEXPIRE s 5", "ZADD z 2 n", "PEXPIRE z 5",
         "XADD x 0-1 g w", "PEXPIRE x 5", "SET b 0 PX 5"]),
    "lazy_expiry_options": (
        ["SET a 2 XX", "SET c 3 GET", "RPOP l", "LPUSHX l 1", "SPOP s", "ZPOPMAX z",
         "XADD x NOMKSTREAM 5-1 f v", "GETEX b", "HSETNX h f v", "SET d 1 NX GET"],
        ["SET a 1 PX 5", "SET c 5 PX 5", "RPUSH l y", "PEXPIRE l 5", "SADD s n",
         "PEXPIRE s 5", "ZADD z 2 n", "PEXPIRE z 5", "XADD x 0-1 g w", "PEXPIRE x 5",
         "SET b 0 PX 5", "HSET h g w", "PEXPIRE h 5", "SET d 0 PX 5"]),
}


@pytest.mark.parametrize("name", sorted(EVENT_CASES))
def test_keyspace_events_of_pipelined_plain_commands(name: str, pair: Pair) -> None:
    cmds, setup = EVENT_CASES[name]
    if name == "streams":  # an automatic ID differs: compare up to it
        cmds = cmds[:-1]
    ref = _events(pair.redis.port, cmds, setup)
    got = _events(pair.respd.port, cmds, setup)
    assert got == ref
    assert got[1]  # something was notified


@pytest.mark.parametrize("flags", [b"KEA", b"Kg$", b"El", b"Ex", b"A"])
def test_notify_flags_changed_mid_pipeline(flags: bytes, pair: Pair) -> None:
    cmds = ["SET a 1", ["CONFIG", "SET", "notify-keyspace-events", flags], "SET b 1",
            "LPUSH l x", "EXPIRE b 100", "DEL b", "PEXPIRE l 100000", "HSET h f v",
            ["CONFIG", "SET", "notify-keyspace-events", ""], "SET c 1", "LPUSH l y"]
    ref = _events(pair.redis.port, cmds, [], flags=b"")
    got = _events(pair.respd.port, cmds, [], flags=b"")
    assert got == ref
    # Nothing about the key written before notifications were on, or after they went off.
    for key in (b"a", b"c"):
        assert b"@0__:" + key + b"\r\n" not in got[1]
        assert b"$1\r\n" + key + b"\r\n" not in got[1]


# --- statistics: commandstats, errorstats, slowlog, CLIENT LIST ------------------------------


def _stats(port: int, cmds: list[Any]) -> tuple[bytes, list[bytes]]:
    command(port, "FLUSHALL")
    command(port, "CONFIG", "RESETSTAT")
    replies = exchange(port, pipe(*cmds, ["PING", END]), END + b"\r\n")
    info = b"".join(command(port, "INFO", section)
                    for section in ("commandstats", "errorstats", "stats"))
    lines = [re.sub(rb"usec=\d+,usec_per_call=[\d.]+,", b"", line)
             for line in info.split(b"\r\n")
             if line.startswith((b"cmdstat_", b"errorstat_", b"total_error_replies",
                                 b"total_commands_processed"))]
    return replies, sorted(lines)


STATS_CMDS = [
    "SET a x", "INCR a", "INCR a", "GET", "get a b", "LPUSH a x", "SET n 1", "INCR n",
    "incr n", "Incr n", "HSET h f", "ZADD z x m", "ZADD z 1 m", "XADD s 0-0 f v",
    "SET a b EX 0", "SET a b EX x", "SET a b XX NX", "LPOP a", "SELECT 99", "SELECT 1",
    "PING a b", "ECHO", "PUBLISH c m", "SPUBLISH c m", "NOSUCH x", "SPOP s 1 2", "LPOP l -1",
    "GETEX a EX 5 PERSIST", "SETRANGE a -1 x", "OBJECT FREQ a", "XADD s * f", "ZPOPMIN z 1 2",
    "MULTI", "INCR n", "GET", "EXEC", "MULTI", "INCR n", "LPUSH n x", "EXEC", "HSET h f v g",
    "SADD h x", "XADD h * f v", "INCRBYFLOAT n x", "SELECT 0", "DEL a n h z s",
]


def test_commandstats_and_errorstats_count_pipelined_plain_commands(pair: Pair) -> None:
    ref = _stats(pair.redis.port, STATS_CMDS)
    got = _stats(pair.respd.port, STATS_CMDS)
    assert got == ref
    assert b"cmdstat_incr:calls=6,rejected_calls=0,failed_calls=2" in got[1]


def test_commandstats_of_pipeline_in_separate_reads(pair: Pair) -> None:
    cmds = ["SET a x", "INCR a", "GET", "LPUSH a x", "INCR n", "NOSUCH"]
    results = []
    for server in (pair.redis, pair.respd):
        command(server.port, "FLUSHALL")
        command(server.port, "CONFIG", "RESETSTAT")
        exchange(server.port, [pipe(c) for c in cmds] + [pipe(["PING", END])], END + b"\r\n")
        info = command(server.port, "INFO", "commandstats")
        results.append(sorted(re.sub(rb"usec=\d+,usec_per_call=[\d.]+,", b"", line)
                              for line in info.split(b"\r\n") if line.startswith(b"cmdstat_")))
    assert results[1] == results[0]


def _slowlog(port: int, cmds: list[Any]) -> list[tuple[bytes, ...]]:
    import redis

    c = redis.Redis(port=port)
    try:
        c.flushall()
        c.config_set("slowlog-log-slower-than", 0)
        c.slowlog_reset()
        exchange(port, req("CLIENT", "SETNAME", "pipey") + pipe(*cmds, ["PING", END]),
                 END + b"\r\n")
        c.config_set("slowlog-log-slower-than", 10000)
        entries = c.slowlog_get(128)
        c.slowlog_reset()
    finally:
        c.config_set("slowlog-log-slower-than", 10000)
        c.close()
    return [(e["command"], e["client_name"]) for e in entries]


def test_slowlog_records_every_pipelined_plain_command(pair: Pair) -> None:
    cmds = ["SET a 1", "GET a", "NOSUCH", "GET", "INCR a", "INCR a x",
            "LPUSH l " + " ".join(str(i) for i in range(40)), "SET big " + "x" * 200,
            "CONFIG SET slowlog-log-slower-than -1", "SET after 1",
            "CONFIG SET slowlog-log-slower-than 0", "GET a", "HSET h f v", "ZADD z 1 m",
            "PING"]
    ref = _slowlog(pair.redis.port, cmds)
    got = _slowlog(pair.respd.port, cmds)
    assert got == ref
    assert (b"SET after 1", b"pipey") not in got
    assert (b"HSET h f v", b"pipey") in got


def _last_cmd(port: int, cmds: list[Any]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(req("CLIENT", "SETNAME", "probe"))
        read_reply_stream(c, b"+OK\r\n", quiet=2.0)
        c.sendall(pipe(*cmds))
        drain(c)
        listing = command(port, "CLIENT", "LIST")
    found = re.search(rb"name=probe .*?cmd=(\S+)", listing)
    assert found is not None
    return found.group(1)


LAST_CMD_CASES = [
    ["SET a 1", "GET a"], ["GET a", "PING"], ["PING", "NOSUCH"], ["NOSUCH", "GET a"],
    ["GET", "SET a 1"], ["SET a 1", "GET"], ["GET a", "MULTI", "SET a 1"],
    ["SET a 1", "SELECT 0"], ["SELECT 0", "CLIENT ID"], ["ECHO x", "PUBLISH c m"],
    ["GET a", "CLIENT REPLY OFF", "GET a"], ["GET a", "CLIENT REPLY SKIP", "INCR q"],
    ["SET a 1", "SUBSCRIBE c", "GET a"], ["HELLO 3", "GET a", "SUBSCRIBE c", "GET a"],
    ["LPUSH a x", "OBJECT FREQ a"], ["get a", "LRANGE a 0 -1", "ZSCORE a b"],
    ["SET a 1", "GET a a"], ["XADD s * f v", "XLEN s"], ["SET a 1", "WATCH a", "GET a"],
    ["INCR a", "LPUSH a x"], ["MULTI", "GET a", "EXEC", "STRLEN a"],
]


@pytest.mark.parametrize("cmds", LAST_CMD_CASES, ids=[" ; ".join(c) for c in LAST_CMD_CASES])
def test_client_list_cmd_after_pipeline(cmds: list[str], pair: Pair) -> None:
    command(pair.redis.port, "FLUSHALL")
    command(pair.respd.port, "FLUSHALL")
    assert _last_cmd(pair.respd.port, cmds) == _last_cmd(pair.redis.port, cmds)


# --- AOF switched on in the middle of a pipeline ---------------------------------------------


def _aof_ready(port: int) -> bool:
    info = command(port, "INFO", "persistence")
    return (b"aof_enabled:1" in info and b"aof_rewrite_in_progress:0" in info
            and b"aof_rewrite_scheduled:0" in info)


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_appendonly_turned_on_mid_pipeline_logs_later_writes(kind: str, spawn: Any,
                                                             tmp_path: Any) -> None:
    server = spawn(kind, workdir=str(tmp_path))
    cmds = ["SET before 1", "SET gone 1 PX 100000", "CONFIG SET appendonly yes",
            "SET b 2", "INCR c", "LPUSH l x", "HSET h f v", "SADD s m", "ZADD z 1 m",
            "XADD x 1-1 f v", "SET e 1 EX 1000", "DEL gone", "SELECT 2", "SET d 1",
            ["PING", END]]
    replies = exchange(server.port, pipe(*cmds), END + b"\r\n")
    assert not re.search(rb"(^|\r\n)-", replies), replies
    wait_until(lambda: _aof_ready(server.port), "the AOF rewrite")
    # More writes in a later pipeline, once the rewrite is done.
    exchange(server.port, pipe("INCR c", "RPUSH l y", ["PING", END]), END + b"\r\n")
    server.stop()
    again = spawn(kind, "--appendonly", "yes", workdir=str(tmp_path))
    c = again.client()
    try:
        assert c.get("before") == b"1" and c.get("b") == b"2" and c.get("c") == b"2"
        assert c.lrange("l", 0, -1) == [b"x", b"y"]
        assert c.hgetall("h") == {b"f": b"v"} and c.smembers("s") == {b"m"}
        assert c.zrange("z", 0, -1, withscores=True) == [(b"m", 1.0)]
        assert c.xlen("x") == 1 and 0 < c.ttl("e") <= 1000 and c.exists("gone") == 0
        c.select(2)
        assert c.get("d") == b"1"
    finally:
        c.close()


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_lazily_expired_key_is_logged_as_del_once_aof_is_on(kind: str, spawn: Any,
                                                           tmp_path: Any) -> None:
    server = spawn(kind, "--enable-debug-command", "yes", workdir=str(tmp_path))
    exchange(server.port, pipe("DEBUG SET-ACTIVE-EXPIRE 0", "SET k v PX 1", "SET k2 v PX 1",
                               ["PING", END]), END + b"\r\n")
    time.sleep(0.05)
    replies = exchange(server.port, pipe("GET k", "CONFIG SET appendonly yes", "GET k2",
                                         "SET after 1", ["PING", END]), END + b"\r\n")
    assert replies.startswith(b"$-1\r\n+OK\r\n$-1\r\n+OK\r\n")
    wait_until(lambda: _aof_ready(server.port), "the AOF rewrite")
    aof_dir = tmp_path / "appendonlydir"
    incr = b"".join(p.read_bytes() for p in sorted(aof_dir.glob("*.incr.aof")))
    assert b"$3\r\nDEL\r\n$2\r\nk2\r\n" in incr.replace(b"$3\r\ndel\r\n", b"$3\r\nDEL\r\n")
    assert b"$5\r\nafter\r\n" in incr


# --- the request reader: raw bytes, byte for byte --------------------------------------------

READER_CASES: dict[str, list[bytes]] = {
    "inline_cr_in_middle": [b"ECHO a\rb c\r\n", b"ECHO a\rb\r\n"],
    "inline_cr_before_lf_twice": [b"PING\r\r\n"],
    "inline_empty_lines": [b"\r\n\n  \r\n\t\r\nPING\r\n"],
    "inline_tabs": [b"ECHO\ta\tb\r\nECHO\t x\r\nSET\tk\tv\r\nGET k\r\n"],
    "inline_lf_only": [b"PING\nECHO x\nGET nokey\n"],
    "inline_control_bytes": [b"ECHO a\x1cb\r\nECHO \x85x\xa0\r\nECHO \x01\x7f\r\n"],
    "inline_vt_ff": [b"ECHO a\x0bb\r\nECHO a\x0cb\r\n"],
    "inline_quotes": [b'ECHO "a b"\r\nECHO \'c d\'\r\nECHO "\\x41\\n"\r\n'],
    "inline_unknown_with_args": [b"NOSUCH a b\r\nnosuch\r\n"],
    "inline_then_multibulk_same_read": [b"PING\r\n*1\r\n$4\r\nPING\r\n"],
    "inline_then_multibulk_later_read": [b"PING\r\n", b"*1\r\n$4\r\nPING\r\n", b"PING\r\n"],
    "inline_split_mid_line": [b"PI", b"NG\r\nEC", b"HO x\r\n"],
    "inline_lf_then_star_split": [b"PING\n", b"PING\n*1\r\n", b"$4\r\nPING\r\nECHO x\r\n"],
    "multibulk_then_inline_same_read": [b"*2\r\n$4\r\nECHO\r\n$1\r\nm\r\nPING\r\nECHO y\r\n"],
    "multibulk_split_then_inline": [b"*2\r\n$4\r\nEC", b"HO\r\n$1\r\nm\r\nPING\r\n"],
    "star_inside_inline_line": [b"ECHO *1\r\nECHO a*b\r\n"],
    "space_then_star": [b" *1\r\n"],
    "multibulk_empty_and_null": [b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"],
    "resp3_map_type_at_start": [b"%1\r\n$4\r\nPING\r\n"],
    "resp3_push_type_at_start": [b">1\r\n$4\r\nPING\r\n"],
    "resp3_set_type_at_start": [b"~1\r\n$0\r\n\r\n"],
    "resp3_attribute_after_multibulk": [b"*1\r\n$4\r\nPING\r\n|1\r\n+a\r\n+b\r\n"],
    "resp3_scalars_after_inline": [b"PING\r\n_\r\n#t\r\n,1.5\r\n(12\r\n"],
    "simple_string_request": [b"+PING\r\n"],
    "integer_request": [b":1\r\n"],
    "bulk_request": [b"$4\r\nPING\r\n"],
    "inline_64k": [b"ECHO " + b"a" * 65000 + b"\r\n"],
    "inline_too_big_without_newline": [b"ECHO " + b"a" * 70000, b"b" * 30000],
    "many_inline_lines_one_read": [b"PING\r\n" * 3000],
    "pipelined_echo_binary_after_inline": [b"PING\r\n", req("ECHO", b"\r\n*1\r\n")],
}


@pytest.mark.parametrize("name", sorted(READER_CASES))
def test_reader_matches_redis(name: str, pair: Pair) -> None:
    pieces = READER_CASES[name]
    ref = exchange(pair.redis.port, pieces)
    got = exchange(pair.respd.port, pieces)
    assert got == ref


def _mixed_stream(rng: random.Random) -> list[bytes]:
    """Inline lines (various blanks) and multibulk requests, cut at random places."""
    parts = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.5:
            words = rng.choice([[b"PING"], [b"ECHO", b"hi"], [b"ECHO", b"a", b"b"],
                                [b"ping", b"x"], [], [b"NOSUCH"], [b"ECHO", b"x"]])
            line = b""
            for word in words:
                line += (rng.choice([b"", b" ", b"\t"]) if not line
                         else rng.choice([b" ", b"  ", b"\t", b" \t ", b"\r"]))
                line += word
            line += rng.choice([b"", b" ", b"\t", b"\r"])
            parts.append(line + rng.choice([b"\r\n", b"\n"]))
        else:
            parts.append(req(*rng.choice([[b"PING"], [b"ECHO", b"m"], [b"ECHO", b""],
                                          [b"ECHO", b"x" * rng.randint(0, 300)]])))
    data = b"".join(parts)
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 3))))
    pieces, last = [], 0
    for cut in cuts:
        pieces.append(data[last:cut])
        last = cut
    pieces.append(data[last:])
    return pieces


@pytest.mark.parametrize("seed", range(12))
def test_reader_mixed_inline_and_multibulk_reads_match_redis(seed: int, pair: Pair) -> None:
    rng = random.Random(seed)
    for _ in range(5):
        pieces = _mixed_stream(rng) + [pipe(["PING", END])]
        ref = exchange(pair.redis.port, pieces, END + b"\r\n")
        got = exchange(pair.respd.port, pieces, END + b"\r\n")
        assert got == ref, pieces


# --- in process: the inline path and execute/call agree --------------------------------------


class CaptureTransport:
    """Enough of a transport for a Connection; keeps what was written."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> Any:
        return None

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


class FullPathServer(Server):
    """A server on which some check is always needed (as while CLIENT PAUSE, ACL users or
    maxmemory are in force): every request goes through execute."""

    checks_needed = True  # type: ignore[assignment]


def connect(server: Server) -> tuple[Connection, CaptureTransport]:
    conn = Connection(server)
    transport = CaptureTransport()
    conn.connection_made(transport)
    return conn, transport


PLAIN_WORDS = {
    "keys": [b"s", b"l", b"h", b"st", b"z", b"x", b"n", b"nokey"],
    "values": [b"0", b"1", b"-1", b"2", b"10", b"1.5", b"-inf", b"+inf", b"nan",
               b"9223372036854775807", b"-9223372036854775808", b"", b"a", b"f", b"m",
               b"(1", b"[a", b"-", b"+", b"*", b"0-1", b"1-1", b"EX", b"PX", b"NX", b"XX",
               b"GT", b"LT", b"CH", b"INCR", b"KEEPTTL", b"GET", b"WITHSCORES", b"LIMIT",
               b"COUNT", b"MAXLEN", b"LEFT", b"RIGHT", b"BYSCORE", b"REV", b"01", b" 1"],
}
PLAIN_NAMES = [b"SET", b"GET", b"INCR", b"INCRBY", b"DECR", b"APPEND", b"GETEX", b"GETDEL",
               b"SETNX", b"MSET", b"MGET", b"STRLEN", b"LPUSH", b"RPUSH", b"LPUSHX",
               b"RPUSHX", b"LPOP", b"RPOP", b"LRANGE", b"LLEN", b"LMOVE", b"HSET", b"HMSET",
               b"HSETNX", b"HGET", b"HGETALL", b"HINCRBY", b"HDEL", b"SADD", b"SREM",
               b"SPOP", b"SCARD", b"SISMEMBER", b"ZADD", b"ZINCRBY", b"ZPOPMIN", b"ZPOPMAX",
               b"ZRANGE", b"ZSCORE", b"ZCARD", b"XADD", b"XLEN", b"XRANGE", b"XTRIM", b"DEL",
               b"EXISTS", b"EXPIRE", b"PEXPIRE", b"TTL", b"TYPE", b"PERSIST", b"RENAME",
               b"SELECT", b"PING", b"ECHO", b"PUBLISH", b"get", b"set", b"lpush", b"NOSUCH"]


def _random_pipeline(rng: random.Random, n: int) -> list[list[bytes]]:
    cmds = []
    for _ in range(n):
        argv = [rng.choice(PLAIN_NAMES)]
        for _ in range(rng.randint(0, 5)):
            pool = PLAIN_WORDS["keys"] if rng.random() < 0.4 else PLAIN_WORDS["values"]
            argv.append(rng.choice(pool))
        cmds.append(argv)
    return cmds


def _dump(server: Server) -> list[Any]:
    """Every key of every database through the server's own commands."""
    conn, transport = connect(server)
    state: list[Any] = []
    for index in range(len(server.dbs)):
        if not server.dbs[index].data:
            continue
        conn.data_received(encode_request([b"SELECT", b"%d" % index]))
        assert transport.take() == b"+OK\r\n"
        for key in sorted(server.dbs[index].data):
            conn.data_received(encode_request([b"TYPE", key]))
            kind = transport.take()
            reader = {b"+string\r\n": [b"GET", key], b"+list\r\n": [b"LRANGE", key, b"0", b"-1"],
                      b"+hash\r\n": [b"HGETALL", key], b"+set\r\n": [b"SMEMBERS", key],
                      b"+zset\r\n": [b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"],
                      b"+stream\r\n": [b"XRANGE", key, b"-", b"+"]}[kind]
            conn.data_received(encode_request(reader) + encode_request([b"PTTL", key]))
            state.append((index, key, kind, transport.take()))
    return state


def _run_in_process(batches: list[bytes], general: bool, seed: int) -> dict[str, Any]:
    server = FullPathServer() if general else Server()
    server.clock.frozen = 1_700_000_000_000  # XADD * and TTLs alike on both runs
    conn, transport = connect(server)
    if general:  # a monitor sees every request either way
        monitor, _ = connect(server)
        monitor.data_received(encode_request([b"MONITOR"]))
    setup = [[b"SET", b"st", b"hello"], [b"SET", b"n", b"42"], [b"RPUSH", b"l", b"a", b"b"],
             [b"HSET", b"h", b"f", b"1"], [b"SADD", b"s", b"a", b"b", b"c"],
             [b"ZADD", b"z", b"1", b"a", b"2", b"b"], [b"XADD", b"x", b"1-1", b"f", b"v"]]
    conn.data_received(b"".join(encode_request(c) for c in setup))
    transport.take()
    server.reset_stats()
    random.seed(seed)  # SPOP's draws
    replies = []
    for batch in batches:
        conn.data_received(batch)
        replies.append(transport.take())
    stats = {name: (s[0], s[2], s[3]) for name, s in server.all_command_stats().items()}
    result = {
        "replies": replies, "stats": stats, "errors": dict(server.error_stats),
        "total_errors": server.stats["total_error_replies"], "dirty": server.dirty,
        "last_cmd": conn.client.last_cmd_name, "db": conn.client.db.index,
        "slowlog": [(e[3], e[5]) for e in server.slowlog],
    }
    result["data"] = _dump(server)
    return result


@pytest.mark.parametrize("seed", range(40))
def test_inline_path_agrees_with_execute_and_call(seed: int, monkeypatch: Any) -> None:
    rng = random.Random(seed)
    cmds = _random_pipeline(rng, 24)
    # One read of everything, then the same again one request per read.
    batches = [b"".join(encode_request(c) for c in cmds)]
    batches += [encode_request(c) for c in cmds]
    calls = {"execute": 0}
    real_execute = dispatch.execute

    def counting_execute(client: Any, argv: list[bytes]) -> Any:
        calls["execute"] += 1
        return real_execute(client, argv)

    monkeypatch.setattr(dispatch, "execute", counting_execute)
    plain = _run_in_process(batches, general=False, seed=seed)
    plain_executes = calls["execute"]
    calls["execute"] = 0
    general = _run_in_process(batches, general=True, seed=seed)
    assert calls["execute"] >= 2 * len(cmds)  # the MONITOR and every request
    assert plain_executes < calls["execute"]  # the inline path did run
    for field in ("replies", "stats", "errors", "total_errors", "dirty", "last_cmd", "db",
                  "data"):
        assert plain[field] == general[field], field


def test_inline_path_and_general_path_log_the_same_slow_commands() -> None:
    cmds = [[b"SET", b"a", b"1"], [b"GET", b"a"], [b"INCR", b"a"], [b"LPUSH", b"l", b"x"],
            [b"GET"], [b"NOSUCH"], [b"INCR", b"l"]]
    batch = b"".join(encode_request(c) for c in cmds)
    logged = []
    for general in (False, True):
        server = FullPathServer() if general else Server()
        server.config.slowlog_log_slower_than = 0
        server.slowlog_threshold_ns = 0
        conn, transport = connect(server)
        if general:
            monitor, _ = connect(server)
            monitor.data_received(encode_request([b"MONITOR"]))
        server.slowlog.clear()
        conn.data_received(batch)
        logged.append([e[3] for e in reversed(server.slowlog)])
    assert logged[0] == logged[1] == [c for c in cmds if c not in ([b"GET"], [b"NOSUCH"])]


@pytest.mark.parametrize("general", [False, True], ids=["inline", "execute"])
def test_handler_exception_costs_one_reply(general: bool, monkeypatch: Any) -> None:
    cmd = COMMANDS[b"strlen"]

    def boom(client: Any, argv: list[bytes]) -> Any:
        raise RuntimeError("handler bug")

    server = FullPathServer() if general else Server()
    conn, transport = connect(server)
    if general:
        monitor, _ = connect(server)
        monitor.data_received(encode_request([b"MONITOR"]))
    # Resolve the spelling once so the inline table has it, then break the handler.
    conn.data_received(encode_request([b"STRLEN", b"k"]))
    transport.take()
    monkeypatch.setattr(cmd, "handler", boom)
    server.reset_stats()
    conn.data_received(b"".join(encode_request(c) for c in (
        [b"SET", b"k", b"v"], [b"STRLEN", b"k"], [b"GET", b"k"], [b"STRLEN", b"k"],
        [b"PING"])))
    out = transport.take()
    assert out == (b"+OK\r\n" + b"-ERR internal error while running the command (see server "
                   b"log)\r\n$1\r\nv\r\n" + b"-ERR internal error while running the command "
                   b"(see server log)\r\n+PONG\r\n")
    calls, _, rejected, failed = server.cmd_stats[cmd.stat_index]
    assert (calls, rejected, failed) == (2, 0, 2)
    assert server.error_stats == {b"ERR": 2}
    assert server.stats["total_error_replies"] == 2
    assert conn.client.last_cmd_name == b"ping"
    assert not transport.closed


def test_plain_state_is_left_by_each_state_change_in_process() -> None:
    """Every state run_batch must leave the inline path for, reached mid-batch."""
    server = Server()
    conn, transport = connect(server)
    client = conn.client
    assert dispatch._plain_state(client)
    conn.data_received(pipe("SET a 1", "MULTI"))
    assert not dispatch._plain_state(client)
    conn.data_received(pipe("DISCARD", "SUBSCRIBE c"))
    assert not dispatch._plain_state(client)
    conn.data_received(pipe("UNSUBSCRIBE", "HELLO 3", "SUBSCRIBE c"))
    assert dispatch._plain_state(client)  # RESP3 subscriptions allow every command
    conn.data_received(pipe("RESET", "CLIENT REPLY OFF"))
    assert not dispatch._plain_state(client)
    conn.data_received(pipe("CLIENT REPLY ON", "GET a"))
    assert dispatch._plain_state(client)
    other, _ = connect(server)
    other.data_received(pipe("MONITOR"))
    assert not dispatch._plain_state(other.client)  # a monitor may not touch keys
    assert dispatch._plain_state(client)  # call() feeds monitors on either path
    other.connection_lost(None)
    pauser, _ = connect(server)
    pauser.data_received(pipe("CLIENT PAUSE 100000 WRITE"))
    assert server.checks_needed and not dispatch._plain_state(client)
    pauser.data_received(pipe("CLIENT UNPAUSE"))
    assert dispatch._plain_state(client)
    transport.take()
