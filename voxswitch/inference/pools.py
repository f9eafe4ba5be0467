"""All the process's models, loaded once, closed once.

``Pools.load`` is the only place models are loaded; it runs the loads on
threads so the event loop stays responsive, and reports progress. Sessions get
the pools through their :class:`~voxswitch.bot.context.SessionContext`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from voxswitch.config import Settings
from voxswitch.errors import InferenceError
from voxswitch.inference.llm import LlmPool
from voxswitch.inference.models import ModelPaths, default_model_paths
from voxswitch.inference.stt import SttPool
from voxswitch.inference.threads import ThreadBudget
from voxswitch.inference.tts import TtsPool
from voxswitch.inference.turn import SmartTurnPool
from voxswitch.inference.vad import VadPool

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
_CLOSE_TIMEOUT_S = 10.0


@dataclass
class Pools:
    budget: ThreadBudget
    vad: VadPool
    stt: SttPool
    tts: TtsPool
    llm: LlmPool | None  # None when a remote LLM endpoint is configured
    turn: SmartTurnPool | None = None  # only with turn_detection="smart-turn"

    @classmethod
    async def load(
        cls,
        settings: Settings,
        *,
        llm: bool = True,
        progress: Progress | None = None,
        paths: ModelPaths | None = None,
    ) -> Pools:
        """Load every model (concurrently, off the event loop). Raises ``ModelError``."""
        paths = paths or default_model_paths()
        budget = ThreadBudget.from_settings(settings)
        say = progress or (lambda _m: None)
        say(f"thread budget: {budget.describe()}")
        depth = settings.pool_queue_depth

        async def timed(what: str, load: Callable[[], object]) -> object:
            started = time.monotonic()
            result = await asyncio.to_thread(load)
            say(f"{what} ready in {time.monotonic() - started:.2f} s")
            return result

        llm_pool: LlmPool | None = None
        if llm:
            # First and alone: llama.cpp (verbose=False) points the process's
            # stdout/stderr at /dev/null while it loads, which would swallow
            # anything printed by loads running beside it.
            llm_pool = await timed(  # type: ignore[assignment]
                f"LLM   SmolLM2-135M Q4_1 x{budget.llm_instances} (llama.cpp)",
                lambda: LlmPool.load(
                    paths.llm, budget, queue_depth=depth, system_prompt=settings.system_prompt
                ),
            )
        loads = {
            "vad": timed(
                "VAD   Silero (ONNX)",
                lambda: VadPool.load(
                    paths.vad, batch_window_s=settings.vad_batch_window_ms / 1000.0
                ),
            ),
            "stt": timed(
                "STT   Whisper tiny.en (CTranslate2 int8)",
                lambda: SttPool.load(
                    paths.stt, budget, queue_depth=depth, max_batch=settings.stt_max_batch
                ),
            ),
            "tts": timed(
                "TTS   Piper en_US-joe-medium",
                lambda: TtsPool.load(paths.tts, budget, queue_depth=depth),
            ),
        }
        if settings.turn_detection == "smart-turn":
            loads["turn"] = timed(
                "TURN  smart-turn v3.2 (ONNX)",
                lambda: SmartTurnPool.load(paths.turn, budget, queue_depth=depth),
            )
        names = list(loads)
        results = await asyncio.gather(*loads.values(), return_exceptions=True)
        loaded = dict(zip(names, results, strict=True))
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            # Close what did load so its threads do not outlive the failed start.
            if llm_pool is not None:
                await llm_pool.aclose()
            for pool in loaded.values():
                if not isinstance(pool, BaseException):
                    await pool.aclose()  # type: ignore[attr-defined]
            raise failures[0]
        return cls(
            budget=budget,
            vad=loaded["vad"],  # type: ignore[arg-type]
            stt=loaded["stt"],  # type: ignore[arg-type]
            tts=loaded["tts"],  # type: ignore[arg-type]
            llm=llm_pool,
            turn=loaded.get("turn"),  # type: ignore[arg-type]
        )

    def cancel_session(self, session_id: Hashable) -> int:
        """Drop a session's queued work and stop its running generation (barge-in, hang-up)."""
        dropped = self.stt.cancel_session(session_id) + self.tts.cancel_session(session_id)
        for pool in (self.llm, self.turn):
            if pool is not None:
                dropped += pool.cancel_session(session_id)
        return dropped

    async def aclose(self) -> None:
        """Stop every pool; each gets its own timeout so one stuck pool cannot hide another."""
        errors: list[BaseException] = []
        pools = [self.vad, self.stt, self.tts] + [p for p in (self.llm, self.turn) if p]
        for pool in pools:
            try:
                await asyncio.wait_for(pool.aclose(), _CLOSE_TIMEOUT_S)
            except (TimeoutError, InferenceError) as e:
                errors.append(e)
        if errors:
            raise InferenceError(f"pools did not close cleanly: {errors}")
