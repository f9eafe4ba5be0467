"""Request validation and shaping for the STT, LLM and TTS pools (no models)."""

from __future__ import annotations

import numpy as np
import pytest

from voxswitch.errors import BadInputError
from voxswitch.inference.llm import fit_messages, normalize_messages
from voxswitch.inference.stt import (
    MAX_UTTERANCE_S,
    WINDOW_SAMPLES,
    decode_pcm16,
    encoder_frames,
    split_windows,
)
from voxswitch.inference.tts import first_clause_split, validate_speech

# ---- speech-to-text ----------------------------------------------------------


def test_pcm16_is_decoded_to_unit_floats():
    pcm = np.array([0, 16384, -32768], dtype=np.int16).tobytes() * 1000
    samples = decode_pcm16(pcm, 16000)
    assert samples.dtype == np.float32
    assert samples[:3].tolist() == [0.0, 0.5, -1.0]


@pytest.mark.parametrize(
    ("pcm", "rate", "message"),
    [
        (b"", 16000, "empty or too short"),
        (b"\x00" * 3201, 16000, "even number of bytes"),
        (b"\x00" * 32000, 8000, "16000 Hz"),
        (b"\x00" * int(2 * 16000 * (MAX_UTTERANCE_S + 1)), 16000, "limit"),
        ("not bytes", 16000, "PCM16 bytes"),
    ],
)
def test_bad_audio_is_refused_with_the_reason(pcm, rate, message):
    with pytest.raises(BadInputError, match=message):
        decode_pcm16(pcm, rate)


def test_long_audio_is_cut_into_whisper_windows():
    samples = np.zeros(WINDOW_SAMPLES * 2 + 100, dtype=np.float32)
    windows = split_windows(samples)
    assert [len(w) for w in windows] == [WINDOW_SAMPLES, WINDOW_SAMPLES, 100]


@pytest.mark.parametrize(
    ("frames", "bucket"), [(1, 1000), (999, 1000), (1000, 1000), (1001, 2000), (2999, 3000)]
)
def test_encoder_window_is_the_next_ten_second_bucket(frames, bucket):
    assert encoder_frames(frames) == bucket


# ---- language model ------------------------------------------------------------


def test_developer_becomes_system_and_tool_traffic_is_dropped():
    messages = normalize_messages(
        [
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}],
            },
            {"role": "tool", "content": "{}"},
            {"role": "assistant", "content": None},
        ]
    )
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi there"},
    ]


@pytest.mark.parametrize(
    "messages",
    [
        "hello",
        [{"role": "system", "content": "only a system prompt"}],
        [{"content": "no role"}],
        ["not a dict"],
        [{"role": "user", "content": 42}],
    ],
)
def test_malformed_conversations_are_bad_input(messages):
    with pytest.raises(BadInputError):
        normalize_messages(messages)


def test_history_is_trimmed_from_the_oldest_turn_keeping_the_system_prompt():
    system = {"role": "system", "content": "S" * 10}
    turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"{i}" * 20} for i in range(6)
    ]
    kept = fit_messages([system, *turns], 75)
    assert kept[0] == system
    assert kept[1:] == turns[-3:]


def test_a_single_oversized_message_is_bad_input():
    with pytest.raises(BadInputError, match="too long"):
        fit_messages([{"role": "user", "content": "x" * 500}], 100)


def test_history_can_be_fitted_by_another_measure_such_as_tokens():
    words = lambda text: len(text.split())  # noqa: E731 - a stand-in tokenizer
    turns = [
        {"role": "user", "content": "one two three"},
        {"role": "assistant", "content": "four five"},
        {"role": "user", "content": "six"},
    ]
    assert fit_messages(turns, 3, words) == turns[1:]
    assert fit_messages(turns, 6, words) == turns


# ---- text-to-speech ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate", "message"),
    [
        (42, 24000, "string"),
        (b"bytes", 24000, "string"),
        (None, 24000, "string"),
        ("   ", 24000, "empty"),
        ("x" * 5000, 24000, "limit"),
        ("hello", 4000, "sample rate"),
        ("hello", 24000.0, "sample rate"),
    ],
)
def test_bad_speech_requests_are_refused(text, rate, message):
    with pytest.raises(BadInputError, match=message):
        validate_speech(text, rate)


def test_a_good_speech_request_passes():
    request = validate_speech("Hello there.", 24000)
    assert request.text == "Hello there." and request.sample_rate == 24000


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        (
            "Sure, I can help with that booking tonight.",
            ["Sure, I can help with that booking tonight."],  # opening clause too short
        ),
        (
            "The capital of France is Paris, which is also its largest city.",
            ["The capital of France is Paris,", "which is also its largest city."],
        ),
        ("No commas in this one at all.", ["No commas in this one at all."]),
        ("A long enough opening clause, short.", ["A long enough opening clause, short."]),
    ],
)
def test_only_a_long_sentence_is_split_after_its_first_clause(text, pieces):
    assert first_clause_split(text) == pieces
