"""Per-session VAD analyzer whose Silero inference runs in the shared, batched VAD pool.

Pipecat's ``SileroVADAnalyzer`` loads its own ONNX session and starts its own
thread per analyzer, i.e. per session. This analyzer holds only the session's
recurrent state (a :class:`~voxswitch.inference.vad.VadStream`) and awaits the
pool, which batches chunks from many sessions into one model call.
"""

from __future__ import annotations

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams, VADState

from voxswitch.inference.vad import VadStream

SILERO_CHUNK_SAMPLES = 512  # 32 ms at 16 kHz, the chunk Silero v5 takes
_BYTES_PER_CHUNK = SILERO_CHUNK_SAMPLES * 2


def chunk_volume(chunk: bytes) -> float:
    """Loudness of a PCM16 chunk normalised to 0..1 like Pipecat's (-110..-10 dB).

    Pipecat measures ITU-R BS.1770 loudness over a rolling 400 ms window for
    every 32 ms chunk; on many sessions that meter costs more than the VAD model
    itself (pipecat #3218). A plain RMS level on the chunk tracks it closely
    enough for the one thing it is used for here: ignoring very quiet audio.
    """
    samples = np.frombuffer(chunk, dtype=np.int16).astype(np.float32)
    rms = float(np.sqrt(np.mean(samples * samples))) / 32768.0
    if rms <= 0.0:
        return 0.0
    db = 20.0 * np.log10(rms)
    return float(min(1.0, max(0.0, (db + 110.0) / 100.0)))


class PooledVADAnalyzer(VADAnalyzer):
    """Voice activity detection for one session over the shared VAD pool."""

    def __init__(self, stream: VadStream, *, params: VADParams | None = None):
        super().__init__(sample_rate=16000, params=params)
        self._stream = stream
        self._pending = bytearray()

    def num_frames_required(self) -> int:
        return SILERO_CHUNK_SAMPLES

    def voice_confidence(self, buffer: bytes) -> float:
        # Never called: analyze_audio below awaits the pool instead of blocking a thread.
        raise NotImplementedError("PooledVADAnalyzer is asynchronous; use analyze_audio")

    async def analyze_audio(self, buffer: bytes) -> VADState:
        # Same state machine as Pipecat's VADAnalyzer._run_analyzer, but the
        # confidence is awaited from the pool rather than computed on a thread
        # owned by this session.
        self._pending += buffer
        while len(self._pending) >= _BYTES_PER_CHUNK:
            chunk = bytes(self._pending[:_BYTES_PER_CHUNK])
            del self._pending[:_BYTES_PER_CHUNK]
            confidence = await self._stream.confidence(chunk)
            volume = self._prev_volume + self._smoothing_factor * (
                chunk_volume(chunk) - self._prev_volume
            )
            self._prev_volume = volume
            self._step(confidence >= self._params.confidence and volume >= self._params.min_volume)
        return self._vad_state

    def _step(self, speaking: bool) -> None:
        state = self._vad_state
        if speaking:
            if state == VADState.QUIET:
                state, self._vad_starting_count = VADState.STARTING, 1
            elif state == VADState.STARTING:
                self._vad_starting_count += 1
            elif state == VADState.STOPPING:
                state, self._vad_stopping_count = VADState.SPEAKING, 0
        elif state == VADState.STARTING:
            state, self._vad_starting_count = VADState.QUIET, 0
        elif state == VADState.SPEAKING:
            state, self._vad_stopping_count = VADState.STOPPING, 1
        elif state == VADState.STOPPING:
            self._vad_stopping_count += 1

        if state == VADState.STARTING and self._vad_starting_count >= self._vad_start_frames:
            state, self._vad_starting_count = VADState.SPEAKING, 0
        if state == VADState.STOPPING and self._vad_stopping_count >= self._vad_stop_frames:
            state, self._vad_stopping_count = VADState.QUIET, 0
        self._vad_state = state

    async def cleanup(self):
        self._stream.reset()
        await super().cleanup()
