"""The append-only file: layout, replay, truncation and corruption, rewrite, snapshots,
and exchange with redis-server 7.0 (which loads respd's directory and vice versa)."""

from __future__ import annotations

import datetime
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from compat.harness import RawConnection
from respd.config import Config
from respd.resp import encode_request
from respd.server import Server
from conftest import wait_until

AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"


def aof_options(*extra: str) -> tuple[str, ...]:
    return ("--appendonly", "yes", "--appendfsync", "always", *extra)


def manifest_lines(workdir: Path) -> list[str]:
    return (workdir / AOF_DIR / MANIFEST).read_text().splitlines()


def wait_rewrite(workdir: Path, before: list[str]) -> None:
    """A rewrite is done when the manifest names a new base file."""
    wait_until(lambda: manifest_lines(workdir)[0] != before[0], "the AOF rewrite")


def dataset(client: Any) -> dict[bytes, Any]:
    """Every string key of db 0 with its value."""
    return {key: client.get(key) for key in client.keys("*")}


# --- in-process loading (the real Server, no network) --------------------------------------


def write_aof(workdir: Path, base: bytes, incr: bytes) -> Path:
    """A 7.0 multi-part AOF directory holding ``base`` and one incr file."""
    directory = workdir / AOF_DIR
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "appendonly.aof.1.base.aof").write_bytes(base)
    (directory / "appendonly.aof.1.incr.aof").write_bytes(incr)
    (directory / MANIFEST).write_text(
        "file appendonly.aof.1.base.aof seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    return directory / "appendonly.aof.1.incr.aof"


def load_server(workdir: Path, *options: tuple[str, str]) -> Server:
    config = Config()
    config.set("dir", str(workdir).encode())
    config.set("appendonly", b"yes")
    config.set("save", b"")
    for name, value in options:
        config.set(name, value.encode())
    server = Server(config)
    try:
        server.persistence.startup()
    finally:
        server.persistence.shutdown()
    return server


def commands(*argvs: list[bytes]) -> bytes:
    return b"".join(encode_request(argv) for argv in argvs)


SELECT0 = [b"SELECT", b"0"]


def test_truncated_last_command_loads_up_to_the_previous_one(tmp_path: Path) -> None:
    head = commands(SELECT0, [b"SET", b"a", b"1"], [b"SET", b"b", b"2"])
    last = encode_request([b"SET", b"c", b"3"])
    for cut in range(len(last)):
        workdir = tmp_path / f"cut{cut}"
        incr = write_aof(workdir, b"", head + last[:cut])
        server = load_server(workdir)
        assert server.dbs[0].data == {b"a": b"1", b"b": b"2"}, cut
        # The torn command is cut from the file, so the next start is clean.
        assert incr.read_bytes() == head
    write_aof(tmp_path / "whole", b"", head + last)
    assert load_server(tmp_path / "whole").dbs[0].data[b"c"] == b"3"


def test_unfinished_multi_at_the_end_is_discarded(tmp_path: Path) -> None:
    head = commands(SELECT0, [b"SET", b"a", b"1"])
    unit = commands([b"MULTI"], [b"SET", b"a", b"2"], [b"SET", b"b", b"2"])
    incr = write_aof(tmp_path, b"", head + unit)
    server = load_server(tmp_path)
    assert server.dbs[0].data == {b"a": b"1"}
    assert incr.read_bytes() == head
    write_aof(tmp_path, b"", head + unit + commands([b"EXEC"]))
    assert load_server(tmp_path).dbs[0].data == {b"a": b"2", b"b": b"2"}


def test_truncation_is_fatal_when_aof_load_truncated_is_no(tmp_path: Path) -> None:
    write_aof(tmp_path, b"", commands(SELECT0, [b"SET", b"a", b"1"])[:-3])
    with pytest.raises(SystemExit) as exit_info:
        load_server(tmp_path, ("aof-load-truncated", "no"))
    assert exit_info.value.code == 1


def test_truncated_base_is_fatal(tmp_path: Path) -> None:
    base = commands(SELECT0, [b"SET", b"a", b"1"])
    write_aof(tmp_path, base[:-2], commands([b"SET", b"b", b"2"]))
    with pytest.raises(SystemExit):
        load_server(tmp_path)


def test_replay_keeps_expiry_times_and_selects_databases(tmp_path: Path) -> None:
    future = b"%d" % (int(time.time() * 1000) + 3_600_000)
    write_aof(tmp_path, commands(SELECT0, [b"SET", b"a", b"1"]), commands(
        [b"SELECT", b"3"], [b"SET", b"b", b"2"], [b"PEXPIREAT", b"b", future],
        # Loading never expires keys (Redis neither): INCR sees the old value.
        [b"SET", b"old", b"1"], [b"PEXPIREAT", b"old", b"1"], [b"INCR", b"old"]))
    server = load_server(tmp_path)
    assert server.dbs[0].data == {b"a": b"1"}
    assert server.dbs[3].data[b"b"] == b"2"
    assert server.dbs[3].expires[b"b"] == int(future)
    assert server.dbs[3].data[b"old"] == b"2"
    assert server.dirty == 0


def test_garbage_in_the_middle_refuses_to_start(spawn: Any, tmp_path: Path) -> None:
    good = commands(SELECT0, [b"SET", b"a", b"1"])
    write_aof(tmp_path, b"", good + b"garbage!\r\n" + commands([b"SET", b"b", b"2"]))
    with pytest.raises(RuntimeError) as failure:
        spawn("respd", *aof_options(), workdir=str(tmp_path))
    message = str(failure.value)
    assert "server exited early" in message
    assert ("Bad file format reading the append only file appendonly.aof.1.incr.aof at "
            f"offset {len(good)}") in message


def test_torn_last_write_is_cut_at_restart(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", *aof_options(), workdir=str(tmp_path))
    r = server.client()
    r.set("kept", "1")
    r.set("torn", "2")
    server.stop("kill")
    incr = tmp_path / AOF_DIR / "appendonly.aof.1.incr.aof"
    incr.write_bytes(incr.read_bytes()[:-5])  # the crash tore the last command
    server.start()
    assert server.client().mget("kept", "torn") == [b"1", None]
    assert "Truncating the AOF appendonly.aof.1.incr.aof at offset" in server.log()
    assert "loaded anyway because aof-load-truncated is enabled" in server.log()


def test_unknown_command_refuses_to_start(tmp_path: Path) -> None:
    write_aof(tmp_path, b"", commands(SELECT0, [b"NOSUCHCOMMAND", b"x"]))
    with pytest.raises(SystemExit):
        load_server(tmp_path)


# --- the server end to end ------------------------------------------------------------------


def test_fresh_start_layout_and_restart(spawn: Any, tool: Any, tmp_path: Path) -> None:
    server = spawn("respd", *aof_options(), workdir=str(tmp_path))
    # Redis's default aof-use-rdb-preamble yes: the base is an RDB file.
    assert manifest_lines(tmp_path) == ["file appendonly.aof.1.base.rdb seq 1 type b",
                                        "file appendonly.aof.1.incr.aof seq 1 type i"]
    r = server.client()
    r.set("a", "1")
    r.set("ttl", "x", ex=1000)
    r.incr("n")
    r.incr("n")
    r5 = server.client(db=5)
    r5.set("in5", "five")
    check = subprocess.run([tool("redis-check-aof"), str(tmp_path / AOF_DIR / MANIFEST)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All AOF files and manifest are valid" in check.stdout
    ttl_before = r.pttl("ttl")
    server.stop("kill")
    server.start()
    r = server.client()
    assert r.get("a") == b"1" and r.get("n") == b"2"
    assert 0 < r.pttl("ttl") <= ttl_before
    assert server.client(db=5).get("in5") == b"five"


def test_bgrewriteaof_compacts_and_keeps_later_writes(spawn: Any, tool: Any,
                                                     tmp_path: Path) -> None:
    server = spawn("respd", *aof_options(), workdir=str(tmp_path))
    r = server.client()
    for i in range(200):
        r.incr("counter")
    r.set("expiring", "v", px=3_600_000)
    before = manifest_lines(tmp_path)
    size_before = sum(f.stat().st_size for f in (tmp_path / AOF_DIR).iterdir())
    assert r.bgrewriteaof() is True
    wait_rewrite(tmp_path, before)
    r.set("after", "rewrite")
    assert manifest_lines(tmp_path) == ["file appendonly.aof.2.base.rdb seq 2 type b",
                                        "file appendonly.aof.2.incr.aof seq 2 type i"]
    names = sorted(os.listdir(tmp_path / AOF_DIR))
    assert names == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", MANIFEST]
    size_after = sum(f.stat().st_size for f in (tmp_path / AOF_DIR).iterdir())
    assert size_after < size_before
    check = subprocess.run([tool("redis-check-aof"), str(tmp_path / AOF_DIR / MANIFEST)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    server.stop("kill")
    server.start()
    r = server.client()
    assert r.get("counter") == b"200" and r.get("after") == b"rewrite"
    assert r.pttl("expiring") > 3_500_000


def test_rewrite_under_write_load_loses_nothing(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", *aof_options("--appendfsync", "everysec"), workdir=str(tmp_path))
    stop = threading.Event()

    def writer(tid: int) -> None:
        r = server.client()
        n = 0
        while not stop.is_set():
            r.set(f"w{tid}:{n % 300}", n)
            r.incr(f"count{tid}")
            n += 1

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
    for t in threads:
        t.start()
    r = server.client()
    try:
        for _ in range(3):
            before = manifest_lines(tmp_path)
            time.sleep(0.2)
            r.bgrewriteaof()
            wait_rewrite(tmp_path, before)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    expected = dataset(r)
    assert len(expected) > 3
    server.stop("term")  # SHUTDOWN path: flush and fsync even with everysec
    server.start()
    assert dataset(server.client()) == expected


def test_bgrewriteaof_twice_reports_in_progress(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", *aof_options(), workdir=str(tmp_path))
    r = server.client()
    r.mset({f"k{i}": "x" * 100 for i in range(20000)})
    before = manifest_lines(tmp_path)
    conn = RawConnection(server.port)
    replies = []
    for _ in range(2):
        conn.send([b"BGREWRITEAOF"])
        replies.append(conn.read())
    conn.close()
    assert replies[0] == b"+Background append only file rewriting started\r\n"
    # The child may already have finished: then a second rewrite starts.
    assert replies[1] in (b"-ERR Background append only file rewriting already in progress\r\n",
                          replies[0])
    wait_rewrite(tmp_path, before)


def test_save_bgsave_lastsave_and_restart_from_snapshot(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", workdir=str(tmp_path))
    r = server.client()
    r.set("snap", "shot")
    r.set("ttl", "v", px=3_600_000)
    before = r.lastsave()
    assert r.save() is True
    assert (tmp_path / "dump.rdb").exists()
    assert r.lastsave() >= before
    r.set("later", "1")
    assert r.bgsave() is True
    wait_until(lambda: b"later" in (tmp_path / "dump.rdb").read_bytes(), "BGSAVE")
    with pytest.raises(Exception, match="syntax error"):
        r.execute_command("BGSAVE", "now")
    server.stop("kill")
    server.start()
    r = server.client()
    assert r.get("snap") == b"shot" and r.get("later") == b"1"
    assert r.pttl("ttl") > 3_500_000


def test_failed_saves_report_errors(spawn: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = spawn("respd", "--dir", str(data_dir), workdir=str(tmp_path))
    data_dir.rmdir()  # the disk went away
    conn = RawConnection(server.port)
    conn.send([b"SAVE"])
    assert conn.read() == b"-ERR\r\n"
    conn.send([b"BGSAVE"])
    assert conn.read() == b"+Background saving started\r\n"
    conn.close()
    r = server.client()
    wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, "the BGSAVE child")
    assert r.info("persistence")["rdb_last_bgsave_status"] == "err"


def test_shutdown_saves_when_save_points_are_configured(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", "--save", "3600 1", workdir=str(tmp_path))
    server.client().set("kept", "by shutdown")
    server.stop("term")
    assert (tmp_path / "dump.rdb").exists()
    server.start()
    assert server.client().get("kept") == b"by shutdown"
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    plain = spawn("respd", workdir=str(plain_dir))  # --save "": no snapshot at exit
    plain.client().set("not", "saved")
    plain.stop("term")
    assert not (plain_dir / "dump.rdb").exists()


def test_snapshot_is_an_rdb_file_redis_check_rdb_accepts(spawn: Any, tool: Any,
                                                        tmp_path: Path) -> None:
    server = spawn("respd", workdir=str(tmp_path))
    r = server.client()
    fill_every_type(r)
    r.save()
    check = subprocess.run([tool("redis-check-rdb"), str(tmp_path / "dump.rdb")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Checksum OK" in check.stdout and "RDB looks OK" in check.stdout


def test_corrupt_snapshot_refuses_to_start(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", workdir=str(tmp_path))
    server.client().set("k", "v")
    server.client().save()
    server.stop("term")
    dump = tmp_path / "dump.rdb"
    data = bytearray(dump.read_bytes())
    data[-12] ^= 0xFF  # inside the value: the checksum no longer matches
    dump.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="Wrong RDB checksum"):
        server.start()
    dump.write_bytes(bytes(data[:-20]))
    with pytest.raises(RuntimeError, match="Unexpected EOF reading RDB file"):
        server.start()


def test_redis_server_loads_respd_snapshot_and_back(spawn: Any, tmp_path: Path) -> None:
    respd = spawn("respd", workdir=str(tmp_path))
    r = respd.client()
    fill_every_type(r)
    r.set("int", 12345)
    expected = snapshot_of(r)
    r.save()
    respd.stop("term")
    redis = spawn("redis", workdir=str(tmp_path))
    ref = redis.client()
    assert snapshot_of(ref) == expected
    # redis-server's own encodings (listpacks, intsets, quicklists, int and LZF strings)
    # come back to respd.
    ref.set("long", "abc" * 100)
    ref.sadd("ints", 1, 2, 300000, -5)
    ref.hset("small", "f", "v")
    ref.zadd("smallz", {"m": 2.5})
    ref.rpush("smalll", "x", 7)
    expected = snapshot_of(ref)
    ref.save()
    redis.stop("term")
    respd.start()
    assert snapshot_of(respd.client()) == expected


def test_commands_over_resp3_and_redis_cli(r3: Any, respd: Any, tool: Any) -> None:
    assert isinstance(r3.lastsave(), datetime.datetime)
    assert r3.bgsave(schedule=True) == b"Background saving started"
    wait_until(lambda: r3.info("persistence")["rdb_bgsave_in_progress"] == 0, "BGSAVE")
    cli = subprocess.run([tool("redis-cli"), "-p", str(respd.port), "-3", "BGREWRITEAOF"],
                         capture_output=True, text=True, timeout=10)
    assert cli.stdout.strip() == "Background append only file rewriting started"
    wait_until(lambda: r3.info("persistence")["aof_rewrite_in_progress"] == 0, "rewrite")
    assert r3.info("persistence")["aof_last_bgrewrite_status"] == "ok"


# --- exchange with redis-server 7.0 ----------------------------------------------------------


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_server_loads_respd_aof(spawn: Any, tmp_path: Path, preamble: str) -> None:
    respd = spawn("respd", *aof_options("--aof-use-rdb-preamble", preamble),
                  workdir=str(tmp_path))
    r = respd.client()
    r.set("s", "v")
    r.set("t", "x", px=3_600_000)
    for _ in range(5):
        r.incr("n")
    respd.client(db=2).set("two", "2")
    before = manifest_lines(tmp_path)
    r.bgrewriteaof()
    wait_rewrite(tmp_path, before)
    r.set("post", "rewrite")
    respd.stop("term")
    redis = spawn("redis", *aof_options("--aof-use-rdb-preamble", preamble),
                  workdir=str(tmp_path))
    ref = redis.client()
    assert ref.mget("s", "n", "post") == [b"v", b"5", b"rewrite"]
    assert ref.pttl("t") > 3_500_000
    assert redis.client(db=2).get("two") == b"2"


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_respd_loads_redis_server_aof(spawn: Any, tmp_path: Path, preamble: str) -> None:
    redis = spawn("redis", *aof_options("--aof-use-rdb-preamble", preamble),
                  workdir=str(tmp_path))
    ref = redis.client()
    ref.set("s", "v")
    ref.set("t", "x", ex=3600)
    ref.incrbyfloat("f", "1.5")
    ref.execute_command("BGREWRITEAOF")
    wait_until(lambda: ref.info("persistence")["aof_rewrite_in_progress"] == 0
             and ref.info("persistence")["aof_rewrite_scheduled"] == 0, "redis rewrite")
    ref.incr("n")
    redis.client(db=1).set("one", "1")
    redis.stop("term")
    respd = spawn("respd", *aof_options(), workdir=str(tmp_path))
    r = respd.client()
    assert r.mget("s", "f", "n") == [b"v", b"1.5", b"1"]
    assert r.pttl("t") > 3_500_000
    assert respd.client(db=1).get("one") == b"1"


# --- rewrite of every data type, runtime switches, INFO ---------------------------------------


def snapshot_of(client: Any) -> dict[bytes, Any]:
    """Every key of db 0 as (type, contents, ttl present) through read commands."""
    readers: dict[bytes, Callable[[bytes], Any]] = {
        b"string": client.get,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        b"hash": client.hgetall,
        b"set": client.smembers,
        b"stream": lambda k: stream_state(client, k),
    }
    result = {}
    for key in client.keys("*"):
        kind = client.type(key)
        result[key] = (kind, readers[kind](key), client.pttl(key) > 0)
    return result


def stream_state(client: Any, key: bytes) -> Any:
    """Entries, groups (without times) and PELs with owners and delivery counts."""
    groups = []
    for group in client.xinfo_groups(key):
        pending = client.xpending_range(key, group["name"], "-", "+", 1000)
        groups.append((group["name"], group["last-delivered-id"], group["entries-read"],
                       group["pending"], sorted(c["name"] for c in
                                                client.xinfo_consumers(key, group["name"])),
                       [(p["message_id"], p["consumer"], p["times_delivered"])
                        for p in pending]))
    info = client.xinfo_stream(key)
    return (client.xrange(key), groups, info["last-generated-id"], info["entries-added"],
            info["max-deleted-entry-id"])


def fill_every_type(r: Any) -> None:
    r.set("str", "v")
    r.set("bin", bytes(range(256)))
    r.rpush("list", *[f"e{i}" for i in range(150)])  # several RPUSH commands
    r.zadd("zset", {"a": 1.5, "b": -0.1, "c": 1e300, "inf": float("inf"), "third": 1 / 3})
    r.pexpire("list", 3_600_000)
    for i in range(5):
        r.xadd("stream", {"n": i}, id=f"{i + 1}-1")
    r.xdel("stream", "5-1")
    r.xgroup_create("stream", "g1", id="0")
    r.xgroup_create("stream", "g2", id="$")
    r.xreadgroup("g1", "alice", {"stream": ">"}, count=2)
    r.xreadgroup("g1", "bob", {"stream": ">"}, count=1)
    r.xreadgroup("g1", "alice", {"stream": "0"})  # second delivery of alice's entries
    r.xack("stream", "g1", "1-1")
    r.xgroup_createconsumer("stream", "g2", "idle")
    r.xadd("empty", {"x": "y"}, id="7-7")
    r.xdel("empty", "7-7")
    r.hset("hash", mapping={f"f{i}": f"v{i}" for i in range(100)})
    r.sadd("set", *range(70))
    r.sadd("words", "x", "y", "z")


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_rewrite_preserves_every_type(spawn: Any, tmp_path: Path, preamble: str) -> None:
    server = spawn("respd", *aof_options("--aof-use-rdb-preamble", preamble),
                   workdir=str(tmp_path))
    r = server.client()
    fill_every_type(r)
    expected = snapshot_of(r)
    before = manifest_lines(tmp_path)
    r.bgrewriteaof()
    wait_rewrite(tmp_path, before)
    assert manifest_lines(tmp_path)[0].split()[1].endswith(
        ".rdb" if preamble == "yes" else ".aof")
    server.stop("kill")
    server.start()
    assert snapshot_of(server.client()) == expected


LIBRARY = "#!lua name=persisted\nredis.register_function('hello', function() return 'hi' end)"


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_function_libraries_survive_a_rewrite(spawn: Any, tmp_path: Path,
                                              preamble: str) -> None:
    server = spawn("respd", *aof_options("--aof-use-rdb-preamble", preamble),
                   workdir=str(tmp_path))
    r = server.client()
    r.function_load(LIBRARY)
    before = manifest_lines(tmp_path)
    r.bgrewriteaof()
    wait_rewrite(tmp_path, before)
    server.stop("kill")
    server.start()
    assert server.client().fcall("hello", 0) == b"hi"


def test_function_libraries_in_snapshots_reach_redis_server(spawn: Any,
                                                             tmp_path: Path) -> None:
    server = spawn("respd", workdir=str(tmp_path))
    server.client().function_load(LIBRARY)
    server.client().save()
    server.stop("term")
    server.start()
    assert server.client().fcall("hello", 0) == b"hi"
    server.stop("term")
    redis = spawn("redis", workdir=str(tmp_path))
    assert redis.client().fcall("hello", 0) == b"hi"


def test_config_set_appendonly_at_runtime(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", workdir=str(tmp_path))
    r = server.client()
    r.set("before", "1")
    assert r.info("persistence")["aof_enabled"] == 0
    assert r.config_set("appendonly", "yes") is True
    # Turning it on writes a base with the data so far (a rewrite), then logs new writes.
    wait_until(lambda: (tmp_path / AOF_DIR / MANIFEST).exists(), "the first AOF base")
    r.set("after", "2")
    info = r.info("persistence")
    assert info["aof_enabled"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    r.config_set("appendfsync", "always")
    r.incr("after")
    server.stop("kill")
    restarted = spawn("respd", "--appendonly", "yes", workdir=str(tmp_path))
    r = restarted.client()
    assert r.mget("before", "after") == [b"1", b"3"]
    r.config_set("appendonly", "no")
    assert r.info("persistence")["aof_enabled"] == 0
    r.set("unlogged", "x")  # nothing is written anywhere any more
    assert b"unlogged" not in b"".join(f.read_bytes() for f in (tmp_path / AOF_DIR).iterdir())


def test_enabling_at_runtime_replaces_files_of_an_earlier_run(spawn: Any,
                                                              tmp_path: Path) -> None:
    first = spawn("respd", *aof_options(), workdir=str(tmp_path))
    first.client().set("old", "1")
    first.stop("term")
    second = spawn("respd", workdir=str(tmp_path))  # appendonly no: the files are ignored
    r = second.client()
    r.set("new", "2")
    r.config_set("appendonly", "yes")
    wait_until(lambda: manifest_lines(tmp_path)[0].startswith("file appendonly.aof.2.base"),
             "the new base")
    r.set("newer", "3")
    second.stop("kill")
    third = spawn("respd", *aof_options(), workdir=str(tmp_path))
    r = third.client()
    assert sorted(r.keys("*")) == [b"new", b"newer"]
    assert sorted(os.listdir(tmp_path / AOF_DIR)) == [
        "appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", MANIFEST]


def test_info_persistence_fields(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", *aof_options(), workdir=str(tmp_path))
    r = server.client()
    r.set("k", "v")
    info = r.info("persistence")
    for name in ("loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress",
                 "rdb_last_save_time", "rdb_last_bgsave_status", "aof_enabled",
                 "aof_rewrite_in_progress", "aof_rewrite_scheduled",
                 "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec",
                 "aof_last_bgrewrite_status", "aof_last_write_status", "aof_current_size",
                 "aof_base_size"):
        assert name in info, name
    assert info["aof_enabled"] == 1 and info["loading"] == 0
    assert info["rdb_changes_since_last_save"] == 1
    files = [tmp_path / AOF_DIR / line.split()[1] for line in manifest_lines(tmp_path)]
    assert info["aof_current_size"] == sum(f.stat().st_size for f in files)
    r.save()
    assert r.info("persistence")["rdb_changes_since_last_save"] == 0


def test_automatic_rewrite_on_growth(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", *aof_options("--auto-aof-rewrite-min-size", "64kb",
                                         "--auto-aof-rewrite-percentage", "100"),
                   workdir=str(tmp_path))
    r = server.client()
    before = manifest_lines(tmp_path)
    pipe = r.pipeline(transaction=False)
    for i in range(3000):
        pipe.set("same-key", "x" * 40)
    pipe.execute()
    wait_rewrite(tmp_path, before)
    assert r.get("same-key") == b"x" * 40
    base = tmp_path / AOF_DIR / manifest_lines(tmp_path)[0].split()[1]
    assert base.stat().st_size < 1000  # one key left after compaction
