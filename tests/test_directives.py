"""Every directive respd accepts (respd/config.py's table) either works as in Redis, with a
test that shows it, or is refused; the few that change nothing a client could observe
in Redis either are listed with the reason.  A new directive fails
``test_every_directive_is_classified`` until it is put in one of these tables.

The behaviour tests for directives no other file covers follow the tables: networking
(tcp-backlog, tcp-keepalive, timeout, maxclients, proto-max-bulk-len, databases),
logging, persistence file names, encodings, and the process (daemonize, pidfile,
supervised).
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
import redis

from conftest import (ServerProcess, eventually, free_port, redis_argv, reference_available,
                      respd_argv, wait_until, missing)
from respd.config import PARAMS

ROOT = Path(__file__).resolve().parent.parent
HERE = "tests/test_directives.py"

# directive → the test that shows it working ("file::function", or a compat case file
# that sets it)
IMPLEMENTED = {
    "cluster-enabled": "tests/test_cluster.py::test_create_and_check",
    "cluster-port": "tests/test_cluster.py::test_create_and_check",
    "cluster-config-file": "tests/test_cluster.py::test_nodes_conf_reloaded_on_restart",
    "cluster-node-timeout": "tests/test_cluster_node.py::test_node_timeout_marks_peer_failing",
    "cluster-announce-ip": "tests/test_cluster_node.py::test_announced_address",
    "cluster-announce-port": "tests/test_cluster_node.py::test_announced_address",
    "cluster-announce-bus-port": "tests/test_cluster_node.py::test_announced_address",
    "cluster-require-full-coverage":
        "tests/test_cluster_node.py::test_full_coverage_and_reads_when_down",
    "cluster-allow-reads-when-down":
        "tests/test_cluster_node.py::test_full_coverage_and_reads_when_down",
    "cluster-replica-validity-factor": "tests/test_cluster_replicas.py::test_replica_directives",
    "cluster-replica-no-failover": "tests/test_cluster_replicas.py::test_replica_directives",
    "cluster-allow-replica-migration":
        "tests/test_cluster_replicas.py::test_manual_failover_demotes_the_primary",
    "http-port": "tests/test_metrics.py::test_no_listener_unless_configured",
    "latency-monitor-threshold": "tests/test_latency_monitor.py::test_slow_command_is_an_event",
    "latency-tracking": "tests/test_latency_histogram.py::test_info_latencystats_like_redis",
    "latency-tracking-info-percentiles":
        "tests/test_latency_histogram.py::test_info_latencystats_like_redis",
    "stop-writes-on-bgsave-error":
        "tests/test_disk_errors.py::test_misconf_after_a_failed_bgsave_like_redis",
    "replica-ignore-disk-write-errors":
        "tests/test_disk_errors.py::test_replica_with_disk_errors_obeys_its_primary",
    "rdbcompression":
        "tests/test_rdb_compression.py::test_rdbcompression_files_load_in_redis_and_respd",
    "repl-timeout":
        "tests/test_repl_links.py::test_primary_drops_a_replica_that_stops_acknowledging",
    "replica-ignore-maxmemory": "tests/test_repl_links.py::test_replica_ignore_maxmemory",
    "repl-backlog-ttl": "tests/test_repl_links.py::test_backlog_freed_after_its_ttl",
    "tracking-table-max-keys": "tests/test_tracking.py::test_table_max_keys_evicts_with_invalidations",
    "http-bind": "tests/test_metrics.py::test_names_labels_and_values_match_info_and_xinfo",
    "metrics-key-patterns": "tests/test_metrics.py::test_key_patterns_choose_the_labelled_keys",
    "metrics-max-series": "tests/test_metrics.py::test_series_are_capped",
    "syslog-enabled": "tests/test_logging.py::test_syslog_without_a_daemon_does_not_stop_the_server",
    "syslog-ident": "tests/test_logging.py::test_syslog_without_a_daemon_does_not_stop_the_server",
    "syslog-facility": "tests/test_logging.py::test_syslog_without_a_daemon_does_not_stop_the_server",
    "replicaof": "tests/test_replication.py::test_respd_replicates_from_redis_server_and_resumes",
    "masterauth": "tests/test_replication.py::test_replica_directives_reach_the_primary",
    "masteruser": "tests/test_replication.py::test_replica_directives_reach_the_primary",
    "replica-announce-ip": "tests/test_replication.py::test_replica_directives_reach_the_primary",
    "replica-announce-port": "tests/test_replication.py::test_replica_directives_reach_the_primary",
    "replica-priority": "tests/test_replication.py::test_replica_directives_reach_the_primary",
    "replica-announced": "tests/test_replication.py::test_replica_directives_reach_the_primary",
    "replica-read-only": "tests/test_replication.py::test_respd_replicates_from_redis_server_and_resumes",
    "replica-serve-stale-data": "tests/test_replication.py::test_stale_replica_refuses_reads",
    "repl-backlog-size": "tests/test_replication.py::test_small_backlog_forces_full_resync_and_pings_flow",
    "repl-ping-replica-period": "tests/test_replication.py::test_small_backlog_forces_full_resync_and_pings_flow",
    "repl-diskless-sync": "tests/test_replication.py::test_small_backlog_forces_full_resync_and_pings_flow",
    "min-replicas-to-write": "tests/test_replication.py::test_min_replicas_to_write",
    "min-replicas-max-lag": "tests/test_replication.py::test_min_replicas_to_write",
    "maxmemory": "tests/test_memory.py::test_noeviction_refuses_writes_and_keeps_every_key",
    "maxmemory-policy": "tests/test_memory.py::test_allkeys_lru_keeps_recently_read_keys",
    "maxmemory-samples": "tests/test_memory.py::test_volatile_ttl_evicts_the_soonest_expiring_first",
    "maxmemory-clients": "tests/test_memory.py::test_client_eviction_spares_no_evict_clients",
    "maxmemory-eviction-tenacity": "compat/cases/memory_commands.txt",
    "lfu-log-factor": "tests/test_memory.py::test_object_idletime_and_freq",
    "lfu-decay-time": "compat/cases/memory_commands.txt",
    "hll-sparse-max-bytes": "tests/test_hll.py::test_random_sets_count_and_encode_like_redis",
    "acllog-max-len": "tests/test_acl.py::test_log_groups_repeats_and_respects_max_len",
    "acl-pubsub-default": "tests/test_acl.py::test_acl_pubsub_default_allchannels",
    "aclfile": "tests/test_acl.py::test_aclfile_load_and_save",
    "port": "tests/test_unixsocket.py::test_socket_only_server",
    "bind": "tests/test_protected_mode.py::test_non_local_peer_is_denied_like_redis",
    "tcp-backlog": f"{HERE}::test_tcp_backlog_like_redis",
    "timeout": f"{HERE}::test_idle_timeout_closes_clients",
    "tcp-keepalive": f"{HERE}::test_tcp_keepalive_like_redis",
    "maxclients": f"{HERE}::test_maxclients_like_redis",
    "proto-max-bulk-len": f"{HERE}::test_proto_max_bulk_len_like_redis",
    "client-query-buffer-limit":
        "tests/test_bad_input.py::test_query_buffer_limit_closes_the_client",
    "client-output-buffer-limit":
        "tests/test_pubsub_limits.py::test_config_set_merges_classes_and_takes_effect",
    "requirepass": "tests/test_protected_mode.py::test_no_protection_needed",
    "databases": f"{HERE}::test_databases_like_redis",
    "loglevel": f"{HERE}::test_logfile_and_loglevel",
    "logfile": f"{HERE}::test_logfile_and_loglevel",
    "hz": f"{HERE}::test_hz_like_redis",
    "slowlog-log-slower-than": "tests/test_hot_path.py::test_slowlog_threshold_follows_config_set",
    "slowlog-max-len": f"{HERE}::test_slowlog_max_len_like_redis",
    "notify-keyspace-events": "tests/test_hashes.py::test_keyspace_events",
    "lua-time-limit": "tests/test_scripting.py::test_busy_script_and_script_kill",
    "dir": "tests/test_aof.py::test_failed_saves_report_errors",
    "dbfilename": f"{HERE}::test_dbfilename_and_rdbchecksum",
    "rdbchecksum": f"{HERE}::test_dbfilename_and_rdbchecksum",
    "save": "tests/test_aof.py::test_shutdown_saves_when_save_points_are_configured",
    "appendonly": "tests/test_aof.py::test_config_set_appendonly_at_runtime",
    "appendfilename": f"{HERE}::test_aof_file_names_like_redis",
    "appenddirname": f"{HERE}::test_aof_file_names_like_redis",
    "appendfsync":
        "tests/test_crash.py::test_kill9_with_appendfsync_always_keeps_every_acknowledged_write",
    "auto-aof-rewrite-percentage": "tests/test_aof.py::test_automatic_rewrite_on_growth",
    "auto-aof-rewrite-min-size": "tests/test_aof.py::test_automatic_rewrite_on_growth",
    "aof-load-truncated":
        "tests/test_aof.py::test_truncation_is_fatal_when_aof_load_truncated_is_no",
    "aof-use-rdb-preamble": "tests/test_aof.py::test_rewrite_preserves_every_type",
    "hash-max-listpack-entries": "compat/cases/hashes_basic.txt",
    "hash-max-listpack-value": f"{HERE}::test_encoding_thresholds_like_redis",
    "list-max-listpack-size": f"{HERE}::test_encoding_thresholds_like_redis",
    "list-compress-depth": f"{HERE}::test_encoding_thresholds_like_redis",
    "set-max-intset-entries": "compat/cases/sets_basic.txt",
    "zset-max-listpack-entries": "tests/test_zsets.py::test_encodings_follow_config",
    "zset-max-listpack-value": f"{HERE}::test_encoding_thresholds_like_redis",
    "stream-node-max-bytes": "compat/cases/streams_basic.txt",
    "stream-node-max-entries": "compat/cases/streams_basic.txt",
    "stream-idmp-duration": "tests/test_streams_86.py::test_config_defaults_apply_to_new_streams",
    "stream-idmp-maxsize": "tests/test_streams_86.py::test_config_defaults_apply_to_new_streams",
    "respd-stream-retention-maxage":
        "tests/test_streams_retention.py::test_server_wide_default_retention",
    "respd-stream-retention-maxlen":
        "tests/test_streams_retention.py::test_server_wide_default_retention",
    "respd-stream-retention-maxbytes":
        "tests/test_streams_retention.py::test_server_wide_default_retention",
    "respd-stream-retention-policy":
        "tests/test_streams_retention.py::test_server_wide_default_retention",
    "unixsocket": "tests/test_unixsocket.py::test_socket_only_server",
    "unixsocketperm": "tests/test_unixsocket.py::test_unixsocketperm",
    "protected-mode": "tests/test_protected_mode.py::test_protected_mode_follows_config_set",
    "enable-debug-command": "tests/test_protected_mode.py::test_protected_actions_from_loopback",
    "enable-module-command":
        "tests/test_protected_mode.py::test_protected_actions_from_loopback",
    "enable-protected-configs":
        "tests/test_protected_mode.py::test_protected_actions_from_loopback",
    "daemonize": f"{HERE}::test_daemonize_and_pidfile_like_redis",
    "pidfile": f"{HERE}::test_daemonize_and_pidfile_like_redis",
    "supervised": f"{HERE}::test_supervised_systemd_like_redis",
    "tls-port": "tests/test_tls.py::test_redis_py_over_tls_only",
    "tls-cert-file": "tests/test_tls.py::test_redis_py_over_tls_only",
    "tls-key-file": "tests/test_tls.py::test_redis_py_over_tls_only",
    "tls-key-file-pass": "tests/test_tls.py::test_encrypted_key_file",
    # Only outgoing connections (replication, cluster bus) present these, and respd makes
    # none; like Redis, a file that does not load stops the start.
    "tls-client-cert-file": "tests/test_tls.py::test_bad_tls_configuration_fails_start",
    "tls-client-key-file": "tests/test_tls.py::test_bad_tls_configuration_fails_start",
    "tls-client-key-file-pass": "tests/test_tls.py::test_bad_tls_configuration_fails_start",
    "tls-dh-params-file": "tests/test_tls.py::test_protocols_and_ciphers_like_redis",
    "tls-ca-cert-file": "tests/test_tls.py::test_tls_auth_clients",
    "tls-ca-cert-dir": "tests/test_tls.py::test_ca_cert_dir",
    "tls-protocols": "tests/test_tls.py::test_protocols_and_ciphers_like_redis",
    "tls-ciphers": "tests/test_tls.py::test_protocols_and_ciphers_like_redis",
    "tls-ciphersuites": "tests/test_tls.py::test_protocols_and_ciphers_like_redis",
    "tls-prefer-server-ciphers": "tests/test_tls.py::test_protocols_and_ciphers_like_redis",
    "tls-auth-clients": "tests/test_tls.py::test_tls_auth_clients",
    "tls-session-caching": "tests/test_tls.py::test_session_caching",
    "tls-session-cache-timeout": "tests/test_tls.py::test_session_cache_timeout",
    "shutdown-on-sigint": "tests/test_process_directives.py::test_shutdown_signal_flags_like_redis",
    "shutdown-on-sigterm": "tests/test_process_directives.py::test_shutdown_signal_flags_like_redis",
    "crash-log-enabled": "tests/test_process_directives.py::test_crash_log_on_fatal_signal",
    "disable-thp": "tests/test_process_directives.py::test_disable_thp_like_redis",
    "bind-source-addr": "tests/test_process_directives.py::test_bind_source_addr_of_the_replica_link",
}

# directive → the value respd refuses at start-up (its other values work as in Redis)
REFUSED = {
    "tls-cluster": "yes",
    "tls-replication": "yes",
    "aof-timestamp-enabled": "yes",
    "activedefrag": "yes",
    "jemalloc-bg-thread": "no",
    "io-threads-do-reads": "yes",
    "always-show-logo": "yes",
    "set-proc-title": "yes",
    "server_cpulist": "0",
    "bio_cpulist": "0",
    "aof_rewrite_cpulist": "0",
    "bgsave_cpulist": "0",
    "oom-score-adj": "yes",
    "socket-mark-id": "1",
    "crash-memcheck-enabled": "yes",
    "shutdown-timeout": "10",
    "propagation-error-behavior": "panic",
    "rdb-del-sync-files": "yes",
    "aof-disable-auto-gc": "yes",
    "key-load-delay": "100",
    "rdb-key-save-delay": "100",
}

# Directives that change nothing a client can observe, in Redis either: they tune how
# Redis uses memory, threads or CPU.  respd validates and reports them.
NO_OBSERVABLE_EFFECT = {
    "io-threads": "threads only move socket reads and writes; commands run on one thread",
    "dynamic-hz": "raises the internal timer rate with many clients; replies do not change",
    "activerehashing": "incremental rehashing of Redis's own hash tables",
    "active-expire-effort": "CPU given to the background expiry cycle",
    "lazyfree-lazy-eviction": "whether memory is freed on a background thread",
    "lazyfree-lazy-expire": "whether memory is freed on a background thread",
    "lazyfree-lazy-server-del": "whether memory is freed on a background thread",
    "lazyfree-lazy-user-del": "whether memory is freed on a background thread",
    "lazyfree-lazy-user-flush": "whether memory is freed on a background thread",
    "no-appendfsync-on-rewrite": "skips fsync during a rewrite: visible only after a power loss",
    "tls-session-cache-size": "the server cache's size; TLS tickets carry the sessions",
    "repl-disable-tcp-nodelay": "batching of the replication stream's TCP packets",
    "repl-diskless-sync-delay": "respd makes the image in-process at once: no fork to share",
    "repl-diskless-sync-max-replicas": "respd makes the image in-process at once: no fork to share",
    "repl-diskless-load": "where a replica buffers the payload before loading it",
    "replica-lazy-flush": "whether the old dataset is freed on a background thread",
    "active-defrag-cycle-min": "tunes active defragmentation, which cannot be on (activedefrag)",
    "active-defrag-cycle-max": "tunes active defragmentation, which cannot be on (activedefrag)",
    "active-defrag-ignore-bytes": "tunes active defragmentation, which cannot be on (activedefrag)",
    "active-defrag-max-scan-fields": "tunes active defragmentation, which cannot be on",
    "active-defrag-threshold-lower": "tunes active defragmentation, which cannot be on",
    "active-defrag-threshold-upper": "tunes active defragmentation, which cannot be on",
    "oom-score-adj-values": "used only by oom-score-adj, which stays no",
    "proc-title-template": "used only by set-proc-title, which stays no",
    "ignore-warnings": "silences Redis's start-up checks (ARM64 COW bug); respd runs none",
    "aof-rewrite-incremental-fsync": "fsync pacing of a rewrite: visible only after a power loss",
    "rdb-save-incremental-fsync": "fsync pacing of a save: visible only after a power loss",
    "sanitize-dump-payload": "respd always checks a RESTORE payload completely",
    "loading-process-events-interval-bytes": "how often loading serves events; respd's "
                                             "loading does not stop for them",
}

# Accepted but not honoured: none is left, and none may be added (implement or refuse it).
NOT_YET_HONOURED: dict[str, str] = {}

TABLES = (IMPLEMENTED, REFUSED, NO_OBSERVABLE_EFFECT, NOT_YET_HONOURED)


def test_every_directive_is_classified() -> None:
    names = [name for table in TABLES for name in table]
    assert len(names) == len(set(names)), "a directive is in two tables"
    assert set(names) == set(PARAMS), (
        f"unclassified: {sorted(set(PARAMS) - set(names))}, "
        f"unknown: {sorted(set(names) - set(PARAMS))}")


@pytest.mark.parametrize("name", sorted(IMPLEMENTED))
def test_implementation_test_exists(name: str) -> None:
    where, _, function = IMPLEMENTED[name].partition("::")
    path = ROOT / where
    assert path.exists(), where
    text = path.read_text()
    if not function:  # a compat case that sets the directive
        assert f"CONFIG SET {name} " in text, f"{where} does not set {name}"
        return
    defined = {node.name for node in ast.parse(text).body
               if isinstance(node, ast.FunctionDef)}
    assert function in defined, f"{where} has no {function}"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_values_stop_the_start(name: str) -> None:
    done = subprocess.run(respd_argv(free_port(), f"--{name}", REFUSED[name]),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "FATAL CONFIG FILE ERROR" in done.stderr and name in done.stderr


# --- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def both(spawn: Callable[..., ServerProcess]) -> Callable[..., list[ServerProcess]]:
    """both(*options) → [redis-server, respd] started with the same options."""

    def start(*options: str, workdirs: tuple[str, str] | None = None) -> list[ServerProcess]:
        dirs = workdirs or (None, None)
        return [spawn(kind, *options, workdir=d) for kind, d in zip(("redis", "respd"), dirs)]

    return start


def raw(port: int, data: bytes, replies: int = 1) -> bytes:
    """Send bytes, return what comes back until `replies` lines arrived or the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        out = b""
        while out.count(b"\r\n") < replies:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


def ss(*filters: str) -> list[str]:
    if shutil.which("ss") is None:
        missing("ss (iproute2)")
    out = subprocess.run(["ss", "-Htn", *filters], capture_output=True, text=True)
    return out.stdout.splitlines()


# --- networking ------------------------------------------------------------------------------

def test_tcp_backlog_like_redis(both: Any) -> None:
    """A listening socket's Send-Q column is its backlog."""
    backlogs = []
    for server in both("--tcp-backlog", "17"):
        [line] = ss("-l", f"sport = :{server.port}")
        backlogs.append(line.split()[2])
    assert backlogs == ["17", "17"]


@pytest.mark.parametrize("interval", ["0", "100"])
def test_tcp_keepalive_like_redis(both: Any, interval: str) -> None:
    timers = []
    for server in both("--tcp-keepalive", interval):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"PING\r\n")
            sock.recv(16)
            [line] = ss("-o", "state", "established", f"sport = :{server.port}")
            timers.append("timer:(keepalive" in line)
    assert timers == [interval != "0"] * 2


def test_idle_timeout_closes_clients(spawn: Any) -> None:
    server = spawn("respd", "--timeout", "1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"PING\r\n")
        assert sock.recv(16) == b"+PONG\r\n"
        assert sock.recv(16) == b""  # closed by the server once idle


def test_maxclients_like_redis(both: Any) -> None:
    refusals = []
    for server in both("--maxclients", "2"):
        held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
        try:
            for sock in held:
                sock.sendall(b"PING\r\n")
                assert sock.recv(16) == b"+PONG\r\n"
            refusals.append(raw(server.port, b"PING\r\n"))
        finally:
            for sock in held:
                sock.close()
    assert refusals[0] == refusals[1] == b"-ERR max number of clients reached\r\n"


def test_proto_max_bulk_len_like_redis(both: Any) -> None:
    request = b"*2\r\n$4\r\nECHO\r\n$2000000\r\n"
    replies = [raw(s.port, request) for s in both("--proto-max-bulk-len", "1mb")]
    assert replies[0] == replies[1]
    assert replies[1].startswith(b"-ERR Protocol error")


def test_databases_like_redis(both: Any) -> None:
    request = b"SELECT 3\r\nSELECT 4\r\nCONFIG GET databases\r\n"
    replies = [raw(s.port, request, replies=6) for s in both("--databases", "4")]
    assert replies[0] == replies[1]
    assert b"out of range" in replies[1]


def test_hz_like_redis(both: Any) -> None:
    seen = [{k: v for k, v in s.client().info("server").items() if k in ("hz", "configured_hz")}
            for s in both("--hz", "50")]
    assert seen[0] == seen[1] == {"hz": 50, "configured_hz": 50}


def test_slowlog_max_len_like_redis(both: Any) -> None:
    lengths = []
    for server in both("--slowlog-log-slower-than", "0", "--slowlog-max-len", "3"):
        client = server.client()
        for i in range(10):
            client.set(f"k{i}", i)
        lengths.append(client.slowlog_len())
    assert lengths == [3, 3]


# --- logging and files -----------------------------------------------------------------------

@pytest.mark.parametrize("level", ["notice", "warning"])
def test_logfile_and_loglevel(both: Any, tmp_path: Path, level: str) -> None:
    """Both log readiness to the logfile at notice level, and not at warning level."""
    logs = []
    for kind, server in zip(("redis", "respd"),
                            both("--loglevel", level, "--logfile", "server-own.log")):
        path = Path(server.workdir) / "server-own.log"
        assert path.exists(), kind
        logs.append("Ready to accept connections" in path.read_text())
    assert logs == [level == "notice"] * 2


def test_dbfilename_and_rdbchecksum(both: Any) -> None:
    """SAVE writes <dir>/<dbfilename>; rdbchecksum no leaves the trailing CRC64 zero."""
    for checksum in ("yes", "no"):
        tails = []
        for server in both("--dbfilename", "named.rdb", "--rdbchecksum", checksum):
            client = server.client()
            client.set("k", "v")
            client.save()
            data = (Path(server.workdir) / "named.rdb").read_bytes()
            tails.append(data[-8:] == b"\0" * 8)
        assert tails == [checksum == "no"] * 2


def test_aof_file_names_like_redis(both: Any) -> None:
    layouts = []
    options = ("--appendonly", "yes", "--appenddirname", "journal", "--appendfilename",
               "named.aof")
    for server in both(*options):
        server.client().set("k", "v")
        directory = Path(server.workdir) / "journal"
        wait_until(lambda: directory.exists(), "the AOF directory")
        layouts.append(sorted(p.name for p in directory.iterdir()))
    assert layouts[0] == layouts[1]
    assert "named.aof.manifest" in layouts[1]


ENCODINGS = {
    "hash-max-listpack-value": ("4", [["HSET", "h", "f", "12345"], ["HSET", "h2", "f", "1"]],
                                ["h", "h2"]),
    "zset-max-listpack-value": ("4", [["ZADD", "z", "1", "12345"], ["ZADD", "z2", "1", "a"]],
                                ["z", "z2"]),
    "list-max-listpack-size": ("1", [["RPUSH", "l", "a", "b", "c"]], ["l"]),
    "list-compress-depth": ("1", [["RPUSH", "l", *"abcdefgh"]], ["l"]),
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_encoding_thresholds_like_redis(both: Any, name: str) -> None:
    value, writes, keys = ENCODINGS[name]
    seen = []
    for server in both(f"--{name}", value):
        client = server.client()
        for argv in writes:
            client.execute_command(*argv)
        seen.append([client.object("encoding", key) for key in keys])
    assert seen[0] == seen[1]


# --- the process -----------------------------------------------------------------------------

def _argv(kind: str, port: int, *options: str) -> list[str]:
    if kind == "redis" and not reference_available():
        missing("redis-server 7.0.x")
    return (respd_argv if kind == "respd" else redis_argv)(port, *options)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_daemonize_and_pidfile_like_redis(kind: str, tmp_path: Path) -> None:
    """The command returns at once with status 0; the daemon writes its pid to the
    pidfile, serves, and removes the file when it stops."""
    port = free_port()
    pidfile = tmp_path / "server.pid"
    argv = _argv(kind, port, "--daemonize", "yes", "--pidfile", str(pidfile), "--logfile",
                 str(tmp_path / "log"))
    launcher = subprocess.run(argv, cwd=tmp_path, capture_output=True, timeout=30)
    assert launcher.returncode == 0
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), "the pid file")
    pid = int(pidfile.read_text())
    try:
        assert _pid_alive(pid)
        client = redis.Redis(port=port)
        wait_until(lambda: _pings(client), "the daemon answering")
        assert client.info("server")["process_id"] == pid
        assert client.config_get("daemonize") == {"daemonize": "yes"}
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not _pid_alive(pid) or _zombie(pid), "the daemon exiting")
    assert not pidfile.exists()


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("kind", ["redis", "respd"])
def test_pidfile_in_the_foreground(kind: str, spawn: Any, tmp_path: Path) -> None:
    pidfile = tmp_path / "fg.pid"
    server = spawn(kind, "--pidfile", str(pidfile))
    assert server.proc is not None
    assert int(pidfile.read_text()) == server.proc.pid
    assert server.stop() == 0
    assert not pidfile.exists()


def _notifications(kind: str, mode: str, tmp_path: Path) -> tuple[list[bytes], str]:
    """Datagrams a server sends to $NOTIFY_SOCKET from start to stop, and INFO's
    process_supervised."""
    path = str(tmp_path / f"{kind}-notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(10)
    port = free_port()
    # daemonize is ignored under a supervisor, as in Redis
    argv = _argv(kind, port, "--supervised", mode, "--daemonize", "yes")
    log = open(tmp_path / f"{kind}.log", "wb")
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=log, stderr=log,
                            env=dict(os.environ, NOTIFY_SOCKET=path))
    messages = []
    try:
        while b"READY=1\n" not in messages:
            messages.append(listener.recv(4096))
        supervised = redis.Redis(port=port).info("server")["process_supervised"]
        proc.terminate()
        messages.append(listener.recv(4096))
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        listener.close()
    return messages, supervised


@pytest.mark.parametrize("mode", ["systemd", "auto"])
def test_supervised_systemd_like_redis(tmp_path: Path, mode: str) -> None:
    seen = [_notifications(kind, mode, tmp_path) for kind in ("redis", "respd")]
    assert seen[0] == seen[1]
    assert seen[1] == ([b"STATUS=Redis is loading...\n",
                        b"STATUS=Ready to accept connections\n", b"READY=1\n",
                        b"STOPPING=1\n"], "systemd")


def test_supervised_upstart_stops_itself_when_ready(tmp_path: Path) -> None:
    """Upstart's 'expect stop': the server raises SIGSTOP once it can serve."""
    states = []
    for kind in ("redis", "respd"):
        port = free_port()
        proc = subprocess.Popen(_argv(kind, port, "--supervised", "upstart"), cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=dict(os.environ, UPSTART_JOB="test"))
        try:
            wait_until(lambda: _state(proc.pid) == "T", f"{kind} stopping itself")
            os.kill(proc.pid, signal.SIGCONT)
            client = redis.Redis(port=port)
            wait_until(lambda: _pings(client), f"{kind} serving after SIGCONT")
            states.append(client.info("server")["process_supervised"])
        finally:
            proc.terminate()
            proc.wait(15)
    assert states == ["upstart", "upstart"]


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_systemd_without_notify_socket_still_starts(spawn: Any) -> None:
    """Like Redis: a warning, then an unsupervised server."""
    env_had = os.environ.pop("NOTIFY_SOCKET", None)
    try:
        servers = [spawn(kind, "--supervised", "systemd") for kind in ("redis", "respd")]
    finally:
        if env_had is not None:
            os.environ["NOTIFY_SOCKET"] = env_had
    for server in servers:
        assert server.client().ping()
        assert eventually(lambda: "NOTIFY_SOCKET not found" in server.log())

