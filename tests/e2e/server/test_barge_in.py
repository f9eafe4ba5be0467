"""Barge-in: a caller who talks over the bot interrupts it, and is answered in turn."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.caller import Caller
from tests.e2e.conftest import speech
from tests.e2e.serverproc import start_server
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e

# A prompt that makes even a small model talk for a while.
LONG_ANSWER = "Tell me a long story about a brave dragon who lives in the mountains."
BARGE_IN = "Stop, please turn off the kitchen lights."
# Audio already on its way when the server learns of the interruption: the
# output transport sends ahead of playback by at most a few 20 ms chunks.
IN_FLIGHT_BYTES = 24000 * 2 // 2  # half a second of 24 kHz PCM16


async def test_talking_over_the_bot_interrupts_it_and_gets_answered():
    server = start_server("--llm-max-tokens", "160")
    try:
        async with Caller(server.ws_url) as c:
            await c.silence(0.3)
            await c.stream(speech(LONG_ANSWER))
            async with asyncio.timeout(30):
                while c.log.first_bot_audio_at is None:
                    await c.silence(0.1)
            # The bot is speaking: talk over it.
            await c.silence(0.3)
            talk_over_at = len(c.log.timeline)
            await c.say_and_wait(speech(BARGE_IN))
            await c.silence(1.0)

        assert len(c.log.transcripts) >= 2, c.log.transcripts
        assert word_overlap(BARGE_IN, c.log.transcripts[-1]) >= 0.6, c.log.transcripts
        after = c.log.timeline[talk_over_at:]
        kinds = [k for k, _ in after]
        assert "interruption" in kinds, kinds[:20]
        cut = kinds.index("interruption")
        second_transcript = cut + kinds[cut:].index("transcript")
        # Between the interruption and the barge-in's transcript the first answer
        # is silenced: only what was already in flight may still arrive ...
        leaked = sum(n for k, n in after[cut:second_transcript] if k == "audio")
        assert leaked <= IN_FLIGHT_BYTES, leaked
        # ... and the barge-in is answered with audio of its own.
        assert any(k == "audio" for k, _ in after[second_transcript:])
        assert not c.log.errors, c.log.errors
    finally:
        server.stop()
