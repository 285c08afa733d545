"""One numbered database: keys, their expiry times, and the hooks writes must trigger.

Values are stored as plain Python objects whose type *is* the Redis type: ``bytes`` for
strings, and the structure classes that the other storage modules register with
``register_type`` (lists, hashes, sets, sorted sets, streams).  Keys and values are
``bytes`` throughout.

Invariants:
- a key present in ``expires`` is present in ``data``;
- every read goes through ``lookup``, which deletes a key whose time has passed (lazy
  expiry); ``active_expire`` removes expired keys nobody touches, in deadline order from
  a heap (exact, unlike Redis's sampling), skipping stale heap entries;
- every change to a key's value calls ``modified(key)`` (Redis's signalModifiedKey):
  WATCHers are invalidated and clients blocked on the key are told it may be ready;
- ``order`` (storage.sets.KeyOrder), once SCAN or RANDOMKEY has asked for it, holds exactly
  the keys of ``data``: only set/add/delete/expire_now/flush/swap_contents change the key
  set, and each keeps it current (one ``is None`` test for databases never scanned);
- memory accounting (read by respd.memory): ``mem`` is the length of every key and string
  value plus, for a collection, its estimate in ``sizes`` (key -> bytes); the objects'
  fixed part is added from the counts when asked.  A collection written in place is only
  marked in ``resized`` and re-estimated (sampled, bounded) when asked (``settle``);
- ``clocks`` (key -> LRU/LFU clock, values shared ints) exists only while the eviction
  policy needs access times; ``access`` then updates it on every lookup but ``peek``
  (Redis's LOOKUP_NOTOUCH).  ``sampler``, once eviction sampling asked for it, holds every
  key (plus stale ones, dropped when met or by a rebuild) for O(1) random picks.

The database knows nothing of sockets: what a write must cause elsewhere (keyspace
notifications, AOF propagation of expiries, waking blocked clients) goes through the
``events`` object the server provides.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Protocol

from respd.errors import WRONGTYPE
from respd.storage.slots import SlotIndex

if TYPE_CHECKING:
    from respd.storage.sets import KeyOrder


class DatabaseEvents(Protocol):
    notifying: bool  # keyspace notifications on: only then is notify() worth a call

    def now_ms(self) -> int: ...

    # A replica hides logically expired keys from its clients without deleting them,
    # and shows them to the commands of its primary's stream.
    hides_expired: bool
    obeying_master: bool

    def key_expired(self, db: "Database", key: bytes) -> None: ...

    def key_ready(self, db: "Database", key: bytes) -> None: ...

    def notify(self, db: "Database", cls: str, event: bytes, key: bytes) -> None: ...


# Redis type names (TYPE, SCAN TYPE, OBJECT ENCODING) by Python class.
TYPE_NAMES: dict[type, bytes] = {bytes: b"string"}
ENCODINGS: dict[type, Callable[[Any], bytes]] = {}
# Estimated bytes of a collection value by class (respd.memory registers them): O(samples).
SIZERS: dict[type, Callable[[Any], int]] = {}


def register_type(cls: type, name: bytes, encoding: Callable[[Any], bytes]) -> None:
    TYPE_NAMES[cls] = name
    ENCODINGS[cls] = encoding


def type_name(value: Any) -> bytes:
    return TYPE_NAMES[type(value)]


def _string_encoding(value: bytes) -> bytes:
    from respd.numbers import parse_int

    if len(value) <= 20 and parse_int(value) is not None:
        return b"int"
    return b"embstr" if len(value) <= 44 else b"raw"


ENCODINGS[bytes] = _string_encoding


class Database:
    __slots__ = (
        "index",
        "data",
        "expires",
        "_heap",
        "events",
        "watched",
        "blocking",
        "avg_ttl",
        "order",
        "mem",
        "sizes",
        "resized",
        "clocks",
        "access",
        "sampler",
        "string_encodings",
        "slot_index",
        "tracking",
        "hits",
        "misses",
    )

    def __init__(self, index: int, events: DatabaseEvents) -> None:
        self.index = index
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self._heap: list[tuple[int, bytes]] = []
        self.events = events
        # key -> clients WATCHing it (dict as an ordered set)
        self.watched: dict[bytes, dict[Any, None]] = {}
        # key -> clients blocked on it, first come first served
        self.blocking: dict[bytes, deque[Any]] = {}
        self.order: KeyOrder | None = None  # built by key_order() on first use
        # Cluster mode's slot -> keys (slot_keys() builds it); None otherwise: no cost.
        self.slot_index: SlotIndex | None = None
        self.mem = 0
        self.sizes: dict[bytes, int] = {}
        self.resized: dict[bytes, None] = {}
        self.clocks: dict[bytes, int] | None = None
        self.access: Any = None  # respd.eviction's clock policy while clocks exist
        self.sampler: list[bytes] | None = None
        # key -> (its string value, encoding) for strings whose OBJECT ENCODING is not
        # what the bytes alone say: edited in place ("raw"), INCRBYFLOAT's ("embstr")
        self.string_encodings: dict[bytes, tuple[bytes, bytes]] = {}
        # respd.tracking.Tracking while a client tracks keys (client-side caching)
        self.tracking: Any = None
        # keyspace_hits/misses of INFO: counted by the read lookups only, as Redis's
        # lookupKeyRead (write lookups and internal peeks do not count)
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self.data)

    # --- reads -------------------------------------------------------------------------
    # ``read``/``read_typed`` are Redis's lookupKeyRead: a command reading a key uses them
    # and they count keyspace hits and misses.  ``lookup``/``lookup_typed`` are
    # lookupKeyWrite: the same without the counting, for commands about to write the key.

    def read(self, key: bytes) -> Any:
        """lookup, counted as a keyspace hit or miss (a miss is a 'keymiss' event)."""
        value = self.data.get(key)
        if value is not None:
            if self.expires and self._expired(key):
                return self._miss(key)
            if self.clocks is not None:
                self.access.touch(self.clocks, key)
            self.hits += 1
            return value
        return self._miss(key)

    def read_typed(self, key: bytes, cls: type) -> Any:
        """lookup_typed, counted as a keyspace hit (WRONGTYPE included) or miss."""
        value = self.data.get(key)
        if value is not None:
            if self.expires and self._expired(key):
                return self._miss(key)
            self.hits += 1
            if type(value) is not cls:
                raise WRONGTYPE
            if self.clocks is not None:
                self.access.touch(self.clocks, key)
            return value
        return self._miss(key)

    def _miss(self, key: bytes, notify: bool = True) -> None:
        self.misses += 1
        if notify and self.events.notifying:
            self.events.notify(self, "m", b"keymiss", key)

    def counted(self, value: Any, key: bytes, notify: bool = True) -> Any:
        """Count a read made with ``peek`` (Redis's LOOKUP_NOTOUCH reads: TYPE, TTL,
        EXISTS, SCAN's TYPE filter; OBJECT without the 'keymiss' event); returns value."""
        if value is None:
            self._miss(key, notify)
        else:
            self.hits += 1
        return value

    def lookup(self, key: bytes) -> Any:
        """The value at key, or None; an expired key is deleted on the way."""
        value = self.data.get(key)
        # Only a present key can have a TTL, and most databases have none at all.
        if value is not None:
            if self.expires and self._expired(key):
                return None
            if self.clocks is not None:
                self.access.touch(self.clocks, key)
        return value

    def peek(self, key: bytes) -> Any:
        """lookup without updating the key's access clock (LOOKUP_NOTOUCH: TYPE, TTL,
        EXISTS, OBJECT)."""
        value = self.data.get(key)
        if value is not None and self.expires and self._expired(key):
            return None
        return value

    def lookup_typed(self, key: bytes, cls: type) -> Any:
        """The value at key if it is a ``cls`` (else WRONGTYPE), or None."""
        value = self.data.get(key)  # lookup() inlined: every command's first step
        if value is not None:
            if self.expires and self._expired(key):
                return None
            if type(value) is not cls:
                raise WRONGTYPE
            if self.clocks is not None:
                self.access.touch(self.clocks, key)
        return value

    def _expired(self, key: bytes) -> bool:
        """Lazy expiry: delete key if its time has passed."""
        when = self.expires.get(key)
        if when is not None and when <= self.events.now_ms():
            events = self.events
            if events.hides_expired:  # a replica: the primary's DEL removes it
                return not events.obeying_master  # which sees the key as it still is
            self.expire_now(key)
            return True
        return False

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def ttl_ms(self, key: bytes) -> int | None:
        """Absolute expiry time in ms, or None for a key without one."""
        return self.expires.get(key)

    # --- writes ------------------------------------------------------------------------

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store value at key (setKey): replaces any old value and, unless keep_ttl,
        its expiry."""
        data = self.data
        old = data.get(key)
        data[key] = value
        # ``mem`` counts string bytes; respd.memory adds each object's fixed part.
        if old is None:
            self.mem += len(key) + (len(value) if type(value) is bytes
                                    else self._adopt(key, value))
            self._added(key)
            return
        if type(value) is bytes is type(old):  # the common overwrite
            self.mem += len(value) - len(old)
        elif type(value) is bytes:
            self.mem += len(value) - self.sizes.pop(key)
        else:
            self.mem += self._adopt(key, value) - (len(old) if type(old) is bytes else 0)
        if not keep_ttl and key in self.expires:
            del self.expires[key]
        if self.clocks is not None and not self.access.lfu:  # LFU keeps its counter
            self.clocks[key] = self.access.fresh()
        if self.watched or self.blocking or self.tracking:  # modified()'s tests, spared a call
            self.modified(key)

    def _added(self, key: bytes) -> None:
        """Bookkeeping for a key set() created."""
        if self.order is not None:
            self.order.add(key)
        if self.slot_index is not None:
            self.slot_index.add(key)
        if self.sampler is not None:
            self.sampler.append(key)
        if self.clocks is not None:
            self.clocks[key] = self.access.fresh()
        if self.watched or self.blocking or self.tracking:
            self.modified(key)

    def _adopt(self, key: bytes, value: Any) -> int:
        """Size a collection stored at key; returns the change to ``mem`` (the old
        collection's estimate, if one was replaced, is taken off here)."""
        size = SIZERS[type(value)](value)
        old = self.sizes.get(key, 0)
        self.sizes[key] = size
        return size - old

    def _release(self, key: bytes, value: Any) -> None:
        """Forget a removed key's bytes and access clock."""
        self.mem -= len(key) + (len(value) if type(value) is bytes else self.sizes.pop(key))
        if self.clocks is not None:
            self.clocks.pop(key, None)

    def settle(self) -> None:
        """Re-estimate the collections written in place since the last call."""
        resized, self.resized = self.resized, {}
        sizes, data = self.sizes, self.data
        for key in resized:
            old = sizes.get(key)
            if old is not None:  # still a collection (deleted or replaced keys are not)
                value = data[key]
                new = SIZERS[type(value)](value)
                sizes[key] = new
                self.mem += new - old

    def add(self, key: bytes, value: Any) -> None:
        """Create a key known to be absent (dbAdd): clients blocked on it may be served."""
        self.data[key] = value
        self.mem += len(key) + (len(value) if type(value) is bytes else self._adopt(key, value))
        if self.order is not None:
            self.order.add(key)
        if self.slot_index is not None:
            self.slot_index.add(key)
        if self.sampler is not None:
            self.sampler.append(key)
        if self.clocks is not None:
            self.clocks[key] = self.access.fresh()
        self.modified(key)

    def delete(self, key: bytes) -> bool:
        """Remove key and its expiry; True if it existed.  Callers notify 'del'."""
        value = self.data.pop(key, None)
        if value is None:
            return False
        self._release(key, value)
        self.expires.pop(key, None)
        if self.order is not None:
            self.order.discard(key)
        if self.slot_index is not None:
            self.slot_index.discard(key)
        self.modified(key)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        heapq.heappush(self._heap, (when_ms, key))
        if len(self._heap) > 2 * len(self.expires) + 1024:
            self._rebuild_heap()

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def modified(self, key: bytes) -> None:
        """signalModifiedKey: invalidate WATCH, wake clients blocked on the key, send
        client-side caching invalidations."""
        if self.watched:
            watchers = self.watched.get(key)
            if watchers:
                for client in watchers:
                    client.dirty_cas = True
        if self.blocking and key in self.blocking:
            self.events.key_ready(self, key)
        if self.tracking is not None:
            self.tracking.invalidate(key)

    def touch_all_watched(self, replaced_with: "Database | None" = None) -> None:
        """FLUSHDB/SWAPDB: a WATCHed key that exists here, or in the database replacing
        this one's contents, counts as modified; absent keys do not (Redis 7.0)."""
        for key, watchers in self.watched.items():
            if self._alive(key) or (replaced_with is not None and replaced_with._alive(key)):
                for client in watchers:
                    client.dirty_cas = True

    def _alive(self, key: bytes) -> bool:
        when = self.expires.get(key)
        return key in self.data and (when is None or when > self.events.now_ms())

    def notify(self, cls: str, event: bytes, key: bytes) -> None:
        if self.events.notifying:
            self.events.notify(self, cls, event, key)

    def flush(self) -> int:
        removed = len(self.data)
        self.touch_all_watched()
        # Blocked clients re-check keys that vanish (7.0 answers XREADGROUP with an error).
        for key in self.blocking:
            if key in self.data:
                self.events.key_ready(self, key)
        self.data = {}
        self.expires = {}
        self.string_encodings = {}
        self._heap = []
        self.mem = 0
        self.sizes = {}
        self.resized = {}
        if self.clocks is not None:
            self.clocks = {}
        if self.sampler is not None:
            self.sampler = []
        if self.order is not None:
            self.order = type(self.order)()  # a scan in progress goes on over new keys
        if self.slot_index is not None:
            self.slot_index = SlotIndex()
        return removed

    def swap_contents(self, other: "Database") -> None:
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self._heap, other._heap = other._heap, self._heap
        self.order, other.order = other.order, self.order
        self.slot_index, other.slot_index = other.slot_index, self.slot_index
        self.mem, other.mem = other.mem, self.mem
        self.sizes, other.sizes = other.sizes, self.sizes
        self.resized, other.resized = other.resized, self.resized
        self.clocks, other.clocks = other.clocks, self.clocks
        self.sampler, other.sampler = other.sampler, self.sampler
        self.string_encodings, other.string_encodings = (other.string_encodings,
                                                         self.string_encodings)

    def slot_keys(self) -> SlotIndex:
        """The keys by hash slot (cluster mode): built once in O(N), then kept current."""
        if self.slot_index is None:
            self.slot_index = SlotIndex(self.data)
        return self.slot_index

    def key_order(self) -> "KeyOrder":
        """The keys as an array (SCAN, RANDOMKEY): built once, in O(N), the first time a
        database is asked, then kept current by every write."""
        if self.order is None:
            from respd.storage.sets import KeyOrder  # storage.sets imports this module

            self.order = KeyOrder(self.data)
        return self.order

    # --- expiry ------------------------------------------------------------------------

    def expire_now(self, key: bytes) -> None:
        """Delete an expired key and tell the server (stats, 'expired' event, AOF DEL)."""
        self._release(key, self.data.pop(key))
        del self.expires[key]
        if self.order is not None:
            self.order.discard(key)
        if self.slot_index is not None:
            self.slot_index.discard(key)
        self.modified(key)
        self.events.key_expired(self, key)

    def active_expire(self, now_ms: int, budget: int) -> int:
        """Delete up to ``budget`` keys whose time has come; returns how many."""
        heap = self._heap
        done = 0
        while heap and done < budget and heap[0][0] <= now_ms:
            when, key = heapq.heappop(heap)
            if self.expires.get(key) == when:
                self.expire_now(key)
                done += 1
        return done

    def _rebuild_heap(self) -> None:
        self._heap = [(when, key) for key, when in self.expires.items()]
        heapq.heapify(self._heap)
