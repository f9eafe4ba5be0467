"""Pipecat's wire protocol as a client speaks it, without I/O.

Outbound: protobuf ``audio`` frames (16 kHz mono PCM16, 20 ms each) and RTVI
messages carried as JSON in protobuf ``message`` frames. Inbound: whatever a
Pipecat server sends back, decoded into a few small values the bench reasons
about. Bytes in, values out: this module is tested with bytes alone, the
socket lives in :mod:`voxswitch.bench.client`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from pipecat.frames.protobufs import frames_pb2
from pipecat.processors.frameworks.rtvi.models import MESSAGE_LABEL, PROTOCOL_VERSION

SAMPLE_RATE = 16000
FRAME_S = 0.02
FRAME_SAMPLES = 320  # 20 ms at 16 kHz
FRAME_BYTES = FRAME_SAMPLES * 2

# WebSocket close codes a server uses to say "not now" rather than "something broke".
REFUSAL_CLOSE_CODES = frozenset({1013})
# HTTP statuses a proxy or server may answer the upgrade with for the same reason.
REFUSAL_HTTP_STATUSES = frozenset({429, 503})


# ---- outbound ------------------------------------------------------------------


def encode_audio(pcm: bytes, *, sample_rate: int = SAMPLE_RATE, num_channels: int = 1) -> bytes:
    frame = frames_pb2.Frame()
    frame.audio.audio = pcm
    frame.audio.sample_rate = sample_rate
    frame.audio.num_channels = num_channels
    return frame.SerializeToString()


def encode_rtvi(message: dict[str, Any]) -> bytes:
    frame = frames_pb2.Frame()
    frame.message.data = json.dumps(message)
    return frame.SerializeToString()


def client_ready(msg_id: str, *, library: str = "voxswitch-bench") -> dict[str, Any]:
    """The RTVI ``client-ready`` message an official client sends once connected."""
    return {
        "label": MESSAGE_LABEL,
        "type": "client-ready",
        "id": msg_id,
        "data": {"version": PROTOCOL_VERSION, "about": {"library": library}},
    }


def encode_pcm_frames(pcm: bytes) -> list[bytes]:
    """Split PCM16 into 20 ms audio frames (the last one padded with silence), encoded."""
    frames = []
    for offset in range(0, len(pcm), FRAME_BYTES):
        chunk = pcm[offset : offset + FRAME_BYTES]
        if len(chunk) < FRAME_BYTES:
            chunk = chunk + bytes(FRAME_BYTES - len(chunk))
        frames.append(encode_audio(chunk))
    return frames


# ---- inbound -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BotAudio:
    nbytes: int
    sample_rate: int
    num_channels: int

    @property
    def seconds(self) -> float:
        if self.sample_rate <= 0 or self.num_channels <= 0:
            return 0.0
        return self.nbytes / 2 / self.num_channels / self.sample_rate


@dataclass(frozen=True, slots=True)
class RtviMessage:
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    @property
    def final_transcript(self) -> str | None:
        """The text of a final ``user-transcription``, else None."""
        if self.type == "user-transcription" and self.data.get("final"):
            text = self.data.get("text")
            return text if isinstance(text, str) else ""
        return None

    @property
    def error_text(self) -> str | None:
        if self.type in ("error", "error-response"):
            return str(self.data.get("error", "")) or self.type
        return None


@dataclass(frozen=True, slots=True)
class OtherFrame:
    """A frame the bench does not use (text, transcription, interruption, non-RTVI JSON)."""

    kind: str


@dataclass(frozen=True, slots=True)
class Undecodable:
    reason: str


Inbound = BotAudio | RtviMessage | OtherFrame | Undecodable


def decode(data: bytes | str) -> Inbound:
    """Decode one WebSocket message from a Pipecat server. Never raises."""
    if isinstance(data, str):
        return Undecodable("text message (expected binary protobuf)")
    try:
        frame = frames_pb2.Frame.FromString(data)
    except (DecodeError, ValueError) as e:
        return Undecodable(f"protobuf: {type(e).__name__}")
    which = frame.WhichOneof("frame")
    if which == "audio":
        audio = frame.audio
        return BotAudio(len(audio.audio), audio.sample_rate, audio.num_channels or 1)
    if which == "message":
        try:
            message = json.loads(frame.message.data)
        except json.JSONDecodeError:
            return Undecodable("message frame without valid JSON")
        if not isinstance(message, dict):
            return Undecodable("message frame without a JSON object")
        if message.get("label") != MESSAGE_LABEL:
            return OtherFrame("message")
        data_ = message.get("data")
        msg_id = message.get("id")
        return RtviMessage(
            type=str(message.get("type", "")),
            data=data_ if isinstance(data_, dict) else {},
            id=str(msg_id) if msg_id is not None else None,
        )
    if which is None:
        return Undecodable("empty protobuf frame")
    return OtherFrame(which)


# ---- endings -------------------------------------------------------------------


def is_refusal_close(code: int | None) -> bool:
    return code in REFUSAL_CLOSE_CODES


def is_refusal_status(status: int) -> bool:
    return status in REFUSAL_HTTP_STATUSES
