"""Typed settings: environment ``VOXSWITCH_*`` and CLI flags, validated at start-up.

One :class:`Settings` object is built once per process and passed down; nothing
reads the environment after that.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from voxswitch.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOXSWITCH_", extra="forbid")

    # ---- server -------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_sessions: int = Field(8, ge=1, le=10_000)
    bot: str = Field(
        "voxswitch.bot.default:create_bot",
        description="package.module:function building each session's pipeline",
    )
    idle_timeout_s: float = Field(60.0, gt=0, description="close after N s without inbound audio")
    max_duration_s: float = Field(3600.0, gt=0, description="close after N s regardless")
    drain_timeout_s: float = Field(20.0, ge=0, description="on SIGTERM, wait this long for turns")
    max_message_bytes: int = Field(256 * 1024, ge=1024, description="larger messages close 1009")
    max_bad_frames: int = Field(5, ge=1, description="undecodable frames in a row before 1007")
    log_level: str = "info"

    # ---- audio & turn-taking -------------------------------------------------
    audio_in_sample_rate: int = Field(16000, description="the wire's input rate (PCM16 mono)")
    audio_out_sample_rate: int = Field(24000, ge=8000, le=48000)
    audio_in_frame_ms: int = Field(
        40, ge=10, le=100, description="inbound audio enters the pipeline in frames this long"
    )
    # Silence that ends a turn: every 0.1 s here is 0.1 s of voice-to-voice latency.
    vad_stop_secs: float = Field(0.3, ge=0.1, le=3.0)
    vad_start_secs: float = Field(0.2, ge=0.05, le=2.0)
    vad_confidence: float = Field(0.7, gt=0, lt=1)
    # "vad": the turn ends once the VAD has heard vad_stop_secs of silence and the
    # transcript is in. "smart-turn": Pipecat's smart-turn model (one shared copy)
    # must also judge the words finished; otherwise the turn waits up to
    # smart_turn_max_silence_s for the caller to go on.
    turn_detection: Literal["vad", "smart-turn"] = Field(
        "vad", description="what ends the caller's turn: silence alone, or the smart-turn model"
    )
    smart_turn_max_silence_s: float = Field(
        3.0, ge=0.2, le=10.0, description="smart-turn: end the turn after this much silence"
    )
    vad_batch_window_ms: float = Field(2.0, ge=0, le=50, description="VAD cross-session batching")

    # ---- thread budget (see voxswitch.inference.threads) ---------------------
    cores: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    stt_workers: int | None = Field(None, ge=1)
    llm_instances: int | None = Field(None, ge=1)
    tts_workers: int | None = Field(None, ge=1)
    pool_queue_depth: int = Field(64, ge=1, description="per pool; beyond it requests are refused")
    # Measured by `voxswitch models` on 2 cores with 10 s windows: a Whisper batch of 4
    # gives 1.31x the throughput of single calls. A worker takes a batch only when
    # several utterances are already waiting, so a lone caller never waits for one.
    stt_max_batch: int = Field(4, ge=1, le=32, description="utterances per Whisper call")

    # ---- conversation --------------------------------------------------------
    # SmolLM2 answers noticeably better when addressed the way it was tuned.
    system_prompt: str = (
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face. "
        "Keep answers to one or two short sentences."
    )
    llm_max_tokens: int = Field(64, ge=1, le=4096)
    llm_temperature: float = Field(0.3, ge=0, le=2)

    # ---- remote backends (real deployments) ----------------------------------
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. vLLM")
    llm_model: str = "default"
    llm_api_key: str = "not-needed"

    @field_validator("bot")
    @classmethod
    def _bot_spec(cls, v: str) -> str:
        module, sep, func = v.partition(":")
        if not sep or not module or not func.isidentifier():
            raise ValueError("must look like package.module:function")
        return v

    @field_validator("audio_in_sample_rate")
    @classmethod
    def _in_rate(cls, v: int) -> int:
        if v != 16000:
            raise ValueError("only 16000 Hz input is supported (Silero VAD and Whisper)")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.lower()
        if v not in {"critical", "error", "warning", "info", "debug", "trace"}:
            raise ValueError("must be one of critical, error, warning, info, debug, trace")
        return v

    @model_validator(mode="after")
    def _durations(self) -> Settings:
        if self.idle_timeout_s > self.max_duration_s:
            raise ValueError("idle_timeout_s must not exceed max_duration_s")
        return self


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus explicit overrides (CLI flags).

    Raises :class:`ConfigError` with a readable message on any invalid value.
    """
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as e:
        lines = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"  {where}: {err['msg']}")
        raise ConfigError("invalid settings:\n" + "\n".join(lines)) from None
