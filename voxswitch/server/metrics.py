"""Prometheus exposition. The only module that imports prometheus_client.

It subscribes to :mod:`voxswitch.events` and turns events into metrics on a
registry of its own (not the global one), so two apps in one process (tests)
never share counters.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from voxswitch import events

__all__ = ["CONTENT_TYPE", "Metrics"]

_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
_WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256)


class Metrics:
    def __init__(self, live_sessions: Callable[[], int]):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        live = Gauge("voxswitch_live_sessions", "Sessions currently connected", registry=r)
        live.set_function(live_sessions)
        self.sessions = Counter(
            "voxswitch_sessions", "Sessions ended, by outcome", ["outcome"], registry=r
        )
        self.admitted = Counter("voxswitch_admissions", "Sessions admitted", registry=r)
        self.refusals = Counter(
            "voxswitch_refusals", "Callers refused, by reason", ["reason"], registry=r
        )
        self.stage_latency = Histogram(
            "voxswitch_stage_latency_seconds",
            "Per-turn stage latency: stt, llm_ttft, tts_ttfb, turn (smart-turn), voice_to_voice",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "voxswitch_pool_queue_wait_seconds",
            "Time a request waited in a pool's queue",
            ["pool"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.run_time = Histogram(
            "voxswitch_pool_run_seconds",
            "Time a pool spent running a request (or batch)",
            ["pool"],
            buckets=(*_WAIT_BUCKETS, 10.0),
            registry=r,
        )
        self.batch_size = Histogram(
            "voxswitch_pool_batch_size",
            "Requests run together in one model call",
            ["pool"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.errors = Counter("voxswitch_errors", "Errors, by stage", ["stage"], registry=r)
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._unsubscribe = events.subscribe(self.on_event)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def on_event(self, event: object) -> None:
        match event:
            case events.PoolRequest(pool=pool, queue_wait_s=w, run_s=run, batch_size=n, ok=ok):
                self.queue_wait.labels(pool).observe(w)
                self.run_time.labels(pool).observe(run)
                self.batch_size.labels(pool).observe(n)
                if not ok:
                    self.errors.labels(pool).inc()
            case events.StageLatency(stage=stage, seconds=s):
                self.stage_latency.labels(stage).observe(s)
            case events.StageError(stage=stage):
                self.errors.labels(stage).inc()
            case events.SessionStarted():
                self.admitted.inc()
            case events.SessionEnded(outcome=outcome):
                self.sessions.labels(outcome).inc()
            case events.SessionRefused(reason=reason):
                self.refusals.labels(reason).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
