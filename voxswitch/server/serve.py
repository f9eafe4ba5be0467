"""Run the server: load the pools, serve with uvicorn, drain on SIGTERM, shut down in order.

Shutdown order, each step bounded: stop admitting → let live turns finish
(``drain_timeout_s``) → close remaining sessions with 1001 → stop uvicorn →
close the pools.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from types import FrameType

import uvicorn

from voxswitch.bot.context import load_bot_factory
from voxswitch.config import Settings
from voxswitch.inference.pools import Pools
from voxswitch.server.app import ServerState, create_app

log = logging.getLogger(__name__)

POOLS_CLOSE_TIMEOUT_S = 10.0


class DrainingServer(uvicorn.Server):
    """uvicorn, except that the first SIGTERM/SIGINT drains sessions before exiting.

    A second signal falls through to uvicorn's own immediate shutdown.
    """

    def __init__(self, config: uvicorn.Config, state: ServerState, drain_timeout_s: float):
        super().__init__(config)
        self._state = state
        self._drain_timeout_s = drain_timeout_s
        self._drain_task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets=None) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            await super().serve(sockets)
        finally:
            if self._drain_task is not None and not self._drain_task.done():
                self._drain_task.cancel()
                await asyncio.gather(self._drain_task, return_exceptions=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain_task is not None or self._loop is None:
            super().handle_exit(sig, frame)
            return
        log.info("received %s: draining", signal.Signals(sig).name)
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        if self._drain_task is None:
            self._drain_task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            await self._state.drain(self._drain_timeout_s)
        finally:
            self.should_exit = True


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


async def serve(settings: Settings) -> int:
    bot_factory = load_bot_factory(settings.bot)
    print("voxswitch: loading models", file=sys.stderr, flush=True)
    started = time.monotonic()
    pools = await Pools.load(settings, llm=settings.llm_base_url is None, progress=_progress)
    print(f"voxswitch: models ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
    try:
        app = create_app(settings, pools, bot_factory)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level if settings.log_level != "trace" else "debug",
            ws_max_size=settings.max_message_bytes,
            # PCM barely compresses; deflating 50 frames a second per session
            # costs CPU on both ends for nothing.
            ws_per_message_deflate=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        server = DrainingServer(config, app.state.voxswitch, settings.drain_timeout_s)
        print(
            f"voxswitch: open http://{settings.host}:{settings.port}/ to talk to the bot "
            f"(WebSocket at /ws, max {settings.max_sessions} sessions)",
            file=sys.stderr,
            flush=True,
        )
        await server.serve()
    finally:
        await asyncio.wait_for(pools.aclose(), POOLS_CLOSE_TIMEOUT_S)
    return 0
