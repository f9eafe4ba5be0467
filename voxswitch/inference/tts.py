"""Piper (ONNX, joe-medium) shared by every session.

One ONNX session serves all worker threads (ONNX Runtime sessions are safe to
run from several threads; Piper serialises its espeak phonemizer itself).
Audio leaves one sentence at a time (the first clause of a long one alone),
resampled from the voice's 22.05 kHz to the rate the session asked for;
cancellation is checked between sentences.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from voxswitch.errors import BadInputError, ModelError
from voxswitch.inference.onnx import single_thread_session
from voxswitch.inference.threads import ThreadBudget
from voxswitch.inference.workers import Job, WorkerPool

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
MIN_RATE, MAX_RATE = 8000, 48000
_CHUNK_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    sample_rate: int


def validate_speech(text: Any, sample_rate: Any) -> SpeechRequest:
    if not isinstance(text, str):
        raise BadInputError(f"text-to-speech takes a string, got {type(text).__name__}")
    if not text.strip():
        raise BadInputError("text-to-speech got empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise BadInputError(f"text of {len(text)} chars is over the {MAX_TEXT_CHARS} limit")
    if not isinstance(sample_rate, int) or not MIN_RATE <= sample_rate <= MAX_RATE:
        raise BadInputError(
            f"output sample rate must be {MIN_RATE}..{MAX_RATE} Hz, got {sample_rate!r}"
        )
    return SpeechRequest(text, sample_rate)


_CLAUSE_END = re.compile(r"[,;:]\s+")
_MIN_CLAUSE_CHARS = 12


def first_clause_split(text: str) -> list[str]:
    """``text`` as [first clause, rest] when that lets audio start sooner, else [text].

    Piper renders a sentence in one call, so the first audio of a long sentence
    waits for all of it. Rendering the opening clause on its own (its comma
    is a pause anyway) puts sound on the wire after a fraction of the time.
    """
    match = _CLAUSE_END.search(text, _MIN_CLAUSE_CHARS)
    if match is None or len(text) - match.end() < _MIN_CLAUSE_CHARS:
        return [text]
    return [text[: match.start() + 1], text[match.end() :]]


def load_piper(path: Path) -> Any:
    from piper import PiperVoice
    from piper.config import PiperConfig

    try:
        with open(f"{path}.json", encoding="utf-8") as f:
            config = PiperConfig.from_dict(json.load(f))
    except (OSError, ValueError, KeyError, TypeError) as e:  # missing file, bad JSON or fields
        raise ModelError(f"cannot load the Piper voice's config {path}.json: {e}") from e
    # PiperVoice.load would let ONNX Runtime take every core per call; the
    # budget gives each worker thread one.
    return PiperVoice(session=single_thread_session(path, "the Piper voice"), config=config)


class TtsPool:
    """Speaks text for every session with the shared voice."""

    name = "tts"

    def __init__(self, voice: Any, budget: ThreadBudget, *, queue_depth: int):
        self._voice = voice
        self._budget = budget
        self.voice_rate: int = voice.config.sample_rate
        self._workers: WorkerPool[SpeechRequest] = WorkerPool(
            self.name,
            self._run,
            threads=budget.tts_workers,
            queue_depth=queue_depth,
            niceness=budget.model_niceness,
        )

    @classmethod
    def load(cls, path: Path, budget: ThreadBudget, *, queue_depth: int) -> TtsPool:
        voice = load_piper(path)
        # The first call allocates ONNX Runtime's buffers: let no caller pay for it.
        for _ in voice.synthesize("Hello."):
            pass
        return cls(voice, budget, queue_depth=queue_depth)

    async def synthesize(
        self, session_id: Hashable, text: str, sample_rate: int
    ) -> AsyncIterator[bytes]:
        """Yield mono PCM16 at ``sample_rate``, a sentence at a time; ``aclose()`` stops it."""
        request = validate_speech(text, sample_rate)
        # aclosing: closing this generator must cancel the job now, not when
        # asyncio finalizes the inner stream later (see LlmPool.stream).
        async with contextlib.aclosing(
            self._workers.stream(session_id, request, item_timeout_s=_CHUNK_TIMEOUT_S)
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    async def speak(self, session_id: Hashable, text: str, sample_rate: int) -> bytes:
        return b"".join([c async for c in self.synthesize(session_id, text, sample_rate)])

    def _run(self, _worker: int, jobs: list[Job[SpeechRequest]]) -> None:
        (job,) = jobs
        request = job.payload
        sentences = itertools.chain.from_iterable(
            self._voice.synthesize(piece) for piece in first_clause_split(request.text)
        )
        while not job.cancelled.is_set():
            with self._budget.compute:
                chunk = next(sentences, None)
            if chunk is None:
                break
            audio = chunk.audio_int16_array
            if request.sample_rate != self.voice_rate:
                audio = soxr.resample(audio, self.voice_rate, request.sample_rate)
            job.emit(np.asarray(audio, dtype=np.int16).tobytes())
        if not job.cancelled.is_set():
            job.finish()

    def cancel_session(self, session_id: Hashable) -> int:
        return self._workers.cancel_session(session_id)

    async def aclose(self) -> None:
        await self._workers.aclose()
