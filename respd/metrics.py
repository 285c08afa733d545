"""Prometheus metrics: redis_exporter's names for what INFO and XINFO show, and respd's
own figures no outside exporter can see (per-channel drops, queue depth, blocked
clients per key).

Series are built at scrape time by a ``prometheus_client`` custom collector: the
library's text encoder does the escaping and the format, and a collector that yields
metric families fits a server whose figures already live in its own structures (no
second copy kept in library-side counters on the write path).

Keys with labels (streams, queues) are found by a background sweep over the keyspace in
bounded slices (``SLICE`` keys per event-loop turn, the key list copied per database):
no scrape or sweep step walks the whole keyspace at once.  A scrape then reads the
figures of the tracked keys directly, so their values are current; a key created since
the last sweep appears after the next one (a sweep starts every ``SWEEP_EVERY`` seconds).
A scrape is itself sliced: it reads ``SCRAPE_SLICE`` tracked keys, and encodes
``ENCODE_SLICE`` samples, per event-loop turn, so commands keep being served while a
large scrape is built.  ``metrics-key-patterns`` chooses the keys and ``metrics-max-series`` caps the labelled
series (the rest are counted in ``respd_metrics_series_dropped``).
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily, Metric,
                                   UnknownMetricFamily)
from prometheus_client.registry import CollectorRegistry
from prometheus_client.exposition import generate_latest

from respd import REDIS_VERSION, info
from respd.glob import compile_pattern
from respd.storage.lists import ListValue
from respd.storage.stream import Stream
from respd.storage.zset import ZSet

if TYPE_CHECKING:
    from respd.server import Server

SLICE = 1000  # keys examined per event-loop turn by the sweep
SCRAPE_SLICE = 200  # tracked keys read per event-loop turn by a scrape
ENCODE_SLICE = 1000  # samples encoded per event-loop turn
SWEEP_EVERY = 1.0  # seconds between the end of a sweep and the start of the next

# INFO field → redis_exporter's gauge name (without the redis_ prefix).
INFO_GAUGES = {
    "uptime_in_seconds": "uptime_in_seconds",
    "process_id": "process_id",
    "connected_clients": "connected_clients",
    "blocked_clients": "blocked_clients",
    "tracking_clients": "tracking_clients",
    "maxclients": "max_clients",
    "used_memory": "memory_used_bytes",
    "used_memory_rss": "memory_used_rss_bytes",
    "used_memory_peak": "memory_used_peak_bytes",
    "used_memory_overhead": "memory_used_overhead_bytes",
    "used_memory_startup": "memory_used_startup_bytes",
    "used_memory_dataset": "memory_used_dataset_bytes",
    "maxmemory": "memory_max_bytes",
    "loading": "loading_dump_file",
    "rdb_changes_since_last_save": "rdb_changes_since_last_save",
    "rdb_bgsave_in_progress": "rdb_bgsave_in_progress",
    "rdb_last_save_time": "rdb_last_save_timestamp_seconds",
    "aof_enabled": "aof_enabled",
    "aof_rewrite_in_progress": "aof_rewrite_in_progress",
    "pubsub_channels": "pubsub_channels",
    "pubsub_patterns": "pubsub_patterns",
    "pubsubshard_channels": "pubsubshard_channels",
    "expired_stale_perc": "expired_stale_percentage",
    "connected_slaves": "connected_slaves",
    "io_threads_active": "io_threads_active",
    "clients_in_timeout_table": "clients_in_timeout_table",
    "tracking_total_keys": "tracking_total_keys",
    "tracking_total_items": "tracking_total_items",
    "tracking_total_prefixes": "tracking_total_prefixes",
    "latest_fork_usec": "latest_fork_usec",
}
# INFO field → redis_exporter's counter name (the encoder adds _total).
INFO_COUNTERS = {
    "total_connections_received": "connections_received",
    "total_commands_processed": "commands_processed",
    "rejected_connections": "rejected_connections",
    "total_net_input_bytes": "net_input_bytes",
    "total_net_output_bytes": "net_output_bytes",
    "expired_keys": "expired_keys",
    "evicted_keys": "evicted_keys",
    "keyspace_hits": "keyspace_hits",
    "keyspace_misses": "keyspace_misses",
    "used_cpu_sys": "cpu_sys_seconds",
    "used_cpu_user": "cpu_user_seconds",
    "used_cpu_sys_children": "cpu_sys_children_seconds",
    "used_cpu_user_children": "cpu_user_children_seconds",
    "used_cpu_sys_main_thread": "cpu_sys_main_thread_seconds",
    "used_cpu_user_main_thread": "cpu_user_main_thread_seconds",
}
# Counters redis_exporter names without the _total suffix: exported untyped, as
# prometheus_client appends _total to every counter sample.
INFO_PLAIN_COUNTERS = {
    "unexpected_error_replies": "unexpected_error_replies",
    "total_error_replies": "total_error_replies",
    "dump_payload_sanitizations": "dump_payload_sanitizations",
}
_INFO_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu")

QUEUE_TYPES: dict[type, str] = {ListValue: "list", ZSet: "zset"}


def id_ms(sid: int) -> float:
    """redis_exporter exports a stream ID as its milliseconds part."""
    return float(sid >> 64)


class KeySweep:
    """Finds the streams and queues matching metrics-key-patterns, a slice per turn."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        # (db index, key) → None, in discovery order; replaced when a sweep completes.
        self.tracked: dict[tuple[int, bytes], None] = {}
        self._found: dict[tuple[int, bytes], None] = {}
        self._work: list[tuple[int, list[bytes]]] = []
        self._handle: Any = None
        self.last_sweep_seconds = 0.0  # wall time of the last complete sweep
        self.longest_step_seconds = 0.0  # the longest single slice (or key-list copy)
        self._started = 0.0

    def start(self) -> None:
        assert self.server.loop is not None
        self._handle = self.server.loop.call_soon(self._begin)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def _matcher(self) -> Callable[[bytes], bool]:
        patterns = [p.encode("latin-1") for p in self.server.config.metrics_key_patterns]
        if b"*" in patterns:
            return lambda key: True
        matchers = [compile_pattern(p) for p in patterns]
        return lambda key: any(m(key) for m in matchers)

    def _begin(self) -> None:
        self._started = time.perf_counter()
        self._found = {}
        self._work = [(db.index, []) for db in self.server.dbs if len(db)]
        self._work.reverse()
        self._matches = self._matcher()
        self._limit = max(self.server.config.metrics_max_series // 4, 1)
        self._step()

    def _step(self) -> None:
        """One bounded slice: copy a database's key list, or examine SLICE keys."""
        began = time.perf_counter()
        loop = self.server.loop
        assert loop is not None
        if self._work:
            index, keys = self._work[-1]
            if not keys:
                keys = list(self.server.dbs[index].data)  # a C-level copy, no Python loop
                self._work[-1] = (index, keys)
                keys.reverse()  # consumed from the end
            else:
                self._examine(index, keys)
                if not keys:
                    self._work.pop()
        self.longest_step_seconds = max(self.longest_step_seconds,
                                        time.perf_counter() - began)
        if self._work and len(self._found) < self._limit:
            self._handle = loop.call_soon(self._step)
        else:
            self.tracked = self._found
            self.last_sweep_seconds = time.perf_counter() - self._started
            self._handle = loop.call_later(SWEEP_EVERY, self._begin)

    def _examine(self, index: int, keys: list[bytes]) -> None:
        data = self.server.dbs[index].data
        matches, found, limit = self._matches, self._found, self._limit
        for _ in range(min(SLICE, len(keys))):
            key = keys.pop()
            value = data.get(key)
            if (type(value) is Stream or type(value) in QUEUE_TYPES) and matches(key):
                found[(index, key)] = None
                if len(found) >= limit:
                    return


class Collector:
    """A prometheus_client collector reading the server's state at scrape time."""

    def __init__(self, server: "Server", sweep: KeySweep) -> None:
        self.server = server
        self.sweep = sweep

    def describe(self) -> list[Metric]:
        return []  # unchecked collector: families depend on the data

    def collect(self) -> Iterator[Metric]:
        return (item for item in self.build() if item is not None)

    def build(self) -> Iterator[Metric | None]:
        """The families, with ``None`` at the points where a scrape may let the event
        loop run (between slices of keys)."""
        server = self.server
        yield from self._info_metrics()
        budget = [server.config.metrics_max_series]
        dropped = [0]

        def add(family: Any, labels: list[str], value: float) -> None:
            if budget[0] <= 0:
                dropped[0] += 1
                return
            budget[0] -= 1
            family.add_metric(labels, value)

        yield from self._command_metrics(add)
        yield from self._channel_metrics(add)
        yield None
        yield from self._key_metrics(add)
        yield GaugeMetricFamily("respd_metrics_series_dropped",
                                "Labelled series left out by metrics-max-series",
                                value=dropped[0])
        yield GaugeMetricFamily("respd_metrics_sweep_seconds",
                                "Wall time of the last complete key sweep",
                                value=self.sweep.last_sweep_seconds)
        yield GaugeMetricFamily("respd_metrics_sweep_longest_step_seconds",
                                "The longest single step of the key sweep (event loop held)",
                                value=self.sweep.longest_step_seconds)
        yield GaugeMetricFamily("respd_metrics_tracked_keys",
                                "Streams and queues found by the last sweep",
                                value=len(self.sweep.tracked))

    # --- INFO ---------------------------------------------------------------------------

    def _info_metrics(self) -> Iterator[Metric]:
        server = self.server
        fields: dict[str, Any] = {}
        for name in _INFO_SECTIONS:
            for provider in info.SECTIONS.get(name, ()):
                fields.update(provider(server))
        up = GaugeMetricFamily("redis_up", "Information about the Redis instance")
        up.add_metric([], 1)
        yield up
        inst = GaugeMetricFamily("redis_instance_info", "Information about the Redis instance",
                                 labels=["role", "redis_version", "redis_mode", "os",
                                         "maxmemory_policy", "tcp_port", "run_id",
                                         "process_id"])
        inst.add_metric(["master", REDIS_VERSION, "standalone", str(fields.get("os", "")),
                         server.config.maxmemory_policy, str(fields.get("tcp_port", "")),
                         server.run_id, str(fields.get("process_id", ""))], 1)
        yield inst
        start = GaugeMetricFamily("redis_start_time_seconds", "Start time of the Redis "
                                  "instance since unix epoch in seconds.")
        start.add_metric([], server.start_time)
        yield start
        for field, name in INFO_GAUGES.items():
            value = _number(fields.get(field))
            if value is not None:
                yield GaugeMetricFamily("redis_" + name, f"INFO {field}", value=value)
        for field, name in INFO_COUNTERS.items():
            value = _number(fields.get(field))
            if value is not None:
                yield CounterMetricFamily("redis_" + name, f"INFO {field}", value=value)
        for field, name in INFO_PLAIN_COUNTERS.items():
            value = _number(fields.get(field))
            if value is not None:
                yield UnknownMetricFamily("redis_" + name, f"INFO {field}", value=value)
        keys = GaugeMetricFamily("redis_db_keys", "Total number of keys by DB",
                                 labels=["db"])
        expiring = GaugeMetricFamily("redis_db_keys_expiring",
                                     "Total number of expiring keys by DB", labels=["db"])
        for db in server.dbs:
            if len(db):  # redis_exporter reports the databases INFO keyspace lists
                keys.add_metric([f"db{db.index}"], len(db))
                expiring.add_metric([f"db{db.index}"], len(db.expires))
        yield keys
        yield expiring
        errors = CounterMetricFamily("redis_errors", "Total number of errors per error type",
                                     labels=["err"])
        for code, count in server.error_stats.items():
            errors.add_metric([code.decode("latin-1")], count)
        yield errors
        stats = server.stats
        for name, stat, text in (
            ("respd_pubsub_published", "pubsub_published", "Messages published"),
            ("respd_pubsub_deliveries", "pubsub_deliveries", "Messages queued to subscribers"),
            ("respd_pubsub_dropped", "pubsub_dropped",
             "Messages published while nobody listened (PUBLISH returned 0)"),
            ("respd_client_output_buffer_disconnections", "client_output_buffer_disconnections",
             "Clients disconnected by client-output-buffer-limit"),
        ):
            yield CounterMetricFamily(name, text, value=stats[stat])

    def _command_metrics(self, add: Callable[[Any, list[str], float], None]) -> Iterator[Metric]:
        calls = CounterMetricFamily("redis_commands", "Total number of calls per command",
                                    labels=["cmd"])
        secs = CounterMetricFamily("redis_commands_duration_seconds",
                                   "Total amount of time in seconds spent per command",
                                   labels=["cmd"])
        rejected = CounterMetricFamily("redis_commands_rejected_calls",
                                       "Total number of rejected calls per command",
                                       labels=["cmd"])
        failed = CounterMetricFamily("redis_commands_failed_calls",
                                     "Total number of failed calls per command", labels=["cmd"])
        for name, (n, ns, rej, fail) in self.server.all_command_stats().items():
            add(calls, [name], n)
            add(secs, [name], (ns // 1000) / 1e6)  # INFO's usec, as the exporter reads it
            add(rejected, [name], rej)
            add(failed, [name], fail)
        yield from (calls, secs, rejected, failed)

    # --- respd's own ------------------------------------------------------------------

    def _channel_metrics(self, add: Callable[[Any, list[str], float], None]) -> Iterator[Metric]:
        pubsub = self.server.pubsub
        published = CounterMetricFamily("respd_channel_published",
                                        "PUBLISH calls per channel", labels=["channel"])
        delivered = CounterMetricFamily("respd_channel_delivered",
                                        "Messages queued to subscribers per channel",
                                        labels=["channel"])
        dropped = CounterMetricFamily("respd_channel_dropped",
                                      "Messages per channel published with nobody listening",
                                      labels=["channel"])
        subscribers = GaugeMetricFamily("respd_channel_subscribers",
                                        "Subscribers per channel", labels=["channel"])
        for channel, (p, d, x) in (pubsub.channel_stats or {}).items():
            label = [channel.decode("utf-8", "replace")]
            add(published, label, p)
            add(delivered, label, d)
            add(dropped, label, x)
            add(subscribers, label, len(pubsub.channels.get(channel, ())))
        yield from (published, delivered, dropped, subscribers)

    def _key_metrics(self, add: Callable[[Any, list[str], float], None]
                     ) -> Iterator[Metric | None]:
        server = self.server
        now = server.now_ms()
        families = _KeyFamilies()
        for n, (index, key) in enumerate(list(self.sweep.tracked), 1):
            if n % SCRAPE_SLICE == 0:
                yield None  # the loop runs here; the keys may change meanwhile
            value = server.dbs[index].data.get(key)
            db, name = f"db{index}", key.decode("utf-8", "replace")
            if type(value) is Stream:
                families.stream(add, db, name, value, now)
            elif type(value) in QUEUE_TYPES:
                add(families.queue_length, [db, name, QUEUE_TYPES[type(value)]], len(value))
        for db_obj in server.dbs:
            for key, waiters in db_obj.blocking.items():
                add(families.blocked, [f"db{db_obj.index}", key.decode("utf-8", "replace")],
                    len(waiters))
        yield from families.all()


class _KeyFamilies:
    """The labelled families of streams, groups, consumers and queues."""

    def __init__(self) -> None:
        s, sg, sgc = ["db", "stream"], ["db", "stream", "group"], ["db", "stream", "group",
                                                                    "consumer"]
        G = GaugeMetricFamily
        self.length = G("redis_stream_length", "The number of elements of the stream", labels=s)
        self.groups = G("redis_stream_groups", "Groups in stream", labels=s)
        self.last_id = G("redis_stream_last_generated_id",
                         "The epoch timestamp (ms) of the latest message on the stream",
                         labels=s)
        self.first_entry = G("redis_stream_first_entry_id",
                             "The epoch timestamp (ms) of the first message in the stream",
                             labels=s)
        self.last_entry = G("redis_stream_last_entry_id",
                            "The epoch timestamp (ms) of the last message in the stream",
                            labels=s)
        self.max_deleted = G("redis_stream_max_deleted_entry_id",
                             "The epoch timestamp (ms) of the last deleted message", labels=s)
        self.added = CounterMetricFamily("redis_stream_entries_added",
                                         "Entries ever added to the stream", labels=s)
        self.consumers = G("redis_stream_group_consumers", "Consumers in group", labels=sg)
        self.pending = G("redis_stream_group_messages_pending",
                         "Pending number of messages in that stream group", labels=sg)
        self.delivered = G("redis_stream_group_last_delivered_id",
                           "The epoch timestamp (ms) of the last delivered message", labels=sg)
        self.read = G("redis_stream_group_entries_read",
                      "Total number of entries read from the stream group", labels=sg)
        self.lag = G("redis_stream_group_lag",
                     "The number of messages waiting to be delivered to the stream group",
                     labels=sg)
        self.oldest = G("respd_stream_group_oldest_pending_seconds",
                        "Age of the oldest pending entry (from its ID)", labels=sg)
        self.c_pending = G("redis_stream_group_consumer_messages_pending",
                           "Pending number of messages for this specific consumer", labels=sgc)
        self.c_idle = G("redis_stream_group_consumer_idle_seconds",
                        "Consumer idle time in seconds", labels=sgc)
        self.queue_length = G("respd_queue_length", "Entries in a list or sorted set "
                              "matching metrics-key-patterns", labels=["db", "key", "type"])
        self.blocked = G("respd_blocked_clients_by_key", "Clients blocked on the key",
                         labels=["db", "key"])

    def stream(self, add: Callable[[Any, list[str], float], None], db: str, name: str,
               stream: Stream, now: int) -> None:
        labels = [db, name]
        add(self.length, labels, stream.length)
        add(self.groups, labels, len(stream.groups))
        add(self.last_id, labels, id_ms(stream.last_id))
        add(self.first_entry, labels, id_ms(stream.first_id))
        add(self.last_entry, labels, id_ms(stream.last_entry_id()))
        add(self.max_deleted, labels, id_ms(stream.max_deleted_id))
        add(self.added, labels, stream.entries_added)
        for group_name, group in stream.groups.items():
            g = [db, name, group_name.decode("utf-8", "replace")]
            add(self.consumers, g, len(group.consumers))
            add(self.pending, g, len(group.pel))
            add(self.delivered, g, id_ms(group.last_id))
            add(self.read, g, max(group.entries_read, 0))
            lag = stream.lag(group)
            if lag is not None:
                add(self.lag, g, lag)
            oldest = (now - id_ms(group.pel.peekitem(0)[0])) / 1000 if group.pel else 0.0
            add(self.oldest, g, max(oldest, 0.0))
            for consumer in group.consumers.values():
                c = [*g, consumer.name.decode("utf-8", "replace")]
                add(self.c_pending, c, len(consumer.pel))
                add(self.c_idle, c, max(now - consumer.seen_time, 0) / 1000)

    def all(self) -> list[Metric]:
        return [v for v in vars(self).values() if isinstance(v, Metric)]


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class Metrics:
    """The server's metrics: enables per-channel counting, runs the key sweep."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.sweep = KeySweep(server)
        self.collector = Collector(server, self.sweep)
        # For callers that want a registry (prometheus_client's own servers, tests).
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)  # type: ignore[arg-type]

    def start(self) -> None:
        self.server.pubsub.channel_stats = {}  # PUBLISH counts per channel from now on
        self.sweep.start()

    def stop(self) -> None:
        self.sweep.stop()

    async def exposition(self) -> bytes:
        """The text format, built and encoded in slices so that a scrape of many series
        never holds the event loop long (prometheus_client encodes ~25 µs a sample)."""
        families: list[Metric] = []
        for item in self.collector.build():
            if item is None:
                await asyncio.sleep(0)
            else:
                families.append(item)
        out: list[bytes] = []
        encoded = 0
        for family in families:
            for start in range(0, max(len(family.samples), 1), ENCODE_SLICE):
                part = copy.copy(family)
                part.samples = family.samples[start:start + ENCODE_SLICE]
                text = generate_latest(_Families([part]))  # type: ignore[arg-type]
                if start:  # a continuation: one HELP/TYPE per family
                    text = b"".join(line for line in text.splitlines(True)
                                    if not line.startswith(b"#"))
                out.append(text)
                encoded += len(part.samples)
                if encoded >= ENCODE_SLICE:
                    encoded = 0
                    await asyncio.sleep(0)
        return b"".join(out)


class _Families:
    """What generate_latest encodes: anything with collect()."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


__all__ = ["Metrics", "Collector", "KeySweep", "INFO_GAUGES", "INFO_COUNTERS"]
