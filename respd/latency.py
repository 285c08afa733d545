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


# --- the latency monitor (latency-monitor-threshold, LATENCY LATEST/HISTORY/RESET) -------

# Redis keeps 160 samples per event, one per second (a second's worst).
HISTORY_LEN = 160
_OFF_NS = 1 << 62  # the threshold dispatch compares against while monitoring is off


class Event:
    __slots__ = ("samples", "max_ms")

    def __init__(self) -> None:
        self.samples: list[list[int]] = []  # [unix time, ms], oldest first
        self.max_ms = 0


def add_sample(server: "Server", name: bytes, ms: int) -> None:
    """latencyAddSample: a second's worst value; the oldest samples fall off."""
    import time

    now = int(time.time())
    event = server.latency_events.get(name)
    if event is None:
        event = server.latency_events[name] = Event()
    event.max_ms = max(event.max_ms, ms)
    if event.samples and event.samples[-1][0] == now:
        last = event.samples[-1]
        last[1] = max(last[1], ms)
        return
    event.samples.append([now, ms])
    del event.samples[:-HISTORY_LEN]


def command_sample(server: "Server", fast: bool, duration_ns: int) -> None:
    """call(): a command at or past the threshold ("fast-command" for O(1) ones)."""
    add_sample(server, b"fast-command" if fast else b"command", duration_ns // 1_000_000)


def _threshold_changed(server: "Server", ms: int) -> None:
    server.latency_threshold_ns = ms * 1_000_000 if ms else _OFF_NS


def init_monitor(server: "Server") -> None:
    server.latency_events = {}
    _threshold_changed(server, server.config.latency_monitor_threshold)


on_config_set("latency-monitor-threshold", _threshold_changed)


def graph(name: bytes, event: Event) -> bytes:
    """LATENCY GRAPH: Redis's layout — a header with the event's range, then one column
    per sample (oldest left), bars of '#' scaled to the maximum over 4 rows, and the age
    of each sample written vertically underneath."""
    import time

    samples = event.samples[-80:]
    values = [ms for _, ms in samples]
    top, low = max(values), min(values)
    header = (b"%s - high %d ms, low %d ms (all time high %d ms)\n" % (name, top, low, event.max_ms)
              + b"-" * 80 + b"\n")
    rows = 4
    lines = []
    for row in range(rows, 0, -1):
        line = b""
        for ms in values:
            level = (ms * rows + top - 1) // top if top else 0
            line += b"#" if level >= row else (b"_" if row == 1 else b" ")
        lines.append(line)
    now = int(time.time())
    ages = [_age(now - when) for when, _ in samples]
    width = max(len(a) for a in ages)
    for i in range(width):
        lines.append(bytes(a[i] if i < len(a) else 32 for a in ages))
    return header + b"\n".join(lines) + b"\n"


def _age(seconds: int) -> bytes:
    for unit, size in ((b"d", 86400), (b"h", 3600), (b"m", 60)):
        if seconds >= size:
            return b"%d%s" % (seconds // size, unit)
    return b"%ds" % seconds


def doctor(events: dict[bytes, Event], threshold_ms: int) -> bytes:
    """LATENCY DOCTOR: Redis's report shape — an opening, one numbered paragraph per
    event with its statistics, then advice."""
    out = [b"Dave, I have observed latency spikes in this Redis instance. You don't mind "
           b"talking about it, do you Dave?\n"]
    for i, (name, event) in enumerate(events.items(), 1):
        values = [ms for _, ms in event.samples]
        avg = sum(values) // len(values)
        span = event.samples[-1][0] - event.samples[0][0]
        out.append(b"%d. %s: %d latency spikes (average %dms, mean deviation %dms, period "
                   b"%d sec). Worst all time event %dms." % (
                       i, name, len(values), avg,
                       sum(abs(v - avg) for v in values) // len(values),
                       span // len(values) if len(values) > 1 else 0, event.max_ms))
    out.append(b"\nI have a few advices for you:\n")
    if any(name in (b"command", b"fast-command") for name in events):
        out.append(b"- Check your Slow Log to understand what are the commands you are "
                   b"running which are too slow to execute. Please check "
                   b"https://redis.io/commands/slowlog for more information.")
    out.append(b"- The system is slow to execute Redis code paths not containing system "
               b"calls (latency-monitor-threshold is %d ms)." % threshold_ms)
    return b"\n".join(out) + b"\n"
