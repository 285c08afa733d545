"""String commands.  A string value is stored as plain ``bytes``; counters are parsed
with Redis's integer rules on every use and stored back as their decimal text."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command
from respd.commands.keyspace import delete_key, expire_key, mark_raw, persist_key
from respd.numbers import INT64_MAX, INT64_MIN, int64, long_double_add
from respd.resp import OK, Map

GROUP = "string"

# Option bits of parseExtendedStringArgumentsOrReply.
NX, XX, GET, KEEPTTL, PERSIST = 1, 2, 4, 8, 16
EX, PX, EXAT, PXAT = 32, 64, 128, 256
_EXPIRY = EX | PX | EXAT | PXAT
_SET_ONLY = NX | XX | GET | KEEPTTL  # the rest (PERSIST) is GETEX's


def _option(bit: int, conflicts: int) -> tuple[int, int, bool, bool, bool]:
    """(bit, options it may not follow, takes a value, allowed in SET, in GETEX)."""
    expiry = bool(bit & _EXPIRY)
    return bit, conflicts, expiry, expiry or bool(bit & _SET_ONLY), not bit & _SET_ONLY


# A conflict is a syntax error; an expiry conflicts with another unit, KEEPTTL or
# PERSIST (the same unit may repeat).
_OPTIONS = {
    b"NX": _option(NX, XX), b"XX": _option(XX, NX), b"GET": _option(GET, 0),
    b"KEEPTTL": _option(KEEPTTL, PERSIST | _EXPIRY),
    b"PERSIST": _option(PERSIST, KEEPTTL | _EXPIRY),
    **{word: _option(bit, KEEPTTL | PERSIST | (_EXPIRY & ~bit))
       for word, bit in ((b"EX", EX), (b"PX", PX), (b"EXAT", EXAT), (b"PXAT", PXAT))},
}


def _option_word(raw: bytes) -> bytes:
    if raw in _OPTIONS:  # spelled as clients usually send it
        return raw
    # Redis compares options as C strings, case-insensitively: a NUL byte ends the word.
    return raw.split(b"\0", 1)[0].upper()


def parse_string_options(argv: list[bytes], start: int, for_set: bool) -> tuple[int, bytes | None]:
    """The option loop SET and GETEX share, in Redis's order: (flags, raw expiry)."""
    flags, raw_expire = 0, None
    i = start
    n = len(argv)
    while i < n:
        spec = _OPTIONS.get(argv[i]) or _OPTIONS.get(_option_word(argv[i]))
        if spec is None:
            raise errors.SYNTAX
        bit, conflicts, takes_value, in_set, in_getex = spec
        if flags & conflicts or not (in_set if for_set else in_getex):
            raise errors.SYNTAX
        flags |= bit
        if takes_value:
            if i + 1 >= n:
                raise errors.SYNTAX
            raw_expire = argv[i + 1]
            i += 2
        else:
            i += 1
    return flags, raw_expire


def expire_at_ms(client: Client, flags: int, raw: bytes, cmdname: str) -> int:
    """getExpireMillisecondsOrReply: the absolute expiry time in ms."""
    value = int64(raw)
    if value <= 0 or (flags & (EX | EXAT) and value > INT64_MAX // 1000):
        raise errors.invalid_expire(cmdname)
    if flags & (EX | EXAT):
        value *= 1000
    if flags & (EX | PX):
        value += client.server.now_ms()
    if value > INT64_MAX:
        raise errors.invalid_expire(cmdname)
    return value


def _string(client: Client, key: bytes) -> bytes | None:
    return client.db.lookup_typed(key, bytes)


def _store(client: Client, key: bytes, value: bytes, event: bytes, keep_ttl: bool = False) -> None:
    """setKey + the 'set'-style event + dirty."""
    client.db.set(key, value, keep_ttl=keep_ttl)
    client.db.notify("$", event, key)
    client.server.dirty += 1


def _set_generic(client: Client, key: bytes, value: bytes, flags: int,
                 raw_expire: bytes | None, cmdname: str) -> tuple[bool, bytes | None]:
    """setGenericCommand: (stored?, old value when GET was given)."""
    when = expire_at_ms(client, flags, raw_expire, cmdname) if raw_expire is not None else None
    db = client.db
    if flags & GET:
        old = db.lookup_typed(key, bytes)
        found = old is not None
    else:
        old = None
        found = db.lookup(key) is not None
    if (flags & NX and found) or (flags & XX and not found):
        return False, old
    _store(client, key, value, b"set", keep_ttl=bool(flags & KEEPTTL))
    if when is not None:
        db.set_expire(key, when)
        db.notify("g", b"expire", key)
        if client.server.propagating:
            # AOF determinism: relative times become an absolute PXAT
            client.propagate_as = [[b"SET", key, value, b"PXAT", b"%d" % when]]
    return True, old


@command("SET", arity=-3, flags="write denyoom", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Set the string value of a key",
         syntax="key value [NX | XX] [GET] [EX seconds:integer | PX milliseconds:integer | "
                "EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | "
                "KEEPTTL]",
         history=(("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                  ("6.0.0", "Added the `KEEPTTL` option."),
                  ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                  ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")))
def set_(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:  # the plain form, the hot one, without the option machinery
        db = client.db
        key = argv[1]
        if db.expires:
            db.lookup(key)  # lazy expiry first, like setGenericCommand's lookup
        _store(client, key, argv[2], b"set")
        return OK
    flags, raw_expire = parse_string_options(argv, 3, for_set=True)
    stored, old = _set_generic(client, argv[1], argv[2], flags, raw_expire, "set")
    if flags & GET:
        if stored and raw_expire is None:
            # the GET words are not replicated (Redis drops them from argv)
            client.propagate_as = [argv[:3] + [a for a in argv[3:] if _option_word(a) != b"GET"]]
        return old
    return OK if stored else None


@command("SETNX", arity=3, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Set the value of a key, only if the key does not exist",
         syntax="key value")
def setnx(client: Client, argv: list[bytes]) -> Any:
    return int(_set_generic(client, argv[1], argv[2], NX, None, "setnx")[0])


@command("SETEX", arity=4, flags="write denyoom", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Set the value and expiration of a key",
         syntax="key seconds:integer value")
def setex(client: Client, argv: list[bytes]) -> Any:
    _set_generic(client, argv[1], argv[3], EX, argv[2], "setex")
    return OK


@command("PSETEX", arity=4, flags="write denyoom", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.6.0", summary="Set the value and expiration in milliseconds of a key",
         syntax="key milliseconds:integer value")
def psetex(client: Client, argv: list[bytes]) -> Any:
    _set_generic(client, argv[1], argv[3], PX, argv[2], "psetex")
    return OK


@command("GET", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Get the value of a key", syntax="key")
def get(client: Client, argv: list[bytes]) -> Any:
    return client.db.lookup_typed(argv[1], bytes)


@command("GETDEL", arity=2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.2.0", summary="Get the value of a key and delete the key", syntax="key")
def getdel(client: Client, argv: list[bytes]) -> Any:
    value = _string(client, argv[1])
    if value is not None:
        delete_key(client, argv[1])
    return value


@command("GETEX", arity=-2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.2.0", summary="Get the value of a key and optionally set its expiration",
         syntax="key [EX seconds:integer | PX milliseconds:integer | "
                "EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | "
                "PERSIST]")
def getex(client: Client, argv: list[bytes]) -> Any:
    flags, raw_expire = parse_string_options(argv, 2, for_set=False)
    key = argv[1]
    value = _string(client, key)
    if value is None:
        return None
    if raw_expire is not None:
        # EX/PX are positive, so only EXAT/PXAT can name a time already past
        when = expire_at_ms(client, flags, raw_expire, "getex")
        if expire_key(client, key, when):
            client.propagate_as = [[b"PEXPIREAT", key, b"%d" % when]]
    elif flags & PERSIST and persist_key(client, key):
        client.propagate_as = [[b"PERSIST", key]]
    return value


@command("GETSET", arity=3, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Set the string value of a key and return its old value",
         syntax="key value")
def getset(client: Client, argv: list[bytes]) -> Any:
    old = _string(client, argv[1])
    _store(client, argv[1], argv[2], b"set")
    client.propagate_as = [[b"SET", argv[1], argv[2]]]
    return old


@command("MGET", arity=-2, flags="readonly fast", plain=True, keys=(1, -1, 1), group=GROUP,
         since="1.0.0", summary="Get the values of all the given keys",
         complexity="O(N) where N is the number of keys to retrieve.", syntax="key [key ...]")
def mget(client: Client, argv: list[bytes]) -> Any:
    lookup = client.db.lookup
    values = []
    for key in argv[1:]:
        value = lookup(key)
        values.append(value if type(value) is bytes else None)
    return values


def _mset_pairs(argv: list[bytes]) -> list[tuple[bytes, bytes]]:
    if len(argv) % 2 == 0:
        raise errors.wrong_arity(argv[0].lower().decode("latin-1"))
    return list(zip(argv[1::2], argv[2::2]))


@command("MSET", arity=-3, flags="write denyoom", plain=True, keys=(1, -1, 2), group=GROUP,
         since="1.0.1", summary="Set multiple keys to multiple values",
         complexity="O(N) where N is the number of keys to set.",
         syntax="key value [key value ...]")
def mset(client: Client, argv: list[bytes]) -> Any:
    for key, value in _mset_pairs(argv):
        _store(client, key, value, b"set")
    return OK


@command("MSETNX", arity=-3, flags="write denyoom", plain=True, keys=(1, -1, 2), group=GROUP,
         since="1.0.1",
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         complexity="O(N) where N is the number of keys to set.",
         syntax="key value [key value ...]")
def msetnx(client: Client, argv: list[bytes]) -> Any:
    pairs = _mset_pairs(argv)
    lookup = client.db.lookup
    if any(lookup(key) is not None for key, _ in pairs):
        return 0
    for key, value in pairs:
        _store(client, key, value, b"set")
    return 1


# --- counters ------------------------------------------------------------------------


def _incr(client: Client, key: bytes, delta: int) -> int:
    """incrDecrCommand: the stored value must be an int64 and so must the result."""
    db = client.db
    current = db.lookup_typed(key, bytes)
    result = delta if current is None else int64(current) + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise errors.OVERFLOW
    # an existing key keeps its TTL (dbOverwrite)
    _store(client, key, b"%d" % result, b"incrby", keep_ttl=True)
    return result


_COUNTER = dict(flags="write denyoom fast", keys=(1, 1, 1), group=GROUP)


@command("INCR", plain=True, arity=2, since="1.0.0",
         summary="Increment the integer value of a key by one",
         syntax="key", **_COUNTER)
def incr(client: Client, argv: list[bytes]) -> Any:
    return _incr(client, argv[1], 1)


@command("DECR", plain=True, arity=2, since="1.0.0",
         summary="Decrement the integer value of a key by one",
         syntax="key", **_COUNTER)
def decr(client: Client, argv: list[bytes]) -> Any:
    return _incr(client, argv[1], -1)


@command("INCRBY", plain=True, arity=3, since="1.0.0",
         summary="Increment the integer value of a key by the given amount",
         syntax="key increment:integer", **_COUNTER)
def incrby(client: Client, argv: list[bytes]) -> Any:
    return _incr(client, argv[1], int64(argv[2]))


@command("DECRBY", plain=True, arity=3, since="1.0.0",
         summary="Decrement the integer value of a key by the given number",
         syntax="key decrement:integer", **_COUNTER)
def decrby(client: Client, argv: list[bytes]) -> Any:
    delta = int64(argv[2])
    if delta == INT64_MIN:  # its negation does not fit
        raise errors.DECREMENT_OVERFLOW
    return _incr(client, argv[1], -delta)


@command("INCRBYFLOAT", plain=True, arity=3, since="2.6.0",
         summary="Increment the float value of a key by the given amount",
         syntax="key increment:double", **_COUNTER)
def incrbyfloat(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    result = long_double_add(_string(client, key), argv[2])
    _store(client, key, result, b"incrbyfloat", keep_ttl=True)
    # replicate the result, never the arithmetic: formatting must not drift
    client.propagate_as = [[b"SET", key, result, b"KEEPTTL"]]
    return result


# --- editing ---------------------------------------------------------------------------


def _check_length(client: Client, total: int) -> None:
    """checkStringLength: the result may not exceed proto-max-bulk-len (the AOF loader
    is exempt: what was written once is replayed)."""
    if total > client.server.config.proto_max_bulk_len and not client.loading:
        raise errors.STRING_TOO_LONG


@command("APPEND", arity=3, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.0.0", summary="Append a value to a key", syntax="key value")
def append(client: Client, argv: list[bytes]) -> Any:
    key, tail = argv[1], argv[2]
    current = _string(client, key)
    if current is None:
        value = tail
    else:
        _check_length(client, len(current) + len(tail))
        value = current + tail
    _store(client, key, value, b"append", keep_ttl=True)
    if current is not None:
        mark_raw(client.db, key)
    return len(value)


@command("SETRANGE", arity=4, flags="write denyoom", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.2.0",
         summary="Overwrite part of a string at key starting at the specified offset",
         syntax="key offset:integer value")
def setrange(client: Client, argv: list[bytes]) -> Any:
    key, patch = argv[1], argv[3]
    offset = int64(argv[2])
    if offset < 0:
        raise errors.OFFSET_RANGE
    current = _string(client, key)
    if not patch:
        return 0 if current is None else len(current)
    _check_length(client, offset + len(patch))
    base = current or b""
    # one join: a padded string can be proto-max-bulk-len long
    value = b"".join((base[:offset], bytes(max(offset - len(base), 0)), patch,
                      base[offset + len(patch):]))
    _store(client, key, value, b"setrange", keep_ttl=True)
    mark_raw(client.db, key)
    return len(value)


@command("STRLEN", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.2.0", summary="Get the length of the value stored in a key", syntax="key")
def strlen(client: Client, argv: list[bytes]) -> Any:
    value = _string(client, argv[1])
    return 0 if value is None else len(value)


def _getrange(client: Client, argv: list[bytes]) -> bytes:
    start, end = int64(argv[2]), int64(argv[3])
    value = _string(client, argv[1])
    if value is None:
        return b""
    size = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(size + start, 0)
    if end < 0:
        end = max(size + end, 0)
    end = min(end, size - 1)
    if start > end or size == 0:
        return b""
    return value[start:end + 1]


_RANGE_COMPLEXITY = ("O(N) where N is the length of the returned string. The complexity is "
                     "ultimately determined by the returned length, but because creating a "
                     "substring from an existing string is very cheap, it can be considered "
                     "O(1) for small strings.")


@command("GETRANGE", arity=4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.4.0",
         summary="Get a substring of the string stored at a key", complexity=_RANGE_COMPLEXITY,
         syntax="key start:integer end:integer")
def getrange(client: Client, argv: list[bytes]) -> Any:
    return _getrange(client, argv)


@command("SUBSTR", arity=4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Get a substring of the string stored at a key", complexity=_RANGE_COMPLEXITY,
         syntax="key start:integer end:integer")
def substr(client: Client, argv: list[bytes]) -> Any:
    return _getrange(client, argv)


# --- LCS ---------------------------------------------------------------------------------


def _lcs_table(a: bytes, b: bytes) -> list[list[int]]:
    """table[i][j]: length of the LCS of a[:i] and b[:j] (the vanilla DP Redis uses)."""
    table = [[0] * (len(b) + 1)]
    for i in range(1, len(a) + 1):
        prev, row = table[-1], [0]
        ch = a[i - 1]
        for j in range(1, len(b) + 1):
            row.append(prev[j - 1] + 1 if ch == b[j - 1] else max(prev[j], row[j - 1]))
        table.append(row)
    return table


def _lcs_walk(a: bytes, b: bytes, table: list[list[int]], min_len: int,
              with_len: bool) -> tuple[bytes, list[list[Any]]]:
    """Walk the table back from the end, as Redis does: the LCS string and the matched
    ranges (latest first), ranges shorter than min_len left out."""
    out = bytearray()
    ranges: list[list[Any]] = []
    i, j = len(a), len(b)
    a_start = a_end = b_start = b_end = -1  # -1: no range open
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            if a_start == -1:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            i -= 1
            j -= 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            emit = a_start != -1
        if emit:
            length = a_end - a_start + 1
            if min_len == 0 or length >= min_len:
                match = [[a_start, a_end], [b_start, b_end]]
                ranges.append(match + [length] if with_len else match)
            a_start = -1
    out.reverse()
    return bytes(out), ranges


@command("LCS", arity=-3, flags="readonly", plain=True, keys=(1, 2, 1), group=GROUP, since="7.0.0",
         summary="Find longest common substring",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
         syntax="key1:key key2:key [LEN] [IDX] [MINMATCHLEN min-match-len:integer] "
                "[WITHMATCHLEN]")
def lcs(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    a, b = db.lookup(argv[1]), db.lookup(argv[2])
    if (a is not None and type(a) is not bytes) or (b is not None and type(b) is not bytes):
        raise errors.LCS_NOT_STRINGS
    a, b = a or b"", b or b""
    want_len = want_idx = with_len = False
    min_len = 0
    i = 3
    while i < len(argv):
        option = argv[i].upper()
        if option == b"IDX":
            want_idx = True
        elif option == b"LEN":
            want_len = True
        elif option == b"WITHMATCHLEN":
            with_len = True
        elif option == b"MINMATCHLEN" and i + 1 < len(argv):
            min_len = max(int64(argv[i + 1]), 0)
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    if want_idx and want_len:
        raise errors.LCS_IDX_AND_LEN
    table = _lcs_table(a, b)
    total = table[len(a)][len(b)]
    if want_len:
        return total
    common, ranges = _lcs_walk(a, b, table, min_len, with_len)
    if want_idx:
        return Map({b"matches": ranges, b"len": total})
    return common

