"""The bench's wire protocol with bytes alone, including bytes made by Pipecat's serializer."""

import json

from pipecat.frames.frames import OutputAudioRawFrame, OutputTransportMessageUrgentFrame, TextFrame
from pipecat.frames.protobufs import frames_pb2
from pipecat.serializers.protobuf import ProtobufFrameSerializer

from voxswitch.bench import protocol
from voxswitch.bench.protocol import BotAudio, OtherFrame, RtviMessage, Undecodable


def test_audio_frame_is_what_pipecat_expects():
    data = protocol.encode_audio(b"\x01\x00" * 320)
    frame = frames_pb2.Frame.FromString(data)
    assert frame.WhichOneof("frame") == "audio"
    assert frame.audio.sample_rate == 16000
    assert frame.audio.num_channels == 1
    assert frame.audio.audio == b"\x01\x00" * 320


async def test_audio_frame_deserializes_in_pipecat():
    frame = await ProtobufFrameSerializer().deserialize(protocol.encode_audio(bytes(640)))
    assert frame.sample_rate == 16000 and frame.num_channels == 1 and len(frame.audio) == 640


def test_client_ready_carries_the_rtvi_version():
    data = protocol.encode_rtvi(protocol.client_ready("r1"))
    message = json.loads(frames_pb2.Frame.FromString(data).message.data)
    assert message["label"] == "rtvi-ai"
    assert message["type"] == "client-ready"
    assert message["id"] == "r1"
    assert message["data"]["version"].count(".") == 2


def test_pcm_is_split_into_padded_20ms_frames():
    frames = protocol.encode_pcm_frames(b"\x02\x00" * 700)  # 2.2 frames of samples
    assert len(frames) == 3
    payloads = [frames_pb2.Frame.FromString(f).audio.audio for f in frames]
    assert all(len(p) == protocol.FRAME_BYTES for p in payloads)
    assert payloads[2].endswith(bytes(protocol.FRAME_BYTES - 60 * 2))


async def test_decodes_bot_audio_serialized_by_pipecat():
    data = await ProtobufFrameSerializer().serialize(
        OutputAudioRawFrame(audio=bytes(960), sample_rate=24000, num_channels=1)
    )
    decoded = protocol.decode(data)
    assert decoded == BotAudio(960, 24000, 1)
    assert decoded.seconds == 0.02


async def test_decodes_rtvi_messages_serialized_by_pipecat():
    message = {
        "label": "rtvi-ai",
        "type": "user-transcription",
        "id": "7",
        "data": {"text": "hello there", "final": True, "user_id": ""},
    }
    data = await ProtobufFrameSerializer().serialize(
        OutputTransportMessageUrgentFrame(message=message)
    )
    decoded = protocol.decode(data)
    assert isinstance(decoded, RtviMessage)
    assert decoded.type == "user-transcription" and decoded.id == "7"
    assert decoded.final_transcript == "hello there"


def test_interim_transcription_is_not_final():
    msg = RtviMessage("user-transcription", {"text": "hel", "final": False})
    assert msg.final_transcript is None
    assert RtviMessage("bot-output", {"text": "x"}).final_transcript is None


def test_error_text():
    assert RtviMessage("error", {"error": "boom", "fatal": False}).error_text == "boom"
    assert RtviMessage("error-response", {}).error_text == "error-response"
    assert RtviMessage("bot-ready", {}).error_text is None


async def test_text_frames_and_foreign_messages_are_other():
    data = await ProtobufFrameSerializer().serialize(TextFrame(text="hi"))
    assert protocol.decode(data) == OtherFrame("text")
    foreign = frames_pb2.Frame()
    foreign.message.data = json.dumps({"label": "someone-else", "type": "x"})
    assert protocol.decode(foreign.SerializeToString()) == OtherFrame("message")


def test_bad_input_is_undecodable_not_an_exception():
    assert isinstance(protocol.decode("text"), Undecodable)
    assert isinstance(protocol.decode(b"\xff\xfe garbage"), Undecodable)
    assert isinstance(protocol.decode(b""), Undecodable)  # empty protobuf: no frame set
    not_json = frames_pb2.Frame()
    not_json.message.data = "{nope"
    assert isinstance(protocol.decode(not_json.SerializeToString()), Undecodable)
    not_object = frames_pb2.Frame()
    not_object.message.data = "[1, 2]"
    assert isinstance(protocol.decode(not_object.SerializeToString()), Undecodable)


def test_rtvi_data_that_is_not_an_object_becomes_empty():
    frame = frames_pb2.Frame()
    frame.message.data = json.dumps({"label": "rtvi-ai", "type": "bot-ready", "data": "x"})
    decoded = protocol.decode(frame.SerializeToString())
    assert decoded == RtviMessage("bot-ready", {}, None)


def test_refusals():
    assert protocol.is_refusal_close(1013)
    assert not protocol.is_refusal_close(1000)
    assert not protocol.is_refusal_close(None)
    assert protocol.is_refusal_status(503) and protocol.is_refusal_status(429)
    assert not protocol.is_refusal_status(403)
