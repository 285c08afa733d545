"""Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO, SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP,
FUNCTION LOAD|DELETE|FLUSH|LIST|DUMP|RESTORE|STATS|KILL|HELP and FCALL/FCALL_RO.  The Lua runtime
itself lives in respd.scripting.

A script's writes are propagated as the commands it ran (Redis 7.0 effects replication),
wrapped as one MULTI/EXEC unit by ``propagation_unit``; the EVAL itself never is.
"""

from __future__ import annotations

import time
from typing import Any

from respd import errors, glob, numbers
from respd.client import Client
from respd.command import command, container, help_reply
from respd.commands.transactions import propagation_unit
from respd.resp import OK, AttrSet, Map, Status
from respd.scripting import Library, ScriptEngine, engine_for
from respd.storage.snapshot import FUNCTION_SOURCES

GROUP = "scripting"

# FUNCTION libraries go into AOF rewrites and snapshots by their source code.
FUNCTION_SOURCES.append(lambda server: [lib.code
                                        for lib in engine_for(server).libraries.values()])


def _eval_keys(argv: list[bytes]) -> list[int]:
    """COMMAND GETKEYS for EVAL-like commands: numkeys keys after the numkeys argument."""
    numkeys = numbers.parse_int(argv[2]) if len(argv) > 2 else None
    if numkeys is None or numkeys < 0 or numkeys > len(argv) - 3:
        return []
    return list(range(3, 3 + numkeys))


def _show_to_monitors(client: Client, argv: list[bytes]) -> None:
    """EVAL/FCALL are skip_monitor: Redis shows them before they run, so MONITOR lists
    the script's own commands after it."""
    server = client.server
    if server.monitors and not client.loading:
        server.feed_monitors(client, argv)


def _numkeys(argv: list[bytes], not_integer: errors.ReplyError = errors.NOT_INTEGER) -> int:
    numkeys = numbers.int64(argv[2], not_integer)
    if numkeys > len(argv) - 3:
        raise errors.NUMKEYS_TOO_BIG
    if numkeys < 0:
        raise errors.NUMKEYS_NEGATIVE
    return numkeys


def _eval(client: Client, argv: list[bytes], by_sha: bool, read_only: bool) -> Any:
    """EVAL, EVALSHA and their _RO forms, checked in Redis's order."""
    _show_to_monitors(client, argv)
    engine = engine_for(client.server)
    if by_sha and len(argv[1]) != 40:
        raise errors.NOSCRIPT  # a malformed SHA is refused before numkeys is parsed
    numkeys = _numkeys(argv)
    if by_sha:
        script = engine.scripts.get(argv[1].lower())
        if script is None:
            raise errors.NOSCRIPT
    else:
        script = engine.compile(argv[1])
    if read_only and script.shebang and not script.no_writes:
        raise errors.SCRIPT_RO_WITH_WRITE_FLAG
    with propagation_unit(client):
        return engine.run_script(client, script, argv[3:3 + numkeys], argv[3 + numkeys:],
                                 read_only or script.no_writes, argv)


_EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys"


@command("EVAL", arity=-3, flags=_EVAL_FLAGS, getkeys=_eval_keys, group=GROUP,
         since="2.6.0", summary="Execute a Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="script numkeys [key:key ...] [arg ...]")
def eval_(client: Client, argv: list[bytes]) -> Any:
    return _eval(client, argv, by_sha=False, read_only=False)


@command("EVAL_RO", arity=-3, flags="readonly " + _EVAL_FLAGS, getkeys=_eval_keys,
         group=GROUP, since="7.0.0", summary="Execute a read-only Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="script numkeys [key:key ...] [arg ...]")
def eval_ro(client: Client, argv: list[bytes]) -> Any:
    return _eval(client, argv, by_sha=False, read_only=True)


@command("EVALSHA", arity=-3, flags=_EVAL_FLAGS, getkeys=_eval_keys, group=GROUP,
         since="2.6.0", summary="Execute a Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="sha1 numkeys [key:key ...] [arg ...]")
def evalsha(client: Client, argv: list[bytes]) -> Any:
    return _eval(client, argv, by_sha=True, read_only=False)


@command("EVALSHA_RO", arity=-3, flags="readonly " + _EVAL_FLAGS, getkeys=_eval_keys,
         group=GROUP, since="7.0.0", summary="Execute a read-only Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="sha1 numkeys [key:key ...] [arg ...]")
def evalsha_ro(client: Client, argv: list[bytes]) -> Any:
    return _eval(client, argv, by_sha=True, read_only=True)


# --- SCRIPT ------------------------------------------------------------------------------

container("SCRIPT", group=GROUP, since="2.6.0", summary="A container for Lua scripts management commands")

SCRIPT_HELP = (
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
)


@command("SCRIPT HELP", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands",
         complexity="O(1)")
def script_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("SCRIPT", SCRIPT_HELP)


@command("SCRIPT LOAD", arity=3, flags="noscript stale", group=GROUP, since="2.6.0",
         summary="Load the specified Lua script into the script cache",
         complexity="O(N) with N being the length in bytes of the script body.",
         syntax="script", tips="request_policy:all_nodes response_policy:all_succeeded")
def script_load(client: Client, argv: list[bytes]) -> Any:
    return engine_for(client.server).compile(argv[2]).sha


@command("SCRIPT DEBUG", arity=3, flags="noscript", group=GROUP, since="3.2.0",
         summary="Set the debug mode for executed scripts.", complexity="O(1)",
         syntax="YES | SYNC | NO")
def script_debug(client: Client, argv: list[bytes]) -> Any:
    """NO is what every client already has; the Lua debugger (YES, SYNC) is refused."""
    if client.out or client.deny_blocking:  # replies pending: a pipeline or EXEC
        raise errors.SCRIPT_DEBUG_PIPELINE
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise errors.SCRIPT_DEBUG_UNSUPPORTED
    raise errors.SCRIPT_DEBUG_OPTION


@command("SCRIPT EXISTS", arity=-3, flags="noscript", group=GROUP, since="2.6.0",
         summary="Check existence of scripts in the script cache.",
         complexity="O(N) with N being the number of scripts to check (so checking a "
                    "single script is an O(1) operation).",
         syntax="sha1 [sha1 ...]",
         tips="request_policy:all_shards response_policy:agg_logical_and")
def script_exists(client: Client, argv: list[bytes]) -> Any:
    scripts = engine_for(client.server).scripts
    return [int(sha.lower() in scripts) for sha in argv[2:]]


def _flush_mode(argv: list[bytes], err: errors.ReplyError) -> None:
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise err


@command("SCRIPT FLUSH", arity=-2, flags="noscript", group=GROUP, since="2.6.0",
         summary="Remove all the scripts from the script cache.",
         complexity="O(N) with N being the number of scripts in cache",
         syntax="[ASYNC | SYNC]",
         history=(("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."),),
         tips="request_policy:all_nodes response_policy:all_succeeded")
def script_flush(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv, errors.SCRIPT_FLUSH_OPTION)
    engine_for(client.server).flush()
    return OK


@command("SCRIPT KILL", arity=2, flags="noscript allow_busy", group=GROUP, since="2.6.0",
         summary="Kill the script currently in execution.", complexity="O(1)",
         tips="request_policy:all_shards response_policy:one_succeeded")
def script_kill(client: Client, argv: list[bytes]) -> Any:
    engine_for(client.server).kill(is_function=False)
    return OK


# --- FUNCTION and FCALL -------------------------------------------------------------------

container("FUNCTION", group=GROUP, since="7.0.0", summary="A container for function commands")

FUNCTION_HELP = (
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
)


@command("FUNCTION HELP", arity=2, flags="loading stale", group=GROUP, since="7.0.0",
         summary="Show helpful text about the different subcommands", complexity="O(1)")
def function_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("FUNCTION", FUNCTION_HELP)


@command("FUNCTION LOAD", arity=-3, flags="write denyoom noscript", group=GROUP,
         since="7.0.0", summary="Create a function with the given arguments (name, code, "
         "description)", complexity="O(1) (considering compilation time is redundant)",
         syntax="[REPLACE] function-code",
         tips="request_policy:all_shards response_policy:all_succeeded")
def function_load(client: Client, argv: list[bytes]) -> Any:
    replace = False
    for option in argv[2:-1]:
        if option.lower() != b"replace":
            raise errors.unknown_option_given(option)
        replace = True
    # Load-time code gets 500 ms, except when an AOF is replayed (Redis's mustObeyClient).
    name = engine_for(client.server).load_library(argv[-1], replace, timed=not client.loading)
    client.server.dirty += 1
    return name


@command("FUNCTION DELETE", arity=3, flags="write noscript", group=GROUP, since="7.0.0",
         summary="Delete a function by name", complexity="O(1)", syntax="library-name",
         tips="request_policy:all_shards response_policy:all_succeeded")
def function_delete(client: Client, argv: list[bytes]) -> Any:
    engine_for(client.server).delete_library(argv[2])
    client.server.dirty += 1
    return OK


@command("FUNCTION FLUSH", arity=-2, flags="write noscript", group=GROUP, since="7.0.0",
         summary="Deleting all functions",
         complexity="O(N) where N is the number of functions deleted",
         syntax="[ASYNC | SYNC]",
         tips="request_policy:all_shards response_policy:all_succeeded")
def function_flush(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv, errors.FUNCTION_FLUSH_MODE)
    engine_for(client.server).flush_functions()
    client.server.dirty += 1
    return OK


@command("FUNCTION DUMP", arity=2, flags="noscript", group=GROUP, since="7.0.0",
         summary="Dump all functions into a serialized binary payload",
         complexity="O(N) where N is the number of functions")
def function_dump(client: Client, argv: list[bytes]) -> Any:
    return engine_for(client.server).dump_functions()


@command("FUNCTION RESTORE", arity=-3, flags="write denyoom noscript", group=GROUP,
         since="7.0.0", summary="Restore all the functions on the given payload",
         complexity="O(N) where N is the number of functions on the payload",
         syntax="serialized-value [FLUSH | APPEND | REPLACE]",
         tips="request_policy:all_shards response_policy:all_succeeded")
def function_restore(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 4:
        raise errors.unknown_subcommand_or_arity(argv[1], "FUNCTION")
    policy = argv[3].lower() if len(argv) == 4 else b"append"
    if policy not in (b"flush", b"append", b"replace"):
        raise errors.FUNCTION_RESTORE_POLICY
    engine_for(client.server).restore_functions(argv[2], policy)
    client.server.dirty += 1
    return OK


@command("FUNCTION LIST", arity=-2, flags="noscript", group=GROUP, since="7.0.0",
         summary="List information about all the functions",
         complexity="O(N) where N is the number of functions",
         syntax="[LIBRARYNAME library-name-pattern] [WITHCODE]",
         tips="nondeterministic_output_order")
def function_list(client: Client, argv: list[bytes]) -> Any:
    pattern: bytes | None = None
    with_code = False
    i = 2
    while i < len(argv):
        arg = argv[i].lower()
        if arg == b"withcode" and not with_code:
            with_code = True
        elif arg == b"libraryname" and pattern is None:
            if i + 1 >= len(argv):
                raise errors.FUNCTION_LIST_NO_PATTERN
            i += 1
            pattern = argv[i]
        else:
            raise errors.unknown_argument(argv[i])
        i += 1
    return [_library_entry(lib, with_code)
            for lib in engine_for(client.server).libraries.values()
            if pattern is None or glob.match(pattern, lib.name)]


def _library_entry(library: Library, with_code: bool) -> Map:
    entry = Map({
        b"library_name": library.name,
        b"engine": b"LUA",
        b"functions": [Map({b"name": f.name, b"description": f.description,
                            b"flags": AttrSet(Status(flag) for flag in f.flags)})
                       for f in library.functions.values()],
    })
    if with_code:
        entry[b"library_code"] = library.code
    return entry


@command("FUNCTION STATS", arity=2, flags="noscript allow_busy", group=GROUP, since="7.0.0",
         summary="Return information about the function currently running (name, "
         "description, duration)", complexity="O(1)",
         tips="nondeterministic_output request_policy:all_shards response_policy:special")
def function_stats(client: Client, argv: list[bytes]) -> Any:
    engine = engine_for(client.server)
    running = None
    if engine.busy:
        running = Map({b"name": engine.running_name, b"command": engine.running_command,
                       b"duration_ms": int((time.monotonic() - engine.started) * 1000)})
    lua = Map({b"libraries_count": len(engine.libraries),
               b"functions_count": len(engine.functions)})
    return Map({b"running_script": running, b"engines": Map({b"LUA": lua})})


@command("FUNCTION KILL", arity=2, flags="noscript allow_busy", group=GROUP, since="7.0.0",
         summary="Kill the function currently in execution.", complexity="O(1)",
         tips="request_policy:all_shards response_policy:one_succeeded")
def function_kill(client: Client, argv: list[bytes]) -> Any:
    engine_for(client.server).kill(is_function=True)
    return OK


def _fcall(client: Client, argv: list[bytes], read_only: bool) -> Any:
    _show_to_monitors(client, argv)
    engine = engine_for(client.server)
    function = engine.functions.get(argv[1])
    if function is None:
        raise errors.FUNCTION_NOT_FOUND
    numkeys = _numkeys(argv, errors.FUNCTION_BAD_NUMKEYS)
    no_writes = b"no-writes" in function.flags
    if read_only and not no_writes:
        raise errors.SCRIPT_RO_WITH_WRITE_FLAG
    with propagation_unit(client):
        return engine.run_function(client, function, argv[3:3 + numkeys],
                                   argv[3 + numkeys:], read_only or no_writes, argv)


@command("FCALL", arity=-3, flags=_EVAL_FLAGS, getkeys=_eval_keys, group=GROUP,
         since="7.0.0", summary="Invoke a function",
         complexity="Depends on the function that is executed.",
         syntax="function numkeys [key:key ...] [arg ...]")
def fcall(client: Client, argv: list[bytes]) -> Any:
    return _fcall(client, argv, read_only=False)


@command("FCALL_RO", arity=-3, flags="readonly " + _EVAL_FLAGS, getkeys=_eval_keys,
         group=GROUP, since="7.0.0", summary="Invoke a read-only function",
         complexity="Depends on the function that is executed.",
         syntax="function numkeys [key:key ...] [arg ...]")
def fcall_ro(client: Client, argv: list[bytes]) -> Any:
    return _fcall(client, argv, read_only=True)
