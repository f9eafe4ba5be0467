"""Admission control and the registry of live sessions. Pure state, no I/O.

The server reserves a slot *before* it accepts a WebSocket (as LiveKit Agents
reserves a slot before accepting a job), so a caller beyond capacity is told
so at once instead of being left hanging while a pipeline is built.

Everything here runs on the event loop thread only; no locks are needed
because no method awaits.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from voxswitch.errors import AdmissionRefused


class SessionState(StrEnum):
    STARTING = "starting"
    LISTENING = "listening"  # waiting for the user
    USER_SPEAKING = "user_speaking"
    RESPONDING = "responding"  # between end of user speech and end of bot speech
    CLOSING = "closing"


# States in which a turn is in progress: draining waits for these to end.
TURN_IN_PROGRESS = frozenset({SessionState.USER_SPEAKING, SessionState.RESPONDING})


@dataclass
class SessionRecord:
    """What the server knows about one live session (listed at /api/sessions)."""

    id: str
    peer: str
    started_at: float  # wall clock, for display
    started_mono: float
    state: SessionState = SessionState.STARTING
    turns: int = 0
    last_activity_mono: float = 0.0
    last_inbound_audio_mono: float = 0.0
    last_voice_to_voice_s: float | None = None
    bad_frames_in_row: int = 0
    close_reason: str | None = None

    def as_json(self, now_mono: float) -> dict[str, object]:
        return {
            "id": self.id,
            "peer": self.peer,
            "started_at": self.started_at,
            "age_s": round(now_mono - self.started_mono, 3),
            "state": self.state.value,
            "turns": self.turns,
            "idle_s": round(now_mono - self.last_inbound_audio_mono, 3),
            "last_voice_to_voice_s": self.last_voice_to_voice_s,
        }


@dataclass
class Admission:
    """Capacity, draining and the live-session registry."""

    max_sessions: int
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    draining: bool = False
    sessions: dict[str, SessionRecord] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def live(self) -> int:
        return len(self.sessions)

    @property
    def ready(self) -> bool:
        """Whether this instance takes new sessions (for /ready and load balancers)."""
        return not self.draining and self.live < self.max_sessions

    def refusal(self) -> AdmissionRefused | None:
        """The reason a new caller would be refused now, or None."""
        if self.draining:
            return AdmissionRefused("draining")
        if self.live >= self.max_sessions:
            return AdmissionRefused("at capacity")
        return None

    def admit(self, peer: str) -> SessionRecord:
        """Reserve a slot for a new session or raise :class:`AdmissionRefused`."""
        refused = self.refusal()
        if refused is not None:
            raise refused
        now = self.clock()
        sid = f"s{next(self._ids):06d}-{int(self.wall_clock() * 1000) % 100_000_000:08d}"
        record = SessionRecord(
            id=sid,
            peer=peer,
            started_at=self.wall_clock(),
            started_mono=now,
            last_activity_mono=now,
            last_inbound_audio_mono=now,
        )
        self.sessions[sid] = record
        return record

    def release(self, session_id: str) -> None:
        """Free the slot. Idempotent: ending paths may race to release."""
        self.sessions.pop(session_id, None)

    def start_draining(self) -> None:
        self.draining = True

    def busy_sessions(self) -> list[SessionRecord]:
        """Sessions with a turn in progress (draining lets these finish)."""
        return [r for r in self.sessions.values() if r.state in TURN_IN_PROGRESS]

    def listing(self) -> list[dict[str, object]]:
        now = self.clock()
        return [r.as_json(now) for r in self.sessions.values()]


@dataclass(frozen=True)
class Deadline:
    """Why a session must end now, if it must."""

    reason: str
    close_code: int


def expired(record: SessionRecord, now: float, *, idle_s: float, max_s: float) -> Deadline | None:
    """Idle timeout and maximum duration, as a pure check.

    Idle means no inbound audio *and* no bot activity for ``idle_s``: a caller
    who stops streaming while the bot is still answering is not cut off mid-turn.
    """
    if now - record.started_mono >= max_s:
        return Deadline("max duration reached", 1000)
    if now - max(record.last_inbound_audio_mono, record.last_activity_mono) >= idle_s:
        return Deadline("idle timeout", 1000)
    return None
