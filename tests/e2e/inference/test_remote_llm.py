"""The remote-LLM path against a real OpenAI-compatible server (llama.cpp's, on loopback)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipecat.frames.frames import ErrorFrame, LLMContextFrame, LLMTextFrame
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.services.llm_service import LLMService
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.tests.utils import run_test

from voxswitch.bench.spawn import Spawned, free_port
from voxswitch.bot.remote_llm import CompatibleOpenAILLMService, remote_llm_service
from voxswitch.config import Settings
from voxswitch.inference.models import smollm2_gguf_path

pytestmark = pytest.mark.e2e

_READY_TIMEOUT_S = 60.0
_START_TIMEOUT_S = 10.0

# Pipecat may put developer-role messages in a context; llama.cpp's server refuses them.
CONTEXT_MESSAGES = [
    {"role": "developer", "content": "Answer in one short sentence."},
    {"role": "user", "content": "What colour is the sky on a clear day?"},
]


@pytest.fixture(scope="module")
def llm_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    server = Spawned("llama-server", f"http://127.0.0.1:{port}", ws_url="")
    log_path: Path = tmp_path_factory.mktemp("remote-llm") / "llama-server.log"
    try:
        server._start(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(smollm2_gguf_path()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "1024",
                "--n_threads",
                "1",  # a polite share of a 2-core machine
                "--interrupt_requests",
                "False",
            ],
            log_path,
        )
        server._wait_http(server.http_url + "/v1/models", _READY_TIMEOUT_S, "llama_cpp.server")
        yield server.http_url + "/v1"
    finally:
        server.stop()


async def _chat(service: LLMService) -> tuple[str, list[ErrorFrame]]:
    context = LLMContext(messages=[dict(m) for m in CONTEXT_MESSAGES])
    down, up = await run_test(
        service,
        frames_to_send=[LLMContextFrame(context=context)],
        start_timeout=_START_TIMEOUT_S,
    )
    text = "".join(f.text for f in down if isinstance(f, LLMTextFrame))
    errors = [f for f in (*down, *up) if isinstance(f, ErrorFrame)]
    return text, errors


async def test_remote_llm_service_answers_a_context_with_a_developer_message(llm_base_url: str):
    settings = Settings(llm_base_url=llm_base_url, llm_max_tokens=32, llm_temperature=0.0)
    service = remote_llm_service(settings, system_instruction=settings.system_prompt)
    assert isinstance(service, CompatibleOpenAILLMService)

    started = time.monotonic()
    text, errors = await _chat(service)
    print(f"\nremote reply in {time.monotonic() - started:.2f} s: {text!r}")
    assert not errors, [e.error for e in errors]
    assert text.strip()


async def test_plain_openai_service_is_refused_by_that_server(llm_base_url: str):
    """Control: the developer message really is what the compatible service works around."""
    service = OpenAILLMService(
        api_key="not-needed",
        base_url=llm_base_url,
        settings=OpenAILLMService.Settings(model="default", max_tokens=32, temperature=0.0),
    )
    text, errors = await _chat(service)
    assert errors
    print(f"\nplain service: {errors[0].error.splitlines()[0]}")
    assert "500" in errors[0].error
    assert not text
