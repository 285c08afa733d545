"""Lua scripting through real clients: redis-py (RESP2/RESP3, sync/asyncio, Script
objects with their EVALSHA → NOSCRIPT → SCRIPT LOAD fallback), redis-cli --eval, the
sandbox, atomicity, frozen time, busy scripts and SCRIPT KILL, and AOF propagation of a
script's effects.  Exact reply bytes and error texts are in compat/cases/scripting_*.txt."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import hiredis
import pytest
import redis
import redis.asyncio


def test_keys_args_and_replies(r: Any) -> None:
    script = "return {KEYS[1], ARGV[1], #KEYS, #ARGV, 3.99, true, false, {ok='fine'}}"
    assert r.eval(script, 1, "k", "a", "b") == [b"k", b"a", 1, 2, 3, 1, None, b"fine"]
    assert r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v") == b"OK"
    assert r.get("k") == b"v"


def test_script_object_reloads_after_flush(r: Any) -> None:
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["n"], args=[5]) == 5
    assert r.script_exists(incr_by.sha) == [True]
    r.script_flush()
    assert r.script_exists(incr_by.sha) == [False]
    assert incr_by(keys=["n"], args=[2]) == 7  # NOSCRIPT, then SCRIPT LOAD and retry
    assert r.script_load("return 1") == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("0" * 40, 0)


def test_errors_reach_redis_py(r: Any) -> None:
    r.set("s", "text")
    with pytest.raises(redis.ResponseError, match="value is not an integer"):
        r.eval("return redis.call('incr', KEYS[1])", 1, "s")
    with pytest.raises(redis.ResponseError, match="Unknown Redis command called from script"):
        r.eval("return redis.call('nosuch')", 0)
    with pytest.raises(redis.ResponseError, match="Error compiling script"):
        r.eval("return (", 0)
    with pytest.raises(redis.ResponseError, match="My Error"):
        r.eval("return redis.error_reply('My Error')", 0)
    caught = "local r = redis.pcall('incr', KEYS[1]) return {type(r), r.err}"
    assert r.eval(caught, 1, "s") == [b"table", b"ERR value is not an integer or out of range"]


def test_resp3_conversions(r3: Any) -> None:
    r3.hset("h", mapping={"f": "v"})
    assert r3.eval("redis.setresp(3); return redis.call('hgetall', KEYS[1])", 1, "h") == \
        {b"f": b"v"}
    assert r3.eval("return redis.call('hgetall', KEYS[1])", 1, "h") == [b"f", b"v"]
    assert r3.eval("redis.setresp(3); return {double=1.5}", 0) == 1.5
    assert list(r3.eval("redis.setresp(3); return {set={a=true}}", 0)) == [b"a"]
    assert r3.eval("redis.setresp(3); return true", 0) is True
    assert r3.eval("redis.setresp(3); return redis.call('get', 'nokey') == nil", 0) is True
    assert r3.eval("return nil", 0) is None


def test_eval_ro_refuses_writes(r: Any) -> None:
    r.set("k", "v")
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "k") == b"v"
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        r.eval_ro("return redis.call('del', KEYS[1])", 1, "k")
    assert r.get("k") == b"v"


def test_sandbox(r: Any) -> None:
    for script, message in (
        ("x = 1", "Attempt to modify a readonly table"),
        ("return os.time()", "nonexistent global variable 'os'"),
        ("return io", "nonexistent global variable 'io'"),
        ("return python", "nonexistent global variable 'python'"),
        ("return loadstring('return debug')()", "nonexistent global variable 'debug'"),
        ("return redis.call('multi')", "This Redis command is not allowed from script"),
    ):
        with pytest.raises(redis.ResponseError, match=message):
            r.eval(script, 0)
    # Python objects stay out of reach even through the library functions.
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.call.__class__", 0)


def test_libraries(r: Any) -> None:
    doc = '{"user":"ann","tags":["a","b"],"n":21}'
    script = ("local t = cjson.decode(ARGV[1]) "
              "return {t.user, t.tags[2], t.n * 2, cjson.encode({t.n})}")
    assert r.eval(script, 0, doc) == [b"ann", b"b", 42, b"[21]"]
    packed = r.eval("return cmsgpack.pack({1, 'x', {k='v'}})", 0)
    assert packed == b"\x93\x01\xa1x\x81\xa1k\xa1v"
    assert r.eval("return cmsgpack.unpack(ARGV[1])[2]", 0, packed) == b"x"
    assert r.eval("return bit.bxor(5, 3)", 0) == 6
    assert r.eval("return struct.unpack('>I2', struct.pack('>I2', 513))", 0) == 513


def test_scripts_are_atomic(respd: Any) -> None:
    """A read-modify-write done in Lua never interleaves with another client's."""
    script = "local v = tonumber(redis.call('get', KEYS[1]) or '0') " \
             "redis.call('set', KEYS[1], v + 1) return v + 1"

    def worker() -> None:
        client = respd.client()
        for _ in range(200):
            client.eval(script, 1, "atomic")
        client.close()

    respd.client().delete("atomic")
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert respd.client().get("atomic") == b"800"


def test_time_is_frozen_for_expiry_inside_a_script(r: Any) -> None:
    script = """
    redis.call('set', KEYS[1], 'v', 'px', 20)
    local function now() local t = redis.call('time') return t[1] * 1000 + t[2] / 1000 end
    local start = now()
    while now() < start + 60 do end
    return redis.call('exists', KEYS[1])"""
    assert r.eval(script, 1, "frozen") == 1
    for _ in range(300):  # bounded: the key does expire once the script is over
        if r.exists("frozen") == 0:
            break
        time.sleep(0.01)
    assert r.exists("frozen") == 0


def test_asyncio_register_script(respd: Any) -> None:
    async def scenario() -> Any:
        client = redis.asyncio.Redis(host="127.0.0.1", port=respd.port)
        script = client.register_script("return redis.call('incr', KEYS[1])")
        first = await script(keys=["acount"])
        await client.script_flush()
        second = await script(keys=["acount"])
        await client.delete("acount")
        await client.aclose()
        return first, second

    assert asyncio.run(scenario()) == (1, 2)


def test_redis_cli_eval(respd: Any, tool: Any, tmp_path: Path) -> None:
    path = tmp_path / "script.lua"
    path.write_text("redis.call('set', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1], 7}")
    out = subprocess.run([tool("redis-cli"), "-p", str(respd.port), "--eval", str(path),
                          "clikey", ",", "cliarg"], capture_output=True, text=True, timeout=30)
    assert out.stdout.splitlines() == ["clikey", "cliarg", "7"]
    out = subprocess.run([tool("redis-cli"), "-p", str(respd.port), "EVAL", "x = 1", "0"],
                         capture_output=True, text=True, timeout=30)
    assert "Attempt to modify a readonly table" in out.stdout


def test_busy_script_and_script_kill(spawn: Any) -> None:
    server = spawn("respd", "--lua-time-limit", "50")
    runner, other = server.client(), server.client()
    outcome: list[Any] = []

    def run() -> None:
        try:
            runner.eval("local i = 0 while i < 2000000000 do i = i + 1 end return i", 0)
        except redis.ResponseError as err:
            outcome.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    busy = None
    for _ in range(500):  # bounded: ~5 s to see the script become busy
        try:
            other.ping()
        except redis.exceptions.BusyLoadingError as err:
            busy = err
            break
        except redis.ResponseError as err:
            busy = err
            break
        time.sleep(0.01)
    assert busy is not None and "busy running a script" in str(busy)
    assert other.script_kill() is True
    thread.join(10)
    assert outcome and "Script killed by user with SCRIPT KILL" in str(outcome[0])
    assert other.ping() is True


def test_script_effects_reach_the_aof(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   workdir=str(tmp_path))
    client = server.client()
    client.eval("redis.call('set', KEYS[1], 'a') redis.call('set', KEYS[2], 'b')", 2, "x", "y")
    client.eval("return redis.call('get', KEYS[1])", 1, "x")  # no writes: nothing logged
    client.eval("redis.call('set', KEYS[1], 'c')", 1, "z")
    reader = hiredis.Reader()
    reader.feed((tmp_path / "appendonlydir" / "appendonly.aof.1.incr.aof").read_bytes())
    logged = []
    while (argv := reader.gets()) is not False:
        if argv[0].upper() != b"SELECT":
            logged.append(argv)
    assert logged == [[b"MULTI"], [b"set", b"x", b"a"], [b"set", b"y", b"b"], [b"EXEC"],
                      [b"set", b"z", b"c"]]
    server.stop("kill")
    server.start()
    assert server.client().mget("x", "y", "z") == [b"a", b"b", b"c"]


def test_function_flush(r: Any) -> None:
    assert r.function_flush() is True
    assert r.function_flush("SYNC") is True
    with pytest.raises(redis.ResponseError):
        r.execute_command("FUNCTION", "FLUSH", "BAD")


LIBRARY = """#!lua name=counters
local function bump(keys, args)
  return redis.call('incrby', keys[1], args[1])
end
local function peek(keys, args)
  return redis.call('get', keys[1])
end
redis.register_function('bump', bump)
redis.register_function{function_name='peek', callback=peek, flags={'no-writes'},
                        description='read a counter'}
"""


def test_functions_through_redis_py(r: Any, r3: Any) -> None:
    r.function_flush()
    assert r.function_load(LIBRARY) == b"counters"
    with pytest.raises(redis.ResponseError, match="Library 'counters' already exists"):
        r.function_load(LIBRARY)
    assert r.function_load(LIBRARY, replace=True) == b"counters"
    assert r.fcall("bump", 1, "c", 5) == 5
    assert r.fcall_ro("peek", 1, "c") == b"5"
    with pytest.raises(redis.ResponseError, match="write flag using \\*_ro command"):
        r.fcall_ro("bump", 1, "c", 1)
    listing = r3.function_list(library="count*")
    assert listing[0][b"library_name"] == b"counters"
    assert {f[b"name"] for f in listing[0][b"functions"]} == {b"bump", b"peek"}
    r.script_flush()  # EVAL's cache only: functions stay
    assert r.fcall("bump", 1, "c", 1) == 6
    assert r.function_delete("counters") is True
    with pytest.raises(redis.ResponseError, match="Function not found"):
        r.fcall("bump", 1, "c", 1)


def test_monitor_shows_the_script_before_its_commands(respd: Any) -> None:
    watcher = respd.client(socket_timeout=5)
    client = respd.client()
    with watcher.monitor() as monitor:
        client.eval("redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])",
                    1, "mk")
        seen = []
        for _ in range(10):  # bounded; the client's connection handshake comes first
            entry = monitor.next_command()
            if entry["command"].split()[0].lower() in ("eval", "set", "get"):
                seen.append(entry)
            if len(seen) == 3:
                break
    assert [entry["command"].split()[0].lower() for entry in seen] == ["eval", "set", "get"]
    assert [entry["client_type"] for entry in seen] == ["tcp", "lua", "lua"]
    client.close()


def test_function_dump_and_restore_with_redis_server(r: Any, redis_ref: Any) -> None:
    """Payloads travel both ways between respd and redis-server 7.0 (whose long
    libraries arrive LZF-compressed)."""
    ref = redis_ref.client()
    ref.function_flush()
    big = "#!lua name=big\n" + "\n".join(
        f"redis.register_function('f{i}', function(keys, args) return {i} end)"
        for i in range(30))
    ref.function_load(big)
    r.function_flush()
    assert r.function_restore(ref.function_dump()) is True
    assert r.fcall("f7", 0) == 7
    with pytest.raises(redis.ResponseError, match="Library big already exists"):
        r.function_restore(ref.function_dump())
    assert r.function_restore(ref.function_dump(), "REPLACE") is True
    r.function_load("#!lua name=small\nredis.register_function('g', function() return 'g' end)")
    ref.function_flush()
    assert ref.function_restore(r.function_dump()) is True
    assert ref.fcall("g", 0) == b"g" and ref.fcall("f29", 0) == 29
    assert r.function_restore(ref.function_dump(), "FLUSH") is True
    assert r.fcall("g", 0) == b"g"
    ref.function_flush()
    r.function_flush()
    ref.close()


@pytest.mark.parametrize("script", [
    # a table holding itself: nested arrays until Redis's stack limit error
    "local t = {}; t[1] = t; return t",
    "local t = {}; t[1] = t; t[2] = 'x'; return t",
    # unpack() beyond Lua's C stack: Lua's own error, raised in the script
    "local a = {} for i=1,8000 do a[i]=i end return redis.call('del', unpack(a))",
    "local a = {} for i=1,7990 do a[i]='x' end return #{unpack(a)}",
    # _G and tables whose metatable errors or calls Redis convert as plain tables
    "return _G",
    "return setmetatable({}, {__index=function() error('boom') end})",
    "return setmetatable({1,2}, {__index=function() return redis.call('ping') end})",
])
def test_deep_and_odd_script_replies_as_redis(redis_ref: Any, respd: Any, script: str) -> None:
    from conftest import exchange, req

    sent = req("EVAL", script, "0")
    want = exchange(redis_ref.port, sent)  # read until the server goes quiet
    got = exchange(respd.port, sent)
    assert len(want) > 3 and got == want
