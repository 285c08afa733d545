"""List commands, blocking pops included (Redis 7.0's t_list.c semantics).

Blocking: BLPOP & co. serve at once when a key in argument order has elements; otherwise
they park through ``client.block``.  A write to a watched key re-runs the stored argv
with ``client.reprocessing`` set; the re-run then only looks at the key that became
ready (``server.blocking.serving_key``), as Redis serves the ready key itself, and a key
of another type keeps the client waiting (7.0 skips clients blocked for another type).
A served blocking command is propagated as its non-blocking form (BLPOP → LPOP k).
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command
from respd.commands._collections import (candidate_keys, elements_removed, elements_written,
                                         typed_or_skip)
from respd.commands.args import (LEFT, RIGHT, index_range, left_right, mpop_key_positions,
                                 numkeys_and_where, parse_timeout, positive_count)
from respd.numbers import INT64_MIN, int64
from respd.resp import NULL_ARRAY, OK
from respd.storage.lists import ListValue

GROUP = "list"
_POP_EVENTS = (b"lpop", b"rpop")
_PUSH_EVENTS = (b"lpush", b"rpush")
_POP_NAMES = (b"LPOP", b"RPOP")


# --- list internals ----------------------------------------------------------------------


def _lookup(client: Client, key: bytes) -> ListValue | None:
    return client.db.lookup_typed(key, ListValue)


def _read(client: Client, key: bytes) -> ListValue | None:
    return client.db.read_typed(key, ListValue)  # counted: the reading commands


def _pop_n(lst: ListValue, where: int, count: int) -> list[bytes]:
    pop = lst.popleft if where == LEFT else lst.pop
    return [pop() for _ in range(min(count, len(lst)))]


def _push(client: Client, key: bytes, lst: ListValue | None, values: list[bytes],
          where: int) -> int:
    if lst is None:
        lst = ListValue()
        client.db.add(key, lst)
    if where == LEFT:
        lst.extendleft(values)
    else:
        lst.extend(values)
    elements_written(client, key, "l", _PUSH_EVENTS[where], len(values))
    return len(lst)


# --- push / pop ---------------------------------------------------------------------------


def _push_existing(client: Client, argv: list[bytes], where: int) -> int:
    """[L|R]PUSHX: push only into a list that exists."""
    key = argv[1]
    lst = client.db.lookup_typed(key, ListValue)
    return 0 if lst is None else _push(client, key, lst, argv[2:], where)


# LPUSH/RPUSH and LPOP/RPOP are among the hottest paths: each handler does the one-element
# form (what most clients send) itself, without the slice or a further call, and hands
# the rest to the shared _push/_pop_count.
@command("LPUSH", arity=-3, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Prepend one or multiple elements to a list",
         syntax="key element [element ...]",
         history=(("2.4.0", "Accepts multiple `element` arguments."),))
def lpush(client: Client, argv: list[bytes]) -> int:
    key = argv[1]
    lst = client.db.lookup_typed(key, ListValue)
    if lst is None or len(argv) != 3:
        return _push(client, key, lst, argv[2:], LEFT)
    lst.appendleft(argv[2])
    elements_written(client, key, "l", b"lpush")
    return len(lst)


@command("RPUSH", arity=-3, flags="write denyoom fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Append one or multiple elements to a list",
         syntax="key element [element ...]",
         history=(("2.4.0", "Accepts multiple `element` arguments."),))
def rpush(client: Client, argv: list[bytes]) -> int:
    key = argv[1]
    lst = client.db.lookup_typed(key, ListValue)
    if lst is None or len(argv) != 3:
        return _push(client, key, lst, argv[2:], RIGHT)
    lst.append(argv[2])
    elements_written(client, key, "l", b"rpush")
    return len(lst)


@command("LPUSHX", arity=-3, flags="write denyoom fast", plain=True, keys=(1, 1, 1),
         group=GROUP, since="2.2.0",
         summary="Prepend an element to a list, only if the list exists",
         syntax="key element [element ...]",
         history=(("4.0.0", "Accepts multiple `element` arguments."),))
def lpushx(client: Client, argv: list[bytes]) -> int:
    return _push_existing(client, argv, LEFT)


@command("RPUSHX", arity=-3, flags="write denyoom fast", plain=True, keys=(1, 1, 1),
         group=GROUP, since="2.2.0",
         summary="Append an element to a list, only if the list exists",
         syntax="key element [element ...]",
         history=(("4.0.0", "Accepts multiple `element` arguments."),))
def rpushx(client: Client, argv: list[bytes]) -> int:
    return _push_existing(client, argv, RIGHT)


def _pop_count(client: Client, argv: list[bytes], where: int) -> Any:
    """[L|R]POP key count: an array, even of one element."""
    if len(argv) > 3:
        raise errors.wrong_arity(argv[0].decode("latin-1").lower())
    count = positive_count(argv[2])
    key = argv[1]
    lst = _lookup(client, key)
    if lst is None:
        return NULL_ARRAY
    if count == 0:
        return []
    popped = _pop_n(lst, where, count)
    elements_removed(client, key, lst, "l", _POP_EVENTS[where], len(popped))
    return popped


@command("LPOP", arity=-2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Remove and get the first elements in a list",
         syntax="key [count:integer]",
         history=(("6.2.0", "Added the `count` argument."),))
def lpop(client: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        return _pop_count(client, argv, LEFT)
    key = argv[1]
    lst = client.db.lookup_typed(key, ListValue)
    if lst is None:
        return None
    value = lst.popleft()
    elements_removed(client, key, lst, "l", b"lpop", 1)
    return value


@command("RPOP", arity=-2, flags="write fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0", summary="Remove and get the last elements in a list",
         syntax="key [count:integer]",
         history=(("6.2.0", "Added the `count` argument."),))
def rpop(client: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        return _pop_count(client, argv, RIGHT)
    key = argv[1]
    lst = client.db.lookup_typed(key, ListValue)
    if lst is None:
        return None
    value = lst.pop()
    elements_removed(client, key, lst, "l", b"rpop", 1)
    return value


# --- reading and editing in place ---------------------------------------------------------


@command("LLEN", arity=2, flags="readonly fast", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Get the length of a list", syntax="key")
def llen(client: Client, argv: list[bytes]) -> Any:
    lst = _read(client, argv[1])
    return 0 if lst is None else len(lst)


@command("LRANGE", arity=4, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Get a range of elements from a list",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small "
                    "lists, from nearest end (HEAD or TAIL) for large lists; and N is the "
                    "number of elements in the specified range.",
         syntax="key start:integer stop:integer")
def lrange(client: Client, argv: list[bytes]) -> Any:
    start, end = int64(argv[2]), int64(argv[3])
    lst = _read(client, argv[1])
    if lst is None:
        return []
    span = index_range(start, end, len(lst))
    if span is None:
        return []
    start, end = span
    n = len(lst)
    if start > n - 1 - end:  # nearer the tail: walk from there
        items = list(islice(reversed(lst), n - 1 - end, n - start))
        items.reverse()
        return items
    return list(islice(lst, start, end + 1))


def _position(raw: bytes, length: int) -> int | None:
    index = int64(raw)
    if index < 0:
        index += length
    return index if 0 <= index < length else None


@command("LINDEX", arity=3, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Get an element from a list by its index", complexity="O(N)",
         syntax="key index:integer")
def lindex(client: Client, argv: list[bytes]) -> Any:
    lst = _read(client, argv[1])
    if lst is None:
        return None
    index = _position(argv[2], len(lst))
    return None if index is None else lst[index]


@command("LSET", arity=4, flags="write denyoom", plain=True, keys=(1, 1, 1), group=GROUP,
         since="1.0.0",
         summary="Set the value of an element in a list by its index", complexity="O(N)",
         syntax="key index:integer element")
def lset(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    lst = _lookup(client, key)
    if lst is None:
        raise errors.NO_SUCH_KEY
    index = _position(argv[2], len(lst))
    if index is None:
        raise errors.OUT_OF_RANGE
    lst[index] = argv[3]
    elements_written(client, key, "l", b"lset")
    return OK


@command("LINSERT", arity=5, flags="write denyoom", plain=True, keys=(1, 1, 1), group=GROUP,
         since="2.2.0", summary="Insert an element before or after another element in a list",
         complexity="O(N)", syntax="key BEFORE|AFTER pivot element")
def linsert(client: Client, argv: list[bytes]) -> Any:
    where = argv[2].lower()
    if where not in (b"before", b"after"):
        raise errors.SYNTAX
    key = argv[1]
    lst = _lookup(client, key)
    if lst is None:
        return 0
    try:
        index = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(index + (where == b"after"), argv[4])
    elements_written(client, key, "l", b"linsert")
    return len(lst)


@command("LREM", arity=4, flags="write", plain=True, keys=(1, 1, 1), group=GROUP, since="1.0.0",
         summary="Remove elements from a list", complexity="O(N+M)",
         syntax="key count:integer element")
def lrem(client: Client, argv: list[bytes]) -> Any:
    count = int64(argv[2])
    key, element = argv[1], argv[3]
    lst = _lookup(client, key)
    if lst is None:
        return 0
    limit = abs(count) or len(lst)
    removed = 0
    kept: list[bytes] = []
    walk = reversed(lst) if count < 0 else iter(lst)
    for item in walk:
        if removed < limit and item == element:
            removed += 1
        else:
            kept.append(item)
    if not removed:
        return 0
    if count < 0:
        kept.reverse()
    lst.clear()
    lst.extend(kept)
    elements_removed(client, key, lst, "l", b"lrem", removed)
    return removed


@command("LTRIM", arity=4, flags="write", plain=True, keys=(1, 1, 1), group=GROUP, since="1.0.0",
         summary="Trim a list to the specified range", complexity="O(N)",
         syntax="key start:integer stop:integer")
def ltrim(client: Client, argv: list[bytes]) -> Any:
    start, end = int64(argv[2]), int64(argv[3])
    key = argv[1]
    lst = _lookup(client, key)
    if lst is None:
        return OK
    n = len(lst)
    span = index_range(start, end, n)
    left, right = (n, 0) if span is None else (span[0], n - 1 - span[1])
    for _ in range(left):
        lst.popleft()
    for _ in range(min(right, len(lst))):
        lst.pop()
    elements_removed(client, key, lst, "l", b"ltrim", left + right)
    return OK


@command("LPOS", arity=-3, flags="readonly", plain=True, keys=(1, 1, 1), group=GROUP,
         since="6.0.6",
         summary="Return the index of matching elements on a list", complexity="O(N)",
         syntax="key element [RANK rank:integer] [COUNT num-matches:integer] "
                "[MAXLEN len:integer]")
def lpos(client: Client, argv: list[bytes]) -> Any:
    rank, count, maxlen = 1, None, 0
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        more = i + 1 < len(argv)
        if option == b"rank" and more:
            rank = int64(argv[i + 1])
            if rank == 0:
                raise errors.LPOS_RANK_ZERO
        elif option == b"count" and more:
            count = positive_count(argv[i + 1], errors.LPOS_COUNT_NEGATIVE)
        elif option == b"maxlen" and more:
            maxlen = positive_count(argv[i + 1], errors.LPOS_MAXLEN_NEGATIVE)
        else:
            raise errors.SYNTAX
        i += 2
    lst = _read(client, argv[1])
    if lst is None:
        return [] if count is not None else None
    return _lpos_search(lst, argv[2], rank, count, maxlen)


def _lpos_search(lst: ListValue, element: bytes, rank: int, count: int | None,
                 maxlen: int) -> Any:
    n = len(lst)
    # Redis negates a negative rank to walk from the tail; INT64_MIN stays negative
    # there, so every match qualifies, as with rank 1.
    from_tail = rank < 0
    skip = 0 if rank == INT64_MIN else abs(rank) - 1
    found: list[int] = []
    walk = reversed(lst) if from_tail else iter(lst)
    for scanned, item in enumerate(walk):
        if maxlen and scanned >= maxlen:
            break
        if item != element:
            continue
        if skip:
            skip -= 1
            continue
        found.append(n - 1 - scanned if from_tail else scanned)
        if count is None or (count and len(found) >= count):
            break
    if count is None:
        return found[0] if found else None
    return found


# --- moving between lists ----------------------------------------------------------------


def _move(client: Client, src: bytes, dst: bytes, wherefrom: int, whereto: int) -> Any:
    """lmoveGenericCommand: None when the source is missing; WRONGTYPE on either key."""
    source = _lookup(client, src)
    if source is None:
        return None
    target = _lookup(client, dst)
    value = source.popleft() if wherefrom == LEFT else source.pop()
    _push(client, dst, target, [value], whereto)  # counts the one change in dirty
    elements_removed(client, src, source, "l", _POP_EVENTS[wherefrom], 0)
    return value


@command("LMOVE", arity=5, flags="write denyoom", plain=True, keys=(1, 2, 1), group=GROUP,
         since="6.2.0", summary="Pop an element from a list, push it to another list and "
                                "return it", syntax="source:key destination:key "
                                "LEFT|RIGHT LEFT|RIGHT")
def lmove(client: Client, argv: list[bytes]) -> Any:
    wherefrom, whereto = left_right(argv[3]), left_right(argv[4])
    return _move(client, argv[1], argv[2], wherefrom, whereto)


@command("RPOPLPUSH", arity=3, flags="write denyoom", plain=True, keys=(1, 2, 1), group=GROUP,
         since="1.2.0", summary="Remove the last element in a list, prepend it to another "
                                "list and return it",
         syntax="source:key destination:key")
def rpoplpush(client: Client, argv: list[bytes]) -> Any:
    return _move(client, argv[1], argv[2], RIGHT, LEFT)


def _mpop(client: Client, keys: list[bytes], where: int, count: int) -> Any:
    """mpopGenericCommand / the serving half of BLMPOP: [key, [elements]] from the first
    non-empty key, or None when there is none."""
    for key in candidate_keys(client, keys):
        lst = typed_or_skip(client, key, ListValue)
        if not lst:
            continue
        popped = _pop_n(lst, where, count)
        elements_removed(client, key, lst, "l", _POP_EVENTS[where], len(popped))
        client.propagate_as = [[_POP_NAMES[where], key, b"%d" % len(popped)]]
        return [key, popped]
    return None


@command("LMPOP", arity=-4, flags="write", plain=True,
         getkeys=lambda argv: mpop_key_positions(argv, 1),
         group=GROUP, since="7.0.0", summary="Pop elements from a list",
         complexity="O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.",
         syntax="numkeys:integer key [key ...] LEFT|RIGHT [COUNT count:integer]")
def lmpop(client: Client, argv: list[bytes]) -> Any:
    keys, where, count = numkeys_and_where(argv, 1, left_right)
    result = _mpop(client, keys, where, count)
    return NULL_ARRAY if result is None else result


# --- blocking ----------------------------------------------------------------------------


def _blocking_pop(client: Client, argv: list[bytes], where: int) -> Any:
    keys = argv[1:-1]
    timeout = parse_timeout(argv[-1])
    for key in candidate_keys(client, keys):
        lst = typed_or_skip(client, key, ListValue)
        if not lst:
            continue
        value = lst.popleft() if where == LEFT else lst.pop()
        elements_removed(client, key, lst, "l", _POP_EVENTS[where], 1)
        client.propagate_as = [[_POP_NAMES[where], key]]
        return [key, value]
    return client.block(keys, timeout, NULL_ARRAY, argv)


@command("BLPOP", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group=GROUP,
         since="2.0.0", summary="Remove and get the first element in a list, or block until "
                                "one is available",
         complexity="O(N) where N is the number of provided keys.",
         syntax="key [key ...] timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def blpop(client: Client, argv: list[bytes]) -> Any:
    return _blocking_pop(client, argv, LEFT)


@command("BRPOP", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group=GROUP,
         since="2.0.0", summary="Remove and get the last element in a list, or block until "
                                "one is available",
         complexity="O(N) where N is the number of provided keys.",
         syntax="key [key ...] timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def brpop(client: Client, argv: list[bytes]) -> Any:
    return _blocking_pop(client, argv, RIGHT)


def _blocking_move(client: Client, argv: list[bytes], wherefrom: int, whereto: int,
                   timeout: int, propagate: list[bytes]) -> Any:
    src = argv[1]
    if typed_or_skip(client, src, ListValue) is None:
        if client.deny_blocking:  # inside MULTI: a null bulk, though a timeout is *-1
            return None
        return client.block([src], timeout, NULL_ARRAY, argv)
    value = _move(client, src, argv[2], wherefrom, whereto)
    client.propagate_as = [propagate]
    return value


@command("BLMOVE", arity=6, flags="write denyoom noscript blocking", keys=(1, 2, 1),
         group=GROUP, since="6.2.0",
         summary="Pop an element from a list, push it to another list and return it; or "
                 "block until one is available",
         syntax="source:key destination:key LEFT|RIGHT LEFT|RIGHT timeout:double")
def blmove(client: Client, argv: list[bytes]) -> Any:
    wherefrom, whereto = left_right(argv[3]), left_right(argv[4])
    timeout = parse_timeout(argv[5])
    return _blocking_move(client, argv, wherefrom, whereto, timeout, [b"LMOVE", *argv[1:5]])


@command("BRPOPLPUSH", arity=4, flags="write denyoom noscript blocking", keys=(1, 2, 1),
         group=GROUP, since="2.2.0",
         summary="Pop an element from a list, push it to another list and return it; or "
                 "block until one is available",
         syntax="source:key destination:key timeout:double",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),))
def brpoplpush(client: Client, argv: list[bytes]) -> Any:
    timeout = parse_timeout(argv[3])
    return _blocking_move(client, argv, RIGHT, LEFT, timeout, [b"RPOPLPUSH", *argv[1:3]])


@command("BLMPOP", arity=-5, flags="write blocking",
         getkeys=lambda argv: mpop_key_positions(argv, 2),
         group=GROUP, since="7.0.0",
         summary="Pop elements from a list, or block until one is available",
         complexity="O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.",
         syntax="timeout:double numkeys:integer key [key ...] LEFT|RIGHT "
                "[COUNT count:integer]")
def blmpop(client: Client, argv: list[bytes]) -> Any:
    keys, where, count = numkeys_and_where(argv, 2, left_right)
    timeout = parse_timeout(argv[1])
    result = _mpop(client, keys, where, count)
    if result is not None:
        return result
    return client.block(keys, timeout, NULL_ARRAY, argv)
