"""Admission and session registry: pure state, tested without I/O."""

import pytest

from voxswitch.errors import AdmissionRefused
from voxswitch.server.admission import Admission, SessionState, expired


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_admits_up_to_capacity_then_refuses_with_1013():
    adm = Admission(max_sessions=2)
    a = adm.admit("p1")
    adm.admit("p2")
    assert not adm.ready
    with pytest.raises(AdmissionRefused) as e:
        adm.admit("p3")
    assert e.value.close_code == 1013
    assert str(e.value) == "at capacity"
    adm.release(a.id)
    assert adm.ready
    adm.admit("p3")


def test_release_is_idempotent_and_ids_unique():
    adm = Admission(max_sessions=10)
    ids = {adm.admit(f"p{i}").id for i in range(10)}
    assert len(ids) == 10
    one = next(iter(ids))
    adm.release(one)
    adm.release(one)
    assert adm.live == 9


def test_draining_refuses_new_and_reports_not_ready():
    adm = Admission(max_sessions=5)
    adm.admit("p1")
    adm.start_draining()
    assert not adm.ready
    with pytest.raises(AdmissionRefused, match="draining"):
        adm.admit("p2")


def test_busy_sessions_are_those_mid_turn():
    adm = Admission(max_sessions=5)
    a, b, c = (adm.admit(p) for p in ("a", "b", "c"))
    a.state = SessionState.LISTENING
    b.state = SessionState.USER_SPEAKING
    c.state = SessionState.RESPONDING
    assert {r.id for r in adm.busy_sessions()} == {b.id, c.id}


def test_idle_and_max_duration():
    clock = FakeClock()
    adm = Admission(max_sessions=1, clock=clock)
    rec = adm.admit("p")
    assert expired(rec, clock.now + 5, idle_s=10, max_s=100) is None
    idle = expired(rec, clock.now + 10, idle_s=10, max_s=100)
    assert idle is not None and idle.reason == "idle timeout"
    # Bot activity keeps a session alive even without inbound audio.
    rec.last_activity_mono = clock.now + 9
    assert expired(rec, clock.now + 10, idle_s=10, max_s=100) is None
    rec.last_inbound_audio_mono = clock.now + 99
    over = expired(rec, clock.now + 100, idle_s=10, max_s=100)
    assert over is not None and over.reason == "max duration reached"


def test_listing_is_json_ready():
    clock = FakeClock()
    adm = Admission(max_sessions=3, clock=clock)
    rec = adm.admit("127.0.0.1:5000")
    rec.turns = 2
    clock.now += 3
    (row,) = adm.listing()
    assert row["id"] == rec.id and row["peer"] == "127.0.0.1:5000"
    assert row["turns"] == 2 and row["age_s"] == 3.0 and row["state"] == "starting"
