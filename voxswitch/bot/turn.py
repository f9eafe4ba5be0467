"""How a session decides that the caller has finished their turn.

Pipecat's user aggregator, left to its defaults, gives every session its own
``LocalSmartTurnAnalyzerV3``: an ONNX session and a thread per caller, fed every
inbound audio frame. voxswitch chooses explicitly (``turn_detection``):

- ``"vad"`` (default): the turn ends when the VAD has heard ``vad_stop_secs`` of
  silence and the session's transcript is in. Nothing waits beyond that.
- ``"smart-turn"``: the same, and the smart-turn model (one shared copy, see
  :mod:`voxswitch.inference.turn`) must judge the words finished; if it does not,
  the turn waits for the caller to go on, up to ``smart_turn_max_silence_s``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import soxr
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn, SmartTurnParams
from pipecat.metrics.metrics import MetricsData, TurnMetricsData
from pipecat.turns.user_stop.speech_timeout_user_turn_stop_strategy import (
    SpeechTimeoutUserTurnStopStrategy,
)
from pipecat.turns.user_stop.turn_analyzer_user_turn_stop_strategy import (
    TurnAnalyzerUserTurnStopStrategy,
)
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voxswitch import events
from voxswitch.config import Settings
from voxswitch.errors import ConfigError, InferenceError, RequestCancelledError
from voxswitch.inference.turn import SAMPLE_RATE, SmartTurnPool


class PooledSmartTurnAnalyzer(BaseSmartTurn):
    """One session's smart-turn state (its audio since speech began) over the shared model."""

    def __init__(
        self, pool: SmartTurnPool, *, session_id: str, params: SmartTurnParams | None = None
    ):
        super().__init__(params=params)
        self._pool = pool
        self._session_id = session_id

    def speech_segment(self) -> np.ndarray | None:
        """The caller's audio from just before speech began, as 16 kHz float32 (None if empty).

        The same span BaseSmartTurn picks on its own thread (pre-speech lead-in,
        capped at ``max_duration_secs``), taken here on the loop: a copy of a few
        seconds of PCM, once per turn.
        """
        if not self._audio_buffer:
            return None
        lead_in = self._params.pre_speech_ms / 1000.0 + self._vad_start_secs
        since = self._speech_start_time - lead_in
        first = next((i for i, (t, _) in enumerate(self._audio_buffer) if t >= since), 0)
        pcm = np.concatenate([chunk for _, chunk in self._audio_buffer[first:]])
        pcm = pcm[-int(self._params.max_duration_secs * self.sample_rate) :]
        if pcm.size == 0:
            return None
        audio = pcm.astype(np.float32) / 32768.0
        if self.sample_rate != SAMPLE_RATE:
            audio = soxr.resample(audio, self.sample_rate, SAMPLE_RATE).astype(np.float32)
        return audio

    async def analyze_end_of_turn(self) -> tuple[EndOfTurnState, MetricsData | None]:
        segment = self.speech_segment()
        if segment is None:
            return EndOfTurnState.INCOMPLETE, None
        started = time.perf_counter()
        try:
            probability = await self._pool.probability(self._session_id, segment)
        except RequestCancelledError:
            return EndOfTurnState.INCOMPLETE, None
        except InferenceError:
            # No verdict (pool overloaded or timed out): fall back to what the VAD
            # decided, counted as a turn-stage error, rather than leave the caller
            # waiting up to smart_turn_max_silence_s for an answer.
            events.emit(events.StageError("turn", self._session_id))
            self._clear(EndOfTurnState.COMPLETE)
            return EndOfTurnState.COMPLETE, None
        elapsed = time.perf_counter() - started
        events.emit(events.StageLatency("turn", elapsed, self._session_id))
        complete = probability > 0.5
        state = EndOfTurnState.COMPLETE if complete else EndOfTurnState.INCOMPLETE
        if complete:
            self._clear(state)
        return state, TurnMetricsData(
            processor=self.__class__.__name__,
            is_complete=complete,
            probability=probability,
            e2e_processing_time_ms=elapsed * 1000.0,
        )

    def _predict_endpoint(self, audio_array: np.ndarray) -> dict[str, Any]:
        # BaseSmartTurn's own path runs this on a thread per analyzer; this class
        # overrides analyze_end_of_turn to ask the shared pool instead.
        raise NotImplementedError("PooledSmartTurnAnalyzer asks the smart-turn pool")


def user_turn_strategies(
    settings: Settings, *, pool: SmartTurnPool | None, session_id: str
) -> UserTurnStrategies:
    """The session's turn-stop strategy for ``settings.turn_detection`` (start: Pipecat's)."""
    if settings.turn_detection == "vad":
        # The VAD's stop_secs already is the pause the caller may take; wait no
        # longer once the (finalized) transcript is in.
        return UserTurnStrategies(stop=[SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=0.0)])
    if pool is None:
        raise ConfigError("turn_detection is smart-turn but no smart-turn pool is loaded")
    analyzer = PooledSmartTurnAnalyzer(
        pool,
        session_id=session_id,
        params=SmartTurnParams(stop_secs=settings.smart_turn_max_silence_s),
    )
    return UserTurnStrategies(stop=[TurnAnalyzerUserTurnStopStrategy(turn_analyzer=analyzer)])
