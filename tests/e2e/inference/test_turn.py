"""The shared smart-turn model: one copy scores many sessions' turns, as Pipecat's own would."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

from voxswitch.inference.pools import Pools

pytestmark = pytest.mark.e2e

_TIMEOUT_S = 60.0
QUESTION = "Can you tell me what the weather will be like tomorrow?"


@pytest.fixture
async def segments(pools: Pools) -> list[np.ndarray]:
    """A spoken question, whole and cut off at several points mid-sentence."""
    pcm = await pools.tts.speak("turn-voice", QUESTION, 16000)
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    return [audio[: int(audio.size * part)] for part in (1.0, 0.8, 0.6, 0.45, 0.3)]


async def test_the_pool_answers_what_pipecats_own_analyzer_answers(
    pools: Pools, segments: list[np.ndarray]
):
    assert pools.turn is not None
    reference = LocalSmartTurnAnalyzerV3()  # Pipecat's per-session analyzer, for comparison
    reference.set_sample_rate(16000)
    async with asyncio.timeout(_TIMEOUT_S):
        ours = [await pools.turn.probability("a", s) for s in segments]
    theirs = [reference._predict_endpoint(s)["probability"] for s in segments]
    print(f"\nsmart-turn pool {np.round(ours, 3)} pipecat {np.round(theirs, 3)}")
    assert ours == pytest.approx(theirs, abs=1e-4)
    assert ours[0] > 0.5  # the whole question is a finished turn


async def test_sessions_at_once_each_get_their_own_verdict(
    pools: Pools, segments: list[np.ndarray]
):
    assert pools.turn is not None
    async with asyncio.timeout(_TIMEOUT_S):
        alone = [await pools.turn.probability("alone", s) for s in segments]
        together = await asyncio.gather(
            *(pools.turn.probability(f"s{i}", s) for i, s in enumerate(segments))
        )
    assert together == pytest.approx(alone, abs=1e-5)
