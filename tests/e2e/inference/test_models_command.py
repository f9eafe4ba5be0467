"""``voxswitch models``: every model loads and runs once for real; the report says so."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_models_command_runs_each_model_and_prints_the_table():
    done = subprocess.run(
        [sys.executable, "-m", "voxswitch.cli", "models"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    print(done.stdout)
    assert done.returncode == 0, done.stderr[-2000:]
    for step in (
        "load all models",
        "TTS  one sentence",
        "STT  that sentence",
        "LLM  reply",
        "TURN the sentence",
    ):
        assert step in done.stdout, step
    # Both batching decisions are measured, single against batched.
    for step in ("VAD  batch of 1", "VAD  batch of 64", "STT  batch of 1", "STT  batch of 4"):
        assert step in done.stdout, step
    assert "FAILED" not in done.stdout


def test_models_command_fails_cleanly_on_an_invalid_setting():
    done = subprocess.run(
        [sys.executable, "-m", "voxswitch.cli", "models", "--cores", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "cores" in done.stderr
