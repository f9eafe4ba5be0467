"""Many callers at once on a real ``voxswitch serve``: isolation, capacity, clean-up."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.caller import Caller
from tests.e2e.conftest import speech
from tests.e2e.serverproc import start_server
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server():
    srv = start_server("--max-sessions", "6", "--idle-timeout-s", "120")
    yield srv
    srv.stop()


async def test_six_callers_each_hear_their_own_transcript_and_a_seventh_is_refused(
    server, sentences
):
    mine = sentences[:6]
    baseline = server.get("/api/process").json()

    async def call(text: str) -> Caller:
        async with Caller(server.ws_url) as c:
            await c.silence(0.3)
            await c.say_and_wait(speech(text))
        return c

    async def seventh() -> Caller:
        await asyncio.sleep(1.0)  # all six are connected by now
        async with Caller(server.ws_url) as c:
            await asyncio.wait_for(c.closed.wait(), 5)
        return c

    results = await asyncio.gather(*(call(t) for t in mine), seventh())
    callers, refused = results[:6], results[6]

    assert refused.log.close_code == 1013
    assert refused.log.close_reason == "at capacity"

    for text, c in zip(mine, callers, strict=True):
        heard = " ".join(c.log.transcripts)
        own = word_overlap(text, heard)
        others = max(word_overlap(o, heard) for o in mine if o != text)
        assert own >= 0.6, (text, heard)
        assert own > others, (text, heard)
        assert c.log.bot_audio_bytes > 0, text
        assert not c.log.errors, c.log.errors

    # Every session ended and released what it had.
    await asyncio.sleep(1.0)
    after = server.get("/api/process").json()
    assert after["live_sessions"] == 0
    assert after["asyncio_tasks"] <= baseline["asyncio_tasks"] + 2, (baseline, after)

    metrics = server.get("/metrics").text
    assert 'voxswitch_refusals_total{reason="at_capacity"} 1.0' in metrics
    for stage in ("stt", "llm_ttft", "tts_ttfb", "voice_to_voice"):
        assert f'voxswitch_stage_latency_seconds_count{{stage="{stage}"}}' in metrics, stage
        count_line = next(
            line
            for line in metrics.splitlines()
            if line.startswith(f'voxswitch_stage_latency_seconds_count{{stage="{stage}"}}')
        )
        assert float(count_line.split()[-1]) >= 6, count_line
    assert 'voxswitch_sessions_total{outcome="client_disconnect"} 6.0' in metrics


async def test_a_caller_dropping_mid_turn_does_not_disturb_others_and_resources_return(
    server, sentences
):
    # Warm-up at the same concurrency as the test, so per-thread model buffers
    # (CTranslate2, ONNX Runtime arenas) that stay allocated once grown are in
    # the baseline rather than counted as a leak.
    async def stayer(text: str) -> Caller:
        async with Caller(server.ws_url) as c:
            await c.say_and_wait(speech(text))
        return c

    await asyncio.gather(*(stayer(t) for t in sentences[5:8]))
    await asyncio.sleep(1.0)
    baseline = server.get("/api/process?collect=true").json()

    async def dropper() -> None:
        c = Caller(server.ws_url)
        await c.__aenter__()
        # Half a sentence, then the network goes away without a close handshake.
        pcm = speech(sentences[0])
        await c.stream(pcm[: len(pcm) // 2])
        assert c._ws is not None
        c._ws.transport.abort()
        await asyncio.wait_for(c.closed.wait(), 5)
        assert c._reader is not None
        await c._reader

    results = await asyncio.gather(dropper(), stayer(sentences[1]), stayer(sentences[2]))
    for text, c in zip(sentences[1:3], results[1:], strict=True):
        assert word_overlap(text, " ".join(c.log.transcripts)) >= 0.6
        assert c.log.bot_audio_bytes > 0

    await asyncio.sleep(2.0)
    after = server.get("/api/process?collect=true").json()
    print(f"RSS baseline {baseline['rss_bytes'] >> 20} MiB, after {after['rss_bytes'] >> 20} MiB")
    assert after["live_sessions"] == 0
    # Exact: no session object graph survives its session (the dropper's included).
    assert after["sessions_in_memory"] == 0, after
    assert after["asyncio_tasks"] <= baseline["asyncio_tasks"] + 2, (baseline, after)
    # Native allocators keep freed pages for reuse, so RSS is only "near" baseline.
    assert after["rss_bytes"] - baseline["rss_bytes"] < 0.2 * baseline["rss_bytes"], (
        baseline,
        after,
    )
