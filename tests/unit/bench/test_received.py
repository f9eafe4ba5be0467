"""What a caller received, queried by time: the bookkeeping behind voice-to-voice."""

from voxswitch.bench.client import Received
from voxswitch.bench.protocol import RtviMessage


def test_first_audio_after_a_moment():
    r = Received(audio_times=[1.0, 1.02, 5.0, 5.02])
    assert r.first_audio_after(0.5) == 1.0
    assert r.first_audio_after(1.0) == 1.02  # strictly after
    assert r.first_audio_after(2.0) == 5.0
    assert r.first_audio_after(6.0) is None
    assert r.last_audio() == 5.02
    assert Received().last_audio() is None


def test_transcripts_and_errors_by_time():
    r = Received(
        rtvi=[
            (1.0, RtviMessage("user-transcription", {"text": "early", "final": True})),
            (2.0, RtviMessage("user-transcription", {"text": "interim", "final": False})),
            (3.0, RtviMessage("user-transcription", {"text": "mine", "final": True})),
            (3.5, RtviMessage("error", {"error": "oops"})),
            (4.0, RtviMessage("bot-stopped-speaking")),
        ]
    )
    assert r.transcripts_between(1.5, 3.5) == ["mine"]
    assert r.errors() == ["oops"]
    assert [t for t, _ in r.rtvi_after(3.0, "bot-stopped-speaking")] == [4.0]
    assert r.rtvi_after(4.0, "bot-stopped-speaking") == []
