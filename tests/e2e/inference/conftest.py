"""The real inference pools, loaded once for this package's tests.

The pools start no asyncio tasks: worker threads hand results to whichever
loop the caller runs on (``call_soon_threadsafe``). So they can be loaded on a
private loop in a thread of their own and then serve every test's
function-scoped loop; that keeps this package clear of pytest-asyncio's loop
scopes and leaves the autouse task-leak check meaningful for each test.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from tests.e2e.conftest import SENTENCES
from voxswitch.config import Settings
from voxswitch.inference.pools import Pools

T = TypeVar("T")

_LOAD_TIMEOUT_S = 180.0
_CLOSE_TIMEOUT_S = 60.0
_SPEAK_TIMEOUT_S = 120.0


def run_on_own_loop(make: Callable[[], Awaitable[T]], timeout_s: float) -> T:
    """Run a coroutine to completion on a fresh loop in a dedicated thread.

    Not ``asyncio.run`` on the main thread: it would replace (and then unset)
    the main thread's event loop under pytest-asyncio.
    """
    executor = ThreadPoolExecutor(1, thread_name_prefix="e2e-own-loop")
    try:
        return executor.submit(lambda: asyncio.run(make())).result(timeout_s)
    finally:
        executor.shutdown(wait=False)


@pytest.fixture(scope="package")
def settings() -> Settings:
    # Explicit: the local LLM pool, never a remote endpoint from the environment.
    # smart-turn: so the optional turn pool is loaded and tested here too.
    return Settings(llm_base_url=None, turn_detection="smart-turn")


@pytest.fixture(scope="package")
def pools(settings: Settings) -> Iterator[Pools]:
    loaded = run_on_own_loop(
        lambda: Pools.load(settings, llm=True, progress=lambda m: print(m, file=sys.stderr)),
        _LOAD_TIMEOUT_S,
    )
    try:
        yield loaded
    finally:
        run_on_own_loop(loaded.aclose, _CLOSE_TIMEOUT_S)


@pytest.fixture(scope="package")
def utterances(pools: Pools) -> dict[str, bytes]:
    """Each of ``SENTENCES`` spoken by the TTS pool as 16 kHz mono PCM16."""

    async def speak_all() -> dict[str, bytes]:
        return {s: await pools.tts.speak("e2e-voice", s, 16000) for s in SENTENCES}

    return run_on_own_loop(speak_all, _SPEAK_TIMEOUT_S)
