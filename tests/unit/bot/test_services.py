"""Per-session services between a source and a sink (pipecat's run_test), over scripted pools."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pipecat.frames.frames import (
    ErrorFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMServiceMetadataFrame,
    LLMTextFrame,
    TranscriptionFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import run_test

from voxswitch.bot.llm import PooledLLMService
from voxswitch.bot.stt import PooledSTTService
from voxswitch.errors import BadInputError


class ScriptedLlmPool:
    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.calls: list[tuple[str, list[dict]]] = []
        self.closed_early = False

    async def stream(self, session_id, messages, *, max_tokens, temperature) -> AsyncIterator[str]:
        self.calls.append((session_id, messages))
        try:
            for t in self.tokens:
                await asyncio.sleep(0)
                yield t
        except GeneratorExit:
            self.closed_early = True
            raise


class ScriptedSttPool:
    def __init__(self, result: str | Exception):
        self.result = result
        self.calls: list[tuple[str, int, int]] = []

    async def transcribe(self, session_id: str, pcm: bytes, sample_rate: int) -> str:
        self.calls.append((session_id, len(pcm), sample_rate))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def test_llm_service_streams_pool_tokens_with_session_messages():
    pool = ScriptedLlmPool(["Hello", " there", "!"])
    llm = PooledLLMService(
        pool, session_id="s1", system_instruction="Be brief.", max_tokens=16, temperature=0.0
    )
    context = LLMContext(messages=[{"role": "user", "content": "hi"}])
    down, _ = await run_test(
        llm,
        frames_to_send=[LLMContextFrame(context=context)],
        expected_down_frames=[
            LLMServiceMetadataFrame,  # the service announces itself at start
            LLMFullResponseStartFrame,
            LLMTextFrame,
            LLMTextFrame,
            LLMTextFrame,
            LLMFullResponseEndFrame,
        ],
    )
    assert "".join(f.text for f in down if isinstance(f, LLMTextFrame)) == "Hello there!"
    ((session_id, messages),) = pool.calls
    assert session_id == "s1"
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[-1] == {"role": "user", "content": "hi"}


async def test_stt_service_passes_raw_pcm_and_session_to_the_pool():
    pool = ScriptedSttPool("turn the lights off")
    stt = PooledSTTService(pool, session_id="s9")
    down = []
    async for frame in stt.run_stt(b"\x00\x01" * 1600):
        down.append(frame)
    (frame,) = down
    assert isinstance(frame, TranscriptionFrame) and frame.text == "turn the lights off"
    assert frame.finalized  # one transcript per segment: the turn need not wait for more
    assert pool.calls[0][0] == "s9" and pool.calls[0][1] == 3200


async def test_stt_bad_input_is_reported_as_an_error_not_raised():
    stt = PooledSTTService(ScriptedSttPool(BadInputError("audio too long")), session_id="s2")
    _, up = await run_test(
        _RunSTTOnTranscription(stt),
        frames_to_send=[TranscriptionFrame("x", "", "now")],
    )
    errors = [f for f in up if isinstance(f, ErrorFrame)]
    assert errors and "audio too long" in errors[0].error
    assert isinstance(errors[0].exception, BadInputError)


class _RunSTTOnTranscription(PooledSTTService):
    """Drive run_stt through the processor machinery (push_error needs a live processor)."""

    def __init__(self, inner: PooledSTTService):
        super().__init__(inner._pool, session_id=inner._session_id)

    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        if isinstance(frame, TranscriptionFrame):
            await self.process_generator(self.run_stt(b"\x00\x00" * 160))
