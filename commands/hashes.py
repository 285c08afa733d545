"""Hash commands (t_hash.c), checks in Redis 7.0's order."""

from __future__ import annotations

import math
from typing import Any

from respd import errors, numbers, scan
from respd.client import Client
from respd.command import command
from respd.commands._collections import elements_removed, elements_written
from respd.resp import OK, Map
from respd.storage.hashes import HashValue

GROUP = "hash"


def _read(client: Client, key: bytes) -> HashValue | None:
    return client.db.read_typed(key, HashValue)  # counted: the reading commands


def _for_write(client: Client, key: bytes) -> HashValue:
    """hashTypeLookupWriteOrCreate: the hash at key, created (and stored) if absent."""
    db = client.db
    value = db.lookup_typed(key, HashValue)
    if value is None:
        value = HashValue()
        db.add(key, value)
    return value


def _store(client: Client, h: HashValue, pairs: list[bytes]) -> int:
    """Write field/value pairs; returns how many fields were new."""
    if len(pairs) == 2:  # the usual single pair, without slicing
        added = 1 if h.put(pairs[0], pairs[1]) else 0
    else:
        added = sum(map(h.put, pairs[::2], pairs[1::2]))
    if h.compact:
        config = client.server.config
        h.fit(config.hash_max_listpack_entries, config.hash_max_listpack_value, pairs)
    return added


@command("HSET", arity=-4, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Set the string value of a hash field",
         complexity="O(1) for each field/value pair added, so O(N) to add N field/value "
                    "pairs when the command is called with multiple field/value pairs.",
         syntax="key field value [field value ...]",
         history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),))
def hset(client: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2:
        raise errors.wrong_arity(argv[0].decode("latin-1").lower())
    key = argv[1]
    added = _store(client, _for_write(client, key), argv[2:])
    elements_written(client, key, "h", b"hset", (len(argv) - 2) // 2)
    return added


@command("HMSET", arity=-4, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Set multiple hash fields to multiple values",
         complexity="O(N) where N is the number of fields being set.",
         syntax="key field value [field value ...]")
def hmset(client: Client, argv: list[bytes]) -> Any:
    hset(client, argv)
    return OK


@command("HSETNX", arity=4, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Set the value of a hash field, only if the field does not exist",
         syntax="key field value")
def hsetnx(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    h = _for_write(client, key)
    if argv[2] in h:
        return 0
    _store(client, h, argv[2:4])
    elements_written(client, key, "h", b"hset")
    return 1


@command("HGET", arity=3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Get the value of a hash field", syntax="key field")
def hget(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    return None if h is None else h.get(argv[2])


@command("HMGET", arity=-3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Get the values of all the given hash fields",
         complexity="O(N) where N is the number of fields being requested.",
         syntax="key field [field ...]")
def hmget(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    return [h.get(field) for field in argv[2:]]


@command("HDEL", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Delete one or more hash fields",
         complexity="O(N) where N is the number of fields to be removed.",
         syntax="key field [field ...]",
         history=(("2.4.0", "Accepts multiple `field` arguments."),))
def hdel(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    h = client.db.lookup_typed(key, HashValue)
    if h is None:
        return 0
    deleted = 0
    for field in argv[2:]:
        deleted += h.remove(field)
        if not h:
            break  # Redis stops at the emptied hash: the key is about to go
    if deleted:
        elements_removed(client, key, h, "h", b"hdel", deleted)
    return deleted


@command("HLEN", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Get the number of fields in a hash", syntax="key")
def hlen(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    return 0 if h is None else len(h)


@command("HSTRLEN", arity=3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="3.2.0", summary="Get the length of the value of a hash field",
         syntax="key field")
def hstrlen(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    value = None if h is None else h.get(argv[2])
    return 0 if value is None else len(value)


@command("HEXISTS", arity=3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Determine if a hash field exists", syntax="key field")
def hexists(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    return int(h is not None and argv[2] in h)


_WHOLE = dict(arity=2, flags="readonly", keys=(1, 1, 1), group=GROUP, since="2.0.0",
              complexity="O(N) where N is the size of the hash.", syntax="key",
              tips="nondeterministic_output_order")


@command("HGETALL", plain=True, summary="Get all the fields and values in a hash", **_WHOLE)
def hgetall(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    return Map() if h is None else Map(h.items())


@command("HKEYS", plain=True, summary="Get all the fields in a hash", **_WHOLE)
def hkeys(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    return [] if h is None else h.fields()


@command("HVALS", plain=True, summary="Get all the values in a hash", **_WHOLE)
def hvals(client: Client, argv: list[bytes]) -> Any:
    h = _read(client, argv[1])
    return [] if h is None else [value for _, value in h.items()]


@command("HINCRBY", arity=4, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Increment the integer value of a hash field by the given number",
         syntax="key field increment:integer")
def hincrby(client: Client, argv: list[bytes]) -> Any:
    key, field = argv[1], argv[2]
    incr = numbers.int64(argv[3])
    h = _for_write(client, key)
    current = h.get(field)
    base = 0 if current is None else numbers.int64(current, errors.HASH_NOT_INTEGER)
    total = base + incr
    if not numbers.INT64_MIN <= total <= numbers.INT64_MAX:
        raise errors.OVERFLOW
    _store(client, h, [field, b"%d" % total])
    elements_written(client, key, "h", b"hincrby")
    return total


def _is_infinite(raw: bytes) -> bool:
    value = numbers.parse_double(raw)
    return value is not None and math.isinf(value)


@command("HINCRBYFLOAT", arity=4, flags="write denyoom fast", plain=True, keys=(1, 1, 1),
         group=GROUP,
         since="2.6.0",
         summary="Increment the float value of a hash field by the given amount",
         syntax="key field increment:double")
def hincrbyfloat(client: Client, argv: list[bytes]) -> Any:
    key, field, increment = argv[1], argv[2], argv[3]
    if numbers.parse_long_double(increment) is None:
        raise errors.VALUE_NAN_OR_INF if _is_infinite(increment) else errors.NOT_FLOAT
    h = _for_write(client, key)
    current = h.get(field)
    if current is not None and numbers.parse_long_double(current) is None:
        raise errors.NAN_OR_INF if _is_infinite(current) else errors.HASH_NOT_FLOAT
    result = numbers.long_double_add(current, increment)
    _store(client, h, [field, result])
    elements_written(client, key, "h", b"hincrbyfloat")
    # replicas must not redo float arithmetic: the result is propagated as HSET
    client.propagate_as = [[b"HSET", key, field, result]]
    return result


@command("HRANDFIELD", arity=-2, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.2.0", summary="Get one or multiple random fields from a hash",
         complexity="O(N) where N is the number of fields returned",
         syntax="key [count:integer [WITHVALUES]]", tips="nondeterministic_output")
def hrandfield(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        h = _read(client, argv[1])
        return None if h is None else h.random_key()
    count = numbers.int64(argv[2])
    if count < -numbers.INT64_MAX:
        raise errors.out_of_range_between(-numbers.INT64_MAX, numbers.INT64_MAX)
    withvalues = len(argv) == 4 and argv[3].lower() == b"withvalues"
    if len(argv) > 4 or (len(argv) == 4 and not withvalues):
        raise errors.SYNTAX
    if withvalues and not -(numbers.INT64_MAX // 2) <= count <= numbers.INT64_MAX // 2:
        raise errors.VALUE_OUT_OF_RANGE
    h = _read(client, argv[1])
    if h is None or count == 0:
        return []
    fields = h.random_pick(count)
    if not withvalues:
        return fields
    if client.resp == 3:
        return [[field, h.values[field]] for field in fields]
    return [item for field in fields for item in (field, h.values[field])]


@command("HSCAN", arity=-3, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.8.0", summary="Incrementally iterate hash fields and associated values",
         complexity=scan.COMPLEXITY,
         syntax="key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
         tips="nondeterministic_output")
def hscan(client: Client, argv: list[bytes]) -> Any:
    cursor = scan.parse_cursor(argv[2])
    h = _read(client, argv[1])
    if h is None:
        return scan.EMPTY_SCAN
    opts = scan.parse_options(argv, 3)
    next_cursor, fields = scan.walk(h.fields(), h.compact, cursor, opts.count)
    matches = opts.matcher()
    values = h.values
    found = [item for field in fields if matches is None or matches(field)
             for item in (field, values[field])]
    return [next_cursor, found]
