"""What a bot factory gets for each session: its transport, the shared pools, the settings.

A bot factory is ``package.module:function`` taking a :class:`SessionContext`
and returning (or awaiting to) a Pipecat ``Pipeline``. Every service it builds
through this context is new for the session and holds only session state; the
models behind them are the process-wide pools.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.pipeline.base_pipeline import BasePipeline
from pipecat.processors.aggregators.llm_response_universal import LLMUserAggregatorParams
from pipecat.services.llm_service import LLMService
from pipecat.transports.base_transport import BaseTransport
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voxswitch.bot.llm import PooledLLMService
from voxswitch.bot.stt import PooledSTTService
from voxswitch.bot.tts import PooledTTSService
from voxswitch.bot.turn import user_turn_strategies
from voxswitch.bot.vad import PooledVADAnalyzer
from voxswitch.config import Settings
from voxswitch.errors import ConfigError
from voxswitch.inference.pools import Pools


@dataclass
class SessionContext:
    session_id: str
    settings: Settings
    pools: Pools
    transport: BaseTransport

    def vad_analyzer(self) -> PooledVADAnalyzer:
        s = self.settings
        return PooledVADAnalyzer(
            self.pools.vad.new_stream(),
            params=VADParams(
                confidence=s.vad_confidence, start_secs=s.vad_start_secs, stop_secs=s.vad_stop_secs
            ),
        )

    def turn_strategies(self) -> UserTurnStrategies:
        """What ends the caller's turn (``turn_detection``); see :mod:`voxswitch.bot.turn`."""
        return user_turn_strategies(self.settings, pool=self.pools.turn, session_id=self.session_id)

    def user_params(self) -> LLMUserAggregatorParams:
        """The user aggregator's VAD and turn-taking, both over the shared pools.

        Pass these to ``LLMContextAggregatorPair``: left to its defaults, Pipecat
        would load a smart-turn model for every session.
        """
        return LLMUserAggregatorParams(
            vad_analyzer=self.vad_analyzer(), user_turn_strategies=self.turn_strategies()
        )

    def stt(self) -> PooledSTTService:
        return PooledSTTService(self.pools.stt, session_id=self.session_id)

    def llm(self, *, system_instruction: str | None = None) -> LLMService:
        """The pooled local LLM, or the remote endpoint when ``llm_base_url`` is set."""
        s = self.settings
        instruction = system_instruction if system_instruction is not None else s.system_prompt
        if s.llm_base_url:
            from voxswitch.bot.remote_llm import remote_llm_service

            return remote_llm_service(s, system_instruction=instruction)
        if self.pools.llm is None:
            raise ConfigError("no local LLM pool loaded and no llm_base_url set")
        return PooledLLMService(
            self.pools.llm,
            session_id=self.session_id,
            system_instruction=instruction,
            max_tokens=s.llm_max_tokens,
            temperature=s.llm_temperature,
        )

    def tts(self) -> PooledTTSService:
        return PooledTTSService(self.pools.tts, session_id=self.session_id)


BotFactory = Callable[[SessionContext], BasePipeline | Awaitable[BasePipeline]]


def load_bot_factory(spec: str) -> BotFactory:
    """Resolve ``package.module:function``; a bad spec is a start-up error, not a session error."""
    module_name, _, func_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(f"bot {spec!r}: cannot import {module_name!r}: {e}") from None
    factory: Any = getattr(module, func_name, None)
    if not callable(factory):
        raise ConfigError(f"bot {spec!r}: {module_name} has no callable {func_name!r}")
    return factory


async def build_pipeline(factory: BotFactory, ctx: SessionContext) -> BasePipeline:
    result = factory(ctx)
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, BasePipeline):
        raise TypeError(f"bot factory returned {type(result).__name__}, expected a Pipeline")
    return result
