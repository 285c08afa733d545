"""MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP, with Redis 7.0's shapes.

The figures come from respd.memory's estimate (the same used_memory INFO and maxmemory
read).  respd runs on CPython's allocator, not jemalloc: MALLOC-STATS answers as a Redis
built without jemalloc does, PURGE runs a garbage collection and answers OK, and the
allocator_* figures of STATS repeat the estimate and the process RSS.
"""

from __future__ import annotations

import gc
from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command, container
from respd.info import rss_bytes
from respd.memory import DEFAULT_SAMPLES, db_tables, expiry_tables, key_usage
from respd.numbers import int64
from respd.resp import OK, Map, Status, Verbatim

GROUP = "server"
_STATS_TIPS = "nondeterministic_output request_policy:all_shards response_policy:special"

container("MEMORY", group=GROUP, since="4.0.0",
          summary="A container for memory diagnostics commands")

_HELP = [Status(line) for line in (
    b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"DOCTOR",
    b"    Return memory problems reports.",
    b"MALLOC-STATS",
    b"    Return internal statistics report from the memory allocator.",
    b"PURGE",
    b"    Attempt to purge dirty pages for reclamation by the allocator.",
    b"STATS",
    b"    Return information about the memory usage of the server.",
    b"USAGE <key> [SAMPLES <count>]",
    b"    Return memory in bytes used by <key> and its value. Nested values are",
    b"    sampled up to <count> times (default: 5, 0 means sample all).",
    b"HELP",
    b"    Prints this help.",
)]


@command("MEMORY DOCTOR", arity=2, group=GROUP, since="4.0.0",
         summary="Outputs memory problems report", tips=_STATS_TIPS)
def memory_doctor(client: Client, argv: list[bytes]) -> Any:
    return Verbatim(doctor_report(client))


@command("MEMORY HELP", arity=2, flags="loading stale", group=GROUP, since="4.0.0",
         summary="Show helpful text about the different subcommands")
def memory_help(client: Client, argv: list[bytes]) -> Any:
    return _HELP


@command("MEMORY MALLOC-STATS", arity=2, group=GROUP, since="4.0.0",
         summary="Show allocator internal stats", tips=_STATS_TIPS)
def memory_malloc_stats(client: Client, argv: list[bytes]) -> Any:
    return b"Stats not supported for the current allocator"


@command("MEMORY PURGE", arity=2, group=GROUP, since="4.0.0",
         summary="Ask the allocator to release memory",
         tips="request_policy:all_shards response_policy:all_succeeded")
def memory_purge(client: Client, argv: list[bytes]) -> Any:
    gc.collect()  # what CPython can hand back: cycles, and the arenas they empty
    return OK


@command("MEMORY STATS", arity=2, group=GROUP, since="4.0.0",
         summary="Show memory usage details", tips=_STATS_TIPS)
def memory_stats(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    accounting = server.memory.accounting
    used = accounting.used()
    peak = accounting.peak
    startup = accounting.startup
    overhead = accounting.overhead()
    normal, pubsub = accounting.clients()
    rss = rss_bytes()
    keys = sum(len(db) for db in server.dbs)
    net = used - startup
    dataset = used - overhead
    fields: list[tuple[bytes, Any]] = [
        (b"peak.allocated", peak),
        (b"total.allocated", used),
        (b"startup.allocated", startup),
        (b"replication.backlog", 0),
        (b"clients.slaves", 0),
        (b"clients.normal", normal + pubsub),
        (b"cluster.links", 0),
        (b"aof.buffer", accounting.aof_buffer()),
        (b"lua.caches", 0),
        (b"functions.caches", 0),
    ]
    for db in server.dbs:
        if len(db):
            expires = expiry_tables(db)
            fields.append((b"db.%d" % db.index, _map(client, [
                (b"overhead.hashtable.main", db_tables(db) - expires),
                (b"overhead.hashtable.expires", expires),
                (b"overhead.hashtable.slot-to-keys", 0),
            ])))
    fields += [
        (b"overhead.total", overhead),
        (b"keys.count", keys),
        (b"keys.bytes-per-key", net // keys if keys else 0),
        (b"dataset.bytes", dataset),
        (b"dataset.percentage", dataset * 100 / net if net > 0 else 0.0),
        (b"peak.percentage", used * 100 / peak if peak else 0.0),
        (b"allocator.allocated", used),
        (b"allocator.active", used),
        (b"allocator.resident", rss),
        (b"allocator-fragmentation.ratio", 1.0),
        (b"allocator-fragmentation.bytes", 0),
        (b"allocator-rss.ratio", rss / used if used else 0.0),
        (b"allocator-rss.bytes", rss - used),
        (b"rss-overhead.ratio", 1.0),
        (b"rss-overhead.bytes", 0),
        (b"fragmentation", rss / used if used else 0.0),
        (b"fragmentation.bytes", rss - used),
    ]
    return _map(client, fields)


def _map(client: Client, pairs: list[tuple[bytes, Any]]) -> Any:
    """A map in RESP3, a flat array in RESP2 (addReplyMapLen)."""
    if client.resp == 3:
        return Map(pairs)
    return [item for pair in pairs for item in pair]


@command("MEMORY USAGE", arity=-3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="4.0.0", summary="Estimate the memory usage of a key",
         syntax="key [SAMPLES count:integer]",
         complexity="O(N) where N is the number of samples.")
def memory_usage(client: Client, argv: list[bytes]) -> Any:
    samples = DEFAULT_SAMPLES
    i = 3
    while i < len(argv):  # options first: their errors come before the key's lookup
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            samples = int64(argv[i + 1])
            if samples < 0:
                raise errors.SYNTAX
            i += 2
        else:
            raise errors.SYNTAX
    db = client.db
    key = argv[2]
    value = db.data.get(key)  # dictFind: no expiry check, no access
    if value is None:
        return None
    return key_usage(key, value, key in db.expires, samples)


# --- DOCTOR ------------------------------------------------------------------------------

_NO_ISSUES = (b"Hi Sam, I can't find any memory issue in your instance. "
              b"I can only account for what occurs on this base.\n")
_EMPTY = (b"Hi Sam, this instance is empty or is using very little memory, my issues "
          b"detector can't be used in these conditions. Please, leave for your mission on "
          b"Earth and fill it with some data. The new Sam and I will be back to our "
          b"programming as soon as I finished rebooting.\n")
_ISSUES = b"Sam, I detected a few issues in this Redis instance memory implants:\n\n"
_BIG_PEAK = (
    b" * Peak memory: In the past this instance used more than 150% the memory that is "
    b"currently using. The allocator is normally not able to release memory after a peak, "
    b"so you can expect to see a big fragmentation ratio, however this is actually "
    b"harmless and is only due to the memory peak, and if the Redis instance Resident Set "
    b"Size (RSS) is currently bigger than expected, the memory will be used as soon as "
    b"you fill the Redis instance with more data. If the memory peak was only occasional "
    b"and you want to try to reclaim memory, please try the MEMORY PURGE command, "
    b"otherwise the only other option is to shutdown and restart the instance.\n\n")
_BIG_CLIENTS = (
    b" * Big client buffers: The clients output buffers in this instance are greater than "
    b"200K per client (on average). This may result from different causes, like Pub/Sub "
    b"clients subscribed to channels bot not receiving data fast enough, so that data "
    b"piles on the Redis instance output buffer, or clients sending commands with large "
    b"replies or very large sequences of commands in the same pipeline. Please use the "
    b"CLIENT LIST command in order to investigate the issue if it causes problems in your "
    b"instance, or to understand better why certain clients are using a big amount of "
    b"memory.\n\n")
_MANY_SCRIPTS = (
    b" * Many scripts: There seem to be many cached scripts in this instance (more than "
    b"1000). This may be because scripts are generated and `EVAL`ed, instead of being "
    b"parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless "
    b"`SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming "
    b"most of your memory.\n\n")
_SIGN_OFF = b"I'm here to keep you safe, Sam. I want to help you.\n"


def doctor_report(client: Client) -> bytes:
    """getMemoryDoctorReport's checks that mean something for respd: the RSS/allocator
    ratios are left out, since respd's RSS is mostly the interpreter itself."""
    server = client.server
    accounting = server.memory.accounting
    used = accounting.used()
    if used < 5 * 1024 * 1024:
        return _EMPTY
    issues = []
    if accounting.peak / used > 1.5:
        issues.append(_BIG_PEAK)
    connected = sum(1 for c in server.clients.values() if c.transport is not None)
    if connected and sum(accounting.clients()) / connected > 200 * 1024:
        issues.append(_BIG_CLIENTS)
    engine = server.scripts
    if engine is not None and len(engine.scripts) > 1000:
        issues.append(_MANY_SCRIPTS)
    if not issues:
        return _NO_ISSUES
    return _ISSUES + b"".join(issues) + _SIGN_OFF
