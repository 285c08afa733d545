"""What the dispatch fast path keeps track of, checked on respd and redis-server alike:
INFO commandstats (calls and rejected calls under one name whatever the spelling),
CLIENT LIST's cmd= (the last command looked up, even when rejected or queued), and the
slow-log threshold changed at runtime."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from compat.harness import RawConnection


@pytest.fixture(params=["respd", "redis"])
def server(request: Any) -> Any:
    """A respd or redis-server process (the reference is required under CI)."""
    return request.getfixturevalue("respd" if request.param == "respd" else "redis_ref")


def last_cmd_of(observer: Any, client_id: int) -> str:
    for fields in observer.client_list():
        if int(fields["id"]) == client_id:
            return str(fields["cmd"])
    raise AssertionError(f"client {client_id} not listed")


def test_commandstats_count_spellings_and_rejections(server: Any) -> None:
    c = server.client(decode_responses=True)
    c.flushall()
    c.config_resetstat()
    for name in ("SET", "set", "sEt"):
        c.execute_command(name, "k", "v")
    for bad in (("GET",), ("get", "a", "b")):
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            c.execute_command(*bad)
    with pytest.raises(redis.ResponseError, match="unknown command"):
        c.execute_command("nOsUcH")
    stats = c.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 3
    assert stats["cmdstat_get"]["calls"] == 0
    assert stats["cmdstat_get"]["rejected_calls"] == 2
    assert c.info("errorstats")["errorstat_ERR"] == {"count": 3}
    c.config_resetstat()
    assert "cmdstat_set" not in c.info("commandstats")
    c.close()


def test_rejections_in_multi_and_subscribed_mode_count(server: Any) -> None:
    c = server.client(decode_responses=True)
    c.config_resetstat()
    sub = RawConnection(server.port)
    sub.send([b"SUBSCRIBE", b"ch"])
    assert sub.read().startswith(b"*3\r\n$9\r\nsubscribe")
    sub.send([b"GET", b"k"])
    assert sub.read().startswith(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE")
    sub.close()
    tx = server.client(decode_responses=True)
    tx.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="not allowed inside a transaction"):
        tx.execute_command("SAVE")
    with pytest.raises(redis.ResponseError, match="previous errors"):
        tx.execute_command("EXEC")
    stats = c.info("commandstats")
    assert stats["cmdstat_get"]["rejected_calls"] == 1
    assert stats["cmdstat_save"]["rejected_calls"] == 1
    tx.close()
    c.close()


def test_client_list_shows_last_command_looked_up(server: Any) -> None:
    observer = server.client(decode_responses=True)
    other = server.client(decode_responses=True)
    other_id = other.client_id()
    other.execute_command("sEt", "k", "v")
    assert last_cmd_of(observer, other_id) == "set"
    with pytest.raises(redis.ResponseError):
        other.execute_command("GET")
    assert last_cmd_of(observer, other_id) == "get"  # rejected, still looked up
    with pytest.raises(redis.ResponseError):
        other.execute_command("NOSUCH")
    assert last_cmd_of(observer, other_id) == "NULL"
    other.execute_command("MULTI")
    other.execute_command("INCR", "n")
    assert last_cmd_of(observer, other_id) == "incr"  # queued
    assert other.execute_command("EXEC") == [1]
    assert last_cmd_of(observer, other_id) == "exec"
    other.close()
    observer.close()


def test_slowlog_threshold_follows_config_set(server: Any) -> None:
    c = server.client(decode_responses=True)
    try:
        c.config_set("slowlog-log-slower-than", -1)
        c.slowlog_reset()
        c.set("a", "1")
        assert c.slowlog_len() == 0
        c.config_set("slowlog-log-slower-than", 0)
        c.slowlog_reset()
        c.set("a", "1")
        assert [e["command"] for e in c.slowlog_get()][-2:] == [b"SET a 1", b"SLOWLOG RESET"]
    finally:
        c.config_set("slowlog-log-slower-than", 10000)
        c.slowlog_reset()
        c.close()


def test_cmd_field_names_subcommands(server: Any) -> None:
    observer = server.client(decode_responses=True)
    other = server.client(decode_responses=True)
    other_id = other.client_id()
    other.execute_command("CoNfIg", "GET", "hz")
    assert last_cmd_of(observer, other_id) == "config|get"
    assert other.client_info()["cmd"] == "client|info"
    other.close()
    observer.close()
