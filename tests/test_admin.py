"""Server/admin and connection-management commands through real clients (redis-py sync and
asyncio, RESP2 and RESP3): COMMAND, INFO, CONFIG, CLIENT, SLOWLOG, MONITOR, DEBUG,
SHUTDOWN.  Byte-exact replies against redis-server live in compat/cases/admin_*.txt."""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time
from typing import Any

import pytest
import redis
import redis.asyncio

from conftest import (END, Pair, ServerProcess, client_with_id, command, exchange, free_port,
                      pipe, req, wait_until)

WAIT = 5.0  # seconds: the bound on every wait below


# --- COMMAND -------------------------------------------------------------------------------

def test_command_count_info_docs(r: Any, r3: Any) -> None:
    table = r.command()  # redis-py parses COMMAND's entries into a dict
    assert r.command_count() == len(table)
    assert table["get"]["arity"] == 2 and table["get"]["first_key_pos"] == 1
    client_list = next(s for s in table["client"]["subcommands"] if s[0] == b"client|list")
    assert client_list[2] == [b"admin", b"noscript", b"loading", b"stale"]
    assert r.execute_command("COMMAND INFO", "nosuch", "get")[0] is None
    for client in (r, r3):  # redis-py leaves COMMAND DOCS unparsed: RESP2 list, RESP3 dict
        raw = client.execute_command("COMMAND DOCS", "set")
        flat = raw if isinstance(raw, dict) else dict(zip(raw[::2], raw[1::2]))
        assert list(flat) == [b"set"]


def test_command_getkeys_and_list(r: Any) -> None:
    assert r.command_getkeys("mset", "a", "1", "b", "2") == ["a", "b"]
    with pytest.raises(redis.ResponseError, match="Invalid command specified"):
        r.command_getkeys("nosuch", "a")
    with pytest.raises(redis.ResponseError, match="no key arguments"):
        r.command_getkeys("ping", "x")
    names = set(map(_text, r.command_list(pattern="config*")))
    assert names >= {"config", "config|get", "config|set"}
    assert "client|kill" in map(_text, r.command_list(category="connection"))
    assert r.command_list(module="anything") == []


# --- INFO ----------------------------------------------------------------------------------

def test_info_sections(r: Any, r3: Any) -> None:
    default = r.info()
    assert default["redis_version"] == "7.0.15"
    assert default["role"] == "master" and default["cluster_enabled"] == 0
    assert default["connected_clients"] >= 1
    everything = r.info("everything")
    assert any(k.startswith("cmdstat_") for k in everything)
    assert not any(k.startswith("cmdstat_") for k in default)
    assert set(r.info("server")) >= {"respd_version", "process_id", "tcp_port", "run_id"}
    memory = r3.info("memory")  # RESP3: a verbatim string
    assert memory["used_memory"] > 0 and memory["used_memory_human"]
    assert r.info("nosuchsection") == {}


def test_info_keyspace_errorstats_commandstats(r: Any) -> None:
    r.config_resetstat()
    r.set("a", "1")
    r.set("b", "2", ex=100)
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    keyspace = r.info("keyspace")["db0"]
    assert keyspace["keys"] == 2 and keyspace["expires"] == 1
    assert 0 < keyspace["avg_ttl"] <= 100_000
    assert r.info("errorstats")["errorstat_ERR"] == {"count": 1}
    stats = r.info("commandstats")["cmdstat_set"]
    assert stats["calls"] == 2 and stats["failed_calls"] == 0
    assert r.info("stats")["total_commands_processed"] >= 3


# --- CONFIG --------------------------------------------------------------------------------

def test_config_get_set_atomic(r: Any) -> None:
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert set(r.config_get("maxmemory*")) >= {"maxmemory", "maxmemory-policy"}
    assert r.execute_command("CONFIG GET", "hz", "maxmemory") == {"hz": "10", "maxmemory": "0"}
    try:
        r.config_set("maxmemory", "1mb")
        assert r.config_get("maxmemory") == {"maxmemory": "1048576"}
        # All or nothing: the bad policy leaves maxmemory as it was.
        with pytest.raises(redis.ResponseError, match="maxmemory-policy"):
            r.execute_command("CONFIG SET", "maxmemory", "5mb", "maxmemory-policy", "nope")
        assert r.config_get("maxmemory") == {"maxmemory": "1048576"}
        with pytest.raises(redis.ResponseError, match="immutable"):
            r.config_set("daemonize", "yes")
        with pytest.raises(redis.ResponseError, match="Unknown option"):
            r.config_set("nosuch", "1")
    finally:
        r.config_set("maxmemory", "0")


def test_config_rewrite(tmp_path: Any) -> None:
    conf = tmp_path / "respd.conf"
    conf.write_text("# my settings\nmaxmemory 100mb\nhz 10\nsave \"\"\n")
    port = free_port()
    server = ServerProcess([sys.executable, "-m", "respd", str(conf), "--port", str(port)],
                           port, str(tmp_path)).start()
    client = server.client()
    try:
        client.config_set("maxmemory", "2mb")
        client.config_set("maxmemory-policy", "allkeys-lru")
        assert client.config_rewrite()
        text = conf.read_text()
        assert "# my settings" in text and "maxmemory 2097152" in text
        assert "maxmemory-policy allkeys-lru" in text
        assert "maxmemory 104857600" not in text
    finally:
        client.close()
        server.stop()


def test_config_rewrite_without_file(r: Any) -> None:
    with pytest.raises(redis.ResponseError, match="without a config file"):
        r.config_rewrite()


# --- CLIENT --------------------------------------------------------------------------------

def test_client_list_info_setname(r: Any, respd: ServerProcess) -> None:
    other = respd.client()
    try:
        other.client_setname("worker-1")
        me = str(r.client_id())
        listed = {str(c["id"]): c for c in r.client_list()}
        assert listed[me]["cmd"] == "client|list"
        named = [c for c in listed.values() if c["name"] == "worker-1"]
        assert len(named) == 1 and named[0]["cmd"] == "client|setname"
        info = r.client_info()
        assert str(info["id"]) == me and str(info["resp"]) == "2" and info["flags"] == "N"
        assert {str(c["id"]) for c in r.client_list(client_id=[me])} == {me}
        assert r.client_list(_type="pubsub") == []
    finally:
        other.close()


def test_client_kill_filters(r: Any, respd: ServerProcess) -> None:
    victim = respd.client()
    victim.client_setname("victim")
    victim_id = victim.client_id()
    addr = next(c["addr"] for c in r.client_list() if c["name"] == "victim")
    assert r.client_kill_filter(_id=victim_id) == 1
    assert r.client_kill_filter(_id=victim_id) == 0
    with pytest.raises(redis.ResponseError, match="No such client"):
        r.client_kill(addr)
    victim.close()


def test_client_reply_off_and_skip(respd: ServerProcess) -> None:
    from compat.harness import RawConnection

    conn = RawConnection(respd.port)
    try:
        for argv in ([b"CLIENT", b"REPLY", b"OFF"], [b"SET", b"rk", b"1"],
                     [b"CLIENT", b"REPLY", b"ON"], [b"CLIENT", b"REPLY", b"SKIP"],
                     [b"INCR", b"rk"], [b"GET", b"rk"]):
            conn.send(argv)
        assert conn.read() == b"+OK\r\n"  # CLIENT REPLY ON
        assert conn.read() == b"$1\r\n2\r\n"  # INCR's reply was skipped
    finally:
        conn.close()


def test_client_unblock(r: Any, respd: ServerProcess) -> None:
    blocked = respd.client()
    ident = blocked.client_id()
    result: dict[str, Any] = {}

    def wait() -> None:
        try:
            result["reply"] = blocked.blpop(["nothing"], timeout=0)
        except redis.ResponseError as err:
            result["error"] = str(err)

    for mode, expected in (("TIMEOUT", {"reply": None}),
                           ("ERROR", {"error": "UNBLOCKED client unblocked via CLIENT UNBLOCK"})):
        result.clear()
        thread = threading.Thread(target=wait)
        thread.start()
        wait_until(lambda: r.info("clients")["blocked_clients"] == 1, "a blocked client")
        assert r.client_unblock(ident, error=mode == "ERROR")
        thread.join(WAIT)
        assert result == expected
    assert not r.client_unblock(ident)
    blocked.close()


def test_client_pause_write_holds_writes(r: Any, respd: ServerProcess) -> None:
    writer = respd.client()
    try:
        r.client_pause(5000, all=False)
        assert writer.get("k") is None  # reads still run
        done = threading.Event()
        threading.Thread(target=lambda: (writer.set("k", "v"), done.set())).start()
        wait_until(lambda: r.info("clients")["blocked_clients"] == 1, "a blocked client")
        assert not done.is_set() and r.get("k") is None
        r.client_unpause()
        assert done.wait(WAIT) and r.get("k") == b"v"
    finally:
        r.client_unpause()
        writer.close()


@pytest.mark.parametrize("after", [
    ["LPUSH q x", "LLEN q"],  # the killed BLPOP is not served: x stays (LLEN 1)
    ["CLIENT LIST"],  # the killed client is no longer listed
], ids=["blocked-victim-not-served", "victim-not-listed"])
def test_killed_client_is_gone_for_the_rest_of_the_pipeline(after: list[str],
                                                            pair: Pair) -> None:
    results = []
    for server in (pair.redis, pair.respd):
        command(server.port, "FLUSHALL")
        victim, cid = client_with_id(server.port, req("BLPOP", "q", "0"))
        wait_until(lambda: b"blocked_clients:1" in command(server.port, "INFO", "clients"),
                   "the BLPOP to block")
        out = exchange(server.port, pipe(["CLIENT", "KILL", "ID", cid], *after, ["PING", END]),
                       END + b"\r\n")
        victim.close()
        results.append(out.count(b"id=") if after == ["CLIENT LIST"] else out)
    assert results[1] == results[0]


def test_client_pause_expires(r: Any, respd: ServerProcess) -> None:
    other = respd.client()
    try:
        r.client_pause(100)  # ALL: everything waits, then runs by itself
        assert other.ping()
    finally:
        other.close()


def test_client_misc(r: Any, r3: Any) -> None:
    assert r.client_getredir() == -1
    assert r.client_no_evict("on") and r.client_info()["flags"] == "e"
    assert r.client_no_evict("off")
    tracking = r3.execute_command("CLIENT TRACKINGINFO")
    assert list(tracking[b"flags"]) == [b"off"] and tracking[b"redirect"] == -1
    help_lines = r.execute_command("CLIENT HELP")
    assert help_lines[0].startswith(b"CLIENT <subcommand>")
    with pytest.raises(redis.ResponseError, match="(?i)unknown subcommand 'setinfo'"):
        r.execute_command("CLIENT SETINFO", "lib-name", "x")


# --- TIME, SLOWLOG, MONITOR, DEBUG, LATENCY --------------------------------------------------

def test_time(r: Any) -> None:
    seconds, micros = r.time()
    assert seconds > 1_600_000_000 and 0 <= micros < 1_000_000


def test_slowlog(r: Any) -> None:
    try:
        r.config_set("slowlog-log-slower-than", 0)
        r.slowlog_reset()
        r.set("slow", "x")
        entries = r.slowlog_get()
        assert any(e["command"] == b"SET slow x" for e in entries)
        assert r.slowlog_len() >= 1
        assert len(r.slowlog_get(1)) == 1
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
        r.slowlog_reset()


def test_slowlog_skips_exec(each: ServerProcess) -> None:
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
    assert b"EXEC" not in logged  # the commands it ran are logged, not EXEC itself
    assert b"INCR a" in logged


def test_monitor_client_cannot_touch_the_keyspace(pair: Pair) -> None:
    ref, got = (exchange(s.port, pipe("MONITOR", "SET b 2", "GET b", "HSET h f v"))
                for s in (pair.redis, pair.respd))
    assert got == ref == b"+OK\r\n" + b"-ERR Replica can't interact with the keyspace\r\n" * 3


def test_monitor(r: Any, respd: ServerProcess) -> None:
    watcher = respd.client()
    with watcher.monitor() as monitor:
        r.set("watched", "1")
        seen = []
        for _ in range(10):
            event = monitor.next_command()
            seen.append(event["command"])
            if event["command"] == "SET watched 1":
                break
        assert "SET watched 1" in seen
    watcher.close()


def test_debug_and_latency(r: Any) -> None:
    assert r.execute_command("DEBUG SLEEP", "0")
    assert r.execute_command("DEBUG LOG", "hello from the tests")
    r.set("k", "v")
    assert r.execute_command("DEBUG OBJECT", "k")["encoding"] == "embstr"
    with pytest.raises(redis.ResponseError, match="unknown subcommand or wrong number"):
        r.execute_command("DEBUG", "nosuch")
    assert r.execute_command("LATENCY LATEST") == []
    assert r.execute_command("LATENCY RESET") == 0
    assert b"latency" in r.execute_command("LATENCY DOCTOR").lower()


def test_debug_set_active_expire(spawn: Any) -> None:
    server = spawn("respd")
    client = server.client()
    client.execute_command("DEBUG SET-ACTIVE-EXPIRE", "0")
    client.set("short", "1", px=1)
    time.sleep(0.3)  # three cron passes at hz 10: none may expire it
    assert client.dbsize() == 1
    client.execute_command("DEBUG SET-ACTIVE-EXPIRE", "1")
    wait_until(lambda: client.dbsize() == 0, "active expiry", WAIT)
    client.close()


# --- SHUTDOWN ------------------------------------------------------------------------------

def test_shutdown(spawn: Any) -> None:
    server = spawn("respd")
    client = server.client()
    with pytest.raises(redis.ResponseError, match="No shutdown in progress"):
        client.shutdown(abort=True)
    with pytest.raises(redis.ConnectionError):
        client.execute_command("SHUTDOWN", "NOSAVE")
    assert server.proc is not None
    assert server.proc.wait(WAIT) == 0


# --- asyncio client ------------------------------------------------------------------------

def test_asyncio_client_admin(respd: ServerProcess) -> None:
    async def main() -> None:
        client = redis.asyncio.Redis(port=respd.port, protocol=3)
        try:
            assert (await client.info("server"))["redis_version"] == "7.0.15"
            assert await client.client_setname("aio")
            assert (await client.client_info())["name"] == "aio"
            assert await client.config_get("hz") == {"hz": "10"}
        finally:
            await client.aclose()

    asyncio.run(asyncio.wait_for(main(), WAIT))


# --- helpers -------------------------------------------------------------------------------

def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_debug_matches_reference(spawn: Any, respd: ServerProcess, r: Any) -> None:
    """DEBUG is off by default in redis-server: compare against one started with it on."""
    from compat.harness import compare, parse_case

    reference = spawn("redis", "--enable-debug-command", "yes")
    script = "\n".join(
        [f"DEBUG PROTOCOL {kind}" for kind in (
            "string integer double bignum null array set map attrib push verbatim true "
            "false nosuch").split()]
        + ["DEBUG POPULATE 3", "DEBUG POPULATE 2 p 10", "GET p:1", "GET key:2",
           "DEBUG POPULATE x", "DEBUG POPULATE 1 p x", "DBSIZE", "DEBUG SLEEP 0",
           "DEBUG SET-ACTIVE-EXPIRE 1", "DEBUG nosuch", "DEBUG SLEEP", "HELLO 3"]
        + [f"DEBUG PROTOCOL {kind}" for kind in "double bignum map attrib push".split()]
    ).replace("HELLO 3", "~any HELLO 3")
    compared, diffs = compare(reference.port, respd.port, parse_case(script))
    assert compared and not diffs, "\n".join(diffs)


_BUFFER_FIELDS = re.compile(rb"qbuf=\d+ qbuf-free=\d+ argv-mem=\d+|tot-mem=\d+")


@pytest.mark.parametrize("sent", [
    b"CLIENT INFO\r\n",
    b"*2\r\n$6\r\nclient\r\n$4\r\ninfo\r\n",
    b"PING\r\nCLIENT INFO\r\n",  # the whole read is still in the query buffer
    b"*4\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n$4\r\nTYPE\r\n$6\r\nnormal\r\n",
    b"CLIENT LIST TYPE normal\r\n",
])
def test_caller_query_buffer_and_memory_fields_as_redis(redis_ref: Any, respd: Any,
                                                         sent: bytes) -> None:
    """The calling client's qbuf (the read its command came in), qbuf-free, argv-mem and
    tot-mem, on a fresh connection (before Redis's cron resizes its buffers)."""
    seen = []
    for server in (redis_ref, respd):
        reply = exchange(server.port, sent)
        # the caller: the one client whose query buffer holds a command now
        mine = [line for line in reply.split(b"\n")
                if b"cmd=client|" in line and b" qbuf=0 " not in line]
        seen.append([_BUFFER_FIELDS.findall(line) for line in mine])
    assert seen[0] and seen[0] == seen[1]


# Parameters whose value respd reports differently from a default redis-server, and why.
_DIFFERENT_DEFAULTS = {
    "set-proc-title": "respd sets no process title",
    "crash-memcheck-enabled": "respd has no memory test",
    "shutdown-timeout": "respd does not wait for replicas at shutdown",
}
# Parameters redis-server 7.0 lacks: respd's own (the HTTP listener and its metrics, stream
# retention) and Redis 8.6's idempotent-producer limits.
_RESPD_ONLY = {"http-port", "http-bind", "metrics-key-patterns", "metrics-max-series",
               "respd-stream-retention-maxage", "respd-stream-retention-maxbytes",
               "respd-stream-retention-maxlen", "respd-stream-retention-policy",
               "stream-idmp-duration", "stream-idmp-maxsize"}
_SERVER_SPECIFIC = {"port", "dir", "enable-debug-command"}  # as the test servers start


def test_config_get_all_names_and_defaults_as_redis(spawn: Any) -> None:
    """Every parameter redis-server 7.0 lists in CONFIG GET * is there with Redis's
    default, except cluster mode's (another module's) and the few listed with a reason."""
    ref, ours = (dict(spawn(kind).client(decode_responses=True).config_get("*"))
                 for kind in ("redis", "respd"))
    missing = {n for n in set(ref) - set(ours) if not n.startswith("cluster-")}
    assert not missing
    assert set(ours) - set(ref) == _RESPD_ONLY
    differing = {n for n in set(ref) & set(ours) if ref[n] != ours[n]}
    assert differing == set(_DIFFERENT_DEFAULTS) | _SERVER_SPECIFIC
