"""rdbcompression: strings over 20 bytes are LZF-compressed in RDB files and DUMP payloads
while it is yes (Redis's default), written plainly when it is no.  respd's compressed
files pass redis-check-rdb and load in redis-server; redis-server's load in respd."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import Lockstep, ServerProcess
from respd.storage import lzf
from tests.test_aof import fill_every_type, snapshot_of

LONG = b"compressible " * 40  # 520 bytes that LZF shrinks


def _fill(client: Any) -> None:
    fill_every_type(client)
    client.set("long", LONG)
    client.hset("long-hash", mapping={b"field-" * 5: LONG})
    client.rpush("long-list", LONG, LONG + b"!")
    client.zadd("long-zset", {LONG: 1})
    client.xadd("long-stream", {b"k": LONG})
    client.xgroup_create("long-stream", b"group-" * 5, id="0")
    client.xreadgroup(b"group-" * 5, b"consumer-" * 5, {"long-stream": ">"})


def _saved(server: ServerProcess, setting: str) -> bytes:
    client = server.client()
    client.config_set("rdbcompression", setting)
    client.save()
    return (Path(server.workdir) / "dump.rdb").read_bytes()


@pytest.mark.parametrize("setting", ["yes", "no"])
def test_rdbcompression_files_load_in_redis_and_respd(spawn: Any, tool: Any, tmp_path: Path,
                                                      setting: str) -> None:
    source = spawn("respd", workdir=str(tmp_path))
    _fill(source.client())
    expected = snapshot_of(source.client())
    data = _saved(source, setting)
    assert (LONG in data) == (setting == "no")  # compressed, or written as it is
    check = subprocess.run([tool("redis-check-rdb"), str(tmp_path / "dump.rdb")],
                           capture_output=True, text=True)
    assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout
    for kind in ("redis", "respd"):  # each loads the file, respd writes it back the same
        workdir = tmp_path / kind
        workdir.mkdir()
        shutil.copy(tmp_path / "dump.rdb", workdir / "dump.rdb")
        loaded = spawn(kind, workdir=str(workdir))
        assert snapshot_of(loaded.client()) == expected, kind


def test_compression_shrinks_the_file_like_redis(spawn: Any) -> None:
    """Both servers' files shrink by compression; respd's compressed strings are liblzf's
    bytes, as redis-server writes them."""
    sizes = {}
    for kind in ("redis", "respd"):
        server = spawn(kind)
        server.client().set("long", LONG)
        compressed, plain = _saved(server, "yes"), _saved(server, "no")
        sizes[kind] = len(plain) - len(compressed)
        packed = lzf.compress(LONG, len(LONG) - 4)
        assert packed is not None and packed in compressed and LONG in plain, kind
    assert sizes["redis"] == sizes["respd"] > 400


def test_dump_follows_rdbcompression_like_redis(lockstep: Lockstep) -> None:
    lockstep.same("SET", "long", LONG)
    lockstep.same("RPUSH", "list", LONG, "x" * 30)
    for setting in ("no", "yes"):
        lockstep.same("CONFIG", "SET", "rdbcompression", setting)
        lockstep.same("CONFIG", "GET", "rdbcompression")
        lockstep.same("DUMP", "long")
        lockstep.same("DUMP", "list")


def test_lzf_round_trip_and_corrupt_input() -> None:
    for data in (LONG, bytes(range(256)) * 3, b"a" * 300, b"ab" * 1000):
        packed = lzf.compress(data, len(data) - 4)
        assert packed is not None and lzf.decompress(packed, len(data)) == data
    assert lzf.compress(bytes(range(100)), 96) is None  # nothing to gain
    assert lzf.decompress(b"\x20\xff", 10) is None  # a reference before the start
    assert lzf.decompress(b"\xe0", 10) is None  # a truncated long reference
    assert lzf.decompress(b"\x01a", 2) is None  # a short literal run
