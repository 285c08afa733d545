"""Per-command latency histograms (LATENCY HISTOGRAM, 7.0's latency-tracking).

Redis records each call's duration in an HDR histogram (1 ns to 1 s, 2 significant
digits) and reports it with a base-2 logarithmic iterator from 1024 ns: level k stands
for every duration up to the highest value equivalent to 1024 * 2**k ns, that is below
1032 * 2**k ns, and is labelled with that value in microseconds.  Counting calls per level
is all that reply needs, so dispatch keeps one counter array per command and adds one
to ``latency_level(ns)``; durations past 1 s are reported in the 1 s level, as Redis
clamps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from respd.resp import Map

if TYPE_CHECKING:
    from respd.server import Server

_STEP = 1032  # 1024 ns plus the width of its HDR bucket (2 significant digits: 1/128)
_TOP = (1_000_000_000 // _STEP).bit_length()  # the level of 1 s


def latency_level(ns: int) -> int:
    return (ns // _STEP).bit_length()


def latency_table(server: "Server") -> list[list[int]]:
    """Where dispatch counts: the real table, or a sink while latency-tracking is off."""
    return server.latency_hist if server.config.latency_tracking else server.latency_sink


def _label(level: int) -> int:
    if level == _TOP:  # the 2**30 ns level, past the histogram's 1 s range
        return 1073741
    return (_STEP * 2 ** level - 1) // 1000


def histogram(counts: list[int]) -> Map:
    """fillCommandCDF: calls, and the cumulative count at every level where it grows."""
    levels = counts[:_TOP] + [sum(counts[_TOP:])]
    out = Map()
    total = 0
    for level, n in enumerate(levels):
        if n:
            total += n
            out[_label(level)] = total
    return Map({b"calls": total, b"histogram_usec": out})
