"""The LLM pool streams replies, and stops generating promptly when its caller goes away."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from voxswitch.errors import RequestCancelledError
from voxswitch.inference.llm import LlmPool
from voxswitch.inference.pools import Pools
from voxswitch.inference.workers import Job

pytestmark = pytest.mark.e2e

LONG_REPLY = [
    {"role": "system", "content": "You are a storyteller who writes long, detailed stories."},
    {
        "role": "user",
        "content": "Write a long story about a dragon who learns to bake bread in a small village.",
    },
]
SHORT_REPLY = [{"role": "user", "content": "What is the capital of France?"}]
_IDLE_TIMEOUT_S = 10.0
_STREAM_TIMEOUT_S = 60.0


@dataclass
class JobTrace:
    """What the worker thread did for one job (written there, read after ``ended`` is set)."""

    started: float
    emitted: list[float] = field(default_factory=list)
    ended: float | None = None


class Probe:
    """Times, taken on the LLM worker threads, of each job's start, pieces and end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._traces: dict[int, JobTrace] = {}

    def started(self, job: Job) -> None:
        with self._lock:
            self._traces[id(job)] = JobTrace(time.monotonic())

    def emitted(self, job: Job) -> None:
        with self._lock:
            trace = self._traces.get(id(job))
            if trace is not None:
                trace.emitted.append(time.monotonic())

    def ended(self, job: Job) -> None:
        with self._lock:
            self._traces[id(job)].ended = time.monotonic()

    def traces(self) -> list[JobTrace]:
        with self._lock:
            return list(self._traces.values())

    def trace(self, job: Job) -> JobTrace:
        with self._lock:
            return self._traces[id(job)]

    async def all_ended(self, timeout_s: float) -> list[JobTrace]:
        await wait_until(lambda: all(t.ended is not None for t in self.traces()), timeout_s)
        return self.traces()


@pytest.fixture
def probe(pools: Pools, monkeypatch: pytest.MonkeyPatch) -> Probe:
    found = Probe()
    workers = llm_of(pools)._workers
    run = workers._run
    emit = Job.emit

    def traced_run(index: int, jobs: list[Job]) -> None:
        for job in jobs:
            found.started(job)
        try:
            run(index, jobs)
        finally:
            for job in jobs:
                found.ended(job)

    def traced_emit(job: Job, item: object) -> None:
        found.emitted(job)
        emit(job, item)

    # The worker threads look ``_run`` up on each batch, so the patch takes
    # effect at once and is undone after the test.
    monkeypatch.setattr(workers, "_run", traced_run)
    monkeypatch.setattr(Job, "emit", traced_emit)
    return found


def llm_of(pools: Pools) -> LlmPool:
    assert pools.llm is not None
    return pools.llm


def running_jobs(llm: LlmPool) -> list[Job]:
    workers = llm._workers
    with workers._cond:
        return list(workers._running)


async def wait_until(check: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until ``check()`` held (polled); raises TimeoutError past ``timeout_s``."""
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        # Polled: the state is changed by worker threads, which signal no loop-side event.
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    return time.monotonic() - started


async def test_reply_streams_in_pieces(pools: Pools):
    llm = llm_of(pools)
    started = time.monotonic()
    first_s = None
    pieces: list[str] = []
    async with asyncio.timeout(_STREAM_TIMEOUT_S):
        async for piece in llm.stream("llm-reply", SHORT_REPLY, max_tokens=48, temperature=0.3):
            first_s = first_s if first_s is not None else time.monotonic() - started
            pieces.append(piece)
    total_s = time.monotonic() - started
    reply = "".join(pieces)
    print(
        f"\n{len(pieces)} pieces, first after {1000 * (first_s or 0):.0f} ms, "
        f"all in {total_s:.2f} s: {reply!r}"
    )
    assert len(pieces) >= 2
    assert reply.strip()


async def test_closing_the_stream_stops_generation_within_one_token(pools: Pools, probe: Probe):
    llm = llm_of(pools)

    # Reference: the same greedy request left to run to the end.
    started = time.monotonic()
    async with asyncio.timeout(_STREAM_TIMEOUT_S):
        full = [p async for p in llm.stream("llm-full", LONG_REPLY, max_tokens=200, temperature=0)]
    full_s = time.monotonic() - started
    (full_trace,) = await probe.all_ended(_IDLE_TIMEOUT_S)
    assert len(full) >= 20, "the reference reply must be long for the comparison to mean much"

    # Same request, closed by its caller after the third piece.
    stream = llm.stream("llm-cancel", LONG_REPLY, max_tokens=200, temperature=0)
    received = 0
    async with asyncio.timeout(_STREAM_TIMEOUT_S):
        async for _ in stream:
            received += 1
            if received == 3:
                break
    (job,) = running_jobs(llm)
    closed_at = time.monotonic()
    await stream.aclose()
    # aclose() itself must flag the job, not a later garbage collection of the
    # inner stream (which would also leave an ownerless task behind).
    flagged_on_close = job.cancelled.is_set()

    idle_after_s = await wait_until(lambda: not running_jobs(llm), _IDLE_TIMEOUT_S)
    await probe.all_ended(_IDLE_TIMEOUT_S)
    trace = probe.trace(job)
    assert trace.ended is not None
    after_close = sum(1 for t in trace.emitted if t > closed_at)

    # The pool serves a new request at once.
    started = time.monotonic()
    follow_up = llm.stream("llm-next", SHORT_REPLY, max_tokens=8, temperature=0)
    try:
        async with asyncio.timeout(_STREAM_TIMEOUT_S):
            await anext(follow_up)
    finally:
        await follow_up.aclose()
    next_first_s = time.monotonic() - started
    await wait_until(lambda: not running_jobs(llm), _IDLE_TIMEOUT_S)

    assert full_trace.ended is not None
    print(
        f"\nfull reply: {len(full)} pieces in {full_s:.2f} s "
        f"(worker ran {full_trace.ended - full_trace.started:.2f} s)"
        f"\ncancelled after 3 received: worker emitted {len(trace.emitted)} pieces, "
        f"{after_close} after aclose(); it stopped {1000 * (trace.ended - closed_at):.1f} ms "
        f"after aclose() (pool idle after {1000 * idle_after_s:.1f} ms), "
        f"ran {trace.ended - trace.started:.2f} s in all"
        f"\nnext request's first piece after {1000 * next_first_s:.0f} ms"
    )
    assert flagged_on_close, "closing the stream did not cancel its job"
    assert after_close <= 1
    assert len(trace.emitted) < len(full)


async def test_cancel_session_stops_its_generation_and_fails_its_queued_work(pools: Pools):
    llm = llm_of(pools)
    # Earlier tests' closed streams may still be finishing their current token.
    await wait_until(lambda: not running_jobs(llm) and not llm._workers.pending(), _IDLE_TIMEOUT_S)

    async def first_piece(stream) -> None:
        async with asyncio.timeout(_STREAM_TIMEOUT_S):
            await anext(stream)

    # One instance generates for the session being cancelled, the other for a
    # bystander; the session's next two requests then have to wait in the queue.
    doomed = llm.stream("doomed", LONG_REPLY, max_tokens=200, temperature=0.0)
    bystander = llm.stream("bystander", LONG_REPLY, max_tokens=120, temperature=0.0)
    try:
        await first_piece(doomed)
        await first_piece(bystander)
        queued = [
            asyncio.create_task(llm.complete("doomed", SHORT_REPLY, max_tokens=16, temperature=0.0))
            for _ in range(2)
        ]
        await asyncio.sleep(0)  # let both tasks reach the queue
        assert llm._workers.pending() == 2

        dropped = pools.cancel_session("doomed")
        assert dropped == 3  # two waiting, one running

        with pytest.raises(RequestCancelledError):
            async with asyncio.timeout(_STREAM_TIMEOUT_S):
                async for _ in doomed:
                    pass
        outcomes = await asyncio.gather(*queued, return_exceptions=True)
        assert all(isinstance(o, RequestCancelledError) for o in outcomes), outcomes

        async with asyncio.timeout(_STREAM_TIMEOUT_S):
            rest = [p async for p in bystander]
    finally:
        await doomed.aclose()
        await bystander.aclose()
    print(f"\nbystander finished with {len(rest) + 1} pieces: {''.join(rest)[:80]!r}")
    assert "".join(rest).strip()
    await wait_until(lambda: not running_jobs(llm), _IDLE_TIMEOUT_S)
