"""CPU time and memory of the server under test, read from the OS (psutil).

A "server" may be several processes (the plain-Pipecat peer talks to a separate
llama.cpp server), and their children count too. RSS is sampled through a step
so its peak can be set against the number of live sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

SAMPLE_PERIOD_S = 0.5


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu_s: float  # user + system, all processes and their children
    rss_bytes: int


class ProcessGroup:
    def __init__(self, pids: list[int]):
        self.pids = list(pids)

    def _processes(self) -> list[psutil.Process]:
        found: dict[int, psutil.Process] = {}
        for pid in self.pids:
            try:
                root = psutil.Process(pid)
                found[root.pid] = root
                for child in root.children(recursive=True):
                    found[child.pid] = child
            except psutil.Error:
                continue  # gone: counted as zero from now on
        return list(found.values())

    def sample(self) -> ProcSample:
        cpu, rss = 0.0, 0
        for proc in self._processes():
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    cpu += times.user + times.system
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue
        return ProcSample(cpu, rss)


class StepWatch:
    """Samples a process group during one step: ``async with StepWatch(group) as w``."""

    def __init__(self, group: ProcessGroup | None, clock: Callable[[], float] = time.monotonic):
        self._group = group
        self._clock = clock
        self.start: ProcSample | None = None
        self.end: ProcSample | None = None
        self.peak_rss = 0
        self._started = self._ended = 0.0
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> StepWatch:
        if self._group is not None:
            self.start = self._group.sample()
            self._started = self._clock()
            self.peak_rss = self.start.rss_bytes
            self._task = asyncio.create_task(self._sample_loop(), name="bench-procstats")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._group is not None:
            self.end = self._group.sample()
            self._ended = self._clock()
            self.peak_rss = max(self.peak_rss, self.end.rss_bytes)

    async def _sample_loop(self) -> None:
        assert self._group is not None
        while True:
            await asyncio.sleep(SAMPLE_PERIOD_S)
            # /proc reads take microseconds: fine on the loop, no thread needed.
            self.peak_rss = max(self.peak_rss, self._group.sample().rss_bytes)

    def figures(
        self, *, turns: int, sessions: int, idle_rss: int | None = None
    ) -> dict[str, Any] | None:
        """Step figures; memory per session is measured from ``idle_rss`` (the server's
        footprint before any call) when given, else from the step's start."""
        if self.start is None or self.end is None:
            return None
        cpu = self.end.cpu_s - self.start.cpu_s
        base = idle_rss if idle_rss is not None else self.start.rss_bytes
        grown = max(0, self.peak_rss - base)
        wall = self._ended - self._started
        return {
            "cpu_s": round(cpu, 3),
            "wall_s": round(wall, 3),
            "cpu_s_per_turn": round(cpu / turns, 4) if turns else None,
            # Share of one core each session costs on average over the step: the
            # figure that says how many listening callers a core can hold.
            "core_share_per_session": (
                round(cpu / (wall * sessions), 5) if sessions and wall > 0 else None
            ),
            "rss_idle_bytes": base,
            "rss_start_bytes": self.start.rss_bytes,
            "rss_peak_bytes": self.peak_rss,
            "rss_end_bytes": self.end.rss_bytes,
            "rss_per_session_bytes": int(grown / sessions) if sessions else None,
        }
