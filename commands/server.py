"""Server and admin commands: COMMAND, INFO, CONFIG, TIME, MONITOR, SLOWLOG, LATENCY,
DEBUG, SHUTDOWN."""

from __future__ import annotations

import logging
import time
from typing import Any

from respd import errors, info, latency, protected
from respd.client import Client
from respd.command import (
    ACL_ORDER, COMMANDS, Command, command, container, docs_entry, help_reply, info_entry,
    key_access_flags, lookup, lookup_fullname, walk,
)
from respd.glob import match as glob_match
from respd.numbers import parse_int
from respd.resp import NO_REPLY, OK, AttrSet, Map, Raw, Status, Verbatim

log = logging.getLogger("respd")

GROUP = "server"
ADMIN = "admin noscript loading stale"


# --- COMMAND -------------------------------------------------------------------------------

@command("COMMAND", arity=-1, flags="loading stale", group=GROUP, since="2.8.13",
         summary="Get array of Redis command details", complexity="O(N) where N is the "
         "total number of Redis commands", acl="connection",
         tips="nondeterministic_output_order")
def command_(client: Client, argv: list[bytes]) -> Any:
    # Dispatch routes "COMMAND <sub>" to the subcommands declared below.
    return [info_entry(cmd) for cmd in COMMANDS.values()]


def _command_count(client: Client, argv: list[bytes]) -> Any:
    return len(COMMANDS)


def _command_info(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        return command_(client, argv)
    entries = []
    for name in argv[2:]:
        cmd = lookup_fullname(name)
        entries.append(info_entry(cmd) if cmd is not None else None)
    return entries


def _command_docs(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        return Map({cmd.name.encode(): docs_entry(cmd) for cmd in COMMANDS.values()})
    found = Map()
    for name in argv[2:]:
        cmd = lookup_fullname(name)
        if cmd is not None:
            found[cmd.name.encode()] = docs_entry(cmd)
    return found


def _command_list(client: Client, argv: list[bytes]) -> Any:
    names = [cmd.name.encode() for cmd in walk()]
    if len(argv) == 2:
        return names
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise errors.SYNTAX
    kind, arg = argv[3].lower(), argv[4]
    if kind == b"module":
        return []  # no modules
    if kind == b"aclcat":
        category = arg.lower().decode("latin-1")
        if category not in ACL_ORDER:
            return []
        return [cmd.name.encode() for cmd in walk() if category in cmd.acl_categories()]
    if kind == b"pattern":
        return [name for name in names if glob_match(arg, name, nocase=True)]
    raise errors.SYNTAX


def _getkeys_target(argv: list[bytes]) -> tuple[Command, list[bytes]]:
    """The command COMMAND GETKEYS[ANDFLAGS] asks about, checked in Redis's order."""
    target = argv[2:]
    cmd = lookup(target)
    if cmd is None or cmd.handler is None:  # unknown, or a container without a known sub
        raise errors.INVALID_COMMAND_SPECIFIED
    if cmd.first_key <= 0 and cmd.getkeys is None:
        raise errors.COMMAND_HAS_NO_KEYS
    n = len(target)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        raise errors.INVALID_COMMAND_ARGS_NUMBER
    return cmd, target


def _keys_of(cmd: Command, target: list[bytes]) -> list[bytes]:
    keys = [target[i] for i in cmd.key_positions(target) if i < len(target)]
    if not keys and "no_mandatory_keys" not in cmd.flags:
        raise errors.INVALID_COMMAND_ARGS
    return keys


def _command_getkeys(client: Client, argv: list[bytes]) -> Any:
    cmd, target = _getkeys_target(argv)
    return _keys_of(cmd, target)


def _command_getkeysandflags(client: Client, argv: list[bytes]) -> Any:
    cmd, target = _getkeys_target(argv)
    flags = AttrSet(Status(f.encode()) for f in key_access_flags(cmd))
    return [[key, flags] for key in _keys_of(cmd, target)]


COMMAND_HELP = (
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
)


def _command_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("COMMAND", COMMAND_HELP)


def _command_sub(name: str, handler: Any, arity: int, summary: str, since: str = "7.0.0",
                 syntax: str = "", complexity: str = "O(1)", tips: str = "") -> None:
    command(f"COMMAND {name}", arity=arity, flags="loading stale", group=GROUP,
            since=since, summary=summary, syntax=syntax, complexity=complexity,
            acl="connection", tips=tips)(handler)


_command_sub("COUNT", _command_count, 2, "Get total number of Redis commands", "2.8.13")
_command_sub("LIST", _command_list, -2,
             "Get an array of Redis command names", syntax="[FILTERBY (MODULE module-name"
             " | ACLCAT category | PATTERN pattern:pattern)]",
             complexity="O(N) where N is the total number of Redis commands",
             tips="nondeterministic_output_order")
_command_sub("INFO", _command_info, -2, "Get array of specific Redis command details, "
             "or all when no argument is given.", "2.8.13", "[command-name ...]",
             "O(N) where N is the number of commands to look up",
             "nondeterministic_output_order")
_command_sub("DOCS", _command_docs, -2, "Get array of specific Redis command "
             "documentation", syntax="[command-name ...]",
             complexity="O(N) where N is the number of commands to look up",
             tips="nondeterministic_output_order")
_command_sub("GETKEYS", _command_getkeys, -4,
             "Extract keys given a full Redis command", "2.8.13", "command arg ...",
             "O(N) where N is the number of arguments to the command")
_command_sub("GETKEYSANDFLAGS", _command_getkeysandflags, -4,
             "Extract keys and access flags given a full Redis command",
             syntax="command arg ...",
             complexity="O(N) where N is the number of arguments to the command")
_command_sub("HELP", _command_help, 2,
             "Show helpful text about the different subcommands", "5.0.0")


# --- INFO ----------------------------------------------------------------------------------

@command("INFO", arity=-1, flags="loading stale", group=GROUP, since="1.0.0",
         summary="Get information and statistics about the server",
         complexity="O(1)", syntax="[section ...]", acl="dangerous",
         tips="nondeterministic_output request_policy:all_shards response_policy:special")
def info_(client: Client, argv: list[bytes]) -> Any:
    return Verbatim(info.render(client.server, argv[1:]))


# --- CONFIG --------------------------------------------------------------------------------

container("CONFIG", group=GROUP, since="2.0.0",
          summary="A container for server configuration commands")


@command("CONFIG GET", arity=-3, flags=ADMIN, group=GROUP, since="2.0.0",
         summary="Get the values of configuration parameters",
         complexity="O(N) when N is the number of configuration parameters provided",
         syntax="parameter [parameter ...]",
         history=(("7.0.0", "Added the ability to pass multiple pattern parameters "
                   "in one call"),))
def config_get(client: Client, argv: list[bytes]) -> Any:
    reply: list[bytes] = []
    for name, value in client.server.config.get_many(argv[2:]):
        reply += (name, value)
    return Map(zip(reply[::2], reply[1::2])) if client.resp == 3 else reply


@command("CONFIG SET", arity=-4, flags=ADMIN, group=GROUP, since="2.0.0",
         summary="Set configuration parameters to the given values",
         complexity="O(N) when N is the number of configuration parameters provided",
         syntax="parameter value [parameter value ...]",
         tips="request_policy:all_nodes response_policy:all_succeeded",
         history=(("7.0.0", "Added the ability to set multiple parameters in one call."),))
def config_set(client: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2:
        raise errors.SYNTAX
    pairs = [(argv[i], argv[i + 1]) for i in range(2, len(argv), 2)]
    config = client.server.config
    config.set_many(pairs, client.server,
                    protected.allows(config.enable_protected_configs, client))
    return OK


@command("CONFIG RESETSTAT", arity=2, flags=ADMIN, group=GROUP, since="2.0.0",
         summary="Reset the stats returned by INFO")
def config_resetstat(client: Client, argv: list[bytes]) -> Any:
    client.server.reset_stats()  # counters, commandstats, errorstats; not the slowlog
    return OK


@command("CONFIG REWRITE", arity=2, flags=ADMIN, group=GROUP, since="2.8.0",
         summary="Rewrite the configuration file with the in memory configuration")
def config_rewrite(client: Client, argv: list[bytes]) -> Any:
    client.server.config.rewrite()
    return OK


CONFIG_HELP = (
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
)


@command("CONFIG HELP", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands")
def config_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("CONFIG", CONFIG_HELP)


# --- TIME, MONITOR ---------------------------------------------------------------

@command("TIME", arity=1, flags="loading stale fast", group=GROUP, since="2.6.0",
         summary="Return the current server time", tips="nondeterministic_output")
def time_(client: Client, argv: list[bytes]) -> Any:
    now_us = time.time_ns() // 1000
    return [b"%d" % (now_us // 1_000_000), b"%d" % (now_us % 1_000_000)]


@command("MONITOR", arity=1, flags=ADMIN, group=GROUP, since="1.0.0",
         summary="Listen for all requests received by the server in real time",
         complexity="")
def monitor(client: Client, argv: list[bytes]) -> Any:
    if client.deny_blocking:  # inside MULTI: it expects one reply per command
        raise errors.MONITOR_DENY_BLOCKING
    client.is_monitor = True
    client.server.monitors[client] = None
    return OK


# --- SLOWLOG -------------------------------------------------------------------------------

container("SLOWLOG", group=GROUP, since="2.2.12",
          summary="A container for slow log commands")
SLOWLOG_FLAGS = "admin loading stale"


@command("SLOWLOG GET", arity=-2, flags=SLOWLOG_FLAGS, group=GROUP, since="2.2.12",
         summary="Get the slow log's entries", syntax="[count:integer]",
         complexity="O(N) where N is the number of entries returned",
         tips="request_policy:all_nodes nondeterministic_output")
def slowlog_get(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise errors.unknown_subcommand_or_arity(argv[1], "SLOWLOG")
    count = 10
    if len(argv) == 3:
        count = parse_int(argv[2])
        if count is None or count < -1:
            raise errors.SLOWLOG_COUNT
    entries = client.server.slowlog if count == -1 else client.server.slowlog[:count]
    return [[ident, when, usec, list(args), addr, name]
            for ident, when, usec, args, addr, name in entries]


@command("SLOWLOG LEN", arity=2, flags=SLOWLOG_FLAGS, group=GROUP, since="2.2.12",
         summary="Get the slow log's length", tips="request_policy:all_nodes "
         "response_policy:agg_sum nondeterministic_output")
def slowlog_len(client: Client, argv: list[bytes]) -> Any:
    return len(client.server.slowlog)


@command("SLOWLOG RESET", arity=2, flags=SLOWLOG_FLAGS, group=GROUP, since="2.2.12",
         summary="Clear all entries from the slow log", complexity="O(N) where N is the "
         "number of entries in the slowlog",
         tips="request_policy:all_nodes response_policy:all_succeeded")
def slowlog_reset(client: Client, argv: list[bytes]) -> Any:
    client.server.slowlog.clear()
    return OK


SLOWLOG_HELP = (
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
)


@command("SLOWLOG HELP", arity=2, flags="loading stale", group=GROUP, since="6.2.0",
         summary="Show helpful text about the different subcommands")
def slowlog_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("SLOWLOG", SLOWLOG_HELP)


# --- LATENCY (events: respd.latency, recorded by dispatch.call) ----------------------------

container("LATENCY", group=GROUP, since="2.8.13",
          summary="A container for latency diagnostics commands")
LATENCY_TIPS = "nondeterministic_output request_policy:all_nodes response_policy:special"
LATENCY_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
    "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
    "order to enable it. If we weren't in a deep space mission I'd suggest to take a "
    "look at https://redis.io/topics/latency-monitor.\n"
)
LATENCY_NOTHING = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, "
    "not in the slightest bit. I honestly think you ought to sleep better tonight.\n"
)


@command("LATENCY LATEST", arity=2, flags=ADMIN, group=GROUP, since="2.8.13",
         summary="Return the latest latency samples for all events.", tips=LATENCY_TIPS)
def latency_latest(client: Client, argv: list[bytes]) -> Any:
    return [[name, e.samples[-1][0], e.samples[-1][1], e.max_ms]
            for name, e in client.server.latency_events.items()]


@command("LATENCY HISTORY", arity=3, flags=ADMIN, group=GROUP, since="2.8.13",
         summary="Return timestamp-latency samples for the event.", syntax="event",
         tips=LATENCY_TIPS)
def latency_history(client: Client, argv: list[bytes]) -> Any:
    event = client.server.latency_events.get(argv[2])
    return [list(sample) for sample in event.samples] if event is not None else []


@command("LATENCY RESET", arity=-2, flags=ADMIN, group=GROUP, since="2.8.13",
         summary="Reset latency data for one or more events.", syntax="[event ...]",
         tips="request_policy:all_nodes response_policy:all_succeeded")
def latency_reset(client: Client, argv: list[bytes]) -> Any:
    events = client.server.latency_events
    if len(argv) == 2:
        count = len(events)
        events.clear()
        return count
    return sum(events.pop(name, None) is not None for name in dict.fromkeys(argv[2:]))


@command("LATENCY HISTOGRAM", arity=-2, flags=ADMIN, group=GROUP, since="7.0.0",
         summary="Return the cumulative distribution of latencies of a subset of commands "
                 "or all.",
         complexity="O(N) where N is the number of commands with latency information being "
                    "retrieved.",
         syntax="[command ...]", tips=LATENCY_TIPS)
def latency_histogram(client: Client, argv: list[bytes]) -> Any:
    """Every command called since the last CONFIG RESETSTAT, or the named ones (a
    container also brings its subcommands; unknown names are skipped)."""
    counts = client.server.latency_hist
    if len(argv) == 2:
        chosen = walk()
    else:
        chosen = []
        for name in argv[2:]:
            cmd = lookup_fullname(name)
            if cmd is not None:
                chosen += [cmd, *cmd.subcommands.values()]
    return Map({cmd.name.encode(): latency.histogram(counts[cmd.stat_index])
                for cmd in chosen if cmd.stat_index >= 0 and any(counts[cmd.stat_index])})


@command("LATENCY GRAPH", arity=3, flags=ADMIN, group=GROUP, since="2.8.13",
         summary="Return a latency graph for the event.", syntax="event",
         tips=LATENCY_TIPS)
def latency_graph(client: Client, argv: list[bytes]) -> Any:
    event = client.server.latency_events.get(argv[2])
    if event is None or not event.samples:
        raise errors.no_latency_samples(argv[2])
    return Verbatim(latency.graph(argv[2], event))


@command("LATENCY DOCTOR", arity=2, flags=ADMIN, group=GROUP, since="2.8.13",
         summary="Return a human readable latency analysis report.", tips=LATENCY_TIPS)
def latency_doctor(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if not server.config.latency_monitor_threshold:
        return Verbatim(LATENCY_DISABLED.encode())
    if not server.latency_events:
        return Verbatim(LATENCY_NOTHING.encode())
    return Verbatim(latency.doctor(server.latency_events,
                                   server.config.latency_monitor_threshold))


LATENCY_HELP = (
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for "
    "the specified command names.",
    "    If no commands are specified then all histograms are replied.",
)


@command("LATENCY HELP", arity=2, flags="loading stale", group=GROUP, since="2.8.13",
         summary="Show helpful text about the different subcommands.")
def latency_help(client: Client, argv: list[bytes]) -> Any:
    return help_reply("LATENCY", LATENCY_HELP)


# --- DEBUG (the subset test harnesses use) -------------------------------------------------

def _debug_sleep(client: Client, argv: list[bytes]) -> Any:
    # Redis's DEBUG SLEEP stalls the whole server; so does this.
    time.sleep(max(_atof(argv[2]), 0.0))
    return OK


def _debug_log(client: Client, argv: list[bytes]) -> Any:
    log.warning("DEBUG LOG: %s", argv[2].decode("latin-1"))
    return OK


def _debug_set_active_expire(client: Client, argv: list[bytes]) -> Any:
    client.server.active_expire_enabled = _atoi(argv[2]) != 0
    return OK


def _debug_reload(client: Client, argv: list[bytes]) -> Any:
    # Save-and-reload yields the dataset already in memory: nothing to do.
    return OK


def _debug_object(client: Client, argv: list[bytes]) -> Any:
    from respd.storage.db import ENCODINGS, _string_encoding

    value = client.db.lookup(argv[2])
    if value is None:
        raise errors.NO_SUCH_KEY
    encoding = ENCODINGS.get(type(value), _string_encoding)(value)
    return Status(b"Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:0 "
                  b"lru_seconds_idle:0" % (id(value), encoding, len(repr(value))))


def _debug_change_repl_id(client: Client, argv: list[bytes]) -> Any:
    import os

    client.server.run_id = os.urandom(20).hex()
    return OK


def _debug_populate(client: Client, argv: list[bytes]) -> Any:
    """Create count string keys <prefix>:<n> holding value:<n> (NUL-padded or cut to
    size); existing keys are left alone, nothing is propagated."""
    if len(argv) > 5:
        raise errors.unknown_subcommand_or_arity(argv[1], "DEBUG")
    numbers = [parse_int(argv[2]), parse_int(argv[4]) if len(argv) == 5 else 0]
    if any(n is None or n < 0 for n in numbers):
        raise errors.COUNT_POSITIVE
    count, size = numbers
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = client.db
    for n in range(count):  # type: ignore[arg-type]
        key = b"%s:%d" % (prefix, n)
        if db.lookup(key) is None:
            value = b"value:%d" % n
            db.add(key, value if not size else value[:size].ljust(size, b"\0"))
    return OK


# DEBUG PROTOCOL's sample replies: (RESP2, RESP3) when they differ on the wire.
_PROTOCOL_SAMPLES: dict[bytes, Any] = {
    b"string": b"Hello World",
    b"integer": 12345,
    b"double": (Raw(b"$5\r\n3.141\r\n"), Raw(b",3.141\r\n")),
    b"bignum": (Raw(b"$37\r\n1234567999999999999999999999999999999\r\n"),
                Raw(b"(1234567999999999999999999999999999999\r\n")),
    b"null": None,
    b"array": [0, 1, 2],
    b"set": AttrSet([0, 1, 2]),
    b"map": Map({0: False, 1: True, 2: False}),
    b"attrib": (b"Some real reply following the attribute",
                Raw(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
                    b"$39\r\nSome real reply following the attribute\r\n")),
    b"push": (errors.DEBUG_PUSH_RESP2,
              Raw(b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
                  b"$40\r\nSome real reply following the push reply\r\n")),
    b"verbatim": Verbatim(b"This is a verbatim\nstring"),
    b"true": True,
    b"false": False,
}


def _debug_protocol(client: Client, argv: list[bytes]) -> Any:
    sample = _PROTOCOL_SAMPLES.get(argv[2].lower(), errors.DEBUG_PROTOCOL_TYPE)
    if type(sample) is tuple:
        sample = sample[client.resp == 3]
    if isinstance(sample, errors.ReplyError):
        raise sample
    return sample


# name → (handler, exact argument count or -minimum, help lines)
DEBUG_SUBCOMMANDS: dict[bytes, tuple[Any, int, tuple[str, ...]]] = {
    b"change-repl-id": (_debug_change_repl_id, 2, (
        "CHANGE-REPL-ID", "    Change the replication IDs of the instance.")),
    b"log": (_debug_log, 3, ("LOG <message>", "    Write <message> to the server log.")),
    b"object": (_debug_object, 3, (
        "OBJECT <key>", "    Show low level info about `key` and associated value.")),
    b"populate": (_debug_populate, -3, (
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix.")),
    b"protocol": (_debug_protocol, 3, (
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.")),
    b"reload": (_debug_reload, -2, (
        "RELOAD [option ...]", "    Save the RDB on disk and reload it back to memory.")),
    b"set-active-expire": (_debug_set_active_expire, 3, (
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.")),
    b"sleep": (_debug_sleep, 3, (
        "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.")),
}


@command("DEBUG", arity=-2, flags=ADMIN, group=GROUP, since="1.0.0",
         summary="A container for debugging commands", complexity="Depends on subcommand.")
def debug(client: Client, argv: list[bytes]) -> Any:
    sub = argv[1].lower()
    if sub == b"help" and len(argv) == 2:
        lines = tuple(line for _, _, text in DEBUG_SUBCOMMANDS.values() for line in text)
        return help_reply("DEBUG", lines)
    entry = DEBUG_SUBCOMMANDS.get(sub)
    if entry is None or (len(argv) != entry[1] if entry[1] > 0 else len(argv) < -entry[1]):
        raise errors.unknown_subcommand_or_arity(argv[1], "DEBUG")
    return entry[0](client, argv)


def _atof(raw: bytes) -> float:
    """C atof: the longest numeric prefix, 0 when there is none."""
    for end in range(len(raw), 0, -1):
        try:
            return float(raw[:end])
        except ValueError:
            continue
    return 0.0


def _atoi(raw: bytes) -> int:
    digits = raw.lstrip()
    end = 1 if digits[:1] in (b"-", b"+") else 0
    while end < len(digits) and digits[end:end + 1].isdigit():
        end += 1
    try:
        return int(digits[:end])
    except ValueError:
        return 0


# --- SHUTDOWN ------------------------------------------------------------------------------

@command("SHUTDOWN", arity=-1, flags=ADMIN + " no_multi allow_busy", group=GROUP,
         since="1.0.0", summary="Synchronously save the dataset to disk and then shut "
         "down the server", complexity="O(N) when saving, where N is the total number of "
         "keys in all databases when saving data, otherwise O(1)",
         syntax="[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
         history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),))
def shutdown(client: Client, argv: list[bytes]) -> Any:
    save = nosave = abort = False
    for arg in argv[1:]:
        opt = arg.lower()
        if opt == b"nosave":
            nosave = True
        elif opt == b"save":
            save = True
        elif opt == b"abort":
            abort = True
        elif opt not in (b"now", b"force"):
            raise errors.SYNTAX
    if (save and nosave) or (abort and len(argv) != 2):
        raise errors.SYNTAX
    if abort:
        # respd shuts down at once (no replicas to wait for): nothing is ever pending.
        raise errors.NO_SHUTDOWN_IN_PROGRESS
    if save or nosave:
        client.server.persistence.shutdown_save = save  # overrides the save points either way
    client.server.request_shutdown()
    client.close_after_reply = True
    return NO_REPLY
