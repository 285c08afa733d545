"""/metrics: Prometheus text parsed by prometheus_client's own parser, redis_exporter's
names and labels, values checked against INFO and XINFO after a scripted workload;
respd's own series (per-channel drops, queues, blocked clients); basic auth; the cap."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from typing import Any, Callable

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from conftest import ServerProcess, free_port, wait_until

# The names the issue lists, which Grafana dashboards built for redis_exporter use.
EXPORTER_NAMES = {
    "redis_up", "redis_connected_clients", "redis_blocked_clients",
    "redis_commands_processed_total", "redis_commands_total",
    "redis_commands_duration_seconds_total", "redis_memory_used_bytes",
    "redis_pubsub_channels", "redis_pubsub_patterns", "redis_pubsubshard_channels",
    "redis_keyspace_hits_total", "redis_keyspace_misses_total", "redis_evicted_keys_total",
    "redis_expired_keys_total", "redis_connections_received_total", "redis_db_keys",
    "redis_stream_length", "redis_stream_groups", "redis_stream_entries_added_total",
    "redis_stream_last_generated_id", "redis_stream_group_consumers",
    "redis_stream_group_messages_pending", "redis_stream_group_lag",
    "redis_stream_group_entries_read", "redis_stream_group_last_delivered_id",
    "redis_stream_group_consumer_messages_pending", "redis_stream_group_consumer_idle_seconds",
}
RESPD_NAMES = {
    "respd_channel_published_total", "respd_channel_delivered_total",
    "respd_channel_dropped_total", "respd_client_output_buffer_disconnections_total",
    "respd_queue_length", "respd_blocked_clients_by_key",
    "respd_stream_group_oldest_pending_seconds",
}
LABELS = {
    "redis_stream_length": {"db", "stream"},
    "redis_stream_group_lag": {"db", "stream", "group"},
    "redis_stream_group_consumer_idle_seconds": {"db", "stream", "group", "consumer"},
    "redis_commands_total": {"cmd"},
    "respd_channel_dropped_total": {"channel"},
}

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def fetch(port: int, path: str = "/metrics", auth: tuple[str, str] | None = None) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def samples(port: int, **kw: Any) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(fetch(port, **kw)):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found[name][tuple(sorted(labels.items()))]


@pytest.fixture
def metered(spawn: Callable[..., ServerProcess]) -> tuple[ServerProcess, int]:
    http_port = free_port()
    server = spawn("respd", "--http-port", str(http_port))
    return server, http_port


def test_names_labels_and_values_match_info_and_xinfo(metered: tuple[ServerProcess, int]) -> None:
    server, http = metered
    r = server.client(decode_responses=True)
    for _ in range(3):
        assert r.publish("nobody-listens", "lost") == 0
    sub = server.client().pubsub()
    sub.subscribe("news")
    wait_until(lambda: r.pubsub_numsub("news")[0][1] == 1, "the subscription")
    assert r.publish("news", "hello") == 1
    for i in range(5):
        r.xadd("orders", {"n": i})
    r.xgroup_create("orders", "billing", id="0")
    delivered = r.xreadgroup("billing", "alice", {"orders": ">"}, count=3)
    r.xack("orders", "billing", delivered[0][1][0][0])
    r.rpush("jobs", "a", "b", "c")
    blocker = server.client()
    blocker_id = blocker.client_id()
    import threading

    popper = threading.Thread(target=lambda: blocker.blpop(["empty-queue"], timeout=10))
    popper.start()
    wait_until(lambda: r.info("clients")["blocked_clients"] == 1, "the blocked client")
    r.get("missing")
    try:
        wait_until(lambda: ("db0", "orders") in {(lbl.get("db"), lbl.get("stream")) for lbl in (
            dict(k) for k in samples(http).get("redis_stream_length", {}))}, "the key sweep")
        found = samples(http)
        info = r.info("everything")
        group = r.xinfo_groups("orders")[0]
        consumer = r.xinfo_consumers("orders", "billing")[0]
        stream = r.xinfo_stream("orders")
    finally:
        r.client_unblock(blocker_id)
        popper.join(10)
        sub.close()

    names = set(found)
    assert EXPORTER_NAMES <= names, EXPORTER_NAMES - names
    assert RESPD_NAMES <= names, RESPD_NAMES - names
    for name, labels in LABELS.items():
        assert all({k for k, _ in key} == labels for key in found[name]), name

    # INFO-derived, read while nothing else ran (the scrape's own counters differ only
    # by the commands sent since; these did not change between the two reads).
    assert value(found, "redis_pubsub_channels") == info["pubsub_channels"] == 1
    assert value(found, "redis_blocked_clients") == info["blocked_clients"] == 1
    assert value(found, "redis_keyspace_misses_total") == info["keyspace_misses"]
    assert value(found, "redis_commands_total", cmd="xadd") == info["cmdstat_xadd"]["calls"]
    assert value(found, "redis_commands_total", cmd="publish") == \
        info["cmdstat_publish"]["calls"] == 4
    assert value(found, "redis_db_keys", db="db0") == info["db0"]["keys"]

    # XINFO-derived.
    s = {"db": "db0", "stream": "orders"}
    g = {**s, "group": "billing"}
    assert value(found, "redis_stream_length", **s) == stream["length"] == 5
    assert value(found, "redis_stream_groups", **s) == stream["groups"] == 1
    assert value(found, "redis_stream_entries_added_total", **s) == stream["entries-added"]
    assert value(found, "redis_stream_last_generated_id", **s) == \
        int(stream["last-generated-id"].split("-")[0])
    assert value(found, "redis_stream_group_lag", **g) == group["lag"] == 2
    assert value(found, "redis_stream_group_messages_pending", **g) == group["pending"] == 2
    assert value(found, "redis_stream_group_entries_read", **g) == group["entries-read"] == 3
    assert value(found, "redis_stream_group_consumers", **g) == group["consumers"] == 1
    assert value(found, "redis_stream_group_last_delivered_id", **g) == \
        int(group["last-delivered-id"].split("-")[0])
    c = {**g, "consumer": "alice"}
    assert value(found, "redis_stream_group_consumer_messages_pending", **c) == \
        consumer["pending"] == 2
    assert 0 <= value(found, "redis_stream_group_consumer_idle_seconds", **c) < 60

    # respd's own: drops per channel, queue depth, who waits on which key.
    assert value(found, "respd_channel_dropped_total", channel="nobody-listens") == 3
    assert value(found, "respd_channel_published_total", channel="news") == 1
    assert value(found, "respd_channel_delivered_total", channel="news") == 1
    assert value(found, "respd_channel_dropped_total", channel="news") == 0
    assert value(found, "respd_queue_length", db="db0", key="jobs", type="list") == 3
    assert value(found, "respd_blocked_clients_by_key", db="db0", key="empty-queue") == 1


def test_basic_auth_when_the_default_user_has_a_password(
        spawn: Callable[..., ServerProcess]) -> None:
    http = free_port()
    server = spawn("respd", "--http-port", str(http), "--requirepass", "s3cret")
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(http)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError):
        fetch(http, auth=("default", "wrong"))
    assert "redis_up 1.0" in fetch(http, auth=("default", "s3cret"))
    r = server.client(password="s3cret")
    r.acl_setuser("grafana", enabled=True, passwords=["+scrape"], commands=["+info"])
    assert "redis_up 1.0" in fetch(http, auth=("grafana", "scrape"))
    assert "<title>respd console</title>" in fetch(http, path="/", auth=("grafana", "scrape"))


def test_series_are_capped(spawn: Callable[..., ServerProcess]) -> None:
    http = free_port()
    server = spawn("respd", "--http-port", str(http), "--metrics-max-series", "40")
    r = server.client()
    for i in range(50):
        r.publish(f"ch{i}", "x")  # only 40 // 4 channels are tracked
    pipe = r.pipeline()
    for i in range(100):
        pipe.xadd(f"s{i}", {"a": 1})
    pipe.execute()
    wait_until(lambda: samples(http)["respd_metrics_tracked_keys"][()] == 10, "the sweep")
    found = samples(http)
    capped = {"cmd", "channel", "stream", "key"}  # the unbounded label kinds
    labelled = sum(1 for series in found.values() for labels in series
                   if capped & {name for name, _ in labels})
    assert labelled <= 40
    assert found["respd_metrics_series_dropped"][()] > 0
    assert len(found["respd_channel_published_total"]) <= 10


def test_key_patterns_choose_the_labelled_keys(spawn: Callable[..., ServerProcess]) -> None:
    http = free_port()
    server = spawn("respd", "--http-port", str(http), "--metrics-key-patterns", "orders:*",
                   "jobs")
    r = server.client()
    r.xadd("orders:eu", {"a": 1})
    r.xadd("audit", {"a": 1})
    r.rpush("jobs", "x")
    r.rpush("other", "x")
    wait_until(lambda: samples(http)["respd_metrics_tracked_keys"][()] == 2, "the sweep")
    found = samples(http)
    assert {dict(k)["stream"] for k in found["redis_stream_length"]} == {"orders:eu"}
    assert {dict(k)["key"] for k in found["respd_queue_length"]} == {"jobs"}


def test_no_listener_unless_configured(respd: ServerProcess) -> None:
    r = respd.client()
    assert r.config_get("http-port") == {"http-port": "0"}
    assert r.config_get("http-bind") == {"http-bind": "127.0.0.1"}
    with pytest.raises(redis.ResponseError):
        r.config_set("http-port", "8080")
