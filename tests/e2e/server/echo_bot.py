"""A user bot for the --bot test: repeats what the caller said, with no LLM."""

from __future__ import annotations

from pipecat.frames.frames import (
    Frame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voxswitch.bot.context import SessionContext
from voxswitch.bot.vad import PooledVADAnalyzer


class Echo(FrameProcessor):
    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, TranscriptionFrame):
            await self.push_frame(LLMFullResponseStartFrame())
            await self.push_frame(LLMTextFrame(f"You said: {frame.text}"))
            await self.push_frame(LLMFullResponseEndFrame())
        else:
            await self.push_frame(frame, direction)


def create_bot(ctx: SessionContext) -> Pipeline:
    from pipecat.processors.audio.vad_processor import VADProcessor

    vad: PooledVADAnalyzer = ctx.vad_analyzer()
    return Pipeline(
        [
            ctx.transport.input(),
            VADProcessor(vad_analyzer=vad),
            ctx.stt(),
            Echo(),
            ctx.tts(),
            ctx.transport.output(),
        ]
    )
