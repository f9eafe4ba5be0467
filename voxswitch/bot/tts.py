"""Per-session text-to-speech over the shared Piper pool."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator

from pipecat.frames.frames import Frame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

from voxswitch import events
from voxswitch.errors import InferenceError, RequestCancelledError
from voxswitch.inference.tts import TtsPool


class PooledTTSService(TTSService):
    """Speaks one session's sentences with the shared voice; holds no model."""

    def __init__(self, pool: TtsPool, *, session_id: str, **kwargs):
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model="piper", voice="en_US-joe-medium", language=None),
            **kwargs,
        )
        self._pool = pool
        self._session_id = session_id

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        started = time.monotonic()
        first = True
        try:
            # Interruption cancels this generator; closing the pool's iterator
            # stops synthesis at the next chunk.
            async for frame in self._stream_audio_frames_from_iterator(
                self._audio(text), in_sample_rate=self.sample_rate, context_id=context_id
            ):
                if first:
                    first = False
                    await self.stop_ttfb_metrics()
                    events.emit(
                        events.StageLatency(
                            "tts_ttfb", time.monotonic() - started, self._session_id
                        )
                    )
                yield frame
        except RequestCancelledError:
            return
        except InferenceError as e:
            events.emit(events.StageError("tts", self._session_id))
            await self.push_error(f"text-to-speech failed: {e}", exception=e)
        finally:
            await self.stop_ttfb_metrics()

    async def _audio(self, text: str) -> AsyncIterator[bytes]:
        stream = self._pool.synthesize(self._session_id, text, self.sample_rate)
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()
