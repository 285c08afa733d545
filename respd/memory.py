"""How much memory the dataset and the clients take: Redis's ``used_memory`` for respd.

Redis counts what its allocator handed out.  respd cannot ask CPython cheaply, so it keeps
an estimate of the same things, in the bytes CPython really spends on them:

- every database keeps ``mem`` current on its write path (storage.db): key objects and
  string values exactly (a ``bytes`` of n bytes costs ceil16(33 + n) in pymalloc), and
  each collection's estimate, recomputed (sampled, bounded) when it was written;
- the hash tables themselves (``data``, ``expires``, the expiry heap, access clocks) are
  read in O(1) from their sizes when asked;
- clients: a fixed cost per connection plus query and output buffers.

Nothing here walks the keyspace: ``used_memory`` costs O(databases + clients + keys
written since the last call).  ``benchmarks/memory_estimate.py`` measures the estimate
against the process's real RSS growth per data type.
"""

from __future__ import annotations

import random
from sys import getsizeof
from time import perf_counter
from typing import TYPE_CHECKING, Any, Callable

from respd.storage.db import SIZERS, Database
from respd.storage.hashes import HashValue
from respd.storage.lists import ListValue
from respd.storage.sets import SetValue
from respd.storage.stream import Stream
from respd.storage.zset import ZSet

if TYPE_CHECKING:
    from respd.client import Client
    from respd.server import Server

DEFAULT_SAMPLES = 5  # OBJ_COMPUTE_SIZE_DEF_SAMPLES

# CPython object sizes (64-bit, 3.11), rounded up to pymalloc's 16-byte classes.
_INT = 32  # an int beyond the cached small ones (< 2**60)
_FLOAT = 32
_PAIR = 64  # a 2-tuple
_SMALL_INTS = 257  # 0..256 are shared objects: list positions below this cost nothing
# A connected client: Client, Connection, the transport and its socket, the parser,
# dicts and deques it owns (measured with tracemalloc on an idle connection).
CLIENT_BASE = 3584
# respd's own structures once started (command table, Lua state, subsystems), measured
# with tracemalloc on a fresh Server: Redis's used_memory_startup counts the same kind.
SERVER_BASE = 36 * 1024
# An expiry: the int deadline (shared by ``expires`` and the heap), the heap's tuple and slot.
_EXPIRY = _INT
_HEAP_ENTRY = _PAIR + 8


def obj_bytes(n: int) -> int:
    """A bytes object holding n bytes."""
    return (n + 48) & -16


# What a bytes object costs beyond its length on average: the 33-byte header and half
# of the 16-byte rounding.  The write path counts lengths only (cheaper on every SET).
_BYTES_FIXED = 33 + 8


def _positions(n: int) -> int:
    """The int objects of an IndexedKeys position dict."""
    return max(n - _SMALL_INTS, 0) * _INT


def _sample(items: list[Any], samples: int) -> tuple[list[Any], int]:
    """Up to ``samples`` random items (all of them for 0), and the total count."""
    n = len(items)
    if samples <= 0 or samples >= n:
        return items, n
    return [items[random.randrange(n)] for _ in range(samples)], n


def _scaled(total: int, taken: int, n: int) -> int:
    return total * n // taken if taken else 0


def list_size(value: ListValue, samples: int = DEFAULT_SAMPLES) -> int:
    n = len(value)
    if samples <= 0 or n <= samples:
        taken = list(value)
    else:  # the ends of a deque are O(1) to reach, its middle is not
        half = (samples + 1) // 2
        taken = [value[i] for i in range(half)] + [value[-1 - i] for i in range(samples - half)]
    elements = sum(obj_bytes(len(e)) for e in taken)
    return getsizeof(value) + _scaled(elements, len(taken), n)


def set_size(value: SetValue, samples: int = DEFAULT_SAMPLES) -> int:
    taken, n = _sample(value.keys, samples)
    members = sum(obj_bytes(len(m)) for m in taken)
    return (getsizeof(value) + getsizeof(value.keys) + getsizeof(value.pos) + _positions(n)
            + _scaled(members, len(taken), n))


def hash_size(value: HashValue, samples: int = DEFAULT_SAMPLES) -> int:
    taken, n = _sample(value.fields(), samples)
    values = value.values
    pairs = sum(obj_bytes(len(f)) + obj_bytes(len(values[f])) for f in taken)
    index = value.index  # the array of a converted hash
    array = 0 if index is None else (getsizeof(index) + getsizeof(index.keys)
                                     + getsizeof(index.pos) + _positions(n))
    return getsizeof(value) + array + getsizeof(values) + _scaled(pairs, len(taken), n)


def zset_size(value: ZSet, samples: int = DEFAULT_SAMPLES) -> int:
    taken, n = _sample(value.members, samples)
    members = sum(obj_bytes(len(m)) for m in taken)
    order = value.order
    # The sorted list: a (score, member) tuple and a slot per member, sublists of ~1000
    # (half full on average after splits), its max and positional index lists.
    sorted_list = n * (_PAIR + 12) + len(order._lists) * 64 + 2 * getsizeof(order._maxes)
    return (getsizeof(value.scores) + n * _FLOAT + sorted_list + getsizeof(value.members)
            + getsizeof(value.pos) + _positions(n) + _scaled(members, len(taken), n) + 64)


def _node_size(node: Any) -> int:
    return (getsizeof(node) + getsizeof(node.ms) + getsizeof(node.seq)
            + getsizeof(node.starts) + getsizeof(node.blob) + getsizeof(node.master)
            + sum(obj_bytes(len(f)) for f in node.master))


def stream_size(value: Stream, samples: int = DEFAULT_SAMPLES) -> int:
    nodes = value.nodes
    n = len(nodes)
    if samples <= 0 or n <= samples:
        taken = nodes
    else:  # the last node is the one growing; the others are full alike
        taken = [nodes[-1]] + [nodes[random.randrange(n - 1)] for _ in range(samples - 1)]
    total = getsizeof(value) + getsizeof(nodes) + getsizeof(value.firsts) + n * _INT * 2
    total += _scaled(sum(_node_size(node) for node in taken), len(taken), n)
    for group in value.groups.values():
        # Each pending entry: a Nack, its ID, and a slot in the group's and the
        # consumer's sorted dicts (dict entry plus sorted key list).
        total += 256 + len(group.pel) * 224
        total += sum(200 + obj_bytes(len(name)) for name in group.consumers)
    return total


SIZERS.update({ListValue: list_size, SetValue: set_size, HashValue: hash_size,
               ZSet: zset_size, Stream: stream_size})
_SAMPLED: dict[type, Callable[[Any, int], int]] = dict(SIZERS)


def key_usage(key: bytes, value: Any, has_expiry: bool, samples: int) -> int:
    """MEMORY USAGE: the key, its value and its share of the tables it is in."""
    if type(value) is bytes:
        size = obj_bytes(len(value))
    else:
        size = _SAMPLED[type(value)](value, samples)
    # A dict entry (24 bytes) at the table's usual load, plus its index slot.
    return obj_bytes(len(key)) + size + 40 + (_EXPIRY + _HEAP_ENTRY + 40 if has_expiry else 0)


# --- totals --------------------------------------------------------------------------------


def expiry_tables(db: Database) -> int:
    """The expires table and the expiry heap (Redis's overhead.hashtable.expires)."""
    return (getsizeof(db.expires) + len(db.expires) * _EXPIRY + getsizeof(db._heap)
            + len(db._heap) * _PAIR)


def db_tables(db: Database) -> int:
    """What a database spends on top of its keys and values: its tables."""
    total = getsizeof(db.data) + expiry_tables(db)
    total += getsizeof(db.sizes) + len(db.sizes) * _INT
    if db.clocks is not None:
        total += getsizeof(db.clocks)
    if db.sampler is not None:
        total += getsizeof(db.sampler)
    if db.order is not None:
        total += getsizeof(db.order.keys) + getsizeof(db.order.pos) + _positions(len(db.order))
    return total


def dataset(db: Database) -> int:
    """The keys and values of a database (used_memory_dataset's part): their bytes, kept
    by the database, plus each key's and string value's object header and rounding."""
    if db.resized:
        db.settle()
    return db.mem + (2 * len(db.data) - len(db.sizes)) * _BYTES_FIXED


def client_memory(client: "Client") -> int:
    """getClientMemoryUsage: the connection, its query buffer and its pending output."""
    out = sum(len(chunk) for chunk in client.out)
    transport = client.transport
    if transport is not None:
        out += transport.get_write_buffer_size()
    if client.multi is not None:
        out += sum(len(a) + 48 for _, argv in client.multi for a in argv)
    return CLIENT_BASE + client.reader.buffered() + out


class Accounting:
    """The totals INFO, MEMORY and eviction read (see the module docstring).  Like
    Redis: used = overhead + dataset, overhead = startup + clients + AOF buffer + the
    databases' tables."""

    __slots__ = ("server", "peak", "fixed", "fixed_until", "active")

    startup = SERVER_BASE
    FIXED_FOR = 0.01  # seconds the tables and clients part is reused by for_eviction

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.peak = 0
        self.fixed = 0
        self.fixed_until = 0.0
        self.active: list[Database] = []  # the databases holding keys at the last refresh

    def clients(self) -> tuple[int, int]:
        """(normal, pubsub) client memory: Redis reports both as clients.normal."""
        normal = pubsub = 0
        for client in self.server.clients.values():
            if client.transport is not None:
                if client.in_pubsub_mode:
                    pubsub += client_memory(client)
                else:
                    normal += client_memory(client)
        return normal, pubsub

    def aof_buffer(self) -> int:
        aof = self.server.aof
        buf = getattr(aof, "buf", None) if aof is not None else None
        return len(buf) if buf is not None else 0

    def tables(self) -> int:
        return sum(db_tables(db) for db in self.server.dbs)

    def dataset(self) -> int:
        return sum(dataset(db) for db in self.server.dbs)

    def overhead(self) -> int:
        return self.startup + sum(self.clients()) + self.aof_buffer() + self.tables()

    def used(self) -> int:
        """used_memory; tracks the peak."""
        used = self.overhead() + self.dataset()
        if used > self.peak:
            self.peak = used
        return used

    def for_eviction(self, current: Database) -> int:
        """What counts against maxmemory: used_memory less the AOF buffer (Redis's
        freeMemoryGetNotCountedMemory).  Runs before every command while maxmemory is
        set, so only the datasets of the databases holding keys (and the client's own)
        are summed each time; the tables and clients (O(dbs + clients)) and the list of
        databases in use are refreshed every FIXED_FOR seconds."""
        now = perf_counter()
        if now >= self.fixed_until:
            dbs = self.server.dbs
            self.fixed = self.startup + sum(self.clients()) + self.tables()
            self.active = [db for db in dbs if db.data or db.mem]
            self.fixed_until = now + self.FIXED_FOR
        total = self.fixed
        for db in self.active:
            total += dataset(db)
        if current not in self.active:
            total += dataset(current)
        return total

    def changed(self) -> None:
        """Something outside the datasets changed a lot (FLUSHALL, CONFIG SET): the next
        for_eviction recomputes everything."""
        self.fixed_until = 0.0
