"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

An HLL is a string value in Redis's exact format (respd.storage.hll): GET returns the
same bytes Redis would, and a string copied from Redis counts the same here.  A string
that is not an HLL answers Redis's HLL WRONGTYPE error; a sparse body that does not
describe every register answers INVALIDOBJ."""

from __future__ import annotations

import random
from typing import Any

from respd import errors
from respd.client import Client
from respd.command import command
from respd.commands.keyspace import mark_raw, string_encoding
from respd.resp import OK, Status
from respd.storage import hll
from respd.storage.hll import Corrupted, Hll

GROUP = "hyperloglog"
_ACL = "hyperloglog"


def _hll_value(client: Client, key: bytes, read: bool = True) -> bytes | None:
    """The HLL string at key, or None (isHLLObjectOrReply).  PFCOUNT's and PFMERGE's
    inputs are counted reads (keyspace hits/misses); PFADD and PFDEBUG look up for writing."""
    db = client.db
    value = db.read_typed(key, bytes) if read else db.lookup_typed(key, bytes)
    if value is not None and not hll.is_valid(value):
        raise errors.HLL_WRONGTYPE
    return value


# Parsed sparse HLLs between commands (PFADD one element at a time stays cheap).
_COPIES = hll.WorkingCopies()


def _working(client: Client, value: bytes) -> Hll:
    return _COPIES.take(value, client.server.config.hll_sparse_max_bytes)


def _save(client: Client, key: bytes, work: Hll) -> None:
    """Write the changed HLL back in place: the key keeps its TTL."""
    value = work.to_bytes()
    client.db.set(key, value, keep_ttl=True)
    mark_raw(client.db, key)
    _COPIES.keep(value, work)


@command("PFADD", arity=-2, flags="write denyoom fast", keys=(1, 1, 1), group=GROUP,
         since="2.8.9", acl=_ACL, summary="Adds the specified elements to the specified "
                                          "HyperLogLog.",
         complexity="O(1) to add every element.", syntax="key [element [element ...]]")
def pfadd(client: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    value = _hll_value(client, key, read=False)
    updated = 0
    if value is None:
        value = hll.new_sparse()
        updated = 1  # creating the key counts as a change
    work = _working(client, value)
    try:
        for element in argv[2:]:
            if work.add(element):
                updated += 1
    except Corrupted:
        if updated:  # what was done before the bad register stays, as in Redis
            _save(client, key, work)
        raise errors.HLL_CORRUPTED from None
    if updated:
        work.invalidate()
        _save(client, key, work)
        client.db.notify("$", b"pfadd", key)
        client.server.dirty += updated
    else:
        _COPIES.keep(value, work)  # unchanged: still the parsed form of the stored string
    return 1 if updated else 0


@command("PFCOUNT", arity=-2, flags="readonly may_replicate", keys=(1, -1, 1), group=GROUP, since="2.8.9",
         acl=_ACL, summary="Return the approximated cardinality of the set(s) observed by "
                           "the HyperLogLog at key(s).",
         complexity="O(1) with a very small average constant time when called with a single "
                    "key. O(N) with N being the number of keys, and much bigger constant "
                    "times, when called with multiple keys.",
         syntax="key [key ...]")
def pfcount(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 2:  # the union's cardinality, nothing cached
        registers = bytearray(hll.REGISTERS)
        for key in argv[1:]:
            value = _hll_value(client, key)
            if value is not None and not hll.merge_into(registers, value):
                raise errors.HLL_CORRUPTED
        return hll.estimate(hll.histogram_of(bytes(registers)))
    key = argv[1]
    value = _hll_value(client, key)
    if value is None:
        return 0
    card = hll.cached_count(value)
    if card is None:
        card = hll.count(value)
        if card is None:
            raise errors.HLL_CORRUPTED
        # the cache lives in the string: a read that changes the value (Redis
        # propagates it too)
        cached = hll.with_cached_count(value, card)
        db = client.db
        was_raw = string_encoding(db, key, value) == b"raw"
        db.set(key, cached, keep_ttl=True)
        if was_raw:  # Redis writes the cache into the same object
            mark_raw(db, key)
        _COPIES.replaced(value, cached)
        client.server.dirty += 1
    return card


@command("PFMERGE", arity=-2, flags="write denyoom", keys=(1, -1, 1), group=GROUP,
         since="2.8.9", acl=_ACL,
         summary="Merge N different HyperLogLogs into a single one.",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
         syntax="destkey:key [sourcekey:key [sourcekey:key ...]]")
def pfmerge(client: Client, argv: list[bytes]) -> Any:
    registers = bytearray(hll.REGISTERS)
    use_dense = False
    for key in argv[1:]:  # the destination is one of the inputs
        value = _hll_value(client, key)
        if value is None:
            continue
        use_dense = use_dense or value[4] == hll.DENSE
        if not hll.merge_into(registers, value):
            raise errors.HLL_CORRUPTED
    dest = argv[1]
    work = _working(client, client.db.lookup(dest) or hll.new_sparse())
    try:
        if use_dense:
            work.to_dense()
        for index, value in enumerate(registers):
            if value:
                work.set(index, value)
    except Corrupted:
        raise errors.HLL_CORRUPTED from None
    work.invalidate()
    _save(client, dest, work)
    client.db.notify("$", b"pfadd", dest)  # Redis calls a merge a mass PFADD
    client.server.dirty += 1
    return OK


def _decode(value: bytes) -> bytes:
    """PFDEBUG DECODE's text: z:len, Z:len (XZERO), v:value,len."""
    names = {0: b"z:%d", 1: b"Z:%d"}
    words = [b"v:%d,%d" % (val, span) if kind == 2 else names[kind] % span
             for kind, val, span in hll.decode_sparse(value[hll.HEADER:])]
    return b" ".join(words)


@command("PFDEBUG", arity=3, flags="write denyoom admin", keys=(2, 2, 1), group=GROUP,
         since="2.8.9", acl=_ACL, summary="Internal commands for debugging HyperLogLog values",
         complexity="N/A", syntax="subcommand key:key")
def pfdebug(client: Client, argv: list[bytes]) -> Any:
    key = argv[2]
    value = _hll_value(client, key, read=False)
    if value is None:
        raise errors.PFDEBUG_NO_KEY
    sub = argv[1].split(b"\0", 1)[0].lower()
    if sub in (b"getreg", b"todense"):
        converted = value[4] == hll.SPARSE
        work = _working(client, value)
        if converted:
            try:
                work.to_dense()
            except Corrupted:
                raise errors.HLL_CORRUPTED from None
            _save(client, key, work)
            client.server.dirty += 1  # the encoding change is propagated
        if sub == b"todense":
            return int(converted)
        assert work.dense is not None
        return list(hll.unpack_dense(bytes(work.dense[:-1])))
    if sub == b"decode":
        if value[4] != hll.SPARSE:
            raise errors.PFDEBUG_NOT_SPARSE
        return _decode(value)
    if sub == b"encoding":
        return Status(b"sparse" if value[4] == hll.SPARSE else b"dense")
    raise errors.pfdebug_unknown(argv[1])


@command("PFSELFTEST", arity=1, flags="admin", group=GROUP, since="2.8.9", acl=_ACL,
         summary="An internal command for testing HyperLogLog values", complexity="N/A")
def pfselftest(client: Client, argv: list[bytes]) -> Any:
    # Redis checks 10 million elements in C; respd checks the same properties on 10,000.
    failure = hll.selftest(random.Random(), client.server.config.hll_sparse_max_bytes)
    if failure is not None:
        raise errors.hll_test_failed(failure)
    return OK
