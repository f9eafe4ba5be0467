"""VAD batch split/merge: each stream gets back exactly its own state and context."""

from __future__ import annotations

import numpy as np
import pytest

from voxswitch.errors import BadInputError
from voxswitch.inference.vad import (
    CHUNK_BYTES,
    CHUNK_SAMPLES,
    CONTEXT_SAMPLES,
    VadStream,
    split_batch,
    stack_batch,
)


class _NoPool:
    """Stands in for the pool where only the stream's own bookkeeping is under test."""

    async def score(self, stream, samples):  # pragma: no cover - not reached
        raise AssertionError("not expected")


def _stream(tag: float) -> VadStream:
    s = VadStream(_NoPool())  # type: ignore[arg-type]
    s.state = np.full((2, 1, 128), tag, dtype=np.float32)
    s.context = np.full(CONTEXT_SAMPLES, tag, dtype=np.float32)
    return s


def _fake_model(inputs: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A scripted 'model': confidence = mean of the row, new state = old state + row mean."""
    means = inputs.mean(axis=1, keepdims=True)
    return means.astype(np.float32), state + means[:, 0][None, :, None]


def test_stack_puts_each_context_before_its_chunk_and_states_side_by_side():
    streams = [_stream(1.0), _stream(2.0), _stream(3.0)]
    chunks = [np.full(CHUNK_SAMPLES, 10.0 * (i + 1), dtype=np.float32) for i in range(3)]
    inputs, state = stack_batch(streams, chunks)
    assert inputs.shape == (3, CONTEXT_SAMPLES + CHUNK_SAMPLES)
    assert state.shape == (2, 3, 128)
    for i in range(3):
        assert np.all(inputs[i, :CONTEXT_SAMPLES] == i + 1)
        assert np.all(inputs[i, CONTEXT_SAMPLES:] == 10.0 * (i + 1))
        assert np.all(state[:, i, :] == i + 1)


def test_split_gives_every_stream_its_own_row_back():
    streams = [_stream(float(i)) for i in range(5)]
    chunks = [np.random.default_rng(i).random(CHUNK_SAMPLES, dtype=np.float32) for i in range(5)]
    inputs, state = stack_batch(streams, chunks)
    output, new_state = _fake_model(inputs, state)
    confidences = split_batch(streams, inputs, output, new_state)
    for i, stream in enumerate(streams):
        assert confidences[i] == pytest.approx(float(output[i, 0]))
        assert stream.state.shape == (2, 1, 128)
        assert np.allclose(stream.state, i + output[i, 0])
        # The next chunk's context is the tail of this chunk.
        assert np.array_equal(stream.context, chunks[i][-CONTEXT_SAMPLES:])


def test_batched_equals_one_by_one():
    rng = np.random.default_rng(7)
    chunks = [rng.random(CHUNK_SAMPLES, dtype=np.float32) for _ in range(4)]
    together = [_stream(0.5) for _ in range(4)]
    alone = [_stream(0.5) for _ in range(4)]
    inputs, state = stack_batch(together, chunks)
    batched = split_batch(together, inputs, *_fake_model(inputs, state))
    single = []
    for stream, chunk in zip(alone, chunks, strict=True):
        i, s = stack_batch([stream], [chunk])
        single += split_batch([stream], i, *_fake_model(i, s))
    assert batched == pytest.approx(single)
    for a, b in zip(together, alone, strict=True):
        assert np.allclose(a.state, b.state) and np.array_equal(a.context, b.context)


def test_state_resets_after_two_seconds_of_clear_quiet_only():
    stream = _stream(1.0)
    for _ in range(100):
        stream.after_chunk(0.9)  # speech: never reset mid-speech
    assert np.all(stream.state == 1.0)
    for _ in range(5):
        stream.after_chunk(0.01)
    assert not stream.state.any() and not stream.context.any()


async def test_wrong_chunk_size_is_bad_input():
    with pytest.raises(BadInputError, match="1024 bytes"):
        await _stream(0.0).confidence(b"\x00" * (CHUNK_BYTES - 2))
