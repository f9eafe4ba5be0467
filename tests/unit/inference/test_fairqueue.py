"""The fair queue alone: order, fairness, limits, removal. No threads."""

from __future__ import annotations

import pytest

from voxswitch.errors import PoolOverloadedError
from voxswitch.inference.fairqueue import FairQueue


def test_one_busy_session_does_not_starve_another():
    q: FairQueue[str] = FairQueue(100)
    for i in range(5):
        q.push("busy", f"b{i}")
    q.push("quiet", "q0")
    order = [item for _, item in q.pop(10)]
    # The quiet session's only request is served second, not sixth.
    assert order == ["b0", "q0", "b1", "b2", "b3", "b4"]


def test_round_robin_keeps_each_sessions_fifo_order():
    q: FairQueue[str] = FairQueue(100)
    for s in "abc":
        for i in range(3):
            q.push(s, f"{s}{i}")
    popped = [item for _, item in q.pop(9)]
    assert popped == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]
    assert len(q) == 0 and q.sessions() == 0


def test_pop_in_small_batches_continues_the_rotation():
    q: FairQueue[str] = FairQueue(100)
    for s in "ab":
        for i in range(2):
            q.push(s, f"{s}{i}")
    assert [i for _, i in q.pop(1)] == ["a0"]
    assert [i for _, i in q.pop(1)] == ["b0"]
    assert [i for _, i in q.pop(5)] == ["a1", "b1"]
    assert q.pop(3) == []


def test_saturated_queue_refuses_with_a_clear_error():
    q: FairQueue[int] = FairQueue(2, name="stt")
    q.push("a", 1)
    q.push("b", 2)
    with pytest.raises(PoolOverloadedError, match="stt pool is saturated"):
        q.push("c", 3)
    q.pop(1)
    q.push("c", 3)  # room again


def test_drop_session_removes_only_that_sessions_items():
    q: FairQueue[str] = FairQueue(100)
    q.push("a", "a0")
    q.push("b", "b0")
    q.push("a", "a1")
    assert q.drop_session("a") == ["a0", "a1"]
    assert q.drop_session("a") == []
    assert len(q) == 1
    assert q.pop(5) == [("b", "b0")]


def test_remove_one_waiting_item():
    q: FairQueue[str] = FairQueue(100)
    q.push("a", "x")
    q.push("a", "y")
    assert q.remove("a", "x") is True
    assert q.remove("a", "x") is False
    assert q.remove("nobody", "x") is False
    assert q.pop(5) == [("a", "y")]


def test_drain_empties_everything():
    q: FairQueue[int] = FairQueue(10)
    for i in range(4):
        q.push(i % 2, i)
    assert sorted(q.drain()) == [0, 1, 2, 3]
    assert len(q) == 0 and q.pop(1) == []


def test_depth_must_be_positive():
    with pytest.raises(ValueError):
        FairQueue(0)
