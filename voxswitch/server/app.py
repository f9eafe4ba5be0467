"""The FastAPI app: routes for calls (/ws), operations (/health, /ready, /metrics,
/api/sessions) and the browser client (/).

The app object holds only process-wide things (settings, pools, admission,
metrics, the table of live sessions); each session's state lives in its
:class:`~voxswitch.server.session.Session`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import psutil
from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.websockets import WebSocketDisconnect

from voxswitch import events
from voxswitch.bot.context import BotFactory
from voxswitch.config import Settings
from voxswitch.errors import AdmissionRefused
from voxswitch.inference.pools import Pools
from voxswitch.server.admission import Admission
from voxswitch.server.metrics import CONTENT_TYPE, Metrics
from voxswitch.server.session import Session, sessions_in_memory

log = logging.getLogger(__name__)

STATIC_DIR = Path(str(files("voxswitch") / "static"))
FORCE_CLOSE_GRACE_S = 5.0


@dataclass
class ServerState:
    settings: Settings
    pools: Pools
    bot_factory: BotFactory
    admission: Admission
    metrics: Metrics
    live: dict[str, Session] = field(default_factory=dict)
    # Set whenever no session is live: drain waits on it.
    no_sessions: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, session: Session) -> None:
        self.live[session.record.id] = session
        self.no_sessions.clear()

    def remove(self, session_id: str) -> None:
        self.live.pop(session_id, None)
        if not self.live:
            self.no_sessions.set()

    async def _wait_empty(self, timeout_s: float) -> None:
        if self.live:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.no_sessions.wait(), timeout_s)

    async def drain(self, timeout_s: float) -> None:
        """Stop admitting, let live turns finish (up to ``timeout_s``), then close with 1001."""
        self.admission.start_draining()
        log.info("draining: %d live session(s), up to %.1f s", len(self.live), timeout_s)
        for session in list(self.live.values()):
            session.request_drain()
        await self._wait_empty(timeout_s)
        for session in list(self.live.values()):
            await session.force_close()
        await self._wait_empty(FORCE_CLOSE_GRACE_S)
        if self.live:
            log.warning("drain: %d session(s) did not end in time", len(self.live))


def create_app(settings: Settings, pools: Pools, bot_factory: BotFactory) -> FastAPI:
    admission = Admission(max_sessions=settings.max_sessions)
    metrics = Metrics(live_sessions=lambda: admission.live)
    state = ServerState(settings, pools, bot_factory, admission, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        metrics.start()
        try:
            yield
        finally:
            metrics.stop()

    app = FastAPI(title="voxswitch", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.voxswitch = state

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        body = {
            "ready": admission.ready,
            "live_sessions": admission.live,
            "max_sessions": admission.max_sessions,
            "draining": admission.draining,
        }
        return JSONResponse(body, status_code=200 if admission.ready else 503)

    @app.get("/api/sessions")
    async def sessions() -> dict[str, object]:
        return {"sessions": admission.listing(), "max_sessions": admission.max_sessions}

    @app.get("/api/process")
    async def process(collect: bool = False) -> dict[str, object]:
        """Process-level figures for operators and leak checks (``?collect=true`` runs the GC)."""
        if collect:
            gc.collect()
        return {
            "asyncio_tasks": len(asyncio.all_tasks()),
            "threads": threading.active_count(),
            "rss_bytes": psutil.Process().memory_info().rss,
            "live_sessions": admission.live,
            "sessions_in_memory": sessions_in_memory(),
        }

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        peer = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
        try:
            # Reserve the slot before accepting, so a full server never builds a pipeline.
            record = admission.admit(peer)
        except AdmissionRefused as refused:
            events.emit(events.SessionRefused(str(refused).replace(" ", "_")))
            # Accept only to be able to say why: a close before accept is an HTTP 403.
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await websocket.accept()
                await websocket.close(refused.close_code, str(refused))
            return
        session = Session(
            websocket,
            record,
            settings=settings,
            pools=pools,
            bot_factory=bot_factory,
            admission=admission,
        )
        state.add(session)
        try:
            await websocket.accept()
            await session.run()
        except (WebSocketDisconnect, OSError):
            admission.release(record.id)  # the caller left before the session ran
        finally:
            state.remove(record.id)

    if (STATIC_DIR / "index.html").exists():

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(STATIC_DIR / "index.html")

        app.mount("/", StaticFiles(directory=STATIC_DIR), name="static")
    else:

        @app.get("/", include_in_schema=False)
        async def no_client() -> PlainTextResponse:
            return PlainTextResponse("voxswitch: browser client not built (see README: make web)")

    return app
