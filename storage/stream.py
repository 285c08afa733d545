"""Streams: an append-only log of field/value entries ordered by ID, and consumer groups.

IDs are ``ms-seq`` pairs packed into one int (``ms << 64 | seq``) so that comparisons
are plain int comparisons.

Entries live in *nodes*, like the listpacks of Redis's radix tree.  A node keeps its IDs
in two arrays of unsigned 64-bit ints (ms, seq) and its entries encoded back to back in
one bytearray:

    flags byte | [field count] | (length-prefixed field)* | length-prefixed value *

``flags`` bit 0 marks a deleted entry, bit 1 an entry whose fields are the node's
*master* fields (those of its first entry), in which case only the values are stored.
No Python object exists per entry, which keeps a million small entries compact.

A node closes, as in Redis, when it holds stream-node-max-entries entries (live and
deleted) or when its size would reach stream-node-max-bytes; the size is Redis's listpack
size, computed from listpack's element encodings (``Node.lp_bytes``).  So node
boundaries, what ``~`` trimming removes and XINFO's radix-tree figures are Redis's own
(checked by the compat cases).

Seeks are O(log n): ``bisect`` over the nodes' first IDs, then a binary search inside a
node.  Appends touch only the tail node.  Deleting marks the flag byte; XDEL drops a
node whose entries are all deleted, so deletions do not leave empty nodes to walk over
(an exact trim, like Redis's, may leave one at the head until the next trim).
Trimming removes whole nodes first, which is what makes ``~`` trimming node-granular.

Consumer groups keep the pending-entries list (PEL) as a ``PendingList`` (a ``SortedDict``
ID → ``Nack``: consumer, delivery time, delivery count, plus an index by delivery time)
per group, sharing its Nacks with a per-consumer ``SortedDict``.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Iterator

from sortedcontainers import SortedDict, SortedList

from respd.numbers import parse_int

SEQ_MASK = (1 << 64) - 1
MAX_ID = (1 << 128) - 1
INVALID_ENTRIES_READ = -1  # a group's entries-read counter when it is unknown

# Redis 8.2's reference policies for deleting and trimming: KEEPREF leaves consumer
# groups' PELs alone (7.0's behaviour), DELREF also removes the entries from every PEL,
# ACKED only removes entries that every group has been delivered and acknowledged.
KEEPREF, DELREF, ACKED = 0, 1, 2

_DELETED = 1
_SAMEFIELDS = 2

# Appending to an array('L') takes half the time of 'Q'; use it where it holds 64 bits.
_U64 = "L" if array("L").itemsize == 8 else "Q"


def make_id(ms: int, seq: int) -> int:
    return ms << 64 | seq


def format_id(sid: int) -> bytes:
    return b"%d-%d" % (sid >> 64, sid & SEQ_MASK)


# --- entry encoding ---------------------------------------------------------------------


def _put_len(out: bytearray, n: int) -> None:
    # 7 bits per byte, high bit = more bytes follow.
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _put_items(out: bytearray, items: list[bytes]) -> tuple[int, int]:
    """Append length-prefixed items; returns the listpack bytes they take in Redis and
    their payload (total length)."""
    size = payload = 0
    for item in items:
        n = len(item)
        if n < 0x80:  # the common one-byte length, inline
            out.append(n)
        else:
            _put_len(out, n)
        out += item
        payload += n
        if n < 64 and not (n and item[0] in _DIGIT_START):
            size += n + 2  # a short string that is no integer: 1-byte header and backlen
        else:
            size += _lp_element_size(item)
    return size, payload


def _get_len(buf: bytearray, pos: int) -> tuple[int, int]:
    n = buf[pos]
    if n < 0x80:
        return n, pos + 1
    n &= 0x7F
    shift = 7
    while True:
        pos += 1
        byte = buf[pos]
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, pos + 1
        shift += 7


def _get(buf: bytearray, pos: int) -> tuple[bytes, int]:
    n, pos = _get_len(buf, pos)
    return bytes(buf[pos : pos + n]), pos + n


_DIGIT_START = frozenset(b"-0123456789")


def _lp_int_size(value: int) -> int:
    """Bytes of a listpack integer element (encoding + backlen): 7-bit unsigned, then
    13/16/24/32-bit signed, else 64-bit."""
    if 0 <= value < 128:
        return 2
    if -4096 <= value < 4096:
        return 3
    if -32768 <= value < 32768:
        return 4
    if -8388608 <= value < 8388608:
        return 5
    if -2147483648 <= value < 2147483648:
        return 6
    return 10


def _lp_element_size(item: bytes) -> int:
    """The bytes a listpack element takes in Redis (encoding + backlen): Redis starts a
    new node by stream-node-max-bytes, so node boundaries depend on it."""
    if item and item[0] in _DIGIT_START:  # only these can be stored as integers
        value = parse_int(item)
        if value is not None:
            return _lp_int_size(value)
    n = len(item)
    body = (1 if n < 64 else 2 if n < 4096 else 5) + n
    return body + (1 if body < 128 else 2 if body < 16384 else 3)


# --- nodes ------------------------------------------------------------------------------


class Node:
    __slots__ = ("ms", "seq", "starts", "blob", "master", "master_len", "master_ms",
                 "master_seq", "live", "lp_bytes", "same_size")

    def __init__(self, sid: int, master: list[bytes]) -> None:
        self.ms = array(_U64)
        self.seq = array(_U64)
        self.starts = array("I")
        self.blob = bytearray()
        self.master = master  # field names of the node's first entry
        self.master_len = sum(map(len, master))  # their part of an entry's payload
        self.master_ms = sid >> 64  # entry IDs are listpack deltas from the first one
        self.master_seq = sid & SEQ_MASK
        self.live = 0
        # Redis's listpack size but for the master entry's live/deleted counters
        # (counters_size): header and end, field count, names, terminator.
        self.lp_bytes = (7 + _lp_int_size(len(master)) + sum(map(_lp_element_size, master))
                         + _lp_int_size(0))
        # An entry with the master fields adds its flags and element count to its values.
        self.same_size = _lp_int_size(_SAMEFIELDS) + _lp_int_size(len(master) + 3)

    def __len__(self) -> int:  # entries, deleted ones included
        return len(self.ms)

    def id_at(self, i: int) -> int:
        return self.ms[i] << 64 | self.seq[i]

    def deleted(self, i: int) -> bool:
        return bool(self.blob[self.starts[i]] & _DELETED)

    def mark_deleted(self, i: int) -> None:
        self.blob[self.starts[i]] |= _DELETED
        self.live -= 1

    def add(self, sid: int, fields: list[bytes], max_entries: int, max_bytes: int) -> bool:
        """Append an entry, unless Redis would start a new node for it (then False, the
        node unchanged): when live + deleted entries reach max_entries, or the listpack
        bytes + the entry's payload reach max_bytes (0: no limit, for either)."""
        if max_entries and len(self.ms) >= max_entries:
            return False
        out = self.blob
        start = len(out)
        # Encoding measures the payload: checked after, undone in the rare full case.
        if fields[0::2] == self.master:
            out.append(_SAMEFIELDS)
            size, payload = _put_items(out, fields[1::2])
            size += self.same_size
            payload += self.master_len
        else:
            pairs = len(fields) >> 1
            out.append(0)
            _put_len(out, pairs)
            size, payload = _put_items(out, fields)
            # flags, field count, element count
            size += _lp_int_size(0) + _lp_int_size(pairs) + _lp_int_size(2 * pairs + 4)
        total = self.lp_bytes + payload
        # The counters take 20 bytes at most: size them only near the limit.
        if max_bytes and total + 20 >= max_bytes and total + self.counters_size() >= max_bytes:
            del out[start:]
            return False
        ms = sid >> 64
        seq = sid & SEQ_MASK
        self.starts.append(start)
        self.ms.append(ms)
        self.seq.append(seq)
        self.live += 1
        ms_delta = ms - self.master_ms
        seq_delta = seq - self.master_seq
        if 0 <= ms_delta < 128 and 0 <= seq_delta < 128:  # usual: 2 bytes each, inline
            self.lp_bytes += size + 4
        else:
            self.lp_bytes += size + _lp_int_size(ms_delta) + _lp_int_size(seq_delta)
        return True

    def counters_size(self) -> int:
        """The listpack bytes of the master entry's live and deleted counters."""
        return _lp_int_size(self.live) + _lp_int_size(len(self.ms) - self.live)

    def fields(self, i: int) -> list[bytes]:
        """The entry's field/value list, flat."""
        buf = self.blob
        pos = self.starts[i]
        flags = buf[pos]
        pos += 1
        if flags & _SAMEFIELDS:
            names: list[bytes] | None = self.master
            count = len(self.master)
        else:
            names = None
            count, pos = _get_len(buf, pos)
            count *= 2
        items: list[bytes] = []
        for _ in range(count):
            n = buf[pos]
            if n < 0x80:  # the common one-byte length, inline
                pos += 1
                items.append(bytes(buf[pos : pos + n]))
                pos += n
            else:
                item, pos = _get(buf, pos)
                items.append(item)
        if names is None:
            return items
        out = [b""] * (2 * count)
        out[0::2] = names
        out[1::2] = items
        return out

    def bisect_left(self, sid: int) -> int:
        """Index of the first entry with ID >= sid (deleted entries included)."""
        # IDs ascend: among the entries sharing sid's ms, seqs ascend.
        ms = sid >> 64
        lo = bisect_left(self.ms, ms)
        return bisect_left(self.seq, sid & SEQ_MASK, lo, bisect_right(self.ms, ms, lo))

    def compact(self) -> None:
        """A full node will not grow: drop the bytearray's spare capacity."""
        self.blob = bytearray(self.blob)


# --- consumer groups ----------------------------------------------------------------------


class Nack:
    """A pending entry: who has it (None once XNACKed: anyone may claim it), when it was
    last delivered, how many times.  Setting ``delivery_time`` keeps the group's
    time index in step (the Nack knows its PEL and ID once it is in one)."""

    __slots__ = ("consumer", "_time", "delivery_count", "_pel", "_sid")

    def __init__(self, consumer: "Consumer | None", delivery_time: int,
                 delivery_count: int = 1) -> None:
        self.consumer = consumer
        self._time = delivery_time
        self.delivery_count = delivery_count
        self._pel: PendingList | None = None
        self._sid = 0

    @property
    def delivery_time(self) -> int:
        return self._time

    @delivery_time.setter
    def delivery_time(self, value: int) -> None:
        pel = self._pel
        if pel is not None and value != self._time:
            pel.by_time.remove((self._time, self._sid))
            pel.by_time.add((value, self._sid))
        self._time = value


class PendingList(SortedDict):
    """A group's PEL: ID -> Nack in ID order, plus ``by_time``, the same entries as
    (delivery time, ID) in that order, so XREADGROUP ... CLAIM finds the idle ones and
    a blocked CLAIM read knows when the oldest crosses its threshold without a scan.
    Every way in or out of the PEL goes through the methods below."""

    def __init__(self) -> None:
        super().__init__()
        self.by_time: SortedList = SortedList()

    def __setitem__(self, sid: int, nack: Nack) -> None:
        old = self.get(sid)
        if old is not None:
            self._unindex(old)
        super().__setitem__(sid, nack)
        nack._pel, nack._sid = self, sid
        self.by_time.add((nack._time, sid))

    def __delitem__(self, sid: int) -> None:
        self._unindex(self[sid])
        super().__delitem__(sid)

    def pop(self, sid: int, *default: object) -> object:  # type: ignore[override]
        nack = self.get(sid)
        if nack is None:
            return super().pop(sid, *default)
        self._unindex(nack)
        return super().pop(sid)

    def popitem(self, index: int = -1) -> tuple[int, Nack]:
        sid, nack = super().popitem(index)
        self._unindex(nack)
        return sid, nack

    def clear(self) -> None:
        for nack in self.values():
            nack._pel = None
        self.by_time.clear()
        super().clear()

    def setdefault(self, *args: object) -> object:
        raise NotImplementedError("PendingList: assign items one by one")

    def update(self, *args: object, **kwargs: object) -> None:
        if args or kwargs:  # SortedDict.__init__ calls it with nothing
            raise NotImplementedError("PendingList: assign items one by one")
        super().update()

    _update = update

    def __reduce__(self) -> tuple:  # type: ignore[override]
        # copy.deepcopy (COPY) and pickle rebuild it item by item, index included.
        return (PendingList, (), None, None, iter(list(self.items())))

    def idle_since(self, cutoff: int, after: tuple[int, int] | None = None
                   ) -> tuple[int, int] | None:
        """The first (delivery time, ID) delivered at or before ``cutoff``, after ``after``."""
        found = self.by_time.irange(after, (cutoff, MAX_ID), (False, True))
        return next(found, None)

    def oldest_delivery(self) -> int | None:
        return self.by_time[0][0] if self.by_time else None

    def _unindex(self, nack: Nack) -> None:
        self.by_time.remove((nack._time, nack._sid))
        nack._pel = None


class Consumer:
    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, now_ms: int) -> None:
        self.name = name
        self.seen_time = now_ms
        self.pel: SortedDict = SortedDict()  # ID -> Nack (the same objects as the group's)


class DeadLetter:
    """respd's dead-letter setting of a group (RESPD.XDEADLETTER): an entry about to be
    delivered more than ``max_deliveries`` times goes to stream ``key`` instead."""

    __slots__ = ("max_deliveries", "key", "count")

    def __init__(self, max_deliveries: int, key: bytes, count: int = 0) -> None:
        self.max_deliveries = max_deliveries
        self.key = key
        self.count = count  # entries dead-lettered so far


class Group:
    __slots__ = ("last_id", "entries_read", "pel", "consumers", "dead_letter")

    def __init__(self, last_id: int, entries_read: int) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel = PendingList()  # ID -> Nack
        self.consumers: dict[bytes, Consumer] = {}
        self.dead_letter: DeadLetter | None = None

    def consumer(self, name: bytes, now_ms: int) -> Consumer:
        """The named consumer, created (seen now) if new."""
        found = self.consumers.get(name)
        if found is None:
            found = self.consumers[name] = Consumer(name, now_ms)
        return found

    def delete_consumer(self, name: bytes) -> int:
        """Forget a consumer and its pending entries; returns how many it had."""
        found = self.consumers.pop(name)
        for sid in found.pel:
            del self.pel[sid]
        return len(found.pel)

    def ack(self, sid: int) -> bool:
        nack = self.pel.pop(sid, None)
        if nack is None:
            return False
        if nack.consumer is not None:  # XNACK leaves entries unowned
            del nack.consumer.pel[sid]
        return True

    def nacked(self) -> list[int]:
        """The unowned (XNACKed) pending IDs, in ID order."""
        return [sid for sid, nack in self.pel.items() if nack.consumer is None]

    def sorted_consumers(self) -> list[Consumer]:
        # Redis keeps consumers in a radix tree: listed in byte order.
        return [self.consumers[name] for name in sorted(self.consumers)]


# --- the stream ---------------------------------------------------------------------------


class Retention:
    """respd's retention policy of a stream (RESPD.XRETENTION), enforced by the server's
    background cycle: 0 leaves a limit off."""

    __slots__ = ("max_age", "max_len", "max_bytes", "policy")

    def __init__(self, max_age: int = 0, max_len: int = 0, max_bytes: int = 0,
                 policy: int = KEEPREF) -> None:
        self.max_age = max_age  # ms
        self.max_len = max_len
        self.max_bytes = max_bytes
        self.policy = policy


class Idmp:
    """Redis 8.6's idempotent producers of a stream: per producer ID, the idempotent IDs
    recently added (oldest first) with the entry each made; a producer's oldest go past
    ``maxsize``, and the background cycle drops those older than ``duration`` seconds
    (by their entry's time)."""

    __slots__ = ("duration", "maxsize", "producers", "added", "duplicates")

    def __init__(self, duration: int, maxsize: int) -> None:
        self.duration = duration
        self.maxsize = maxsize
        self.producers: dict[bytes, dict[bytes, int]] = {}  # pid -> {iid: entry ID}
        self.added = 0  # iids-added: every IID recorded, for the stream's lifetime
        self.duplicates = 0  # iids-duplicates: XADDs answered with an earlier entry

    def find(self, pid: bytes, iid: bytes) -> int | None:
        known = self.producers.get(pid)
        return known.get(iid) if known is not None else None

    def record(self, pid: bytes, iid: bytes, sid: int) -> None:
        known = self.producers.get(pid)
        if known is None:
            known = self.producers[pid] = {}
        known[iid] = sid
        self.added += 1
        if len(known) > self.maxsize:
            del known[next(iter(known))]

    def clear(self) -> None:
        self.producers.clear()

    def expire(self, now_ms: int) -> bool:
        """Drop what is older than the duration; True if anything went."""
        horizon = now_ms - self.duration * 1000
        changed = False
        for pid in list(self.producers):
            known = self.producers[pid]
            while known:
                iid, sid = next(iter(known.items()))
                if sid >> 64 > horizon:
                    break
                del known[iid]
                changed = True
            if not known:
                del self.producers[pid]
                changed = True
        return changed

    def tracked(self) -> int:
        return sum(len(known) for known in self.producers.values())


class Stream:
    __slots__ = ("nodes", "firsts", "length", "last_id", "first_id", "entries_added",
                 "max_deleted_id", "groups", "retention", "idmp")

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.firsts: list[int] = []  # each node's first ID (deleted or not), for bisect
        self.length = 0
        self.last_id = 0  # the last ID ever added (or set by XSETID)
        self.first_id = 0  # the first live entry's ID, 0 when empty
        self.entries_added = 0
        self.max_deleted_id = 0
        self.groups: dict[bytes, Group] = {}
        self.retention: Retention | None = None
        self.idmp: Idmp | None = None  # made by the first IDMP/IDMPAUTO XADD or XCFGSET

    # --- appending ------------------------------------------------------------------------

    def next_id(self, now_ms: int) -> int:
        """The ID XADD * assigns now (the caller refuses a stream whose last_id is MAX_ID:
        no ID is left)."""
        last_ms = self.last_id >> 64
        if now_ms > last_ms:
            return now_ms << 64
        return self.last_id + 1  # also carries seq overflow into ms

    def append(self, sid: int, fields: list[bytes], max_entries: int, max_bytes: int) -> None:
        """Add an entry with ID ``sid`` (> last_id, checked by the caller)."""
        if max_bytes == 0 or max_bytes > 1 << 30:  # Redis caps a node at 1 GB
            max_bytes = 1 << 30
        node = self.nodes[-1] if self.nodes else None
        if node is None or not node.add(sid, fields, max_entries, max_bytes):
            self._new_node(sid, fields)
        if self.length == 0:
            self.first_id = sid
        self.length += 1
        self.last_id = sid
        self.entries_added += 1

    def _new_node(self, sid: int, fields: list[bytes]) -> None:
        """Close the tail node (if any) and start one with this entry."""
        if self.nodes:
            self.nodes[-1].compact()
        node = Node(sid, fields[0::2])
        node.add(sid, fields, 0, 0)  # a new node takes any first entry
        self.nodes.append(node)
        self.firsts.append(sid)

    # --- reading --------------------------------------------------------------------------

    def _seek(self, sid: int) -> tuple[int, int]:
        """(node index, entry index) of the first entry with ID >= sid."""
        ni = max(bisect_right(self.firsts, sid) - 1, 0)
        if ni >= len(self.nodes):
            return ni, 0
        i = self.nodes[ni].bisect_left(sid)
        if i == len(self.nodes[ni]):
            return ni + 1, 0
        return ni, i

    def range(self, start: int, end: int, rev: bool = False) -> Iterator[tuple[int, Node, int]]:
        """Live entries with start <= ID <= end as (ID, node, index), in ID order (or
        reversed); read the fields with ``node.fields(index)``."""
        if start > end or not self.length:
            return iter(())
        return self._backward(start, end) if rev else self._forward(start, end)

    def _forward(self, start: int, end: int) -> Iterator[tuple[int, Node, int]]:
        ni, i = self._seek(start)
        nodes = self.nodes
        while ni < len(nodes):
            node = nodes[ni]
            ms, seq, starts, blob = node.ms, node.seq, node.starts, node.blob
            for j in range(i, len(ms)):
                sid = ms[j] << 64 | seq[j]
                if sid > end:
                    return
                if not blob[starts[j]] & _DELETED:
                    yield sid, node, j
            ni += 1
            i = 0

    def _backward(self, start: int, end: int) -> Iterator[tuple[int, Node, int]]:
        ni, i = self._seek(end + 1)
        i -= 1
        if i < 0:
            ni -= 1
            i = len(self.nodes[ni]) - 1 if ni >= 0 else -1
        nodes = self.nodes
        while ni >= 0:
            node = nodes[ni]
            for j in range(i, -1, -1):
                sid = node.id_at(j)
                if sid < start:
                    return
                if not node.deleted(j):
                    yield sid, node, j
            ni -= 1
            if ni >= 0:
                i = len(nodes[ni]) - 1

    def get(self, sid: int) -> list[bytes] | None:
        for _, node, i in self.range(sid, sid):
            return node.fields(i)
        return None

    def entries(self, start: int = 0, end: int = MAX_ID, count: int = 0,
                rev: bool = False) -> list[tuple[int, list[bytes]]]:
        """Up to ``count`` (0: all) entries in the range, with their fields."""
        out: list[tuple[int, list[bytes]]] = []
        for sid, node, i in self.range(start, end, rev):
            out.append((sid, node.fields(i)))
            if len(out) == count:
                break
        return out

    def last_entry_id(self) -> int:
        """The last live entry's ID (0 when empty); last_id may be past it."""
        for sid, _, _ in self.range(0, MAX_ID, rev=True):
            return sid
        return 0

    # --- deleting -------------------------------------------------------------------------

    def delete(self, sid: int) -> bool:
        """XDEL one ID; True if a live entry was removed."""
        ni, i = self._seek(sid)
        if ni >= len(self.nodes):
            return False
        node = self.nodes[ni]
        if node.id_at(i) != sid or node.deleted(i):
            return False
        node.mark_deleted(i)
        self.length -= 1
        if not node.live:
            self._drop_node(ni)
        if sid == self.first_id:
            self._update_first_id()
        if sid > self.max_deleted_id:
            self.max_deleted_id = sid
        return True

    def _drop_node(self, ni: int) -> None:
        del self.nodes[ni]
        del self.firsts[ni]

    def _update_first_id(self) -> None:
        # Entries are only removed: the first live one is at or past the old first.
        start = self.first_id
        self.first_id = 0
        for sid, _, _ in self.range(start, MAX_ID):
            self.first_id = sid
            break

    def trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int,
             policy: int = KEEPREF) -> int:
        """Trim under a reference policy (see ``_trim``); returns the entries removed."""
        if policy == ACKED and self.groups:
            return self._trim_acked(maxlen, minid, approx, limit)
        old_first = self.first_id
        deleted = self._trim(maxlen, minid, approx, limit)
        if deleted and policy == DELREF:
            # Trimming removes a prefix: what was live before the new first entry.
            end = self.first_id - 1 if self.length else self.last_id
            for group in self.groups.values():
                for sid in list(group.pel.irange(old_first, end)):
                    group.ack(sid)
        return deleted

    def _trim_acked(self, maxlen: int | None, minid: int | None, approx: bool,
                    limit: int) -> int:
        """ACKED trimming: entries a group still references (pending, or past its last
        delivered ID) stay; the others are removed in ID order until the threshold.
        Approximate trimming removes only whole nodes with no referenced entry."""
        # Entries past the smallest last-delivered ID are referenced: stop there.
        horizon = min(group.last_id for group in self.groups.values())
        deleted = 0
        ni = 0
        stop = False
        while ni < len(self.nodes) and not stop:
            node = self.nodes[ni]
            if self._unreferenced_node(node, horizon) and (
                    (maxlen is not None and self.length - node.live >= maxlen)
                    or (minid is not None and node.id_at(len(node) - 1) < minid)) and (
                    not limit or deleted + node.live <= limit):
                # No group needs any of it: the whole node goes without looking inside.
                self.length -= node.live
                deleted += node.live
                self._drop_node(ni)
                continue
            doomed: list[int] = []
            for j in range(len(node)):
                if node.deleted(j):
                    continue
                sid = node.id_at(j)
                if ((maxlen is not None and self.length - len(doomed) <= maxlen)
                        or (minid is not None and sid >= minid) or sid > horizon
                        or (limit and deleted + len(doomed) >= limit)):
                    stop = True
                    break
                if not self.referenced(sid):
                    doomed.append(j)
            whole = len(doomed) == node.live
            if approx and not whole:
                break
            for j in doomed:
                node.mark_deleted(j)
            self.length -= len(doomed)
            deleted += len(doomed)
            if whole:
                self._drop_node(ni)
            else:
                ni += 1
        if deleted:
            self._update_first_id()
        return deleted

    def _unreferenced_node(self, node: Node, horizon: int) -> bool:
        """Every entry of ``node`` delivered to every group and pending in none."""
        last = node.id_at(len(node) - 1)
        if last > horizon:
            return False
        first = node.id_at(0)
        for group in self.groups.values():
            for _ in group.pel.irange(first, last):
                return False
        return True

    def _trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int) -> int:
        """Redis's streamTrim: drop whole nodes from the head while that keeps the
        length >= maxlen (or the node ends before minid); exact trimming then marks
        entries inside the next node, approximate trimming stops at it.  ``limit``
        (0: none) caps the entries removed, counted in whole nodes."""
        deleted = 0
        while self.nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            node = self.nodes[0]
            live = node.live
            if limit and deleted + live > limit:
                break
            if maxlen is not None:
                whole = self.length - live >= maxlen
            else:
                whole = node.id_at(len(node) - 1) < minid  # type: ignore[operator]
            if whole:
                self._drop_node(0)
                self.length -= live
                deleted += live
                continue
            if approx:
                break
            # Entries before the first live one are deleted: start there.
            for j in range(node.bisect_left(self.first_id), len(node)):
                if node.deleted(j):
                    continue
                if maxlen is not None and self.length <= maxlen:
                    break
                if minid is not None and node.id_at(j) >= minid:
                    break
                node.mark_deleted(j)
                self.length -= 1
                deleted += 1
            break  # a node emptied here stays (as in Redis) until a later trim drops it
        if deleted:
            self._update_first_id()
        return deleted

    # --- consumer-group bookkeeping ---------------------------------------------------------

    def referenced(self, sid: int) -> bool:
        """ACKED: does a group still need the entry (pending there, or not yet delivered)?"""
        for group in self.groups.values():
            if sid > group.last_id or sid in group.pel:
                return True
        return False

    def drop_refs(self, sid: int) -> None:
        """DELREF: remove the entry from every group's PEL."""
        for group in self.groups.values():
            group.ack(sid)

    def has_tombstones(self, start: int, end: int = MAX_ID) -> bool:
        """streamRangeHasTombstones: may an XDEL'd ID lie within [start, end]?"""
        if not self.length or not self.max_deleted_id:
            return False
        if self.first_id > self.max_deleted_id:
            return False
        return start <= self.max_deleted_id <= end

    def estimate_entries_read(self, sid: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry: the entries-read counter matching a
        group positioned at ``sid``, or INVALID_ENTRIES_READ when it cannot be known."""
        if not self.entries_added:
            return 0
        if not self.length and sid <= self.last_id:
            return self.entries_added
        if sid == self.last_id:
            return self.entries_added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        if not self.max_deleted_id or self.max_deleted_id < self.first_id:
            if sid < self.first_id:
                return self.entries_added - self.length
            if sid == self.first_id:
                return self.entries_added - self.length + 1
        return INVALID_ENTRIES_READ

    def lag(self, group: Group) -> int | None:
        """XINFO's lag of a group: entries not yet delivered, None when unknown."""
        if not self.entries_added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_entries_read(group.last_id)
        if read == INVALID_ENTRIES_READ:
            return None
        return self.entries_added - read

    def advance_group(self, group: Group, sid: int) -> None:
        """A group delivered entry ``sid`` past its last ID: move its offset."""
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(sid):
            group.entries_read += 1
        elif self.entries_added:
            group.entries_read = self.estimate_entries_read(sid)
        group.last_id = sid

    # --- introspection ----------------------------------------------------------------------

    def len_within_bytes(self, max_bytes: int) -> int:
        """The length left after dropping whole head nodes until the nodes' listpack
        bytes are within ``max_bytes`` (the tail node always stays)."""
        total = sum(node.lp_bytes for node in self.nodes)
        length = self.length
        for node in self.nodes[:-1]:
            if total <= max_bytes:
                break
            total -= node.lp_bytes
            length -= node.live
        return length

    def radix_tree_nodes(self) -> int:
        """How many nodes Redis's radix tree over the node keys (16-byte big-endian
        IDs) would have: compressed chains count one node, branches one each."""
        keys = [k.to_bytes(16, "big") for k in self.firsts]
        return _rax_nodes(keys, 0) if keys else 1


def _rax_nodes(keys: list[bytes], depth: int) -> int:
    """Nodes of a compressed radix tree over sorted, distinct, equal-length keys,
    looking at the suffixes from ``depth``."""
    if depth == len(keys[0]):
        return 1  # the key's leaf
    first, last = keys[0], keys[-1]
    common = depth
    while common < len(first) and first[common] == last[common]:
        common += 1
    if common > depth:
        return 1 + _rax_nodes(keys, common)
    total = 1
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i][depth] != keys[start][depth]:
            total += _rax_nodes(keys[start:i], depth + 1)
            start = i
    return total
