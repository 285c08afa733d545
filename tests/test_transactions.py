"""MULTI/EXEC/DISCARD/WATCH through real redis-py clients (RESP2 and RESP3, sync and
asyncio), and how transactions reach the AOF.  Raw reply bytes are covered by
compat/cases/tx_*.txt."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import hiredis
import pytest
import redis
import redis.asyncio

from conftest import eventually

AOF_DIR = "appendonlydir"


def test_pipeline_is_a_transaction(r: Any) -> None:
    with r.pipeline() as pipe:
        pipe.set("a", "1").incr("a").get("a")
        assert pipe.execute() == [True, 2, b"2"]


def test_queued_replies_resp3(r3: Any) -> None:
    with r3.pipeline() as pipe:
        pipe.set("a", "1").hset("h", "f", "v").hgetall("h").get("missing")
        assert pipe.execute() == [True, 1, {b"f": b"v"}, None]


def test_runtime_error_stays_in_place_and_the_rest_runs(r: Any) -> None:
    r.set("s", "text")
    with r.pipeline() as pipe:
        pipe.set("k", "v").incr("s").set("after", "yes")
        replies = pipe.execute(raise_on_error=False)
    assert replies[0] is True and replies[2] is True
    assert isinstance(replies[1], redis.ResponseError)
    assert str(replies[1]) == "value is not an integer or out of range"
    assert r.get("after") == b"yes"


def test_queue_time_error_aborts_everything(r: Any) -> None:
    with r.pipeline() as pipe:
        pipe.set("a", "1")
        pipe.execute_command("SET", "only-key")  # wrong arity: rejected at queue time
        with pytest.raises(redis.ResponseError) as info:
            pipe.execute()
    assert "EXECABORT" in str(info.value) or "wrong number of arguments" in str(info.value)
    assert r.get("a") is None


def test_transaction_helper_retries_after_a_concurrent_write(r: Any, respd: Any) -> None:
    other = respd.client()
    r.set("counter", "10")
    attempts = []

    def increment(pipe: Any) -> None:
        value = int(pipe.get("counter"))
        if not attempts:  # the first attempt is spoiled by another client's write
            other.set("counter", "100")
        attempts.append(value)
        pipe.multi()
        pipe.set("counter", value + 1)

    r.transaction(increment, "counter")
    assert attempts == [10, 100]
    assert r.get("counter") == b"101"
    other.close()


def test_watch_error_when_the_key_changes(r: Any, respd: Any) -> None:
    other = respd.client()
    with r.pipeline() as pipe:
        pipe.watch("w")
        other.set("w", "changed")
        pipe.multi()
        pipe.set("w", "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("w") == b"changed"
    other.close()


def test_watch_expiry_flush_and_swapdb_invalidate(r: Any, respd: Any) -> None:
    other = respd.client()
    for spoil in (lambda: other.flushall(), lambda: other.swapdb(0, 1),
                  lambda: other.rename("w", "w2")):
        r.set("w", "1")
        with r.pipeline() as pipe:
            pipe.watch("w")
            spoil()
            pipe.multi()
            pipe.ping()
            with pytest.raises(redis.WatchError):
                pipe.execute()
        r.flushall()
    # A key whose TTL passes between WATCH and EXEC counts as modified (Redis 7.0).
    r.set("w", "1", px=30)
    with r.pipeline() as pipe:
        pipe.watch("w")
        assert eventually(lambda: other.pttl("w") == -2, 2.0)
        pipe.multi()
        pipe.ping()
        with pytest.raises(redis.WatchError):
            pipe.execute()
    other.close()


def test_watch_untouched_or_missing_keys_lets_exec_run(r: Any, respd: Any) -> None:
    other = respd.client()
    r.set("w", "1")
    with r.pipeline() as pipe:
        pipe.watch("w", "absent")
        other.set("unrelated", "x")
        other.delete("absent")  # deleting a missing key is no change
        other.select(1)
        other.flushdb()  # another database
        pipe.multi()
        pipe.get("w")
        assert pipe.execute() == [b"1"]
    other.close()


def test_nested_multi_and_watch_inside_multi(r: Any) -> None:
    r.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="MULTI calls can not be nested"):
        r.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="WATCH inside MULTI is not allowed"):
        r.execute_command("WATCH", "x")
    assert r.execute_command("ECHO", "queued") == b"QUEUED"
    assert r.execute_command("EXEC") == [b"queued"]
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        r.execute_command("EXEC")
    with pytest.raises(redis.ResponseError, match="DISCARD without MULTI"):
        r.execute_command("DISCARD")


def test_discard_drops_the_queue_and_the_watches(r: Any, respd: Any) -> None:
    r.execute_command("WATCH", "w")
    r.execute_command("MULTI")
    r.execute_command("SET", "x", "1")
    assert r.execute_command("DISCARD") == b"OK"
    other = respd.client()
    other.set("w", "2")  # no longer watched: the next transaction runs
    r.execute_command("MULTI")
    r.execute_command("GET", "w")
    assert r.execute_command("EXEC") == [b"2"]
    assert r.get("x") is None
    other.close()


def test_blocking_commands_do_not_block_inside_exec(r: Any) -> None:
    with r.pipeline() as pipe:
        pipe.blpop(["nolist"], timeout=0).brpoplpush("nolist", "dst", timeout=0).ping()
        assert pipe.execute() == [None, None, True]


@pytest.fixture
def aclient(respd: Any) -> Any:
    return redis.asyncio.Redis(host="127.0.0.1", port=respd.port)


def test_asyncio_transaction(r: Any, aclient: Any) -> None:
    async def scenario() -> list[Any]:
        async with aclient.pipeline(transaction=True) as pipe:
            await pipe.watch("aw")
            await pipe.get("aw")
            pipe.multi()
            pipe.set("aw", "1").incr("aw")
            result = await pipe.execute()
        await aclient.aclose()
        return result

    assert asyncio.run(scenario()) == [True, 2]


def aof_commands(path: Path) -> list[list[bytes]]:
    reader = hiredis.Reader()
    reader.feed(path.read_bytes())
    commands = []
    while (argv := reader.gets()) is not False:
        commands.append(argv)
    return commands


def test_exec_writes_reach_the_aof_as_one_unit(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   workdir=str(tmp_path))
    client = server.client()
    with client.pipeline() as pipe:
        pipe.set("a", "1").get("a").incr("n").execute()
    with client.pipeline() as pipe:
        pipe.incr("single").get("single").execute()  # one write: no wrapping needed
    client.close()
    logged = aof_commands(tmp_path / AOF_DIR / "appendonly.aof.1.incr.aof")
    writes = [argv for argv in logged if argv[0].upper() != b"SELECT"]
    names = [argv[0].upper() for argv in writes]
    # Two writes form one MULTI/EXEC unit; a single write is logged alone.
    assert names[0] == b"MULTI" and names[3] == b"EXEC" and names.count(b"MULTI") == 1
    assert writes[1] == [b"SET", b"a", b"1"]
    assert len(names) == 5 and names[4].startswith(b"INCR")
    server.stop("kill")
    server.start()
    client = server.client()
    assert client.mget("a", "n", "single") == [b"1", b"1", b"1"]
    client.close()
