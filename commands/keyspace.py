"""Keyspace (generic) commands: deleting, renaming, copying and moving keys, expiry,
iteration (KEYS, SCAN, RANDOMKEY), introspection (TYPE, OBJECT) and whole-database
operations (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB).

SCAN walks ``Database.key_order()``: every key in an array that changes only by appending
and by moving the last key into a removed key's slot; the cursor is a position, and the
walk goes from the end towards the start (respd.scan explains why a key present for the
whole scan is then returned at least once).  Every call, the first of a scan included,
costs O(COUNT): the array is maintained by every write, never rebuilt.  It is built, in
O(N), only the first time SCAN or RANDOMKEY runs on a database, so servers that never
scan pay neither its memory nor more than one ``is None`` test per new or deleted key.
Keys added during a scan land at the end, mostly in the visited part; a deletion below
the cursor moves the last (visited) key into the unvisited part, so it may be returned
twice.  Redis allows both.
"""

from __future__ import annotations

import copy
from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command, container
from respd.errors import ReplyError
from respd.eviction import idle_ms
from respd.glob import compile_pattern
from respd.numbers import INT64_MAX, INT64_MIN, parse_int
from respd.resp import OK, Status
from respd.scan import COMPLEXITY, parse_cursor, parse_options, walk
from respd.storage.db import ENCODINGS, Database, type_name

GROUP = "generic"
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1


# --- shared helpers (also used by commands.strings) ---------------------------------------


def delete_key(client: Client, key: bytes) -> bool:
    """Delete an existing key the way a user command does: 'del' event, dirty."""
    db = client.db
    if not db.delete(key):
        return False
    db.notify("g", b"del", key)
    client.server.dirty += 1
    return True


def already_expired(client: Client, when_ms: int) -> bool:
    """checkAlreadyExpired: an absolute time in the past deletes the key at once, except
    while loading the AOF (there the expiry is set and the key expires as usual)."""
    return when_ms <= client.server.now_ms() and not client.loading


def expire_key(client: Client, key: bytes, when_ms: int) -> bool:
    """Give an existing key an absolute expiry; a time already past deletes it instead
    (logged as DEL) and returns False.  The caller logs the expiry it set."""
    if already_expired(client, when_ms):
        delete_key(client, key)
        client.propagate_as = [[b"DEL", key]]
        return False
    db = client.db
    db.set_expire(key, when_ms)
    db.modified(key)
    db.notify("g", b"expire", key)
    client.server.dirty += 1
    return True


def _int32(raw: bytes, err: ReplyError | None = None) -> int:
    """getIntFromObjectOrReply: its own errors, unless the caller gives one."""
    value = parse_int(raw)
    if value is None:
        raise err or errors.NOT_INTEGER
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise err or errors.INT32_RANGE
    return value


def _db_index(client: Client, raw: bytes) -> Database:
    """getIntFromObjectOrReply then selectDb."""
    index = _int32(raw)
    dbs = client.server.dbs
    if not 0 <= index < len(dbs):
        raise errors.DB_INDEX_RANGE
    return dbs[index]


def _count_existing(client: Client, keys: list[bytes]) -> int:
    lookup = client.db.lookup  # touches each key (TOUCH's purpose)
    return sum(1 for key in keys if lookup(key) is not None)


# --- deleting and testing keys ---------------------------------------------------------


def _delete_many(client: Client, argv: list[bytes]) -> int:
    lookup = client.db.lookup
    # lookup first: an expired key is removed as expired, not counted as deleted
    return sum(1 for key in argv[1:] if lookup(key) is not None and delete_key(client, key))


@command("DEL", arity=-2, flags="write", plain=True, keys=(1, -1, 1), group=GROUP, since="1.0.0",
         summary="Delete a key",
         complexity="O(N) where N is the number of keys that will be removed.",
         syntax="key [key ...]")
def del_(client: Client, argv: list[bytes]) -> Any:
    return _delete_many(client, argv)


@command("UNLINK", arity=-2, flags="write fast", plain=True, keys=(1, -1, 1), group=GROUP,
         since="4.0.0",
         summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
                 "but non blocking.",
         complexity="O(1) for each key removed regardless of its size.",
         syntax="key [key ...]")
def unlink(client: Client, argv: list[bytes]) -> Any:
    return _delete_many(client, argv)


@command("EXISTS", arity=-2, flags="readonly fast", plain=True, keys=(1, -1, 1), group=GROUP,
         since="1.0.0", summary="Determine if a key exists",
         complexity="O(N) where N is the number of keys to check.", syntax="key [key ...]",
         history=(("3.0.3", "Accepts multiple `key` arguments."),))
def exists(client: Client, argv: list[bytes]) -> Any:
    peek = client.db.peek  # LOOKUP_NOTOUCH: EXISTS is no access
    return sum(1 for key in argv[1:] if peek(key) is not None)


@command("TOUCH", arity=-2, flags="readonly fast", plain=True, keys=(1, -1, 1), group=GROUP,
         since="3.2.1",
         summary="Alters the last access time of a key(s). Returns the number of existing "
                 "keys specified.",
         complexity="O(N) where N is the number of keys that will be touched.",
         syntax="key [key ...]")
def touch(client: Client, argv: list[bytes]) -> Any:
    return _count_existing(client, argv[1:])


@command("TYPE", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Determine the type stored at key", syntax="key")
def type_(client: Client, argv: list[bytes]) -> Any:
    value = client.db.peek(argv[1])
    return Status(b"none" if value is None else type_name(value))


# --- iteration -------------------------------------------------------------------------


@command("KEYS", arity=2, flags="readonly", plain=True, keys=(0, 0, 0), group=GROUP, since="1.0.0",
         summary="Find all keys matching the given pattern", acl="keyspace dangerous",
         complexity="O(N) with N being the number of keys in the database",
         syntax="pattern:pattern")
def keys(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    pattern = argv[1]
    # '*' matches every key, the empty one included (glob never matches an empty subject)
    found = list(db.data) if pattern == b"*" else list(filter(compile_pattern(pattern), db.data))
    if not db.expires:
        return found
    # Expired keys are skipped, not deleted (Redis's keyIsExpired check).
    now = client.server.now_ms()
    expires = db.expires
    return [key for key in found if key not in expires or expires[key] > now]


@command("SCAN", arity=-2, flags="readonly", plain=True, keys=(0, 0, 0), group=GROUP,
         since="2.8.0",
         summary="Incrementally iterate the keys space", complexity=COMPLEXITY,
         syntax="cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]",
         history=(("6.0.0", "Added the `TYPE` subcommand."),))
def scan(client: Client, argv: list[bytes]) -> Any:
    cursor = parse_cursor(argv[1])
    opts = parse_options(argv, 2, allow_type=True)
    db = client.db
    next_cursor, batch = walk(db.key_order().keys, False, cursor, opts.count)
    matches = opts.matcher()
    found = []
    for key in batch:  # a copy: lookup may delete an expired key from the array
        if matches is not None and not matches(key):
            continue
        value = db.peek(key)  # also skips (and deletes) expired keys
        if value is None:
            continue
        if opts.type is not None and type_name(value) != opts.type:
            continue
        found.append(key)
    return [next_cursor, found]


@command("RANDOMKEY", arity=1, flags="readonly", plain=True, keys=(0, 0, 0), group=GROUP,
         since="1.0.0", summary="Return a random key from the keyspace")
def randomkey(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    order = db.key_order()
    while order:
        key = order.random_key()
        if db.peek(key) is not None:  # an expired pick is deleted: draw again
            return key
    return None


@command("DBSIZE", arity=1, flags="readonly fast", keys=(0, 0, 0), group="server",
         since="1.0.0", summary="Return the number of keys in the selected database",
         acl="keyspace")
def dbsize(client: Client, argv: list[bytes]) -> Any:
    return len(client.db)


# --- renaming, copying, moving -------------------------------------------------------------


def _rename(client: Client, argv: list[bytes], nx: bool) -> bool:
    """renameGenericCommand; True when the key was renamed (or is its own name)."""
    db = client.db
    src, dst = argv[1], argv[2]
    value = db.lookup(src)
    if value is None:
        raise errors.NO_SUCH_KEY
    if src == dst:
        return not nx
    when = db.ttl_ms(src)
    if db.lookup(dst) is not None:
        if nx:
            return False
        db.delete(dst)
    db.add(dst, value)
    if when is not None:
        db.set_expire(dst, when)
    db.delete(src)
    db.notify("g", b"rename_from", src)
    db.notify("g", b"rename_to", dst)
    client.server.dirty += 1
    return True


@command("RENAME", arity=3, flags="write", plain=True, keys=(1, 2, 1), group=GROUP, since="1.0.0",
         summary="Rename a key", syntax="key newkey:key")
def rename(client: Client, argv: list[bytes]) -> Any:
    _rename(client, argv, nx=False)
    return OK


@command("RENAMENX", arity=3, flags="write fast", plain=True, keys=(1, 2, 1), group=GROUP,
         since="1.0.0", summary="Rename a key, only if the new key does not exist",
         syntax="key newkey:key",
         history=(("3.2.0", "The command no longer returns an error when source and "
                            "destination names are the same."),))
def renamenx(client: Client, argv: list[bytes]) -> Any:
    return int(_rename(client, argv, nx=True))


def duplicate(value: Any) -> Any:
    """An independent copy of a value: strings are immutable bytes, structures are
    copied deeply so that later writes to one key never show through the other."""
    return value if type(value) is bytes else copy.deepcopy(value)


@command("COPY", arity=-3, flags="write denyoom", plain=True, keys=(1, 2, 1), group=GROUP,
         since="6.2.0", summary="Copy a key",
         complexity="O(N) worst case for collections, where N is the number of nested "
                    "items. O(1) for string values.",
         syntax="source:key destination:key [DB destination-db:integer] [REPLACE]")
def copy_(client: Client, argv: list[bytes]) -> Any:
    src_db = dst_db = client.db
    replace = False
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        if option == b"replace":
            replace = True
        elif option == b"db" and i + 1 < len(argv):
            dst_db = _db_index(client, argv[i + 1])
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    src, dst = argv[1], argv[2]
    if src_db is dst_db and src == dst:
        raise errors.SAME_OBJECT
    value = src_db.lookup(src)
    if value is None:
        return 0
    when = src_db.ttl_ms(src)
    if dst_db.lookup(dst) is not None:
        if not replace:
            return 0
        dst_db.delete(dst)
    dst_db.add(dst, duplicate(value))
    if when is not None:
        dst_db.set_expire(dst, when)
    dst_db.notify("g", b"copy_to", dst)
    client.server.dirty += 1
    return 1


@command("MOVE", arity=3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Move a key to another database", syntax="key db:integer")
def move(client: Client, argv: list[bytes]) -> Any:
    src_db, key = client.db, argv[1]
    dst_db = _db_index(client, argv[2])
    if dst_db is src_db:
        raise errors.SAME_OBJECT
    value = src_db.lookup(key)
    if value is None or dst_db.lookup(key) is not None:
        return 0
    when = src_db.ttl_ms(key)
    dst_db.add(key, value)
    if when is not None:
        dst_db.set_expire(key, when)
    src_db.delete(key)
    src_db.notify("g", b"move_from", key)
    dst_db.notify("g", b"move_to", key)
    client.server.dirty += 1
    return 1


# --- whole databases ---------------------------------------------------------------------


def _flush_mode(argv: list[bytes]) -> None:
    """FLUSHDB/FLUSHALL take one optional ASYNC|SYNC (both free memory at once here)."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise errors.SYNTAX


@command("FLUSHDB", arity=-1, flags="write", keys=(0, 0, 0), group="server", since="1.0.0",
         summary="Remove all keys from the current database", acl="keyspace dangerous",
         complexity="O(N) where N is the number of keys in the selected database",
         syntax="[ASYNC | SYNC]",
         history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier.")))
def flushdb(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv)
    # +1: an empty database's FLUSHDB is still propagated, as Redis forces it
    client.server.dirty += client.db.flush() + 1
    if client.server.tracking.clients:  # client-side caching: a null invalidation
        client.server.tracking.flushed()
    return OK


@command("FLUSHALL", arity=-1, flags="write", keys=(0, 0, 0), group="server",
         since="1.0.0", summary="Remove all keys from all databases",
         acl="keyspace dangerous",
         complexity="O(N) where N is the total number of keys in all databases",
         syntax="[ASYNC | SYNC]",
         history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier.")))
def flushall(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv)
    server = client.server
    server.dirty += sum(db.flush() for db in server.dbs) + 1
    if server.tracking.clients:  # client-side caching: a null invalidation
        server.tracking.flushed()
    return OK


def _wake_blocked_on_existing(db: Database) -> None:
    """scanDatabaseForReadyKeys: after a swap, keys clients wait on may now exist."""
    for key in list(db.blocking):
        if key in db.data:
            db.events.key_ready(db, key)


@command("SWAPDB", arity=3, flags="write fast", keys=(0, 0, 0), group="server",
         since="4.0.0", summary="Swaps two Redis databases", acl="keyspace dangerous",
         complexity="O(N) where N is the count of clients watching or blocking on keys "
                    "from both databases.",
         syntax="index1:integer index2:integer")
def swapdb(client: Client, argv: list[bytes]) -> Any:
    first = _int32(argv[1], errors.INVALID_FIRST_DB)
    second = _int32(argv[2], errors.INVALID_SECOND_DB)
    dbs = client.server.dbs
    if not (0 <= first < len(dbs) and 0 <= second < len(dbs)):
        raise errors.DB_INDEX_RANGE
    if first != second:
        a, b = dbs[first], dbs[second]
        a.swap_contents(b)
        for db, other in ((a, b), (b, a)):
            _wake_blocked_on_existing(db)
            # a watched key that exists on either side of the swap counts as modified
            db.touch_all_watched(replaced_with=other)
    client.server.dirty += 1
    return OK


# --- expiry ------------------------------------------------------------------------------


def _expire_flags(argv: list[bytes]) -> tuple[bool, bool, bool, bool]:
    """parseExtendedExpireArgumentsOrReply: NX, XX, GT, LT in any order, then the
    compatibility checks."""
    nx = xx = gt = lt = False
    for raw in argv[3:]:
        option = raw.lower()
        if option == b"nx":
            nx = True
        elif option == b"xx":
            xx = True
        elif option == b"gt":
            gt = True
        elif option == b"lt":
            lt = True
        else:
            raise errors.unsupported_option(raw)
    if nx and (xx or gt or lt):
        raise errors.EXPIRE_NX_CONFLICT
    if gt and lt:
        raise errors.EXPIRE_GT_LT_CONFLICT
    return nx, xx, gt, lt


def _expire(client: Client, argv: list[bytes], relative: bool, unit_ms: int) -> int:
    """expireGenericCommand for EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT."""
    nx, xx, gt, lt = _expire_flags(argv)
    when = parse_int(argv[2])
    if when is None:
        raise errors.NOT_INTEGER
    cmdname = argv[0].lower().decode("latin-1")
    when *= unit_ms
    if not INT64_MIN <= when <= INT64_MAX:  # the unit conversion overflows
        raise errors.invalid_expire(cmdname)
    if relative:
        when += client.server.now_ms()
    if not INT64_MIN <= when <= INT64_MAX:
        raise errors.invalid_expire(cmdname)
    db, key = client.db, argv[1]
    if db.lookup(key) is None:
        return 0
    current = db.ttl_ms(key)
    if ((nx and current is not None) or (xx and current is None)
            or (gt and (current is None or when <= current))
            or (lt and current is not None and when >= current)):
        return 0
    if expire_key(client, key, when) and cmdname != "pexpireat":
        client.propagate_as = [[b"PEXPIREAT", key, b"%d" % when, *argv[3:]]]
    return 1


_EXPIRE_SYNTAX = "key {}:integer [NX | XX | GT | LT]"
_EXPIRE_HISTORY = (("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),)


@command("EXPIRE", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Set a key's time to live in seconds",
         syntax=_EXPIRE_SYNTAX.format("seconds"), history=_EXPIRE_HISTORY)
def expire(client: Client, argv: list[bytes]) -> Any:
    return _expire(client, argv, relative=True, unit_ms=1000)


@command("PEXPIRE", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.6.0", summary="Set a key's time to live in milliseconds",
         syntax=_EXPIRE_SYNTAX.format("milliseconds"), history=_EXPIRE_HISTORY)
def pexpire(client: Client, argv: list[bytes]) -> Any:
    return _expire(client, argv, relative=True, unit_ms=1)


@command("EXPIREAT", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Set the expiration for a key as a UNIX timestamp",
         syntax="key unix-time-seconds:unix-time [NX | XX | GT | LT]",
         history=_EXPIRE_HISTORY)
def expireat(client: Client, argv: list[bytes]) -> Any:
    return _expire(client, argv, relative=False, unit_ms=1000)


@command("PEXPIREAT", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.6.0",
         summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds",
         syntax="key unix-time-milliseconds:unix-time [NX | XX | GT | LT]",
         history=_EXPIRE_HISTORY)
def pexpireat(client: Client, argv: list[bytes]) -> Any:
    return _expire(client, argv, relative=False, unit_ms=1)


def _ttl(client: Client, key: bytes, in_ms: bool, absolute: bool) -> int:
    """ttlGenericCommand: -2 no key, -1 no expiry; seconds are rounded to nearest."""
    db = client.db
    if db.peek(key) is None:
        return -2
    when = db.ttl_ms(key)
    if when is None:
        return -1
    left = max(when if absolute else when - client.server.now_ms(), 0)
    return left if in_ms else (left + 500) // 1000


_TTL_HISTORY = (("2.8.0", "Added the -2 reply."),)


@command("TTL", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Get the time to live for a key in seconds", syntax="key",
         history=_TTL_HISTORY)
def ttl(client: Client, argv: list[bytes]) -> Any:
    return _ttl(client, argv[1], in_ms=False, absolute=False)


@command("PTTL", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.6.0",
         summary="Get the time to live for a key in milliseconds", syntax="key",
         history=_TTL_HISTORY)
def pttl(client: Client, argv: list[bytes]) -> Any:
    return _ttl(client, argv[1], in_ms=True, absolute=False)


@command("EXPIRETIME", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="7.0.0", summary="Get the expiration Unix timestamp for a key", syntax="key")
def expiretime(client: Client, argv: list[bytes]) -> Any:
    return _ttl(client, argv[1], in_ms=False, absolute=True)


@command("PEXPIRETIME", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="7.0.0", summary="Get the expiration Unix timestamp for a key in milliseconds",
         syntax="key")
def pexpiretime(client: Client, argv: list[bytes]) -> Any:
    return _ttl(client, argv[1], in_ms=True, absolute=True)


def persist_key(client: Client, key: bytes) -> bool:
    """Remove a key's expiry: 'persist' event, dirty; False if it had none."""
    db = client.db
    if not db.persist(key):
        return False
    db.modified(key)
    db.notify("g", b"persist", key)
    client.server.dirty += 1
    return True


@command("PERSIST", arity=2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.2.0", summary="Remove the expiration from a key", syntax="key")
def persist(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    return int(client.db.lookup(key) is not None and persist_key(client, key))


# --- OBJECT --------------------------------------------------------------------------------

container("OBJECT", group=GROUP, since="2.2.3",
          summary="A container for object introspection commands")

_OBJECT_HELP = [Status(line) for line in (
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
)]
# Subcommands are declared in the order Redis lists them.
# Redis shares one object for each small integer string: OBJECT REFCOUNT shows this.
_SHARED_REFCOUNT = _INT32_MAX
_SHARED_INTEGERS = 10000


def _lfu_policy(client: Client) -> bool:
    return "lfu" in client.server.config.maxmemory_policy


@command("OBJECT ENCODING", arity=3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="2.2.3", summary="Inspect the internal encoding of a Redis object",
         syntax="key")
def object_encoding(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    value = db.peek(argv[2])
    if value is None:
        return None
    if type(value) is bytes and db.raw_strings.get(argv[2]) is value:
        return b"raw"
    return ENCODINGS[type(value)](value)


def mark_raw(db: Database, key: bytes) -> None:
    """Redis edits some strings in place (APPEND to an existing string, SETRANGE, SETBIT,
    BITFIELD, PFADD, PFMERGE): the object is raw then, whatever its length or content."""
    raw = db.raw_strings
    if len(raw) > 2 * len(db.data) + 1024:  # forget keys since rewritten or deleted
        db.raw_strings = raw = {k: v for k, v in raw.items() if db.data.get(k) is v}
    raw[key] = db.data[key]


@command("OBJECT HELP", arity=2, flags="loading stale", group=GROUP, since="6.2.0",
         summary="Show helpful text about the different subcommands")
def object_help(client: Client, argv: list[bytes]) -> Any:
    return _OBJECT_HELP


@command("OBJECT IDLETIME", arity=3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="2.2.3", summary="Get the time since a Redis object was last accessed",
         syntax="key")
def object_idletime(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    if db.peek(argv[2]) is None:
        return None
    if _lfu_policy(client):
        raise errors.LFU_SELECTED
    # Access clocks exist only under an LRU policy (respd.eviction): otherwise every
    # key reads as just used.
    if db.clocks is None:
        return 0
    now = db.access.now
    return idle_ms(db.clocks.get(argv[2], now), now) // 1000


@command("OBJECT REFCOUNT", arity=3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="2.2.3", summary="Get the number of references to the value of the key",
         syntax="key")
def object_refcount(client: Client, argv: list[bytes]) -> Any:
    value = client.db.peek(argv[2])
    if value is None:
        return None
    config = client.server.config
    # LRU/LFU eviction (with a maxmemory) needs per-key access data: no sharing then
    policy = config.maxmemory_policy
    shares = not config.maxmemory or policy.endswith(("random", "ttl", "noeviction"))
    if type(value) is bytes and shares:
        number = parse_int(value)
        if number is not None and 0 <= number < _SHARED_INTEGERS:
            return _SHARED_REFCOUNT
    return 1


@command("OBJECT FREQ", arity=3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="4.0.0",
         summary="Get the logarithmic access frequency counter of a Redis object",
         syntax="key")
def object_freq(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    if db.peek(argv[2]) is None:
        return None
    if not _lfu_policy(client):
        raise errors.LFU_NOT_SELECTED
    return db.access.decayed(db.clocks.get(argv[2], db.access.fresh()))
