"""SmolLM2 (llama.cpp) shared by every session: a pool of single-threaded instances.

A ``llama_cpp.Llama`` holds one KV cache and one sampling state and must not
be used by two threads at once. Rather than a scheduler interleaving sessions
on one instance (every switch would evict the other session's KV cache), the
pool keeps ``llm_instances`` instances, each confined to its own worker
thread. The weights are memory-mapped, so extra instances cost only their KV
cache and scratch buffers; measured on 2 cores, 2 instances x 1 thread give
1.83x the throughput of one instance with 2 threads.

Generation streams token by token and checks the job's cancel flag between
tokens, so a barge-in or a session end stops it within one token.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxswitch.errors import BadInputError, ModelError
from voxswitch.inference.affinity import InstanceLedger
from voxswitch.inference.threads import ThreadBudget
from voxswitch.inference.workers import Job, WorkerPool

log = logging.getLogger(__name__)

N_CTX = 1024  # ~10 voice turns; older turns are trimmed (fit_messages)
_CHARS_PER_TOKEN = 4  # a first cut on the event loop; the worker re-fits by real tokens
_TEMPLATE_TOKENS = 64  # chat-template markup around the messages
_ROLES = {"system", "user", "assistant"}
_TOKEN_TIMEOUT_S = 30.0  # includes waiting in the queue for a free instance


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        parts = [
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        ]
        return "".join(parts)
    if content is None:
        return ""
    raise BadInputError(f"message content must be text, got {type(content).__name__}")


def normalize_messages(messages: Sequence[Any]) -> list[dict[str, str]]:
    """Plain system/user/assistant text messages the chat template understands.

    Pipecat may send ``developer`` messages (newer OpenAI convention); the
    model's template knows only ``system``. Tool traffic is not for this model.
    """
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        raise BadInputError("messages must be a list of {role, content} objects")
    out: list[dict[str, str]] = []
    for m in messages:
        if not isinstance(m, dict) or "role" not in m:
            raise BadInputError(f"not a chat message: {m!r:.80}")
        role = "system" if m["role"] == "developer" else m["role"]
        if role not in _ROLES:
            continue
        text = _text_of(m.get("content"))
        if text.strip():
            out.append({"role": role, "content": text})
    if not any(m["role"] == "user" for m in out):
        raise BadInputError("the conversation has no user message to answer")
    return out


def fit_messages(
    messages: list[dict[str, str]],
    budget: int,
    cost: Callable[[str], int] = len,
) -> list[dict[str, str]]:
    """Keep the system messages and as many of the latest turns as fit in ``budget``.

    ``cost`` measures a message's text: characters for a quick check on the
    event loop, the model's own token count on the worker thread.
    """
    system = [m for m in messages if m["role"] == "system"]
    rest = [m for m in messages if m["role"] != "system"]
    left = budget - sum(cost(m["content"]) for m in system)
    kept: list[dict[str, str]] = []
    for m in reversed(rest):
        size = cost(m["content"])
        if kept and size > left:
            break
        if not kept and size > left:
            raise BadInputError(f"the last message is too long ({size} of {budget} allowed)")
        kept.append(m)
        left -= size
    kept.reverse()
    return system + kept


def load_llama(path: Path) -> Any:
    from llama_cpp import Llama

    try:
        return Llama(
            model_path=str(path),
            n_ctx=N_CTX,
            n_batch=64,  # llama-cpp-python keeps n_batch x vocab float logits per instance
            n_threads=1,  # the thread budget: parallelism comes from more instances
            n_threads_batch=1,
            use_mmap=True,  # instances share the weights' pages
            verbose=False,
        )
    except (ValueError, RuntimeError) as e:
        raise ModelError(f"cannot load the LLM from {path}: {e}") from e


def warm_up(llama: Any, system_prompt: str) -> None:
    """Run the system prompt through an instance before any caller does.

    The first call pays for lazy allocations, and llama-cpp-python reuses the
    longest common prefix of the previous prompt: every conversation starts
    with the system prompt, so once it sits in the KV cache a caller's first
    token comes sooner (measured here: ~300 ms cold, 110-150 ms warm).
    """
    llama.create_chat_completion(
        [{"role": "system", "content": system_prompt}, {"role": "user", "content": "Hi"}],
        max_tokens=1,
        temperature=0.0,
    )


class LlmPool:
    """Streams chat completions for every session over ``llm_instances`` llama.cpp instances."""

    name = "llm"

    def __init__(self, instances: list[Any], budget: ThreadBudget, *, queue_depth: int):
        if len(instances) != budget.llm_instances:
            raise ValueError("one Llama instance per LLM worker thread")
        self._instances = instances
        # As many workers as instances: a worker always finds one free.
        self._ledger = InstanceLedger(len(instances))
        self._budget = budget
        self._workers: WorkerPool[ChatRequest] = WorkerPool(
            self.name,
            self._run,
            threads=len(instances),
            queue_depth=queue_depth,
            niceness=budget.model_niceness,
        )

    @classmethod
    def load(
        cls,
        path: Path,
        budget: ThreadBudget,
        *,
        queue_depth: int,
        system_prompt: str | None = None,
    ) -> LlmPool:
        instances = [load_llama(path) for _ in range(budget.llm_instances)]
        if system_prompt:
            for llama in instances:
                warm_up(llama, system_prompt)
        return cls(instances, budget, queue_depth=queue_depth)

    async def stream(
        self,
        session_id: Hashable,
        messages: Sequence[Any],
        *,
        max_tokens: int,
        temperature: float,
    ) -> AsyncIterator[str]:
        """Yield the reply's text pieces; ``aclose()`` (or cancellation) stops generation."""
        if not 1 <= max_tokens <= N_CTX // 2:
            raise BadInputError(f"max_tokens must be between 1 and {N_CTX // 2}")
        request = ChatRequest(
            fit_messages(
                normalize_messages(messages),
                (N_CTX - max_tokens - _TEMPLATE_TOKENS) * _CHARS_PER_TOKEN,
            ),
            max_tokens,
            float(temperature),
        )
        # aclosing: closing this generator must close the worker stream at once
        # (which cancels the job). Without it the inner stream is only closed
        # when asyncio finalizes it later, in a task of its own, and the model
        # keeps generating meanwhile.
        async with contextlib.aclosing(
            self._workers.stream(session_id, request, item_timeout_s=_TOKEN_TIMEOUT_S)
        ) as pieces:
            async for piece in pieces:
                yield piece

    async def complete(self, session_id: Hashable, messages: Sequence[Any], **kwargs: Any) -> str:
        return "".join([piece async for piece in self.stream(session_id, messages, **kwargs)])

    def _run(self, _worker: int, jobs: list[Job[ChatRequest]]) -> None:
        (job,) = jobs
        index = self._ledger.take(job.session)
        try:
            self._generate(self._instances[index], job)  # this thread's alone until given back
        finally:
            self._ledger.give_back(index, job.session)

    def _generate(self, llama: Any, job: Job[ChatRequest]) -> None:
        request = job.payload
        # Characters only estimate tokens (emoji or CJK text take many more), so
        # fit the history again by the model's own count before generating.
        messages = fit_messages(
            request.messages,
            N_CTX - request.max_tokens - _TEMPLATE_TOKENS,
            lambda text: len(llama.tokenize(text.encode(), add_bos=False, special=False)) + 4,
        )
        chunks = llama.create_chat_completion(
            messages,
            stream=True,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
        )
        try:
            while not job.cancelled.is_set():
                # One compute slot per token: STT/TTS work interleaves with long replies.
                with self._budget.compute:
                    chunk = next(chunks, None)
                if chunk is None:
                    break
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    job.emit(piece)
        finally:
            chunks.close()
        if not job.cancelled.is_set():
            job.finish()

    def cancel_session(self, session_id: Hashable) -> int:
        return self._workers.cancel_session(session_id)

    async def aclose(self) -> None:
        await self._workers.aclose()
        for llama in self._instances:
            llama.close()
