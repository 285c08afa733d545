"""The Lua sandbox against redis-server 7.0.15: every known way out of Redis's sandbox
(bytecode, rewriting shared globals or library tables, metatables, raw access, Python
objects behind lupa) is sent to both servers and the raw reply bytes compared.  Script
names (the SHA-1 in "script: <sha>") are deterministic, so the replies match exactly.

What Redis does not bound and respd must (a script's memory) is checked on respd alone.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from compat.harness import RawConnection
from respd.resp import encode_request

# Scripts that must fail (the reply is an error line, the same bytes as Redis's).
ESCAPES_REFUSED = [
    # Bytecode: Redis's Lua parses text only, so a dumped function is a syntax error.
    "return loadstring(string.dump(function() return 1 end))()",
    "return load(function() return string.dump(function() return 1 end) end)()",
    "local s = string.dump(function() return 1 end) "
    "local f = loadstring(s, 'x') return f()",
    # Rewriting what every later script of every client relies on.
    "redis = nil",
    "redis.call = nil",
    "cjson.encode = nil",
    "cmsgpack.pack = nil",
    "struct.pack = nil",
    "bit.band = nil",
    "string.upper = nil",
    "math.abs = nil",
    "table.insert = nil",
    "coroutine.create = nil",
    "getmetatable('').__index.upper = nil",
    "getmetatable('').__index = nil",
    "getmetatable('').y = 1",
    "getmetatable(_G).__index = nil",
    "x = 1",
    "local function f() y = 1 end f()",
    "function f() end",
    "_G.x = 1",
    "_G._G.redis = 1",
    "__redis__err__handler = nil",
    # Raw access and metatables.
    "rawset(_G, 'x', 1)",
    "rawset(redis, 'call', nil)",
    "rawset(string, 'upper', nil)",
    "setmetatable(_G, nil)",
    "setmetatable(_G, {})",
    "setmetatable(redis, nil)",
    "setmetatable(getmetatable(''), nil)",
    "table.insert(_G, 'x')",
    "table.insert(redis, 'x')",
    "setmetatable(_G, 1)",
    "rawset(_G)",
    "next()",
    "xpcall(function() end)",
    "table.insert(_G, 1, 2, 3)",
    "table.insert(_G, 'a', 2)",
    "table.insert(1, 2)",
    # What Redis leaves out.
    "return setfenv", "return getfenv", "return newproxy", "return debug",
    "return os", "return io", "return require", "return package", "return module",
    "return dofile", "return loadfile", "return print", "return _G.os",
    "newproxy = 1",
    "local k = next(_G, 'nosuchkey')",
    "local function f() local x = redis.call('nosuch') end f()",
    "coroutine.resume(1)",
]

# Scripts that succeed: the reply shows what the sandbox hands out.
SANDBOX_VIEWS = [
    "return {select(2, loadstring(string.dump(function() return 1 end)))}",
    "return {select(2, loadstring(string.dump(function() return 1 end), 'name'))}",
    "return {select(2, loadstring('\\27abc\\nfoo'))}",
    "local s = string.dump(function() return 1 end) local done = false "
    "return {select(2, load(function() if done then return nil end done = true return s end))}",
    "return string.dump(function() return 1 end)",
    "return loadstring('return 5')()",
    "return {pcall(loadstring)}",
    "return {pcall(next)}",
    "return {pcall(rawset, _G, 'a', 1)}",
    "return {pcall(setmetatable, _G, nil)}",
    "local f = loadstring('x = 1') return {pcall(f)}",
    "local f = loadstring('return _G == ...') return f(_G)",
    "return getmetatable(_G)",
    "return getmetatable(_G).__index ~= nil",
    "return getmetatable(_G).__newindex",
    "return getmetatable(redis)",
    "return getmetatable(string)",
    "return getmetatable(redis.call)",
    "return getmetatable(cjson.null)",
    "return getmetatable('').__index == string",
    "return getmetatable(getmetatable(''))",
    "local t = {} for k in pairs(getmetatable('')) do t[#t+1]=k end return t",
    "return type(redis.call)",
    "return tostring(redis.call):sub(1, 10)",
    "return rawget(_G, 'x')",
    "return rawget(_G, 'redis') == redis",
    "return next(_G) ~= nil",
    "return pairs({}) == next",
    "return select('#', pairs(_G))",
    "local t = {} for k in pairs(_G) do t[#t+1]=k end table.sort(t) return t",
    "local t = {} for k in pairs(redis) do t[#t+1]=k end table.sort(t) return t",
    "local t = {} for k in pairs(string) do t[#t+1]=k end table.sort(t) return t",
    "local t = {} for k in pairs(math) do t[#t+1]=k end table.sort(t) return t",
    "local t = {} for k in pairs(table) do t[#t+1]=k end table.sort(t) return t",
    "local t = {} for k in pairs(cjson) do t[#t+1]=k end table.sort(t) return t",
    "local t = {} for k in pairs(coroutine) do t[#t+1]=k end table.sort(t) return t",
    "local n = 0 table.foreach(_G, function() n = n + 1 end) return n",
    "return {#_G, table.maxn(_G), table.remove(_G), table.concat(redis)}",
    "table.sort(_G) return 1",
    "return {unpack(_G)}",
    "KEYS[1] = 'x' return KEYS",
    "table.insert(ARGV, 'x') return ARGV",
    "return collectgarbage('count') > 0",
    "return gcinfo() > 0",
    "return _VERSION",
    "return ('x'):upper()",
    "return {xpcall(function() redis.call('nosuch') end, function(e) return e end)}",
    "return {xpcall(function() error('x') end, function(e) return e end)}",
    "return {pcall(redis.call, 'nosuch')}",
    "return {pcall()}",
    "return {pcall(error, {err=5})}",
    "return {pcall(error, setmetatable({}, {__index=function() return 'M' end}))}",
    # Errors raised by library functions are Lua values wherever a script meets them.
    "local co = coroutine.create(function() redis.call('nosuch') end) "
    "local ok, e = coroutine.resume(co) return {tostring(ok), type(e), e}",
    "local co = coroutine.create(function() redis.call('nosuch') end) "
    "local ok, e = coroutine.resume(co) return getmetatable(e)",
    "local co = coroutine.wrap(function() redis.call('nosuch') end) return {pcall(co)}",
    "local co = coroutine.create(function(a) coroutine.yield(a + 1) return 7 end) "
    "return {coroutine.resume(co, 1)}",
    "return {pcall(cjson.decode, '[')}",
    # Replies are read raw, as Redis's luaReplyToRedisReply does: no metamethod runs.
    "return _G",
    "return {_G}",
    "return redis",
    "return setmetatable({}, {__index = function() error('boom') end})",
    "return setmetatable({}, {__index = function(t, k) return redis.call('ping') end})",
    "return setmetatable({}, {__index = function(t, k) return 'IDX' end})",
    "return {map=setmetatable({}, {__index=function() error('x') end})}",
    "return {1, 2, nil, 4}",
    "return {err=5}",
    "return {ok=5}",
    "return {1, 2, {ok='x'}, {err='e'}}",
    # Error tables are read with metamethods (luaExtractErrorInformation).
    "error({err=5})",
    "error(setmetatable({}, {__index = function(t,k) return 'IDX' end}))",
    "error({err='x', source=1, line='abc'})",
]

# Nesting until Redis's Lua stack limit (LUAI_MAXCSTACK): arrays, maps, sets, cycles.
DEEP_REPLIES = [
    "local t = {} t[1] = t return t",
    "local t = {} t[1] = {1, 2, {3, t}} return t",
    "local t = {} t.map = t return t",
    "local t = {} t.set = {} t.set[t] = true return t",
    "local t = {} t[1] = t return {t, 'after', {ok='x'}}",
]

# lua_cjson's edges: nesting depth both ways, partial literals, surrogate escapes.
CJSON_EDGES = [
    "return cjson.decode('nul')",
    "return cjson.decode('[tru]')",
    "return cjson.decode('[true]')[1]",
    'return cjson.decode(\'"\\\\ud800"\')',
    'return cjson.decode(\'[1, "ab\\\\udc00"]\')',
    'return cjson.decode(\'"\\\\ud83d\\\\ude00"\')',
    'return cjson.decode(\'"\\\\\\\\ud800"\')',
    "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))",
    "return cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) ~= nil",
    "return cjson.decode(string.rep('[', 100000))",
    'return cjson.decode(string.rep(\'{"a":\', 1001) .. \'1\' .. string.rep(\'}\', 1001))',
    "return cjson.decode(string.rep('[', 1001) .. 'x')",
    "return cjson.decode('[x' .. string.rep('[', 1001))",
    'local t = {} local c = t for i = 1, 1001 do c[1] = {} c = c[1] end return cjson.encode(t)',
    'local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)',
    'local t = {} t[1] = t return cjson.encode(t)',
]


def frame_end(buf: bytes) -> int | None:
    """End of the first RESP frame in buf (None: incomplete), without recursion: replies
    here nest thousands of levels deep."""
    pos, pending = 0, 1
    while pending:
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            return None
        kind, head, pos = buf[pos:pos + 1], buf[pos + 1:nl], nl + 2
        pending -= 1
        if kind in b"$=" and int(head) >= 0:
            pos += int(head) + 2
            if pos > len(buf):
                return None
        elif kind in b"*~>" and int(head) > 0:
            pending += int(head)
        elif kind in b"%|" and int(head) > 0:
            pending += 2 * int(head)
    return pos


def read_reply(conn: RawConnection, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    while (end := frame_end(conn.buf)) is None:
        assert time.monotonic() < deadline, "no complete reply"
        conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = conn.sock.recv(1 << 20)
        assert chunk, "connection closed"
        conn.buf += chunk
    reply, conn.buf = conn.buf[:end], conn.buf[end:]
    return reply


def eval_reply(port: int, script: str, *args: bytes, resp3: bool = False,
               timeout: float = 10.0) -> bytes:
    conn = RawConnection(port)
    try:
        if resp3:
            conn.send([b"HELLO", b"3"])
            read_reply(conn, timeout)
        conn.send([b"EVAL", script.encode(), b"0", *args])
        return read_reply(conn, timeout)
    finally:
        conn.close()


def sha(script: str) -> bytes:
    return hashlib.sha1(script.encode()).hexdigest().encode()


@pytest.mark.parametrize("script", ESCAPES_REFUSED)
def test_escape_refused_as_on_redis(script: str, redis_ref: Any, respd: Any) -> None:
    reply = eval_reply(respd.port, script)
    assert reply.startswith(b"-ERR "), reply
    assert reply == eval_reply(redis_ref.port, script)


@pytest.mark.parametrize("script", SANDBOX_VIEWS + CJSON_EDGES)
def test_sandbox_view_as_on_redis(script: str, redis_ref: Any, respd: Any) -> None:
    assert eval_reply(respd.port, script) == eval_reply(redis_ref.port, script)


def test_bytecode_never_runs(r: Any) -> None:
    reply = eval_reply(r.connection_pool.connection_kwargs["port"],
                       "return loadstring(string.dump(function() return 1 end))()")
    assert b"attempt to call a nil value" in reply
    script = "return {select(2, loadstring(string.dump(function() return 1 end)))}"
    assert r.eval(script, 0) == [b"[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'"]
    # EVAL and FUNCTION LOAD bodies are source text too.
    with pytest.raises(Exception, match="unexpected symbol near 'char"):
        r.eval(r.eval("return string.dump(function() return 1 end)", 0).decode("latin-1"), 0)


def test_rewrites_do_not_reach_later_scripts(r: Any, redis_ref: Any, respd: Any) -> None:
    """The attempts fail and leave nothing behind for the next script of any client."""
    for script in ("redis = nil", "cjson.encode = nil", "getmetatable('').__index.upper = nil",
                   "rawset(redis, 'call', nil)", "setmetatable(_G, nil)",
                   "table.insert(redis, 'x')"):
        eval_reply(respd.port, script)
    check = ("return {type(redis.call), type(cjson.encode), ('a'):upper(), #redis, "
             "getmetatable(_G) ~= nil}")
    assert r.eval(check, 0) == [b"function", b"function", b"A", 0, 1]
    assert eval_reply(respd.port, check) == eval_reply(redis_ref.port, check)


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
@pytest.mark.parametrize("script", DEEP_REPLIES)
def test_deep_replies_stop_at_redis_stack_limit(script: str, resp3: bool, redis_ref: Any,
                                                respd: Any) -> None:
    reply = eval_reply(respd.port, script, resp3=resp3)
    assert b"-ERR reached lua stack limit\r\n" in reply
    assert reply == eval_reply(redis_ref.port, script, resp3=resp3)


def test_deep_map_reply_in_resp3_script(redis_ref: Any, respd: Any) -> None:
    script = "redis.setresp(3) local t = {} t.map = t return t"
    for resp3 in (False, True):
        assert eval_reply(respd.port, script, resp3=resp3) == \
            eval_reply(redis_ref.port, script, resp3=resp3)


def test_python_objects_stay_out_of_reach(r: Any) -> None:
    """lupa's attribute filter: indexing a library function (a Python callable to lupa)
    is Lua's error for indexing a function, never a Python attribute or item."""
    for script in ("return redis.call.__class__", "return redis.call.__self__",
                   "return redis.call[1]", "redis.call.x = 1",
                   "return redis.setresp.__globals__"):
        reply = eval_reply(r.connection_pool.connection_kwargs["port"], script)
        assert reply.startswith(b"-ERR user_script:1: attempt to index a function value "
                                b"script: " + sha(script)), reply
    assert r.eval("return {getmetatable(redis.call) == nil, type(redis.pcall)}", 0) == \
        [1, b"function"]
    assert r.eval("return tostring(cjson.decode):match('^function: ') ~= nil", 0) == 1


def test_runaway_memory_is_stopped(r: Any) -> None:
    """Redis has no bound on a script's memory; respd stops one at LUA_MAX_MEMORY with
    Lua's own "not enough memory" in Redis's wording for a failed script, and goes on."""
    port = r.connection_pool.connection_kwargs["port"]
    script = "local s = 'x' for i = 1, 40 do s = s .. s end return #s"
    assert eval_reply(port, script, timeout=30) == \
        b"-ERR Error running script " + sha(script) + b", not enough memory\r\n"
    growing = "local t = {} for i = 1, 1e9 do t[i] = i end return #t"
    assert eval_reply(port, growing, timeout=30) == \
        b"-ERR Error running script " + sha(growing) + b", not enough memory\r\n"
    # Caught by pcall inside the script, and gone once the script is over.
    caught = ("local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end "
              "end) return {tostring(ok), e}")
    assert r.eval(caught, 0) == [b"false", b"not enough memory"]
    assert r.eval("return #string.rep('x', 100 * 1024 * 1024)", 0) == 100 * 1024 * 1024
    assert r.eval("return 1", 0) == 1


def test_function_load_timeout(redis_ref: Any, respd: Any) -> None:
    """Load-time code gets 500 ms (Redis's LOAD_TIMEOUT_MS); a pcall in it cannot swallow
    the timeout, and the server answers at once afterwards."""
    for code in (b"#!lua name=sandboxloop\nwhile true do end",
                 b"#!lua name=sandboxloop\nlocal ok = pcall(function() while true do end end)"
                 b"\nwhile true do end",
                 b"#!lua name=sandboxloop\nlocal function f() return f() end return f()"):
        replies = []
        for server in (respd, redis_ref):
            conn = RawConnection(server.port)
            conn.send([b"FUNCTION", b"LOAD", code])
            replies.append(conn.read(10))
            start = time.monotonic()
            conn.send([b"PING"])
            assert conn.read(2) == b"+PONG\r\n"
            assert time.monotonic() - start < 2
            conn.close()
        assert replies[0] == replies[1]
        assert replies[0] in (
            b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n",
            b"-ERR Error registering functions: ERR user_function:2: Script attempted to "
            b"access nonexistent global variable 'pcall'\r\n")
    conn = RawConnection(respd.port)
    conn.send([b"FUNCTION", b"LIST"])
    assert b"sandboxloop" not in conn.read()
    conn.close()


def test_function_globals_are_read_only(redis_ref: Any, respd: Any) -> None:
    code = (b"#!lua name=sandboxlib\n"
            b"redis.register_function('sb_set', function() x = 1 end)\n"
            b"redis.register_function('sb_lib', function() redis.call = nil end)\n"
            b"redis.register_function('sb_dump', function() "
            b"return loadstring(string.dump(function() return 1 end)) end)\n"
            b"redis.register_function('sb_raw', function() rawset(_G, 'x', 1) end)")
    for load_time in (b"x = 1", b"redis.register_function = nil", b"redis = 1",
                      b"return redis.call('get', 'a')"):
        body = b"#!lua name=sandboxbad\n" + load_time
        replies = []
        for server in (respd, redis_ref):
            conn = RawConnection(server.port)
            conn.send([b"FUNCTION", b"LOAD", body])
            replies.append(conn.read())
            conn.close()
        assert replies[0].startswith(b"-ERR Error registering functions: ERR user_function:2: ")
        assert replies[0] == replies[1]
    replies = []
    for server in (respd, redis_ref):
        conn = RawConnection(server.port)
        conn.send([b"FUNCTION", b"LOAD", b"REPLACE", code])
        assert conn.read() == b"$10\r\nsandboxlib\r\n"
        out = []
        for name in (b"sb_set", b"sb_lib", b"sb_dump", b"sb_raw"):
            conn.send([b"FCALL", name, b"0"])
            out.append(conn.read())
        conn.send([b"FUNCTION", b"DELETE", b"sandboxlib"])
        conn.read()
        conn.close()
        replies.append(out)
    assert replies[0] == replies[1]
    assert replies[0][0].startswith(b"-ERR user_function:2: Attempt to modify a readonly table")


def test_busy_script_still_killable(respd: Any) -> None:
    """The sandbox's proxies and wrappers leave lua-time-limit and SCRIPT KILL working:
    a loop over the wrapped functions is stopped like any other."""
    killer = RawConnection(respd.port)
    killer.send([b"PING"])
    assert killer.read() == b"+PONG\r\n"  # accepted before the loop stalls the server
    runner = RawConnection(respd.port)
    runner.send([b"EVAL", b"while true do for k in pairs(_G) do rawget(_G, k) end end", b"0"])
    deadline = time.monotonic() + 15
    reply = b""
    while time.monotonic() < deadline:
        killer.send([b"SCRIPT", b"KILL"])
        reply = killer.read()
        if reply == b"+OK\r\n":
            break
        time.sleep(0.05)
    assert reply == b"+OK\r\n"
    assert runner.read(5).startswith(b"-ERR Script killed by user with SCRIPT KILL...")
    runner.close()
    killer.close()


def test_self_reference_through_pipeline(respd: Any) -> None:
    """A deep reply does not disturb the replies that follow it on the connection."""
    conn = RawConnection(respd.port)
    conn.send_raw(encode_request([b"EVAL", b"local t = {} t[1] = t return t", b"0"])
                  + encode_request([b"PING"]))
    assert read_reply(conn, 10).endswith(b"-ERR reached lua stack limit\r\n")
    assert read_reply(conn, 10) == b"+PONG\r\n"
    conn.close()
