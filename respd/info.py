"""INFO: Redis 7.0's sections and field names, built from providers.

A section is an ordered list of providers, each ``provider(server) -> [(field, value)]``.
Subsystems add their own fields with ``add_fields("persistence", aof_fields)`` (the AOF
writes ``aof_*``, pub/sub its counters) instead of editing this module.  Values are
``int``, ``str``, ``bytes`` or ``float`` (printed with two decimals, as Redis does for
ratios and rates).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from typing import TYPE_CHECKING, Any, Callable

from respd import REDIS_VERSION, __version__, latency

if TYPE_CHECKING:
    from respd.server import Server

Fields = list[tuple[str, Any]]
Provider = Callable[["Server"], Fields]

# Section name → providers, in the order INFO prints sections.
SECTIONS: dict[str, list[Provider]] = {}
# Sections left out of plain INFO (and of "default"), as in Redis 7.0.
NOT_DEFAULT = frozenset({"commandstats", "latencystats"})


def section(name: str) -> Callable[[Provider], Provider]:
    """Declare a section with its first provider."""

    def decorate(fn: Provider) -> Provider:
        SECTIONS.setdefault(name, []).append(fn)
        return fn

    return decorate


def add_fields(name: str, provider: Provider) -> None:
    """Let a subsystem append fields to a section (``add_fields("persistence", fn)``)."""
    SECTIONS.setdefault(name, []).append(provider)


def human_bytes(n: int) -> str:
    """bytesToHuman: B, K, M, G... with two decimals."""
    if n < 1024:
        return f"{n}B"
    value = float(n)
    for unit in "KMGTPE":
        value /= 1024
        if value < 1024 or unit == "E":
            return f"{value:.2f}{unit}"
    return f"{n}B"


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError):
        return 0


class Instantaneous:
    """instantaneous_* rates: each counter sampled every 100 ms, averaged over the last
    16 samples, like Redis's trackInstantaneousMetric.  Sampling starts with the first
    INFO, so the first report reads 0."""

    SAMPLES = 16

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.counters: dict[str, Callable[["Server"], int]] = {
            "ops": total_commands,
            "net_input": lambda s: s.stats["total_net_input_bytes"],
            "net_output": lambda s: s.stats["total_net_output_bytes"],
        }
        self.samples: dict[str, list[float]] = {name: [] for name in self.counters}
        self.last = self._read()
        self.handle: Any = None

    def _read(self) -> tuple[float, dict[str, int]]:
        return time.monotonic(), {n: read(self.server) for n, read in self.counters.items()}

    def start(self) -> None:
        if self.handle is None and self.server.loop is not None:
            self.handle = self.server.loop.call_later(0.1, self.tick)

    def tick(self) -> None:
        now, values = self._read()
        elapsed = now - self.last[0]
        if elapsed > 0:
            for name, value in values.items():
                samples = self.samples[name]
                # max(): CONFIG RESETSTAT may have zeroed the counter meanwhile.
                samples.append(max(value - self.last[1][name], 0) / elapsed)
                del samples[:-self.SAMPLES]
        self.last = (now, values)
        self.handle = None
        self.start()

    def rate(self, name: str) -> float:
        samples = self.samples[name]
        return sum(samples) / len(samples) if samples else 0.0

    @staticmethod
    def of(server: "Server") -> "Instantaneous":
        found = server.instantaneous
        if found is None:
            found = server.instantaneous = Instantaneous(server)
        found.start()
        return found


def total_commands(server: "Server") -> int:
    return server.stats["total_commands_processed"] + sum(
        s[0] for s in server.all_command_stats().values())


# --- the sections ------------------------------------------------------------------------


@section("server")
def server_fields(server: "Server") -> Fields:
    now = time.time()
    uptime = int(now - server.start_time)
    uname = platform.uname()
    return [
        ("redis_version", REDIS_VERSION),
        ("respd_version", __version__),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", "standalone"),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "asyncio"),
        ("python_version", platform.python_version()),
        ("process_id", os.getpid()),
        ("process_supervised", server.supervision.mode if server.supervision else "no"),
        ("run_id", server.run_id),
        ("tcp_port", server.config.port),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", server.config.hz),
        ("configured_hz", server.config.hz),
        ("lru_clock", int(now) & 0xFFFFFF),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", server.config.config_file or ""),
        ("io_threads_active", 0),
    ]


@section("clients")
def client_fields(server: "Server") -> Fields:
    return [
        ("connected_clients", len(server.clients)),
        ("cluster_connections", 0),
        ("maxclients", server.config.maxclients),
        ("client_recent_max_input_buffer", server.memory.recent_max()[0]),
        ("client_recent_max_output_buffer", server.memory.recent_max()[1]),
        ("blocked_clients", server.blocking.blocked_count),
        ("tracking_clients", server.tracking.clients),
        ("clients_in_timeout_table", sum(
            1 for c in server.clients.values()
            if c.blocked is not None and c.blocked.deadline_ms)),
    ]


@section("memory")
def memory_fields(server: "Server") -> Fields:
    """Redis 7.0's fields, in its order.  used_memory is respd's estimate of what Redis
    counts (respd.memory), the RSS the process's real size; respd has no allocator of
    its own, so the allocator_* fields repeat the estimate and the RSS."""
    accounting = server.memory.accounting
    used = accounting.used()
    peak = accounting.peak
    overhead = accounting.overhead()
    startup = accounting.startup
    dataset = max(used - overhead, 0)
    rss = rss_bytes()
    system = total_system_memory()
    maxmemory = server.config.maxmemory
    normal, pubsub = accounting.clients()
    lua, scripts, functions, libraries = _scripting_memory(server)
    net = used - startup
    return [
        ("used_memory", used),
        ("used_memory_human", human_bytes(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", human_bytes(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", human_bytes(peak)),
        ("used_memory_peak_perc", f"{used * 100 / peak if peak else 0:.2f}%"),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{dataset * 100 / net if net > 0 else 0:.2f}%"),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", system),
        ("total_system_memory_human", human_bytes(system)),
        ("used_memory_lua", lua),
        ("used_memory_vm_eval", lua),
        ("used_memory_lua_human", human_bytes(lua)),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", scripts),
        ("number_of_functions", functions),
        ("number_of_libraries", libraries),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", lua),
        ("used_memory_vm_total_human", human_bytes(lua)),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", human_bytes(0)),
        ("maxmemory", maxmemory),
        ("maxmemory_human", human_bytes(maxmemory)),
        ("maxmemory_policy", server.config.maxmemory_policy),
        ("allocator_frag_ratio", 1.0),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", rss / used if used else 0.0),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", 1.0),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", rss / used if used else 0.0),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", accounting.aof_buffer()),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", normal + pubsub),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", accounting.aof_buffer()),
        ("mem_allocator", "pymalloc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def _scripting_memory(server: "Server") -> tuple[int, int, int, int]:
    """(Lua VM bytes, cached scripts, functions, libraries), without creating the VM."""
    engine = server.scripts
    if engine is None:
        return 0, 0, 0, 0
    try:
        lua = int(engine.lua.eval("collectgarbage('count')") * 1024)
    except Exception:  # a VM in a state that refuses to run anything: report nothing
        lua = 0
    return lua, len(engine.scripts), len(engine.functions), len(engine.libraries)


@section("persistence")
def persistence_fields(server: "Server") -> Fields:
    # The persistence subsystem (respd.persistence.Persistence) knows its own state.
    return server.persistence.info()


@section("stats")
def stats_fields(server: "Server") -> Fields:
    s = server.stats
    rates = Instantaneous.of(server)
    no_defrag = ("active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits",
                 "active_defrag_key_misses", "total_active_defrag_time",
                 "current_active_defrag_time")
    return [
        ("total_connections_received", s["total_connections_received"]),
        ("total_commands_processed", total_commands(server)),
        ("instantaneous_ops_per_sec", int(rates.rate("ops"))),
        ("total_net_input_bytes", s["total_net_input_bytes"]),
        ("total_net_output_bytes", s["total_net_output_bytes"]),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", rates.rate("net_input") / 1024),
        ("instantaneous_output_kbps", rates.rate("net_output") / 1024),
        ("instantaneous_input_repl_kbps", 0.0),
        ("instantaneous_output_repl_kbps", 0.0),
        ("rejected_connections", s["rejected_connections"]),
        ("sync_full", server.replication.sync_full),
        ("sync_partial_ok", server.replication.sync_partial_ok),
        ("sync_partial_err", server.replication.sync_partial_err),
        ("expired_keys", s["expired_keys"]),
        ("expired_stale_perc", float(s["expired_stale_perc"])),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", s["evicted_keys"]),
        ("evicted_clients", s.get("evicted_clients", 0)),
        *server.memory.exceeded_times(),
        ("keyspace_hits", sum(db.hits for db in server.dbs)),
        ("keyspace_misses", sum(db.misses for db in server.dbs)),
        ("pubsub_channels", len(server.pubsub.channels)),
        ("pubsub_patterns", len(server.pubsub.patterns)),
        ("pubsubshard_channels", len(server.pubsub.shard_channels)),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        *((name, 0) for name in no_defrag),
        *server.tracking.stats(),
        ("unexpected_error_replies", 0),
        ("total_error_replies", s["total_error_replies"]),
        ("dump_payload_sanitizations", 0),
        # respd's own counters (pub/sub fan-out, output-limit disconnections).
        ("pubsub_published", s["pubsub_published"]),
        ("pubsub_deliveries", s["pubsub_deliveries"]),
        ("pubsub_dropped", s["pubsub_dropped"]),
        ("client_output_buffer_disconnections", s["client_output_buffer_disconnections"]),
    ]


@section("replication")
def replication_fields(server: "Server") -> Fields:
    from respd.replication import info_fields

    return info_fields(server)


@section("cpu")
def cpu_fields(server: "Server") -> Fields:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", f"{me.ru_stime:.6f}"),
        ("used_cpu_user", f"{me.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
        ("used_cpu_sys_main_thread", f"{me.ru_stime:.6f}"),
        ("used_cpu_user_main_thread", f"{me.ru_utime:.6f}"),
    ]


@section("modules")
def module_fields(server: "Server") -> Fields:
    return []


@section("commandstats")
def commandstats_fields(server: "Server") -> Fields:
    fields = []
    for name, (calls, ns, rejected, failed) in server.all_command_stats().items():
        usec = ns // 1000
        per_call = usec / calls if calls else 0.0
        fields.append((
            "cmdstat_" + name,
            f"calls={calls},usec={usec},usec_per_call={per_call:.2f},"
            f"rejected_calls={rejected},failed_calls={failed}",
        ))
    return fields


@section("errorstats")
def errorstats_fields(server: "Server") -> Fields:
    return [("errorstat_" + code.decode("latin-1"), f"count={n}")
            for code, n in sorted(server.error_stats.items())]  # a rax in Redis: sorted


@section("latencystats")
def latencystats_fields(server: "Server") -> Fields:
    return latency.percentile_fields(server)


@section("cluster")
def cluster_fields(server: "Server") -> Fields:
    return [("cluster_enabled", 1 if server.cluster is not None else 0)]


@section("keyspace")
def keyspace_fields(server: "Server") -> Fields:
    fields = []
    now = server.now_ms()
    for db in server.dbs:
        if len(db):
            fields.append((f"db{db.index}", f"keys={len(db)},expires={len(db.expires)},"
                                            f"avg_ttl={_avg_ttl(db.expires, now)}"))
    return fields


def _avg_ttl(expires: dict[bytes, int], now_ms: int) -> int:
    """Redis estimates this by sampling; respd averages up to 1000 deadlines."""
    total = count = 0
    for when in expires.values():
        total += max(when - now_ms, 0)
        count += 1
        if count == 1000:
            break
    return total // count if count else 0


# --- rendering ---------------------------------------------------------------------------


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def wanted_sections(args: list[bytes]) -> list[str]:
    """Section names to render for INFO's arguments, in Redis's printing order."""
    names = {a.decode("latin-1").lower() for a in args} or {"default"}
    chosen: set[str] = set()
    for name in names:
        if name in ("all", "everything"):
            chosen.update(SECTIONS)  # no module-generated sections: both are the same
        elif name == "default":
            chosen.update(s for s in SECTIONS if s not in NOT_DEFAULT)
        elif name in SECTIONS:
            chosen.add(name)
    return [s for s in SECTIONS if s in chosen]


def render(server: "Server", args: list[bytes]) -> bytes:
    parts = []
    for name in wanted_sections(args):
        lines = [f"# {name.capitalize() if name != 'cpu' else 'CPU'}"]
        for provider in SECTIONS[name]:
            lines.extend(f"{field}:{_format(value)}" for field, value in provider(server))
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts).encode("latin-1")
