"""Bad input gets the documented answer for its sender only; other sessions carry on."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.caller import Caller
from tests.e2e.conftest import speech
from tests.e2e.serverproc import start_server
from voxswitch.bench.protocol import encode_audio
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e

MAX_BAD = 3


@pytest.fixture(scope="module")
def server():
    srv = start_server(
        "--max-sessions",
        "8",
        "--max-message-bytes",
        "65536",
        env={"VOXSWITCH_MAX_BAD_FRAMES": str(MAX_BAD)},
    )
    yield srv
    srv.stop()


async def test_bad_frames_are_answered_per_sender_while_others_finish_turns(server, sentences):
    async def garbage_then_talk() -> Caller:
        # One undecodable frame: an RTVI error, the session goes on and still works.
        async with Caller(server.ws_url) as c:
            await c.send_raw(b"\xff\x00 this is not protobuf \x13\x37")
            await c.say_and_wait(speech(sentences[3]))
        return c

    async def truncated_run() -> Caller:
        # Truncated protobuf frames in a row: errors, then close 1007.
        whole = encode_audio(bytes(640))
        async with Caller(server.ws_url) as c:
            for _ in range(MAX_BAD):
                await c.send_raw(whole[: len(whole) // 2])
            await asyncio.wait_for(c.closed.wait(), 10)
        return c

    async def oversized() -> Caller:
        async with Caller(server.ws_url) as c:
            await c.send_raw(encode_audio(bytes(200_000)))
            await asyncio.wait_for(c.closed.wait(), 10)
        return c

    async def bystander(text: str) -> Caller:
        async with Caller(server.ws_url) as c:
            await c.say_and_wait(speech(text))
        return c

    g, t, o, b1, b2 = await asyncio.gather(
        garbage_then_talk(),
        truncated_run(),
        oversized(),
        bystander(sentences[0]),
        bystander(sentences[1]),
    )

    assert len(g.log.errors) == 1 and not g.log.errors[0]["fatal"], g.log.errors
    assert "protobuf" in g.log.errors[0]["error"]
    assert word_overlap(sentences[3], " ".join(g.log.transcripts)) >= 0.6
    assert g.log.bot_audio_bytes > 0

    assert t.log.close_code == 1007, (t.log.close_code, t.log.close_reason)
    assert len(t.log.errors) == MAX_BAD and t.log.errors[-1]["fatal"]

    assert o.log.close_code == 1009, (o.log.close_code, o.log.close_reason)

    for text, c in ((sentences[0], b1), (sentences[1], b2)):
        assert word_overlap(text, " ".join(c.log.transcripts)) >= 0.6
        assert c.log.bot_audio_bytes > 0 and not c.log.errors

    metrics = server.get("/metrics").text
    assert 'voxswitch_sessions_total{outcome="protocol_error"} 1.0' in metrics
    assert 'voxswitch_errors_total{stage="protocol"}' in metrics


async def test_wrong_sample_rate_audio_is_refused_with_a_clear_error(server):
    async with Caller(server.ws_url) as c:
        await c.send_raw(encode_audio(bytes(640), sample_rate=8000))
        await c.silence(0.5)
    assert c.log.errors and "16000 Hz mono" in c.log.errors[0]["error"]


async def test_a_processor_failing_for_one_session_ends_only_that_session_with_1011(sentences):
    server = start_server("--bot", "tests.e2e.server.faulty_bot:create_bot")
    try:
        trigger = sentences[6]  # "... kitchen lights ...": the bot's processor raises on it
        assert "lights" in trigger

        async def failing() -> Caller:
            async with Caller(server.ws_url) as c:
                await c.stream(speech(trigger))
                async with asyncio.timeout(30):
                    while not c.closed.is_set():
                        await c.silence(0.2)
            return c

        async def healthy(text: str) -> Caller:
            async with Caller(server.ws_url) as c:
                await c.say_and_wait(speech(text))
            return c

        bad, *good = await asyncio.gather(failing(), healthy(sentences[0]), healthy(sentences[1]))
        assert bad.log.close_code == 1011, (bad.log.close_code, bad.log.close_reason)
        assert bad.log.errors, "the failing caller is told why"
        for text, c in zip(sentences[:2], good, strict=True):
            assert word_overlap(text, " ".join(c.log.transcripts)) >= 0.6
            assert c.log.bot_audio_bytes > 0 and not c.log.errors
            assert c.log.close_code in (None, 1000), c.log.close_code
        metrics = server.get("/metrics").text
        assert 'voxswitch_sessions_total{outcome="error"} 1.0' in metrics
    finally:
        server.stop()
