"""Silero VAD shared by every session, batched across sessions.

One ONNX session serves the process. Each caller holds a :class:`VadStream`:
its own recurrent state and 64-sample context, a few hundred bytes. Chunks
that arrive from many streams within a short window run as one model call
with a batch axis; the states are stacked before and split after, so each
stream's result is exactly what it would get alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime

from voxswitch.errors import BadInputError
from voxswitch.inference.onnx import single_thread_session
from voxswitch.inference.workers import Job, WorkerPool

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CHUNK_SAMPLES = 512  # Silero v5 at 16 kHz: 32 ms
CHUNK_BYTES = CHUNK_SAMPLES * 2
CONTEXT_SAMPLES = 64
STATE_SHAPE = (2, 1, 128)

# Same reset policy as Pipecat's SileroVADAnalyzer: the recurrent state drifts
# over long non-speech, so it is cleared every ~2 s of audio once the stream is
# clearly quiet (a reset during speech would cut the speech short).
_RESET_INTERVAL_CHUNKS = int(2.0 * SAMPLE_RATE / CHUNK_SAMPLES)
_RESET_MAX_CONFIDENCE = 0.1
_RESET_LOW_CONFIDENCE_CHUNKS = 5


class VadStream:
    """One session's VAD state over the shared model. Not for concurrent use."""

    def __init__(self, pool: VadPool):
        self._pool = pool
        self.state = np.zeros(STATE_SHAPE, dtype=np.float32)
        self.context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._chunks_since_reset = 0
        self._low_confidence_chunks = 0
        self._busy = False

    async def confidence(self, chunk: bytes) -> float:
        """Speech probability of one 32 ms chunk of 16 kHz PCM16 (exactly 1024 bytes)."""
        if len(chunk) != CHUNK_BYTES:
            raise BadInputError(
                f"VAD takes chunks of {CHUNK_SAMPLES} samples ({CHUNK_BYTES} bytes), "
                f"got {len(chunk)}"
            )
        if self._busy:
            # The recurrent state makes order matter: a second chunk in flight
            # would be scored against the wrong state.
            raise BadInputError("a VadStream takes one chunk at a time")
        self._busy = True
        try:
            return await self._pool.score(self, chunk)
        finally:
            self._busy = False

    def reset(self) -> None:
        self.state = np.zeros(STATE_SHAPE, dtype=np.float32)
        self.context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._chunks_since_reset = 0
        self._low_confidence_chunks = 0

    def after_chunk(self, confidence: float) -> None:
        """Apply the periodic reset (called on the worker thread that scored the chunk)."""
        self._chunks_since_reset += 1
        if confidence < _RESET_MAX_CONFIDENCE:
            self._low_confidence_chunks += 1
        else:
            self._low_confidence_chunks = 0
        if (
            self._chunks_since_reset >= _RESET_INTERVAL_CHUNKS
            and self._low_confidence_chunks >= _RESET_LOW_CONFIDENCE_CHUNKS
        ):
            self.reset()


def pcm16_chunks(chunks: Sequence[bytes]) -> np.ndarray:
    """PCM16 chunks as one float32 array (batch, CHUNK_SAMPLES), converted in one go."""
    joined = np.frombuffer(b"".join(chunks), dtype=np.int16)
    return joined.reshape(len(chunks), CHUNK_SAMPLES).astype(np.float32) / 32768.0


def stack_batch(
    streams: Sequence[VadStream], chunks: Sequence[np.ndarray] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs for a batch: each stream's context before its chunk, states side by side."""
    batch = np.empty((len(streams), CONTEXT_SAMPLES + CHUNK_SAMPLES), dtype=np.float32)
    for i, stream in enumerate(streams):
        batch[i, :CONTEXT_SAMPLES] = stream.context
    batch[:, CONTEXT_SAMPLES:] = chunks
    state = np.concatenate([s.state for s in streams], axis=1)
    return batch, state


def split_batch(
    streams: Sequence[VadStream], inputs: np.ndarray, output: np.ndarray, new_state: np.ndarray
) -> list[float]:
    """Give each stream back its own new state and context; return the confidences in order."""
    confidences = []
    for i, stream in enumerate(streams):
        stream.state = np.ascontiguousarray(new_state[:, i : i + 1, :])
        stream.context = inputs[i, -CONTEXT_SAMPLES:].copy()
        confidences.append(float(output[i, 0]))
    return confidences


def load_silero(path: Path) -> onnxruntime.InferenceSession:
    # One thread per call: batching, not intra-op threads, is how VAD scales.
    return single_thread_session(path, "Silero VAD")


class VadPool:
    """The process-wide Silero model; hands out light per-session streams."""

    name = "vad"

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        *,
        threads: int = 1,
        max_batch: int = 64,
        batch_window_s: float = 0.002,
    ):
        self._session = session
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        # Queue depth never binds: each stream has at most one chunk in flight.
        self._workers: WorkerPool[bytes] = WorkerPool(
            self.name,
            self._run,
            threads=threads,
            queue_depth=1_000_000,
            max_batch=max_batch,
            batch_window_s=batch_window_s,
        )

    @classmethod
    def load(cls, path: Path, **kwargs) -> VadPool:
        return cls(load_silero(path), **kwargs)

    def new_stream(self) -> VadStream:
        return VadStream(self)

    async def score(self, stream: VadStream, chunk: bytes) -> float:
        # No per-request timer: see WorkerPool.submit. Converting to float
        # happens on the worker, once per batch, not once per chunk on the loop.
        return await self._workers.submit(stream, chunk, timeout_s=None)

    def run_batch(self, streams: Sequence[VadStream], chunks: Sequence[np.ndarray]) -> list[float]:
        """Score one chunk per stream in one model call (synchronous; worker threads and checks)."""
        inputs, state = stack_batch(streams, chunks)
        output, new_state = self._session.run(
            None, {"input": inputs, "state": state, "sr": self._sr}
        )
        confidences = split_batch(streams, inputs, output, new_state)
        for stream, confidence in zip(streams, confidences, strict=True):
            stream.after_chunk(confidence)
        return confidences

    def _run(self, _worker: int, jobs: list[Job[bytes]]) -> None:
        streams = [job.session for job in jobs]
        chunks = pcm16_chunks([job.payload for job in jobs])
        confidences = self.run_batch(streams, chunks)  # type: ignore[arg-type]
        for job, confidence in zip(jobs, confidences, strict=True):
            job.finish(confidence)

    async def aclose(self) -> None:
        await self._workers.aclose()
