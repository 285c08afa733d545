"""maxmemory through real clients: each eviction policy fills a database past the limit
and the surviving keys are checked; -OOM under noeviction; access clocks (OBJECT
IDLETIME/FREQ); evictions as keyspace events, INFO counters and AOF DELs; a stream and
list workload that stays under the limit; client eviction (maxmemory-clients); INFO
memory's fields against redis-server.  Byte-exact replies (-OOM in MULTI, EXEC, scripts;
MEMORY's shapes) live in compat/cases/memory_*.txt."""

from __future__ import annotations

import os
import socket
from typing import Any, Callable

import pytest
import redis

from conftest import ServerProcess, eventually, wait_until

VALUE = b"x" * 1000
BUDGET = 300_000  # bytes of dataset allowed above what the empty server uses


def _limited(spawn: Callable[..., ServerProcess], policy: str, *extra: str) -> Any:
    """A fresh respd with maxmemory set BUDGET above its current use."""
    server = spawn("respd", "--maxmemory-policy", policy, "--maxmemory-samples", "10", *extra)
    client = server.client()
    used = client.info("memory")["used_memory"]
    client.config_set("maxmemory", used + BUDGET)
    return client


def _evicted(client: Any) -> int:
    return client.info("stats")["evicted_keys"]


def _fill(client: Any, prefix: str, count: int, ttl: int | None = None) -> list[str]:
    keys = [f"{prefix}:{i}" for i in range(count)]
    pipe = client.pipeline(transaction=False)
    for i, key in enumerate(keys):
        if ttl is None:
            pipe.set(key, VALUE)
        else:
            pipe.set(key, VALUE, ex=ttl + i)
    pipe.execute()
    return keys


def _alive(client: Any, keys: list[str]) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.exists(key)
    return [k for k, there in zip(keys, pipe.execute()) if there]


def _settled(client: Any, keys: list[str]) -> list[str]:
    """The keys still alive once eviction has stopped: it may go on in the background
    (tenacity) and each command first evicts while over the limit, so counts taken while
    it runs disagree."""
    state: dict[str, Any] = {}

    def stable() -> bool:
        before = _evicted(client)
        state["alive"] = _alive(client, keys)
        return _evicted(client) == before and _under_limit(client)

    wait_until(stable, "eviction to settle")
    return state["alive"]


def _under_limit(client: Any) -> bool:
    memory = client.info("memory")
    return memory["used_memory"] <= memory["maxmemory"] + 2 * len(VALUE) + 1024


# --- policies ------------------------------------------------------------------------------


def test_noeviction_refuses_writes_and_keeps_every_key(spawn: Any) -> None:
    client = _limited(spawn, "noeviction")
    stored = []
    for i in range(1000):
        try:
            client.set(f"k:{i}", VALUE)
            stored.append(f"k:{i}")
        except redis.ResponseError as err:
            assert str(err) == "command not allowed when used memory > 'maxmemory'."
            break
    else:
        pytest.fail("1000 KB stored under a 300 KB limit")
    assert 100 < len(stored) < 400
    assert _alive(client, stored) == stored
    assert client.get("k:0") == VALUE  # reads still work
    assert client.delete("k:0") == 1  # and DEL (not denyoom) frees room
    assert _evicted(client) == 0
    assert client.info("errorstats")["errorstat_OOM"]["count"] == 1


def test_allkeys_lru_keeps_recently_read_keys(spawn: Any) -> None:
    client = _limited(spawn, "allkeys-lru")
    hot = _fill(client, "hot", 40)
    cold = _fill(client, "cold", 140)
    assert _evicted(client) == 0
    # The LRU clock counts seconds: let the keys age, then read only the hot ones.
    wait_until(lambda: client.object("idletime", "cold:0") >= 2, "keys idle for 2 s")
    for key in hot:
        client.get(key)
    assert client.object("idletime", "hot:0") == 0
    _fill(client, "new", 160)
    assert _evicted(client) >= 50
    assert _alive(client, hot) == hot  # never the recently read ones...
    assert len(_alive(client, cold)) < len(cold)  # ...but the idle ones
    assert _under_limit(client)


def test_allkeys_lfu_keeps_frequently_read_keys(spawn: Any) -> None:
    # lfu-log-factor 0: every access increments the counter, so the test is exact.
    client = _limited(spawn, "allkeys-lfu", "--lfu-log-factor", "0")
    hot = _fill(client, "hot", 40)
    cold = _fill(client, "cold", 140)
    for _ in range(20):  # pipelines of 40 replies: reply buffers count as used memory
        pipe = client.pipeline(transaction=False)
        for key in hot:
            pipe.get(key)
        pipe.execute()
    assert client.object("freq", "hot:0") == 25  # LFU_INIT_VAL 5, +1 per read
    assert client.object("freq", "cold:0") == 5
    _fill(client, "new", 160)
    assert _evicted(client) >= 50
    assert _alive(client, hot) == hot
    assert len(_alive(client, cold)) < len(cold)
    assert _under_limit(client)


def test_allkeys_random_evicts_and_stays_under_the_limit(spawn: Any) -> None:
    client = _limited(spawn, "allkeys-random")
    keys = _fill(client, "k", 700)
    _settled(client, keys)  # waits until under the limit
    client.config_set("maxmemory", 0)  # at the limit any command may evict one more key
    alive = _alive(client, keys)
    assert _evicted(client) > 300
    assert len(alive) + _evicted(client) == 700


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random",
                                    "volatile-ttl"])
def test_volatile_policies_leave_keys_without_ttl(spawn: Any, policy: str) -> None:
    client = _limited(spawn, policy)
    persistent = _fill(client, "keep", 60)
    volatile = _fill(client, "vol", 250, ttl=1000)
    assert _evicted(client) > 0
    assert _alive(client, persistent) == persistent
    assert len(_alive(client, volatile)) < len(volatile)
    # Once no key with a TTL is left, nothing can be evicted: -OOM.
    with pytest.raises(redis.ResponseError, match="command not allowed when used memory"):
        _fill(client, "more", 400)
    assert _alive(client, persistent) == persistent
    assert client.info("keyspace")["db0"]["expires"] == 0


def test_volatile_ttl_evicts_the_soonest_expiring_first(spawn: Any) -> None:
    client = _limited(spawn, "volatile-ttl", "--maxmemory-samples", "64")
    volatile = _fill(client, "vol", 150, ttl=1000)  # vol:i expires in 1000 + i s
    _fill(client, "keep", 200)
    evicted = [k for k in volatile if not client.exists(k)]
    assert len(evicted) >= 20
    # With 64 samples of 100 candidates the choice is nearly exact: the evicted keys
    # are the soonest-expiring ones, give or take what sampling missed.
    worst = max(int(k.split(":")[1]) for k in evicted)
    assert worst < len(evicted) + 30
    assert f"vol:{len(volatile) - 1}" not in evicted


# --- evictions seen from outside --------------------------------------------------------


def test_eviction_events_stats_and_aof(spawn: Any, tmp_path: Any) -> None:
    server = spawn("respd", "--maxmemory-policy", "allkeys-random", "--appendonly", "yes",
                   "--notify-keyspace-events", "Ee", "--dir", str(tmp_path))
    client = server.client()
    pubsub = client.pubsub()
    pubsub.psubscribe("__keyevent@0__:evicted")
    assert pubsub.get_message(timeout=2)["type"] == "psubscribe"
    client.config_set("maxmemory", client.info("memory")["used_memory"] + BUDGET)
    keys = _fill(client, "k", 400)
    _settled(client, keys)
    # The dataset now sits at the limit, where any later command may evict one more key;
    # lifting the limit freezes the set of evicted keys that the events must match.
    client.config_set("maxmemory", 0)
    alive = _alive(client, keys)
    evicted = _evicted(client)
    assert evicted > 0
    seen = []
    while len(seen) < evicted:
        message = pubsub.get_message(timeout=2)
        assert message is not None, f"{len(seen)} of {evicted} 'evicted' events arrived"
        if message["type"] == "pmessage":
            seen.append(message["data"].decode())
    assert sorted(seen) == sorted(set(keys) - set(alive))
    pubsub.close()
    # Evictions reach the AOF as DEL, like expiries.
    wait_until(lambda: _aof_text(tmp_path).count("$3\r\nDEL\r\n") == evicted,
               "one DEL per eviction in the AOF")
    assert f"$3\r\nDEL\r\n${len(seen[0])}\r\n{seen[0]}\r\n" in _aof_text(tmp_path)


def _aof_text(directory: Any) -> str:
    folder = os.path.join(str(directory), "appendonlydir")
    text = ""
    for name in sorted(os.listdir(folder)):
        if name.endswith(".incr.aof"):
            with open(os.path.join(folder, name), "rb") as f:
                text += f.read().decode("latin-1")
    return text


def test_stream_and_list_workload_stays_under_the_limit(spawn: Any) -> None:
    """50k operations (XADD to streams, LPUSH to lists, over rolling keys) against a
    1 MB limit with allkeys-lru: memory stays bounded the whole time.  The 1M-operation
    version is benchmarks/memory_workload.py."""
    server = spawn("respd", "--maxmemory-policy", "allkeys-lru")
    client = server.client()
    limit = client.info("memory")["used_memory"] + 1_000_000
    client.config_set("maxmemory", limit)
    pipe = client.pipeline(transaction=False)
    peak = 0
    for i in range(50_000):
        if i % 2:
            pipe.xadd(f"stream:{i // 500}", {"field": "value-%d" % i, "n": i})
        else:
            pipe.lpush(f"list:{i // 500}", "element-%d" % i)
        if i % 1000 == 999:
            pipe.execute()
            peak = max(peak, client.info("memory")["used_memory"])
    assert _evicted(client) > 0
    assert peak <= limit + 64 * 1024  # one pipeline's growth past the last check
    assert client.dbsize() > 0


# --- access clocks ---------------------------------------------------------------------------


def test_object_idletime_and_freq(spawn: Any) -> None:
    server = spawn("respd", "--maxmemory-policy", "allkeys-lru")
    client = server.client()
    client.set("a", "1")
    client.set("b", "1")
    wait_until(lambda: client.object("idletime", "a") >= 2, "idle time grows")
    # TYPE, EXISTS, TTL and OBJECT do not count as accesses (LOOKUP_NOTOUCH)...
    client.type("a")
    client.exists("a")
    client.ttl("a")
    assert client.object("idletime", "a") >= 2
    # ...reads, writes and TOUCH do.
    client.get("a")
    client.touch("b")
    assert client.object("idletime", "a") == 0
    assert client.object("idletime", "b") == 0
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
        client.object("freq", "a")
    client.config_set("maxmemory-policy", "allkeys-lfu")
    client.config_set("lfu-log-factor", 0)
    client.set("c", "1")
    assert client.object("freq", "c") == 5
    for _ in range(10):
        client.get("c")
    client.type("c")
    assert client.object("freq", "c") == 15
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
        client.object("idletime", "c")


# --- clients ---------------------------------------------------------------------------------


def test_client_eviction_spares_no_evict_clients(spawn: Any) -> None:
    server = spawn("respd", "--maxmemory-clients", "200kb")
    admin = server.client()
    protected = socket.create_connection(("127.0.0.1", server.port))
    protected.sendall(b"*3\r\n$6\r\nCLIENT\r\n$8\r\nNO-EVICT\r\n$2\r\non\r\n")
    assert protected.recv(64) == b"+OK\r\n"
    greedy = socket.create_connection(("127.0.0.1", server.port))
    # Both send most of a 200 KB argument: together their query buffers pass the limit;
    # the protected one is the bigger, yet the other one goes.
    head = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200000\r\n"
    protected.sendall(head + b"x" * 150_000)
    greedy.sendall(head + b"x" * 120_000)
    greedy.settimeout(5)
    assert greedy.recv(64) == b""  # closed by the server
    assert admin.info("stats")["evicted_clients"] == 1
    flags = [c["flags"] for c in admin.client_list()]
    assert "e" in flags
    protected.sendall(b"x" * 50_000 + b"\r\n")
    protected.settimeout(5)
    assert protected.recv(64) == b"+OK\r\n"
    protected.close()
    greedy.close()


def test_client_recent_max_buffers(spawn: Any) -> None:
    server = spawn("respd")
    client = server.client()
    other = socket.create_connection(("127.0.0.1", server.port))
    other.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + b"x" * 60_000)
    assert eventually(lambda: client.info("clients")["client_recent_max_input_buffer"]
                      >= 60_000)
    other.close()


# --- INFO memory against redis-server ------------------------------------------------------


def test_info_memory_fields_match_redis(r: Any, redis_ref: ServerProcess) -> None:
    ours = list(r.info("memory"))
    theirs = list(redis_ref.client().info("memory"))
    assert ours == theirs


def test_used_memory_follows_the_dataset(spawn: Any) -> None:
    client = spawn("respd").client()
    before = client.info("memory")
    _fill(client, "k", 1000)
    after = client.info("memory")
    grown = after["used_memory_dataset"] - before["used_memory_dataset"]
    assert 1000 * 1000 < grown < 1000 * 1200  # 1000 values of 1000 bytes, plus keys
    assert client.memory_usage("k:0") >= 1000
    client.flushall()
    assert client.info("memory")["used_memory_dataset"] == before["used_memory_dataset"]
    assert client.info("memory")["used_memory_peak"] >= after["used_memory"]
