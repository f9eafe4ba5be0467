"""DropInputAudio between a source and a sink (pipecat's run_test)."""

from __future__ import annotations

from pipecat.frames.frames import InputAudioRawFrame, TextFrame, UserStartedSpeakingFrame
from pipecat.tests.utils import run_test

from voxswitch.bot.input_audio import DropInputAudio


async def test_microphone_audio_stops_here_and_everything_else_passes():
    audio = InputAudioRawFrame(audio=bytes(640), sample_rate=16000, num_channels=1)
    down, _ = await run_test(
        DropInputAudio(),
        frames_to_send=[audio, UserStartedSpeakingFrame(), audio, TextFrame("hi"), audio],
        expected_down_frames=[UserStartedSpeakingFrame, TextFrame],
    )
    assert down[1].text == "hi"
