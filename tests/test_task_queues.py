"""Real task-queue libraries, unchanged, using respd as their broker and result store:
RQ (burst worker), arq (burst worker), Dramatiq (Redis broker, worker threads), Celery
(Redis broker and result backend, a worker subprocess with the solo pool) and
taskiq-redis (stream broker).  Each test round-trips jobs that succeed and one that
fails.  The libraries come from the ``queues`` extra (arq separately, see pyproject); a
missing one skips its test.  Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import require_module

JOBS = 5


def add(a: int, b: int) -> int:
    return a + b


def explode() -> None:
    raise ValueError("boom")


def test_rq_burst_worker(r: Any) -> None:
    rq = require_module("rq")
    queue = rq.Queue("default", connection=r)
    jobs = [queue.enqueue(add, i, 1) for i in range(JOBS)]
    failing = queue.enqueue(explode)
    later = queue.enqueue(add, 40, 2, depends_on=jobs[0])
    worker = rq.SimpleWorker([queue], connection=r)
    assert worker.work(burst=True, max_jobs=JOBS + 2)
    assert [job.return_value() for job in jobs] == [i + 1 for i in range(JOBS)]
    assert later.return_value() == 42
    assert failing.is_failed and failing.id in queue.failed_job_registry
    assert "ValueError: boom" in failing.latest_result().exc_string
    assert queue.count == 0


async def arq_add(ctx: dict[str, Any], a: int, b: int) -> int:
    return a + b


async def arq_explode(ctx: dict[str, Any]) -> None:
    raise ValueError("boom")


def test_arq_burst_worker(respd: Any, r: Any) -> None:
    arq = require_module("arq")
    from arq.connections import RedisSettings
    from arq.jobs import JobStatus
    from arq.worker import Worker

    async def run() -> None:
        settings = RedisSettings(host="127.0.0.1", port=respd.port)
        pool = await arq.create_pool(settings)
        jobs = [await pool.enqueue_job("arq_add", i, 1) for i in range(JOBS)]
        deferred = await pool.enqueue_job("arq_add", 40, 2, _defer_by=0.2)
        failing = await pool.enqueue_job("arq_explode")
        assert await pool.enqueue_job("arq_add", 1, 1, _job_id=deferred.job_id) is None
        worker = Worker(functions=[arq_add, arq_explode], redis_settings=settings,
                        burst=True, poll_delay=0.05, max_tries=1)
        await worker.main()
        assert [await job.result(timeout=5) for job in jobs] == [i + 1 for i in range(JOBS)]
        assert await deferred.result(timeout=5) == 42
        assert await failing.status() == JobStatus.complete
        with pytest.raises(ValueError, match="boom"):
            await failing.result(timeout=5)
        await worker.close()
        await pool.aclose()

    asyncio.run(asyncio.wait_for(run(), 30))


def test_dramatiq_redis_broker(respd: Any, r: Any) -> None:
    dramatiq = require_module("dramatiq")
    require_module("dramatiq.brokers.redis")
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.results import ResultFailure, Results
    from dramatiq.results.backends import RedisBackend

    broker = RedisBroker(host="127.0.0.1", port=respd.port)
    broker.add_middleware(Results(backend=RedisBackend(host="127.0.0.1", port=respd.port)))
    dramatiq.set_broker(broker)  # Message.get_result looks the backend up there

    @dramatiq.actor(broker=broker, store_results=True)
    def dq_add(a: int, b: int) -> int:
        return a + b

    @dramatiq.actor(broker=broker, store_results=True, max_retries=0)
    def dq_explode() -> None:
        raise ValueError("boom")

    messages = [dq_add.send(i, 1) for i in range(JOBS)]
    failing = dq_explode.send()
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        results = [m.get_result(block=True, timeout=10_000) for m in messages]
        assert results == [i + 1 for i in range(JOBS)]
        with pytest.raises(ResultFailure, match="boom"):
            failing.get_result(block=True, timeout=10_000)
        broker.join(dq_add.queue_name, timeout=10_000)
    finally:
        worker.stop(timeout=10_000)
        broker.close()


_CELERY_APP = """
    import os
    from celery import Celery

    app = Celery("respd_celery_tasks", broker=os.environ["RESPD_URL"],
                 backend=os.environ["RESPD_URL"])
    app.conf.broker_connection_retry_on_startup = True

    @app.task
    def add(a, b):
        return a + b

    @app.task
    def total(values):
        return sum(values)

    @app.task
    def explode():
        raise ValueError("boom")
"""


def test_celery_worker_subprocess(respd: Any, r: Any, tmp_path: Path) -> None:
    celery = require_module("celery")
    url = f"redis://127.0.0.1:{respd.port}/0"
    (tmp_path / "respd_celery_tasks.py").write_text(textwrap.dedent(_CELERY_APP))
    env = {**os.environ, "RESPD_URL": url, "PYTHONPATH": str(tmp_path)}
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "respd_celery_tasks", "worker",
         "--pool", "solo", "--loglevel", "INFO"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = celery.Celery("client", broker=url, backend=url)
    try:
        results = [client.send_task("respd_celery_tasks.add", (i, 1)) for i in range(JOBS)]
        assert [res.get(timeout=20) for res in results] == [i + 1 for i in range(JOBS)]
        failing = client.send_task("respd_celery_tasks.explode")
        with pytest.raises(Exception, match="boom"):
            failing.get(timeout=20)
        assert failing.state == "FAILURE"
        chord = celery.chord(client.signature("respd_celery_tasks.add", (i, i))
                             for i in range(3))(client.signature("respd_celery_tasks.total"))
        assert chord.get(timeout=20) == 6
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)
        log.close()
        client.close()


def test_taskiq_redis_stream_broker(respd: Any, r: Any) -> None:
    require_module("taskiq")
    taskiq_redis = require_module("taskiq_redis")
    from taskiq.api import run_receiver_task

    url = f"redis://127.0.0.1:{respd.port}/0"
    broker = taskiq_redis.RedisStreamBroker(url=url).with_result_backend(
        taskiq_redis.RedisAsyncResultBackend(redis_url=url))

    @broker.task
    async def tq_add(a: int, b: int) -> int:
        return a + b

    @broker.task
    async def tq_explode() -> None:
        raise ValueError("boom")

    async def run() -> None:
        await broker.startup()
        receiver = asyncio.create_task(run_receiver_task(broker))
        try:
            tasks = [await tq_add.kiq(i, 1) for i in range(JOBS)]
            results = [await task.wait_result(timeout=10) for task in tasks]
            assert [res.return_value for res in results] == [i + 1 for i in range(JOBS)]
            failing = await (await tq_explode.kiq()).wait_result(timeout=10)
            assert failing.is_err and "boom" in repr(failing.error)
        finally:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
            await broker.shutdown()

    asyncio.run(asyncio.wait_for(run(), 30))
