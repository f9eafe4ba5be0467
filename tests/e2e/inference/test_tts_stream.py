"""Closing a TTS stream stops synthesis at once, sentence by sentence."""

from __future__ import annotations

import asyncio
import time

import pytest

from voxswitch.inference.pools import Pools

pytestmark = pytest.mark.e2e

PARAGRAPH = " ".join(
    [
        "The first sentence is short.",
        "The second one takes a little longer to say out loud.",
        "A third sentence follows it.",
        "And a fourth one ends the paragraph.",
    ]
)
_TIMEOUT_S = 30.0


async def test_closing_the_audio_stream_cancels_synthesis(pools: Pools):
    workers = pools.tts._workers
    started = time.monotonic()
    full = [c async for c in pools.tts.synthesize("tts-full", PARAGRAPH, 16000)]
    full_s = time.monotonic() - started
    assert len(full) >= 4  # one chunk per sentence

    stream = pools.tts.synthesize("tts-cancel", PARAGRAPH, 16000)
    async with asyncio.timeout(_TIMEOUT_S):
        first = await anext(stream)
    with workers._cond:
        (job,) = workers._running
    await stream.aclose()
    flagged_on_close = job.cancelled.is_set()

    def still_running() -> bool:
        with workers._cond:
            return job in workers._running

    closed_at = time.monotonic()
    async with asyncio.timeout(_TIMEOUT_S):
        # Polled: the worker thread signals nothing on the loop.
        while still_running():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    print(
        f"\nfull paragraph: {len(full)} chunks in {full_s:.2f} s; closed after "
        f"{len(first) / 32000:.2f} s of audio, worker idle "
        f"{1000 * (time.monotonic() - closed_at):.0f} ms later"
    )
    assert flagged_on_close, "closing the stream did not cancel its job"
