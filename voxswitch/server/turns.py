"""Follows one session's turns from its frames: state, turn count, voice-to-voice."""

from __future__ import annotations

import time

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    TranscriptionFrame,
    UserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed

from voxswitch import events
from voxswitch.server.admission import SessionRecord, SessionState


class TurnObserver(BaseObserver):
    """Keeps the session record current and emits server-side voice-to-voice latency.

    Voice-to-voice is measured from the end of the user's speech to the first
    bot audio frame the output transport sends. The VAD reports the end of
    speech only after ``stop_secs`` of silence, and that wait is part of what
    the caller experiences, so it is added back.
    """

    def __init__(self, record: SessionRecord, *, vad_stop_secs: float):
        # Observe each frame once, not at every hop: this runs for audio frames too.
        super().__init__(observe_every_push=False)
        self._record = record
        self._stop_secs = vad_stop_secs
        self._speech_ended_at: float | None = None

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        record = self._record
        if record.state is SessionState.CLOSING:
            return
        if isinstance(frame, UserStartedSpeakingFrame):
            record.state = SessionState.USER_SPEAKING
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._speech_ended_at = time.monotonic() - self._stop_secs
            record.state = SessionState.RESPONDING
        elif isinstance(frame, TranscriptionFrame):
            record.last_activity_mono = time.monotonic()
        elif isinstance(frame, BotStartedSpeakingFrame):
            now = time.monotonic()
            record.state = SessionState.RESPONDING
            record.last_activity_mono = now
            if self._speech_ended_at is not None:
                latency = now - self._speech_ended_at
                self._speech_ended_at = None
                record.last_voice_to_voice_s = round(latency, 4)
                events.emit(events.StageLatency("voice_to_voice", latency, record.id))
        elif isinstance(frame, BotStoppedSpeakingFrame):
            record.last_activity_mono = time.monotonic()
            record.turns += 1
            record.state = SessionState.LISTENING
