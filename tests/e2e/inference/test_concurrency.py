"""Many sessions on the shared pools at once: no mix-ups, little memory each, fair turns."""

from __future__ import annotations

import asyncio
import gc
import time

import numpy as np
import psutil
import pytest
from pipecat.services.llm_service import LLMService

from tests.e2e.conftest import SENTENCES
from voxswitch.bot.context import SessionContext
from voxswitch.bot.stt import PooledSTTService
from voxswitch.bot.tts import PooledTTSService
from voxswitch.bot.vad import PooledVADAnalyzer
from voxswitch.config import Settings
from voxswitch.inference.pools import Pools
from voxswitch.inference.vad import CHUNK_BYTES, VadStream
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e

SESSIONS = 8
_MAX_SERVICES_GROWTH_MIB = 50.0


async def test_eight_sessions_at_once_each_get_their_own_transcript(
    pools: Pools, utterances: dict[str, bytes]
):
    assert len(SENTENCES) == SESSIONS

    async def transcribe(i: int, sentence: str) -> tuple[str, float]:
        text = await pools.stt.transcribe(f"caller-{i}", utterances[sentence], 16000)
        return text, time.monotonic() - started

    started = time.monotonic()
    results = await asyncio.gather(*(transcribe(i, s) for i, s in enumerate(SENTENCES)))

    print()
    for sentence, (text, done_s) in zip(SENTENCES, results, strict=True):
        own = word_overlap(sentence, text)
        others = max(word_overlap(o, text) for o in SENTENCES if o != sentence)
        print(f"done at {done_s:5.2f} s  own {own:.2f}  best other {others:.2f}  {text!r}")
        assert own >= 0.6, (sentence, text)
        assert own > others, (sentence, text)


def _rss_mib() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def _session_services(session_id: str, settings: Settings, pools: Pools) -> list[object]:
    # SessionContext keeps the transport for bot factories; building services never
    # touches it, and these services are built, not run.
    ctx = SessionContext(session_id, settings, pools, transport=None)  # type: ignore[arg-type]
    return [ctx.vad_analyzer(), ctx.stt(), ctx.llm(), ctx.tts()]


async def test_per_session_services_cost_little_memory(pools: Pools, settings: Settings):
    # Warm-up: first construction imports and caches what every later one shares.
    warm = _session_services("warm-up", settings, pools)
    del warm

    before = _rss_mib()
    sessions = [_session_services(f"session-{i}", settings, pools) for i in range(SESSIONS)]
    growth = _rss_mib() - before

    print(
        f"\nRSS {before:.0f} MiB -> +{growth:.2f} MiB for {SESSIONS} sessions' services "
        f"({1024 * growth / SESSIONS:.0f} KiB each)"
    )
    for vad, stt, llm, tts in sessions:
        assert isinstance(vad, PooledVADAnalyzer)
        assert isinstance(stt, PooledSTTService)
        assert isinstance(llm, LLMService)
        assert isinstance(tts, PooledTTSService)
    assert len({id(s[0]._stream) for s in sessions}) == SESSIONS  # own VAD state each
    assert growth < _MAX_SERVICES_GROWTH_MIB


def _score_alone_and_batched(
    pools: Pools, chunks: list[list[np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    steps = len(chunks[0])
    alone = np.empty((len(chunks), steps))
    for i, stream_chunks in enumerate(chunks):
        stream = pools.vad.new_stream()
        for t, chunk in enumerate(stream_chunks):
            (alone[i, t],) = pools.vad.run_batch([stream], [chunk])
    batched = np.empty_like(alone)
    streams: list[VadStream] = [pools.vad.new_stream() for _ in chunks]
    for t in range(steps):
        batched[:, t] = pools.vad.run_batch(streams, [c[t] for c in chunks])
    return alone, batched


async def test_vad_batched_across_sessions_matches_each_stream_alone(
    pools: Pools, utterances: dict[str, bytes]
):
    def as_chunks(pcm: bytes) -> list[np.ndarray]:
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        n = len(pcm) // CHUNK_BYTES
        return list(samples[: n * CHUNK_BYTES // 2].reshape(n, -1))

    per_session = [as_chunks(utterances[s]) for s in SENTENCES]
    steps = min(len(c) for c in per_session)
    per_session = [c[:steps] for c in per_session]

    # run_batch is synchronous model work: off the event loop.
    alone, batched = await asyncio.to_thread(_score_alone_and_batched, pools, per_session)

    diff = float(np.abs(alone - batched).max())
    speech_share = float((alone > 0.5).mean())
    print(
        f"\n{SESSIONS} streams x {steps} chunks: max |batched - alone| = {diff:.2e}, "
        f"{100 * speech_share:.0f}% of chunks speech"
    )
    assert speech_share > 0.3  # real speech, so the states actually evolve
    assert np.allclose(batched, alone, rtol=0, atol=1e-5)


async def test_a_session_with_one_utterance_is_not_stuck_behind_one_with_six(
    pools: Pools, utterances: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
):
    stt = pools.stt
    workers = stt._workers
    busy_audio = utterances[SENTENCES[0]]
    quiet_audio = utterances[SENTENCES[1]]
    finished: list[str] = []
    dispatched: list[str] = []  # sessions in the order workers took their requests

    pop = workers._queue.pop

    def recording_pop(max_items: int = 1):
        taken = pop(max_items)  # called with the pool's lock held: the order is exact
        dispatched.extend(str(session) for session, _ in taken)
        return taken

    monkeypatch.setattr(workers._queue, "pop", recording_pop)

    async def transcribe(session: str, label: str, audio: bytes) -> str:
        text = await stt.transcribe(session, audio, 16000)
        finished.append(label)
        return text

    # Hold the workers (they take requests under this lock) until all seven
    # requests wait, so the test sees the queue's order rather than a race with
    # idle workers. The loop thread may re-enter it: submitting takes it too.
    with workers._cond:
        busy = [
            asyncio.create_task(transcribe("busy", f"busy-{n}", busy_audio)) for n in range(1, 7)
        ]
        await asyncio.sleep(0)  # each task runs up to awaiting its queued request
        quiet = asyncio.create_task(transcribe("quiet", "quiet-1", quiet_audio))
        await asyncio.sleep(0)
        assert workers.pending() == 7
    texts = await asyncio.gather(*busy, quiet)

    print(f"\ndispatch order: {dispatched}\ncompletion order: {finished}")
    assert word_overlap(SENTENCES[1], texts[-1]) >= 0.6, texts[-1]
    assert dispatched.count("busy") == 6
    # Round robin: the busy session's first request, then the quiet one's, then
    # the rest of the busy session's (first in, first out would put it last).
    assert dispatched.index("quiet") == 1
