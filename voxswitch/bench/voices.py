"""The callers' voices: sentences spoken by the bundled Piper voice, cached on disk.

Each sentence is synthesised once (Piper, then soxr to 16 kHz mono PCM16),
trimmed of leading and trailing silence so that "the end of the caller's
speech" is the last audible frame, and kept under the cache directory keyed by
the text and the voice file. A run never synthesises while it streams: every
clip is prepared before the first caller connects.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxswitch.bench.protocol import FRAME_S, SAMPLE_RATE, encode_pcm_frames
from voxswitch.errors import ModelError

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "voxswitch" / "bench"
_CACHE_FORMAT = 1  # bump when the synthesis or trimming changes
_SYNTH_THREADS = 1  # ONNX Runtime intra-op threads: the bench shares the machine with the server
_SILENCE_THRESHOLD = 0.01 * 32768  # |sample| below this is silence (about -40 dBFS)
_EDGE_PAD_S = 0.01


@dataclass(frozen=True)
class Clip:
    """One utterance ready to stream: the text, its PCM and its encoded 20 ms frames."""

    text: str
    pcm: bytes
    frames: tuple[bytes, ...]

    @property
    def seconds(self) -> float:
        return len(self.frames) * FRAME_S


def trim_silence(samples: np.ndarray, *, threshold: float = _SILENCE_THRESHOLD) -> np.ndarray:
    """Drop leading and trailing silence, keeping a 10 ms pad at each edge."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if loud.size == 0:
        return samples[:0]
    pad = int(_EDGE_PAD_S * SAMPLE_RATE)
    return samples[max(0, loud[0] - pad) : loud[-1] + 1 + pad]


class VoiceBank:
    """Synthesises and caches clips; safe to call from worker threads."""

    def __init__(self, cache_dir: Path = DEFAULT_CACHE_DIR, voice_path: Path | None = None):
        self.cache_dir = cache_dir
        self._voice_path = voice_path
        self._voice = None
        self._lock = threading.Lock()  # one synthesis at a time: the voice is not re-entrant

    def clip(self, text: str) -> Clip:
        pcm = self._cached_pcm(text)
        return Clip(text, pcm, tuple(encode_pcm_frames(pcm)))

    def _voice_file(self) -> Path:
        if self._voice_path is None:
            from voxswitch.inference.models import piper_voice_path

            self._voice_path = piper_voice_path()
        return self._voice_path

    def _key(self, text: str) -> str:
        voice = self._voice_file()
        ident = json.dumps([_CACHE_FORMAT, voice.name, voice.stat().st_size, text])
        return hashlib.sha256(ident.encode()).hexdigest()[:32]

    def _cached_pcm(self, text: str) -> bytes:
        path = self.cache_dir / f"{self._key(text)}.pcm"
        if path.exists():
            return path.read_bytes()
        pcm = self._synthesize(text)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{threading.get_ident()}")
        tmp.write_bytes(pcm)
        tmp.replace(path)  # atomic: a concurrent bench never reads half a clip
        return pcm

    def _synthesize(self, text: str) -> bytes:
        import soxr

        with self._lock:
            voice = self._load_voice()
            chunks = [chunk.audio_int16_bytes for chunk in voice.synthesize(text)]
            rate = voice.config.sample_rate
        samples = np.frombuffer(b"".join(chunks), dtype=np.int16)
        if samples.size == 0:
            raise ModelError(f"Piper produced no audio for {text!r}")
        resampled = soxr.resample(samples.astype(np.float32), rate, SAMPLE_RATE)
        pcm16 = np.clip(np.round(resampled), -32768, 32767).astype(np.int16)
        return trim_silence(pcm16).tobytes()

    def _load_voice(self):
        if self._voice is None:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig

            voice = self._voice_file()
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = _SYNTH_THREADS
            options.inter_op_num_threads = 1
            config = json.loads(Path(f"{voice}.json").read_text(encoding="utf-8"))
            self._voice = PiperVoice(
                session=onnxruntime.InferenceSession(
                    str(voice), sess_options=options, providers=["CPUExecutionProvider"]
                ),
                config=PiperConfig.from_dict(config),
            )
        return self._voice


def background_frames(kind: str, *, seed: int, count: int = 50) -> tuple[bytes, ...]:
    """What the microphone sends between utterances: digital silence, or faint noise.

    Noise is Gaussian at about -60 dBFS: a quiet room, well under any VAD's
    threshold, but not the all-zero frames some servers could short-circuit.
    """
    if kind == "silence":
        return tuple(encode_pcm_frames(bytes(2 * int(SAMPLE_RATE * FRAME_S))))
    if kind != "noise":
        raise ValueError(f"unknown background {kind!r}: expected 'silence' or 'noise'")
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, 30.0, size=count * int(SAMPLE_RATE * FRAME_S))
    pcm = np.clip(np.round(samples), -32768, 32767).astype(np.int16).tobytes()
    return tuple(encode_pcm_frames(pcm))
