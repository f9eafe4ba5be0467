"""Inbound frame decoding, with bytes alone."""

import json

from pipecat.frames.frames import InputAudioRawFrame, InputTransportMessageFrame
from pipecat.frames.protobufs import frames_pb2

from voxswitch.server.wire import BadFrame, InboundGuard


def audio_bytes(pcm: bytes, rate: int = 16000, channels: int = 1) -> bytes:
    f = frames_pb2.Frame()
    f.audio.audio = pcm
    f.audio.sample_rate = rate
    f.audio.num_channels = channels
    return f.SerializeToString()


def message_bytes(data: str) -> bytes:
    f = frames_pb2.Frame()
    f.message.data = data
    return f.SerializeToString()


def test_audio_frame_decodes():
    frame = InboundGuard(max_bad_in_row=3).decode(audio_bytes(b"\x01\x00" * 320))
    assert isinstance(frame, InputAudioRawFrame)
    assert frame.sample_rate == 16000 and frame.num_channels == 1 and len(frame.audio) == 640


def test_rtvi_message_decodes():
    msg = {"label": "rtvi-ai", "type": "client-ready", "id": "1"}
    frame = InboundGuard(max_bad_in_row=3).decode(message_bytes(json.dumps(msg)))
    assert isinstance(frame, InputTransportMessageFrame)
    assert frame.message == msg


def test_garbage_is_a_bad_frame_not_an_exception():
    guard = InboundGuard(max_bad_in_row=3)
    bad = guard.decode(b"\xff\xfe garbage \x00\x01\x02")
    assert isinstance(bad, BadFrame) and bad.fatal is None
    assert "protobuf" in bad.message or "unknown" in bad.message


def test_truncated_protobuf_is_bad():
    whole = audio_bytes(b"\x00\x00" * 320)
    assert isinstance(InboundGuard(max_bad_in_row=3).decode(whole[: len(whole) // 2]), BadFrame)


def test_wrong_rate_odd_bytes_text_and_bad_json_are_bad():
    guard = InboundGuard(max_bad_in_row=100)
    for data in (
        audio_bytes(b"\x00\x00" * 10, rate=8000),
        audio_bytes(b"\x00\x00" * 10, channels=2),
        audio_bytes(b"\x00\x00\x00"),
        "a text message",
        message_bytes("{not json"),
        message_bytes("[1, 2]"),
        b"",
    ):
        assert isinstance(guard.decode(data), BadFrame), data


def test_bad_frames_in_a_row_become_fatal_1007_and_good_frame_resets():
    guard = InboundGuard(max_bad_in_row=3)
    assert guard.decode(b"\xff").fatal is None
    assert guard.decode(b"\xff").fatal is None
    assert isinstance(guard.decode(audio_bytes(b"\x00\x00" * 4)), InputAudioRawFrame)
    assert guard.bad_in_row == 0
    guard.decode(b"\xff")
    guard.decode(b"\xff")
    third = guard.decode(b"\xff")
    assert third.fatal is not None and third.fatal.close_code == 1007


def test_small_audio_frames_are_joined_before_the_pipeline():
    from voxswitch.server.wire import AudioCoalescer

    joiner = AudioCoalescer(1280)  # 40 ms at 16 kHz
    assert joiner.add(b"\x01" * 640) is None
    assert joiner.add(b"\x02" * 640) == b"\x01" * 640 + b"\x02" * 640
    assert joiner.add(b"\x03" * 640) is None
    # A frame that is large enough on its own still waits behind what is pending.
    assert joiner.add(b"\x04" * 1280) == b"\x03" * 640 + b"\x04" * 1280
    big = b"\x05" * 1920
    assert joiner.add(big) is big  # nothing pending: passed through without a copy
