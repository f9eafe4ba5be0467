"""End of the line for the caller's microphone audio inside a pipeline.

Every session sends 50 audio frames a second, and in Pipecat each frame costs
a queue hop and a task switch at every processor it passes. Once speech-to-text
and the VAD (in the user aggregator) have seen a frame, nothing downstream (the
LLM, TTS, output transport, assistant aggregator) has a use for it, so the
default bot drops it there instead of carrying it through four more processors.
"""

from __future__ import annotations

from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor


class DropInputAudio(FrameProcessor):
    """Passes every frame except inbound microphone audio."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            return
        await self.push_frame(frame, direction)
