"""The peer voxswitch is measured against: a plain Pipecat server, built the way its docs do it.

One FastAPI ``/ws`` endpoint; every connection gets a new pipeline with new
``WhisperSTTService``, ``PiperTTSService`` and ``SileroVADAnalyzer`` instances —
each loading its model for that session — and Pipecat's ``OpenAILLMService``
against a separate llama.cpp OpenAI-compatible server. Same model files, same
wire protocol (protobuf frames + RTVI), same conversation settings as
voxswitch's defaults, so the bench can run identical load against both.

Deliberately naive: nothing is shared, nothing limits admission, and model
loading runs on the event loop exactly as the constructors do it. This module
is a benchmark peer, not part of voxswitch's serving path.

    python -m voxswitch.bench.naive_peer --port 8100 --llm-base-url http://127.0.0.1:8101/v1
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fastapi import FastAPI, WebSocket
from loguru import logger
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.serializers.protobuf import ProtobufFrameSerializer
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.services.piper.tts import PiperTTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner

from voxswitch.config import Settings
from voxswitch.inference.models import piper_voice_path, whisper_model_dir

# The conversation settings voxswitch uses by default, so both systems say the same things.
_DEFAULTS = Settings.model_fields


def _default(name: str):
    return _DEFAULTS[name].default


class LlamaCppLLMService(OpenAILLMService):
    # llama.cpp's server answers "developer"-role messages with HTTP 500; Pipecat's
    # adapter turns them into plain messages when this is False.
    supports_developer_role = False


def create_app(args: argparse.Namespace) -> FastAPI:
    app = FastAPI(title="plain pipecat peer")
    voice = piper_voice_path()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await run_bot(websocket, args, voice_dir=voice.parent, voice_name=voice.stem)

    return app


async def run_bot(
    websocket: WebSocket, args: argparse.Namespace, *, voice_dir: Path, voice_name: str
) -> None:
    """One caller's bot: everything new, as in Pipecat's examples."""
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=ProtobufFrameSerializer(),
        ),
    )
    stt = WhisperSTTService(
        device="cpu",
        settings=WhisperSTTService.Settings(model=str(whisper_model_dir())),
    )
    tts = PiperTTSService(
        download_dir=voice_dir,  # the file is there, so nothing is downloaded
        settings=PiperTTSService.Settings(voice=voice_name),
    )
    llm = LlamaCppLLMService(
        api_key="not-needed",
        base_url=args.llm_base_url,
        settings=OpenAILLMService.Settings(
            model=args.llm_model,
            system_instruction=_default("system_prompt"),
            max_tokens=_default("llm_max_tokens"),
            temperature=_default("llm_temperature"),
        ),
    )
    context = LLMContext()
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=SileroVADAnalyzer(
                params=VADParams(
                    confidence=_default("vad_confidence"),
                    start_secs=_default("vad_start_secs"),
                    stop_secs=args.vad_stop_secs,
                )
            )
        ),
    )
    pipeline = Pipeline(
        [
            transport.input(),
            stt,
            user_aggregator,
            llm,
            tts,
            transport.output(),
            assistant_aggregator,
        ]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(
            audio_in_sample_rate=16000,
            audio_out_sample_rate=_default("audio_out_sample_rate"),
        ),
    )
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(_transport, _client):
        await runner.cancel()

    await runner.run()


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(
        prog="python -m voxswitch.bench.naive_peer", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--llm-base-url",
        required=True,
        help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8101/v1 "
        "(python -m llama_cpp.server --model <gguf> --n_threads 1)",
    )
    parser.add_argument("--llm-model", default="default")
    parser.add_argument("--vad-stop-secs", type=float, default=_default("vad_stop_secs"))
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="loguru level for Pipecat (its DEBUG default slows every session)",
    )
    args = parser.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level=args.log_level.upper())

    import uvicorn

    uvicorn.run(
        create_app(args), host=args.host, port=args.port, log_level="warning", ws_max_size=1 << 20
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
