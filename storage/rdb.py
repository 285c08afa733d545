"""RDB snapshots (SAVE, BGSAVE, the ``save`` directive, shutdown): version 10, the
format of Redis 7.0, checked by ``redis-check-rdb`` and loaded by redis-server.

Writing uses the simplest encodings RDB 10 still accepts: strings (LZF-compressed as
Redis does while rdbcompression is yes, respd.storage.lzf), RDB_TYPE_LIST
(a counted list of strings), RDB_TYPE_SET, RDB_TYPE_HASH, RDB_TYPE_ZSET_2 (binary
doubles) and RDB_TYPE_STREAM_LISTPACKS_2, whose entries must be listpacks (written with
the 64-bit integer and 32-bit-length string encodings only, which are legal for any
value).  The file ends with EOF and the CRC-64 (Jones) of everything before it.

Reading also takes what redis-server 7.0 writes: integer and LZF-compressed strings,
intsets, listpack hashes and sorted sets, quicklist-2 lists.  Keys other than streams
are rebuilt through the normal command path (RPUSH, SADD, HSET, ZADD) so each family
picks its own encoding; streams are rebuilt directly with their groups and PELs.
"""

from __future__ import annotations

import os
import struct
import sys
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Iterator

from respd.numbers import format_double
from respd.storage.lzf import compress as lzf_compress
from respd.storage.lzf import decompress as lzf_decompress
from respd.storage.db import TYPE_NAMES
from respd.storage.snapshot import batched, function_libraries
from respd.storage.stream import SEQ_MASK, Consumer, Group, Nack, Node, Stream, make_id

if TYPE_CHECKING:
    from respd.server import Server


class RdbError(Exception):
    """A file that cannot be loaded; the message says what and where."""


# Type and opcode bytes (rdb.h).
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_SET_INTSET, T_LIST_QUICKLIST = 11, 14
T_STREAM, T_HASH_LISTPACK, T_ZSET_LISTPACK, T_LIST_QUICKLIST_2, T_STREAM_2 = 15, 16, 17, 18, 19
OP_FUNCTION2, OP_MODULE_AUX, OP_IDLE, OP_FREQ, OP_AUX = 0xF5, 0xF7, 0xF8, 0xF9, 0xFA
OP_RESIZEDB, OP_EXPIRE_MS, OP_EXPIRE, OP_SELECTDB, OP_EOF = 0xFB, 0xFC, 0xFD, 0xFE, 0xFF

NODE_ENTRIES = 100  # stream entries per written listpack (stream-node-max-entries)
_SAMEFIELDS = 2


# --- CRC-64 Jones (Redis's crc64), reflected, table driven ---------------------------------

def _crc_table() -> list[int]:
    poly = 0x95AC9329AC4BC9B5  # 0xad93d23594c935a9 reflected
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def _slice_tables() -> list[list[int]]:
    """Slicing-by-8: table k is the CRC of a byte followed by k zero bytes."""
    tables = [_CRC_TABLE]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(c >> 8) ^ _CRC_TABLE[c & 0xFF] for c in prev])
    return tables


_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = _slice_tables()
# Eight bytes per step as one native integer: only where that integer is little-endian.
_SLICE = sys.byteorder == "little"


def crc64(crc: int, data: bytes) -> int:
    table = _CRC_TABLE
    if _SLICE and len(data) >= 64:
        # A full RDB is tens of MB: eight bytes per step is ~3x the byte loop.
        whole = len(data) & ~7
        t0, t1, t2, t3, t4, t5, t6, t7 = _T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7
        for word in memoryview(data)[:whole].cast("Q"):
            x = crc ^ word
            crc = (t7[x & 0xFF] ^ t6[(x >> 8) & 0xFF] ^ t5[(x >> 16) & 0xFF]
                   ^ t4[(x >> 24) & 0xFF] ^ t3[(x >> 32) & 0xFF] ^ t2[(x >> 40) & 0xFF]
                   ^ t1[(x >> 48) & 0xFF] ^ t0[x >> 56])
        data = data[whole:]
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


# --- writing -------------------------------------------------------------------------------


def _len(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | n >> 8, n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _str(data: bytes) -> bytes:
    return _len(len(data)) + data


def _lzf_str(data: bytes) -> bytes:
    """rdbcompression yes: a string over 20 bytes LZF-compressed when that saves at least
    4 bytes (rdbSaveLzfStringObject), else plain."""
    n = len(data)
    if n > 20:
        packed = lzf_compress(data, n - 4)
        if packed is not None:
            return b"\xc3" + _len(len(packed)) + _len(n) + packed
    return _len(n) + data


StringWriter = Callable[[bytes], bytes]


def _ms(when: int) -> bytes:
    return struct.pack("<q", when)


def _raw_id(sid: int) -> bytes:
    return sid.to_bytes(16, "big")


def _id_lens(sid: int) -> bytes:
    """An ID as two lengths, ms then seq."""
    return _len(sid >> 64) + _len(sid & SEQ_MASK)


def _backlen(size: int) -> bytes:
    """lpEncodeBacklen: a listpack entry's trailing length, 7 bits a byte with the low bits
    last and the continuation bit on all but the first byte (read right to left)."""
    out = [size & 127]
    size >>= 7
    while size:
        out[-1] |= 128
        out.append(size & 127)
        size >>= 7
    return bytes(reversed(out))


def listpack(items: Iterable[int | bytes]) -> bytes:
    body = bytearray()
    count = 0
    for item in items:
        if isinstance(item, int):
            entry = b"\xf4" + struct.pack("<q", item)
        else:
            entry = b"\xf0" + struct.pack("<I", len(item)) + item
        body += entry + _backlen(len(entry))
        count += 1
    total = 6 + len(body) + 1
    return struct.pack("<IH", total, min(count, 65535)) + bytes(body) + b"\xff"


def _stream_nodes(stream: Stream, string: StringWriter) -> Iterator[bytes]:
    """(node key, listpack) strings of the stream's live entries, NODE_ENTRIES a node."""
    entries = stream.entries()
    for start in range(0, len(entries), NODE_ENTRIES):
        chunk = entries[start : start + NODE_ENTRIES]
        master_id, master_fields = chunk[0][0], chunk[0][1][0::2]
        items: list[int | bytes] = [len(chunk), 0, len(master_fields), *master_fields, 0]
        for sid, fields in chunk:
            names, values = fields[0::2], fields[1::2]
            same = names == master_fields
            items += [_SAMEFIELDS if same else 0, (sid >> 64) - (master_id >> 64),
                      (sid & SEQ_MASK) - (master_id & SEQ_MASK)]
            if same:
                items += values
                items.append(len(values) + 3)
            else:
                items.append(len(names))
                items += fields
                items.append(len(fields) + 4)
        yield string(_raw_id(master_id)) + string(listpack(items))


def write_stream(stream: Stream, node_chunks: Iterable[bytes],
                 string: StringWriter = _str) -> Iterator[bytes]:
    """A stream after its type byte: the nodes (each its master ID and listpack, as
    given), then the metadata and the consumer groups (names written by ``string``)."""
    nodes = list(node_chunks)
    yield _len(len(nodes))
    yield from nodes
    first = stream.first_id if stream.length else 0
    yield _len(stream.length) + _id_lens(stream.last_id) + _id_lens(first)
    yield _id_lens(stream.max_deleted_id) + _len(stream.entries_added)
    yield _len(len(stream.groups))
    for name, group in stream.groups.items():
        # entries-read -1 (unknown) is saved as the unsigned 64-bit length it casts to.
        yield string(name) + _id_lens(group.last_id) + _len(group.entries_read % 2**64)
        # XNACKed (unowned) entries are left out: 7.0's loader wants an owner for each
        # (they travel in the extras, register_extras).
        owned = [(sid, nack) for sid, nack in group.pel.items() if nack.consumer is not None]
        yield _len(len(owned))
        for sid, nack in owned:
            yield _raw_id(sid) + _ms(nack.delivery_time) + _len(nack.delivery_count)
        consumers = group.sorted_consumers()
        yield _len(len(consumers))
        for consumer in consumers:
            yield string(consumer.name) + _ms(consumer.seen_time) + _len(len(consumer.pel))
            yield b"".join(map(_raw_id, consumer.pel))


def _counted(items: list[bytes], string: StringWriter) -> Iterator[bytes]:
    yield _len(len(items))
    yield from map(string, items)


def _write_hash(value: Any, string: StringWriter) -> Iterator[bytes]:
    yield _len(len(value))
    for field, item in value.items():
        yield string(field) + string(item)


def _write_zset(value: Any, string: StringWriter) -> Iterator[bytes]:
    yield _len(len(value))
    for member, score in value.items():
        yield string(member) + struct.pack("<d", score)


# Type name -> (RDB type byte, (value, string writer) -> encoded chunks).
WRITERS: dict[bytes, tuple[int, Callable[[Any, StringWriter], Iterable[bytes]]]] = {
    b"string": (T_STRING, lambda value, string: (string(value),)),
    b"list": (T_LIST, lambda value, string: _counted(list(value), string)),
    b"set": (T_SET, lambda value, string: _counted(list(value), string)),
    b"hash": (T_HASH, _write_hash),
    b"zset": (T_ZSET_2, _write_zset),
    b"stream": (T_STREAM_2,
                lambda value, string: write_stream(value, _stream_nodes(value, string), string)),
}


class _Out:
    """A file that keeps the running CRC-64 of what goes through it.  Writes are
    gathered into blocks first: the CRC is fast only over long runs of bytes."""

    BLOCK = 1 << 16

    def __init__(self, f: BinaryIO, checksum: bool) -> None:
        self.f = f
        self.checksum = checksum
        self.crc = 0
        self.pending = bytearray()

    def write(self, data: bytes) -> None:
        self.pending += data
        if len(self.pending) >= self.BLOCK:
            self.flush()

    def flush(self) -> None:
        if self.checksum:
            self.crc = crc64(self.crc, self.pending)
        self.f.write(self.pending)
        self.pending = bytearray()


def _aux(name: bytes, value: bytes) -> bytes:
    return bytes((OP_AUX,)) + _str(name) + _str(value)


# State a command family keeps beyond Redis's formats (respd's stream retention and
# dead-letter settings) travels as commands in one auxiliary field after each database's
# keys: redis-server skips AUX fields it does not know, respd runs the commands.
EXTRAS_AUX = b"respd-extras"
_EXTRAS: dict[type, Callable[[bytes, Any], list[list[bytes]]]] = {}


def register_extras(kind: type, commands: Callable[[bytes, Any], list[list[bytes]]]) -> None:
    """``commands(key, value)``: what restores the extra state of a ``kind`` value."""
    _EXTRAS[kind] = commands


def _encode_commands(cmds: list[list[bytes]]) -> bytes:
    return _len(len(cmds)) + b"".join(
        _len(len(argv)) + b"".join(_str(arg) for arg in argv) for argv in cmds)


def _decode_commands(data: bytes) -> list[list[bytes]]:
    reader = RdbReader(data)
    return [[reader.string() for _ in range(reader.count())] for _ in range(reader.count())]


def dump(f: BinaryIO, server: "Server", aof_base: bool = False, compress: bool = True) -> None:
    """The whole dataset as an RDB file (keys already expired are left out); every
    string goes through rdbSaveRawString's compression when rdbcompression is yes
    (and ``compress``)."""
    string = _lzf_str if compress and server.config.rdbcompression else _str
    out = _Out(f, server.config.rdbchecksum)
    now = server.now_ms()
    out.write(b"REDIS0010")
    for name, value in ((b"redis-ver", b"7.0.15"), (b"redis-bits", b"64"),
                        (b"ctime", b"%d" % (now // 1000)),
                        (b"aof-base", b"1" if aof_base else b"0")):
        out.write(bytes((OP_AUX,)) + string(name) + string(value))
    for code in function_libraries(server):
        out.write(bytes((OP_FUNCTION2,)) + string(code))
    for db in server.dbs:
        if not db.data:
            continue
        out.write(bytes((OP_SELECTDB,)) + _len(db.index))
        out.write(bytes((OP_RESIZEDB,)) + _len(len(db.data)) + _len(len(db.expires)))
        expires = db.expires
        extras: list[list[bytes]] = []
        for key, value in db.data.items():
            when = expires.get(key)
            if when is not None:
                if when <= now:
                    continue
                out.write(bytes((OP_EXPIRE_MS,)) + _ms(when))
            kind, write = WRITERS[TYPE_NAMES[type(value)]]
            out.write(bytes((kind,)) + string(key))
            for chunk in write(value, string):
                out.write(chunk)
            extra = _EXTRAS.get(type(value))
            if extra is not None:
                extras.extend(extra(key, value))
        if extras:
            out.write(_aux(EXTRAS_AUX, _encode_commands(extras)))
    out.write(bytes((OP_EOF,)))
    out.flush()
    f.write(struct.pack("<Q", out.crc))


def save(path: str, server: "Server", aof_base: bool = False) -> None:
    """Write the dataset to ``path`` as an RDB file (or an AOF base), fsynced."""
    with open(path, "wb", buffering=1 << 20) as f:
        dump(f, server, aof_base)
        f.flush()
        os.fsync(f.fileno())


# --- reading -------------------------------------------------------------------------------


_LP_INTS = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}


def parse_listpack(buf: bytes) -> list[int | bytes]:
    pos = 6
    out: list[int | bytes] = []
    while buf[pos] != 0xFF:
        b = buf[pos]
        value: int | bytes
        if b < 0x80:
            value, size = b, 1
        elif b & 0xC0 == 0x80:
            size = 1 + (b & 0x3F)
            value = buf[pos + 1 : pos + size]
        elif b & 0xE0 == 0xC0:
            value, size = ((b & 0x1F) << 8) | buf[pos + 1], 2
            if value >= 1 << 12:
                value -= 1 << 13
        elif b & 0xF0 == 0xE0:
            size = 2 + (((b & 0x0F) << 8) | buf[pos + 1])
            value = buf[pos + 2 : pos + size]
        elif b in _LP_INTS:
            width = _LP_INTS[b]
            value = int.from_bytes(buf[pos + 1 : pos + 1 + width], "little", signed=True)
            size = 1 + width
        elif b == 0xF0:
            size = 5 + int.from_bytes(buf[pos + 1 : pos + 5], "little")
            value = buf[pos + 5 : pos + size]
        else:
            raise RdbError(f"Invalid listpack entry encoding {b:#x}")
        out.append(value)
        pos += size + len(_backlen(size))
    return out


def _as_bytes(item: int | bytes) -> bytes:
    return b"%d" % item if isinstance(item, int) else item


class RdbReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise RdbError(f"Unexpected EOF reading RDB file at offset {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def length(self) -> tuple[int, bool]:
        """A length, or (encoding, True) for a specially encoded string."""
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return b & 0x3F, True
        if b == 0x80:
            return int.from_bytes(self.take(4), "big"), False
        if b == 0x81:
            return int.from_bytes(self.take(8), "big"), False
        raise RdbError(f"Unknown length encoding {b:#x} at offset {self.pos - 1}")

    def count(self) -> int:
        return self.length()[0]

    def string(self) -> bytes:
        n, encoded = self.length()
        if not encoded:
            return self.take(n)
        if n <= 2:
            return b"%d" % int.from_bytes(self.take(1 << n), "little", signed=True)
        if n == 3:
            compressed, size = self.count(), self.count()
            data = lzf_decompress(self.take(compressed), size)
            if data is None:
                raise RdbError("Invalid LZF compressed string")
            return data
        raise RdbError(f"Unknown RDB string encoding {n} at offset {self.pos}")

    def ms(self) -> int:
        return struct.unpack("<q", self.take(8))[0]

    def stream_id(self) -> int:
        return make_id(self.count(), self.count())


def _intset(blob: bytes) -> list[bytes]:
    width, count = struct.unpack("<II", blob[:8])
    return [b"%d" % int.from_bytes(blob[8 + i * width : 8 + (i + 1) * width], "little",
                                   signed=True) for i in range(count)]


def _old_score(reader: RdbReader) -> bytes:
    n = reader.byte()
    return {253: b"nan", 254: b"inf", 255: b"-inf"}.get(n) or reader.take(n)


def _quicklist2(reader: RdbReader) -> list[bytes]:
    items: list[bytes] = []
    for _ in range(reader.count()):
        container, blob = reader.count(), reader.string()
        items += [blob] if container == 1 else map(_as_bytes, parse_listpack(blob))
    return items


def _pairs_to_zadd(pairs: list[bytes]) -> list[bytes]:
    """member, score, member, score... → score, member, ... for ZADD."""
    return [item for i in range(0, len(pairs), 2) for item in (pairs[i + 1], pairs[i])]


def _commands(kind: int, key: bytes, reader: RdbReader) -> list[list[bytes]]:
    """The commands that rebuild a key of a non-stream type."""
    if kind == T_STRING:
        return [[b"SET", key, reader.string()]]
    if kind in (T_LIST, T_SET):
        items = [reader.string() for _ in range(reader.count())]
        return list(batched(b"RPUSH" if kind == T_LIST else b"SADD", key, items))
    if kind == T_LIST_QUICKLIST_2:
        return list(batched(b"RPUSH", key, _quicklist2(reader)))
    if kind == T_SET_INTSET:
        return list(batched(b"SADD", key, _intset(reader.string())))
    if kind == T_HASH:
        items = [reader.string() for _ in range(2 * reader.count())]
        return list(batched(b"HSET", key, items))
    if kind == T_HASH_LISTPACK:
        items = [_as_bytes(x) for x in parse_listpack(reader.string())]
        return list(batched(b"HSET", key, items))
    if kind == T_ZSET_2:
        pairs = []
        for _ in range(reader.count()):
            member = reader.string()
            pairs += [member, format_double(struct.unpack("<d", reader.take(8))[0])]
        return list(batched(b"ZADD", key, _pairs_to_zadd(pairs)))
    if kind == T_ZSET:
        pairs = []
        for _ in range(reader.count()):
            pairs += [reader.string(), _old_score(reader)]
        return list(batched(b"ZADD", key, _pairs_to_zadd(pairs)))
    if kind == T_ZSET_LISTPACK:
        items = [_as_bytes(x) for x in parse_listpack(reader.string())]
        return list(batched(b"ZADD", key, _pairs_to_zadd(items)))
    raise RdbError(f"Unsupported RDB object type {kind} (key {key!r})")


def _read_stream(kind: int, reader: RdbReader, server: "Server", exact: bool = False
                 ) -> Stream:
    """A stream's nodes (re-cut by this server's node limits, or as they are when exact),
    metadata and consumer groups."""
    stream = Stream()
    config = server.config
    for _ in range(reader.count()):
        master_id = int.from_bytes(reader.string(), "big")
        items = parse_listpack(reader.string())
        if exact:
            _load_node(stream, master_id, items)
        else:
            _append_node(stream, master_id, items, config.stream_node_max_entries,
                         config.stream_node_max_bytes)
    reader.count()  # length: the entries appended say it
    stream.last_id = reader.stream_id()
    if kind == T_STREAM_2:
        reader.stream_id()  # first ID: likewise
        stream.max_deleted_id = reader.stream_id()
        stream.entries_added = reader.count()
    for _ in range(reader.count()):
        name = reader.string()
        last_id = reader.stream_id()
        entries_read = reader.count() if kind == T_STREAM_2 else -1
        group = Group(last_id, entries_read if entries_read < 2**63 else entries_read - 2**64)
        nacks: dict[int, Nack] = {}
        for _ in range(reader.count()):
            sid = int.from_bytes(reader.take(16), "big")
            delivery_time = reader.ms()
            # The owner is filled in from the consumers' PELs that follow.
            nack = Nack(None, delivery_time, reader.count())  # type: ignore[arg-type]
            nacks[sid] = group.pel[sid] = nack
        for _ in range(reader.count()):
            consumer_name = reader.string()
            consumer = Consumer(consumer_name, reader.ms())
            group.consumers[consumer.name] = consumer
            for _ in range(reader.count()):
                sid = int.from_bytes(reader.take(16), "big")
                nacks[sid].consumer = consumer
                consumer.pel[sid] = nacks[sid]
        stream.groups[name] = group
    return stream


def _node_entries(master_id: int, items: list[int | bytes]
                  ) -> Iterator[tuple[int, list[bytes], bool]]:
    """(ID, fields, deleted?) of every entry of one stream listpack, in order."""
    master_fields = [_as_bytes(x) for x in items[3 : 3 + int(items[2])]]
    pos = 4 + len(master_fields)
    while pos < len(items):
        flags, ms_diff, seq_diff = (int(x) for x in items[pos : pos + 3])
        pos += 3
        if flags & _SAMEFIELDS:
            values = [_as_bytes(x) for x in items[pos : pos + len(master_fields)]]
            fields = [x for pair in zip(master_fields, values) for x in pair]
        else:
            count = int(items[pos])
            fields = [_as_bytes(x) for x in items[pos + 1 : pos + 1 + 2 * count]]
            pos += 1
        pos += len(fields) if not flags & _SAMEFIELDS else len(master_fields)
        pos += 1  # lp-count
        sid = make_id((master_id >> 64) + ms_diff, (master_id & SEQ_MASK) + seq_diff)
        yield sid, fields, bool(flags & 1)


def _append_node(stream: Stream, master_id: int, items: list[int | bytes], max_entries: int,
                 max_bytes: int) -> None:
    """Append the live entries of one stream listpack (deleted ones are not carried
    over: the nodes are cut again by this server's limits)."""
    for sid, fields, deleted in _node_entries(master_id, items):
        if not deleted:
            stream.append(sid, fields, max_entries, max_bytes)


def _load_node(stream: Stream, master_id: int, items: list[int | bytes]) -> None:
    """Add one stream listpack as a node as it is, deleted entries included (RESTORE: a
    payload DUMPs back to the same bytes)."""
    node = Node(master_id, [_as_bytes(x) for x in items[3 : 3 + int(items[2])]])
    for sid, fields, deleted in _node_entries(master_id, items):
        node.add(sid, fields, 0, 0)
        if deleted:
            node.mark_deleted(len(node) - 1)
        else:
            if not stream.length:
                stream.first_id = sid
            stream.length += 1
    if len(node):
        stream.nodes.append(node)
        stream.firsts.append(master_id)


def load(data: bytes, server: "Server", run: Callable[[list[bytes]], None]) -> tuple[int, int]:
    """Load an RDB image: non-stream keys through ``run`` (the loading client's
    dispatch), streams directly.  Returns (keys loaded, offset after the checksum):
    an AOF with an RDB preamble continues there."""
    if data[:5] != b"REDIS" or not data[5:9].isdigit() or not 1 <= int(data[5:9]) <= 10:
        raise RdbError("Wrong signature trying to load DB from file")
    reader = RdbReader(data)
    reader.pos = 9
    db_index = 0
    expire = -1
    keys = 0
    now = int(time.time() * 1000)
    while True:
        kind = reader.byte()
        if kind == OP_EOF:
            break
        if kind == OP_SELECTDB:
            db_index = reader.count()
            if db_index >= len(server.dbs):
                raise RdbError(f"FATAL: Data file was created with a Redis server configured "
                               f"to handle more than {len(server.dbs)} databases. Exiting")
            run([b"SELECT", b"%d" % db_index])
        elif kind == OP_RESIZEDB:
            reader.count(), reader.count()
        elif kind == OP_AUX:
            name, value = reader.string(), reader.string()
            if name == EXTRAS_AUX:
                for argv in _decode_commands(value):
                    run(argv)
        elif kind == OP_EXPIRE_MS:
            expire = reader.ms()
        elif kind == OP_EXPIRE:
            expire = struct.unpack("<i", reader.take(4))[0] * 1000
        elif kind == OP_IDLE:
            reader.count()
        elif kind == OP_FREQ:
            reader.byte()
        elif kind == OP_FUNCTION2:
            run([b"FUNCTION", b"LOAD", reader.string()])
        elif kind == OP_MODULE_AUX:
            raise RdbError("The RDB file holds module data, which respd cannot load")
        else:
            key = reader.string()
            if kind in (T_STREAM, T_STREAM_2):
                value = _read_stream(kind, reader, server)
                if expire < 0 or expire > now:
                    server.dbs[db_index].add(key, value)
            else:
                commands = _commands(kind, key, reader)
                if expire < 0 or expire > now:  # expired keys are not loaded
                    for argv in commands:
                        run(argv)
            if 0 <= expire and expire > now:
                run([b"PEXPIREAT", key, b"%d" % expire])
            keys += 1
            expire = -1
    _check_sum(data, reader.pos, server)
    return keys, reader.pos + 8


def _check_sum(data: bytes, end: int, server: "Server") -> None:
    stored = data[end : end + 8]
    if len(stored) == 8 and server.config.rdbchecksum:
        expected = struct.unpack("<Q", stored)[0]
        if expected and crc64(0, data[:end]) != expected:
            raise RdbError("Wrong RDB checksum. Aborting now.")
