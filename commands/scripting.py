"""Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO, SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP
and FUNCTION FLUSH.  The Lua runtime itself lives in respd.scripting.

A script's writes are propagated as the commands it ran (Redis 7.0 effects replication),
wrapped as one MULTI/EXEC unit by ``propagation_unit``; the EVAL itself never is.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from respd import errors, numbers
from respd.client import Client
from respd.command import command, container, help_reply
from respd.commands.transactions import propagation_unit
from respd.resp import OK
from respd.scripting import Script, ScriptEngine, ScriptError

if TYPE_CHECKING:
    from respd.server import Server

GROUP = "scripting"

_engines: "weakref.WeakKeyDictionary[Server, ScriptEngine]" = weakref.WeakKeyDictionary()


def engine_for(server: "Server") -> ScriptEngine:
    engine = _engines.get(server)
    if engine is None:
        engine = _engines[server] = ScriptEngine(server)
    return engine


def _eval_keys(argv: list[bytes]) -> list[int]:
    """COMMAND GETKEYS for EVAL-like commands: numkeys keys after the numkeys argument."""
    numkeys = numbers.parse_int(argv[2]) if len(argv) > 2 else None
    if numkeys is None or numkeys < 0 or numkeys > len(argv) - 3:
        return []
    return list(range(3, 3 + numkeys))


def _numkeys(argv: list[bytes]) -> int:
    numkeys = numbers.int64(argv[2])
    if numkeys > len(argv) - 3:
        raise errors.NUMKEYS_TOO_BIG
    if numkeys < 0:
        raise errors.NUMKEYS_NEGATIVE
    return numkeys


def _run(client: Client, script: Script, argv: list[bytes], numkeys: int,
         read_only: bool) -> Any:
    if read_only and script.shebang and not script.no_writes:
        raise errors.SCRIPT_RO_WITH_WRITE_FLAG
    engine = engine_for(client.server)
    with propagation_unit(client):
        return engine.run(client, script, argv[3:3 + numkeys], argv[3 + numkeys:],
                          read_only or script.no_writes, script.sha)


def _compiled(client: Client, body: bytes) -> Script:
    try:
        return engine_for(client.server).compile(body)
    except ScriptError as err:
        raise err.err from None


def _check_sha_length(sha: bytes) -> None:
    # Redis refuses a malformed SHA before even parsing numkeys.
    if len(sha) != 40:
        raise errors.NOSCRIPT


def _cached(client: Client, sha: bytes) -> Script:
    script = engine_for(client.server).scripts.get(sha.lower())
    if script is None:
        raise errors.NOSCRIPT
    return script


_EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys"


@command("EVAL", arity=-3, flags=_EVAL_FLAGS, getkeys=_eval_keys, group=GROUP,
         since="2.6.0", summary="Execute a Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="script numkeys [key:key ...] [arg ...]")
def eval_(client: Client, argv: list[bytes]) -> Any:
    numkeys = _numkeys(argv)
    return _run(client, _compiled(client, argv[1]), argv, numkeys, read_only=False)


@command("EVAL_RO", arity=-3, flags="readonly " + _EVAL_FLAGS, getkeys=_eval_keys,
         group=GROUP, since="7.0.0", summary="Execute a read-only Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="script numkeys [key:key ...] [arg ...]")
def eval_ro(client: Client, argv: list[bytes]) -> Any:
    numkeys = _numkeys(argv)
    return _run(client, _compiled(client, argv[1]), argv, numkeys, read_only=True)


@command("EVALSHA", arity=-3, flags=_EVAL_FLAGS, getkeys=_eval_keys, group=GROUP,
         since="2.6.0", summary="Execute a Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="sha1 numkeys [key:key ...] [arg ...]")
def evalsha(client: Client, argv: list[bytes]) -> Any:
    _check_sha_length(argv[1])
    numkeys = _numkeys(argv)
    return _run(client, _cached(client, argv[1]), argv, numkeys, read_only=False)


@command("EVALSHA_RO", arity=-3, flags="readonly " + _EVAL_FLAGS, getkeys=_eval_keys,
         group=GROUP, since="7.0.0", summary="Execute a read-only Lua script server side",
         complexity="Depends on the script that is executed.",
         syntax="sha1 numkeys [key:key ...] [arg ...]")
def evalsha_ro(client: Client, argv: list[bytes]) -> Any:
    _check_sha_length(argv[1])
    numkeys = _numkeys(argv)
    return _run(client, _cached(client, argv[1]), argv, numkeys, read_only=True)


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
    return _compiled(client, argv[2]).sha


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
    engine = engine_for(client.server)
    if not engine.busy:
        raise errors.NOTBUSY
    if engine.wrote:
        raise errors.UNKILLABLE
    engine.kill_requested = True
    return OK


# --- FUNCTION ----------------------------------------------------------------------------

container("FUNCTION", group=GROUP, since="7.0.0", summary="A container for function commands")


@command("FUNCTION FLUSH", arity=-2, flags="write noscript", group=GROUP, since="7.0.0",
         summary="Deleting all functions",
         complexity="O(N) where N is the number of functions deleted",
         syntax="[ASYNC | SYNC]",
         tips="request_policy:all_shards response_policy:all_succeeded")
def function_flush(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv, errors.FUNCTION_FLUSH_MODE)
    client.server.dirty += 1
    return OK
