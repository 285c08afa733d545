"""Replication on Redis's protocol, proven against real redis-server 7.0.15: respd as a
primary of redis-server, as a replica of it, respd to respd, a chain, partial
resynchronisation, WAIT, ROLE, INFO, read-only replicas and PUBLISH across the link."""

from __future__ import annotations

import random
from typing import Any

import pytest

from conftest import ServerProcess, wait_until

pytestmark = pytest.mark.slow

REDIS_PRIMARY = ("--repl-diskless-sync-delay", "0")


# --- dataset dumps ---------------------------------------------------------------------


def _stream_dump(r: Any, key: bytes) -> Any:
    entries = r.xrange(key)
    groups = []
    for g in r.xinfo_groups(key):
        name = g["name"]
        pending = r.xpending_range(key, name, "-", "+", 10000)
        consumers = sorted(c["name"] for c in r.xinfo_consumers(key, name))
        # entries-read is left out: Redis's own stream does not carry it to a replica
        # (XCLAIM ... LASTID sets the ID only), redis-server → redis-server differs too.
        groups.append((name, g["last-delivered-id"],
                       sorted((p["message_id"], p["consumer"], p["times_delivered"])
                              for p in pending), consumers))
    info = r.xinfo_stream(key)
    return entries, sorted(groups), info["last-generated-id"], info.get("max-deleted-entry-id")


def dump(server: ServerProcess) -> dict[Any, Any]:
    """Every key of every database with its type, value and TTL presence."""
    out: dict[Any, Any] = {}
    for db in range(16):
        r = server.client(db=db)
        for key in r.scan_iter(count=1000):
            kind = r.type(key)
            if kind == b"string":
                value: Any = r.get(key)
            elif kind == b"list":
                value = r.lrange(key, 0, -1)
            elif kind == b"hash":
                value = sorted(r.hgetall(key).items())
            elif kind == b"set":
                value = sorted(r.smembers(key))
            elif kind == b"zset":
                value = r.zrange(key, 0, -1, withscores=True)
            elif kind == b"stream":
                value = _stream_dump(r, key)
            else:
                value = kind
            out[(db, key)] = (kind, value, r.pttl(key) > 0)
        r.close()
    return out


def mixed_writes(r: Any, n: int, seed: int = 7) -> None:
    """A few thousand writes of every family, pipelined in chunks."""
    rng = random.Random(seed)
    r.xgroup_create("s0", "g", id="0", mkstream=True)
    r.xgroup_create("s1", "g", id="0", mkstream=True)
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        k = rng.randrange(40)
        op = rng.randrange(14)
        if op == 0:
            pipe.set(f"str{k}", f"v{i}")
        elif op == 1:
            pipe.incrby(f"cnt{k}", rng.randrange(100))
        elif op == 2:
            pipe.rpush(f"list{k}", *[f"e{i}-{j}" for j in range(3)])
        elif op == 3:
            pipe.lpop(f"list{k}")
        elif op == 4:
            pipe.hset(f"hash{k}", mapping={f"f{rng.randrange(10)}": i})
        elif op == 5:
            pipe.zadd(f"zset{k}", {f"m{rng.randrange(30)}": rng.random()})
        elif op == 6:
            pipe.sadd(f"set{k}", f"m{rng.randrange(30)}")
        elif op == 7:
            pipe.xadd(f"s{k % 2}", {"i": str(i)}, maxlen=200, approximate=True)
        elif op == 8:
            pipe.xreadgroup("g", f"c{k % 3}", {f"s{k % 2}": ">"}, count=2)
        elif op == 9:
            pipe.set(f"exp{k}", i, px=rng.choice([5, 50, 100000]))
        elif op == 10:
            pipe.eval("redis.call('incr', KEYS[1]); return redis.call('lpush', KEYS[2], ARGV[1])",
                      2, f"lua{k}", f"lualist{k}", i)
        elif op == 11:
            pipe.execute_command("MULTI")
            pipe.execute_command("INCR", f"multi{k}")
            pipe.execute_command("SELECT", "3")
            pipe.execute_command("SET", f"db3-{k}", i)
            pipe.execute_command("SELECT", "0")
            pipe.execute_command("EXEC")
        elif op == 12:
            pipe.delete(f"str{rng.randrange(40)}")
        else:
            pipe.expire(f"hash{k}", 100000)
        if i % 200 == 199:
            pipe.execute()
    pipe.execute()
    # Acknowledge part of the pending entries, claim some: the PEL must match exactly.
    for s in ("s0", "s1"):
        pending = r.xpending_range(s, "g", "-", "+", 20)
        if pending:
            r.xack(s, "g", *[p["message_id"] for p in pending[:5]])
            r.xclaim(s, "g", "c9", 0, [p["message_id"] for p in pending[5:10]])


def wait_synced(primary: ServerProcess, replica: ServerProcess) -> None:
    """The replica's offset reached the primary's, and its link is up."""
    p = primary.client()
    rep = replica.client()

    def caught_up() -> bool:
        info = rep.info("replication")
        return info.get("master_link_status") == "up" and \
            info["slave_repl_offset"] >= p.info("replication")["master_repl_offset"]

    wait_until(caught_up, "the replica catches up", timeout=20)
    p.close()
    rep.close()


def settle_expiry(server: ServerProcess) -> None:
    """Let short TTLs run out on the primary: it sends the DELs."""
    r = server.client()
    wait_until(lambda: not any(r.pttl(f"exp{k}") in range(0, 1000) for k in range(40)),
               "short TTLs expire", timeout=10)
    for k in range(40):
        r.get(f"exp{k}")  # expires what the cycle has not reached yet
    r.close()


# --- tests -------------------------------------------------------------------------------


def test_redis_server_replicates_from_respd(spawn: Any) -> None:
    primary = spawn("respd")
    p = primary.client()
    p.set("before", "sync")
    p.rpush("early", *range(50))
    replica = spawn("redis", "--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    mixed_writes(p, 3000)
    settle_expiry(primary)
    wait_synced(primary, replica)
    assert dump(primary) == dump(replica)
    assert p.info("stats")["sync_full"] == 1
    role = p.execute_command("ROLE")
    assert role[0] == b"master" and role[2][0][1] == str(replica.port).encode()


def test_respd_replicates_from_redis_server_and_resumes(spawn: Any) -> None:
    primary = spawn("redis", *REDIS_PRIMARY)
    p = primary.client()
    p.set("before", "sync")
    p.xadd("early", {"a": "1"})
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    mixed_writes(p, 3000)
    settle_expiry(primary)
    wait_synced(primary, replica)
    assert dump(primary) == dump(replica)
    # A network cut: the replica reconnects and continues from the backlog.
    rep = replica.client()
    assert rep.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    p.set("after", "cut")
    wait_until(lambda: rep.get("after") == b"cut", "the write after the cut arrives")
    stats = p.info("stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
    # A replica refuses writes; reads and ROLE work.
    import redis

    with pytest.raises(redis.ReadOnlyError, match="You can't write against a read only"):
        rep.set("x", 1)
    with pytest.raises(redis.ReadOnlyError):
        rep.xreadgroup("g", "c", {"s0": ">"})
    role = rep.execute_command("ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", primary.port, b"connected"]


def test_respd_chain_and_promotion(spawn: Any) -> None:
    primary = spawn("respd")
    middle = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    leaf = spawn("respd")
    lr = leaf.client()
    assert lr.execute_command("REPLICAOF", "127.0.0.1", str(middle.port)) == b"OK"
    p = primary.client()
    mixed_writes(p, 1500, seed=3)
    settle_expiry(primary)
    wait_synced(primary, middle)
    wait_synced(middle, leaf)
    assert dump(primary) == dump(middle) == dump(leaf)
    assert middle.client().info("replication")["connected_slaves"] == 1
    # Promote the middle: the leaf continues under the new ID without a full sync.
    m = middle.client()
    old_id = m.info("replication")["master_replid"]
    assert m.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    info = m.info("replication")
    assert info["role"] == "master" and info["master_replid2"] == old_id
    m.set("promoted", 1)
    wait_until(lambda: lr.get("promoted") == b"1", "the leaf follows the promoted node")
    assert m.info("stats")["sync_partial_ok"] >= 1
    assert m.info("stats")["sync_full"] == 1


def test_wait_publish_and_info_fields(spawn: Any) -> None:
    primary = spawn("respd")
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    p = primary.client()
    rep = replica.client()
    p.set("k", "v")
    assert p.execute_command("WAIT", 1, 2000) == 1
    assert p.execute_command("WAIT", 2, 100) == 1  # times out with the count it has
    with pytest.raises(Exception, match="WAIT cannot be used with replica instances"):
        rep.execute_command("WAIT", 1, 0)
    sub = rep.pubsub()
    sub.subscribe("news")
    wait_until(lambda: sub.get_message(timeout=0.1) is not None, "subscribed")
    p.publish("news", "hello")
    wait_until(lambda: (m := sub.get_message(timeout=0.2)) is not None
               and m["data"] == b"hello", "PUBLISH reaches the replica's subscriber")
    sub.close()
    flags = {line.split("flags=")[1].split()[0]
             for line in p.execute_command("CLIENT", "LIST").decode().splitlines()}
    assert "S" in flags
    assert "flags=M" in rep.execute_command("CLIENT", "LIST").decode()


def test_info_replication_field_names_match_redis(spawn: Any) -> None:
    """The same field names in the same order as redis-server, in both roles."""
    ours_p = spawn("respd")
    ours_r = spawn("respd", "--replicaof", "127.0.0.1", str(ours_p.port))
    ref_p = spawn("redis", *REDIS_PRIMARY)
    ref_r = spawn("redis", "--replicaof", "127.0.0.1", str(ref_p.port))
    wait_synced(ours_p, ours_r)
    wait_synced(ref_p, ref_r)
    for ours, ref in ((ours_p, ref_p), (ours_r, ref_r)):
        names = [list(s.client().info("replication")) for s in (ours, ref)]
        assert names[0] == names[1]


def test_min_replicas_to_write(spawn: Any) -> None:
    primary = spawn("respd", "--min-replicas-to-write", "1")
    p = primary.client()
    with pytest.raises(Exception, match="NOREPLICAS Not enough good replicas to write."):
        p.set("k", "v")
    assert p.get("k") is None
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    assert p.set("k", "v")


def test_replica_directives_reach_the_primary(spawn: Any) -> None:
    """masteruser/masterauth, replica-announce-ip/port, replica-priority, replica-announced."""
    primary = spawn("redis", *REDIS_PRIMARY, "--requirepass", "secret")
    p = primary.client(password="secret")
    p.execute_command("ACL", "SETUSER", "repl", "on", ">pw", "+@all", "~*")
    p.set("k", "v")
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port),
                    "--masteruser", "repl", "--masterauth", "pw",
                    "--replica-announce-ip", "127.0.0.9", "--replica-announce-port", "4444",
                    "--replica-priority", "7", "--replica-announced", "no")
    rep = replica.client()
    wait_until(lambda: rep.get("k") == b"v", "the replica authenticates and syncs")
    info = p.info("replication")
    assert info["slave0"]["ip"] == "127.0.0.9" and info["slave0"]["port"] == 4444
    mine = rep.info("replication")
    assert mine["slave_priority"] == 7 and mine["replica_announced"] == 0


def test_stale_replica_refuses_reads(spawn: Any) -> None:
    from conftest import free_port

    replica = spawn("respd", "--replicaof", "127.0.0.1", str(free_port()))
    rep = replica.client()
    assert rep.get("k") is None  # stale data is served by default
    rep.config_set("replica-serve-stale-data", "no")
    # As Redis: everything but the commands flagged stale (INFO, CONFIG, REPLICAOF...).
    for command in (("GET", "k"), ("PING",)):
        with pytest.raises(Exception, match="Link with MASTER is down and replica-serve-stale"):
            rep.execute_command(*command)
    info = rep.info("replication")
    assert info["master_link_status"] == "down" and "master_link_down_since_seconds" in info


def test_small_backlog_forces_full_resync_and_pings_flow(spawn: Any) -> None:
    primary = spawn("respd", "--repl-backlog-size", "16kb", "--repl-ping-replica-period", "1",
                    "--repl-diskless-sync", "no")
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    p = primary.client()
    start = p.info("replication")["master_repl_offset"]
    wait_until(lambda: p.info("replication")["master_repl_offset"] > start,
               "PINGs advance the offset without writes")
    rep = replica.client()
    rep.execute_command("CLIENT", "KILL", "TYPE", "master")
    p.set("big", "x" * 40000)  # more than the backlog holds while the link is down
    wait_synced(primary, replica)
    assert rep.strlen("big") == 40000
    stats = p.info("stats")
    assert stats["sync_full"] == 2 and stats["sync_partial_err"] == 1


def test_demoted_primary_unblocks_its_blocked_clients(spawn: Any) -> None:
    other = spawn("respd")
    server = spawn("respd")
    blocked = server.client(socket_timeout=5)
    admin = server.client()
    import threading

    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(
        _try(lambda: blocked.blpop("queue", 0))))
    thread.start()
    wait_until(lambda: admin.info("clients")["blocked_clients"] == 1, "BLPOP parks")
    admin.execute_command("REPLICAOF", "127.0.0.1", str(other.port))
    thread.join(5)
    assert "UNBLOCKED force unblock from blocking operation, instance state changed " \
           "(master -> replica?)" in str(result[0])


def _try(fn: Any) -> Any:
    try:
        return fn()
    except Exception as err:  # the error reply is the result
        return err


def test_replica_aof_logs_the_stream(spawn: Any, tmp_path: Any) -> None:
    primary = spawn("respd")
    replica = spawn("respd", "--appendonly", "yes", "--replicaof", "127.0.0.1",
                    str(primary.port), workdir=str(tmp_path))
    wait_synced(primary, replica)
    p = primary.client()
    p.rpush("l", "a", "b")
    wait_synced(primary, replica)
    replica.stop()
    # Restarted on its own AOF, as a primary: the replicated writes are there.
    again = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path))
    assert again.client().lrange("l", 0, -1) == [b"a", b"b"]


@pytest.mark.parametrize("kind", ["respd", "redis"])
def test_replica_hides_expired_keys_until_the_primary_deletes(spawn: Any, kind: str) -> None:
    """Redis's replica semantics, checked on redis-server too: reads hide a logically
    expired key, DBSIZE still counts it, the primary's DEL removes it."""
    primary = spawn(kind, "--enable-debug-command", "yes", *(
        REDIS_PRIMARY if kind == "redis" else ()))
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    p = primary.client()
    p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    p.set("short", "v", px=1500)
    wait_synced(primary, replica)
    rep = replica.client()
    assert rep.get("short") == b"v"
    wait_until(lambda: rep.get("short") is None, "the key expires logically")
    assert p.dbsize() == 1  # still on the primary too (no active expiry)
    assert rep.exists("short") == 0 and rep.dbsize() == 1
    assert p.get("short") is None  # the primary expires it and sends DEL
    wait_until(lambda: rep.dbsize() == 0, "the primary's DEL arrives")


@pytest.mark.parametrize("target_kind", ["respd", "redis"])
def test_failover_hands_over_to_a_replica(spawn: Any, target_kind: str) -> None:
    """FAILOVER TO: writes pause, the replica catches up, promotes itself on PSYNC
    FAILOVER, and the old primary follows it with a partial resynchronisation."""
    primary = spawn("respd")
    replica = spawn(target_kind, "--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    p = primary.client()
    p.set("before", 1)
    rep = replica.client()
    with pytest.raises(Exception, match="FAILOVER target HOST and PORT is not a replica"):
        p.execute_command("FAILOVER", "TO", "127.0.0.1", "1")
    assert p.execute_command("FAILOVER", "TO", "127.0.0.1", str(replica.port),
                             "TIMEOUT", "5000") == b"OK"
    wait_until(lambda: rep.info("replication")["role"] == "master", "the target is promoted")
    wait_until(lambda: p.info("replication").get("master_link_status") == "up",
               "the old primary follows it")
    assert p.info("replication")["master_failover_state"] == "no-failover"
    rep.set("after", 2)
    wait_until(lambda: p.get("after") == b"2", "writes flow the other way")
    assert p.get("before") == b"1"
    assert rep.info("stats")["sync_full"] == 0  # the old primary continued: +CONTINUE
