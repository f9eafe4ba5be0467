"""A small Pipecat-protocol server for testing the bench itself, on a real loopback socket.

It speaks what a Pipecat server speaks (protobuf audio frames, RTVI messages in
protobuf message frames), finds the end of each utterance with a plain energy
detector, and "transcribes" it with whatever ``transcript_for`` returns — so a
test can make it return *another* caller's sentence, the way a server that
mixes up sessions would. It can also refuse callers beyond ``max_sessions``
with close code 1013, like voxswitch's admission control.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import numpy as np
from pipecat.frames.protobufs import frames_pb2
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

VOICED_RMS = 300.0
END_SILENCE_FRAMES = 15  # 300 ms of quiet ends an utterance
MIN_VOICED_FRAMES = 5
REPLY_FRAMES = 15  # 300 ms of bot audio at 24 kHz


def _rtvi(kind: str, data: dict | None = None, msg_id: str | None = None) -> bytes:
    message: dict = {"label": "rtvi-ai", "type": kind}
    if data is not None:
        message["data"] = data
    if msg_id is not None:
        message["id"] = msg_id
    frame = frames_pb2.Frame()
    frame.message.data = json.dumps(message)
    return frame.SerializeToString()


def _bot_audio() -> bytes:
    frame = frames_pb2.Frame()
    frame.audio.audio = (np.full(480, 1000, dtype=np.int16)).tobytes()  # 20 ms at 24 kHz
    frame.audio.sample_rate = 24000
    frame.audio.num_channels = 1
    return frame.SerializeToString()


class FakePipecatServer:
    """``async with FakePipecatServer(transcript_for) as server: server.url``."""

    def __init__(
        self,
        transcript_for: Callable[[int, int], str],
        *,
        max_sessions: int | None = None,
    ):
        # transcript_for(connection_index, utterance_index) -> the text to report.
        self._transcript_for = transcript_for
        self._max_sessions = max_sessions
        self._live = 0
        self._connections = 0
        self.refused = 0
        self._server = None
        self.url = ""

    async def __aenter__(self) -> FakePipecatServer:
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=None)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), 10)

    async def _handle(self, ws: ServerConnection) -> None:
        if self._max_sessions is not None and self._live >= self._max_sessions:
            self.refused += 1
            await ws.close(1013, "at capacity")
            return
        self._live += 1
        index = self._connections
        self._connections += 1
        try:
            await self._session(ws, index)
        except ConnectionClosed:
            pass
        finally:
            self._live -= 1

    async def _session(self, ws: ServerConnection, index: int) -> None:
        voiced = quiet = utterances = 0
        replies: list[asyncio.Task] = []
        try:
            async for data in ws:
                frame = frames_pb2.Frame.FromString(data)
                which = frame.WhichOneof("frame")
                if which == "message":
                    message = json.loads(frame.message.data)
                    if message.get("type") == "client-ready":
                        await ws.send(_rtvi("bot-ready", {"version": "2.2.0"}, message.get("id")))
                    continue
                if which != "audio":
                    continue
                samples = np.frombuffer(frame.audio.audio, dtype=np.int16).astype(np.float64)
                loud = float(np.sqrt(np.mean(samples**2))) > VOICED_RMS
                if loud:
                    if voiced == 0:
                        await ws.send(_rtvi("user-started-speaking"))
                    voiced += 1
                    quiet = 0
                elif voiced:
                    quiet += 1
                    if quiet >= END_SILENCE_FRAMES:
                        if voiced >= MIN_VOICED_FRAMES:
                            text = self._transcript_for(index, utterances)
                            utterances += 1
                            replies.append(asyncio.create_task(self._reply(ws, text)))
                        voiced = quiet = 0
        finally:
            for task in replies:
                task.cancel()
            await asyncio.gather(*replies, return_exceptions=True)

    async def _reply(self, ws: ServerConnection, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(_rtvi("user-stopped-speaking"))
            await ws.send(_rtvi("user-transcription", {"text": text, "final": True}))
            await ws.send(_rtvi("bot-started-speaking"))
            for _ in range(REPLY_FRAMES):
                await ws.send(_bot_audio())
                await asyncio.sleep(0.02)
            await ws.send(_rtvi("bot-stopped-speaking"))
