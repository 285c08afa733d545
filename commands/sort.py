"""SORT and SORT_RO: sort a list, set or sorted set numerically or by bytes, by its own
elements or by the values of other keys (BY pattern, hash fields with ``->``), fetch
other keys per element (GET, ``#`` for the element), LIMIT, and SORT ... STORE into a
list.  Option order, the LIMIT clamping and the tie-break (equal scores compare the
elements' bytes) follow sortCommandGeneric."""

from __future__ import annotations

from typing import Any

from respd import errors
from respd.acl import READ
from respd.client import Client
from respd.command import command
from respd.numbers import int64, parse_double
from respd.storage.hashes import HashValue
from respd.storage.lists import ListValue
from respd.storage.sets import SetValue
from respd.storage.zset import ZSet

GROUP = "generic"
_C_SPACE = b" \t\n\v\f\r"
_SORTABLE = (ListValue, SetValue, ZSet)


def _keys(argv: list[bytes]) -> list[int]:
    """sortGetKeys: the sorted key, and the key after the last STORE."""
    keys = [1]
    store = None
    i = 2
    while i < len(argv):
        word = argv[i].lower()
        if word == b"limit":
            i += 2
        elif word in (b"get", b"by"):
            i += 1
        elif word == b"store" and i + 1 < len(argv):
            store = i + 1
        i += 1
    return keys + [store] if store is not None else keys


def _full_key_access(client: Client) -> bool:
    """Whether the user may read any key (BY and GET patterns name keys from the data)."""
    return any(selector.key_allowed(b"*", READ) for selector in client.user.selectors)


def _by_pattern(db: Any, pattern: bytes, element: bytes) -> bytes | None:
    """lookupKeyByPattern: the string at pattern with its first '*' replaced by element,
    or the field after '->' of the hash there; '#' is the element itself."""
    cpat = pattern.split(b"\0", 1)[0]  # Redis looks for '#', '*' and '->' as C strings
    if cpat == b"#":
        return element
    star = cpat.find(b"*")
    if star < 0:
        return None
    arrow = cpat.find(b"->", star + 1)
    field = None
    if arrow >= 0 and arrow + 2 < len(cpat):
        field = pattern[arrow + 2:]
        key = pattern[:star] + element + pattern[star + 1:arrow]
    else:
        key = pattern[:star] + element + pattern[star + 1:]
    value = db.read(key)  # BY/GET patterns are counted reads
    if field is None:
        return value if type(value) is bytes else None
    return value.get(field) if type(value) is HashValue else None


def _score(raw: bytes) -> float | None:
    """strtod over the whole string: leading space allowed, an empty string is 0; None
    for trailing garbage, NaN or a range error."""
    raw = raw.lstrip(_C_SPACE)
    if not raw:
        return 0.0
    return parse_double(raw)


def _parse(client: Client, argv: list[bytes], readonly: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {"desc": False, "alpha": False, "start": 0, "count": -1,
                            "store": None, "by": None, "dontsort": False, "gets": []}
    full_access: bool | None = None
    i = 2
    while i < len(argv):
        word = argv[i].lower()
        left = len(argv) - i - 1
        if word == b"asc":
            opts["desc"] = False
        elif word == b"desc":
            opts["desc"] = True
        elif word == b"alpha":
            opts["alpha"] = True
        elif word == b"limit" and left >= 2:
            opts["start"], opts["count"] = int64(argv[i + 1]), int64(argv[i + 2])
            i += 2
        elif not readonly and word == b"store" and left >= 1:
            opts["store"] = argv[i + 1]
            i += 1
        elif word == b"by" and left >= 1:
            opts["by"] = argv[i + 1]
            if b"*" not in argv[i + 1].split(b"\0", 1)[0]:
                opts["dontsort"] = True
            else:
                full_access = _full_key_access(client) if full_access is None else full_access
                if not full_access:
                    raise errors.SORT_BY_ACL
            i += 1
        elif word == b"get" and left >= 1:
            full_access = _full_key_access(client) if full_access is None else full_access
            if not full_access:
                raise errors.SORT_GET_ACL
            opts["gets"].append(argv[i + 1])
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    return opts


def _elements(value: Any, dontsort: bool, desc: bool) -> list[bytes]:
    if type(value) is ZSet:
        members = [member for _, member in value]
        return members[::-1] if dontsort and desc else members
    if type(value) is ListValue:
        return list(reversed(value)) if dontsort and desc else list(value)
    return list(value)


def _sorted(db: Any, elements: list[bytes], opts: dict[str, Any]) -> list[bytes]:
    by, desc = opts["by"], opts["desc"]
    if opts["alpha"]:
        if by is None:
            return sorted(elements, reverse=desc)
        # Elements whose BY key is missing sort first (as equals among themselves).
        keyed = [(_by_pattern(db, by, e), e) for e in elements]
        keyed.sort(key=lambda pair: (pair[0] is not None, pair[0] or b""), reverse=desc)
        return [e for _, e in keyed]
    scored = []
    for element in elements:
        raw = element if by is None else _by_pattern(db, by, element)
        score = 0.0 if raw is None else _score(raw)
        if score is None:
            raise errors.SORT_NOT_DOUBLE
        scored.append((score, element))
    scored.sort(reverse=desc)
    return [e for _, e in scored]


def _sort(client: Client, argv: list[bytes], readonly: bool) -> Any:
    opts = _parse(client, argv, readonly)
    db = client.db
    value = db.read(argv[1])
    if value is not None and type(value) not in _SORTABLE:
        raise errors.WRONGTYPE
    store = opts["store"]
    if opts["dontsort"] and type(value) is SetValue and (store is not None or client.in_script):
        # A set's own order is not deterministic: scripts and STORE sort it by bytes.
        opts.update(dontsort=False, alpha=True, by=None)
    elements = [] if value is None else _elements(value, opts["dontsort"], opts["desc"])
    if not opts["dontsort"]:
        elements = _sorted(db, elements, opts)
    size = len(elements)
    start = max(opts["start"], 0)
    end = size - 1 if opts["count"] < 0 else start + opts["count"] - 1
    if start >= size:
        start, end = size - 1, size - 2
    end = min(end, size - 1)
    picked = elements[start:end + 1] if end >= start else []
    gets = opts["gets"]
    if not gets:
        out: list[Any] = picked
    else:
        out = [_by_pattern(db, pattern, e) for e in picked for pattern in gets]
    if store is None:
        return out
    server = client.server
    if out:
        db.set(store, ListValue(b"" if item is None else item for item in out))
        db.modified(store)
        db.notify("l", b"sortstore", store)
        server.dirty += len(out)
    elif db.delete(store):
        db.modified(store)
        db.notify("g", b"del", store)
        server.dirty += 1
    return len(out)


_SORT_SYNTAX = ("key [BY pattern:pattern] [LIMIT offset:integer count:integer] "
                "[GET pattern:pattern [GET pattern:pattern ...]] [ASC|DESC] [ALPHA]")


@command("SORT", arity=-2, flags="write denyoom", keys=(1, 1, 1), getkeys=_keys,
         group=GROUP, since="1.0.0", acl="write set sortedset list slow dangerous",
         summary="Sort the elements in a list, set or sorted set",
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set to "
                    "sort, and M the number of returned elements. When the elements are not "
                    "sorted, complexity is O(N).",
         syntax=_SORT_SYNTAX + " [STORE destination:key]")
def sort(client: Client, argv: list[bytes]) -> Any:
    return _sort(client, argv, readonly=False)


@command("SORT_RO", arity=-2, flags="readonly", keys=(1, 1, 1), getkeys=lambda argv: [1],
         group=GROUP, since="7.0.0", acl="read set sortedset list slow dangerous",
         summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set to "
                    "sort, and M the number of returned elements. When the elements are not "
                    "sorted, complexity is O(N).",
         syntax=_SORT_SYNTAX)
def sort_ro(client: Client, argv: list[bytes]) -> Any:
    return _sort(client, argv, readonly=True)
