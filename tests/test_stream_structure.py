"""The stream data structure on its own: nodes, seeks, deletion, trimming, group
bookkeeping, checked against a plain sorted-dict model."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from respd.storage.stream import (
    INVALID_ENTRIES_READ, MAX_ID, Group, Stream, format_id, make_id,
)

NODE = 4  # small nodes make every path cross node boundaries


def filled(n: int, node: int = NODE) -> Stream:
    s = Stream()
    for i in range(1, n + 1):
        s.append(make_id(i, 0), [b"f", b"%d" % i], node, 4096)
    return s


def ids(s: Stream, start: int = 0, end: int = MAX_ID, rev: bool = False) -> list[int]:
    return [sid for sid, _ in s.entries(start, end, rev=rev)]


def test_ids_pack_and_format() -> None:
    assert format_id(make_id(5, 7)) == b"5-7"
    assert format_id(MAX_ID) == b"18446744073709551615-18446744073709551615"
    assert make_id(1, 0) > make_id(0, (1 << 64) - 1)


def test_next_id_uses_the_clock_then_the_sequence() -> None:
    s = Stream()
    assert s.next_id(1000) == make_id(1000, 0)
    s.append(make_id(1000, 0), [b"a", b"b"], NODE, 4096)
    assert s.next_id(999) == make_id(1000, 1)  # the clock went back: never the ID
    assert s.next_id(2000) == make_id(2000, 0)
    s.last_id = make_id(1000, (1 << 64) - 1)
    assert s.next_id(999) == make_id(1001, 0)  # a full sequence carries into ms


def test_entries_keep_fields_and_nodes_split_at_max_entries() -> None:
    s = Stream()
    s.append(make_id(1, 0), [b"a", b"1", b"b", b"2"], NODE, 4096)
    s.append(make_id(2, 0), [b"a", b"3", b"b", b"4"], NODE, 4096)  # master fields
    s.append(make_id(3, 0), [b"x", b"y" * 300], NODE, 4096)  # other fields, long value
    s.append(make_id(4, 0), [b"", b""], NODE, 4096)
    s.append(make_id(5, 0), [b"k", b"v"], NODE, 4096)
    assert len(s.nodes) == 2 and [len(n) for n in s.nodes] == [4, 1]
    assert s.get(make_id(1, 0)) == [b"a", b"1", b"b", b"2"]
    assert s.get(make_id(2, 0)) == [b"a", b"3", b"b", b"4"]
    assert s.get(make_id(3, 0)) == [b"x", b"y" * 300]
    assert s.get(make_id(4, 0)) == [b"", b""]
    assert s.get(make_id(9, 0)) is None
    assert s.length == 5 and s.entries_added == 5 and s.first_id == make_id(1, 0)


def test_node_splits_at_max_bytes() -> None:
    s = Stream()
    for i in range(1, 6):
        s.append(make_id(i, 0), [b"f", b"%d" % i * 1000], 100, 4096)
    assert [len(n) for n in s.nodes] == [4, 1]
    # the entry the full node refused is whole in the next one, and the full node intact
    assert [fields for _, fields in s.entries()] == [[b"f", b"%d" % i * 1000] for i in range(1, 6)]


def test_ranges_cross_nodes_both_ways() -> None:
    s = filled(10)
    assert ids(s) == [make_id(i, 0) for i in range(1, 11)]
    assert ids(s, make_id(3, 0), make_id(6, 0)) == [make_id(i, 0) for i in range(3, 7)]
    assert ids(s, make_id(3, 0), make_id(6, 0), rev=True) == [
        make_id(i, 0) for i in range(6, 2, -1)]
    assert ids(s, make_id(4, 5), make_id(8, 0), rev=True) == [
        make_id(i, 0) for i in range(8, 4, -1)]
    assert ids(s, make_id(11, 0)) == []
    assert ids(s, make_id(5, 0), make_id(4, 0)) == []
    assert [sid for sid, _ in s.entries(count=3, rev=True)] == [
        make_id(i, 0) for i in (10, 9, 8)]


def test_delete_marks_entries_and_drops_empty_nodes() -> None:
    s = filled(8)
    assert s.delete(make_id(2, 0)) and not s.delete(make_id(2, 0))
    assert not s.delete(make_id(99, 0))
    assert s.max_deleted_id == make_id(2, 0)
    for i in (1, 3, 4):
        assert s.delete(make_id(i, 0))
    assert len(s.nodes) == 1  # the first node emptied and went away
    assert s.first_id == make_id(5, 0)
    assert ids(s) == [make_id(i, 0) for i in range(5, 9)]
    assert s.last_entry_id() == make_id(8, 0)
    s.delete(make_id(8, 0))
    assert s.last_entry_id() == make_id(7, 0) and s.last_id == make_id(8, 0)


def test_exact_trim_by_maxlen_and_minid() -> None:
    s = filled(10)
    assert s.trim(7, None, approx=False, limit=0) == 3
    assert ids(s)[0] == make_id(4, 0) and s.length == 7
    assert s.trim(None, make_id(6, 0), approx=False, limit=0) == 2
    assert s.first_id == make_id(6, 0)
    assert s.trim(0, None, approx=False, limit=0) == 5
    assert s.length == 0 and s.first_id == 0 and not s.nodes


def test_approximate_trim_removes_whole_nodes_only() -> None:
    s = filled(10)  # nodes of 4, 4, 2
    assert s.trim(7, None, approx=True, limit=0) == 0  # dropping a node would go below 7
    assert s.trim(5, None, approx=True, limit=0) == 4
    assert s.length == 6
    assert s.trim(None, make_id(10, 0), approx=True, limit=0) == 4
    assert s.trim(0, None, approx=True, limit=1) == 0  # LIMIT counts whole nodes
    assert s.trim(0, None, approx=True, limit=2) == 2


def test_lag_and_entries_read_estimates() -> None:
    s = filled(4)
    g = Group(0, INVALID_ENTRIES_READ)
    assert s.lag(g) == 4  # before the first entry, nothing deleted: estimable
    s.advance_group(g, make_id(1, 0))
    assert g.entries_read == 1 and s.lag(g) == 3
    s.delete(make_id(3, 0))
    assert s.lag(g) is None  # a tombstone ahead: unknown
    s.advance_group(g, make_id(2, 0))
    s.advance_group(g, make_id(4, 0))
    assert s.lag(g) == 0  # at the last ID: exact again
    assert s.estimate_entries_read(make_id(9, 0)) == INVALID_ENTRIES_READ
    assert Stream().lag(Group(0, INVALID_ENTRIES_READ)) == 0


def test_group_pel_and_consumers() -> None:
    from respd.storage.stream import Nack

    g = Group(0, 0)
    alice = g.consumer(b"alice", 10)
    bob = g.consumer(b"bob", 10)
    assert g.consumer(b"alice", 99) is alice and alice.seen_time == 10
    for sid, who in ((3, alice), (1, bob), (2, alice)):
        g.pel[sid] = who.pel[sid] = Nack(who, 10)
    assert list(g.pel) == [1, 2, 3] and list(alice.pel) == [2, 3]
    assert g.ack(2) and not g.ack(2)
    assert list(alice.pel) == [3]
    assert g.delete_consumer(b"alice") == 1
    assert list(g.pel) == [1]
    assert [c.name for c in g.sorted_consumers()] == [b"bob"]


def test_radix_tree_node_count_matches_redis() -> None:
    # Values observed from redis-server 7.0.15 (XINFO STREAM radix-tree-nodes).
    assert Stream().radix_tree_nodes() == 1
    assert filled(1).radix_tree_nodes() == 2
    assert filled(10).radix_tree_nodes() == 8  # keys 1-0, 5-0, 9-0


def test_copy_is_independent() -> None:
    s = filled(5)
    s.groups[b"g"] = Group(0, 0)
    t = copy.deepcopy(s)
    t.delete(make_id(1, 0))
    t.append(make_id(9, 0), [b"f", b"v"], NODE, 4096)
    assert ids(s) == [make_id(i, 0) for i in range(1, 6)]
    assert t.groups[b"g"] is not s.groups[b"g"]


ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 3), st.binary(max_size=5)),
        st.tuples(st.just("del"), st.integers(0, 60), st.just(b"")),
        st.tuples(st.just("maxlen"), st.integers(0, 30), st.booleans()),
        st.tuples(st.just("minid"), st.integers(0, 60), st.booleans()),
        st.tuples(st.just("range"), st.integers(0, 60), st.booleans()),
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_matches_a_sorted_dict_model(operations: list[tuple[str, int, object]]) -> None:
    s = Stream()
    model: dict[int, list[bytes]] = {}
    ms = seq = 0
    for op, n, extra in operations:
        probe = make_id(n // 2, n % 2)  # IDs sharing an ms: seeks look at the seq too
        if op == "add":
            ms, seq = (ms, seq + 1) if n == 1 else (ms + n, 0)
            fields = [b"f", extra] if n != 2 else [b"g", extra, b"h", b""]
            s.append(make_id(ms, seq), fields, NODE, 64)  # type: ignore[list-item]
            model[make_id(ms, seq)] = fields  # type: ignore[assignment]
        elif op == "del":
            assert s.delete(probe) == (model.pop(probe, None) is not None)
        elif op == "range":
            if extra:
                assert ids(s, probe) == [k for k in sorted(model) if k >= probe]
            else:
                assert ids(s, 0, probe, rev=True) == [k for k in sorted(model, reverse=True)
                                                      if k <= probe]
        elif op == "maxlen":
            removed = s.trim(n, None, approx=bool(extra), limit=0)
            keep = sorted(model)[removed:]
            assert len(keep) >= min(n, len(model))
            if not extra:
                assert len(keep) == min(n, len(model))
            model = {k: model[k] for k in keep}
        else:
            removed = s.trim(None, probe, approx=bool(extra), limit=0)
            gone = sorted(model)[:removed]
            assert all(k < probe for k in gone)
            model = {k: v for k, v in model.items() if k not in gone}
            if not extra:
                assert all(k >= probe for k in model)
        assert s.length == len(model)
        assert s.entries() == sorted(model.items())
        assert s.entries(rev=True) == sorted(model.items(), reverse=True)
        assert s.first_id == (min(model) if model else 0)
