"""--turn-detection smart-turn: the shared smart-turn model ends the caller's turn."""

from __future__ import annotations

import re

import pytest

from tests.e2e.caller import Caller
from tests.e2e.conftest import speech
from tests.e2e.serverproc import start_server
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e


async def test_smart_turn_ends_the_turn_and_the_bot_answers(sentences):
    server = start_server("--turn-detection", "smart-turn")
    try:
        async with Caller(server.ws_url) as c:
            await c.say_and_wait(speech(sentences[3]))
        assert word_overlap(sentences[3], " ".join(c.log.transcripts)) >= 0.6, c.log.transcripts
        assert c.log.bot_text and c.log.bot_audio_bytes > 0
        metrics = server.get("/metrics").text
        # The verdict came from the shared pool (its latency is recorded per turn).
        count = re.search(r'voxswitch_stage_latency_seconds_count\{stage="turn"\} (\S+)', metrics)
        assert count and float(count.group(1)) >= 1, metrics
    finally:
        server.stop()
