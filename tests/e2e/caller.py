"""A scripted caller for end-to-end tests: speaks Pipecat's protobuf + RTVI over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

import websockets
from pipecat.frames.protobufs import frames_pb2

from voxswitch.bench.protocol import encode_audio, encode_rtvi

FRAME_SAMPLES = 320  # 20 ms at 16 kHz


@dataclass
class CallerLog:
    transcripts: list[str] = field(default_factory=list)
    bot_text: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    rtvi_types: list[str] = field(default_factory=list)
    bot_audio_bytes: int = 0
    first_bot_audio_at: float | None = None
    close_code: int | None = None
    close_reason: str = ""
    # What arrived, in order: ("audio", bytes) / ("interruption", 0) / ("transcript", 0) / ...
    timeline: list[tuple[str, int]] = field(default_factory=list)


class Caller:
    """One simulated caller; use as ``async with Caller(url) as c:``."""

    def __init__(self, url: str, *, open_timeout: float = 10.0):
        self.url = url
        self.log = CallerLog()
        self._open_timeout = open_timeout
        self._ws: websockets.ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self.closed = asyncio.Event()

    async def __aenter__(self) -> Caller:
        self._ws = await websockets.connect(
            self.url, open_timeout=self._open_timeout, max_size=None
        )
        self._reader = asyncio.create_task(self._read(), name="caller-reader")
        # A refused caller is accepted and closed at once (1013); the reader records it.
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.send_rtvi({"label": "rtvi-ai", "type": "client-ready", "id": "ready-1"})
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._ws is not None and self._reader is not None
        with contextlib.suppress(websockets.ConnectionClosed):
            await asyncio.wait_for(self._ws.close(), 5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closed.wait(), 5)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def send_raw(self, data: bytes | str) -> None:
        assert self._ws is not None
        if self.closed.is_set():
            return
        try:
            await self._ws.send(data)
        except websockets.ConnectionClosed:
            await asyncio.wait_for(self.closed.wait(), 5)

    async def send_rtvi(self, message: dict) -> None:
        await self.send_raw(encode_rtvi(message))

    async def stream(self, pcm: bytes, *, realtime: bool = True) -> None:
        """Send PCM16 16 kHz mono in 20 ms frames, at real-time pace."""
        step = FRAME_SAMPLES * 2
        start = time.monotonic()
        for i, offset in enumerate(range(0, len(pcm), step)):
            chunk = pcm[offset : offset + step]
            if len(chunk) < step:
                chunk = chunk + bytes(step - len(chunk))
            if self.closed.is_set():
                return
            await self.send_raw(encode_audio(chunk))
            if realtime:
                delay = start + (i + 1) * 0.02 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

    async def silence(self, seconds: float) -> None:
        await self.stream(bytes(int(16000 * seconds) * 2))

    async def say_and_wait(self, pcm: bytes, *, max_wait_s: float = 30.0) -> None:
        """Speak, then keep streaming silence until the bot has answered with audio."""
        self.log.first_bot_audio_at = None
        await self.stream(pcm)
        deadline = time.monotonic() + max_wait_s
        while self.log.first_bot_audio_at is None and time.monotonic() < deadline:
            if self.closed.is_set():
                return
            await self.silence(0.2)
        # Let the rest of the answer arrive.
        await self.silence(1.0)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                if isinstance(data, bytes):
                    self._on_frame(data)
        except websockets.ConnectionClosed:
            pass
        finally:
            if self._ws.close_code is not None:
                self.log.close_code = self._ws.close_code
                self.log.close_reason = self._ws.close_reason or ""
            self.closed.set()

    def _on_frame(self, data: bytes) -> None:
        frame = frames_pb2.Frame.FromString(data)
        which = frame.WhichOneof("frame")
        if which == "audio":
            if self.log.first_bot_audio_at is None:
                self.log.first_bot_audio_at = time.monotonic()
            self.log.bot_audio_bytes += len(frame.audio.audio)
            self.log.timeline.append(("audio", len(frame.audio.audio)))
        elif which == "interruption":
            self.log.timeline.append(("interruption", 0))
        elif which == "message":
            msg = json.loads(frame.message.data)
            kind = msg.get("type", "")
            self.log.rtvi_types.append(kind)
            data_ = msg.get("data") or {}
            if kind == "user-transcription" and data_.get("final"):
                self.log.transcripts.append(data_.get("text", ""))
                self.log.timeline.append(("transcript", 0))
            elif kind == "bot-llm-text":
                self.log.bot_text.append(data_.get("text", ""))
            elif kind == "error":
                self.log.errors.append(data_)
