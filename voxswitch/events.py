"""Metrics as events.

Code that measures something emits a small frozen dataclass here; sinks (the
Prometheus exporter in ``voxswitch.server.metrics``, per-session turn records,
tests) subscribe. Emitting never blocks and never raises into the emitter:
inference threads and the event loop both call :func:`emit`, so sinks must be
cheap and thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Sink = Callable[[object], None]

_sinks: tuple[Sink, ...] = ()
_lock = threading.Lock()


def subscribe(sink: Sink) -> Callable[[], None]:
    """Add a sink; returns a function that removes it again."""
    global _sinks
    with _lock:
        _sinks = (*_sinks, sink)

    def unsubscribe() -> None:
        global _sinks
        with _lock:
            _sinks = tuple(s for s in _sinks if s is not sink)

    return unsubscribe


def emit(event: object) -> None:
    # Copy-on-write tuple: emitters read it without the lock.
    for sink in _sinks:
        try:
            sink(event)
        except Exception:  # a broken sink must not break inference or a session
            log.exception("metrics sink %r failed on %r", sink, event)


# ---- inference -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PoolRequest:
    """One request served (or failed) by a pool."""

    pool: str  # "vad" | "stt" | "llm" | "tts"
    queue_wait_s: float
    run_s: float
    batch_size: int
    ok: bool


# ---- sessions --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionStarted:
    session_id: str


@dataclass(frozen=True, slots=True)
class SessionEnded:
    session_id: str
    # normal | client_disconnect | idle_timeout | max_duration | drained | error | protocol_error
    outcome: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class SessionRefused:
    reason: str  # "at_capacity" | "draining" | "unauthorized"


@dataclass(frozen=True, slots=True)
class StageLatency:
    """Latency of one stage of one turn."""

    stage: str  # "stt" | "llm_ttft" | "tts_ttfb" | "turn" | "voice_to_voice"
    seconds: float
    session_id: str = ""


@dataclass(frozen=True, slots=True)
class StageError:
    stage: str  # "vad" | "stt" | "turn" | "llm" | "tts" | "protocol" | "pipeline"
    session_id: str = ""
