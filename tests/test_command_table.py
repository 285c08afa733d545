"""The command table is the single source of COMMAND INFO/DOCS: every declaration must be
consistent and renderable, and what respd reports must match redis-server 7.0 for every
command respd implements (name, arity, flags, key positions, ACL categories; tips and key
specs are not compared).  The parametrized list is read from the registry at collection
time, so commands added by any family are covered."""

from __future__ import annotations

import re
from typing import Any, Iterator

import hiredis
import pytest

import respd.commands  # noqa: F401  (fills the table)
from compat.harness import RawConnection
from respd import docs
from respd.command import (
    ACL_ORDER, Command, docs_entry, info_entry, lookup_fullname, walk,
)
from respd.resp import encode

ALL = walk()
NAMES = [cmd.name for cmd in ALL]
# Commands newer than the reference (Redis 8.x stream commands) cannot be compared with it.
REFERENCE_NAMES = [cmd.name for cmd in ALL
                   if tuple(map(int, cmd.since.split("."))) <= (7, 0, 15)
                   and not cmd.name.startswith("respd.")]
ARG_TYPES = {"string", "integer", "double", "key", "pattern", "unix-time", "pure-token",
             "oneof", "block"}
GROUPS = {"generic", "string", "list", "set", "sorted_set", "hash", "pubsub", "transactions",
          "connection", "server", "scripting", "hyperloglog", "cluster", "sentinel", "geo",
          "stream", "bitmap"}


def _query(conn: RawConnection, *argv: bytes) -> Any:
    conn.send(list(argv))
    reader = hiredis.Reader()
    reader.feed(conn.read(10))
    return reader.gets()


def _summary(entry: list[Any]) -> tuple[Any, ...]:
    """The compared part of a COMMAND INFO entry: name, arity, flags, first/last/step,
    ACL categories."""
    name, arity, flags, first, last, step, acl = entry[:7]
    text = [f.decode() if isinstance(f, bytes) else f for f in flags]
    cats = [c.decode() if isinstance(c, bytes) else c for c in acl]
    return (name.decode() if isinstance(name, bytes) else name, arity, text, first, last,
            step, cats)


@pytest.fixture(scope="module")
def reference_info(redis_ref: Any) -> Iterator[dict[str, Any]]:
    conn = RawConnection(redis_ref.port)
    try:
        entries = _query(conn, b"COMMAND", b"INFO", *(n.encode() for n in REFERENCE_NAMES))
    finally:
        conn.close()
    yield {name: entry for name, entry in zip(REFERENCE_NAMES, entries)}


@pytest.fixture(scope="module")
def respd_info(respd: Any) -> Iterator[dict[str, Any]]:
    conn = RawConnection(respd.port)
    try:
        entries = _query(conn, b"COMMAND", b"INFO", *(n.encode() for n in REFERENCE_NAMES))
    finally:
        conn.close()
    yield {name: entry for name, entry in zip(REFERENCE_NAMES, entries)}


def _docs(port: int) -> dict[str, dict[bytes, Any]]:
    """COMMAND DOCS for every registered name, as {name: {field: value}}."""
    conn = RawConnection(port)
    try:
        flat = _query(conn, b"COMMAND", b"DOCS", *(n.encode() for n in REFERENCE_NAMES))
    finally:
        conn.close()
    return {flat[i].decode(): dict(zip(flat[i + 1][::2], flat[i + 1][1::2]))
            for i in range(0, len(flat), 2)}


@pytest.fixture(scope="module")
def both_docs(redis_ref: Any, respd: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    yield _docs(redis_ref.port), _docs(respd.port)


# --- declarations --------------------------------------------------------------------------

def _check_arguments(cmd: Command, args: list[dict[str, Any]]) -> None:
    for arg in args:
        assert arg["type"] in ARG_TYPES, (cmd.name, arg)
        assert arg["name"], (cmd.name, arg)
        if arg["type"] in ("oneof", "block"):
            assert arg.get("arguments"), (cmd.name, arg)
            _check_arguments(cmd, arg["arguments"])
        if arg["type"] == "pure-token":
            assert arg.get("token"), (cmd.name, arg)


@pytest.mark.parametrize("name", NAMES)
def test_declaration_is_consistent(name: str) -> None:
    # Command.__post_init__ already refuses unknown flags; these are what it leaves open.
    cmd = lookup_fullname(name.encode())
    assert cmd is not None
    assert cmd.arity != 0
    assert set(cmd.acl) <= set(ACL_ORDER), cmd.acl  # acl_categories() would drop a typo
    assert cmd.group in GROUPS, cmd.group
    assert re.fullmatch(r"\d+\.\d+\.\d+", cmd.since), cmd.since
    assert cmd.summary
    assert not (cmd.is_write and cmd.is_readonly)
    if cmd.first_key > 0:
        assert cmd.key_step > 0
        assert cmd.last_key < 0 or cmd.last_key >= cmd.first_key
        # A command with fixed arity cannot name keys beyond its arguments.
        if cmd.arity > 0 and cmd.last_key > 0:
            assert cmd.last_key < cmd.arity
    else:
        assert (cmd.last_key, cmd.key_step) == (0, 0)
    if cmd.container is not None:
        assert cmd.name.startswith(cmd.container.name + "|")
    _check_arguments(cmd, cmd.docs_arguments())


@pytest.mark.parametrize("name", NAMES)
def test_info_and_docs_render(name: str) -> None:
    cmd = lookup_fullname(name.encode())
    assert cmd is not None
    entry = info_entry(cmd)
    assert len(entry) == 10 and entry[0] == name.encode()
    for proto in (2, 3):
        # Each encodes as exactly one well-formed reply (a client reads it back whole).
        info = _decode_one(encode(entry, proto))
        assert len(info) == 10 and info[0] == name.encode()
        docs = _decode_one(encode(docs_entry(cmd), proto))
        summary = docs[b"summary"] if isinstance(docs, dict) else docs[docs.index(b"summary") + 1]
        assert summary == cmd.summary.encode()


def _decode_one(data: bytes) -> Any:
    reader = hiredis.Reader()
    reader.feed(data)
    reply = reader.gets()
    assert reply is not False, data[:200]  # complete
    assert reader.gets() is False  # and nothing after it
    return reply


def test_docs_markdown_lists_every_command() -> None:
    text = docs.render()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(ALL)
    assert "| `GET` | string | 1.0.0 | Get the value of a key |" in text


# --- against redis-server -------------------------------------------------------------------

@pytest.mark.compat
@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_command_info_matches_reference(name: str, reference_info: dict[str, Any],
                                        respd_info: dict[str, Any]) -> None:
    want = reference_info[name]
    assert want is not None, f"{name} is not a Redis 7.0 command"
    assert _summary(respd_info[name]) == _summary(want)


@pytest.mark.compat
@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_command_docs_matches_reference(name: str, both_docs: tuple[Any, Any]) -> None:
    """What redis-cli's help and hints show: group and version, and the same fields."""
    want, got = (docs.get(name) for docs in both_docs)
    assert want is not None and got is not None
    for field in (b"since", b"group"):
        assert got.get(field) == want.get(field), field
    assert (b"complexity" in got) == (b"complexity" in want)


# The commands dispatch runs inline (declared ``plain=True``): those that only read and
# write keys, plus PING, ECHO, SELECT, PUBLISH and SPUBLISH.  Listed here so that a command
# joins the inline path by a deliberate edit, never by accident.
PLAIN = """
    append copy decr decrby del echo exists expire expireat expiretime get getdel getex
    getrange getset hdel hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset
    hrandfield hscan hset hsetnx hstrlen hvals incr incrby incrbyfloat keys lcs lindex
    linsert llen lmove lmpop lpop lpos lpush lpushx lrange lrem lset ltrim mget move mset
    msetnx persist pexpire pexpireat pexpiretime ping psetex pttl publish randomkey rename
    renamenx rpop rpoplpush rpush rpushx sadd scan scard sdiff sdiffstore select set setex
    setnx setrange sinter sintercard sinterstore sismember smembers smismember smove spop
    spublish srandmember srem sscan strlen substr sunion sunionstore touch ttl type unlink
    xack xackdel xadd xautoclaim xclaim xdel xdelex xlen xpending xrange xrevrange xsetid xtrim zadd
    zcard zcount zdiff zdiffstore zincrby zinter zintercard zinterstore zlexcount zmpop
    zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore zrangestore zrank
    zrem zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebylex
    zrevrangebyscore zrevrank zscan zscore zunion zunionstore
""".split()


def test_plain_commands_are_exactly_the_listed_ones() -> None:
    assert sorted(cmd.name for cmd in ALL if cmd.plain) == sorted(PLAIN)


@pytest.mark.parametrize("name, flags", [("x", ("blocking",)), ("x|y", ())])
def test_plain_refused_for_blocking_commands_and_subcommands(name: str,
                                                               flags: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="plain"):
        Command(name=name, handler=lambda client, argv: None, arity=1, flags=flags, plain=True)
