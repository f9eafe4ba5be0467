"""One caller's session: its own transport, pipeline and worker, and its whole lifecycle.

Everything that holds conversation state is created here, per connection, and
released when the session ends: nothing lives at module level or on the app.
The session is the owner of every task it starts (a TaskGroup), and it alone
decides how the session ends and with which close code:

========================  ======  =======================================
why                       code    outcome label (metrics)
========================  ======  =======================================
client hung up            —       client_disconnect
pipeline finished         1000    normal
idle / max duration       1000    idle_timeout / max_duration
server drain              1001    drained
bad frames in a row       1007    protocol_error
message over size limit   1009    (closed by the WebSocket layer)
error in pipeline/model   1011    error
========================  ======  =======================================
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref

from pipecat.frames.frames import ErrorFrame, Frame, InputAudioRawFrame
from pipecat.frames.frames import OutputTransportMessageUrgentFrame as UrgentMessage
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner
from starlette.websockets import WebSocket, WebSocketDisconnect

from voxswitch import events
from voxswitch.bot.context import BotFactory, SessionContext, build_pipeline
from voxswitch.config import Settings
from voxswitch.errors import BadInputError
from voxswitch.inference.pools import Pools
from voxswitch.server.admission import (
    TURN_IN_PROGRESS,
    Admission,
    SessionRecord,
    SessionState,
    expired,
)
from voxswitch.server.turns import TurnObserver
from voxswitch.server.wire import BadFrame, GuardedSerializer, InboundGuard, rtvi_error

log = logging.getLogger(__name__)

WATCH_PERIOD_S = 0.5
CLOSE_TIMEOUT_S = 2.0
STOP_TIMEOUT_S = 5.0


class SessionWebSocket:
    """The session's view of its WebSocket: the session, not the transport, picks the close code.

    Pipecat's transport closes the socket with the default code when its
    pipeline stops; routing that close through here makes it carry the code
    and reason the session decided, exactly once.
    """

    def __init__(self, websocket: WebSocket):
        self._ws = websocket
        self.close_code = 1000
        self.close_reason = ""
        self.closed = False

    def __getattr__(self, name: str):
        return getattr(self._ws, name)

    def plan_close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.close_code, self.close_reason = code, reason[:120]

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        # A peer that already left makes close() fail; there is nothing left to tell it.
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            await self._ws.close(self.close_code, self.close_reason)


# Every Session object still in memory, finished or not: the leak check behind
# /api/process ("sessions_in_memory" must fall back to live sessions).
_in_memory: weakref.WeakSet[Session] = weakref.WeakSet()


def sessions_in_memory() -> int:
    return len(_in_memory)


class Session:
    def __init__(
        self,
        websocket: WebSocket,
        record: SessionRecord,
        *,
        settings: Settings,
        pools: Pools,
        bot_factory: BotFactory,
        admission: Admission,
    ):
        _in_memory.add(self)
        self.record = record
        self._ws = SessionWebSocket(websocket)
        self._settings = settings
        self._pools = pools
        self._bot_factory = bot_factory
        self._admission = admission
        self._runner: WorkerRunner | None = None
        self._finished = asyncio.Event()
        self._outcome = "normal"
        self._ending = False
        self._drain_requested = False
        self._serializer = GuardedSerializer(
            InboundGuard(max_bad_in_row=settings.max_bad_frames),
            on_inbound=self._on_inbound,
            on_bad_frame=self._on_bad_frame,
            audio_frame_ms=settings.audio_in_frame_ms,
        )

    # ---- lifecycle ------------------------------------------------------------

    async def run(self) -> str:
        """Run the session to its end; returns the outcome label. Never raises."""
        started = time.monotonic()
        events.emit(events.SessionStarted(self.record.id))
        try:
            await self._run()
        except Exception:
            log.exception("session %s failed", self.record.id)
            self._outcome = "error"
            self._ws.plan_close(1011, "internal error")
        finally:
            self.record.state = SessionState.CLOSING
            self._pools.cancel_session(self.record.id)
            await asyncio.wait_for(self._ws.close(), CLOSE_TIMEOUT_S + 1)
            self._admission.release(self.record.id)
            events.emit(
                events.SessionEnded(self.record.id, self._outcome, time.monotonic() - started)
            )
        return self._outcome

    async def _run(self) -> None:
        transport = FastAPIWebsocketTransport(
            self._ws,  # type: ignore[arg-type]  # duck-typed WebSocket
            FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_in_sample_rate=self._settings.audio_in_sample_rate,
                audio_out_sample_rate=self._settings.audio_out_sample_rate,
                add_wav_header=False,
                serializer=self._serializer,
                allowed_origins=[],
                ws_close_timeout=CLOSE_TIMEOUT_S,
            ),
        )
        ctx = SessionContext(self.record.id, self._settings, self._pools, transport)
        pipeline = await build_pipeline(self._bot_factory, ctx)
        worker = PipelineWorker(
            pipeline,
            params=PipelineParams(
                audio_in_sample_rate=self._settings.audio_in_sample_rate,
                audio_out_sample_rate=self._settings.audio_out_sample_rate,
                enable_metrics=False,
            ),
            observers=[TurnObserver(self.record, vad_stop_secs=self._settings.vad_stop_secs)],
            # The session's watchdog owns idle and duration limits.
            idle_timeout_secs=None,
            cancel_on_idle_timeout=False,
            # Every observer gets every frame at every hop through a queue of its
            # own (50 audio frames a second): keep only RTVI's and ours.
            enable_turn_tracking=False,
        )
        self._runner = WorkerRunner(handle_sigint=False, handle_sigterm=False)
        await self._runner.add_workers(worker)

        @transport.event_handler("on_client_disconnected")
        async def _on_disconnected(_transport, _ws):
            await self.end("client_disconnect", 1000, "client disconnected")

        @worker.event_handler("on_pipeline_error")
        async def _on_error(_worker, frame: ErrorFrame):
            await self._on_pipeline_error(frame)

        self.record.state = SessionState.LISTENING
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._run_runner(), name=f"{self.record.id}-runner")
            tg.create_task(self._watchdog(), name=f"{self.record.id}-watchdog")

    async def _run_runner(self) -> None:
        assert self._runner is not None
        try:
            await self._runner.run()
        finally:
            self._finished.set()

    async def _watchdog(self) -> None:
        """Idle timeout, maximum duration and drain, checked twice a second."""
        while not self._finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), WATCH_PERIOD_S)
            if self._finished.is_set():
                return
            if self._drain_requested and self.record.state not in TURN_IN_PROGRESS:
                await self.end("drained", 1001, "server shutting down")
                continue
            deadline = expired(
                self.record,
                time.monotonic(),
                idle_s=self._settings.idle_timeout_s,
                max_s=self._settings.max_duration_s,
            )
            if deadline is not None:
                outcome = "idle_timeout" if deadline.reason == "idle timeout" else "max_duration"
                await self.end(outcome, deadline.close_code, deadline.reason)

    async def end(self, outcome: str, code: int, reason: str) -> None:
        """End the session once: close the socket with ``code`` and cancel the pipeline."""
        if self._ending:
            return
        self._ending = True
        self._outcome = outcome
        self.record.state = SessionState.CLOSING
        self.record.close_reason = reason
        self._ws.plan_close(code, reason)
        self._pools.cancel_session(self.record.id)
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cancel(reason=reason), STOP_TIMEOUT_S)

    def request_drain(self) -> None:
        """Finish the current turn, then close with 1001 (the watchdog acts on it)."""
        self._drain_requested = True

    async def force_close(self) -> None:
        """Drain timeout reached: close now whatever the session is doing."""
        await self.end("drained", 1001, "server shutting down")

    # ---- inbound --------------------------------------------------------------

    def _on_inbound(self, frame: Frame) -> None:
        if isinstance(frame, InputAudioRawFrame):
            self.record.last_inbound_audio_mono = time.monotonic()

    async def _on_bad_frame(self, bad: BadFrame) -> None:
        events.emit(events.StageError("protocol", self.record.id))
        await self._send_rtvi(rtvi_error(bad.message, fatal=bad.fatal is not None))
        if bad.fatal is not None:
            await self.end("protocol_error", bad.fatal.close_code, str(bad.fatal))

    async def _on_pipeline_error(self, frame: ErrorFrame) -> None:
        # The RTVI processor has already relayed the error to the client.
        if isinstance(frame.exception, BadInputError):
            return  # this request failed; the session can go on
        log.warning("session %s: pipeline error, ending: %s", self.record.id, frame.error)
        await self.end("error", 1011, "internal error")

    async def _send_rtvi(self, message: dict[str, object]) -> None:
        data = await self._serializer.serialize(UrgentMessage(message=message))
        if data is None or self._ws.closed:
            return
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            await self._ws.send_bytes(data)
