"""Blocking list and sorted-set pops with several real clients (redis-py sync and
asyncio): FIFO fairness, key order, timeouts, BLMOVE chains, and what gets propagated."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
import redis
import redis.asyncio

from conftest import wait_until
from respd.resp import encode_request

WAIT = 10.0  # upper bound for every wait; never an assertion on speed


def wait_blocked(r: Any, n: int) -> None:
    """Until INFO reports n blocked clients, so the next one queues behind them."""
    wait_until(lambda: r.info("clients")["blocked_clients"] >= n, f"{n} blocked clients", WAIT)


class Waiter:
    """A client running one blocking call in a thread; .result() joins with a bound."""

    def __init__(self, respd: Any, call: Callable[[Any], Any], protocol: int = 2) -> None:
        self.client = respd.client(protocol=protocol, socket_timeout=WAIT)
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call: Callable[[Any], Any]) -> None:
        try:
            self.value = call(self.client)
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def result(self) -> Any:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "blocked call never returned"
        self.client.close()
        if self.error is not None:
            raise self.error
        return self.value


def test_fifo_among_blocked_clients(r: Any, respd: Any) -> None:
    waiters = []
    for i in range(3):
        waiters.append(Waiter(respd, lambda c: c.blpop(["q"], 0)))
        wait_blocked(r, i + 1)
    assert r.rpush("q", "1", "2", "3") == 3
    assert [w.result() for w in waiters] == [(b"q", b"1"), (b"q", b"2"), (b"q", b"3")]
    assert r.exists("q") == 0


def test_served_push_is_invisible_to_others(r: Any, respd: Any) -> None:
    waiter = Waiter(respd, lambda c: c.brpop(["q"], 0))
    wait_blocked(r, 1)
    # The push and the serve happen in one step: the element is never observable.
    pipe = r.pipeline(transaction=False)
    pipe.rpush("q", "x").llen("q")
    assert pipe.execute() == [1, 0]
    assert waiter.result() == (b"q", b"x")


def test_first_ready_key_in_argument_order(r: Any) -> None:
    r.rpush("k3", "c")
    r.rpush("k2", "b")
    assert r.blpop(["k1", "k2", "k3"], 1) == (b"k2", b"b")
    assert r.brpop(["k1", "k2", "k3"], 1) == (b"k3", b"c")


def test_woken_by_any_key(r: Any, respd: Any) -> None:
    waiter = Waiter(respd, lambda c: c.blpop(["a", "b", "c"], 0))
    wait_blocked(r, 1)
    r.lpush("c", "v")
    assert waiter.result() == (b"c", b"v")


def test_timeouts_answer_null(r: Any, r3: Any) -> None:
    assert r.blpop(["q"], 0.05) is None
    assert r.blmove("q", "d", 0.05, "LEFT", "RIGHT") is None
    assert r.blmpop(0.05, 2, "q", "r", direction="LEFT") is None
    assert r3.brpop(["q"], 0.05) is None
    assert r3.bzpopmin(["z"], 0.05) is None
    assert r.info("clients")["blocked_clients"] == 0


def test_timeout_argument_errors(r: Any) -> None:
    for bad, message in ((b"abc", "timeout is not a float"), (b"-1", "timeout is negative"),
                         (b"inf", "timeout is negative")):
        with pytest.raises(redis.ResponseError, match=message):
            r.execute_command("BLPOP", "q", bad)


def test_blmove_chain(r: Any, respd: Any) -> None:
    first = Waiter(respd, lambda c: c.blmove("a", "b", 0, "LEFT", "RIGHT"))
    wait_blocked(r, 1)
    second = Waiter(respd, lambda c: c.blmove("b", "c", 0, "LEFT", "RIGHT"))
    wait_blocked(r, 2)
    third = Waiter(respd, lambda c: c.blpop(["c"], 0))
    wait_blocked(r, 3)
    r.rpush("a", "job")
    assert first.result() == b"job"
    assert second.result() == b"job"
    assert third.result() == (b"c", b"job")
    assert r.exists("a", "b", "c") == 0


def test_blmpop_and_bzpop_resp3(r: Any, respd: Any) -> None:
    lists = Waiter(respd, lambda c: c.blmpop(0, 2, "x", "y", direction="RIGHT", count=2),
                   protocol=3)
    wait_blocked(r, 1)
    zsets = Waiter(respd, lambda c: c.bzpopmax(["z"], 0), protocol=3)
    wait_blocked(r, 2)
    r.rpush("y", "1", "2", "3")
    r.zadd("z", {"low": 1, "high": 9})
    assert lists.result() == [b"y", [b"3", b"2"]]
    assert list(zsets.result()) == [b"z", b"high", 9.0]


def test_brpoplpush_and_bzmpop_served_while_blocked(r: Any, respd: Any) -> None:
    mover = Waiter(respd, lambda c: c.brpoplpush("src", "dst", 0))
    wait_blocked(r, 1)
    popper = Waiter(respd, lambda c: c.bzmpop(0, 2, ["z1", "z2"], min=True, count=2))
    wait_blocked(r, 2)
    r.rpush("src", "a", "b")
    r.zadd("z2", {"x": 3, "y": 1, "z": 2})
    assert mover.result() == b"b"
    assert popper.result() == [b"z2", [[b"y", b"1"], [b"z", b"2"]]]
    assert r.lrange("src", 0, -1) == [b"a"] and r.lrange("dst", 0, -1) == [b"b"]
    assert r.zrange("z2", 0, -1) == [b"x"]


def test_wrong_type_keeps_the_client_waiting(r: Any, respd: Any) -> None:
    waiter = Waiter(respd, lambda c: c.blpop(["k"], 0))
    wait_blocked(r, 1)
    r.zadd("k", {"m": 1})  # a zset is not served to a list waiter (Redis 7.0)
    r.delete("k")
    r.rpush("k", "v")
    assert waiter.result() == (b"k", b"v")


def test_blocking_inside_multi_answers_at_once(r: Any) -> None:
    pipe = r.pipeline(transaction=True)
    pipe.blpop(["q"], 0).blmove("q", "d", 0, "LEFT", "LEFT").bzpopmin(["z"], 0)
    assert pipe.execute() == [None, None, None]


def test_asyncio_competing_consumers(respd: Any) -> None:
    async def scenario() -> list[bytes]:
        consumers = [redis.asyncio.Redis(port=respd.port) for _ in range(4)]
        producer = redis.asyncio.Redis(port=respd.port)
        await producer.delete("jobs")
        got: list[bytes] = []

        async def consume(c: Any) -> None:
            while True:
                item = await c.blpop(["jobs"], 0.5)
                if item is None:
                    return
                got.append(item[1])

        tasks = [asyncio.create_task(consume(c)) for c in consumers]
        for i in range(40):
            await producer.rpush("jobs", f"job{i}")
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
        for c in [*consumers, producer]:
            await c.aclose()
        return got

    got = asyncio.run(scenario())
    assert sorted(got) == sorted(f"job{i}".encode() for i in range(40))


def test_served_pops_are_propagated_as_plain_pops(spawn: Any, tmp_path: Path) -> None:
    server = spawn("respd", "--appendonly", "yes", "--appendfsync", "always",
                   workdir=str(tmp_path))
    r = server.client()
    waiter = Waiter(server, lambda c: c.blpop(["q"], 0))
    wait_blocked(r, 1)
    r.rpush("q", "a")
    assert waiter.result() == (b"q", b"a")
    r.rpush("z", "b")
    assert r.blmove("z", "d", 0, "LEFT", "RIGHT") == b"b"
    r.zadd("pq", {"x": 1})
    assert r.bzpopmin(["pq"], 0) == (b"pq", b"x", 1.0)
    r.close()
    server.stop()
    log = b"".join(p.read_bytes() for p in sorted((tmp_path / "appendonlydir").glob("*.aof")))
    for blocking in (b"BLPOP", b"BLMOVE", b"BZPOPMIN"):
        assert blocking not in log
    for plain in ([b"LPOP", b"q"], [b"LMOVE", b"z", b"d", b"LEFT", b"RIGHT"],
                  [b"ZPOPMIN", b"pq"]):
        assert encode_request(plain) in log


@pytest.mark.parametrize("example", ["work_queue.py", "priority_queue.py"])
def test_examples_run(respd: Any, r: Any, example: str) -> None:
    script = Path(__file__).parent.parent / "examples" / example
    done = subprocess.run([sys.executable, str(script), "--port", str(respd.port)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
