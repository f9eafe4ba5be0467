"""``voxswitch models``: load every model, run each once for real, print what it costs.

TTS speaks a sentence, STT hears it back, the LLM answers the transcript, the
VAD scores the audio and the (optional) smart-turn model judges it finished;
then the two batching decisions (VAD across sessions, Whisper across sessions)
are measured single against batched on this machine. Exit code 0 only if every step worked.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psutil
import soxr

from voxswitch.config import Settings
from voxswitch.errors import VoxswitchError
from voxswitch.inference.pools import Pools
from voxswitch.inference.vad import CHUNK_BYTES, CHUNK_SAMPLES
from voxswitch.textmatch import word_overlap

SENTENCE = "Please book a table for four people at seven tonight."
_MIN_OVERLAP = 0.6


@dataclass
class Row:
    step: str
    seconds: float
    detail: str
    ok: bool = True


def _rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _per_call(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: first calls allocate
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


async def _check(settings: Settings, out: list[Row]) -> Pools:
    rss_before = _rss_mib()
    started = time.monotonic()
    pools = await Pools.load(settings, progress=lambda m: print(f"  {m}", file=sys.stderr))
    out.append(
        Row(
            "load all models", time.monotonic() - started, f"RSS +{_rss_mib() - rss_before:.0f} MiB"
        )
    )
    assert pools.llm is not None

    started = time.monotonic()
    audio = await pools.tts.speak("check", SENTENCE, pools.tts.voice_rate)
    seconds = len(audio) / 2 / pools.tts.voice_rate
    tts_s = time.monotonic() - started
    out.append(
        Row("TTS  one sentence", tts_s, f"{seconds:.1f} s of audio, RTF {tts_s / seconds:.2f}")
    )

    samples = np.frombuffer(audio, dtype=np.int16)
    pcm16k = soxr.resample(samples, pools.tts.voice_rate, 16000).astype(np.int16).tobytes()
    started = time.monotonic()
    text = await pools.stt.transcribe("check", pcm16k, 16000)
    overlap = word_overlap(SENTENCE, text)
    out.append(
        Row(
            "STT  that sentence",
            time.monotonic() - started,
            f"{text!r} (word overlap {overlap:.2f})",
            ok=overlap >= _MIN_OVERLAP,
        )
    )

    started = time.monotonic()
    first: float | None = None
    reply = ""
    tokens = 0
    async for piece in pools.llm.stream(
        "check",
        [{"role": "system", "content": settings.system_prompt}, {"role": "user", "content": text}],
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
    ):
        first = first if first is not None else time.monotonic() - started
        reply += piece
        tokens += 1
    total = time.monotonic() - started
    out.append(
        Row(
            "LLM  reply",
            total,
            f"first token {1000 * (first or 0):.0f} ms, {tokens / total:.0f} tok/s: "
            f"{reply.strip()[:60]!r}",
            ok=bool(reply.strip()),
        )
    )

    stream = pools.vad.new_stream()
    confidences = [
        await stream.confidence(pcm16k[i : i + CHUNK_BYTES])
        for i in range(0, len(pcm16k) - CHUNK_BYTES + 1, CHUNK_BYTES)
    ]
    out.append(
        Row(
            "VAD  the sentence",
            0.0,
            f"{sum(c > settings.vad_confidence for c in confidences)}/{len(confidences)} "
            "chunks speech",
            ok=max(confidences) > settings.vad_confidence,
        )
    )
    if pools.turn is not None:
        started = time.monotonic()
        finished = await pools.turn.probability(
            "check", np.frombuffer(pcm16k, dtype=np.int16).astype(np.float32) / 32768.0
        )
        out.append(
            Row(
                "TURN the sentence",
                time.monotonic() - started,
                f"finished with probability {finished:.2f} (smart-turn)",
                ok=finished > 0.5,
            )
        )
    await asyncio.to_thread(_measure_batching, pools, pcm16k, out)
    return pools


def _measure_batching(pools: Pools, pcm16k: bytes, out: list[Row]) -> None:
    chunk = np.frombuffer(pcm16k[:CHUNK_BYTES], dtype=np.int16).astype(np.float32) / 32768.0
    assert chunk.shape == (CHUNK_SAMPLES,)
    for batch in (1, 8, 64):
        streams = [pools.vad.new_stream() for _ in range(batch)]
        per_call = _per_call(lambda s=streams: pools.vad.run_batch(s, [chunk] * len(s)), 200)
        out.append(
            Row(
                f"VAD  batch of {batch}",
                per_call,
                f"{1000 * per_call / batch:.3f} ms per stream-chunk",
            )
        )
    window = np.frombuffer(pcm16k, dtype=np.int16).astype(np.float32) / 32768.0
    single = _per_call(lambda: pools.stt.transcribe_sync([window]), 3)
    batch_n = 4
    batched = _per_call(lambda: pools.stt.transcribe_sync([window] * batch_n), 2)
    out.append(Row("STT  batch of 1", single, f"{1 / single:.2f} utterances/s"))
    out.append(
        Row(
            f"STT  batch of {batch_n}",
            batched,
            f"{batch_n / batched:.2f} utterances/s ({single * batch_n / batched:.2f}x batch of 1)",
        )
    )


def run_model_check(settings: Settings) -> int:
    rows: list[Row] = []

    async def main() -> None:
        pools = None
        try:
            # Every model, the optional smart-turn one included.
            every_model = settings.model_copy(update={"turn_detection": "smart-turn"})
            pools = await _check(every_model, rows)
        finally:
            if pools is not None:
                await pools.aclose()

    failed: str | None = None
    try:
        asyncio.run(main())
    except VoxswitchError as e:
        failed = f"{type(e).__name__}: {e}"
    print(f"{'step':<22} {'seconds':>9}  detail")
    for row in rows:
        mark = "" if row.ok else "  <-- FAILED"
        print(f"{row.step:<22} {row.seconds:>9.4f}  {row.detail}{mark}")
    print(f"process RSS {_rss_mib():.0f} MiB, {psutil.cpu_count()} cores")
    if failed:
        print(f"voxswitch models: {failed}", file=sys.stderr)
    return 0 if not failed and all(r.ok for r in rows) else 1
