"""Clip preparation that needs no model: trimming and background audio."""

import numpy as np
import pytest

from voxswitch.bench import protocol
from voxswitch.bench.voices import background_frames, trim_silence


def test_trim_keeps_the_loud_part_with_a_small_pad():
    samples = np.zeros(16000, dtype=np.int16)
    samples[4000:8000] = 3000
    trimmed = trim_silence(samples)
    pad = 160  # 10 ms
    assert len(trimmed) == 4000 + 2 * pad
    assert trimmed[pad] == 3000 and trimmed[0] == 0


def test_trim_of_silence_is_empty():
    assert trim_silence(np.zeros(800, dtype=np.int16)).size == 0


def test_background_frames():
    silence = background_frames("silence", seed=1)
    assert len(silence) == 1
    noise = background_frames("noise", seed=1, count=10)
    assert len(noise) == 10
    decoded = protocol.decode(noise[0])
    assert decoded.nbytes == protocol.FRAME_BYTES and decoded.sample_rate == 16000
    assert background_frames("noise", seed=1, count=10) == noise
    with pytest.raises(ValueError):
        background_frames("music", seed=1)
