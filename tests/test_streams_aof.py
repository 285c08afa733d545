"""Streams and durability: what reaches the AOF is deterministic (concrete IDs, exact
trims, XCLAIM/XGROUP SETID instead of reads), a restart and a rewrite bring back the
same streams, groups, PELs and consumers, and redis-server 7.0 loads the same files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import hiredis

from compat.harness import RawConnection
from respd.resp import RequestReader
from conftest import wait_until

AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"


def logged(workdir: Path) -> list[list[bytes]]:
    """Every command in the AOF files, in manifest order, without SELECT/MULTI/EXEC."""
    commands: list[list[bytes]] = []
    for line in (workdir / AOF_DIR / MANIFEST).read_text().splitlines():
        name = line.split()[1]
        requests, err = RequestReader().feed((workdir / AOF_DIR / name).read_bytes())
        assert err is None
        commands += [c for c in requests if c[0].upper() not in (b"SELECT", b"MULTI", b"EXEC")]
    return commands


def pairs(flat: list[Any]) -> dict[bytes, Any]:
    return dict(zip(flat[::2], flat[1::2]))


def state(server: Any, key: bytes = b"s") -> Any:
    """What must survive a restart: entries, IDs, counters, groups with their PELs and
    consumers (seen times excepted: Redis does not keep them either)."""
    conn = RawConnection(server.port)
    conn.send([b"XINFO", b"STREAM", key, b"FULL", b"COUNT", b"0"])
    reader = hiredis.Reader()
    reader.feed(conn.read())
    conn.close()
    info = pairs(reader.gets())
    groups = []
    for group in info.pop(b"groups"):
        g = pairs(group)
        g[b"consumers"] = [pairs(c) for c in g[b"consumers"]]
        for consumer in g[b"consumers"]:
            del consumer[b"seen-time"]
        groups.append(g)
    info[b"groups"] = groups
    return info


def durable(info: dict[bytes, Any]) -> dict[bytes, Any]:
    """The state without the groups' read counters: Redis 7.0 logs entries-read only
    with NOACK reads (XGROUP SETID), so after a replay they may differ; respd mirrors
    that, and the test against redis-server checks it does so exactly."""
    groups = [{k: v for k, v in g.items() if k not in (b"entries-read", b"lag")}
              for g in info[b"groups"]]
    return {**info, b"groups": groups}


def build(client: Any) -> None:
    for i in range(12):
        client.xadd("s", {"n": i})
    client.xadd("s", {"n": "t"}, maxlen=4, approximate=True)  # whole nodes only
    client.xgroup_create("s", "workers", "0")
    client.xgroup_create("s", "audit", "$")
    client.xreadgroup("workers", "alice", {"s": ">"}, count=2)
    # A NOACK read logs XGROUP SETID, and XGROUP CREATECONSUMER for a new consumer.
    client.xreadgroup("workers", "bob", {"s": ">"}, count=2, noack=True)
    client.xreadgroup("workers", "carol", {"s": ">"}, count=1)
    first = client.xrange("s", count=1)[0][0]
    client.xclaim("s", "workers", "dave", 0, [first], retrycount=7)
    client.xgroup_createconsumer("s", "workers", "idle-one")
    client.xadd("s", {"n": "late"})
    client.xdel("s", client.xrevrange("s", count=2)[1][0])  # never delivered
    client.xautoclaim("s", "workers", "erin", 0, "0", count=1)
    client.xgroup_create("empty", "g", "$", mkstream=True)  # a stream with no entries
    client.xadd("emptied", {"a": 1}, id="5-1")
    client.xdel("emptied", "5-1")


def test_propagation_restart_and_rewrite(spawn: Any, tmp_path: Path) -> None:
    workdir = tmp_path / "respd"
    workdir.mkdir()
    options = ("--appendonly", "yes", "--appendfsync", "always",
               "--stream-node-max-entries", "5")
    server = spawn("respd", *options, workdir=str(workdir))
    client = server.client()
    build(client)
    before = state(server)
    client.close()

    commands = logged(workdir)
    xadds = [c for c in commands if c[0].upper() == b"XADD"]
    assert all(b"*" not in c for c in xadds)  # generated IDs are logged concretely
    trimmed = [c for c in xadds if b"MAXLEN" in c]
    assert trimmed and trimmed[0][3] == b"=" and int(trimmed[0][4]) > 4
    assert not any(c[0].upper() == b"XREADGROUP" for c in commands)
    claims = [c for c in commands if c[0].upper() == b"XCLAIM"]
    assert claims and all(c[10:13] == [b"FORCE", b"JUSTID", b"LASTID"] for c in claims)
    assert any(c[:2] == [b"XGROUP", b"SETID"] and c[5] == b"ENTRIESREAD" for c in commands)
    assert [b"XGROUP", b"CREATECONSUMER", b"s", b"workers", b"bob"] in commands
    assert not any(c[0].upper() == b"XAUTOCLAIM" for c in commands)

    server.stop()
    server = spawn("respd", *options, workdir=str(workdir))
    client = server.client()
    replayed = state(server)
    assert durable(replayed) == durable(before)

    manifest = (workdir / AOF_DIR / MANIFEST).read_text().splitlines()
    client.bgrewriteaof()
    wait_until(lambda: (workdir / AOF_DIR / MANIFEST).read_text().splitlines()[0]
             != manifest[0], "the AOF rewrite")
    client.close()
    server.stop()
    server = spawn("respd", *options, workdir=str(workdir))
    client = server.client()
    assert durable(state(server)) == durable(before)
    assert state(server, b"empty")[b"groups"][0][b"name"] == b"g"
    emptied = state(server, b"emptied")
    assert emptied[b"length"] == 0 and emptied[b"last-generated-id"] == b"5-1"
    assert emptied[b"max-deleted-entry-id"] == b"5-1" and emptied[b"entries-added"] == 1
    client.close()
    server.stop()


def test_redis_server_loads_the_same_streams(spawn: Any, tmp_path: Path) -> None:
    workdir = tmp_path / "respd"
    workdir.mkdir()
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   "--stream-node-max-entries", "5", workdir=str(workdir))
    client = server.client()
    build(client)
    client.close()
    server.stop()
    reference_dir = tmp_path / "redis"
    shutil.copytree(workdir, reference_dir)
    reference = spawn("redis", "--appendonly", "yes", "--stream-node-max-entries", "5",
                      workdir=str(reference_dir))
    server = spawn("respd", "--appendonly", "yes", "--stream-node-max-entries", "5",
                   workdir=str(workdir))
    for key in (b"s", b"empty", b"emptied"):
        assert state(reference, key) == state(server, key)
