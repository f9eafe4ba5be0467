"""The thread budget: how many inference threads each pool gets, and the cap they share.

Every model runs single-threaded per call (ONNX Runtime ``intra_op=1``,
CTranslate2 ``intra_threads=1``, llama.cpp ``n_threads=1``) and parallelism
comes from running several calls at once. Measured on 2 cores this gives more
throughput than one call using both cores (Whisper 1.75x, SmolLM2 1.83x,
Piper 1.43x), and it lets one session's long call overlap another's short one.

STT and TTS get ``cores`` worker threads by default and the LLM twice that
(see ``from_settings``), so that any one of them can use the whole machine
when the others are idle. To keep them
from oversubscribing the cores when all are busy, a heavy call (a Whisper
batch, one LLM token, one Piper sentence) first takes one of ``cores``
*compute slots*. VAD is exempt: a batch costs well under a millisecond and sits
on every session's listening path, so it must never wait behind a 0.6 s
Whisper call; it has one thread of its own. The optional smart-turn pool
(``--turn-detection smart-turn``) has one thread too, and takes a compute slot
like the heavy calls.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from voxswitch.config import Settings


@dataclass(frozen=True)
class ThreadBudget:
    cores: int
    stt_workers: int
    llm_instances: int
    tts_workers: int
    vad_threads: int = 1
    # STT/LLM/TTS threads run this much "nicer" than the event loop and the VAD
    # thread, which every session's listening depends on (Linux, per thread).
    model_niceness: int = 5
    # Shared by the STT, LLM and TTS worker threads: at most ``cores`` heavy calls at once.
    compute: threading.BoundedSemaphore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("cores", "stt_workers", "llm_instances", "tts_workers", "vad_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        object.__setattr__(self, "compute", threading.BoundedSemaphore(self.cores))

    @classmethod
    def from_settings(cls, settings: Settings) -> ThreadBudget:
        cores = settings.cores
        return cls(
            cores=cores,
            stt_workers=settings.stt_workers or cores,
            # Twice the cores: generation takes a compute slot per token, so more
            # instances than slots interleave replies token by token and a new
            # caller's first sentence does not wait for whole earlier replies
            # (4 callers on 2 cores: mean time to first token 0.52 s -> 0.31 s).
            llm_instances=settings.llm_instances or 2 * cores,
            tts_workers=settings.tts_workers or cores,
        )

    @property
    def compute_slots(self) -> int:
        return self.cores

    @property
    def total_threads(self) -> int:
        """Inference threads the process starts (each uses one core while it computes)."""
        return self.stt_workers + self.llm_instances + self.tts_workers + self.vad_threads

    @property
    def max_busy_threads(self) -> int:
        """Threads that can be computing at the same moment: the slots plus VAD."""
        return min(self.total_threads, self.compute_slots + self.vad_threads)

    def describe(self) -> str:
        return (
            f"{self.cores} compute slots shared by {self.stt_workers} STT, "
            f"{self.llm_instances} LLM, {self.tts_workers} TTS threads; "
            f"{self.vad_threads} VAD thread (1 intra-op thread each)"
        )
