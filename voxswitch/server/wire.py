"""Inbound wire checks for ``/ws``: decode Pipecat protobuf frames without I/O.

Pipecat's FastAPI input transport ends its receive loop on the first frame its
serializer cannot decode, which silently kills the session. Here every inbound
message is decoded defensively: a bad frame is dropped and reported to its
sender, and only a run of bad frames ends the session (close 1007).

:class:`InboundGuard` is pure (bytes in, decision out) so it is tested with
bytes alone; :class:`GuardedSerializer` plugs it into Pipecat's transport.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from pipecat.frames.frames import Frame, InputAudioRawFrame, InputTransportMessageFrame
from pipecat.frames.protobufs import frames_pb2
from pipecat.processors.frameworks.rtvi.models import MESSAGE_LABEL
from pipecat.serializers.protobuf import ProtobufFrameSerializer

from voxswitch.errors import ProtocolError

WIRE_SAMPLE_RATE = 16000


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that was dropped; ``fatal`` carries the error that ends the session."""

    message: str
    fatal: ProtocolError | None = None


class InboundGuard:
    """Decodes one session's inbound messages and counts bad ones in a row."""

    def __init__(self, *, max_bad_in_row: int):
        self._max_bad = max_bad_in_row
        self.bad_in_row = 0
        self.bad_total = 0

    def decode(self, data: bytes | str) -> Frame | BadFrame:
        frame = self._decode(data)
        if isinstance(frame, BadFrame):
            self.bad_in_row += 1
            self.bad_total += 1
            if self.bad_in_row >= self._max_bad:
                return BadFrame(
                    frame.message,
                    fatal=ProtocolError(f"{self.bad_in_row} undecodable frames in a row"),
                )
            return frame
        self.bad_in_row = 0
        return frame

    @staticmethod
    def _decode(data: bytes | str) -> Frame | BadFrame:
        if isinstance(data, str):
            return BadFrame("text messages are not accepted: send binary protobuf frames")
        try:
            proto = frames_pb2.Frame.FromString(data)
        except (DecodeError, ValueError) as e:  # ValueError: invalid UTF-8 in a string field
            return BadFrame(f"undecodable protobuf frame ({type(e).__name__})")
        which = proto.WhichOneof("frame")
        if which == "audio":
            audio = proto.audio
            if audio.sample_rate != WIRE_SAMPLE_RATE or audio.num_channels != 1:
                return BadFrame(
                    f"audio must be {WIRE_SAMPLE_RATE} Hz mono PCM16, got "
                    f"{audio.sample_rate} Hz x {audio.num_channels} channel(s)"
                )
            if not audio.audio or len(audio.audio) % 2:
                return BadFrame("audio payload must be a non-empty whole number of PCM16 samples")
            return InputAudioRawFrame(
                audio=audio.audio, sample_rate=audio.sample_rate, num_channels=1
            )
        if which == "message":
            try:
                message = json.loads(proto.message.data)
            except json.JSONDecodeError:
                return BadFrame("message frame does not carry valid JSON")
            if not isinstance(message, dict):
                return BadFrame("message frame must carry a JSON object")
            return InputTransportMessageFrame(message=message)
        if which is None:
            return BadFrame("empty or unknown protobuf frame")
        # text / transcription / interruption: rare, leave them to Pipecat's serializer.
        return _SLOW_PATH


_SLOW_PATH = BadFrame("slow path")  # sentinel: decode with Pipecat's own serializer


class AudioCoalescer:
    """Joins small inbound audio frames into frames of at least ``min_bytes``.

    Clients send a frame every 10-20 ms, and inside Pipecat every frame costs
    a queue hop and a task switch at each processor and observer it meets:
    on an idle listening session that plumbing, not the models, is most of
    the CPU. Handing the pipeline 40 ms frames halves it, for at most one
    client frame (20 ms) of added delay before the VAD hears the audio.
    """

    def __init__(self, min_bytes: int):
        self._min_bytes = min_bytes
        self._pending = bytearray()

    def add(self, pcm: bytes) -> bytes | None:
        """The joined audio once enough has arrived, else None (it is kept)."""
        if not self._pending and len(pcm) >= self._min_bytes:
            return pcm  # already large enough: no copy
        self._pending += pcm
        if len(self._pending) < self._min_bytes:
            return None
        joined = bytes(self._pending)
        self._pending.clear()
        return joined


def rtvi_error(message: str, *, fatal: bool = False) -> dict[str, object]:
    """An RTVI ``error`` message, as Pipecat's clients expect it."""
    return {"label": MESSAGE_LABEL, "type": "error", "data": {"error": message, "fatal": fatal}}


class GuardedSerializer(ProtobufFrameSerializer):
    """Pipecat's protobuf serializer with defensive decoding and per-session accounting.

    ``on_inbound(frame)`` is called for every decoded frame (the session uses
    audio frames as liveness); ``on_bad_frame(bad)`` for every dropped one.
    """

    def __init__(
        self,
        guard: InboundGuard,
        *,
        on_inbound: Callable[[Frame], None],
        on_bad_frame: Callable[[BadFrame], Awaitable[None]],
        audio_frame_ms: int = 40,
    ):
        super().__init__()
        self._guard = guard
        self._on_inbound = on_inbound
        self._on_bad_frame = on_bad_frame
        self._coalescer = AudioCoalescer(WIRE_SAMPLE_RATE * 2 * audio_frame_ms // 1000)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        frame = self._guard.decode(data)
        if frame is _SLOW_PATH:
            frame = await super().deserialize(data)
            if frame is None:
                frame = BadFrame("unsupported frame")
        if isinstance(frame, BadFrame):
            await self._on_bad_frame(frame)
            return None
        self._on_inbound(frame)
        if isinstance(frame, InputAudioRawFrame):
            joined = self._coalescer.add(frame.audio)
            if joined is None:
                return None
            if joined is not frame.audio:
                frame = InputAudioRawFrame(
                    audio=joined, sample_rate=frame.sample_rate, num_channels=1
                )
        return frame
