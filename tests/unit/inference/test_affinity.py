"""Which LLM instance a session's reply borrows (pure logic)."""

import pytest

from voxswitch.inference.affinity import InstanceLedger


def test_a_session_gets_its_last_instance_back_when_free():
    ledger = InstanceLedger(3)
    first = ledger.take("a")
    ledger.give_back(first, "a")
    for _ in range(3):
        ledger.give_back(ledger.take("b"), "b")  # b's turns pass in between
    assert ledger.take("a") == first


def test_otherwise_the_least_recently_used_free_instance():
    ledger = InstanceLedger(3)
    a, b, c = ledger.take("a"), ledger.take("b"), ledger.take("c")
    ledger.give_back(b, "b")
    ledger.give_back(a, "a")
    ledger.give_back(c, "c")
    # "d" has no cache anywhere: b's instance was used longest ago.
    assert ledger.take("d") == b


def test_a_busy_last_instance_is_not_waited_for():
    ledger = InstanceLedger(2)
    mine = ledger.take("a")
    ledger.give_back(mine, "a")
    held = ledger.take("a")  # "a" talks on two requests at once (unusual, allowed)
    assert held == mine
    assert ledger.take("a") != mine


def test_every_instance_lent_once():
    ledger = InstanceLedger(2)
    taken = {ledger.take("a"), ledger.take("b")}
    assert taken == {0, 1}
    with pytest.raises(LookupError):
        ledger.take("c")
    ledger.give_back(0, "a")
    with pytest.raises(ValueError, match="not lent out"):
        ledger.give_back(0, "a")


def test_needs_an_instance():
    with pytest.raises(ValueError):
        InstanceLedger(0)
