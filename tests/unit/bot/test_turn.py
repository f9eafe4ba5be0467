"""Turn-taking choices and the pooled smart-turn analyzer, over a scripted pool."""

from __future__ import annotations

import numpy as np
import pytest
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.turns.user_stop.speech_timeout_user_turn_stop_strategy import (
    SpeechTimeoutUserTurnStopStrategy,
)
from pipecat.turns.user_stop.turn_analyzer_user_turn_stop_strategy import (
    TurnAnalyzerUserTurnStopStrategy,
)

from voxswitch import events
from voxswitch.bot.turn import PooledSmartTurnAnalyzer, user_turn_strategies
from voxswitch.config import Settings
from voxswitch.errors import ConfigError, PoolOverloadedError

RATE = 16000
FRAME = np.full(640, 1000, dtype=np.int16).tobytes()  # 40 ms
QUIET = bytes(1280)


class ScriptedTurnPool:
    def __init__(self, answer: float | Exception):
        self.answer = answer
        self.calls: list[tuple[str, np.ndarray]] = []

    async def probability(self, session_id: str, audio: np.ndarray) -> float:
        self.calls.append((session_id, audio))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _analyzer(pool) -> PooledSmartTurnAnalyzer:
    analyzer = PooledSmartTurnAnalyzer(pool, session_id="s1")
    analyzer.set_sample_rate(RATE)
    return analyzer


def _speak(analyzer: PooledSmartTurnAnalyzer, speech_frames: int, quiet_frames: int) -> None:
    for _ in range(speech_frames):
        analyzer.append_audio(FRAME, is_speech=True)
    for _ in range(quiet_frames):
        analyzer.append_audio(QUIET, is_speech=False)


async def test_a_finished_turn_asks_the_pool_once_and_clears_the_buffer():
    pool = ScriptedTurnPool(0.9)
    analyzer = _analyzer(pool)
    _speak(analyzer, speech_frames=25, quiet_frames=5)
    state, metrics = await analyzer.analyze_end_of_turn()
    assert state == EndOfTurnState.COMPLETE
    assert metrics.is_complete and metrics.probability == pytest.approx(0.9)
    ((session, audio),) = pool.calls
    assert session == "s1"
    assert audio.dtype == np.float32 and audio.size == 30 * 640
    assert audio[0] == pytest.approx(1000 / 32768)
    assert analyzer.speech_segment() is None


async def test_an_unfinished_turn_keeps_listening():
    analyzer = _analyzer(ScriptedTurnPool(0.2))
    _speak(analyzer, speech_frames=10, quiet_frames=5)
    state, metrics = await analyzer.analyze_end_of_turn()
    assert state == EndOfTurnState.INCOMPLETE and not metrics.is_complete
    assert analyzer.speech_segment().size == 15 * 640  # the caller may go on


async def test_no_audio_no_question():
    pool = ScriptedTurnPool(0.9)
    state, metrics = await _analyzer(pool).analyze_end_of_turn()
    assert (state, metrics, pool.calls) == (EndOfTurnState.INCOMPLETE, None, [])


async def test_a_pool_without_an_answer_falls_back_to_the_vad_and_counts_an_error():
    seen: list[object] = []
    unsubscribe = events.subscribe(seen.append)
    try:
        analyzer = _analyzer(ScriptedTurnPool(PoolOverloadedError("turn queue full")))
        _speak(analyzer, speech_frames=5, quiet_frames=5)
        state, _ = await analyzer.analyze_end_of_turn()
    finally:
        unsubscribe()
    assert state == EndOfTurnState.COMPLETE
    assert events.StageError("turn", "s1") in seen


def test_vad_turn_detection_waits_no_longer_than_the_vad():
    strategies = user_turn_strategies(Settings(), pool=None, session_id="s1")
    (stop,) = strategies.stop
    assert isinstance(stop, SpeechTimeoutUserTurnStopStrategy)
    assert stop._user_speech_timeout == 0.0


def test_smart_turn_detection_uses_the_shared_pool():
    settings = Settings(turn_detection="smart-turn", smart_turn_max_silence_s=2.0)
    pool = ScriptedTurnPool(0.9)
    (stop,) = user_turn_strategies(settings, pool=pool, session_id="s1").stop
    assert isinstance(stop, TurnAnalyzerUserTurnStopStrategy)
    assert isinstance(stop._turn_analyzer, PooledSmartTurnAnalyzer)
    assert stop._turn_analyzer.params.stop_secs == 2.0
    with pytest.raises(ConfigError, match="no smart-turn pool"):
        user_turn_strategies(settings, pool=None, session_id="s1")
