"""What one simulated call produced: plain data, filled in by the behaviours, read by stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from voxswitch.bench.sentences import Verdict


class Outcome(StrEnum):
    COMPLETED = "completed"  # connected and ran its whole script (turns may still have failed)
    REFUSED = "refused"  # turned away by the server (1013, HTTP 503/429): not an error
    FAILED = "failed"  # could not connect, or the call broke part-way


@dataclass
class TurnResult:
    turn: int
    sentence: str
    speech_s: float = 0.0
    voice_to_voice_s: float | None = None  # end of the caller's speech -> first bot audio
    transcript: str | None = None
    verdict: Verdict | None = None
    own_score: float = 0.0
    other_score: float = 0.0
    other_sentence: str | None = None
    bot_audio_s: float = 0.0
    error: str | None = None  # e.g. "no_bot_audio"
    # RTVI message types seen after the speech, kept only for failed turns (diagnosis).
    events: list[str] = field(default_factory=list)


@dataclass
class CallResult:
    caller: int
    outcome: Outcome = Outcome.COMPLETED
    reason: str = ""  # refusal reason, or the error kind of a failed call
    detail: str = ""
    handshake_s: float | None = None  # TCP + WebSocket upgrade
    connect_s: float | None = None  # until bot-ready: the call is usable
    turns: list[TurnResult] = field(default_factory=list)
    probe_lags_s: list[float] = field(default_factory=list)  # listening mode
    probes_missed: int = 0
    rtvi_errors: list[str] = field(default_factory=list)
    undecodable_frames: int = 0
    close_code: int | None = None
    close_reason: str = ""
    frames_sent: int = 0
    late_frames: int = 0
    mic_resyncs: int = 0
    max_send_lag_s: float = 0.0
