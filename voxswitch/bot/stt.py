"""Per-session speech-to-text over the shared Whisper pool."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

from pipecat.frames.frames import Frame, TranscriptionFrame
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.transcriptions.language import Language
from pipecat.utils.time import time_now_iso8601

from voxswitch import events
from voxswitch.errors import InferenceError, RequestCancelledError
from voxswitch.inference.stt import SttPool


class PooledSTTService(SegmentedSTTService):
    """Buffers one session's speech (Pipecat's segmenting) and transcribes it in the pool."""

    def __init__(self, pool: SttPool, *, session_id: str, **kwargs):
        super().__init__(
            settings=STTSettings(model="whisper-tiny.en", language=Language.EN),
            # Synthetic padding (no waiting): the segment already ends with the
            # VAD's stop_secs of real quiet; a little more helps Whisper close
            # the last word.
            trailing_silence_secs=0.2,
            # Only the turn-stop strategies' safety net reads this (a transcript
            # that never comes); the transcripts themselves arrive finalized.
            ttfs_p99_latency=1.0,
            **kwargs,
        )
        self._pool = pool
        self._session_id = session_id

    @property
    def wants_wav_segments(self) -> bool:
        return False  # the pool reads raw PCM16

    def can_generate_metrics(self) -> bool:
        return True

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        started = time.monotonic()
        await self.start_processing_metrics()
        try:
            text = await self._pool.transcribe(self._session_id, audio, self.sample_rate)
        except RequestCancelledError:
            return
        except InferenceError as e:
            # The session owner decides from the exception whether the session survives.
            events.emit(events.StageError("stt", self._session_id))
            await self.push_error(f"speech-to-text failed: {e}", exception=e)
            return
        finally:
            await self.stop_processing_metrics()
        events.emit(events.StageLatency("stt", time.monotonic() - started, self._session_id))
        text = text.strip()
        if text:
            # One transcript per VAD segment, and it is final: marking it so lets the
            # turn end the moment it arrives instead of at the safety-net deadline
            # (Pipecat waits ttfs_p99_latency after speech end for unfinalized text).
            yield TranscriptionFrame(
                text, self._user_id, time_now_iso8601(), Language.EN, finalized=True
            )
