"""Configuration: every directive respd accepts, one table for the config file, the
command line and CONFIG GET/SET.

A parameter is declared once with its Redis name (plus aliases), a kind that parses and
formats it the way Redis does, its default, and whether CONFIG SET may change it at run
time.  ``Config`` exposes values as attributes with '-' replaced by '_'
(``config.proto_max_bulk_len``).  Parameters that only tune Redis's internal encodings
(``hash-max-listpack-entries`` and the like) are accepted, validated and reported back
so existing redis.conf files and test harnesses work, even where respd's structures do
not depend on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from respd import errors
from respd.errors import ConfigError, ReplyError
from respd.glob import match as glob_match
from respd.notify import format_flags, parse_flags
from respd.numbers import parse_int


# --- value kinds -------------------------------------------------------------------------

_MEMORY_UNITS = {
    b"": 1, b"b": 1, b"k": 1000, b"kb": 1024, b"m": 1000**2, b"mb": 1024**2,
    b"g": 1000**3, b"gb": 1024**3,
}


def parse_memory(raw: bytes) -> int:
    """memtoull: digits with an optional k/kb/m/mb/g/gb unit (case-insensitive)."""
    text = raw.lower()
    digits = text.rstrip(b"kmgb")
    unit = text[len(digits):]
    if not digits or not digits.isdigit() or unit not in _MEMORY_UNITS:
        raise ConfigError("argument must be a memory value")
    return int(digits) * _MEMORY_UNITS[unit]


def parse_bool(raw: bytes) -> bool:
    low = raw.lower()
    if low == b"yes":
        return True
    if low == b"no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


@dataclass(frozen=True)
class Kind:
    parse: Callable[[bytes], Any]
    format: Callable[[Any], bytes]
    words: bool = False  # the value is several words (bind a b, save 3600 1, replicaof h p)


def _int_kind(lo: int, hi: int) -> Kind:
    def parse(raw: bytes) -> int:
        value = parse_int(raw)
        if value is None:
            raise ConfigError("argument couldn't be parsed into an integer")
        if not lo <= value <= hi:
            raise ConfigError(f"argument must be between {lo} and {hi} inclusive")
        return value

    return Kind(parse, lambda v: b"%d" % v)


def _enum_kind(*choices: str) -> Kind:
    allowed = {c.encode(): c for c in choices}

    def parse(raw: bytes) -> str:
        value = allowed.get(raw.lower())
        if value is None:
            raise ConfigError(f"argument(s) must be one of the following: {', '.join(choices)}")
        return value

    return Kind(parse, lambda v: v.encode())


INT = _int_kind(-(2**63), 2**63 - 1)
UINT = _int_kind(0, 2**63 - 1)
PORT = _int_kind(0, 65535)
MEMORY = Kind(parse_memory, lambda v: b"%d" % v)
BOOL = Kind(parse_bool, lambda v: b"yes" if v else b"no")
STRING = Kind(lambda raw: raw.decode("latin-1"), lambda v: v.encode("latin-1"))
LIST = Kind(lambda raw: raw.decode("latin-1").split(), lambda v: " ".join(v).encode("latin-1"),
            words=True)


def _parse_save(raw: bytes) -> list[tuple[int, int]]:
    parts = raw.split()
    if len(parts) % 2:
        raise ConfigError("Invalid save parameters")
    pairs = []
    for i in range(0, len(parts), 2):
        if not (parts[i].isdigit() and parts[i + 1].isdigit()):
            raise ConfigError("Invalid save parameters")
        pairs.append((int(parts[i]), int(parts[i + 1])))
    return pairs


def _parse_hz(raw: bytes) -> int:
    # Any int is accepted; the server clamps it to 1..500 (CONFIG_MIN_HZ/MAX_HZ).
    return min(max(_int_kind(0, 2**31 - 1).parse(raw), 1), 500)


HZ = Kind(_parse_hz, lambda v: b"%d" % v)
SAVE = Kind(_parse_save, lambda v: b" ".join(b"%d %d" % p for p in v), words=True)


def _parse_obuf(raw: bytes) -> dict[str, tuple[int, int, int]]:
    parts = raw.split()
    if not parts or len(parts) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits = {}
    for i in range(0, len(parts), 4):
        cls = parts[i].decode("latin-1").lower()
        if cls == "slave":
            cls = "replica"
        if cls not in ("normal", "replica", "pubsub"):
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = parse_memory(parts[i + 1]), parse_memory(parts[i + 2])
        except ConfigError:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        if not parts[i + 3].isdigit():
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        limits[cls] = (hard, soft, int(parts[i + 3]))
    return limits


def _format_obuf(v: dict[str, tuple[int, int, int]]) -> bytes:
    # Redis 7.0 still prints the replica class by its old name.
    return " ".join(f"{'slave' if cls == 'replica' else cls} {h} {s} {sec}"
                    for cls, (h, s, sec) in v.items()).encode()


OBUF = Kind(_parse_obuf, _format_obuf, words=True)


def _parse_octal(raw: bytes) -> int:
    try:
        value = int(raw, 8)
    except ValueError:
        raise ConfigError("argument couldn't be parsed into an integer") from None
    if not 0 <= value <= 0o777:
        raise ConfigError("argument must be between 0 and 511 inclusive")
    return value


def _only(kind: Kind, allowed: str, feature: str, message: str | None = None) -> Kind:
    """A directive for a feature respd does not have: any value but ``allowed`` is
    refused (with ``message``, when Redis itself has one for it)."""
    allowed_value = kind.parse(allowed.encode())

    def parse(raw: bytes) -> Any:
        value = kind.parse(raw)
        if value != allowed_value:
            raise ConfigError(message or
                              f"respd does not support {feature}: only '{allowed}' is accepted")
        return value

    return Kind(parse, kind.format, kind.words)


def _only_no(feature: str) -> Kind:
    """A yes/no directive for a feature respd does not have: 'yes' is refused."""
    return _only(BOOL, "no", feature)


def _parse_percentiles(raw: bytes) -> list[float]:
    values = []
    for word in raw.split():
        try:
            value = float(word)
        except ValueError:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters") from None
        if not 0.0 <= value <= 100.0:  # NaN fails this too
            raise ConfigError(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        values.append(value)
    return values


def format_percentile(value: float) -> str:
    """Redis prints a percentile with %f, trailing zeros trimmed: 50, 99.9, 33.333333."""
    return f"{value:f}".rstrip("0").rstrip(".")


PERCENTILES = Kind(_parse_percentiles,
                   lambda v: " ".join(map(format_percentile, v)).encode(), words=True)
OCTAL = Kind(_parse_octal, lambda v: b"%o" % v)
NO_REPLICATION = _only_no("replication")
NO_AOF_TIMESTAMPS = _only_no("AOF timestamp annotations")


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    default: bytes
    mutable: bool = True
    aliases: tuple[str, ...] = ()
    # Called after a successful CONFIG SET with the server, so live objects follow.
    on_set: Callable[[Any, Any], None] | None = None
    # Merge partial updates (client-output-buffer-limit sets only the named classes).
    merge: bool = False
    # Redis's PROTECTED_CONFIG: refused by CONFIG SET unless enable-protected-configs.
    protected: bool = False
    # Redis's HIDDEN_CONFIG: answered by CONFIG GET when named, never matched by a pattern.
    hidden: bool = False


PARAMS: dict[str, Param] = {}
_ALIASES: dict[str, str] = {}
# Directives Redis 7.0 still reads from config files (one argument) and ignores, as they
# configure nothing any more; CONFIG GET/SET do not know them.
DEPRECATED = frozenset({"list-max-ziplist-entries", "list-max-ziplist-value",
                        "lua-replicate-commands"})


def param(name: str, kind: Kind, default: str, mutable: bool = True,
          aliases: tuple[str, ...] = (), merge: bool = False, protected: bool = False,
          hidden: bool = False) -> None:
    PARAMS[name] = Param(name, kind, default.encode(), mutable, aliases, None, merge,
                         protected, hidden)
    for alias in aliases:
        _ALIASES[alias] = name


def on_config_set(name: str, hook: Callable[[Any, Any], None]) -> None:
    """Let a subsystem react when CONFIG SET changes ``name`` (hook(server, value))."""
    p = PARAMS[name]
    PARAMS[name] = replace(p, on_set=hook)


# Networking and limits.
param("port", PORT, "6379")
param("bind", LIST, "127.0.0.1")
param("tcp-backlog", _int_kind(0, 2**31 - 1), "511", mutable=False)
param("timeout", _int_kind(0, 2**31 - 1), "0")
param("tcp-keepalive", _int_kind(0, 2**31 - 1), "300")
param("maxclients", _int_kind(1, 2**32 - 1), "10000")
param("proto-max-bulk-len", MEMORY, "536870912")
param("client-query-buffer-limit", MEMORY, "1073741824")
param("client-output-buffer-limit", OBUF,
      "normal 0 0 0 replica 268435456 67108864 60 pubsub 33554432 8388608 60", merge=True)
param("requirepass", STRING, "")
param("databases", _int_kind(1, 2**31 - 1), "16", mutable=False)
param("loglevel", _enum_kind("debug", "verbose", "notice", "warning"), "notice")
param("logfile", STRING, "", mutable=False)
param("io-threads", _int_kind(1, 128), "1", mutable=False)
param("hz", HZ, "10")
param("dynamic-hz", BOOL, "yes")
param("slowlog-log-slower-than", INT, "10000")
param("slowlog-max-len", UINT, "128")
param("latency-monitor-threshold", UINT, "0")
param("latency-tracking", BOOL, "yes")
param("latency-tracking-info-percentiles", PERCENTILES, "50 99 99.9")
param("tracking-table-max-keys", UINT, "1000000")
param("notify-keyspace-events", Kind(parse_flags, format_flags), "")
param("lua-time-limit", INT, "5000", aliases=("busy-reply-threshold",))

# Persistence.
param("dir", STRING, ".", protected=True)
param("dbfilename", STRING, "dump.rdb", protected=True)
param("save", SAVE, "3600 1 300 100 60 10000")
param("appendonly", BOOL, "no")
param("appendfilename", STRING, "appendonly.aof", mutable=False)
param("appenddirname", STRING, "appendonlydir", mutable=False)
param("appendfsync", _enum_kind("always", "everysec", "no"), "everysec")
param("no-appendfsync-on-rewrite", BOOL, "no")
param("auto-aof-rewrite-percentage", UINT, "100")
param("auto-aof-rewrite-min-size", MEMORY, "67108864")
param("aof-load-truncated", BOOL, "yes")
param("aof-use-rdb-preamble", BOOL, "yes")
param("aof-timestamp-enabled", NO_AOF_TIMESTAMPS, "no")
param("rdbcompression", BOOL, "yes")
param("rdbchecksum", BOOL, "yes")
param("stop-writes-on-bgsave-error", BOOL, "yes")

# Encoding tuning, accepted for compatibility (respd's structures do not use them).
param("hash-max-listpack-entries", UINT, "512", aliases=("hash-max-ziplist-entries",))
param("hash-max-listpack-value", UINT, "64", aliases=("hash-max-ziplist-value",))
param("list-max-listpack-size", INT, "-2", aliases=("list-max-ziplist-size",))
param("list-compress-depth", UINT, "0")
param("set-max-intset-entries", UINT, "512")
param("zset-max-listpack-entries", UINT, "128", aliases=("zset-max-ziplist-entries",))
param("zset-max-listpack-value", UINT, "64", aliases=("zset-max-ziplist-value",))
param("stream-node-max-bytes", MEMORY, "4096")
param("stream-node-max-entries", UINT, "100")
# Redis 8.6's idempotent producers: a new stream's IDMP window (XCFGSET changes a stream's).
param("stream-idmp-duration", _int_kind(1, 86400), "100")
param("stream-idmp-maxsize", _int_kind(1, 10000), "100")
# respd's server-wide stream retention (commands/respd_streams.py): applies to streams
# without their own RESPD.XRETENTION policy; 0 leaves a limit off.
param("respd-stream-retention-maxage", UINT, "0")
param("respd-stream-retention-maxlen", UINT, "0")
param("respd-stream-retention-maxbytes", MEMORY, "0")
param("respd-stream-retention-policy", _enum_kind("keepref", "delref", "acked"), "keepref")
param("hll-sparse-max-bytes", MEMORY, "3000")
param("activerehashing", BOOL, "yes")
param("lazyfree-lazy-eviction", BOOL, "no")
param("lazyfree-lazy-expire", BOOL, "no")
param("lazyfree-lazy-server-del", BOOL, "no")
param("lazyfree-lazy-user-del", BOOL, "no")
param("lazyfree-lazy-user-flush", BOOL, "no")
param("active-expire-effort", _int_kind(1, 10), "1")
param("replica-read-only", BOOL, "yes", aliases=("slave-read-only",))

# Operations (respd.log, respd.http, respd.metrics): syslog as in Redis; the HTTP
# listener for /metrics and the console (off unless http-port is set) and the bounds
# on the labelled series it serves.
param("syslog-enabled", BOOL, "no", mutable=False)
param("syslog-ident", STRING, "redis", mutable=False)
param("syslog-facility", _enum_kind("user", "local0", "local1", "local2", "local3", "local4",
                                    "local5", "local6", "local7"), "local0", mutable=False)
param("http-port", PORT, "0", mutable=False)
param("http-bind", STRING, "127.0.0.1", mutable=False)
param("metrics-key-patterns", LIST, "*")
param("metrics-max-series", UINT, "10000")

# Replication (respd.replication, respd.replica).  replicaof is [host, port] or empty,
# set by the config file or REPLICAOF (CONFIG SET refuses it, as Redis).


def _parse_replicaof(raw: bytes) -> list[str]:
    words = raw.decode("latin-1").split()
    if len(words) not in (0, 2):
        raise ConfigError("wrong number of arguments")
    return words


param("replicaof", Kind(_parse_replicaof, LIST.format, words=True), "", mutable=False, aliases=("slaveof",))
param("masterauth", STRING, "")
param("masteruser", STRING, "")
param("repl-backlog-size", MEMORY, "1048576")
param("repl-backlog-ttl", UINT, "3600")
param("repl-ping-replica-period", _int_kind(1, 2**31 - 1), "10",
      aliases=("repl-ping-slave-period",))
param("repl-timeout", _int_kind(1, 2**31 - 1), "60")
param("repl-diskless-sync", BOOL, "yes")
param("repl-diskless-sync-delay", _int_kind(0, 2**31 - 1), "5")
param("repl-diskless-sync-max-replicas", _int_kind(0, 2**31 - 1), "0")
param("repl-diskless-load", _enum_kind("disabled", "on-empty-db", "swapdb"), "disabled")
param("repl-disable-tcp-nodelay", BOOL, "no")
param("replica-serve-stale-data", BOOL, "yes", aliases=("slave-serve-stale-data",))
param("replica-priority", _int_kind(0, 2**31 - 1), "100", aliases=("slave-priority",))
param("replica-announced", BOOL, "yes")
param("replica-announce-ip", STRING, "", aliases=("slave-announce-ip",))
param("replica-announce-port", _int_kind(0, 65535), "0", aliases=("slave-announce-port",))
param("replica-lazy-flush", BOOL, "no", aliases=("slave-lazy-flush",))
param("replica-ignore-maxmemory", BOOL, "yes", aliases=("slave-ignore-maxmemory",))
param("replica-ignore-disk-write-errors", BOOL, "no")
param("min-replicas-to-write", _int_kind(0, 2**31 - 1), "0", aliases=("min-slaves-to-write",))
param("min-replicas-max-lag", _int_kind(0, 2**31 - 1), "10", aliases=("min-slaves-max-lag",))

# ACL (respd.acl).  `user` lines are not a parameter (CONFIG GET/SET do not know them):
# respd.acl.add_user_directive collects them for the server to load at startup.
param("aclfile", STRING, "", mutable=False)
param("acl-pubsub-default", _enum_kind("allchannels", "resetchannels"), "resetchannels")
param("acllog-max-len", _int_kind(0, 2**63 - 1), "128")


# Memory limits and eviction (respd.eviction, respd.memory).


def _parse_memory_or_percent(raw: bytes) -> int | str:
    """maxmemory-clients: a memory value, or a percentage of maxmemory ("10%")."""
    if raw.endswith(b"%"):
        digits = raw[:-1]
        if not digits.isdigit():
            raise ConfigError("argument must be a memory or percent value")
        if int(digits) > 100:
            raise ConfigError("percentage argument must be less or equal to 100")
        return f"{int(digits)}%" if int(digits) else 0
    try:
        return parse_memory(raw)
    except ConfigError:
        raise ConfigError("argument must be a memory or percent value") from None


param("maxmemory", MEMORY, "0")
param("maxmemory-policy", _enum_kind(
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
    "allkeys-lfu", "allkeys-random", "noeviction"), "noeviction")
param("maxmemory-samples", _int_kind(1, 2**31 - 1), "5")
param("maxmemory-eviction-tenacity", _int_kind(0, 100), "10")
param("maxmemory-clients", Kind(_parse_memory_or_percent,
                                lambda v: v.encode() if isinstance(v, str) else b"%d" % v), "0")
param("lfu-log-factor", _int_kind(0, 2**31 - 1), "10")
param("lfu-decay-time", _int_kind(0, 2**31 - 1), "1")


# Listeners, TLS, protected mode and process management (respd/listeners.py, respd/tls.py,
# respd/process.py).  "no"/"yes"/"local": Redis's protected actions.
PROTECTED_ACTION = _enum_kind("no", "yes", "local")
param("unixsocket", STRING, "", mutable=False)
param("unixsocketperm", OCTAL, "0", mutable=False)
param("protected-mode", BOOL, "yes")
param("enable-debug-command", PROTECTED_ACTION, "no", mutable=False)
param("enable-module-command", PROTECTED_ACTION, "no", mutable=False)
param("enable-protected-configs", PROTECTED_ACTION, "no", mutable=False)
param("daemonize", BOOL, "no", mutable=False)
param("supervised", _enum_kind("upstart", "systemd", "auto", "no"), "no", mutable=False)
param("pidfile", STRING, "", mutable=False)
param("tls-port", PORT, "0")
# CONFIG SET of these rebuilds the TLS context for new connections (listeners.py).
for _name in ("tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
              "tls-client-key-file", "tls-client-key-file-pass", "tls-dh-params-file",
              "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols", "tls-ciphers",
              "tls-ciphersuites"):
    param(_name, STRING, "")
param("tls-auth-clients", _enum_kind("no", "yes", "optional"), "yes")
param("tls-prefer-server-ciphers", BOOL, "no")
param("tls-session-caching", BOOL, "yes")
param("tls-session-cache-size", _int_kind(0, 2**31 - 1), "20480")
param("tls-session-cache-timeout", _int_kind(0, 2**31 - 1), "300")
param("tls-replication", NO_REPLICATION, "no")
param("tls-cluster", _only_no("TLS on the cluster bus"), "no")
# Cluster mode (respd.cluster): the node table lives in cluster-config-file.
param("cluster-enabled", BOOL, "no", mutable=False)
param("cluster-config-file", STRING, "nodes.conf", mutable=False)
param("cluster-port", PORT, "0", mutable=False)
param("cluster-node-timeout", _int_kind(0, 2**63 - 1), "15000")
param("cluster-announce-ip", STRING, "")
param("cluster-announce-port", PORT, "0")
param("cluster-announce-bus-port", PORT, "0")
param("cluster-require-full-coverage", BOOL, "yes")
param("cluster-allow-reads-when-down", BOOL, "no")
# Cluster replicas (respd.cluster.failover): elections and replica migration.
param("cluster-replica-validity-factor", _int_kind(0, 2**31 - 1), "10")
param("cluster-replica-no-failover", BOOL, "no")
param("cluster-allow-replica-migration", BOOL, "yes")


# Redis 7.0 parameters about the process, the allocator and threads (respd/process.py,
# respd/persistence.py).  Those respd honours work as in Redis; for the others only the
# value that means "off" (or Redis's default, when that is what respd does) is accepted.
_SHUTDOWN_FLAGS = ("save", "nosave", "now", "force")


def _parse_shutdown_flags(raw: bytes) -> tuple[str, ...]:
    """shutdown-on-sigint/-sigterm: space-separated flags, 'default' meaning none."""
    flags = set()
    for word in raw.decode("latin-1").lower().split(" "):
        if word != "default" and word not in _SHUTDOWN_FLAGS:
            raise ConfigError("argument(s) must be one of the following: default, save, "
                              "nosave, now, force")
        flags.add(word)
    if {"save", "nosave"} <= flags:
        raise ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")
    return tuple(f for f in _SHUTDOWN_FLAGS if f in flags)


SHUTDOWN_FLAGS = Kind(_parse_shutdown_flags,
                      lambda v: " ".join(v).encode() if v else b"default", words=True)


def _parse_oom_values(raw: bytes) -> list[int]:
    words = raw.split()
    if len(words) != 3:
        raise ConfigError("wrong number of arguments")
    values = [parse_int(w) for w in words]
    if any(v is None or not -2000 <= v <= 2000 for v in values):
        raise ConfigError("Invalid oom-score-adj-values, elements must be between -2000 "
                          "and 2000.")
    return values  # type: ignore[return-value]


_TITLE_VARIABLES = {"title": "", "listen-addr": "*", "server-mode": "", "port": "0",
                    "tls-port": "0", "unixsocket": "", "config-file": ""}


def _parse_title_template(raw: bytes) -> str:
    """validateProcTitleTemplate: known {variables} only, and not blank once expanded
    (the title itself counts as empty)."""
    text = raw.decode("latin-1")
    out, pos = [], 0
    while pos < len(text):
        if text[pos] != "{":
            out.append(text[pos])
            pos += 1
            continue
        end = text.find("}", pos)
        name = text[pos + 1:end] if end > 0 else None
        if name not in _TITLE_VARIABLES:
            raise ConfigError("template format is invalid or contains unknown variables")
        out.append(_TITLE_VARIABLES[name])
        pos = end + 1
    if not "".join(out).strip(" "):
        raise ConfigError("template format is invalid or contains unknown variables")
    return text


def _positive_memory(raw: bytes) -> int:
    value = parse_memory(raw)
    if value < 1:
        raise ConfigError(f"argument must be between 1 and {2**63 - 1} inclusive")
    return value


_NO_DEFRAG = ("Active defragmentation cannot be enabled: it requires a Redis server "
              "compiled with a modified Jemalloc like the one shipped by default with the "
              "Redis source distribution")
# As in a Redis built without Jemalloc's defragmentation hints: off, its tuning accepted.
param("activedefrag", _only(BOOL, "no", "", _NO_DEFRAG), "no")
param("active-defrag-cycle-min", _int_kind(1, 99), "1")
param("active-defrag-cycle-max", _int_kind(1, 99), "25")
param("active-defrag-ignore-bytes", Kind(_positive_memory, MEMORY.format), "104857600")
param("active-defrag-max-scan-fields", _int_kind(1, 2**63 - 1), "1000")
param("active-defrag-threshold-lower", _int_kind(0, 1000), "10")
param("active-defrag-threshold-upper", _int_kind(0, 1000), "100")
param("jemalloc-bg-thread", _only(BOOL, "yes", "allocator settings (it does not use "
                                               "Jemalloc)"), "yes")
param("io-threads-do-reads", _only(BOOL, "no", "threaded reads"), "no", mutable=False)
param("always-show-logo", _only(BOOL, "no", "the ASCII-art logo"), "no", mutable=False)
param("set-proc-title", _only(BOOL, "no", "process titles"), "no", mutable=False)
param("proc-title-template", Kind(_parse_title_template, STRING.format),
      "{title} {listen-addr} {server-mode}")
for _name in ("server_cpulist", "bio_cpulist", "aof_rewrite_cpulist", "bgsave_cpulist"):
    param(_name, _only(STRING, "", "CPU affinity lists"), "", mutable=False)
param("oom-score-adj", _only(_enum_kind("no", "yes", "relative", "absolute"), "no",
                             "setting the OOM score"), "no")
param("oom-score-adj-values", Kind(_parse_oom_values, lambda v: b" ".join(b"%d" % n for n in v),
                                   words=True), "0 200 800")
param("socket-mark-id", _only(_int_kind(0, 2**32 - 1), "0", "socket marks"), "0",
      mutable=False)
param("disable-thp", BOOL, "yes", mutable=False)
param("ignore-warnings", STRING, "")  # names Redis's start-up checks; respd runs none
param("crash-log-enabled", BOOL, "yes")
param("crash-memcheck-enabled", _only(BOOL, "no", "a memory test after a crash"), "no")
param("shutdown-on-sigint", SHUTDOWN_FLAGS, "default")
param("shutdown-on-sigterm", SHUTDOWN_FLAGS, "default")
# respd shuts down at once, without waiting for replicas to catch up.
param("shutdown-timeout", _only(_int_kind(0, 2**31 - 1), "0",
                                "waiting for replicas at shutdown"), "0")
param("propagation-error-behavior", _only(_enum_kind("ignore", "panic", "panic-on-replicas"),
                                          "ignore", "panicking on propagation errors"),
      "ignore")
param("rdb-del-sync-files", _only(BOOL, "no", "deleting replication RDB files"), "no")
param("aof-rewrite-incremental-fsync", BOOL, "yes")
param("rdb-save-incremental-fsync", BOOL, "yes")
param("aof-disable-auto-gc", _only(BOOL, "no", "keeping AOF history files"), "no")
param("sanitize-dump-payload", _enum_kind("no", "yes", "clients"), "no")
param("bind-source-addr", STRING, "")
# Hidden debugging parameters of Redis's test suite: delays per key while loading or
# saving are not in respd (only 0); loading does not stop to serve clients anyway.
param("key-load-delay", _only(_int_kind(-(2**31), 2**31 - 1), "0", "loading delays"), "0",
      hidden=True)
param("rdb-key-save-delay", _only(_int_kind(-(2**31), 2**31 - 1), "0", "saving delays"), "0",
      hidden=True)
param("loading-process-events-interval-bytes", _int_kind(1024, 2**31 - 1), "2097152",
      hidden=True)

def _attr(name: str) -> str:
    return name.replace("-", "_")


class Config:
    """Current values; attribute names are the parameter names with '-' → '_'."""

    def __init__(self) -> None:
        for p in PARAMS.values():
            setattr(self, _attr(p.name), p.kind.parse(p.default))
        self.config_file: str | None = None
        self.acl_users: list[list[bytes]] = []  # `user` directives (acl.add_user_directive)

    if TYPE_CHECKING:
        # The attributes come from PARAMS: typed loosely for the checker only.  At run
        # time a __getattr__ would stop the interpreter specialising every config read
        # (handlers read it per command).
        def __getattr__(self, name: str) -> Any: ...

    @staticmethod
    def canonical(name: str) -> str | None:
        low = name.lower()
        if low in PARAMS:
            return low
        return _ALIASES.get(low)

    def set(self, name: str, raw: bytes, server: Any = None, startup: bool = False) -> None:
        """Set one parameter from its text form; raises ConfigError on a bad value."""
        canonical = self.canonical(name)
        if canonical is None:
            raise KeyError(name)
        p = PARAMS[canonical]
        value = p.kind.parse(raw)
        if p.merge:
            merged = dict(getattr(self, _attr(canonical)))
            merged.update(value)
            value = merged
        setattr(self, _attr(canonical), value)
        if p.on_set is not None and server is not None and not startup:
            p.on_set(server, value)

    def get_raw(self, name: str) -> bytes:
        p = PARAMS[name]
        return p.kind.format(getattr(self, _attr(name)))

    def get_many(self, patterns: list[bytes]) -> list[tuple[bytes, bytes]]:
        """CONFIG GET: a name without glob characters is looked up exactly (and answered
        under the spelling asked for); a pattern matches parameters and aliases."""
        found: dict[str, tuple[bytes, bytes]] = {}  # one answer per spelling
        for pattern in patterns:
            if not any(c in pattern for c in b"[*?"):
                canonical = self.canonical(pattern.decode("latin-1"))
                if canonical is not None and pattern.lower().decode("latin-1") not in found:
                    found[pattern.lower().decode("latin-1")] = (pattern,
                                                                self.get_raw(canonical))
                continue
            for p in PARAMS.values():
                if p.hidden:
                    continue
                for name in (p.name, *p.aliases):
                    if name not in found and glob_match(pattern, name.encode(), nocase=True):
                        found[name] = (name.encode(), self.get_raw(p.name))
        return list(found.values())

    def set_many(self, pairs: list[tuple[bytes, bytes]], server: Any,
                 allow_protected: bool = False) -> None:
        """CONFIG SET: every pair or none.  Names are checked first (unknown, immutable,
        protected unless allow_protected, duplicate), then values parsed, then subsystems
        told; any failure restores the previous values.  Raises ReplyError with Redis's
        text."""
        names: list[str] = []
        spellings: list[str] = []  # Redis sees an alias as a parameter of its own here
        for name, _ in pairs:
            canonical = self.canonical(name.decode("latin-1"))
            if canonical is None:
                raise errors.config_unknown("SET", name)
            p = PARAMS[canonical]
            if not p.mutable:
                raise errors.config_set_failed(name, errors.CONFIG_IMMUTABLE)
            if p.protected and not allow_protected:
                raise errors.config_set_failed(name, errors.CONFIG_PROTECTED)
            spelling = name.decode("latin-1").lower()
            if spelling in spellings:
                raise errors.config_set_failed(name, errors.CONFIG_DUPLICATE)
            spellings.append(spelling)
            names.append(canonical)
        previous = {n: getattr(self, _attr(n)) for n in names}
        applied: list[str] = []
        try:
            for (name, raw), canonical in zip(pairs, names):
                try:
                    self.set(canonical, raw)
                except ConfigError as err:
                    raise errors.config_set_failed(name, str(err)) from None
            for (name, _), canonical in zip(pairs, names):
                hook = PARAMS[canonical].on_set
                if hook is not None:
                    applied.append(canonical)
                    try:
                        hook(server, getattr(self, _attr(canonical)))
                    except ConfigError as err:
                        raise errors.config_set_failed(name, str(err)) from None
        except ReplyError:
            for canonical, value in previous.items():
                setattr(self, _attr(canonical), value)
            for canonical in applied[:-1]:  # undo what subsystems already did
                PARAMS[canonical].on_set(server, previous[canonical])  # type: ignore[misc]
            raise

    def rewrite(self) -> None:
        """CONFIG REWRITE: update the config file in place.  Directive lines for known
        parameters get the current value (later duplicates dropped), comments and other
        lines stay, and parameters changed from their default are appended."""
        if self.config_file is None:
            raise errors.NO_CONFIG_FILE
        try:
            with open(self.config_file, encoding="latin-1") as f:
                lines = f.read().splitlines()
        except OSError as err:
            raise errors.config_rewrite_failed(err.strerror or str(err)) from None
        written: set[str] = set()
        out: list[str] = []
        for line in lines:
            words = line.split()
            canonical = self.canonical(words[0]) if words and not line.lstrip().startswith(
                "#") else None
            if canonical is None:
                out.append(line)
            elif canonical not in written:
                out.append(self._directive(canonical))
                written.add(canonical)
        changed = [n for n, p in PARAMS.items()
                   if n not in written and self.get_raw(n) != p.kind.format(
                       p.kind.parse(p.default))]
        if changed:
            out.append("# Generated by CONFIG REWRITE")
            out.extend(self._directive(n) for n in changed)
        tmp = self.config_file + ".tmp-rewrite"
        try:
            with open(tmp, "w", encoding="latin-1") as f:
                f.write("\n".join(out) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.config_file)
        except OSError as err:
            raise errors.config_rewrite_failed(err.strerror or str(err)) from None

    def _directive(self, name: str) -> str:
        value = self.get_raw(name).decode("latin-1")
        kind = PARAMS[name].kind
        if kind is STRING or not value or (" " in value and not kind.words):  # one word
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} {value}"


__all__ = ["Config", "ConfigError", "DEPRECATED", "PARAMS", "param", "on_config_set"]
