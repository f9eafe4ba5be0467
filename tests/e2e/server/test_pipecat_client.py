"""Pipecat's own Python ``WebsocketClientTransport`` (not our client) completes a turn."""

from __future__ import annotations

import asyncio

import pytest
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InputTransportMessageFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportMessageUrgentFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.serializers.protobuf import ProtobufFrameSerializer
from pipecat.transports.websocket.client import WebsocketClientParams, WebsocketClientTransport
from pipecat.workers.runner import WorkerRunner

from tests.e2e.conftest import speech
from tests.e2e.serverproc import start_server
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e

CHUNK = 640  # 20 ms of 16 kHz PCM16


class Collector(FrameProcessor):
    """Records what the server sends: RTVI messages and bot audio."""

    def __init__(self) -> None:
        super().__init__()
        self.transcripts: list[str] = []
        self.bot_audio_bytes = 0
        self.answered = asyncio.Event()

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self.bot_audio_bytes += len(frame.audio)
            if self.transcripts and self.bot_audio_bytes > 16000:
                self.answered.set()
        elif isinstance(frame, InterruptionFrame):
            # The server tells clients to stop playback when the user starts
            # talking; here the output transport is the microphone, and letting
            # it see the interruption would drop the rest of the sentence.
            return
        elif isinstance(frame, InputTransportMessageFrame):
            msg = frame.message
            if msg.get("type") == "user-transcription" and msg["data"].get("final"):
                self.transcripts.append(msg["data"]["text"])
        await self.push_frame(frame, direction)


async def test_pipecat_websocket_client_transport_completes_a_turn(sentences):
    server = start_server()
    try:
        transport = WebsocketClientTransport(
            uri=server.ws_url,
            params=WebsocketClientParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_out_sample_rate=16000,
                add_wav_header=False,
                serializer=ProtobufFrameSerializer(),
            ),
        )
        collector = Collector()
        worker = PipelineWorker(
            Pipeline([transport.input(), collector, transport.output()]),
            params=PipelineParams(audio_in_sample_rate=16000, audio_out_sample_rate=16000),
            enable_rtvi=False,  # this side is the client; RTVI's server half lives in voxswitch
            idle_timeout_secs=None,
        )
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        pcm = speech(sentences[7]) + bytes(32000 * 2)

        @transport.event_handler("on_connected")
        async def on_connected(_transport, *_args):
            ready = {"label": "rtvi-ai", "type": "client-ready", "id": "py-1", "data": {}}
            await worker.queue_frame(OutputTransportMessageUrgentFrame(message=ready))
            await worker.queue_frames(
                OutputAudioRawFrame(audio=pcm[i : i + CHUNK], sample_rate=16000, num_channels=1)
                for i in range(0, len(pcm), CHUNK)
            )

        async def stop_when_answered():
            try:
                await asyncio.wait_for(collector.answered.wait(), 60)
            finally:
                await runner.cancel()

        try:
            await asyncio.gather(runner.run(), stop_when_answered())
        except TimeoutError:
            print(server.log()[-3000:])
            print("client saw:", collector.transcripts, collector.bot_audio_bytes)
            raise
        heard = " ".join(collector.transcripts)
        assert word_overlap(sentences[7], heard) >= 0.6, heard
        assert collector.bot_audio_bytes > 16000
    finally:
        server.stop()
