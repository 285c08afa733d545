"""Set commands (t_set.c), checks in Redis 7.0's order."""

from __future__ import annotations

from typing import Any, Iterable

from respd import errors, numbers, scan
from respd.client import Client
from respd.command import command
from respd.commands._collections import elements_removed, elements_written
from respd.resp import AttrSet
from respd.storage.sets import SetValue

GROUP = "set"
# spopWithCountCommand propagates the popped members as SREMs of at most this many.
_SPOP_BATCH = 1024


def _read(client: Client, key: bytes) -> SetValue | None:
    return client.db.read_typed(key, SetValue)  # counted: the reading commands


def _max_intset(client: Client) -> int:
    return client.server.config.set_max_intset_entries


def _new_set(client: Client, members: Iterable[bytes]) -> SetValue:
    return SetValue(members, _max_intset(client))


@command("SADD", arity=-3, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Add one or more members to a set",
         complexity="O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.",
         syntax="key member [member ...]",
         history=(("2.4.0", "Accepts multiple `member` arguments."),))
def sadd(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    db = client.db
    s = db.lookup_typed(key, SetValue)
    if s is None:
        s = SetValue()
        db.add(key, s)
    limit = _max_intset(client)
    if len(argv) == 3:  # one member, the usual call: no generator
        added = 1 if s.add(argv[2], limit) else 0
    else:
        added = sum(s.add(member, limit) for member in argv[2:])
    if added:
        elements_written(client, key, "s", b"sadd", added)
    return added


@command("SREM", arity=-3, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Remove one or more members from a set",
         complexity="O(N) where N is the number of members to be removed.",
         syntax="key member [member ...]",
         history=(("2.4.0", "Accepts multiple `member` arguments."),))
def srem(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    s = client.db.lookup_typed(key, SetValue)
    if s is None:
        return 0
    removed = 0
    for member in argv[2:]:
        removed += s.remove(member)
        if not s:
            break
    if removed:
        elements_removed(client, key, s, "s", b"srem", removed)
    return removed


@command("SCARD", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Get the number of members in a set", syntax="key")
def scard(client: Client, argv: list[bytes]) -> Any:
    s = _read(client, argv[1])
    return 0 if s is None else len(s)


@command("SISMEMBER", arity=3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Determine if a given value is a member of a set",
         syntax="key member")
def sismember(client: Client, argv: list[bytes]) -> Any:
    s = _read(client, argv[1])
    return int(s is not None and argv[2] in s)


@command("SMISMEMBER", arity=-3, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.2.0",
         summary="Returns the membership associated with the given elements for a set",
         complexity="O(N) where N is the number of elements being checked for membership",
         syntax="key member [member ...]")
def smismember(client: Client, argv: list[bytes]) -> Any:
    s = _read(client, argv[1])
    return [int(s is not None and member in s) for member in argv[2:]]


@command("SMEMBERS", arity=2, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Get all the members in a set",
         complexity="O(N) where N is the set cardinality.", syntax="key",
         tips="nondeterministic_output_order")
def smembers(client: Client, argv: list[bytes]) -> Any:
    s = _read(client, argv[1])
    return AttrSet() if s is None else AttrSet(s.keys)


@command("SMOVE", arity=4, flags="write fast", plain=True, keys=(1, 2, 1), group=GROUP,
         since="1.0.0", summary="Move a member from one set to another",
         syntax="source destination member")
def smove(client: Client, argv: list[bytes]) -> Any:
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    db = client.db
    src = db.lookup(src_key)
    dst = db.lookup(dst_key)
    if src is None:
        return 0
    if type(src) is not SetValue or (dst is not None and type(dst) is not SetValue):
        raise errors.WRONGTYPE
    if src is dst:
        return int(member in src)
    if not src.remove(member):
        return 0
    elements_removed(client, src_key, src, "s", b"srem", 1)
    if dst is None:
        dst = SetValue()
        db.add(dst_key, dst)
    if dst.add(member, _max_intset(client)):
        elements_written(client, dst_key, "s", b"sadd")
    return 1


@command("SPOP", arity=-2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Remove and return one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the value "
                    "of the passed count.",
         syntax="key [count:integer]", tips="nondeterministic_output",
         history=(("3.2.0", "Added the `count` argument."),))
def spop(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:
        return _spop_count(client, argv[1], argv[2])
    if len(argv) > 3:
        raise errors.SYNTAX
    key = argv[1]
    s = client.db.lookup_typed(key, SetValue)
    if s is None:
        return None
    member = s.pop_random()
    client.propagate_as = [[b"SREM", key, member]]
    elements_removed(client, key, s, "s", b"spop", 1)
    return member


def _spop_count(client: Client, key: bytes, raw_count: bytes) -> Any:
    count = numbers.int64(raw_count, errors.COUNT_POSITIVE)
    if count < 0:
        raise errors.COUNT_POSITIVE
    s = client.db.lookup_typed(key, SetValue)
    if s is None or count == 0:
        return AttrSet()
    if count >= len(s):
        members = AttrSet(s.keys)
        client.propagate_as = [[b"DEL", key]]
        # every member goes: the key is deleted as it stands rather than emptied first
        elements_removed(client, key, (), "s", b"spop", len(members))
        return members
    popped = AttrSet(s.pop_random() for _ in range(count))
    client.propagate_as = [[b"SREM", key, *popped[i:i + _SPOP_BATCH]]
                           for i in range(0, count, _SPOP_BATCH)]
    elements_removed(client, key, s, "s", b"spop", count)
    return popped


@command("SRANDMEMBER", arity=-2, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Get one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the "
                    "absolute value of the passed count.",
         syntax="key [count:integer]", tips="nondeterministic_output",
         history=(("2.6.0", "Added the optional `count` argument."),))
def srandmember(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:
        count = numbers.int64(argv[2])
        if count < -numbers.INT64_MAX:
            raise errors.out_of_range_between(-numbers.INT64_MAX, numbers.INT64_MAX)
        s = _read(client, argv[1])
        return [] if s is None or count == 0 else s.random_pick(count)
    if len(argv) > 3:
        raise errors.SYNTAX
    s = _read(client, argv[1])
    return None if s is None else s.random_key()


# --- algebra ---------------------------------------------------------------------------------

def _sources(client: Client, keys: list[bytes]) -> list[SetValue | None]:
    """Every key's set (None when missing); any other type is WRONGTYPE, checked for all
    keys before any work, as Redis does."""
    return [_read(client, key) for key in keys]


def _inter(sets: list[SetValue | None], limit: int = 0) -> list[bytes]:
    """Members of every set, walking the smallest; stops at ``limit`` members (0: all)."""
    if any(s is None for s in sets):
        return []
    ordered = sorted(sets, key=len)  # type: ignore[arg-type]
    smallest, others = ordered[0], ordered[1:]
    found = []
    for member in smallest:  # type: ignore[union-attr]
        if all(member in other for other in others):  # type: ignore[operator]
            found.append(member)
            if len(found) == limit:
                break
    return found


def _union(sets: list[SetValue | None]) -> list[bytes]:
    seen: dict[bytes, None] = {}
    for s in sets:
        if s is not None:
            seen.update(dict.fromkeys(s.keys))
    return list(seen)


def _diff(sets: list[SetValue | None]) -> list[bytes]:
    first, others = sets[0], [s for s in sets[1:] if s is not None]
    if first is None:
        return []
    return [m for m in first if not any(m in other for other in others)]


_ALGEBRA = dict(arity=-2, flags="readonly", keys=(1, -1, 1), group=GROUP, since="1.0.0",
                syntax="key [key ...]", tips="nondeterministic_output_order")
_STORE = dict(arity=-3, flags="write denyoom", keys=(1, -1, 1), group=GROUP, since="1.0.0",
              syntax="destination key [key ...]")


@command("SINTER", plain=True, summary="Intersect multiple sets",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M "
                    "is the number of sets.", **_ALGEBRA)
def sinter(client: Client, argv: list[bytes]) -> Any:
    return AttrSet(_inter(_sources(client, argv[1:])))


@command("SUNION", plain=True, summary="Add multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_ALGEBRA)
def sunion(client: Client, argv: list[bytes]) -> Any:
    return AttrSet(_union(_sources(client, argv[1:])))


@command("SDIFF", plain=True, summary="Subtract multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_ALGEBRA)
def sdiff(client: Client, argv: list[bytes]) -> Any:
    return AttrSet(_diff(_sources(client, argv[1:])))


def _store(client: Client, argv: list[bytes], members: list[bytes], event: bytes) -> int:
    """Replace the destination with the result (setKey: the old TTL goes); an empty
    result deletes it."""
    db, dst = client.db, argv[1]
    if not members:
        if db.delete(dst):
            client.server.dirty += 1
            db.notify("g", b"del", dst)
        return 0
    db.set(dst, _new_set(client, members))
    db.notify("s", event, dst)
    client.server.dirty += 1
    return len(members)


@command("SINTERSTORE", plain=True,
         summary="Intersect multiple sets and store the resulting set in a key",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M "
                    "is the number of sets.", **_STORE)
def sinterstore(client: Client, argv: list[bytes]) -> Any:
    return _store(client, argv, _inter(_sources(client, argv[2:])), b"sinterstore")


@command("SUNIONSTORE", plain=True,
         summary="Add multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_STORE)
def sunionstore(client: Client, argv: list[bytes]) -> Any:
    return _store(client, argv, _union(_sources(client, argv[2:])), b"sunionstore")


@command("SDIFFSTORE", plain=True,
         summary="Subtract multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_STORE)
def sdiffstore(client: Client, argv: list[bytes]) -> Any:
    return _store(client, argv, _diff(_sources(client, argv[2:])), b"sdiffstore")


def _sintercard_keys(argv: list[bytes]) -> list[int]:
    numkeys = numbers.parse_int(argv[1]) or 0
    return list(range(2, 2 + numkeys)) if 0 < numkeys <= len(argv) - 2 else []


@command("SINTERCARD", arity=-3, flags="readonly", plain=True, getkeys=_sintercard_keys,
         group=GROUP,
         since="7.0.0", summary="Intersect multiple sets and return the cardinality of the result",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M "
                    "is the number of sets.",
         syntax="numkeys:integer key [key ...] [LIMIT limit:integer]")
def sintercard(client: Client, argv: list[bytes]) -> Any:
    numkeys = numbers.int64(argv[1], errors.NUMKEYS_POSITIVE)
    if numkeys < 1:
        raise errors.NUMKEYS_POSITIVE
    if numkeys > len(argv) - 2:
        raise errors.MORE_KEYS_THAN_ARGS
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].lower() == b"limit" and i + 1 < len(argv):
            limit = numbers.int64(argv[i + 1], errors.LIMIT_NEGATIVE)
            if limit < 0:
                raise errors.LIMIT_NEGATIVE
            i += 2
        else:
            raise errors.SYNTAX
    return len(_inter(_sources(client, argv[2:2 + numkeys]), limit))


@command("SSCAN", arity=-3, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.8.0", summary="Incrementally iterate Set elements",
         complexity=scan.COMPLEXITY,
         syntax="key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
         tips="nondeterministic_output")
def sscan(client: Client, argv: list[bytes]) -> Any:
    cursor = scan.parse_cursor(argv[2])
    s = _read(client, argv[1])
    if s is None:
        return scan.EMPTY_SCAN
    opts = scan.parse_options(argv, 3)
    next_cursor, members = scan.walk(s.keys, s.compact, cursor, opts.count)
    matches = opts.matcher()
    return [next_cursor, [m for m in members if matches is None or matches(m)]]
