"""Shared pieces of the bench's end-to-end tests."""

from __future__ import annotations

import pytest

from voxswitch.bench.behaviours import CallTiming
from voxswitch.bench.runner import LoadOptions
from voxswitch.bench.voices import VoiceBank


@pytest.fixture(scope="session")
def voices(tmp_path_factory) -> VoiceBank:
    """The real Piper voice, with a cache shared by this test session only."""
    return VoiceBank(tmp_path_factory.mktemp("bench-voices"))


def quick_options(**overrides) -> LoadOptions:
    """Short timeouts and pauses: the fake server answers at once."""
    base = dict(
        turns=1,
        think_s=0.2,
        stagger_s=0.5,
        timing=CallTiming(
            open_timeout_s=5,
            ready_timeout_s=5,
            turn_timeout_s=10,
            answer_timeout_s=10,
            warmup_s=0.3,
        ),
        cooldown_s=0.0,
        progress=False,
    )
    base.update(overrides)
    return LoadOptions(**base)
