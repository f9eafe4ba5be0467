"""What a simulated caller does once connected: hold a conversation, or just listen.

Conversation: for each turn, speak its sentence (real-time, 20 ms frames), keep
the microphone open with background audio, time the first bot audio after the
end of the speech (voice-to-voice), collect the final user transcript the
server reports and judge whose sentence it is, wait for the bot to finish,
think, repeat.

Listening: stream background audio; when asked, speak a short probe word and
time the RTVI ``user-started-speaking`` it causes (VAD onset lag).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voxswitch.bench.client import Connection
from voxswitch.bench.results import CallResult, Outcome, TurnResult
from voxswitch.bench.sentences import judge
from voxswitch.bench.voices import Clip
from voxswitch.errors import AdmissionRefused, BenchError

# Without a bot-stopped-speaking message, this much bot silence ends its answer.
ANSWER_QUIET_S = 3.0


@dataclass(frozen=True)
class CallTiming:
    open_timeout_s: float = 10.0
    ready_timeout_s: float = 30.0
    turn_timeout_s: float = 30.0  # speech end -> first bot audio
    answer_timeout_s: float = 60.0  # first bot audio -> bot finished
    think_s: float = 1.0
    start_delay_s: float = 0.0
    probe_timeout_s: float = 5.0
    call_timeout_s: float = 600.0  # the whole call, a last resort behind the timeouts above
    # Background audio streamed after bot-ready before the first utterance, as a person
    # would take a moment: a pipeline that just started may not hear its first frames.
    warmup_s: float = 1.0


@dataclass(frozen=True)
class ConversationScript:
    caller: int
    clips: Sequence[Clip]  # one per turn
    others: Sequence[str]  # every other caller's sentences in the same step
    match_threshold: float = 0.5


def _record_connection(result: CallResult, conn: Connection) -> None:
    result.handshake_s = conn.handshake_s
    result.connect_s = conn.ready_s
    result.rtvi_errors = conn.received.errors()
    result.undecodable_frames = conn.received.undecodable
    result.close_code = conn.close_code
    result.close_reason = conn.close_reason
    result.frames_sent = conn.mic.frames_sent
    result.late_frames = conn.mic.late_frames
    result.mic_resyncs = conn.mic.resyncs
    result.max_send_lag_s = conn.mic.max_lag_s


async def run_call(
    url: str,
    caller: int,
    background: Sequence[bytes],
    timing: CallTiming,
    body: Callable[[Connection, CallResult], object],
) -> CallResult:
    """Open a call, run ``body`` on it, and always return a result (never raises BenchError)."""
    result = CallResult(caller)
    if timing.start_delay_s > 0:
        await asyncio.sleep(timing.start_delay_s)
    conn = Connection(
        url,
        background=background,
        open_timeout_s=timing.open_timeout_s,
        ready_timeout_s=timing.ready_timeout_s,
        name=f"caller{caller}",
    )
    try:
        async with asyncio.timeout(timing.call_timeout_s), conn:
            await body(conn, result)
    except TimeoutError:
        result.outcome = Outcome.FAILED
        result.reason = "call_timeout"
        result.detail = f"call did not finish in {timing.call_timeout_s:.0f} s"
    except AdmissionRefused as refused:
        result.outcome = Outcome.REFUSED
        result.reason = str(refused)
    except BenchError as e:
        result.outcome = Outcome.FAILED
        result.reason = e.kind
        result.detail = str(e)
    _record_connection(result, conn)
    return result


class Conversation:
    """The body of a conversational call: ``script.clips`` spoken turn by turn."""

    def __init__(
        self,
        script: ConversationScript,
        timing: CallTiming,
        on_turn: Callable[[TurnResult], None] | None = None,
    ):
        self._script = script
        self._timing = timing
        self._on_turn = on_turn

    async def __call__(self, conn: Connection, result: CallResult) -> None:
        await self._settle(conn)
        for index, clip in enumerate(self._script.clips):
            turn = await self._turn(conn, index, clip)
            result.turns.append(turn)
            if self._on_turn is not None:
                self._on_turn(turn)
            conn.check_open(f"after turn {index}")
            if index + 1 < len(self._script.clips) and self._timing.think_s > 0:
                await asyncio.sleep(self._timing.think_s)  # the microphone keeps streaming

    async def _settle(self, conn: Connection) -> None:
        """Warm up, and let a greeting (if the bot has one) finish before the first turn."""
        received = conn.received
        if await conn.wait_for(lambda: received.audio_times, self._timing.warmup_s):
            await wait_bot_done(conn, 0.0, self._timing.answer_timeout_s)

    async def _turn(self, conn: Connection, index: int, clip: Clip) -> TurnResult:
        turn = TurnResult(index, clip.text, speech_s=clip.seconds)
        received = conn.received
        audio_before = received.audio_seconds
        speech_start, speech_end = await conn.play(clip.frames)
        answered = await conn.wait_for(
            lambda: received.first_audio_after(speech_end) is not None,
            self._timing.turn_timeout_s,
        )
        first_audio = received.first_audio_after(speech_end)
        if answered and first_audio is not None:
            turn.voice_to_voice_s = first_audio - speech_end
            await wait_bot_done(conn, speech_end, self._timing.answer_timeout_s)
        else:
            conn.check_open(f"in turn {index}")
            turn.error = "no_bot_audio"
            turn.events = [m.type for at, m in received.rtvi if at > speech_start]
        # Transcripts can arrive from the start of speech until the answer is over.
        transcripts = received.transcripts_between(speech_start, time.monotonic())
        turn.transcript = " ".join(transcripts) if transcripts else None
        judgement = judge(
            turn.transcript,
            clip.text,
            self._script.others,
            threshold=self._script.match_threshold,
        )
        turn.verdict = judgement.verdict
        turn.own_score = round(judgement.own_score, 3)
        turn.other_score = round(judgement.other_score, 3)
        turn.other_sentence = judgement.other_sentence if judgement.other_score > 0 else None
        turn.bot_audio_s = round(received.audio_seconds - audio_before, 3)
        return turn


async def wait_bot_done(conn: Connection, since: float, timeout_s: float) -> None:
    """Until the bot's answer to what was said at ``since`` is over.

    Over means a ``bot-stopped-speaking`` after ``since``, or — for servers that
    do not send it, or that chose not to answer — :data:`ANSWER_QUIET_S` without
    bot audio and without a bot that said it started speaking.
    """
    received = conn.received

    def done() -> bool:
        if received.rtvi_after(since, "bot-stopped-speaking"):
            return True
        if received.rtvi_after(since, "bot-started-speaking"):
            return False
        quiet_from = max(since, received.last_audio() or since)
        return time.monotonic() - quiet_from > ANSWER_QUIET_S

    deadline = time.monotonic() + timeout_s
    # wait_for wakes on messages only; wait in slices so the quiet rule can fire in silence.
    while not conn.closed.is_set() and time.monotonic() < deadline:
        if await conn.wait_for(done, min(0.5, max(0.0, deadline - time.monotonic()))):
            return


class Listening:
    """The body of a listening call: background audio until ``stop``, probes on request."""

    def __init__(self, probe: Clip, timing: CallTiming, vad_start_s: float, stop: asyncio.Event):
        self._probe = probe
        self._timing = timing
        self._vad_start_s = vad_start_s
        self._stop = stop
        self._conn: Connection | None = None
        self._result: CallResult | None = None
        self._busy = False
        self._warm = False

    @property
    def ready(self) -> bool:
        conn = self._conn
        return conn is not None and self._warm and not self._busy and not conn.closed.is_set()

    async def __call__(self, conn: Connection, result: CallResult) -> None:
        self._conn, self._result = conn, result
        try:
            await conn.wait_for(self._stop.is_set, self._timing.warmup_s)
            self._warm = True
            while not self._stop.is_set():
                await conn.wait_for(self._stop.is_set, 0.5)
                conn.check_open("while listening")
        finally:
            self._conn = None

    async def probe(self) -> float | None:
        """Speak the probe word; the VAD onset lag, or None if the server never noticed.

        Lag = arrival of ``user-started-speaking`` - first probe frame sent - the
        VAD's configured start time (speech it must hear before it may fire).
        """
        conn, result = self._conn, self._result
        if conn is None or result is None or self._busy:
            return None
        self._busy = True
        try:
            first_sent, _ = await conn.play(self._probe.frames)
            received = conn.received
            heard = await conn.wait_for(
                lambda: received.rtvi_after(first_sent, "user-started-speaking"),
                self._timing.probe_timeout_s,
            )
            if not heard:
                result.probes_missed += 1
                await wait_bot_done(conn, first_sent, self._timing.answer_timeout_s)
                return None
            at = received.rtvi_after(first_sent, "user-started-speaking")[0][0]
            lag = at - first_sent - self._vad_start_s
            result.probe_lags_s.append(lag)
            # Stay busy through the bot's answer: a probe spoken over the bot measures
            # its turn-taking policy, not the VAD.
            await wait_bot_done(conn, at, self._timing.answer_timeout_s)
            return lag
        except BenchError:
            return None  # the call ended: run_call records how
        finally:
            self._busy = False
