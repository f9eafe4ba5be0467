"""Whisper (CTranslate2, tiny.en int8) shared by every session, batched across sessions.

Each utterance is encoded in a 10, 20 or 30 s window (see ``encoder_frames``)
rather than Whisper's fixed 30 s, which makes a short voice turn about six
times cheaper. Utterances from several sessions waiting at the same moment can
run as one CTranslate2 batch (``stt_max_batch``); ``voxswitch models`` measures
batch-of-one against batched throughput on the machine at hand.

Utterances longer than 30 s are cut into 30 s windows that ride in the same
batch and are joined again; anything over ``MAX_UTTERANCE_S`` is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxswitch.errors import BadInputError, ModelError
from voxswitch.inference.threads import ThreadBudget
from voxswitch.inference.workers import Job, WorkerPool

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 30 * SAMPLE_RATE
MAX_UTTERANCE_S = 120.0
MIN_UTTERANCE_S = 0.1
# Whisper invents text for silence; a window it is this sure holds no speech yields nothing.
_NO_SPEECH_PROB = 0.6
_MAX_NEW_TOKENS = 200
_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames: Whisper's full window
_BUCKET_FRAMES = 1000
_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Utterance:
    windows: list[np.ndarray]  # float32 mono 16 kHz, each at most 30 s


def decode_pcm16(pcm: bytes, sample_rate: int) -> np.ndarray:
    """Validate and convert one utterance; raise :class:`BadInputError` with the reason."""
    if not isinstance(pcm, bytes | bytearray | memoryview):
        raise BadInputError(f"audio must be PCM16 bytes, got {type(pcm).__name__}")
    if sample_rate != SAMPLE_RATE:
        raise BadInputError(f"speech-to-text takes {SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
    if len(pcm) % 2:
        raise BadInputError("PCM16 audio must have an even number of bytes")
    seconds = len(pcm) / 2 / SAMPLE_RATE
    if seconds < MIN_UTTERANCE_S:
        raise BadInputError(f"audio is empty or too short ({seconds:.2f} s)")
    if seconds > MAX_UTTERANCE_S:
        raise BadInputError(
            f"utterance of {seconds:.0f} s is longer than the {MAX_UTTERANCE_S:.0f} s limit"
        )
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0


def split_windows(samples: np.ndarray) -> list[np.ndarray]:
    return [samples[i : i + WINDOW_SAMPLES] for i in range(0, len(samples), WINDOW_SAMPLES)]


def encoder_frames(mel_frames: int) -> int:
    """Mel frames to encode: the utterance padded up to a 10, 20 or 30 s bucket.

    Whisper was trained on 30 s windows, but CTranslate2 encodes shorter ones,
    and the encoder's cost grows with the window (attention quadratically).
    Measured on tiny.en int8, one thread, eight 2-4 s sentences: 0.81 s per
    utterance at 30 s, 0.12 s at 10 s, with word accuracy no worse (fitting
    the window tightly to the speech cost accuracy). Buckets keep the shapes
    few, so batches of similar utterances still line up.
    """
    bucket = _BUCKET_FRAMES
    while bucket < mel_frames and bucket < _WINDOW_FRAMES:
        bucket += _BUCKET_FRAMES
    return bucket


class WhisperBatch:
    """Greedy Whisper decoding of many 30 s windows in one CTranslate2 call. Thread-safe."""

    def __init__(self, model_dir: Path, *, workers: int):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        try:
            # A directory, never a size name: a name would make faster-whisper go to the hub.
            self._model = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=1,  # the thread budget: parallelism comes from `workers`
                num_workers=workers,
                local_files_only=True,
            )
        except Exception as e:  # ctranslate2 raises RuntimeError/ValueError on bad models
            raise ModelError(f"cannot load Whisper from {model_dir}: {e}") from e
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer,
            self._model.model.is_multilingual,
            task="transcribe",
            language="en",
        )
        self._prompt = self._model.get_prompt(
            self._tokenizer, previous_tokens=[], without_timestamps=True
        )

    def transcribe(self, windows: Sequence[np.ndarray]) -> list[str]:
        from faster_whisper.audio import pad_or_trim

        mels = [self._model.feature_extractor(w)[..., :-1] for w in windows]
        frames = encoder_frames(max(m.shape[-1] for m in mels))
        features = np.stack([pad_or_trim(m, frames) for m in mels])
        encoded = self._model.encode(features)
        results = self._model.model.generate(
            encoded,
            [list(self._prompt) for _ in windows],
            beam_size=1,
            max_length=len(self._prompt) + _MAX_NEW_TOKENS,
            suppress_blank=True,
            suppress_tokens=[-1],
            return_no_speech_prob=True,
        )
        texts = []
        for result in results:
            if result.no_speech_prob > _NO_SPEECH_PROB:
                texts.append("")
            else:
                texts.append(self._tokenizer.decode(result.sequences_ids[0]).strip())
        return texts


class SttPool:
    """Speech-to-text for every session: fair queue, batched runs, bounded workers."""

    name = "stt"

    def __init__(
        self, whisper: WhisperBatch, budget: ThreadBudget, *, queue_depth: int, max_batch: int
    ):
        self._whisper = whisper
        self._budget = budget
        self._workers: WorkerPool[Utterance] = WorkerPool(
            self.name,
            self._run,
            threads=budget.stt_workers,
            queue_depth=queue_depth,
            max_batch=max_batch,
            niceness=budget.model_niceness,
        )

    @classmethod
    def load(
        cls, model_dir: Path, budget: ThreadBudget, *, queue_depth: int, max_batch: int
    ) -> SttPool:
        whisper = WhisperBatch(model_dir, workers=budget.stt_workers)
        # The first call allocates CTranslate2's buffers: let no caller pay for it.
        whisper.transcribe([np.zeros(SAMPLE_RATE, dtype=np.float32)])
        return cls(
            whisper,
            budget,
            queue_depth=queue_depth,
            max_batch=max_batch,
        )

    async def transcribe(self, session_id: Hashable, pcm: bytes, sample_rate: int) -> str:
        """The text of one utterance (16 kHz mono PCM16); '' if it held no speech."""
        samples = decode_pcm16(pcm, sample_rate)
        utterance = Utterance(split_windows(samples))
        return await self._workers.submit(session_id, utterance, timeout_s=_TIMEOUT_S)

    def transcribe_sync(self, windows: Sequence[np.ndarray]) -> list[str]:
        """Run Whisper now on this thread (checks and benchmarks)."""
        with self._budget.compute:
            return self._whisper.transcribe(windows)

    def _run(self, _worker: int, jobs: list[Job[Utterance]]) -> None:
        windows = [w for job in jobs for w in job.payload.windows]
        texts = self.transcribe_sync(windows)
        at = 0
        for job in jobs:
            n = len(job.payload.windows)
            job.finish(" ".join(t for t in texts[at : at + n] if t))
            at += n

    def cancel_session(self, session_id: Hashable) -> int:
        return self._workers.cancel_session(session_id)

    async def aclose(self) -> None:
        await self._workers.aclose()
