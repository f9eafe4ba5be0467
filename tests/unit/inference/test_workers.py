"""Worker threads over the fair queue, with scripted batch runners instead of models."""

from __future__ import annotations

import asyncio
import threading

import pytest

from voxswitch import events
from voxswitch.errors import (
    InferenceError,
    PoolClosedError,
    PoolOverloadedError,
    RequestCancelledError,
)
from voxswitch.inference.workers import Job, WorkerPool


class Gate:
    """Holds worker threads inside ``run`` until the test opens it."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()

    def wait(self) -> None:
        self.entered.set()
        assert self.open.wait(10), "gate never opened"


async def _wait_for(predicate) -> None:
    """Poll a condition set by a worker thread (there is no event to await across threads)."""
    async with asyncio.timeout(5.0):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


@pytest.fixture
async def closing():
    pools: list[WorkerPool] = []
    yield pools.append
    for pool in pools:
        await pool.aclose()


async def test_each_caller_gets_its_own_result(closing):
    def run(_w: int, jobs: list[Job]) -> None:
        for job in jobs:
            job.finish(job.payload * 10)

    pool = WorkerPool("t", run, threads=2, queue_depth=100, max_batch=3)
    closing(pool)
    results = await asyncio.gather(*(pool.submit(f"s{i}", i, timeout_s=5) for i in range(20)))
    assert results == [i * 10 for i in range(20)]


async def test_waiting_requests_from_several_sessions_run_as_one_batch(closing):
    gate = Gate()
    batches: list[list[int]] = []

    def run(_w: int, jobs: list[Job]) -> None:
        if jobs[0].payload == 0:
            gate.wait()
        batches.append([j.payload for j in jobs])
        for job in jobs:
            job.finish(job.payload)

    pool = WorkerPool("t", run, threads=1, queue_depth=100, max_batch=4)
    closing(pool)
    first = asyncio.ensure_future(pool.submit("a", 0, timeout_s=5))
    await asyncio.to_thread(gate.entered.wait, 5)
    rest = [asyncio.ensure_future(pool.submit(f"s{i}", i, timeout_s=5)) for i in range(1, 6)]
    await _wait_for(lambda: pool.pending() == 5)
    gate.open.set()
    await asyncio.gather(first, *rest)
    assert batches == [[0], [1, 2, 3, 4], [5]]


async def test_a_busy_session_does_not_starve_a_quiet_one(closing):
    gate = Gate()
    finished: list[str] = []

    def run(_w: int, jobs: list[Job]) -> None:
        (job,) = jobs
        if job.payload == "a0":
            gate.wait()
        finished.append(job.payload)
        job.finish(None)

    pool = WorkerPool("t", run, threads=1, queue_depth=100)
    closing(pool)
    busy = [asyncio.ensure_future(pool.submit("a", f"a{i}", timeout_s=5)) for i in range(5)]
    await asyncio.to_thread(gate.entered.wait, 5)
    quiet = asyncio.ensure_future(pool.submit("b", "b0", timeout_s=5))
    await _wait_for(lambda: pool.pending() == 5)
    gate.open.set()
    await asyncio.gather(*busy, quiet)
    # b0 came after all of a's requests but is served right after the running one.
    assert finished == ["a0", "a1", "b0", "a2", "a3", "a4"]


async def test_cancel_session_drops_its_queue_and_stops_its_running_stream(closing):
    steps_after_cancel: list[int] = []
    started = threading.Event()

    def run(_w: int, jobs: list[Job]) -> None:
        (job,) = jobs
        if job.payload == "stream":
            started.set()
            n = 0
            while True:
                job.emit(n)
                n += 1
                if job.cancelled.wait(0.01):
                    break
            steps_after_cancel.append(n)
            return
        job.finish(job.payload)

    pool = WorkerPool("t", run, threads=1, queue_depth=100)
    closing(pool)
    received: list[int] = []

    async def consume() -> None:
        async for item in pool.stream("a", "stream", item_timeout_s=5):
            received.append(item)

    consumer = asyncio.ensure_future(consume())
    await asyncio.to_thread(started.wait, 5)
    queued = asyncio.ensure_future(pool.submit("a", "later", timeout_s=5))
    other = asyncio.ensure_future(pool.submit("b", "other", timeout_s=5))
    await _wait_for(lambda: pool.pending() == 2)
    assert pool.cancel_session("a") == 2  # one queued, one running
    with pytest.raises(RequestCancelledError):
        await queued
    assert await other == "other"  # the other session is untouched
    with pytest.raises(RequestCancelledError):  # the stream's reader learns why it ended
        await consumer
    assert len(steps_after_cancel) == 1 and received


async def test_closing_a_stream_stops_the_worker_at_its_next_step(closing):
    stopped_at: list[int] = []

    def run(_w: int, jobs: list[Job]) -> None:
        (job,) = jobs
        n = 0
        while not job.cancelled.is_set() and n < 10_000:
            job.emit(n)
            n += 1
            job.cancelled.wait(0.002)
        stopped_at.append(n)

    pool = WorkerPool("t", run, threads=1, queue_depth=10)
    closing(pool)
    stream = pool.stream("a", None, item_timeout_s=5)
    got = [await anext(stream) for _ in range(3)]
    await stream.aclose()
    await _wait_for(lambda: bool(stopped_at))
    assert got == [0, 1, 2]
    assert stopped_at[0] < 10_000


async def test_a_failing_batch_fails_its_callers_and_the_pool_keeps_serving(closing):
    def run(_w: int, jobs: list[Job]) -> None:
        for job in jobs:
            if job.payload == "bad":
                raise RuntimeError("model exploded")
            job.finish("ok")

    pool = WorkerPool("t", run, threads=1, queue_depth=10)
    closing(pool)
    with pytest.raises(InferenceError, match="model exploded"):
        await pool.submit("a", "bad", timeout_s=5)
    assert await pool.submit("b", "good", timeout_s=5) == "ok"


async def test_a_runner_that_forgets_a_job_does_not_leave_its_caller_hanging(closing):
    pool = WorkerPool("t", lambda _w, _jobs: None, threads=1, queue_depth=10)
    closing(pool)
    with pytest.raises(InferenceError, match="no result"):
        await pool.submit("a", 1, timeout_s=5)


async def test_queue_depth_refuses_new_work_when_saturated(closing):
    gate = Gate()

    def run(_w: int, jobs: list[Job]) -> None:
        gate.wait()
        for job in jobs:
            job.finish(None)

    pool = WorkerPool("t", run, threads=1, queue_depth=2)
    closing(pool)
    running = asyncio.ensure_future(pool.submit("a", 0, timeout_s=5))
    await asyncio.to_thread(gate.entered.wait, 5)
    waiting = [asyncio.ensure_future(pool.submit("b", i, timeout_s=5)) for i in range(2)]
    await _wait_for(lambda: pool.pending() == 2)
    with pytest.raises(PoolOverloadedError):
        await pool.submit("c", 9, timeout_s=5)
    gate.open.set()
    await asyncio.gather(running, *waiting)


async def test_a_caller_that_gives_up_leaves_the_queue(closing):
    gate = Gate()
    ran: list[int] = []

    def run(_w: int, jobs: list[Job]) -> None:
        for job in jobs:
            if job.payload == 0:
                gate.wait()
            ran.append(job.payload)
            job.finish(None)

    pool = WorkerPool("t", run, threads=1, queue_depth=10)
    closing(pool)
    first = asyncio.ensure_future(pool.submit("a", 0, timeout_s=5))
    await asyncio.to_thread(gate.entered.wait, 5)
    impatient = asyncio.ensure_future(pool.submit("b", 1, timeout_s=5))
    await _wait_for(lambda: pool.pending() == 1)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert pool.pending() == 0
    gate.open.set()
    await first
    assert ran == [0]


async def test_timeout_is_an_inference_error(closing):
    gate = Gate()

    def run(_w: int, jobs: list[Job]) -> None:
        gate.wait()
        for job in jobs:
            job.finish(None)

    pool = WorkerPool("t", run, threads=1, queue_depth=10)
    closing(pool)
    with pytest.raises(InferenceError, match="timed out"):
        await pool.submit("a", 0, timeout_s=0.05)
    gate.open.set()


async def test_close_fails_waiting_work_and_refuses_new_work():
    gate = Gate()

    def run(_w: int, jobs: list[Job]) -> None:
        gate.wait()

    pool = WorkerPool("t", run, threads=1, queue_depth=10)
    running = asyncio.ensure_future(pool.submit("a", 0, timeout_s=5))
    await asyncio.to_thread(gate.entered.wait, 5)
    waiting = asyncio.ensure_future(pool.submit("b", 1, timeout_s=5))
    await _wait_for(lambda: pool.pending() == 1)
    closing = asyncio.ensure_future(pool.aclose())
    with pytest.raises(PoolClosedError):
        await waiting
    gate.open.set()
    await closing
    with pytest.raises(RequestCancelledError):
        await running
    with pytest.raises(PoolClosedError):
        await pool.submit("c", 2, timeout_s=5)


async def test_every_batch_emits_a_pool_request_event(closing):
    seen: list[events.PoolRequest] = []
    emitted = threading.Event()

    def sink(e: object) -> None:
        if isinstance(e, events.PoolRequest):
            seen.append(e)
            emitted.set()

    unsubscribe = events.subscribe(sink)
    try:

        def run(_w: int, jobs: list[Job]) -> None:
            for job in jobs:
                job.finish(None)

        pool = WorkerPool("named", run, threads=1, queue_depth=10)
        closing(pool)
        await pool.submit("a", 0, timeout_s=5)
        # The worker emits the event just after handing the result back: wait for it.
        assert await asyncio.to_thread(emitted.wait, 5)
    finally:
        unsubscribe()
    (event,) = seen
    assert event.pool == "named" and event.batch_size == 1 and event.ok
    assert event.queue_wait_s >= 0 and event.run_s >= 0
