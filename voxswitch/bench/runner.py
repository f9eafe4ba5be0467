"""Steps of load against one server: fixed load, the capacity ramp, listening sessions.

A *step* is N simulated calls run together against one target; around it the
runner scrapes the server's ``/metrics`` and samples its processes, so each
step's record carries client- and server-side figures side by side. A *ramp*
runs steps of growing N until one is not sustainable.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from tqdm import tqdm

from voxswitch.bench import metrics_scrape, stats
from voxswitch.bench.behaviours import (
    CallTiming,
    Conversation,
    ConversationScript,
    Listening,
    run_call,
)
from voxswitch.bench.procstats import ProcessGroup, StepWatch
from voxswitch.bench.results import CallResult, Outcome
from voxswitch.bench.sentences import PROBE_TEXT, distinct_sentences, sentences_for
from voxswitch.bench.voices import Clip, VoiceBank, background_frames

METRIC_PREFIX = "voxswitch_"


@dataclass
class Target:
    """A server under test, reachable over the wire (and, when local, by PID)."""

    name: str
    ws_url: str
    metrics_url: str | None = None
    pids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class LoadOptions:
    turns: int = 2
    think_s: float = 1.0
    stagger_s: float = 1.0  # call starts are spread evenly over this window
    timing: CallTiming = field(default_factory=CallTiming)
    match_threshold: float = 0.5
    background: str = "noise"
    seed: int = 1
    listen_s: float = 20.0
    probe_interval_s: float = 1.0
    vad_start_s: float = 0.2
    cooldown_s: float = 2.0
    progress: bool = True


def _call_budget(options: LoadOptions, speech_s: float) -> float:
    """An upper bound on one call's length, so a wedged call cannot hang a step."""
    t = options.timing
    per_turn = speech_s + t.turn_timeout_s + t.answer_timeout_s + options.think_s
    return t.open_timeout_s + t.ready_timeout_s + options.stagger_s + options.turns * per_turn + 30


class Runner:
    def __init__(self, target: Target, options: LoadOptions, voices: VoiceBank):
        self.target = target
        self.options = options
        self._voices = voices
        self._clips: dict[str, Clip] = {}
        self._group = ProcessGroup(target.pids) if target.pids else None
        self._idle_rss: int | None = None

    # ---- preparation ----------------------------------------------------------

    def texts_for(self, callers: int) -> list[str]:
        return [s for i in range(callers) for s in sentences_for(i, self.options.turns, callers)]

    async def prepare(self, texts: Sequence[str]) -> None:
        """Synthesise (or load from cache) every clip before any call starts."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._clips]
        bar = tqdm(missing, desc="voices", unit="clip", disable=not self.options.progress)
        for text in bar:
            # Piper runs in a worker thread: never inference on the event loop.
            self._clips[text] = await asyncio.to_thread(self._voices.clip, text)
        bar.close()
        if self._group is not None and self._idle_rss is None:
            self._idle_rss = self._group.sample().rss_bytes

    def _clip(self, text: str) -> Clip:
        if text not in self._clips:
            raise RuntimeError(f"clip not prepared: {text!r}")
        return self._clips[text]

    def _timing(self, caller: int, callers: int, budget_s: float) -> CallTiming:
        return dataclasses.replace(
            self.options.timing,
            think_s=self.options.think_s,
            start_delay_s=self.options.stagger_s * caller / max(1, callers),
            call_timeout_s=budget_s,
        )

    def _background(self, caller: int) -> tuple[bytes, ...]:
        return background_frames(self.options.background, seed=self.options.seed * 7919 + caller)

    # ---- steps ----------------------------------------------------------------

    async def fixed_step(self, callers: int) -> dict[str, Any]:
        """``callers`` conversations of ``turns`` turns each, all at once."""
        opts = self.options
        await self.prepare(self.texts_for(callers))
        own = [sentences_for(i, opts.turns, callers) for i in range(callers)]
        speech_s = max(self._clip(s).seconds for texts in own for s in texts)
        budget = _call_budget(opts, speech_s)
        bar = tqdm(
            total=callers * opts.turns,
            desc=f"{self.target.name} x{callers}",
            unit="turn",
            disable=not opts.progress,
        )

        def call(i: int) -> Awaitable[CallResult]:
            others = [s for j, texts in enumerate(own) if j != i for s in texts]
            script = ConversationScript(
                i, [self._clip(s) for s in own[i]], others, opts.match_threshold
            )
            timing = self._timing(i, callers, budget)
            body = Conversation(script, timing, on_turn=lambda _turn: bar.update(1))
            return run_call(self.target.ws_url, i, self._background(i), timing, body)

        try:
            record = await self._measure([call(i) for i in range(callers)])
        finally:
            bar.close()
        record.update(
            mode="fixed",
            callers=callers,
            turns_per_caller=opts.turns,
            distinct_sentences=distinct_sentences(callers, opts.turns),
        )
        return record

    async def listen_step(self, sessions: int) -> dict[str, Any]:
        """``sessions`` calls streaming background audio; one probe word every interval."""
        opts = self.options
        await self.prepare([PROBE_TEXT])
        probe = self._clip(PROBE_TEXT)
        stop = asyncio.Event()
        budget = _call_budget(opts, 0) + opts.listen_s
        bodies = [
            Listening(probe, self._timing(i, sessions, budget), opts.vad_start_s, stop)
            for i in range(sessions)
        ]
        calls = [
            run_call(
                self.target.ws_url,
                i,
                self._background(i),
                self._timing(i, sessions, budget),
                bodies[i],
            )
            for i in range(sessions)
        ]
        expected_probes = max(1, int(opts.listen_s / opts.probe_interval_s))
        bar = tqdm(
            total=expected_probes,
            desc=f"{self.target.name} listen x{sessions}",
            unit="probe",
            disable=not opts.progress,
        )
        try:
            record = await self._measure(
                calls, extra=lambda tg, tasks: self._probe_schedule(tg, bodies, tasks, stop, bar)
            )
        finally:
            bar.close()
        record.update(
            mode="listen",
            sessions=sessions,
            listen_s=opts.listen_s,
            probe_interval_s=opts.probe_interval_s,
            vad_start_s=opts.vad_start_s,
        )
        return record

    async def _probe_schedule(
        self,
        tg: asyncio.TaskGroup,
        bodies: list[Listening],
        calls: Sequence[asyncio.Task],
        stop: asyncio.Event,
        bar: tqdm,
    ) -> None:
        """Probe one ready session per interval, round robin, then end every call.

        The probe load (one short utterance per interval, whatever the number of
        sessions) is held constant, so what changes from step to step is only the
        number of listening sessions.
        """
        opts = self.options
        try:
            # Let every session connect (or fail) first: lag under full load is the point.
            settle_until = time.monotonic() + opts.stagger_s + opts.timing.ready_timeout_s
            while time.monotonic() < settle_until:
                if all(b.ready or c.done() for b, c in zip(bodies, calls, strict=True)):
                    break
                await asyncio.sleep(0.1)
            probes: list[asyncio.Task] = []
            end = time.monotonic() + opts.listen_s
            k = 0
            while time.monotonic() < end and not all(c.done() for c in calls):
                for _ in range(len(bodies)):
                    body = bodies[k % len(bodies)]
                    k += 1
                    if body.ready:
                        task = tg.create_task(body.probe(), name="bench-probe")
                        task.add_done_callback(lambda _t: bar.update(1))
                        probes.append(task)
                        break
                await asyncio.sleep(opts.probe_interval_s)
            await asyncio.gather(*probes, return_exceptions=True)
        finally:
            stop.set()

    async def _measure(
        self,
        calls: Sequence[Awaitable[CallResult]],
        extra: Callable[[asyncio.TaskGroup, list[asyncio.Task]], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """Run ``calls`` together, with metrics scraped and processes watched around them."""
        async with httpx.AsyncClient() as http:
            before = await metrics_scrape.scrape(http, self.target.metrics_url)
            async with StepWatch(self._group) as watch:
                started = time.monotonic()
                async with asyncio.TaskGroup() as tg:
                    tasks = [tg.create_task(c, name=f"bench-call{i}") for i, c in enumerate(calls)]
                    if extra is not None:
                        tg.create_task(extra(tg, tasks), name="bench-step-driver")
                duration = time.monotonic() - started
            after = await metrics_scrape.scrape(http, self.target.metrics_url)
        results = [t.result() for t in tasks]
        summary = stats.summarize_calls(results)
        connected = sum(
            r.outcome is not Outcome.REFUSED and r.connect_s is not None for r in results
        )
        summary["server"] = {
            "metrics": metrics_scrape.step_histograms(before, after, METRIC_PREFIX),
            "counters": metrics_scrape.counter_deltas(before, after, METRIC_PREFIX),
            "gauges_after": metrics_scrape.gauges(after, METRIC_PREFIX),
            "process": watch.figures(
                turns=summary["turns"]["answered"], sessions=connected, idle_rss=self._idle_rss
            ),
        }
        summary["duration_s"] = round(duration, 3)
        summary["calls_detail"] = [dataclasses.asdict(r) for r in results]
        await asyncio.sleep(self.options.cooldown_s)  # let the server release the sessions
        return summary

    # ---- ramp -----------------------------------------------------------------

    async def ramp(
        self,
        counts: Sequence[int],
        step: Callable[[int], Awaitable[dict[str, Any]]],
        failures: Callable[[dict[str, Any]], list[str]],
    ) -> tuple[list[dict[str, Any]], int]:
        """Steps of growing size until one fails; returns them and the largest that passed."""
        records, capacity = [], 0
        for n in counts:
            record = await step(n)
            why = failures(record)
            record["sustainable"] = not why
            record["why_not"] = why
            records.append(record)
            if why:
                break
            capacity = n
        return records, capacity


def fixed_failures(v2v_bound_s: float) -> Callable[[dict[str, Any]], list[str]]:
    return lambda record: stats.step_failures(record, v2v_bound_s=v2v_bound_s)


def listen_failures(lag_bound_s: float) -> Callable[[dict[str, Any]], list[str]]:
    return lambda record: stats.step_failures(record, lag_bound_s=lag_bound_s)
