"""A user bot whose own processor fails for one kind of request: the 1011 isolation test."""

from __future__ import annotations

from pipecat.frames.frames import Frame, TranscriptionFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voxswitch.bot.context import SessionContext

TRIGGER = "lights"


class FailsOnTrigger(FrameProcessor):
    """Raises (a bug in a user's processor) when the caller mentions the trigger word."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, TranscriptionFrame) and TRIGGER in frame.text.lower():
            raise RuntimeError("processor bug triggered by this caller")
        await self.push_frame(frame, direction)


def create_bot(ctx: SessionContext) -> Pipeline:
    user, assistant = LLMContextAggregatorPair(LLMContext(), user_params=ctx.user_params())
    return Pipeline(
        [
            ctx.transport.input(),
            ctx.stt(),
            FailsOnTrigger(),
            user,
            ctx.llm(),
            ctx.tts(),
            ctx.transport.output(),
            assistant,
        ]
    )
