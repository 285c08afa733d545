"""DUMP payloads: one value serialized as Redis 7.0's rdbSaveObject writes it, then the
RDB version (2 bytes, little-endian) and the CRC-64 of everything before (8 bytes).

The encodings are the ones Redis 7.0 picks, so a payload is byte-identical to
redis-server's for the same data: strings that are canonical 32-bit integers as integers,
strings over 20 bytes LZF-compressed when that saves at least 4 bytes (liblzf's
compressor with its hash table starting empty), lists as quicklist-2 listpack nodes cut
where RPUSH would cut them (list-max-listpack-size -2: 8 KB), small sets as intsets,
small hashes and sorted sets as listpacks (scores as d2string writes them), larger
sorted sets from the highest score down, streams as their nodes' listpacks.  Hash tables
(large hashes and sets) follow respd's own order, which is no more random than Redis's.

Reading (RESTORE) takes every encoding redis-server 7.0 writes plus the older plain ones
the RDB loader knows (respd.storage.rdb).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from respd.numbers import parse_int
from respd.storage import rdb
from respd.storage.hashes import HashValue
from respd.storage.lzf import compress as lzf_compress
from respd.storage.lists import ListValue
from respd.storage.rdb import RdbError, RdbReader, StringWriter, _len
from respd.storage.sets import SetValue
from respd.storage.stream import SEQ_MASK, Node, Stream
from respd.storage.zset import ZSet

if TYPE_CHECKING:
    from respd.server import Server

RDB_VERSION = 10
_FOOTER = struct.pack("<H", RDB_VERSION)
_INT32 = 1 << 31
_QUICKLIST_NODE_BYTES = 8192  # list-max-listpack-size -2
_PACKED = 2  # quicklist container: a listpack node


# --- strings -------------------------------------------------------------------------------

def _canonical_int(data: bytes) -> int | None:
    """string2ll that also prints back to the same bytes (rdbTryIntegerEncoding)."""
    value = parse_int(data)
    return value if value is not None and b"%d" % value == data else None


def _int_encoded(value: int) -> bytes | None:
    if -128 <= value < 128:
        return b"\xc0" + value.to_bytes(1, "little", signed=True)
    if -32768 <= value < 32768:
        return b"\xc1" + value.to_bytes(2, "little", signed=True)
    if -_INT32 <= value < _INT32:
        return b"\xc2" + value.to_bytes(4, "little", signed=True)
    return None


def rdb_string(data: bytes, compress: bool = True) -> bytes:
    """rdbSaveRawString: integer encoding, else LZF when it pays, else plain."""
    n = len(data)
    if n <= 11:
        value = _canonical_int(data)
        if value is not None:
            encoded = _int_encoded(value)
            if encoded is not None:
                return encoded
    if compress and n > 20:
        packed = lzf_compress(data, n - 4)
        if packed is not None:
            return b"\xc3" + _len(len(packed)) + _len(n) + packed
    return _len(n) + data


# --- listpacks -----------------------------------------------------------------------------

def lp_int(value: int) -> bytes:
    """A listpack integer element (with its backlen) in the smallest encoding."""
    if 0 <= value < 128:
        return bytes((value, 1))
    if -4096 <= value < 4096:
        value &= 0x1FFF
        return bytes((0xC0 | value >> 8, value & 0xFF, 2))
    for code, width in ((0xF1, 2), (0xF2, 3), (0xF3, 4), (0xF4, 8)):
        if -(1 << (8 * width - 1)) <= value < 1 << (8 * width - 1):
            return bytes((code,)) + value.to_bytes(width, "little", signed=True) + \
                bytes((width + 1,))
    raise ValueError(value)


def lp_entry(item: bytes | int) -> bytes:
    """lpAppend: an integer-looking string is stored as an integer."""
    if isinstance(item, int):
        return lp_int(item)
    if len(item) <= 20:
        value = parse_int(item)
        if value is not None:
            return lp_int(value)
    n = len(item)
    if n < 64:
        head = bytes((0x80 | n,))
    elif n < 4096:
        head = bytes((0xE0 | n >> 8, n & 0xFF))
    else:
        head = b"\xf0" + n.to_bytes(4, "little")
    return head + item + rdb._backlen(len(head) + n)


def listpack(entries: list[bytes]) -> bytes:
    """A listpack of already encoded entries."""
    body = b"".join(entries)
    return struct.pack("<IH", 7 + len(body), min(len(entries), 65535)) + body + b"\xff"


# --- values --------------------------------------------------------------------------------

def _quicklist_nodes(items: Iterable[bytes]) -> Iterator[list[bytes]]:
    """The nodes RPUSH builds: _quicklistNodeAllowInsert's estimate (listpack bytes +
    element length + 8) against 8 KB."""
    node: list[bytes] = []
    size = 0
    for item in items:
        if node and size + len(item) + 8 > _QUICKLIST_NODE_BYTES:
            yield node
            node, size = [], 0
        entry = lp_entry(item)
        node.append(entry)
        size = (size or 7) + len(entry)
    if node:
        yield node


def _list(value: ListValue, string: StringWriter) -> Iterator[bytes]:
    nodes = list(_quicklist_nodes(value))
    yield _len(len(nodes))
    for node in nodes:
        yield _len(_PACKED) + string(listpack(node))


def _intset(members: list[bytes]) -> bytes:
    values = [int(m) for m in members]  # an intset's members are kept sorted
    width = 2
    while any(not -(1 << (8 * width - 1)) <= v < 1 << (8 * width - 1) for v in values):
        width *= 2
    return struct.pack("<II", width, len(values)) + b"".join(
        v.to_bytes(width, "little", signed=True) for v in values)


def _set(value: SetValue, string: StringWriter) -> Iterator[bytes]:
    if value.compact:
        yield string(_intset(value.keys))
        return
    yield _len(len(value))
    for member in value.keys:
        yield string(member)


def _hash(value: HashValue, string: StringWriter) -> Iterator[bytes]:
    if value.compact:
        yield string(listpack([lp_entry(x) for pair in value.items() for x in pair]))
        return
    yield _len(len(value))
    for field, item in value.items():
        yield string(field) + string(item)


def d2string(score: float) -> bytes:
    """Redis 7.0's d2string: integers in (-2^52, 2^52) plainly, else %.17g."""
    if score != score:
        return b"nan"
    if score in (float("inf"), float("-inf")):
        return b"inf" if score > 0 else b"-inf"
    if score == 0:
        return b"-0" if struct.pack("<d", score)[7] & 0x80 else b"0"
    if -4503599627370495 < score < 4503599627370496 and score == int(score):
        return b"%d" % int(score)
    return b"%.17g" % score


def _zset(value: ZSet, string: StringWriter) -> Iterator[bytes]:
    if value.listpack:
        entries = []
        for score, member in value:
            entries += (lp_entry(member), lp_entry(d2string(score)))
        yield string(listpack(entries))
        return
    yield _len(len(value))
    for score, member in value.slice(0, len(value), reverse=True):
        yield string(member) + struct.pack("<d", score)


def _node_listpack(node: Node) -> bytes:
    """A stream node exactly as streamAppendItem/XDEL leave it: the master entry, then
    every entry (deleted ones flagged), each ending with its element count."""
    live = node.live
    master = node.master
    entries = [lp_int(live), lp_int(len(node) - live), lp_int(len(master)),
               *map(lp_entry, master), lp_int(0)]
    for i in range(len(node)):
        flags = node.blob[node.starts[i]]
        fields = node.fields(i)
        entries += (lp_int(flags), lp_int(node.ms[i] - node.master_ms),
                    lp_int(node.seq[i] - node.master_seq))
        if flags & 2:  # same fields as the master entry: values only
            entries += map(lp_entry, fields[1::2])
            entries.append(lp_int(len(fields) // 2 + 3))
        else:
            entries.append(lp_int(len(fields) // 2))
            entries += map(lp_entry, fields)
            entries.append(lp_int(len(fields) + 4))
    return listpack(entries)


def _stream_nodes(stream: Stream, string: StringWriter) -> Iterator[bytes]:
    for node in stream.nodes:
        first = node.master_ms << 64 | node.master_seq
        yield string(first.to_bytes(16, "big")) + string(_node_listpack(node))


# Type -> (RDB type byte, (value, string writer) -> encoded chunks).
_WRITERS: dict[type, tuple[int, Callable[[Any, StringWriter], Iterable[bytes]]]] = {
    bytes: (rdb.T_STRING, lambda value, string: (string(value),)),
    ListValue: (rdb.T_LIST_QUICKLIST_2, _list),
    HashValue: (rdb.T_HASH, _hash),
    ZSet: (rdb.T_ZSET_2, _zset),
    Stream: (rdb.T_STREAM_2,
             lambda value, string: rdb.write_stream(value, _stream_nodes(value, string), string)),
}


def _kind(value: Any) -> int:
    if type(value) is SetValue:
        return rdb.T_SET_INTSET if value.compact else rdb.T_SET
    if type(value) is HashValue and value.compact:
        return rdb.T_HASH_LISTPACK
    if type(value) is ZSet and value.listpack:
        return rdb.T_ZSET_LISTPACK
    return _WRITERS[type(value)][0]


def _plain_string(data: bytes) -> bytes:
    return rdb_string(data, compress=False)


def dump(value: Any, compress: bool = True) -> bytes:
    """The DUMP payload of a value; ``compress`` is rdbcompression."""
    write = _set if type(value) is SetValue else _WRITERS[type(value)][1]
    string = rdb_string if compress else _plain_string
    body = bytes((_kind(value),)) + b"".join(write(value, string)) + _FOOTER
    return body + struct.pack("<Q", rdb.crc64(0, body))


# --- reading -------------------------------------------------------------------------------

def verify(payload: bytes) -> bool:
    """verifyDumpPayload: a known RDB version and a matching CRC-64."""
    if len(payload) < 10:
        return False
    if struct.unpack("<H", payload[-10:-8])[0] > RDB_VERSION:
        return False
    return rdb.crc64(0, payload[:-8]) == struct.unpack("<Q", payload[-8:])[0]


def _pairs(items: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    return zip(items[0::2], items[1::2])


def _build_hash(pairs: Iterable[tuple[bytes, bytes]], server: "Server") -> HashValue:
    config = server.config
    value = HashValue()
    for field, item in pairs:
        if not value.put(field, item):
            raise RdbError("Duplicate hash fields detected")
        value.fit(config.hash_max_listpack_entries, config.hash_max_listpack_value,
                  (field, item))
    return value


def _build_zset(pairs: Iterable[tuple[bytes, float]], server: "Server") -> ZSet:
    config = server.config
    value = ZSet()
    for member, score in pairs:
        if member in value.scores or score != score:
            raise RdbError("Duplicate zset fields detected")
        value.set(member, score)
        if len(value) > config.zset_max_listpack_entries or \
                len(member) > config.zset_max_listpack_value:
            value.listpack = False
    return value


def _build_set(members: list[bytes], server: "Server") -> SetValue:
    value = SetValue()
    limit = server.config.set_max_intset_entries
    for member in members:
        if not value.add(member, limit):
            raise RdbError("Duplicate set members detected")
    return value


def _read(kind: int, reader: RdbReader, server: "Server") -> Any:
    lp_items = lambda: [rdb._as_bytes(x) for x in rdb.parse_listpack(reader.string())]
    if kind == rdb.T_STRING:
        return reader.string()
    if kind == rdb.T_LIST:
        return ListValue(reader.string() for _ in range(reader.count()))
    if kind == rdb.T_LIST_QUICKLIST_2:
        return ListValue(rdb._quicklist2(reader))
    if kind == rdb.T_SET:
        return _build_set([reader.string() for _ in range(reader.count())], server)
    if kind == rdb.T_SET_INTSET:
        return _build_set(rdb._intset(reader.string()), server)
    if kind == rdb.T_HASH:
        return _build_hash(_pairs([reader.string() for _ in range(2 * reader.count())]),
                           server)
    if kind == rdb.T_HASH_LISTPACK:
        return _build_hash(_pairs(lp_items()), server)
    if kind == rdb.T_ZSET_2:
        pairs = []
        for _ in range(reader.count()):
            member = reader.string()
            pairs.append((member, struct.unpack("<d", reader.take(8))[0]))
        return _build_zset(pairs, server)
    if kind == rdb.T_ZSET:
        return _build_zset([(reader.string(), float(rdb._old_score(reader)))
                            for _ in range(reader.count())], server)
    if kind == rdb.T_ZSET_LISTPACK:
        return _build_zset(((m, float(s)) for m, s in _pairs(lp_items())), server)
    if kind in (rdb.T_STREAM, rdb.T_STREAM_2):
        return rdb._read_stream(kind, reader, server, exact=True)
    raise RdbError(f"Unknown RDB encoding type {kind}")


def restore(payload: bytes, server: "Server") -> Any:
    """The value a verified payload holds; RdbError if it is malformed or empty."""
    # Like Redis, read from the whole payload: a value may run into the footer.
    reader = RdbReader(payload)
    try:
        value = _read(reader.byte(), reader, server)
    except (IndexError, ValueError, OverflowError, struct.error, KeyError) as exc:
        raise RdbError(str(exc)) from exc
    if type(value) is not bytes and type(value) is not Stream and not len(value):
        raise RdbError("Empty keys")
    return value
