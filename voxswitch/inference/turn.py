"""Pipecat's smart-turn v3 end-of-turn model, shared by every session (optional).

Pipecat's ``LocalSmartTurnAnalyzerV3`` opens its own ONNX session and its own
thread per analyzer, i.e. per session, and it is what Pipecat's user aggregator
builds by default. Here one ONNX session serves the process: a session's
analyzer (:class:`voxswitch.bot.turn.PooledSmartTurnAnalyzer`) keeps only its
audio buffer and asks this pool for one probability when the VAD hears the
caller stop. Only loaded with ``--turn-detection smart-turn``.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

import numpy as np
import onnxruntime

from voxswitch.errors import BadInputError
from voxswitch.inference.onnx import single_thread_session
from voxswitch.inference.threads import ThreadBudget
from voxswitch.inference.workers import Job, WorkerPool

SAMPLE_RATE = 16000
WINDOW_SECONDS = 8  # the model sees the last 8 s, zero-padded in front when shorter
_WINDOW_SAMPLES = WINDOW_SECONDS * SAMPLE_RATE
_TIMEOUT_S = 10.0


def validate_segment(audio: object) -> np.ndarray:
    """The caller's speech as float32 in -1..1 at 16 kHz, or :class:`BadInputError`."""
    if not isinstance(audio, np.ndarray) or audio.dtype != np.float32 or audio.ndim != 1:
        raise BadInputError("smart-turn takes a 1-D float32 array of 16 kHz audio")
    if audio.size == 0:
        raise BadInputError("smart-turn got empty audio")
    return audio


def last_window(audio: np.ndarray) -> np.ndarray:
    """The last :data:`WINDOW_SECONDS` of ``audio``, zero-padded in front when shorter."""
    if audio.size >= _WINDOW_SAMPLES:
        return audio[-_WINDOW_SAMPLES:]
    return np.pad(audio, (_WINDOW_SAMPLES - audio.size, 0))


class SmartTurnPool:
    """Scores "has the caller finished?" for every session with one shared model."""

    name = "turn"

    def __init__(
        self, session: onnxruntime.InferenceSession, budget: ThreadBudget, *, queue_depth: int
    ):
        # Pipecat's numpy Whisper log-mel features: the same front end the model was
        # trained with. Imported here so only a server that loads this pool pays for it.
        from pipecat.audio.turn.smart_turn._whisper_features import (
            compute_whisper_log_mel_features,
        )

        self._features = compute_whisper_log_mel_features
        self._session = session
        self._budget = budget
        # One thread: a call costs tens of milliseconds once per turn, and it
        # takes a compute slot like every other model call.
        self._workers: WorkerPool[np.ndarray] = WorkerPool(
            self.name,
            self._run,
            threads=1,
            queue_depth=queue_depth,
            niceness=budget.model_niceness,
        )

    @classmethod
    def load(cls, path: Path, budget: ThreadBudget, *, queue_depth: int) -> SmartTurnPool:
        session = single_thread_session(path, "the smart-turn model")
        pool = cls(session, budget, queue_depth=queue_depth)
        pool._probability(np.zeros(SAMPLE_RATE, dtype=np.float32))  # allocate buffers now
        return pool

    async def probability(self, session_id: Hashable, audio: np.ndarray) -> float:
        """Probability (0..1) that the caller finished their turn at the end of ``audio``."""
        return await self._workers.submit(session_id, validate_segment(audio), timeout_s=_TIMEOUT_S)

    def _probability(self, audio: np.ndarray) -> float:
        log_mel = self._features(last_window(audio), do_normalize=True)
        outputs = self._session.run(None, {"input_features": log_mel[np.newaxis, ...]})
        return float(np.asarray(outputs[0]).reshape(-1)[0])  # a sigmoid, shape (1, 1)

    def _run(self, _worker: int, jobs: list[Job[np.ndarray]]) -> None:
        (job,) = jobs
        with self._budget.compute:
            job.finish(self._probability(job.payload))

    def cancel_session(self, session_id: Hashable) -> int:
        return self._workers.cancel_session(session_id)

    async def aclose(self) -> None:
        await self._workers.aclose()
