"""Sorted sets: a dict member → score for O(1) lookups plus a SortedList of
(score, member) for O(log n) ranks and ranges, in Redis's order (score, then member bytes).

``listpack`` only mirrors what Redis 7.0 would report as the encoding: a set created small
is a listpack until it grows past zset-max-listpack-entries/-value, and never goes back.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from sortedcontainers import SortedList

from respd.storage.db import register_type


class _Top:
    """Greater than every member: (score, TOP) sorts after every (score, member)."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


TOP = _Top()


class ScoreRange:
    """A parsed score interval: [min, max] with either end exclusive ('(' in Redis)."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, lo: float, hi: float, minex: bool, maxex: bool) -> None:
        self.min, self.max, self.minex, self.maxex = lo, hi, minex, maxex

    def empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))


class LexRange:
    """A parsed lex interval.  Each end is (kind, member): kind -1 is '-', 1 is '+',
    0 a member, so ends compare like Redis's sdscmplex."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, lo: tuple[int, bytes], hi: tuple[int, bytes], minex: bool,
                 maxex: bool) -> None:
        self.min, self.max, self.minex, self.maxex = lo, hi, minex, maxex

    def empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))


class ZSet:
    __slots__ = ("scores", "order", "listpack", "members", "pos")

    def __init__(self, listpack: bool = True) -> None:
        self.scores: dict[bytes, float] = {}
        self.order: SortedList = SortedList()
        self.listpack = listpack
        # Members in an array that only grows at the end and fills a hole with its last
        # member: the layout respd.scan's cursor walk needs (ZSCAN).
        self.members: list[bytes] = []
        self.pos: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self.scores)

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        return iter(self.order)

    def score(self, member: bytes) -> float | None:
        return self.scores.get(member)

    def set(self, member: bytes, score: float) -> None:
        """Insert member or move it to a new score."""
        score += 0.0  # -0 is stored as 0, as Redis replies it
        old = self.scores.get(member)
        if old is not None:
            if old == score:
                return
            self.order.remove((old, member))
        else:
            self.pos[member] = len(self.members)
            self.members.append(member)
        self.scores[member] = score
        self.order.add((score, member))

    def remove(self, member: bytes) -> bool:
        old = self.scores.pop(member, None)
        if old is None:
            return False
        self.order.remove((old, member))
        self._unindex(member)
        return True

    def _unindex(self, member: bytes) -> None:
        hole = self.pos.pop(member)
        last = self.members.pop()
        if last != member:
            self.members[hole] = last
            self.pos[last] = hole

    def rank(self, member: bytes) -> int | None:
        score = self.scores.get(member)
        if score is None:
            return None
        return int(self.order.index((score, member)))

    def pop(self, from_max: bool) -> tuple[float, bytes]:
        score, member = self.order.pop(-1 if from_max else 0)
        del self.scores[member]
        self._unindex(member)
        return score, member

    # --- ranges as [start, stop) positions in ascending order -------------------------------

    def score_span(self, rng: ScoreRange) -> tuple[int, int]:
        if rng.empty():
            return 0, 0
        order = self.order
        start = order.bisect_left((rng.min, TOP) if rng.minex else (rng.min,))
        stop = order.bisect_left((rng.max,) if rng.maxex else (rng.max, TOP))
        return start, max(start, stop)

    def lex_span(self, rng: LexRange, reverse: bool = False, offset: int = 0
                 ) -> tuple[int, int]:
        """The members in a lex range, past the first ``offset`` of them in the reading
        direction.  Lex ranges assume every member has the same score; when they do not
        (undefined in Redis's documentation) this is what Redis's listpack scan finds:
        from the first member >= min (reverse: the last <= max), skip offset members
        unchecked, then take members while <= max (reverse: >= min)."""
        order = self.order
        if rng.empty() or not order:
            return 0, 0
        score = order[0][0]
        if order[-1][0] != score:
            return self._lex_scan(rng, reverse, offset)
        kind, lo = rng.min
        if kind < 0:
            start = 0
        else:
            start = order.bisect_left((score, lo, TOP) if rng.minex else (score, lo))
        kind, hi = rng.max
        if kind > 0:
            stop = len(order)
        else:
            stop = order.bisect_left((score, hi) if rng.maxex else (score, hi, TOP))
        if reverse:
            stop -= offset
        else:
            start += offset
        return start, max(start, stop)

    def _lex_scan(self, rng: LexRange, reverse: bool, offset: int) -> tuple[int, int]:
        members = [member for _, member in self.order]
        kind_lo, lo = rng.min
        kind_hi, hi = rng.max

        def gte_min(m: bytes) -> bool:
            return kind_lo < 0 or (kind_lo == 0 and (m > lo or (m == lo and not rng.minex)))

        def lte_max(m: bytes) -> bool:
            return kind_hi > 0 or (kind_hi == 0 and (m < hi or (m == hi and not rng.maxex)))

        n = len(members)
        if not gte_min(members[-1]) or not lte_max(members[0]):  # zzlIsInLexRange
            return 0, 0
        if reverse:
            last = next((i for i in range(n - 1, -1, -1) if lte_max(members[i])), -1)
            if last < 0 or not gte_min(members[last]):
                return 0, 0
            last -= offset
            first = last + 1
            while first > 0 and gte_min(members[first - 1]):
                first -= 1
            return (first, last + 1) if last >= 0 else (0, 0)
        first = next((i for i in range(n) if gte_min(members[i])), n)
        if first == n or not lte_max(members[first]):
            return 0, 0
        first += offset
        stop = first
        while stop < n and lte_max(members[stop]):
            stop += 1
        return first, stop

    def slice(self, start: int, stop: int, reverse: bool = False) -> Iterable[tuple[float, bytes]]:
        return self.order.islice(start, stop, reverse=reverse)

    def delete_span(self, start: int, stop: int) -> int:
        doomed = list(self.order.islice(start, stop))
        for _, member in doomed:
            del self.scores[member]
            self._unindex(member)
        del self.order[start:stop]
        return len(doomed)

    def items(self) -> Iterator[tuple[bytes, float]]:
        """(member, score) in the order a hash table scan would meet them."""
        return iter(self.scores.items())


def _encoding(value: ZSet) -> bytes:
    return b"listpack" if value.listpack else b"skiplist"


register_type(ZSet, b"zset", _encoding)
