"""One simulated caller's connection: a real WebSocket, a paced microphone and a reader.

Like a browser client, the microphone never stops once the call is up: every
20 ms it sends one frame, taken from the utterance being played if there is
one, else from the background (silence or faint noise). The reader records
when each bot audio frame and RTVI message arrived. Behaviours (a conversation,
a listening session) sit on top and only play clips and wait for events.

The connection owns its two tasks and ends both on :meth:`close`.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from voxswitch.bench import protocol
from voxswitch.bench.protocol import FRAME_S, BotAudio, RtviMessage, Undecodable
from voxswitch.errors import AdmissionRefused, BenchError

CLOSE_TIMEOUT_S = 5.0
# A microphone that fell this far behind its schedule restarts it instead of bursting.
RESYNC_AFTER_S = 0.2
LATE_FRAME_S = 0.02


@dataclass
class MicStats:
    """How well the client kept real-time pace (a saturated client distorts every figure)."""

    frames_sent: int = 0
    late_frames: int = 0  # sent more than one frame period after their slot
    resyncs: int = 0
    max_lag_s: float = 0.0


@dataclass
class _Playback:
    frames: Sequence[bytes]
    done: asyncio.Future
    position: int = 0
    first_sent_at: float = 0.0


@dataclass
class Received:
    """Everything the server sent, with monotonic receive times."""

    audio_times: list[float] = field(default_factory=list)
    audio_seconds: float = 0.0
    rtvi: list[tuple[float, RtviMessage]] = field(default_factory=list)
    undecodable: int = 0

    def first_audio_after(self, t: float) -> float | None:
        i = bisect.bisect_right(self.audio_times, t)
        return self.audio_times[i] if i < len(self.audio_times) else None

    def last_audio(self) -> float | None:
        return self.audio_times[-1] if self.audio_times else None

    def rtvi_after(self, t: float, kind: str) -> list[tuple[float, RtviMessage]]:
        return [(at, m) for at, m in self.rtvi if at > t and m.type == kind]

    def transcripts_between(self, start: float, end: float) -> list[str]:
        return [
            text
            for at, m in self.rtvi
            if start <= at <= end and (text := m.final_transcript) is not None
        ]

    def errors(self) -> list[str]:
        return [text for _, m in self.rtvi if (text := m.error_text) is not None]


class Connection:
    """``async with Connection(url, background=...) as conn`` opens the call up to bot-ready."""

    def __init__(
        self,
        url: str,
        *,
        background: Sequence[bytes],
        open_timeout_s: float = 10.0,
        ready_timeout_s: float = 30.0,
        name: str = "caller",
    ):
        self.url = url
        self.name = name
        self.received = Received()
        self.mic = MicStats()
        self.handshake_s: float | None = None
        self.ready_s: float | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()
        self._background = background
        self._open_timeout_s = open_timeout_s
        self._ready_timeout_s = ready_timeout_s
        self._ws: websockets.ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._mic_task: asyncio.Task | None = None
        self._playing: _Playback | None = None
        self._changed = asyncio.Event()

    # ---- lifecycle ------------------------------------------------------------

    async def __aenter__(self) -> Connection:
        try:
            await self.open()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect, say client-ready, wait for bot-ready, start the microphone.

        Raises :class:`AdmissionRefused` when the server turns the call away,
        :class:`BenchError` (with a ``kind``) on any other failure.
        """
        started = time.monotonic()
        try:
            self._ws = await websockets.connect(
                self.url,
                open_timeout=self._open_timeout_s,
                close_timeout=CLOSE_TIMEOUT_S,
                max_size=None,
                compression=None,  # Pipecat clients do not negotiate it; audio barely compresses
            )
        except InvalidStatus as e:
            status = e.response.status_code
            if protocol.is_refusal_status(status):
                raise AdmissionRefused(f"http {status}") from None
            raise BenchError(f"handshake answered HTTP {status}", kind=f"http_{status}") from None
        except TimeoutError:
            raise BenchError("WebSocket handshake timed out", kind="connect_timeout") from None
        except (OSError, InvalidHandshake) as e:
            raise BenchError(f"cannot connect: {e}", kind="connect_error") from None
        self.handshake_s = time.monotonic() - started
        self._reader = asyncio.create_task(self._read(), name=f"{self.name}-reader")
        await self._send(protocol.encode_rtvi(protocol.client_ready(f"{self.name}-ready")))
        got_ready = await self.wait_for(
            lambda: any(m.type == "bot-ready" for _, m in self.received.rtvi),
            self._ready_timeout_s,
        )
        if self.closed.is_set():
            self._raise_closed("before bot-ready")
        if not got_ready:
            raise BenchError("no bot-ready in time", kind="ready_timeout")
        self.ready_s = time.monotonic() - started
        self._mic_task = asyncio.create_task(self._microphone(), name=f"{self.name}-mic")

    async def close(self) -> None:
        if self._mic_task is not None:
            self._mic_task.cancel()
            await asyncio.gather(self._mic_task, return_exceptions=True)
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
                await asyncio.wait_for(self._ws.close(), CLOSE_TIMEOUT_S)
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), CLOSE_TIMEOUT_S)
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        self._fail_playback()

    def _raise_closed(self, when: str) -> None:
        if protocol.is_refusal_close(self.close_code):
            raise AdmissionRefused(self.close_reason or f"close {self.close_code}")
        raise BenchError(
            f"server closed the call {when}: {self.close_code} {self.close_reason}".strip(),
            kind=f"closed_{self.close_code}",
        )

    def check_open(self, when: str) -> None:
        """Raise the right error if the server has ended the call."""
        if self.closed.is_set():
            self._raise_closed(when)

    # ---- waiting --------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], object], timeout_s: float) -> bool:
        """Wait until ``predicate()`` holds, the call closes, or ``timeout_s`` passes.

        Returns whether the predicate held. The reader sets ``_changed`` after each
        message; clearing it *before* testing the predicate means no wake-up is lost.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self._changed.clear()
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed.is_set():
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    # ---- microphone -----------------------------------------------------------

    async def play(
        self, frames: Sequence[bytes], *, timeout_s: float | None = None
    ) -> tuple[float, float]:
        """Speak ``frames`` through the microphone; returns when the first and last were sent."""
        if self._mic_task is None or self._mic_task.done():
            self.check_open("while speaking")
            raise BenchError("microphone is not running", kind="mic_stopped")
        if self._playing is not None:
            raise RuntimeError("already playing a clip")
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._playing = _Playback(frames, done)
        limit = timeout_s if timeout_s is not None else len(frames) * FRAME_S + 10.0
        try:
            return await asyncio.wait_for(asyncio.shield(done), limit)
        except TimeoutError:
            raise BenchError("microphone stalled", kind="mic_stalled") from None
        finally:
            if self._playing is not None and self._playing.done is done:
                self._playing = None

    async def _microphone(self) -> None:
        """Send one frame every 20 ms on a fixed schedule, for as long as the call lasts."""
        assert self._ws is not None
        slot = time.monotonic()
        k = 0
        try:
            while True:
                now = time.monotonic()
                if slot > now:
                    await asyncio.sleep(slot - now)
                frame = self._next_frame(k)
                sent_at = time.monotonic()
                await self._ws.send(frame)
                self._after_send(sent_at, slot)
                k += 1
                slot += FRAME_S
                if time.monotonic() - slot > RESYNC_AFTER_S:
                    # Fell far behind (overloaded client or server back-pressure): keep
                    # real-time pace from now on rather than sending a burst.
                    self.mic.resyncs += 1
                    slot = time.monotonic()
        except ConnectionClosed:
            pass
        finally:
            self._fail_playback()

    def _next_frame(self, k: int) -> bytes:
        playing = self._playing
        if playing is not None and not playing.done.done():
            return playing.frames[playing.position]
        return self._background[k % len(self._background)]

    def _after_send(self, sent_at: float, slot: float) -> None:
        lag = sent_at - slot
        self.mic.frames_sent += 1
        if lag > LATE_FRAME_S:
            self.mic.late_frames += 1
        self.mic.max_lag_s = max(self.mic.max_lag_s, lag)
        playing = self._playing
        if playing is None or playing.done.done():
            return
        if playing.position == 0:
            playing.first_sent_at = sent_at
        playing.position += 1
        if playing.position >= len(playing.frames):
            playing.done.set_result((playing.first_sent_at, sent_at))

    def _fail_playback(self) -> None:
        playing = self._playing
        if playing is not None and not playing.done.done():
            playing.done.set_exception(BenchError("call ended while speaking", kind="mic_stopped"))
            playing.done.exception()  # retrieved here: nobody may be awaiting it any more

    # ---- reader ---------------------------------------------------------------

    async def _send(self, data: bytes) -> None:
        assert self._ws is not None
        with contextlib.suppress(ConnectionClosed):  # the reader records how the call ended
            await self._ws.send(data)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                self._on_message(data, time.monotonic())
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._ws.close_code
            self.close_reason = self._ws.close_reason or ""
            self.closed.set()
            self._changed.set()

    def _on_message(self, data: bytes | str, at: float) -> None:
        match protocol.decode(data):
            case BotAudio() as audio:
                self.received.audio_times.append(at)
                self.received.audio_seconds += audio.seconds
            case RtviMessage() as message:
                self.received.rtvi.append((at, message))
            case Undecodable():
                self.received.undecodable += 1
            case _:
                pass
        self._changed.set()
