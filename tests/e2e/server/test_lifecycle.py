"""Idle timeout, SIGTERM drain, bad settings, and a user bot passed with --bot."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import pytest

from tests.e2e.caller import Caller
from tests.e2e.conftest import speech
from tests.e2e.serverproc import start_server
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e


def test_invalid_setting_exits_2_with_a_message():
    proc = subprocess.run(
        [sys.executable, "-m", "voxswitch.cli", "serve", "--max-sessions", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "max_sessions" in proc.stderr


async def test_idle_timeout_closes_a_silent_session():
    server = start_server("--idle-timeout-s", "2")
    try:
        async with Caller(server.ws_url) as c:
            # Connected but sending nothing: closed with a reason after ~2 s.
            await asyncio.wait_for(c.closed.wait(), 15)
        assert c.log.close_code == 1000
        assert c.log.close_reason == "idle timeout"
        metrics = server.get("/metrics").text
        assert 'voxswitch_sessions_total{outcome="idle_timeout"} 1.0' in metrics
    finally:
        server.stop()


async def test_sigterm_drains_live_turns_then_closes_1001_and_exits_0(sentences):
    server = start_server("--drain-timeout-s", "20")
    talker = Caller(server.ws_url)
    listener = Caller(server.ws_url)
    try:
        async with talker, listener:
            pcm = speech(sentences[4])
            speaking = asyncio.create_task(talker.say_and_wait(pcm))
            # SIGTERM while the talker is mid-sentence: its turn must still be answered.
            await asyncio.sleep(len(pcm) / 32000 / 2)
            server.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            assert server.get("/ready").status_code == 503
            async with Caller(server.ws_url) as late:
                await asyncio.wait_for(late.closed.wait(), 5)
            assert late.log.close_code == 1013 and late.log.close_reason == "draining"
            # The idle listener is closed at once; the talker after its answer.
            await asyncio.wait_for(listener.closed.wait(), 10)
            await asyncio.wait_for(speaking, 40)
            await asyncio.wait_for(talker.closed.wait(), 20)
        assert listener.log.close_code == 1001
        assert talker.log.close_code == 1001
        assert word_overlap(sentences[4], " ".join(talker.log.transcripts)) >= 0.6
        assert talker.log.bot_audio_bytes > 0
        returncode = await asyncio.to_thread(server.proc.wait, 30)
        assert returncode == 0, server.log()
    finally:
        server.stop(signal.SIGKILL)


async def test_user_bot_from_flag_is_used_for_new_sessions(sentences):
    server = start_server("--bot", "tests.e2e.server.echo_bot:create_bot")
    try:
        async with Caller(server.ws_url) as c:
            await c.say_and_wait(speech(sentences[5]))
        # The echo bot speaks back what it heard, with no LLM in between.
        said = " ".join(c.log.bot_text)
        assert said.startswith("You said:"), said
        assert word_overlap(sentences[5], said) >= 0.6
        assert c.log.bot_audio_bytes > 0
    finally:
        server.stop()
