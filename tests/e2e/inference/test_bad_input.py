"""Bad input fails its own request with a clear BadInputError; other sessions are served."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tests.e2e.conftest import SENTENCES
from voxswitch.errors import BadInputError
from voxswitch.inference.pools import Pools
from voxswitch.inference.vad import CHUNK_BYTES
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e

_TIMEOUT_S = 60.0
_SENTENCE = SENTENCES[2]


@dataclass(frozen=True)
class Case:
    pool: str  # the pool the bad request goes to; a good request goes there too
    message: str  # regex the error message must match
    call: Callable[[Pools], Awaitable[Any]]


def _seconds_of_silence(seconds: float) -> bytes:
    return bytes(2 * int(16000 * seconds))


CASES = {
    "stt-empty-audio": Case(
        "stt", r"empty or too short", lambda p: p.stt.transcribe("bad", b"", 16000)
    ),
    "stt-wrong-sample-rate": Case(
        "stt",
        r"16000 Hz audio, got 8000 Hz",
        lambda p: p.stt.transcribe("bad", _seconds_of_silence(1), 8000),
    ),
    "stt-ten-minutes": Case(
        "stt",
        r"600 s is longer than the 120 s limit",
        lambda p: p.stt.transcribe("bad", _seconds_of_silence(600), 16000),
    ),
    "stt-odd-length": Case(
        "stt",
        r"even number of bytes",
        lambda p: p.stt.transcribe("bad", _seconds_of_silence(1) + b"\x00", 16000),
    ),
    "stt-not-bytes": Case(
        "stt",
        r"PCM16 bytes, got str",
        lambda p: p.stt.transcribe("bad", "hello", 16000),
    ),
    "tts-int": Case("tts", r"takes a string, got int", lambda p: p.tts.speak("bad", 42, 16000)),
    "tts-none": Case(
        "tts", r"takes a string, got NoneType", lambda p: p.tts.speak("bad", None, 16000)
    ),
    "tts-bytes": Case(
        "tts", r"takes a string, got bytes", lambda p: p.tts.speak("bad", b"bytes", 16000)
    ),
    "tts-empty": Case("tts", r"empty text", lambda p: p.tts.speak("bad", "", 16000)),
    "tts-blank": Case("tts", r"empty text", lambda p: p.tts.speak("bad", " \n\t ", 16000)),
    "tts-too-long": Case(
        "tts", r"over the 2000 limit", lambda p: p.tts.speak("bad", "word " * 1000, 16000)
    ),
    "tts-bad-rate": Case(
        "tts", r"sample rate must be 8000\.\.48000 Hz", lambda p: p.tts.speak("bad", "Hi.", 100)
    ),
    "vad-short-chunk": Case(
        "vad",
        rf"chunks of 512 samples \({CHUNK_BYTES} bytes\), got 1000",
        lambda p: p.vad.new_stream().confidence(bytes(1000)),
    ),
    "vad-long-chunk": Case(
        "vad",
        rf"\({CHUNK_BYTES} bytes\), got {2 * CHUNK_BYTES}",
        lambda p: p.vad.new_stream().confidence(bytes(2 * CHUNK_BYTES)),
    ),
    "llm-no-user-message": Case(
        "llm",
        r"no user message",
        lambda p: p.llm.complete(
            "bad", [{"role": "system", "content": "Be brief."}], max_tokens=8, temperature=0
        ),
    ),
    "llm-non-dict-message": Case(
        "llm",
        r"not a chat message",
        lambda p: p.llm.complete("bad", ["hello"], max_tokens=8, temperature=0),
    ),
    "llm-messages-not-a-list": Case(
        "llm",
        r"must be a list",
        lambda p: p.llm.complete("bad", "hello", max_tokens=8, temperature=0),
    ),
    "llm-content-not-text": Case(
        "llm",
        r"content must be text, got int",
        lambda p: p.llm.complete(
            "bad", [{"role": "user", "content": 42}], max_tokens=8, temperature=0
        ),
    ),
    "turn-empty-audio": Case(
        "turn",
        r"empty audio",
        lambda p: p.turn.probability("bad", np.zeros(0, dtype=np.float32)),
    ),
    "turn-pcm16-not-float": Case(
        "turn",
        r"1-D float32 array",
        lambda p: p.turn.probability("bad", np.zeros(16000, dtype=np.int16)),
    ),
    # Few characters, many tokens: passes the character estimate, caught by the
    # model's own token count on the worker.
    "llm-message-over-context-in-tokens": Case(
        "llm",
        r"last message is too long",
        lambda p: p.llm.complete(
            "bad", [{"role": "user", "content": "\u732b" * 900}], max_tokens=8, temperature=0
        ),
    ),
}


async def _good_request(pools: Pools, pool: str, speech: bytes) -> None:
    """A valid request from another session to the same pool, checked for a real result."""
    if pool == "stt":
        text = await pools.stt.transcribe("good", speech, 16000)
        assert word_overlap(_SENTENCE, text) >= 0.6, text
    elif pool == "tts":
        audio = await pools.tts.speak("good", "This request is fine.", 16000)
        assert len(audio) > 16000  # over half a second of audio
    elif pool == "vad":
        stream = pools.vad.new_stream()
        scores = [
            await stream.confidence(speech[i : i + CHUNK_BYTES])
            for i in range(0, len(speech) - CHUNK_BYTES + 1, CHUNK_BYTES)
        ]
        assert max(scores) > 0.5
    elif pool == "turn":
        assert pools.turn is not None
        audio = np.frombuffer(speech, dtype=np.int16).astype(np.float32) / 32768.0
        assert 0.0 <= await pools.turn.probability("good", audio) <= 1.0
    else:
        assert pools.llm is not None
        reply = await pools.llm.complete(
            "good", [{"role": "user", "content": "Say hello."}], max_tokens=16, temperature=0
        )
        assert reply.strip()


@pytest.mark.parametrize("name", list(CASES))
async def test_bad_input_is_refused_while_another_session_is_served(
    pools: Pools, utterances: dict[str, bytes], name: str
):
    case = CASES[name]
    async with asyncio.timeout(_TIMEOUT_S):
        bad, good = await asyncio.gather(
            case.call(pools),
            _good_request(pools, case.pool, utterances[_SENTENCE]),
            return_exceptions=True,
        )
    print(f"\n{name}: {type(bad).__name__}: {bad}")
    if isinstance(good, BaseException):
        raise good
    assert isinstance(bad, BadInputError), bad
    assert re.search(case.message, str(bad)), str(bad)
