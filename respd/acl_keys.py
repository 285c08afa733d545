"""The read/write access a command needs on each key it names, for ACL key patterns
(``%R~`` / ``%W~``).

Key *positions* come from the command table (``Command.key_positions``, the same as
COMMAND GETKEYS).  The *access* per key is Redis 7.0.15's key-spec flags, reduced to
what ACLs look at: ACCESS needs read permission, INSERT / DELETE / UPDATE need write
permission (acl.c's ACLSelectorCheckKey).  A key with neither (EXISTS, TYPE, ...) passes
any pattern that matches it.  ``SPECS`` below was extracted from Redis 7.0.15's
src/commands/*.json: per command, its key specs as (access, begin_search, find_keys)
with begin_search ``(index,)`` or ``(keyword, startfrom)`` and find_keys
``('r', lastkey, step, limit)`` (range) or ``('n', keynumidx, firstkey, step)`` (keynum);
specs of fake keys (NOT_KEY: the shard channels) are left out.

A command with one spec, or whose specs need the same access, needs that access on
every key.  Otherwise the specs are searched as Redis's getKeysUsingKeySpecs does to
tell which key belongs to which spec; a key the specs do not find (an incomplete spec)
needs the access of all specs together.  SET and BITFIELD have variable flags and are
decided by their arguments, as Redis's setGetKeys / bitfieldGetKeys do.
"""

from __future__ import annotations

from typing import Any

from respd.command import Command

READ, WRITE = 1, 2

SPECS: dict[str, tuple[Any, ...]] = {
    'append': ((2, (1,), ('r', 0, 1, 0)),),
    'bitcount': ((1, (1,), ('r', 0, 1, 0)),),
    'bitfield': ((3, (1,), ('r', 0, 1, 0)),),
    'bitfield_ro': ((1, (1,), ('r', 0, 1, 0)),),
    'bitop': ((2, (2,), ('r', 0, 1, 0)), (1, (3,), ('r', -1, 1, 0))),
    'bitpos': ((1, (1,), ('r', 0, 1, 0)),),
    'blmove': ((3, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'blmpop': ((3, (2,), ('n', 0, 1, 1)),),
    'blpop': ((3, (1,), ('r', -2, 1, 0)),),
    'brpop': ((3, (1,), ('r', -2, 1, 0)),),
    'brpoplpush': ((3, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'bzmpop': ((3, (2,), ('n', 0, 1, 1)),),
    'bzpopmax': ((3, (1,), ('r', -2, 1, 0)),),
    'bzpopmin': ((3, (1,), ('r', -2, 1, 0)),),
    'copy': ((1, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'decr': ((3, (1,), ('r', 0, 1, 0)),),
    'decrby': ((3, (1,), ('r', 0, 1, 0)),),
    'del': ((2, (1,), ('r', -1, 1, 0)),),
    'dump': ((1, (1,), ('r', 0, 1, 0)),),
    'eval': ((3, (2,), ('n', 0, 1, 1)),),
    'eval_ro': ((1, (2,), ('n', 0, 1, 1)),),
    'evalsha': ((3, (2,), ('n', 0, 1, 1)),),
    'evalsha_ro': ((1, (2,), ('n', 0, 1, 1)),),
    'exists': ((0, (1,), ('r', -1, 1, 0)),),
    'expire': ((2, (1,), ('r', 0, 1, 0)),),
    'expireat': ((2, (1,), ('r', 0, 1, 0)),),
    'expiretime': ((1, (1,), ('r', 0, 1, 0)),),
    'fcall': ((3, (2,), ('n', 0, 1, 1)),),
    'fcall_ro': ((1, (2,), ('n', 0, 1, 1)),),
    'geoadd': ((2, (1,), ('r', 0, 1, 0)),),
    'geodist': ((1, (1,), ('r', 0, 1, 0)),),
    'geohash': ((1, (1,), ('r', 0, 1, 0)),),
    'geopos': ((1, (1,), ('r', 0, 1, 0)),),
    'georadius': ((1, (1,), ('r', 0, 1, 0)), (2, ('STORE', 6), ('r', 0, 1, 0)), (2, ('STOREDIST', 6), ('r', 0, 1, 0))),
    'georadius_ro': ((1, (1,), ('r', 0, 1, 0)),),
    'georadiusbymember': ((1, (1,), ('r', 0, 1, 0)), (2, ('STORE', 5), ('r', 0, 1, 0)), (2, ('STOREDIST', 5), ('r', 0, 1, 0))),
    'georadiusbymember_ro': ((1, (1,), ('r', 0, 1, 0)),),
    'geosearch': ((1, (1,), ('r', 0, 1, 0)),),
    'geosearchstore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('r', 0, 1, 0))),
    'get': ((1, (1,), ('r', 0, 1, 0)),),
    'getbit': ((1, (1,), ('r', 0, 1, 0)),),
    'getdel': ((3, (1,), ('r', 0, 1, 0)),),
    'getex': ((3, (1,), ('r', 0, 1, 0)),),
    'getrange': ((1, (1,), ('r', 0, 1, 0)),),
    'getset': ((3, (1,), ('r', 0, 1, 0)),),
    'hdel': ((2, (1,), ('r', 0, 1, 0)),),
    'hexists': ((0, (1,), ('r', 0, 1, 0)),),
    'hget': ((1, (1,), ('r', 0, 1, 0)),),
    'hgetall': ((1, (1,), ('r', 0, 1, 0)),),
    'hincrby': ((3, (1,), ('r', 0, 1, 0)),),
    'hincrbyfloat': ((3, (1,), ('r', 0, 1, 0)),),
    'hkeys': ((1, (1,), ('r', 0, 1, 0)),),
    'hlen': ((0, (1,), ('r', 0, 1, 0)),),
    'hmget': ((1, (1,), ('r', 0, 1, 0)),),
    'hmset': ((2, (1,), ('r', 0, 1, 0)),),
    'hrandfield': ((1, (1,), ('r', 0, 1, 0)),),
    'hscan': ((1, (1,), ('r', 0, 1, 0)),),
    'hset': ((2, (1,), ('r', 0, 1, 0)),),
    'hsetnx': ((2, (1,), ('r', 0, 1, 0)),),
    'hstrlen': ((0, (1,), ('r', 0, 1, 0)),),
    'hvals': ((1, (1,), ('r', 0, 1, 0)),),
    'incr': ((3, (1,), ('r', 0, 1, 0)),),
    'incrby': ((3, (1,), ('r', 0, 1, 0)),),
    'incrbyfloat': ((3, (1,), ('r', 0, 1, 0)),),
    'lcs': ((1, (1,), ('r', 1, 1, 0)),),
    'lindex': ((1, (1,), ('r', 0, 1, 0)),),
    'linsert': ((2, (1,), ('r', 0, 1, 0)),),
    'llen': ((0, (1,), ('r', 0, 1, 0)),),
    'lmove': ((3, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'lmpop': ((3, (1,), ('n', 0, 1, 1)),),
    'lpop': ((3, (1,), ('r', 0, 1, 0)),),
    'lpos': ((1, (1,), ('r', 0, 1, 0)),),
    'lpush': ((2, (1,), ('r', 0, 1, 0)),),
    'lpushx': ((2, (1,), ('r', 0, 1, 0)),),
    'lrange': ((1, (1,), ('r', 0, 1, 0)),),
    'lrem': ((2, (1,), ('r', 0, 1, 0)),),
    'lset': ((2, (1,), ('r', 0, 1, 0)),),
    'ltrim': ((2, (1,), ('r', 0, 1, 0)),),
    'memory|usage': ((0, (2,), ('r', 0, 1, 0)),),
    'mget': ((1, (1,), ('r', -1, 1, 0)),),
    'migrate': ((3, (3,), ('r', 0, 1, 0)), (3, ('KEYS', -2), ('r', -1, 1, 0))),
    'move': ((3, (1,), ('r', 0, 1, 0)),),
    'mset': ((2, (1,), ('r', -1, 2, 0)),),
    'msetnx': ((2, (1,), ('r', -1, 2, 0)),),
    'object|encoding': ((0, (2,), ('r', 0, 1, 0)),),
    'object|freq': ((0, (2,), ('r', 0, 1, 0)),),
    'object|idletime': ((0, (2,), ('r', 0, 1, 0)),),
    'object|refcount': ((0, (2,), ('r', 0, 1, 0)),),
    'persist': ((2, (1,), ('r', 0, 1, 0)),),
    'pexpire': ((2, (1,), ('r', 0, 1, 0)),),
    'pexpireat': ((2, (1,), ('r', 0, 1, 0)),),
    'pexpiretime': ((1, (1,), ('r', 0, 1, 0)),),
    'pfadd': ((2, (1,), ('r', 0, 1, 0)),),
    'pfcount': ((1, (1,), ('r', -1, 1, 0)),),
    'pfdebug': ((1, (2,), ('r', 0, 1, 0)),),
    'pfmerge': ((3, (1,), ('r', 0, 1, 0)), (1, (2,), ('r', -1, 1, 0))),
    'psetex': ((2, (1,), ('r', 0, 1, 0)),),
    'pttl': ((1, (1,), ('r', 0, 1, 0)),),
    'rename': ((3, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'renamenx': ((3, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'restore': ((2, (1,), ('r', 0, 1, 0)),),
    'restore-asking': ((2, (1,), ('r', 0, 1, 0)),),
    'rpop': ((3, (1,), ('r', 0, 1, 0)),),
    'rpoplpush': ((3, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'rpush': ((2, (1,), ('r', 0, 1, 0)),),
    'rpushx': ((2, (1,), ('r', 0, 1, 0)),),
    'sadd': ((2, (1,), ('r', 0, 1, 0)),),
    'scard': ((0, (1,), ('r', 0, 1, 0)),),
    'sdiff': ((1, (1,), ('r', -1, 1, 0)),),
    'sdiffstore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('r', -1, 1, 0))),
    'set': ((3, (1,), ('r', 0, 1, 0)),),
    'setbit': ((3, (1,), ('r', 0, 1, 0)),),
    'setex': ((2, (1,), ('r', 0, 1, 0)),),
    'setnx': ((2, (1,), ('r', 0, 1, 0)),),
    'setrange': ((2, (1,), ('r', 0, 1, 0)),),
    'sinter': ((1, (1,), ('r', -1, 1, 0)),),
    'sintercard': ((1, (1,), ('n', 0, 1, 1)),),
    'sinterstore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('r', -1, 1, 0))),
    'sismember': ((0, (1,), ('r', 0, 1, 0)),),
    'smembers': ((1, (1,), ('r', 0, 1, 0)),),
    'smismember': ((1, (1,), ('r', 0, 1, 0)),),
    'smove': ((3, (1,), ('r', 0, 1, 0)), (2, (2,), ('r', 0, 1, 0))),
    'sort': ((1, (1,), ('r', 0, 1, 0)), (1, None, None), (2, None, None)),
    'sort_ro': ((1, (1,), ('r', 0, 1, 0)), (1, None, None)),
    'spop': ((3, (1,), ('r', 0, 1, 0)),),
    'srandmember': ((1, (1,), ('r', 0, 1, 0)),),
    'srem': ((2, (1,), ('r', 0, 1, 0)),),
    'sscan': ((1, (1,), ('r', 0, 1, 0)),),
    'strlen': ((0, (1,), ('r', 0, 1, 0)),),
    'substr': ((1, (1,), ('r', 0, 1, 0)),),
    'sunion': ((1, (1,), ('r', -1, 1, 0)),),
    'sunionstore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('r', -1, 1, 0))),
    'touch': ((0, (1,), ('r', -1, 1, 0)),),
    'ttl': ((1, (1,), ('r', 0, 1, 0)),),
    'type': ((0, (1,), ('r', 0, 1, 0)),),
    'unlink': ((2, (1,), ('r', -1, 1, 0)),),
    'watch': ((0, (1,), ('r', -1, 1, 0)),),
    'xack': ((2, (1,), ('r', 0, 1, 0)),),
    'xadd': ((2, (1,), ('r', 0, 1, 0)),),
    'xautoclaim': ((2, (1,), ('r', 0, 1, 0)),),
    'xclaim': ((2, (1,), ('r', 0, 1, 0)),),
    'xdel': ((2, (1,), ('r', 0, 1, 0)),),
    'xgroup|create': ((2, (2,), ('r', 0, 1, 0)),),
    'xgroup|createconsumer': ((2, (2,), ('r', 0, 1, 0)),),
    'xgroup|delconsumer': ((2, (2,), ('r', 0, 1, 0)),),
    'xgroup|destroy': ((2, (2,), ('r', 0, 1, 0)),),
    'xgroup|setid': ((2, (2,), ('r', 0, 1, 0)),),
    'xinfo|consumers': ((1, (2,), ('r', 0, 1, 0)),),
    'xinfo|groups': ((1, (2,), ('r', 0, 1, 0)),),
    'xinfo|stream': ((1, (2,), ('r', 0, 1, 0)),),
    'xlen': ((0, (1,), ('r', 0, 1, 0)),),
    'xpending': ((1, (1,), ('r', 0, 1, 0)),),
    'xrange': ((1, (1,), ('r', 0, 1, 0)),),
    'xread': ((1, ('STREAMS', 1), ('r', -1, 1, 2)),),
    'xreadgroup': ((1, ('STREAMS', 4), ('r', -1, 1, 2)),),
    'xrevrange': ((1, (1,), ('r', 0, 1, 0)),),
    'xsetid': ((2, (1,), ('r', 0, 1, 0)),),
    'xtrim': ((2, (1,), ('r', 0, 1, 0)),),
    'zadd': ((2, (1,), ('r', 0, 1, 0)),),
    'zcard': ((0, (1,), ('r', 0, 1, 0)),),
    'zcount': ((1, (1,), ('r', 0, 1, 0)),),
    'zdiff': ((1, (1,), ('n', 0, 1, 1)),),
    'zdiffstore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('n', 0, 1, 1))),
    'zincrby': ((3, (1,), ('r', 0, 1, 0)),),
    'zinter': ((1, (1,), ('n', 0, 1, 1)),),
    'zintercard': ((1, (1,), ('n', 0, 1, 1)),),
    'zinterstore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('n', 0, 1, 1))),
    'zlexcount': ((1, (1,), ('r', 0, 1, 0)),),
    'zmpop': ((3, (1,), ('n', 0, 1, 1)),),
    'zmscore': ((1, (1,), ('r', 0, 1, 0)),),
    'zpopmax': ((3, (1,), ('r', 0, 1, 0)),),
    'zpopmin': ((3, (1,), ('r', 0, 1, 0)),),
    'zrandmember': ((1, (1,), ('r', 0, 1, 0)),),
    'zrange': ((1, (1,), ('r', 0, 1, 0)),),
    'zrangebylex': ((1, (1,), ('r', 0, 1, 0)),),
    'zrangebyscore': ((1, (1,), ('r', 0, 1, 0)),),
    'zrangestore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('r', 0, 1, 0))),
    'zrank': ((1, (1,), ('r', 0, 1, 0)),),
    'zrem': ((2, (1,), ('r', 0, 1, 0)),),
    'zremrangebylex': ((2, (1,), ('r', 0, 1, 0)),),
    'zremrangebyrank': ((2, (1,), ('r', 0, 1, 0)),),
    'zremrangebyscore': ((2, (1,), ('r', 0, 1, 0)),),
    'zrevrange': ((1, (1,), ('r', 0, 1, 0)),),
    'zrevrangebylex': ((1, (1,), ('r', 0, 1, 0)),),
    'zrevrangebyscore': ((1, (1,), ('r', 0, 1, 0)),),
    'zrevrank': ((1, (1,), ('r', 0, 1, 0)),),
    'zscan': ((1, (1,), ('r', 0, 1, 0)),),
    'zscore': ((1, (1,), ('r', 0, 1, 0)),),
    'zunion': ((1, (1,), ('n', 0, 1, 1)),),
    'zunionstore': ((2, (1,), ('r', 0, 1, 0)), (1, (2,), ('n', 0, 1, 1))),
}


def _uniform(specs: tuple[Any, ...]) -> int | None:
    perms = {s[0] for s in specs}
    return perms.pop() if len(perms) == 1 else None


# Commands whose keys all need the same access: precomputed.
_UNIFORM = {name: _uniform(specs) for name, specs in SPECS.items()}


def _search(specs: tuple[Any, ...], argv: list[bytes]) -> dict[int, int]:
    """getKeysUsingKeySpecs, keeping what each spec finds (an invalid spec finds
    nothing) as position → access."""
    argc = len(argv)
    found: dict[int, int] = {}
    for perm, begin, find in specs:
        if begin is None or find is None:
            continue
        if len(begin) == 1:
            first = begin[0]
        else:
            keyword, start = begin[0].encode(), begin[1]
            first = 0
            i = start if start > 0 else argc + start
            end = argc - 1 if start > 0 else 1
            direction = 1 if i <= end else -1
            while i != end and 1 <= i < argc:  # the end index itself is not looked at
                if argv[i].lower() == keyword.lower():
                    first = i + 1
                    break
                i += direction
            if not first:
                continue
        if find[0] == "r":
            _, lastkey, step, limit = find
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        else:
            _, keynumidx, firstkey, step = find
            if first + keynumidx >= argc:
                continue
            try:
                numkeys = int(argv[first + keynumidx])
            except ValueError:
                continue
            if numkeys < 0:
                continue
            first += firstkey
            last = first + numkeys - 1
        if last >= argc or last < first or first >= argc:
            continue
        for pos in range(first, last + 1, step):
            found.setdefault(pos, perm)
    return found


# Commands with fixed key positions (no getkeys function) and one access for all keys:
# their references depend only on the argument count, so they are remembered.
_BY_ARGC: dict[tuple[int, int], list[tuple[int, int]]] = {}
_BY_ARGC_MAX = 4096


def key_references(cmd: Command, argv: list[bytes]) -> list[tuple[int, int]]:
    """(position, access needed) for every key argv names."""
    name = cmd.name
    if cmd.getkeys is None and name != "set" and name != "bitfield":
        cached = _BY_ARGC.get((cmd.stat_index, len(argv)))
        if cached is None:
            cached = _references(cmd, argv)
            if _UNIFORM.get(name) is not None and len(_BY_ARGC) < _BY_ARGC_MAX:
                _BY_ARGC[(cmd.stat_index, len(argv))] = cached
        return cached
    return _references(cmd, argv)


def _references(cmd: Command, argv: list[bytes]) -> list[tuple[int, int]]:
    positions = cmd.key_positions(argv)
    if not positions:
        return []
    name = cmd.name
    if name == "set":  # setGetKeys: reading the old value only with GET
        perm = WRITE
        for arg in argv[3:]:
            if arg.lower() == b"get":
                perm = READ | WRITE
        return [(pos, perm) for pos in positions]
    if name == "bitfield":
        writes = any(a.lower() in (b"set", b"incrby") for a in argv[2:])
        return [(pos, READ | WRITE if writes else READ) for pos in positions]
    perm = _UNIFORM.get(name)
    if perm is not None:
        return [(pos, perm) for pos in positions]
    specs = SPECS.get(name)
    if specs is None:  # not a Redis command with key specs: be strict
        return [(pos, READ | WRITE) for pos in positions]
    found = _search(specs, argv)
    rest = WRITE if name == "sort" else _union(specs)  # SORT ... STORE dest
    return [(pos, found.get(pos, rest)) for pos in positions]


def _union(specs: tuple[Any, ...]) -> int:
    perm = 0
    for spec in specs:
        perm |= spec[0]
    return perm
