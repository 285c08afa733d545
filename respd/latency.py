"""Per-command latency histograms (LATENCY HISTOGRAM, 7.0's latency-tracking).

Redis records each call's duration in an HDR histogram (1 ns to 1 s, 2 significant
digits) and reports it with a base-2 logarithmic iterator from 1024 ns: level k stands
for every duration up to the highest value equivalent to 1024 * 2**k ns, that is below
1032 * 2**k ns, and is labelled with that value in microseconds.  Counting calls per level
is all that reply needs, so dispatch keeps one counter array per command and adds one
to ``latency_level(ns)`` in ``server.latency_rows`` (the histograms, or a sink while
latency-tracking is off); durations past 1 s are reported in the 1 s level, as Redis
clamps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from respd.config import on_config_set
from respd.resp import Map

if TYPE_CHECKING:
    from respd.server import Server

# 1024 ns plus the width of its HDR bucket (2 significant digits: 1/128)
LATENCY_STEP_NS = 1032
_TOP = (1_000_000_000 // LATENCY_STEP_NS).bit_length()  # the level of 1 s


def latency_level(ns: int) -> int:
    return (ns // LATENCY_STEP_NS).bit_length()


def reset(server: "Server", commands: int) -> None:
    """Empty histograms (CONFIG RESETSTAT, start-up) and where dispatch counts."""
    server.latency_hist = [[0] * 64 for _ in range(commands)]
    server.latency_sink = [[0] * 64 for _ in range(commands)]
    _tracking_changed(server, server.config.latency_tracking)


def _tracking_changed(server: "Server", tracking: bool) -> None:
    server.latency_rows = server.latency_hist if tracking else server.latency_sink


on_config_set("latency-tracking", _tracking_changed)


def _label(level: int) -> int:
    if level == _TOP:  # the 2**30 ns level, past the histogram's 1 s range
        return 1073741
    return (LATENCY_STEP_NS * 2 ** level - 1) // 1000


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
