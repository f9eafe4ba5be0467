"""Worker threads serving a :class:`FairQueue`, and the jobs that cross from the event loop.

Each pool owns a few plain threads (not asyncio tasks). A session's coroutine
puts a :class:`Job` in the pool's fair queue and awaits it; a worker thread
takes a batch, runs the model and hands results back to the job's own event
loop with ``call_soon_threadsafe``. The event loop therefore never runs
inference, and a pool serves callers on any loop (the server's, a test's).

Cancellation is cooperative: a job whose caller gave up (barge-in, session
end, timeout) is taken out of the queue if it is still waiting, and has its
``cancelled`` flag set if it is running; streaming work (LLM tokens, TTS
sentences) checks the flag between steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from voxswitch import events
from voxswitch.errors import (
    InferenceError,
    PoolClosedError,
    RequestCancelledError,
    VoxswitchError,
)
from voxswitch.inference.fairqueue import FairQueue

log = logging.getLogger(__name__)

P = TypeVar("P")
_END = object()


@dataclass(eq=False)
class Job(Generic[P]):
    """One request: created on the event loop, run on a worker thread."""

    session: Hashable
    payload: P
    loop: asyncio.AbstractEventLoop
    _deliver: Callable[[Any], None]  # runs on ``loop``: a result, an exception or a stream item
    enqueued_at: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)
    queue_wait_s: float = 0.0
    run_s: float = 0.0
    _finished: bool = False

    # ---- called from the worker thread ---------------------------------------

    def emit(self, item: Any) -> None:
        """Stream one item (token, audio chunk) to the caller."""
        self._send(item)

    def finish(self, result: Any = _END) -> None:
        if not self._finished:
            self._finished = True
            self._send(result)

    def fail(self, error: BaseException) -> None:
        if not self._finished:
            self._finished = True
            self._send(error)

    @property
    def finished(self) -> bool:
        return self._finished

    def _send(self, value: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self._deliver, value)
        except RuntimeError:
            # The caller's loop is closed: nobody is waiting any more.
            self.cancelled.set()


BatchRunner = Callable[[int, list[Job[Any]]], None]


class WorkerPool(Generic[P]):
    """``threads`` workers, each running ``run(worker_index, batch)`` on batches from a fair queue.

    ``run`` must call ``finish``/``fail`` (and may call ``emit``) on every job of
    the batch; a job it leaves unfinished, or an unexpected exception, fails the
    job with :class:`InferenceError` instead of leaving its caller hanging.
    """

    def __init__(
        self,
        name: str,
        run: BatchRunner,
        *,
        threads: int,
        queue_depth: int,
        max_batch: int = 1,
        batch_window_s: float = 0.0,
        niceness: int = 0,
    ):
        self.name = name
        self._run = run
        self._max_batch = max_batch
        self._batch_window_s = batch_window_s
        self._niceness = niceness
        self._queue: FairQueue[Job[P]] = FairQueue(queue_depth, name=name)
        self._cond = threading.Condition()
        self._running: set[Job[P]] = set()
        self._closed = False
        self._threads = [
            threading.Thread(
                target=self._work, args=(i,), name=f"voxswitch-{name}-{i}", daemon=True
            )
            for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    # ---- event-loop side -------------------------------------------------------

    async def submit(self, session: Hashable, payload: P, *, timeout_s: float | None) -> Any:
        """Queue ``payload`` for ``session`` and await its result.

        ``timeout_s=None`` skips the per-request timer, for pools whose every
        request is sub-millisecond and frequent (VAD: a timer per 32 ms chunk
        per session is measurable CPU). It is safe because nothing here leaves
        a job unresolved: a worker resolves every job it takes (``_work``'s
        ``finally``), and ``aclose`` fails every job still waiting.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def deliver(value: Any) -> None:
            if future.done():
                return
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)

        job = self._enqueue(session, payload, loop, deliver)
        try:
            if timeout_s is None:
                return await future
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError:
            raise InferenceError(f"{self.name} request timed out after {timeout_s:g} s") from None
        finally:
            self._abandon(job)

    async def stream(
        self, session: Hashable, payload: P, *, item_timeout_s: float
    ) -> AsyncIterator[Any]:
        """Queue ``payload`` and yield what the worker emits; closing the iterator cancels it."""
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()
        job = self._enqueue(session, payload, loop, items.put_nowait)
        try:
            while True:
                try:
                    async with asyncio.timeout(item_timeout_s):
                        item = await items.get()
                except TimeoutError:
                    raise InferenceError(
                        f"{self.name} stream stalled for {item_timeout_s:g} s"
                    ) from None
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # Runs on aclose() and on cancellation: the worker stops at its next step.
            self._abandon(job)

    def cancel_session(self, session: Hashable) -> int:
        """Drop ``session``'s waiting jobs and stop its running ones. Returns how many."""
        with self._cond:
            dropped = self._queue.drop_session(session)
            running = [j for j in self._running if j.session == session]
        for job in running:
            job.cancelled.set()
        for job in dropped:
            job.cancelled.set()
            job.fail(RequestCancelledError(f"{self.name} request cancelled"))
        return len(dropped) + len(running)

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    async def aclose(self, timeout_s: float = 10.0) -> None:
        """Refuse new work, fail what waits, stop what runs, join the threads."""
        with self._cond:
            self._closed = True
            dropped = self._queue.drain()
            running = list(self._running)
            self._cond.notify_all()
        for job in running:
            job.cancelled.set()
        for job in dropped:
            job.fail(PoolClosedError(f"{self.name} pool is shutting down"))
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            remaining = max(0.0, deadline - time.monotonic())
            # join() blocks; do it off the loop so other sessions keep being served.
            await asyncio.get_running_loop().run_in_executor(None, t.join, remaining)
        stuck = [t.name for t in self._threads if t.is_alive()]
        if stuck:
            raise InferenceError(f"{self.name} pool threads did not stop: {stuck}")

    def _enqueue(
        self,
        session: Hashable,
        payload: P,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[Any], None],
    ) -> Job[P]:
        job: Job[P] = Job(session, payload, loop, deliver)
        with self._cond:
            if self._closed:
                raise PoolClosedError(f"{self.name} pool is shut down")
            self._queue.push(session, job)  # raises PoolOverloadedError when saturated
            self._cond.notify()
        return job

    def _abandon(self, job: Job[P]) -> None:
        if job.finished:
            return
        job.cancelled.set()
        with self._cond:
            self._queue.remove(job.session, job)

    # ---- worker threads --------------------------------------------------------

    def _next_batch(self) -> list[Job[P]] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            if self._batch_window_s and len(self._queue) < self._max_batch:
                # Give requests from other sessions a moment to join this batch.
                deadline = time.monotonic() + self._batch_window_s
                while len(self._queue) < self._max_batch and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch = [job for _, job in self._queue.pop(self._max_batch)]
            batch = [job for job in batch if not job.cancelled.is_set()]
            self._running.update(batch)
            return batch

    def _work(self, index: int) -> None:
        if self._niceness:
            # Linux schedules threads individually: a heavy model thread with a
            # higher niceness yields the CPU to the event loop, which carries
            # every session's audio, instead of stalling it when all cores compute.
            with contextlib.suppress(OSError, AttributeError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self._niceness)
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            if not batch:
                continue
            started = time.monotonic()
            for job in batch:
                job.queue_wait_s = started - job.enqueued_at
            ok = True
            try:
                self._run(index, batch)
            except VoxswitchError as e:
                ok = False
                for job in batch:
                    job.fail(type(e)(str(e)))
            except Exception as e:  # a model failure must reach its callers, not kill the thread
                ok = False
                log.exception("%s pool: batch of %d failed", self.name, len(batch))
                for job in batch:
                    job.fail(InferenceError(f"{self.name} model failed: {type(e).__name__}: {e}"))
            finally:
                run_s = time.monotonic() - started
                for job in batch:
                    job.run_s = run_s
                    if not job.finished:
                        if job.cancelled.is_set():
                            job.fail(RequestCancelledError(f"{self.name} request cancelled"))
                        else:
                            job.fail(InferenceError(f"{self.name} produced no result"))
                with self._cond:
                    self._running.difference_update(batch)
                events.emit(
                    events.PoolRequest(
                        pool=self.name,
                        queue_wait_s=max(j.queue_wait_s for j in batch),
                        run_s=run_s,
                        batch_size=len(batch),
                        ok=ok,
                    )
                )
