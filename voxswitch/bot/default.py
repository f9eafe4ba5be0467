"""The default bot: VAD → Whisper → LLM → Piper, every piece new for the session."""

from __future__ import annotations

from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair

from voxswitch.bot.context import SessionContext
from voxswitch.bot.input_audio import DropInputAudio


def create_bot(ctx: SessionContext) -> Pipeline:
    context = LLMContext()
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context, user_params=ctx.user_params()
    )
    return Pipeline(
        [
            ctx.transport.input(),
            ctx.stt(),
            user_aggregator,
            DropInputAudio(),  # the microphone's audio goes no further (per-frame cost)
            ctx.llm(),
            ctx.tts(),
            ctx.transport.output(),
            assistant_aggregator,
        ]
    )
