"""Thread budget arithmetic."""

from __future__ import annotations

import pytest

from voxswitch.config import load_settings
from voxswitch.inference.threads import ThreadBudget


def test_defaults_give_every_pool_all_cores_and_cap_them_together():
    budget = ThreadBudget.from_settings(load_settings(cores=4))
    # The LLM gets twice the cores so that replies interleave token by token.
    assert (budget.stt_workers, budget.llm_instances, budget.tts_workers) == (4, 8, 4)
    assert budget.compute_slots == 4
    assert budget.total_threads == 17
    # Never more computing at once than the cores, plus the tiny VAD thread.
    assert budget.max_busy_threads == 5


def test_explicit_counts_win_and_slots_follow_cores():
    budget = ThreadBudget.from_settings(
        load_settings(cores=2, stt_workers=1, llm_instances=3, tts_workers=1)
    )
    assert (budget.stt_workers, budget.llm_instances, budget.tts_workers) == (1, 3, 1)
    assert budget.total_threads == 6
    assert budget.max_busy_threads == 3


def test_one_core_machine():
    budget = ThreadBudget.from_settings(load_settings(cores=1))
    assert budget.total_threads == 5
    assert budget.max_busy_threads == 2


def test_compute_slots_are_a_real_bounded_semaphore():
    budget = ThreadBudget(cores=2, stt_workers=1, llm_instances=1, tts_workers=1)
    assert budget.compute.acquire(blocking=False)
    assert budget.compute.acquire(blocking=False)
    assert not budget.compute.acquire(blocking=False)
    budget.compute.release()
    budget.compute.release()
    with pytest.raises(ValueError):
        budget.compute.release()


def test_zero_threads_is_refused():
    with pytest.raises(ValueError):
        ThreadBudget(cores=0, stt_workers=1, llm_instances=1, tts_workers=1)
