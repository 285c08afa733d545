"""Locks across a Sentinel failover, in two acts.

    python examples/failover.py

Redis replicates asynchronously: a primary answers a write before any replica has it.
Redis's documentation on distributed locks warns about what follows: a lock taken on a
primary that dies before the write reaches its replica is gone once Sentinel promotes
that replica, and a second client can take the same lock.

1. Without WAIT: the replication link is cut (the replica's user is disabled on the
   primary and its connection killed, as a network fault would), client A takes the lock
   on the primary (SET NX PX and the INCR of a fencing token in one script, the lock
   demo's approach), the primary is killed with SIGKILL, three real redis-sentinel
   processes promote the replica, and client B, following Sentinel with redis-py's
   ``Sentinel`` client, takes the same lock: two holders, and even the same fencing token.
2. With ``WAIT 1 timeout`` after acquiring: A trusts the lock only when a replica has
   acknowledged it.  With the link cut WAIT answers 0 and A gives up; with the link back
   it answers 1, the lock and the token counter survive the failover, B waits for A's
   lease to end and gets a newer token, and the protected resource refuses the late
   write A makes with its older token.

The demo starts its servers (per act a respd primary and a respd replica, and three
redis-sentinel processes watching both pairs) on free loopback ports and stops them at
the end.  It needs redis-sentinel (Debian package ``redis-sentinel``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from typing import Callable

import redis
from redis.sentinel import Sentinel

from demo_support import free_port, say
from distributed_lock import ACQUIRE_WITH_TOKEN, FencedStorage

# Small Sentinel timings keep the demo short: a primary silent for 1 s is subjectively
# down; the quorum of 2 makes it objectively down and starts the failover.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000
QUORUM = 2
REPL_USER, REPL_PASSWORD = "replicator", "repl-secret"  # the replica's login on its primary
LOCK, TOKEN = "report:lock", "report:token"
TIMEOUT = 30.0  # seconds for any single wait (start, discovery, failover)

# Compare-and-delete: a holder releases only its own lock.
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


# --- processes -----------------------------------------------------------------------------


class Child:
    """A server child process (respd or redis-sentinel) on a free loopback port, with a
    config file in its own directory: Sentinel rewrites its own file and sends CONFIG
    REWRITE to the instances it reconfigures."""

    def __init__(self, argv: Callable[[str], list[str]], conf: str, port: int) -> None:
        self.port = port
        self.workdir = tempfile.mkdtemp(prefix="respd-failover-demo-")
        path = os.path.join(self.workdir, "server.conf")
        with open(path, "w") as f:
            f.write(f"port {port}\nbind 127.0.0.1\n{conf}")
        self.proc = subprocess.Popen(argv(path), cwd=self.workdir, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"a server on port {self.port} did not start")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:  # never leave a stray server behind
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def respd(stack: ExitStack, conf: str) -> Child:
    child = Child(lambda path: [sys.executable, "-m", "respd", path],
                  f'save ""\nappendonly no\n{conf}', free_port())
    stack.callback(child.close)
    return child


class Pair:
    """A respd primary and its respd replica, watched by the Sentinels as ``name``."""

    def __init__(self, stack: ExitStack, name: str) -> None:
        self.name = name
        # The replica logs in as its own user, so the link can be cut from the primary.
        self.primary = respd(stack, f"user {REPL_USER} on >{REPL_PASSWORD} +@all ~*\n")
        self.replica = respd(stack, f"replicaof 127.0.0.1 {self.primary.port}\n"
                                    f"masteruser {REPL_USER}\nmasterauth {REPL_PASSWORD}\n")

    def link(self) -> str:
        return self.replica.client().info("replication")["master_link_status"]

    def cut_link(self) -> None:
        admin = self.primary.client()
        admin.acl_setuser(REPL_USER, enabled=False)
        admin.client_kill_filter(user=REPL_USER)
        wait_for(lambda: self.link() == "down", "the link to go down")

    def restore_link(self) -> None:
        admin = self.primary.client()
        admin.acl_setuser(REPL_USER, enabled=True)
        replica = self.replica.client()
        wait_for(lambda: self.link() == "up" and replica.info("replication")[
            "slave_repl_offset"] == admin.info("replication")["master_repl_offset"],
            "the replica to catch up")


def sentinels(stack: ExitStack, pairs: list[Pair]) -> list[Child]:
    exe = shutil.which("redis-sentinel")
    if exe is None:
        raise SystemExit("this demo needs redis-sentinel (Debian package redis-sentinel)")
    conf = "".join(
        f"sentinel monitor {p.name} 127.0.0.1 {p.primary.port} {QUORUM}\n"
        f"sentinel down-after-milliseconds {p.name} {DOWN_AFTER_MS}\n"
        f"sentinel failover-timeout {p.name} {FAILOVER_TIMEOUT_MS}\n" for p in pairs)
    trio = []
    for _ in range(3):
        child = Child(lambda path: [exe, path], "daemonize no\n" + conf, free_port())
        stack.callback(child.close)
        trio.append(child)
    return trio


def wait_for(predicate: Callable[[], object], what: str) -> float:
    """Poll until predicate() holds; returns the seconds it took (bounded by TIMEOUT)."""
    started = time.monotonic()
    while time.monotonic() - started < TIMEOUT:
        try:
            if predicate():
                return time.monotonic() - started
        except (redis.ConnectionError, redis.TimeoutError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def discovered(watchers: list[Child], pairs: list[Pair]) -> bool:
    """Every Sentinel knows each primary's replica and the two other Sentinels (from
    the primaries' INFO and the __sentinel__:hello channel)."""
    for watcher in watchers:
        client = watcher.client()
        for pair in pairs:
            state = client.sentinel_master(pair.name)
            if state["num-slaves"] != 1 or state["num-other-sentinels"] != 2:
                return False
    return True


# --- the lock ------------------------------------------------------------------------------


class LockClient:
    """A client taking ``LOCK`` with a fencing token through redis-py's Sentinel client:
    every connection goes to whichever instance the Sentinels name the primary."""

    def __init__(self, sentinel: Sentinel, name: str) -> None:
        self.db = sentinel.master_for(name, socket_timeout=1, decode_responses=True)
        self.acquire_script = self.db.register_script(ACQUIRE_WITH_TOKEN)
        self.release_script = self.db.register_script(RELEASE)
        self.owner = uuid.uuid4().hex

    def acquire(self, ttl_ms: int) -> int | None:
        """The fencing token, or None when someone else holds the lock."""
        token = self.acquire_script(keys=[LOCK, TOKEN], args=[self.owner, ttl_ms])
        return int(token) if token else None

    def replicas_acknowledging(self, timeout_ms: int) -> int:
        return int(self.db.execute_command("WAIT", 1, timeout_ms))

    def release(self) -> None:
        self.release_script(keys=[LOCK], args=[self.owner])


def fail_over(pair: Pair, sentinel: Sentinel) -> float:
    """SIGKILL the primary; seconds until redis-py's Sentinel client finds the replica
    promoted (MasterNotFoundError, a ConnectionError, while the Sentinels disagree)."""
    pair.primary.kill()
    return wait_for(lambda: sentinel.discover_master(pair.name)[1] == pair.replica.port,
                    "Sentinel to promote the replica")


# --- act 1: without WAIT -------------------------------------------------------------------


def act_one(pair: Pair, sentinel: Sentinel) -> None:
    ttl_ms = 30000
    say("Act 1 - a lock only the primary has seen")
    say(f"  primary :{pair.primary.port}, replica :{pair.replica.port}; three Sentinels "
        f"(quorum {QUORUM}) watch them as '{pair.name}'")
    pair.cut_link()
    say("  the replication link is cut (the replica's user is disabled on the primary, "
        "its connection killed)")
    a = LockClient(sentinel, pair.name)
    token_a = a.acquire(ttl_ms)
    acquired_at = time.monotonic()
    assert token_a is not None
    say(f"  client A takes '{LOCK}' on the primary (SET NX PX {ttl_ms} + INCR): "
        f"token {token_a}")
    on_replica = pair.replica.client().get(LOCK)
    say(f"  the primary has the lock; GET on the replica: {on_replica or '(nil)'}")
    assert on_replica is None
    took = fail_over(pair, sentinel)
    say(f"  kill -9 the primary: Sentinel promotes the replica :{pair.replica.port} "
        f"{took:.1f} s later")
    b = LockClient(sentinel, pair.name)
    token_b = b.acquire(ttl_ms)
    assert token_b is not None
    left = ttl_ms / 1000 - (time.monotonic() - acquired_at)
    say(f"  client B (following Sentinel) takes the same lock on the new primary: "
        f"token {token_b}")
    say(f"  A's lease still has {left:.0f} s to run: two clients hold '{LOCK}', "
        f"with tokens {token_a} and {token_b}")
    storage = FencedStorage()
    ok_a = storage.write(token_a, "A's report")
    ok_b = storage.write(token_b, "B's report")
    verdict = "accepted" if ok_a and ok_b else "refused one"
    say(f"  the fenced resource gets A's write (token {token_a}) and B's "
        f"(token {token_b}): {verdict}; the lost INCR handed out token {token_b} twice")
    assert token_a == token_b and ok_a and ok_b
    say()


# --- act 2: WAIT, then fencing tokens ------------------------------------------------------


def act_two(pair: Pair, sentinel: Sentinel) -> None:
    ttl_ms = 4000
    wait_ms = 500
    say("Act 2 - WAIT 1 before trusting the lock; fencing tokens on the resource")
    say(f"  a second pair: primary :{pair.primary.port}, replica :{pair.replica.port} "
        f"('{pair.name}')")
    a = LockClient(sentinel, pair.name)
    pair.cut_link()
    say("  the replication link is cut again")
    token = a.acquire(ttl_ms)
    acks = a.replicas_acknowledging(wait_ms)
    say(f"  client A takes the lock (token {token}); WAIT 1 {wait_ms} -> {acks}: "
        "no replica has it, so A releases it and does no work")
    assert token is not None and acks == 0
    a.release()
    pair.restore_link()
    say("  the link comes back; the replica catches up")
    acquired_at = time.time()
    token_a = a.acquire(ttl_ms)
    acks = a.replicas_acknowledging(wait_ms)
    say(f"  A takes the lock again (TTL {ttl_ms} ms): token {token_a}; WAIT 1 {wait_ms} "
        f"-> {acks}: a replica has the lock and the token, A holds it")
    assert token_a is not None and acks == 1
    say("  ... A stalls before writing (a GC pause, a slow disk) ...")
    took = fail_over(pair, sentinel)
    say(f"  kill -9 the primary: Sentinel promotes the replica {took:.1f} s later")
    new_primary = pair.replica.client()
    left = new_primary.pttl(LOCK)
    counter = int(new_primary.get(TOKEN) or 0)
    held = f"the lock with {left} ms left" if left > 0 else "no lock (A's lease has ended)"
    say(f"  the new primary has {held}, and the token counter at {counter}")
    assert counter == token_a
    b = LockClient(sentinel, pair.name)
    refused = 0
    token_b = None
    while token_b is None:
        token_b = b.acquire(ttl_ms)
        if token_b is None:
            refused += 1
            time.sleep(0.05)
    waited = time.time() - acquired_at
    say(f"  client B waits for the lock ({refused} refusals): it gets it {waited:.1f} s "
        f"after A took it, with token {token_b}")
    # Never while A's lease ran: both clocks are this machine's.
    assert waited >= ttl_ms / 1000 and token_b > token_a
    storage = FencedStorage()
    ok_b = storage.write(token_b, "B's report")
    ok_a = storage.write(token_a, "A's stale report")
    say(f"  B writes with token {token_b}: {'accepted' if ok_b else 'rejected'}; A wakes "
        f"up and writes with token {token_a}: {'accepted' if ok_a else 'rejected'}")
    say(f"  the resource keeps {storage.value!r}")
    assert ok_b and not ok_a
    say()


def main() -> None:
    started_at = time.monotonic()
    with ExitStack() as stack:
        pairs = [Pair(stack, "lock-nowait"), Pair(stack, "lock-wait")]
        for pair in pairs:  # all started above; now wait for them together
            pair.primary.wait_ready()
            pair.replica.wait_ready()
        for pair in pairs:
            wait_for(lambda: pair.link() == "up", "the replicas to synchronise")
        watchers = sentinels(stack, pairs)
        for watcher in watchers:
            watcher.wait_ready()
        wait_for(lambda: discovered(watchers, pairs), "the Sentinels to discover everything")
        sentinel = Sentinel([("127.0.0.1", w.port) for w in watchers], socket_timeout=1)
        act_one(pairs[0], sentinel)
        act_two(pairs[1], sentinel)
    say(f"Done in {time.monotonic() - started_at:.1f} s; servers stopped.")


if __name__ == "__main__":
    main()
