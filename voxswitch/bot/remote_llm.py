"""The LLM behind an OpenAI-compatible endpoint (vLLM, llama.cpp server, Ollama)."""

from __future__ import annotations

from pipecat.services.openai.llm import OpenAILLMService

from voxswitch.config import Settings


class CompatibleOpenAILLMService(OpenAILLMService):
    # Pipecat may put "developer"-role messages in the context; llama.cpp's
    # server (and other OpenAI-compatible servers) answer those with HTTP 500.
    # Pipecat's adapter turns them into "user" messages when this is False.
    supports_developer_role = False


def remote_llm_service(settings: Settings, *, system_instruction: str | None) -> OpenAILLMService:
    return CompatibleOpenAILLMService(
        api_key=settings.llm_api_key,
        base_url=settings.llm_base_url,
        settings=OpenAILLMService.Settings(
            model=settings.llm_model,
            system_instruction=system_instruction,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
        ),
    )
