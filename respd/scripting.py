"""The Lua runtime behind EVAL/EVALSHA/FCALL: a real Lua 5.1 (``lupa.lua51``) set up the
way Redis 7.0 sets up its own.

- Sandbox: scripts run in their own read-only globals table holding only what Redis
  exposes; reading an unknown global or writing any raises Redis's errors (KEYS/ARGV
  are set with rawset).  FUNCTION libraries share a second such table, which holds
  only the load-time API while a library loads.  As in Redis 7.0, the globals, the
  libraries and the string metatable are read-only (empty proxies, see the prelude),
  and loadstring/load parse source text only: bytecode never runs.
- Limits: the VM's memory is bounded (LUA_MAX_MEMORY; Redis has no bound), a
  library's load-time code gets LOAD_TIMEOUT_MS, and a script's reply nests no deeper
  than Redis's Lua stack allows (-ERR reached lua stack limit).
- ``redis.call``/``redis.pcall`` run commands through ``dispatch.call`` on a dedicated
  script client that shares the caller's database, with Redis's checks and messages.
- Conversions both ways follow script_lua.c: replies become Lua values according to the
  script's ``redis.setresp`` (2 or 3), and the script's result becomes a reply.
- Errors leave the script as tables ``{err=..., source=..., line=...}`` built by the
  error handler, which Redis turns into ``<msg> script: <sha>, on @user_script:<line>.``
- Library functions (redis.*, and cjson, cmsgpack, struct, bit from
  respd.scripting_libs, which lupa does not ship) are Python callables, i.e. C
  functions to Lua: a tail call to them keeps the script's frame, so errors carry the
  script's line as Redis's C functions' do.  They fail by raising ``LuaRaise``.
- ``math.random`` is Redis's rand48 (seeded with 0 when the server starts), so
  ``math.randomseed(n)`` gives scripts the same sequence as on Redis.
- A count hook notices a script running past lua-time-limit; from then on it answers
  other clients itself (-BUSY, SCRIPT KILL, SHUTDOWN NOSAVE), see ``ScriptEngine.hook``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import select
import time
from typing import TYPE_CHECKING, Any, Callable, NoReturn

import lupa.lua51 as lupa

from respd import errors
from respd import scripting_libs as libs
from respd.acl import check_script
from respd.command import COMMANDS
from respd.dispatch import NO_REPLY, call, execute, resolve
from respd.errors import ReplyError
from respd.resp import (
    NULL_ARRAY, AttrSet, Map, Push, Raw, Status, Verbatim, encode,
)
from respd.storage import rdb

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

log = logging.getLogger("respd")

INT64_MIN = -(1 << 63)
RDB_VERSION = 10  # what FUNCTION DUMP payloads carry, as Redis 7.0's
# Redis puts no bound on a script's memory; respd does, so that one script cannot take
# the host down: past this the allocation fails and the script ends with Lua's "not
# enough memory" (as Redis's would if its allocator failed).  The bound is on the whole
# VM: cached scripts and FUNCTION libraries live there too, and take little.
LUA_MAX_MEMORY = 512 << 20
LOAD_TIMEOUT_MS = 500  # FUNCTION LOAD's bound on a library's load-time code, as Redis's
LUA_STACK_LIMIT = 8000  # LUAI_MAXCSTACK: how deep a script's reply may nest

# What a script sees of the Lua runtime (Redis 7.0's allow list, plus its libraries).
_PRELUDE = r"""
local py, msg = ...
local dbg, lua_pcall, lua_xpcall, lua_error, type, select, unpack, rawset, rawget, tostring,
      setmetatable, getmetatable, pairs, next, setfenv, loadstring, load, byte =
      debug, pcall, xpcall, error, type, select, unpack, rawset, rawget, tostring,
      setmetatable, getmetatable, pairs, next, setfenv, loadstring, load, string.byte

-- luaL_where(L, 1) seen from a Python library function: the line of its Lua caller.
py.set_where(function()
  local info = dbg.getinfo(3, 'Sl')
  if info and info.currentline > 0 then return info.short_src .. ':' .. info.currentline .. ': ' end
  return ''
end)

-- Library functions are the Python callables themselves (C functions to Lua), so a
-- "return redis.call(...)" keeps the script's frame and errors report its line.
local redis = {
  call = py.call, pcall = py.pcall, sha1hex = py.sha1hex, log = py.log,
  setresp = py.setresp, set_repl = py.set_repl, acl_check_cmd = py.acl_check,
  replicate_commands = function() return true end,
  breakpoint = function() return false end,
  debug = function() end,
  status_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = msg.reply_args} end
    return {ok = s}
  end,
  error_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = msg.reply_args} end
    return py.error_table(s)
  end,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x07000f,
}

local null = newproxy(false)
py.set_json_null(null)
local cjson = {
  encode = py.json_encode, decode = py.json_decode, null = null,
  _NAME = 'cjson', _VERSION = '2.1.0',
}
cjson.new = function() return cjson end
for _, name in ipairs({'decode_invalid_numbers', 'decode_max_depth', 'encode_invalid_numbers',
    'encode_keep_buffer', 'encode_max_depth', 'encode_number_precision',
    'encode_sparse_array'}) do
  cjson[name] = function(...) return ... end
end
local cmsgpack = {
  pack = py.mp_pack, unpack = py.mp_unpack, unpack_one = py.mp_unpack_one,
  unpack_limit = py.mp_unpack_limit,
  _NAME = 'cmsgpack', _VERSION = 'lua-cmsgpack 0.4.0',
  _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo',
  _DESCRIPTION = 'MessagePack C implementation for Lua',
}
local struct = {pack = py.struct_pack, unpack = py.struct_unpack, size = py.struct_size}
local bit = {}
for _, name in ipairs({'tobit', 'tohex', 'bnot', 'band', 'bor', 'bxor', 'lshift',
    'rshift', 'arshift', 'rol', 'ror', 'bswap'}) do
  bit[name] = py['bit_' .. name]
end
math.random = py.random
math.randomseed = py.randomseed

-- A Python library function fails by raising; Lua sees the exception as a userdata
-- which py.unwrap turns back into the Lua error value it carries.
local function error_value(err)
  if type(err) == 'userdata' and err ~= null then return py.unwrap(err) end
  return err
end

local function pack(...) return {n = select('#', ...), ...} end

-- type() and tostring() of a Python callable would say 'userdata' and show its Python
-- repr; scripts see a function, as on Redis.  getmetatable() of one is nil (lupa's
-- metatable for Python objects stays out of reach).
local py_functions, placeholders = {}, {}
for _, lib in ipairs({redis, cjson, cmsgpack, struct, bit, math}) do
  for _, v in pairs(lib) do
    if type(v) == 'userdata' and v ~= null then
      local stand_in = function() end  -- a distinct function: its address names v
      placeholders[#placeholders + 1] = stand_in
      py_functions[v] = tostring(stand_in)
    end
  end
end

-- The wrappers below stand in for Lua's C functions.  When a script passes arguments
-- the C function would refuse, as_caller raises the C function's own message from the
-- script's line, naming the function as the script's call did (the C function called
-- from Lua code of ours would name our line instead).  It never returns; wrappers do
-- not tail-call it, so their frame (and the name the script called them by) remains.
local function as_caller(real, ...)
  local res = pack(lua_pcall(real, ...))
  if res[1] then return unpack(res, 2, res.n) end
  local err = res[2]
  if type(err) == 'string' then
    local info = dbg.getinfo(2, 'n')
    local name = (info and info.name or '?'):gsub('%%', '%%%%')
    err = err:gsub("^bad argument #(%d+) to '%?'", "bad argument #%1 to '" .. name .. "'")
  end
  lua_error(err, 3)
end

local function script_type(...)
  if select('#', ...) == 0 then as_caller(type, ...) end
  if py_functions[...] then return 'function' end
  return type(...)
end
local function script_tostring(...)
  if select('#', ...) == 0 then as_caller(tostring, ...) end
  local name = py_functions[...]
  if name then return name end
  return tostring(...)
end

-- Redis's pcall hands back an error table's message, not the table.
-- (Redis's C pcall, called with nothing, ends up calling its own result placeholder.)
local function script_pcall(...)
  if select('#', ...) == 0 then return false, msg.call_boolean end
  local res = pack(lua_pcall(...))
  if not res[1] then
    local err = error_value(res[2])
    if type(err) == 'table' then
      local text = err.err
      local kind = type(text)
      if kind == 'string' or kind == 'number' then err = text end
    end
    res[2] = err
  end
  return unpack(res, 1, res.n)
end
-- An xpcall handler sees the error value the script raised, never a Python object.
local function script_xpcall(...)
  if select('#', ...) < 2 then as_caller(lua_xpcall, ...) end
  local f, handler = ...
  return lua_xpcall(f, function(err) return handler(error_value(err)) end)
end

local function err_handler(err)
  err = error_value(err)
  local level, info = 2, nil
  repeat
    info = dbg.getinfo(level, 'Sl')
    level = level + 1
  until not info or info.source == '@user_script' or info.source == '@user_function'
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end

-- Read-only tables.  Redis 7.0 flags the globals and every table reachable from them
-- (libraries, metatables, the string metatable) read-only in its patched Lua: any write,
-- rawset and setmetatable included, fails with "Attempt to modify a readonly table".
-- Stock Lua has no such flag, so a script sees each protected table through an empty
-- proxy: reads fall through __index to the real table, every write (to an existing key
-- too) reaches __newindex, and the functions that bypass metamethods are wrapped to see
-- through the proxy (rawget, next, pairs, table.foreach) or to refuse (rawset,
-- setmetatable, table.insert).  The real tables are never handed to a script.
local real_of, meta_of = {}, {}
local function refuse_write() lua_error(msg.readonly, 2) end
local function readonly(t, mt)
  local proxy = setmetatable({}, {__index = t, __newindex = refuse_write})
  real_of[proxy], meta_of[proxy] = t, mt
  return proxy
end
local function script_rawset(...)
  if type((...)) ~= 'table' or select('#', ...) < 3 then as_caller(rawset, ...) end
  if real_of[(...)] then lua_error(msg.readonly, 0) end
  return rawset(...)
end
local function script_rawget(...)
  local t, key = ...
  if type(t) ~= 'table' or select('#', ...) < 2 then as_caller(rawget, ...) end
  return rawget(real_of[t] or t, key)
end
local function script_next(...)
  local t, key = ...
  if type(t) ~= 'table' then as_caller(next, ...) end
  return next(real_of[t] or t, key)
end
-- pairs hands out its own copy of next, as Lua's does (pairs({}) ~= next).
local function pairs_next(t, key) return next(real_of[t] or t, key) end
local function script_pairs(...)
  if type((...)) ~= 'table' then as_caller(pairs, ...) end
  return pairs_next, (...), nil
end
local string_meta
local function script_getmetatable(...)
  if select('#', ...) == 0 then as_caller(getmetatable, ...) end
  local v = ...
  if real_of[v] then return meta_of[v] end
  local kind = type(v)
  if kind == 'string' then return string_meta end
  -- Python objects are userdata with lupa's metatable, which must stay out of reach
  -- (Redis's only userdata, cjson.null, has none).
  if kind == 'userdata' then return nil end
  return getmetatable(v)
end
local function script_setmetatable(...)
  local t, mt = ...
  local kind = type(mt)
  if type(t) ~= 'table' or select('#', ...) < 2 or (kind ~= 'nil' and kind ~= 'table') then
    as_caller(setmetatable, ...)
  end
  if real_of[t] then lua_error(msg.readonly, 0) end
  local current = dbg.getmetatable(t)
  if current and rawget(current, '__metatable') ~= nil then as_caller(setmetatable, t, mt) end
  return setmetatable(t, mt)
end
local script_table = {}
for k, v in pairs(table) do script_table[k] = v end
script_table.insert = function(...)
  local n, t = select('#', ...), ...
  if type(t) ~= 'table' or not (n == 2 or (n == 3 and tonumber((select(2, ...))))) then
    as_caller(table.insert, ...)
  end
  if real_of[t] then lua_error(msg.readonly, 0) end
  return table.insert(...)
end
-- A coroutine that failed hands back the error value, never a Python exception.
local script_coroutine = {}
for k, v in pairs(coroutine) do script_coroutine[k] = v end
local function resumed(ok, ...)
  if ok then return ok, ... end
  return false, error_value((...))
end
script_coroutine.resume = function(...)
  if type((...)) ~= 'thread' then as_caller(coroutine.resume, ...) end
  return resumed(coroutine.resume(...))
end
script_table.foreach = function(...)
  local t, f = ...
  if type(t) ~= 'table' or type(f) ~= 'function' then as_caller(table.foreach, ...) end
  return table.foreach(real_of[t] or t, f)
end

-- Binary chunks: Redis's Lua always parses source text, so a string.dump() result is
-- a syntax error ("unexpected symbol near 'char(27)'"), never bytecode: stock Lua 5.1
-- would run unverified bytecode, which can read and write the VM's memory.  A leading
-- space keeps the text parser in charge and changes neither lines nor messages.
local function text_only(s)
  if type(s) == 'string' and byte(s, 1) == 27 then return ' ' .. s end
  return s
end
local function bad_chunkname(name)
  local kind = type(name)
  return kind ~= 'nil' and kind ~= 'string' and kind ~= 'number'
end
local function sandboxed_loaders(env_of)
  local function script_loadstring(...)
    local s, name = ...
    local kind = type(s)
    if (kind ~= 'string' and kind ~= 'number') or bad_chunkname(name) then
      as_caller(loadstring, ...)
    end
    if name == nil then name = s end
    local fn, err = loadstring(text_only(s), name)
    if fn then setfenv(fn, env_of()) end
    return fn, err
  end
  local function script_load(...)
    local reader, name = ...
    if type(reader) ~= 'function' or bad_chunkname(name) then as_caller(load, ...) end
    local first = true
    local function text_reader()
      local piece = reader()
      if first then
        first = false
        return text_only(piece)
      end
      return piece
    end
    local fn, err = load(text_reader, select(2, ...))
    if fn then setfenv(fn, env_of()) end
    return fn, err
  end
  return script_loadstring, script_load
end

local function nonexistent(_, key)
  lua_error(msg.nonexistent_global:format(tostring(key)), 2)
end
-- A globals table: the real one (``real``, where KEYS/ARGV are rawset) and the proxy
-- scripts get as their environment and as _G.
local function globals_table()
  local real = setmetatable({}, {__index = nonexistent})
  return real, readonly(real, readonly({__index = nonexistent}))
end

local allowed = {}
for name in string.gmatch("_VERSION assert collectgarbage coroutine error gcinfo " ..
    "ipairs math next pairs rawequal select string table tonumber unpack", "%S+") do
  allowed[name] = true
end
local libs = {
  redis = readonly(redis), cjson = readonly(cjson), cmsgpack = readonly(cmsgpack),
  struct = readonly(struct), bit = readonly(bit), math = readonly(math),
  string = readonly(string), table = readonly(script_table),
  coroutine = readonly(script_coroutine),
}
-- Method calls on strings go through the proxied string library, and
-- getmetatable('') is a read-only view of the string metatable.
getmetatable('').__index = libs.string
string_meta = readonly({__index = libs.string})

-- Scripts see their own read-only globals table; the VM's _G stays intact for lupa.
-- Chunks made by loadstring/load inside a script share that sandbox.
local env, env_proxy = globals_table()
local function fill_runtime(t, proxy)
  for name in pairs(allowed) do t[name] = _G[name] end
  for name, lib in pairs(libs) do t[name] = lib end
  t._G = proxy
  t.pcall, t.xpcall, t.type, t.tostring = script_pcall, script_xpcall, script_type, script_tostring
  t.rawset, t.rawget, t.next, t.pairs = script_rawset, script_rawget, script_next, script_pairs
  t.getmetatable, t.setmetatable = script_getmetatable, script_setmetatable
  t.__redis__err__handler = err_handler
  t.loadstring, t.load = sandboxed_loaders(function() return proxy end)
end
fill_runtime(env, env_proxy)

-- FUNCTION libraries share one globals table.  While a library loads it holds only the
-- load-time redis API (register_function, log); afterwards the same table holds what
-- EVAL scripts see, minus KEYS/ARGV.  Callbacks keep that table as their environment.
local fenv, fenv_proxy = globals_table()
local registered, registered_names
local function register_error(text) lua_error({err = 'ERR ' .. text}) end
local function register_function(...)
  local n = select('#', ...)
  local name, callback, flags, description
  if n == 1 then
    local args = ...
    if type(args) ~= 'table' then register_error(msg.register_single_arg) end
    for k, v in pairs(args) do
      if k == 'function_name' then name = v
      elseif k == 'callback' then callback = v
      elseif k == 'flags' then flags = v
      elseif k == 'description' then description = v
      else register_error(msg.register_unknown_arg) end
    end
    if name == nil then register_error(msg.register_no_name) end
    if callback == nil then register_error(msg.register_no_callback) end
  elseif n == 2 then
    name, callback = ...
  else
    register_error(msg.register_arg_count)
  end
  if type(name) ~= 'string' and type(name) ~= 'number' then register_error(msg.register_name_type) end
  if type(callback) ~= 'function' then register_error(msg.register_callback_type) end
  name = tostring(name)
  if not string.find(name, '^[%w_]+$') then register_error(msg.register_bad_name) end
  if registered_names[name] then register_error(msg.register_exists) end
  local flag_list = {}
  if flags ~= nil then
    if type(flags) ~= 'table' then register_error(msg.register_flags_type) end
    for _, f in ipairs(flags) do
      if not py.known_flag(f) then register_error(msg.register_unknown_flag) end
      flag_list[#flag_list + 1] = f
    end
  end
  if description ~= nil and type(description) ~= 'string' then
    register_error(msg.register_description_type)
  end
  registered_names[name] = true
  registered[#registered + 1] = {name = name, callback = callback, flags = flag_list,
                                 description = description}
end
local load_redis = readonly(setmetatable({
  register_function = register_function, log = py.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}, {__index = nonexistent}))
local function clear(t)
  for k in pairs(t) do rawset(t, k, nil) end
end

local function hook()
  if py.busy() then
    -- From now on every line fails, so a pcall in the script cannot swallow the kill.
    dbg.sethook(hook, 'l')
    lua_error({err = msg.killed})
  end
end
-- FUNCTION LOAD's code gets LOAD_TIMEOUT_MS, then fails on every line as above.
local function load_hook()
  if py.load_expired() then
    dbg.sethook(load_hook, 'l')
    lua_error({err = msg.load_timeout})
  end
end

local api = {}
api.compile = function(body)
  local fn, err = loadstring(text_only(body), '@user_script')
  if fn then setfenv(fn, env_proxy) end
  return fn, err
end
-- Python drives a run with these C functions directly, so no Lua line of ours runs
-- after the script (a kill's every-line hook would fire on it).
api.env, api.handler, api.hook = env, err_handler, hook
-- FUNCTION LOAD: compile a library and give its globals the load-time API; Python runs
-- the chunk (with load_hook when timed), then load_done restores the runtime globals and
-- hands over the registrations.
api.load_begin = function(body)
  local chunk, err = loadstring(text_only(body), '@user_function')
  if not chunk then return nil, err end
  setfenv(chunk, fenv_proxy)
  registered, registered_names = {}, {}
  clear(fenv)
  rawset(fenv, 'redis', load_redis)
  return chunk
end
api.load_done = function()
  clear(fenv)
  fill_runtime(fenv, fenv_proxy)
  return registered
end
api.load_hook = load_hook
fill_runtime(fenv, fenv_proxy)
-- FCALL: xpcall cannot pass arguments in Lua 5.1, so they wait here.
local pending_fn, pending_keys, pending_args
api.prepare_call = function(fn, keys, args) pending_fn, pending_keys, pending_args = fn, keys, args end
api.invoke = function() return pending_fn(pending_keys, pending_args) end
api.xpcall, api.sethook, api.rawset = lua_xpcall, dbg.sethook, rawset

-- A script's result, as luaReplyToRedisReply reads it (raw fields only): a kind and its
-- data.  0: an array of n items; 1: error (message, no-stats flag); 2: status;
-- 3: double; 4: big number; 5: verbatim (format, text); 6: map; 7: set.
api.classify = function(t)
  local v = rawget(t, 'err')
  if type(v) == 'string' then return 1, v, rawget(t, 'ignore_error_stats_update') end
  v = rawget(t, 'ok')
  if type(v) == 'string' then return 2, v end
  v = rawget(t, 'double')
  if type(v) == 'number' then return 3, v end
  v = rawget(t, 'big_number')
  if type(v) == 'string' then return 4, v end
  v = rawget(t, 'verbatim_string')
  if type(v) == 'table' then
    local format, text = rawget(v, 'format'), rawget(v, 'string')
    if type(format) == 'string' and type(text) == 'string' then return 5, format, text end
  end
  v = rawget(t, 'map')
  if type(v) == 'table' then return 6, v end
  v = rawget(t, 'set')
  if type(v) == 'table' then return 7, v end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  return 0, n
end
-- A failed script's error table as luaExtractErrorInformation reads it (metamethods
-- apply, but one that fails only loses its field): message, source, line, no-stats flag.
local function as_text(v)
  local kind = type(v)
  if kind == 'string' or kind == 'number' then return tostring(v) end
  return nil
end
api.error_info = function(e)
  local ok, m, source, line, ignore = lua_pcall(function()
    return e.err, e.source, e.line, e.ignore_error_stats_update
  end)
  if not ok then return nil end
  return as_text(m), as_text(source), as_text(line), ignore == true
end
api.collect = function() collectgarbage('collect') end
return api
"""


def sha1hex(body: bytes) -> bytes:
    return hashlib.sha1(body).hexdigest().encode()


def lua_number_arg(value: Any) -> bytes:
    """A number passed to redis.call, formatted as Redis 7.0 does (%.17g)."""
    return b"%.17g" % float(value)


def lua_to_int(value: float) -> int:
    """(long long) of a Lua number: truncation; out-of-range and NaN give INT64_MIN as
    the x86 conversion does."""
    if math.isfinite(value) and -9.3e18 < value < 9.3e18:
        n = int(value)
        if INT64_MIN <= n < (1 << 63):
            return n
    return INT64_MIN


def _clean(text: bytes) -> bytes:
    return text.replace(b"\r", b" ").replace(b"\n", b" ")


class LuaRaise(Exception):
    """Raised by a Python library function: ``value`` is the Lua error to raise."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def _unwrap(err: Any) -> Any:
    """The Lua error value behind an exception a Python library function raised."""
    if isinstance(err, LuaRaise):
        return err.value
    if isinstance(err, BaseException):
        log.error("error inside a script library function: %r", err)
        return ("internal error: %s" % err).encode()
    return err


class Script:
    """A compiled EVAL script and its shebang flags."""

    __slots__ = ("sha", "fn", "no_writes", "shebang", "allow_oom")

    def __init__(self, sha: bytes, fn: Any, no_writes: bool, shebang: bool,
                 allow_oom: bool = False):
        self.sha = sha
        self.fn = fn
        self.no_writes = no_writes
        self.shebang = shebang
        self.allow_oom = allow_oom  # read by respd.eviction (maxmemory)


_SHEBANG_FLAGS = {b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster",
                  b"allow-cross-slot-keys"}


class Function:
    """A FUNCTION library's registered callback."""

    __slots__ = ("name", "callback", "flags", "description", "library")

    def __init__(self, name: bytes, callback: Any, flags: list[bytes],
                 description: bytes | None, library: bytes) -> None:
        self.name = name
        self.callback = callback
        self.flags = flags
        self.description = description
        self.library = library


class Library:
    __slots__ = ("name", "code", "functions")

    def __init__(self, name: bytes, code: bytes, functions: dict[bytes, Function]) -> None:
        self.name = name
        self.code = code
        self.functions = functions


def _valid_name(name: bytes) -> bool:
    return bool(name) and all(c == 95 or 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122
                              for c in name)


def parse_library_metadata(code: bytes) -> tuple[bytes, bytes]:
    """The ``#!lua name=<lib>`` line of FUNCTION LOAD: (library name, body to compile)
    with Redis's messages, checked in its order."""
    if not code.startswith(b"#!"):
        raise errors.FUNCTION_NO_METADATA
    end = code.find(b"\n")
    parts = code[:end].split() if end >= 0 else []
    if not parts:
        raise errors.FUNCTION_BAD_METADATA
    engine, name = parts[0][2:], None
    for part in parts[1:]:
        if part[:5].lower() != b"name=":
            raise errors.function_bad_metadata_value(part)
        if name is not None:
            raise errors.FUNCTION_NAME_TWICE
        name = part[5:]
    if name is None:
        raise errors.FUNCTION_NO_NAME
    if not _valid_name(name):
        raise errors.FUNCTION_BAD_NAME
    if engine.lower() != b"lua":
        raise errors.function_engine_not_found(engine)
    return name, code[end:]


def parse_shebang(body: bytes) -> tuple[bytes, set[bytes] | None]:
    """Split off a ``#!lua flags=...`` line: (body to compile, flags or None).  The line
    is blanked rather than removed so error line numbers match Redis's."""
    if not body.startswith(b"#!"):
        return body, None
    end = body.find(b"\n")
    line = body if end < 0 else body[:end]
    parts = line.split(b" ")
    if parts[0] != b"#!lua":
        raise errors.script_bad_engine(parts[0])
    flags: set[bytes] = set()
    for part in parts[1:]:
        if not part:
            continue
        if not part.startswith(b"flags="):
            raise errors.script_bad_shebang_option(part)
        for flag in part[6:].split(b","):
            if flag and flag not in _SHEBANG_FLAGS:
                raise errors.script_bad_flag(flag)
            if flag:
                flags.add(flag)
    return (b"" if end < 0 else body[end:]), flags


class ScriptEngine:
    """One Lua VM per server: the EVAL script cache, the FUNCTION libraries and the
    state of the script or function currently running."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.scripts: dict[bytes, Script] = {}
        self.client = server.new_client()  # runs redis.call; never listed by CLIENT LIST
        self.client.in_script = True
        self.client.deny_blocking = True
        self.caller: "Client | None" = None
        self.read_only = False
        self.script_resp = 2
        self.started = 0.0
        self.busy = False
        self.kill_requested = False
        self.wrote = False
        self.running_name = b""
        self.running_command: list[bytes] = []
        self.running_function = False
        self.compat_mode = False  # an EVAL script without a shebang is running
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}
        self.json_null: Any = None
        self._rand = _seed(0)  # one generator for the server's life, as Redis's
        self.where: Any = None  # set by the prelude: luaL_where for Python functions
        self.load_deadline = 0.0  # FUNCTION LOAD: when the library's code is stopped
        self._new_vm()

    # --- the VM --------------------------------------------------------------------------

    def _new_vm(self) -> None:
        self.lua = lupa.LuaRuntime(
            encoding=None, unpack_returned_tuples=True, register_eval=False,
            register_builtins=False, attribute_filter=self._no_attributes,
            max_memory=LUA_MAX_MEMORY,
        )
        helpers = self._helpers()
        table = self.lua.table_from({k.encode(): v for k, v in helpers.items()})
        messages = self.lua.table_from({k.encode(): v.encode()
                                        for k, v in errors.LUA_MESSAGES.items()})
        self.api = api = self.lua.execute(_PRELUDE, table, messages)
        # Looked up once: indexing a Lua table from Python costs a round trip.
        self._env, self._handler, self._hook = api[b"env"], api[b"handler"], api[b"hook"]
        self._xpcall, self._sethook, self._rawset = api[b"xpcall"], api[b"sethook"], api[b"rawset"]
        self._prepare_call, self._invoke = api[b"prepare_call"], api[b"invoke"]
        self._classify, self._error_info = api[b"classify"], api[b"error_info"]
        self._collect = api[b"collect"]

    def _helpers(self) -> dict[str, Callable[..., Any]]:
        h: dict[str, Callable[..., Any]] = {
            "call": self.redis_call, "pcall": self.redis_pcall,
            "sha1hex": self.sha1hex, "log": self.log, "setresp": self.setresp,
            "set_repl": self.set_repl, "acl_check": self.acl_check,
            "error_table": self.error_table, "busy": self.hook,
            "set_json_null": self.set_json_null, "set_where": self.set_where,
            "unwrap": _unwrap, "load_expired": self.load_expired,
            "known_flag": lambda flag: isinstance(flag, bytes) and flag in _SHEBANG_FLAGS,
        }
        libfuncs = libs.functions(self)
        libfuncs["random"] = self.random
        libfuncs["randomseed"] = self.randomseed
        h.update({name: self._raising(fn) for name, fn in libfuncs.items()})
        return h

    def _raising(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A library function answering (ok, values...) as one that raises like
        luaL_error: the message prefixed with the calling Lua line."""
        def call(*args: Any) -> Any:
            result = fn(*args)
            if not result[0]:
                raise LuaRaise(self.where() + result[1])
            return result[1:]
        return call

    def flush(self) -> None:
        """SCRIPT FLUSH: forget every script (FUNCTION libraries stay)."""
        self.scripts.clear()

    def compile(self, body: bytes) -> Script:
        """Compile (or find) an EVAL script; errors are Redis's."""
        sha = sha1hex(body)
        script = self.scripts.get(sha)
        if script is not None:
            return script
        source, flags = parse_shebang(body)
        fn = self.load_chunk(source)
        script = Script(sha, fn, flags is not None and b"no-writes" in flags, flags is not None,
                        flags is not None and b"allow-oom" in flags)
        self.scripts[sha] = script
        return script

    def load_chunk(self, source: bytes) -> Any:
        fn, message = self.api[b"compile"](source)
        if fn is None:
            raise errors.script_compile_error(message)
        return fn

    # --- running ---------------------------------------------------------------------------

    def run_script(self, caller: "Client", script: Script, keys: list[bytes],
                   args: list[bytes], read_only: bool, command: list[bytes]) -> Any:
        """EVAL: KEYS/ARGV become globals of the script's sandbox."""
        self._rawset(self._env, b"KEYS", self.lua.table_from(keys))
        self._rawset(self._env, b"ARGV", self.lua.table_from(args))
        self.compat_mode = not script.shebang
        return self._run(caller, script.fn, script.sha, read_only, command, is_function=False)

    def run_function(self, caller: "Client", function: "Function", keys: list[bytes],
                     args: list[bytes], read_only: bool, command: list[bytes]) -> Any:
        """FCALL: the callback gets the keys and args tables as its arguments."""
        self._prepare_call(function.callback, self.lua.table_from(keys),
                           self.lua.table_from(args))
        self.compat_mode = False
        return self._run(caller, self._invoke, function.name, read_only, command,
                         is_function=True)

    def _run(self, caller: "Client", fn: Any, name: bytes, read_only: bool,
             command: list[bytes], is_function: bool) -> Any:
        server = self.server
        client = self.client
        client.db = caller.db
        client.resp = 2
        client.authenticated = True
        self.caller = caller
        self.read_only = read_only
        self.script_resp = 2
        self.started = time.monotonic()
        self.busy = self.kill_requested = self.wrote = False
        self.running_name = name
        self.running_command = command
        self.running_function = is_function
        frozen = server.clock.frozen
        if frozen is None:
            server.clock.frozen = server.clock.ms()
        self._sethook(self._hook, b"", 100000)
        try:
            # xpcall answers (ok, first result, more results...) or just ok.
            outcome = self._xpcall(fn, self._handler)
            ok, result = (outcome[0], outcome[1]) if type(outcome) is tuple else (outcome, None)
        finally:
            self._sethook()
            server.clock.frozen = frozen
            self.caller = None
            self.busy = False
        if self.lua.get_memory_used() > LUA_MAX_MEMORY // 2 or (
                not ok and result == errors.LUA_OUT_OF_MEMORY):
            # Lua 5.1 fails an allocation without first collecting: garbage a script left
            # must not make the next one run out of memory.
            self._collect()
        if not ok:
            return self.error_reply(result, name)
        return self.to_reply(result, caller.resp)

    def load_library(self, code: bytes, replace: bool, timed: bool = True) -> bytes:
        """FUNCTION LOAD: compile and run the library, then swap it in atomically.
        ``timed``: stop load-time code after LOAD_TIMEOUT_MS (Redis skips this for its
        master and AOF replay)."""
        name, body = parse_library_metadata(code)
        if name in self.libraries and not replace:
            raise errors.function_library_exists(name)
        self.join([self.build_library(name, body, code, timed)], replace=True)
        return name

    def build_library(self, name: bytes, body: bytes, code: bytes,
                      timed: bool = True) -> Library:
        """Compile a library and run its registrations (nothing is installed yet)."""
        api = self.api
        chunk = api[b"load_begin"](body)
        if type(chunk) is tuple:
            raise errors.function_compile_error(chunk[1])
        # Driven from here, as _run does, so no Lua line of ours runs after the chunk
        # under the every-line hook a timeout leaves behind.
        self.load_deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
        if timed:
            self._sethook(api[b"load_hook"], b"", 100000)
        try:
            outcome = self._xpcall(chunk, self._handler)
        finally:
            self._sethook()
            registrations = api[b"load_done"]()
        ok, err = (outcome[0], outcome[1]) if type(outcome) is tuple else (outcome, None)
        if not ok:
            if err == errors.LUA_OUT_OF_MEMORY:
                self._collect()
            if lupa.lua_type(err) == "table":
                message = self._error_info(err)[0] or b""
            else:
                message = err if isinstance(err, bytes) else repr(err).encode()
            raise errors.function_register_error(message)
        functions: dict[bytes, Function] = {}
        for entry in registrations.values():
            flags = [bytes(f) for f in entry[b"flags"].values()]
            functions[entry[b"name"]] = Function(entry[b"name"], entry[b"callback"], flags,
                                                 entry[b"description"], name)
        if not functions:
            raise errors.FUNCTION_NONE_REGISTERED
        return Library(name, code, functions)

    def join(self, libraries: list[Library], replace: bool) -> None:
        """Install libraries (Redis's libraryJoin): all of them or, on a name clash,
        none.  With ``replace`` a library of the same name gives way."""
        incoming = {lib.name for lib in libraries}
        for lib in libraries:
            if lib.name in self.libraries and not replace:
                raise errors.function_library_exists_plain(lib.name)
            for fname in lib.functions:
                owner = self.functions.get(fname)
                if owner is not None and owner.library not in incoming:
                    raise errors.function_exists(fname)
        for lib in libraries:
            if lib.name in self.libraries:
                self.delete_library(lib.name)
            self.libraries[lib.name] = lib
            self.functions.update(lib.functions)

    def dump_functions(self) -> bytes:
        """FUNCTION DUMP: every library as an RDB function entry, then the RDB version
        and a CRC-64, as Redis's DUMP payloads."""
        payload = b"".join(bytes((rdb.OP_FUNCTION2,)) + rdb._str(lib.code)
                           for lib in self.libraries.values())
        payload += RDB_VERSION.to_bytes(2, "little")
        return payload + rdb.crc64(0, payload).to_bytes(8, "little")

    def restore_functions(self, payload: bytes, policy: bytes) -> None:
        """FUNCTION RESTORE with the FLUSH, APPEND or REPLACE policy."""
        if len(payload) < 10 or int.from_bytes(payload[-10:-8], "little") > RDB_VERSION \
                or rdb.crc64(0, payload[:-8]) != int.from_bytes(payload[-8:], "little"):
            raise errors.FUNCTION_BAD_PAYLOAD
        reader = rdb.RdbReader(payload[:-10])
        libraries: dict[bytes, Library] = {}
        try:
            while reader.pos < len(reader.data):
                if reader.byte() != rdb.OP_FUNCTION2:
                    raise errors.FUNCTION_PAYLOAD_NOT_FUNCTION
                code = reader.string()
                name, body = parse_library_metadata(code)
                if name in libraries:
                    raise errors.function_library_exists(name)
                libraries[name] = self.build_library(name, body, code)
        except rdb.RdbError:
            raise errors.FUNCTION_PAYLOAD_UNREADABLE from None
        seen: set[bytes] = set()
        for lib in libraries.values():
            for fname in lib.functions:
                if fname in seen:
                    raise errors.function_exists(fname)
                seen.add(fname)
        if policy == b"flush":
            self.flush_functions()
        self.join(list(libraries.values()), replace=policy == b"replace")

    def delete_library(self, name: bytes) -> None:
        library = self.libraries.pop(name, None)
        if library is None:
            raise errors.FUNCTION_LIBRARY_NOT_FOUND
        for fname in library.functions:
            del self.functions[fname]

    def flush_functions(self) -> None:
        self.libraries.clear()
        self.functions.clear()

    def busy_error(self) -> ReplyError:
        return errors.busy_function() if self.running_function else errors.busy_script()

    def kill(self, is_function: bool) -> None:
        """SCRIPT KILL / FUNCTION KILL, with Redis's refusals."""
        if not self.busy:
            raise errors.NOTBUSY
        if self.wrote:
            raise errors.UNKILLABLE
        if is_function != self.running_function:
            raise self.busy_error()
        self.kill_requested = True

    def load_expired(self) -> bool:
        return time.monotonic() > self.load_deadline

    def error_reply(self, err: Any, name: bytes) -> ReplyError:
        """A failed script's reply (luaCallFunction): an error table gives its message
        and where it was raised; anything else (out of memory, an error inside the error
        handler) is reported as a run failure."""
        if lupa.lua_type(err) != "table":
            if isinstance(err, (int, float)) and not isinstance(err, bool):
                err = b"%.14g" % err
            return errors.script_run_failure(
                name, err if isinstance(err, bytes) else b"execution failure")
        line, source, where, ignore_stats = self._error_info(err)
        if line is None:  # Redis would crash on such an error table
            return errors.script_run_failure(name, b"execution failure")
        if source is not None and where is not None:
            line += b" script: %s, on %s:%s." % (name, source, where)
        return _error_reply(line, ignore_stats)

    def hook(self) -> bool:
        """Called every 100k Lua instructions: True aborts the script (SCRIPT KILL).
        Past lua-time-limit the script is "busy": other clients are served from here,
        getting -BUSY for everything but the allow_busy commands (SCRIPT KILL,
        SHUTDOWN NOSAVE, ...), as Redis does from its own Lua hook."""
        if not self.busy:
            limit = self.server.config.lua_time_limit
            if limit <= 0 or (time.monotonic() - self.started) * 1000 < limit:
                return False
            self.busy = True
            log.warning("Slow script detected: still in execution after %d milliseconds. "
                        "You can try killing the script using the SCRIPT KILL command.",
                        limit)
        self._serve_while_busy()
        return self.kill_requested

    def _serve_while_busy(self) -> None:
        """Read what other clients sent (straight from their sockets: the event loop is
        stuck in this script) and answer it now."""
        clients = [c for c in self.server.clients.values()
                   if c is not self.caller and c.fd >= 0 and c.transport is not None
                   and c.blocked is None and not c.pending and not c.closed]
        if not clients:
            return
        poller = select.poll()
        for c in clients:
            poller.register(c.fd, select.POLLIN)
        by_fd = {c.fd: c for c in clients}
        for fd, _ in poller.poll(0):
            client = by_fd[fd]
            try:
                data = os.read(fd, 65536)
            except OSError:
                continue
            if not data:
                continue  # the loop sees the EOF itself once the script is over
            requests, _ = client.reader.feed(data)
            for argv in requests:
                try:
                    cmd = resolve(argv)
                    name = cmd.name
                    allowed = "allow_busy" in cmd.flags and not (
                        name == "shutdown" and b"nosave" not in
                        [a.lower() for a in argv[1:]])
                except ReplyError:
                    name, allowed = "", True  # dispatch answers the lookup/arity error
                if allowed:
                    reply = execute(client, argv)
                    if name == "shutdown":
                        self.kill_requested = True  # the server goes once the script stops
                else:
                    reply = self._reject_busy(client, name)
                if reply is not NO_REPLY:
                    client.transport.write(encode(reply, client.resp))

    def _reject_busy(self, client: "Client", name: str) -> ReplyError:
        """processCommand's rejection: it dooms a transaction, and a rejected EXEC
        discards it with EXECABORT."""
        reply = self.busy_error()
        if client.multi is not None:
            client.multi_error = True
        if name == "exec":
            client.discard_transaction()
            reply = errors.exec_aborted_by(reply)
        self.server.count_error(reply)
        return reply

    # --- redis.* helpers -------------------------------------------------------------------

    def redis_call(self, *args: Any) -> Any:
        """redis.call: the reply as a Lua value; errors are raised as {err=...}."""
        try:
            reply = self._call(args)
        except ReplyError as err:
            raise LuaRaise(self.error_table_from(err.line)) from None
        if type(reply) is ReplyError:
            raise LuaRaise(self.to_lua(reply, self.script_resp))
        return self.to_lua(reply, self.script_resp)

    def redis_pcall(self, *args: Any) -> Any:
        """redis.pcall: errors come back as {err=...} tables."""
        try:
            reply = self._call(args)
        except ReplyError as err:
            return self.error_table_from(err.line)
        return self.to_lua(reply, self.script_resp)

    def _call(self, args: tuple[Any, ...]) -> Any:
        if not args:
            raise errors.SCRIPT_CALL_NO_ARGS
        argv = []
        for arg in args:
            if isinstance(arg, bytes):
                argv.append(arg)
            elif isinstance(arg, (int, float)) and not isinstance(arg, bool):
                argv.append(lua_number_arg(arg))
            else:
                raise errors.SCRIPT_CALL_BAD_ARG
        cmd = COMMANDS.get(argv[0].lower())
        if cmd is not None and cmd.subcommands:
            cmd = cmd.subcommands.get(argv[1].lower()) if len(argv) > 1 else None
            if cmd is None and len(argv) == 1:
                raise errors.SCRIPT_CALL_ARITY
        if cmd is None:
            raise errors.SCRIPT_CALL_UNKNOWN
        arity = cmd.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            raise errors.SCRIPT_CALL_ARITY
        if cmd.noscript:
            raise errors.SCRIPT_CALL_NOSCRIPT
        if self.caller is not None and self.caller.acl_restricted:  # the caller's ACLs
            check_script(self.caller, cmd, argv)
        if cmd.is_write:
            if self.read_only:
                raise errors.SCRIPT_WRITE_IN_READONLY
            # scriptVerifyOOM: flagged scripts were judged before running (allow-oom).
            if cmd.denyoom and self.compat_mode and self.server.memory.script_refuses(
                    self.caller, self.wrote):
                raise errors.OOM
            self.wrote = True
        elif self.read_only and "may_replicate" in cmd.flags:  # Redis counts it as a write
            raise errors.SCRIPT_WRITE_IN_READONLY
        client = self.client
        client.resp = self.script_resp
        return call(client, cmd, argv)

    def error_table(self, message: bytes) -> Any:
        """redis.error_reply: '-CODE msg' keeps its code, a bare message gets ERR."""
        return self.error_table_from(message if message.startswith(b"-") else b"-" + message,
                                     keep_dash=True)

    def error_table_from(self, line: bytes, keep_dash: bool = False) -> Any:
        """luaPushErrorBuff: an error line as the {err=...} table scripts see."""
        if keep_dash:
            line = line[1:]
            code, sep, msg = line.partition(b" ")
            line = code + b" " + msg if sep else b"ERR " + code
        return self.lua.table_from({b"err": line.rstrip(b"\r\n")})

    def raise_error(self, err: ReplyError) -> NoReturn:
        """luaPushError + lua_error: an {err=...} table the error handler locates."""
        raise LuaRaise(self.error_table_from(err.line))

    def sha1hex(self, *args: Any) -> bytes:
        if len(args) != 1:
            self.raise_error(errors.SCRIPT_SHA1HEX_ARGS)
        value = args[0]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = b"%.14g" % value
        return sha1hex(value if isinstance(value, bytes) else b"")

    def log(self, *args: Any) -> None:
        if len(args) < 2:
            self.raise_error(errors.SCRIPT_LOG_ARGS)
        level = args[0]
        if isinstance(level, bool) or not isinstance(level, (int, float)):
            self.raise_error(errors.SCRIPT_LOG_LEVEL_TYPE)
        if not 0 <= level <= 3:
            self.raise_error(errors.SCRIPT_LOG_LEVEL)
        parts = [a if isinstance(a, bytes) else b"%.14g" % a for a in args[1:]
                 if isinstance(a, (bytes, int, float)) and not isinstance(a, bool)]
        levels = (logging.DEBUG, logging.DEBUG, logging.INFO, logging.WARNING)
        log.log(levels[int(level)], "%s", b" ".join(parts).decode("utf-8", "replace"))

    def setresp(self, *args: Any) -> None:
        if len(args) != 1:
            self.raise_error(errors.SCRIPT_SETRESP_ARGS)
        if args[0] not in (2, 3) or isinstance(args[0], bool):
            self.raise_error(errors.SCRIPT_SETRESP_VERSION)
        self.script_resp = int(args[0])

    def set_repl(self, *args: Any) -> None:
        if len(args) != 1:
            self.raise_error(errors.SCRIPT_SET_REPL_ARGS)
        flags = args[0]
        if isinstance(flags, bool) or not isinstance(flags, (int, float)) or \
                not 0 <= flags <= 3:
            self.raise_error(errors.SCRIPT_SET_REPL_FLAGS)

    def acl_check(self, *args: Any) -> bool:
        if not args:
            self.raise_error(errors.SCRIPT_CALL_NO_ARGS)
        name = args[0]
        if not isinstance(name, bytes) or COMMANDS.get(name.lower()) is None:
            self.raise_error(errors.SCRIPT_ACL_UNKNOWN)
        return True

    def set_json_null(self, null: Any) -> None:
        self.json_null = null

    def set_where(self, fn: Any) -> None:
        self.where = fn

    def _no_attributes(self, obj: Any, name: Any, is_setting: bool) -> Any:
        """lupa's attribute filter: a script indexing a library function (a Python
        callable to lupa) gets Lua's error for indexing a function, never the object."""
        raise LuaRaise(self.where() + errors.LUA_INDEX_FUNCTION)

    def random(self, *bounds: Any) -> tuple[Any, ...]:
        """Redis's math.random: rand48 scaled to [0,1), then Lua 5.1's bounds rules."""
        self._rand = (0x5DEECE66D * self._rand + 0xB) & ((1 << 48) - 1)
        r = ((self._rand >> 17) % 2147483647) / 2147483647
        if not bounds:
            return True, r
        if len(bounds) == 1:
            upper = int(math.floor(bounds[0]))
            if upper < 1:
                return False, b"bad argument #1 to 'random' (interval is empty)"
            return True, math.floor(r * upper) + 1
        if len(bounds) == 2:
            low, upper = int(math.floor(bounds[0])), int(math.floor(bounds[1]))
            if low > upper:
                return False, b"bad argument #2 to 'random' (interval is empty)"
            return True, math.floor(r * (upper - low + 1)) + low
        return False, b"wrong number of arguments"

    def randomseed(self, *args: Any) -> tuple[Any, ...]:
        seed = args[0] if args else None
        if isinstance(seed, bool) or not isinstance(seed, (int, float)):
            return False, b"bad argument #1 to 'randomseed' (number expected, got %s)" % (
                b"no value" if not args else b"nil")
        self._rand = _seed(int(seed))
        return (True,)

    # --- conversions -----------------------------------------------------------------------

    def to_lua(self, value: Any, resp: int) -> Any:
        """A command's reply value as the Lua value a script receives."""
        t = type(value)
        if t is bytes or t is int:
            return value
        if value is None:
            return None if resp == 3 else False
        if t is list or t is tuple or t is Push:
            return self._lua_array([self.to_lua(v, resp) for v in value])
        if t is Status:
            return self.lua.table_from({b"ok": bytes(value)})
        if t is ReplyError:
            # The failing command already counted this error in INFO errorstats: the
            # flag keeps the script's reply, if it passes the error on, from counting
            # it again (Redis's ignore_error_stats_update).
            table = self.error_table_from(value.line)
            table[b"ignore_error_stats_update"] = True
            return table
        if value is NULL_ARRAY:
            return None if resp == 3 else False
        if t is bool:
            return value if resp == 3 else int(value)
        if resp == 3:
            return self._to_lua_resp3(value)
        if t is Map:
            flat = []
            for k, v in value.items():
                flat += [self.to_lua(k, resp), self.to_lua(v, resp)]
            return self._lua_array(flat)
        if t is AttrSet:
            return self._lua_array([self.to_lua(v, resp) for v in value])
        return self._from_wire(encode(value, resp), resp)

    def _to_lua_resp3(self, value: Any) -> Any:
        t = type(value)
        if t is float:
            return self.lua.table_from({b"double": value})
        if t is Map:
            inner = self.lua.table()
            for k, v in value.items():
                inner[self.to_lua(k, 3)] = self.to_lua(v, 3)
            return self.lua.table_from({b"map": inner})
        if t is AttrSet:
            inner = self.lua.table()
            for v in value:
                inner[self.to_lua(v, 3)] = True
            return self.lua.table_from({b"set": inner})
        if t is Verbatim:
            inner = self.lua.table_from({b"format": b"txt", b"string": bytes(value)})
            return self.lua.table_from({b"verbatim_string": inner})
        if t is libs.BigNumber:
            return self.lua.table_from({b"big_number": bytes(value)})
        return self._from_wire(encode(value, 3), 3)

    def _lua_array(self, items: list[Any]) -> Any:
        table = self.lua.table()
        for i, item in enumerate(items, 1):
            if item is not None:
                table[i] = item
        return table

    def _from_wire(self, data: bytes, resp: int) -> Any:
        """Replies built as raw RESP (Raw, special types): parse them back."""
        value, _ = libs.parse_reply(data, 0)
        return self.to_lua(value, resp)

    def to_reply(self, value: Any, caller_resp: int) -> Any:
        """The script's result as a reply value (luaReplyToRedisReply)."""
        t = type(value)
        if t is bytes or t is int or t is float or t is bool or value is None:
            return self._scalar_reply(value)
        if lupa.lua_type(value) == "table":
            return self._tree_reply(value, caller_resp)
        return None  # functions, userdata

    def _scalar_reply(self, value: Any) -> Any:
        t = type(value)
        if t is bytes:
            return value
        if t is int or t is float:
            return lua_to_int(value)
        if t is bool:
            if self.script_resp == 3:
                return value
            return 1 if value else None
        return None  # nil, functions, userdata

    def _tree_reply(self, root: Any, caller_resp: int) -> Any:
        """A table result, walked without recursion: a self-referencing table nests as
        deep as Redis's (which stops on its Lua stack: each level holds a few stack
        slots) and ends in -ERR reached lua stack limit."""
        top: list[Any] = []
        # Pending containers: (items still to convert as (value, stack depth), the list
        # collecting their replies, a builder for the finished container, where it goes).
        pending: list[tuple[Any, list[Any], Any, list[Any], int]] = []
        items: Any = iter(((root, 2),))  # 2: the error handler and the result
        out = top
        deepest = 0
        while True:
            for value, depth in items:
                if depth + 4 > LUA_STACK_LIMIT:
                    out.append(errors.SCRIPT_STACK_LIMIT)
                    continue
                if lupa.lua_type(value) != "table":
                    out.append(self._scalar_reply(value))
                    continue
                kind, *data = self._classify(value)
                if kind == 0:
                    children: Any = _array_items(value, data[0], depth)
                    build: Any = None
                elif kind == 6:
                    children = _map_items(data[0].items(), depth)
                    build = _build_map
                elif kind == 7:
                    children = _set_items(data[0].keys(), depth)
                    build = AttrSet
                else:
                    out.append(_special_reply(kind, data, caller_resp))
                    continue
                out.append(None)  # replaced once the container is complete
                pending.append((items, out, build, [], len(out) - 1))
                items, out = children, pending[-1][3]
                deepest = max(deepest, len(pending))
                break
            else:
                if not pending:
                    # resp.encode recurses per level: very deep replies are encoded here.
                    return top[0] if deepest < _DEEP_REPLY else _encode_deep(top[0], caller_resp)
                items, parent, build, done, slot = pending.pop()
                parent[slot] = done if build is None else build(done)
                out = parent


def _seed(seed: int) -> int:
    return ((seed & 0xFFFFFFFF) << 16) | 0x330E


def _error_reply(line: bytes, ignore_stats: bool) -> Any:
    """The script's error reply; one already counted by the command that failed is sent
    as raw bytes, which dispatch does not count again."""
    line = _clean(line)
    if ignore_stats:
        return Raw(b"-" + line + b"\r\n")
    return ReplyError(line)


def _special_reply(kind: int, data: list[Any], caller_resp: int) -> Any:
    """Error, status, double, big number and verbatim tables (kinds 1-5 of classify)."""
    if kind == 1:
        return _error_reply(data[0], data[1] is True)
    if kind == 2:
        return Status(_clean(data[0]))
    if kind == 3:
        return float(data[0])
    if kind == 4:
        big = _clean(data[0])
        return Raw(b"(" + big + b"\r\n") if caller_resp == 3 else big
    fmt, text = data
    if caller_resp == 3:
        return Raw(b"=%d\r\n%s:%s\r\n" % (len(text) + 4, fmt[:3], text))
    return text


_DEEP_REPLY = 200  # nesting levels from which a script's reply is encoded iteratively


def _encode_deep(value: Any, resp: int) -> Raw:
    """encode() without recursion, for the containers a script's reply is made of."""
    out: list[bytes] = []
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is list or t is tuple:
            out.append(b"*%d\r\n" % len(v))
            stack.extend(reversed(v))
        elif t is Map:
            out.append((b"%%%d\r\n" % len(v)) if resp == 3 else (b"*%d\r\n" % (2 * len(v))))
            stack.extend(reversed([x for pair in v.items() for x in pair]))
        elif t is AttrSet:
            out.append((b"~%d\r\n" if resp == 3 else b"*%d\r\n") % len(v))
            stack.extend(reversed(v))
        else:
            out.append(encode(v, resp))
    return Raw(b"".join(out))


def _array_items(table: Any, n: int, depth: int) -> Any:
    for i in range(1, n + 1):
        yield table[i], depth + 1


def _set_items(keys: Any, depth: int) -> Any:
    for key in keys:
        yield key, depth + 3


def _map_items(pairs: Any, depth: int) -> Any:
    """A map's keys and values in order; a key sits one stack slot above its value."""
    for key, value in pairs:
        yield key, depth + 4
        yield value, depth + 3


def _build_map(flat: list[Any]) -> Map:
    return Map({_hashable(k): v for k, v in zip(flat[::2], flat[1::2])})


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def engine_for(server: "Server") -> ScriptEngine:
    """The server's Lua engine (scripts and function libraries), made on first use."""
    engine = server.scripts
    if engine is None:
        engine = server.scripts = ScriptEngine(server)
    return engine
