"""Full synchronisations larger than a stream reader's buffer: a diskless payload
(``$EOF:<mark>`` framing, no length) of several MB reaches a respd replica whole, from a
respd primary and from redis-server, and the command stream after the mark follows."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import wait_until

pytestmark = pytest.mark.slow

KEYS = 100_000


@pytest.mark.parametrize("primary_kind", ["respd", "redis"])
def test_large_diskless_full_sync(spawn: Any, primary_kind: str) -> None:
    options = ("--repl-diskless-sync-delay", "0") if primary_kind == "redis" else ()
    primary = spawn(primary_kind, *options, "--repl-diskless-sync", "yes",
                    "--enable-debug-command", "yes")
    p = primary.client()
    p.execute_command("DEBUG", "POPULATE", KEYS, "key", 32)
    replica = spawn("respd", "--replicaof", "127.0.0.1", str(primary.port))
    r = replica.client()
    wait_until(lambda: r.info("replication")["master_link_status"] == "up",
               "the full sync", timeout=60)
    assert r.dbsize() == KEYS
    assert r.get(f"key:{KEYS - 1}") == p.get(f"key:{KEYS - 1}")
    p.set("after-the-mark", "1")
    wait_until(lambda: r.get("after-the-mark") == b"1", "the stream after the payload")


def test_redis_server_finds_the_end_of_a_diskless_payload(spawn: Any) -> None:
    """A real redis-server replica finds a diskless payload's end only when the mark is
    the last thing it read: the stream (a PING at once, writes made meanwhile) must wait
    for its first REPLCONF ACK, as Redis's primary does."""
    primary = spawn("respd", "--repl-diskless-sync", "yes", "--enable-debug-command", "yes")
    p = primary.client()
    p.execute_command("DEBUG", "POPULATE", KEYS, "key", 32)
    replica = spawn("redis", "--replicaof", "127.0.0.1", str(primary.port))
    for i in range(200):  # while the sync runs
        p.set(f"during:{i}", i)
    r = replica.client()
    wait_until(lambda: r.info("replication")["master_link_status"] == "up",
               "the full sync", timeout=30)
    wait_until(lambda: r.dbsize() == KEYS + 200, "the writes made during the sync")
    assert r.get("during:199") == b"199"
