"""Text -> TTS pool -> STT pool -> text: the two pools agree on what was said."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import SENTENCES
from voxswitch.inference.pools import Pools
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e

_MIN_OVERLAP = 0.8


@pytest.mark.parametrize("sentence", SENTENCES[:5])
async def test_spoken_sentence_is_transcribed_back(pools: Pools, sentence: str):
    started = time.monotonic()
    audio = await pools.tts.speak("roundtrip", sentence, 16000)
    spoken_s = time.monotonic() - started
    assert audio and len(audio) % 2 == 0

    started = time.monotonic()
    text = await pools.stt.transcribe("roundtrip", audio, 16000)
    heard_s = time.monotonic() - started

    overlap = word_overlap(sentence, text)
    print(
        f"\n{len(audio) / 32000:.1f} s of audio: TTS {spoken_s:.2f} s, STT {heard_s:.2f} s, "
        f"overlap {overlap:.2f}: {text!r}"
    )
    assert overlap >= _MIN_OVERLAP, (sentence, text)
