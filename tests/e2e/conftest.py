"""Fixtures for end-to-end tests: real models, real servers, real sockets."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import soxr

from voxswitch.inference.models import piper_voice_path

SENTENCES = [
    "The red kite flew over the quiet harbor this morning.",
    "Please book a table for four people at seven tonight.",
    "My favorite season is autumn because the leaves turn golden.",
    "How many kilometers is it from Paris to Berlin by train?",
    "The library closes early on Sundays during the summer.",
    "Bananas and strawberries make a very good breakfast smoothie.",
    "Turn off the kitchen lights before you go to sleep.",
    "Our team meeting has moved to Thursday afternoon.",
]


@functools.cache
def _voice():
    from piper import PiperVoice

    return PiperVoice.load(str(piper_voice_path()))


@functools.cache
def speech(text: str) -> bytes:
    """``text`` spoken by the bundled Piper voice, as 16 kHz mono PCM16."""
    voice = _voice()
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text))
    samples = np.frombuffer(pcm, dtype=np.int16)
    resampled = soxr.resample(samples, voice.config.sample_rate, 16000)
    return np.clip(resampled, -32768, 32767).astype(np.int16).tobytes()


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    return SENTENCES
