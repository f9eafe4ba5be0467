"""The per-session VAD state machine over a scripted confidence stream."""

from __future__ import annotations

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADParams, VADState

from voxswitch.bot.vad import SILERO_CHUNK_SAMPLES, PooledVADAnalyzer, chunk_volume

LOUD = (np.sin(np.arange(SILERO_CHUNK_SAMPLES) / 3.0) * 8000).astype(np.int16).tobytes()
QUIET = bytes(SILERO_CHUNK_SAMPLES * 2)


class ScriptedStream:
    """Answers 0.95 for loud chunks and 0.05 for silent ones; counts calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.resets = 0

    async def confidence(self, chunk: bytes) -> float:
        self.calls += 1
        return 0.95 if any(chunk) else 0.05

    def reset(self) -> None:
        self.resets += 1


def test_volume_is_zero_for_silence_and_high_for_speech_level_audio():
    assert chunk_volume(QUIET) == 0.0
    assert chunk_volume(LOUD) > 0.6


async def test_speaking_starts_and_stops_after_the_configured_chunks():
    stream = ScriptedStream()
    vad = PooledVADAnalyzer(stream, params=VADParams(start_secs=0.064, stop_secs=0.128))
    vad.set_sample_rate(16000)
    states = []
    # The smoothed volume needs ~6 loud chunks to cross min_volume, as in Pipecat.
    for chunk in [QUIET] * 2 + [LOUD] * 10 + [QUIET] * 6:
        states.append(await vad.analyze_audio(chunk))
    assert states[:2] == [VADState.QUIET, VADState.QUIET]
    assert VADState.SPEAKING in states
    assert states[-1] == VADState.QUIET
    assert stream.calls == 18


async def test_partial_chunks_are_buffered_until_a_whole_silero_window():
    stream = ScriptedStream()
    vad = PooledVADAnalyzer(stream)
    vad.set_sample_rate(16000)
    half = len(LOUD) // 2
    await vad.analyze_audio(LOUD[:half])
    assert stream.calls == 0
    await vad.analyze_audio(LOUD[half:])
    assert stream.calls == 1
