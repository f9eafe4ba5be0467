"""Turn many call results into one step's figures. Pure: results in, numbers out.

A refused call is counted as refused, never as a latency: only turns of calls
that connected contribute to voice-to-voice, and only connected calls to
connect time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from voxswitch.bench.results import CallResult, Outcome
from voxswitch.bench.sentences import Verdict


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100), linear between closest ranks; None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    data = sorted(v for v in values if not math.isnan(v))
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    rank = (len(data) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


def distribution(values: Iterable[float | None]) -> dict[str, float | int | None]:
    data = [v for v in values if v is not None]
    if not data:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "n": len(data),
        "mean": _r(sum(data) / len(data)),
        "p50": _r(percentile(data, 50)),
        "p95": _r(percentile(data, 95)),
        "p99": _r(percentile(data, 99)),
        "max": _r(max(data)),
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def summarize_calls(results: Sequence[CallResult]) -> dict[str, Any]:
    """The client-side figures of one step."""
    connected = [r for r in results if r.outcome is not Outcome.REFUSED and r.connect_s is not None]
    turns = [t for r in results if r.outcome is not Outcome.REFUSED for t in r.turns]
    verdicts = Counter(t.verdict.value for t in turns if t.verdict is not None)
    errors = Counter(r.reason for r in results if r.outcome is Outcome.FAILED)
    errors.update(t.error for t in turns if t.error)
    rtvi_errors = sum(len(r.rtvi_errors) for r in results)
    if rtvi_errors:
        errors["rtvi_error"] += rtvi_errors
    undecodable = sum(r.undecodable_frames for r in results)
    if undecodable:
        errors["undecodable_frame"] += undecodable
    cross_talk = [
        {
            "caller": r.caller,
            "turn": t.turn,
            "said": t.sentence,
            "heard": t.transcript,
            "matches": t.other_sentence,
            "score": t.other_score,
        }
        for r in results
        for t in r.turns
        if t.verdict is Verdict.CROSS_TALK
    ]
    frames = sum(r.frames_sent for r in results)
    late = sum(r.late_frames for r in results)
    probes = [lag for r in results for lag in r.probe_lags_s]
    return {
        "calls": {
            "started": len(results),
            "completed": sum(r.outcome is Outcome.COMPLETED for r in results),
            "refused": sum(r.outcome is Outcome.REFUSED for r in results),
            "failed": sum(r.outcome is Outcome.FAILED for r in results),
        },
        "refusals": dict(Counter(r.reason for r in results if r.outcome is Outcome.REFUSED)),
        "errors": dict(errors),
        "turns": {
            "done": len(turns),
            "answered": sum(t.voice_to_voice_s is not None for t in turns),
        },
        "voice_to_voice_s": distribution(t.voice_to_voice_s for t in turns),
        "handshake_s": distribution(r.handshake_s for r in connected),
        "connect_s": distribution(r.connect_s for r in connected),
        "isolation": {
            "own": verdicts.get(Verdict.OWN.value, 0),
            "cross_talk": verdicts.get(Verdict.CROSS_TALK.value, 0),
            "unclear": verdicts.get(Verdict.UNCLEAR.value, 0),
            "missing": verdicts.get(Verdict.MISSING.value, 0),
            "cross_talk_cases": cross_talk,
        },
        "vad_onset_lag_s": distribution(probes),
        "probes_missed": sum(r.probes_missed for r in results),
        "client": {
            "frames_sent": frames,
            "late_frames": late,
            "late_frame_ratio": _r(late / frames) if frames else None,
            "mic_resyncs": sum(r.mic_resyncs for r in results),
            "max_send_lag_s": _r(max((r.max_send_lag_s for r in results), default=0.0)),
        },
    }


def step_failures(
    summary: dict[str, Any], *, v2v_bound_s: float | None = None, lag_bound_s: float | None = None
) -> list[str]:
    """Why a step is not sustainable (empty list: it is)."""
    why = []
    calls = summary["calls"]
    if calls["refused"]:
        why.append(f"{calls['refused']} refused")
    if calls["failed"] or summary["errors"]:
        why.append(f"errors {summary['errors']}")
    if summary["isolation"]["cross_talk"]:
        why.append(f"{summary['isolation']['cross_talk']} cross-talk")
    turns = summary["turns"]
    if turns["done"] != turns["answered"]:
        why.append(f"{turns['done'] - turns['answered']} unanswered turns")
    p95 = summary["voice_to_voice_s"]["p95"]
    if v2v_bound_s is not None and p95 is not None and p95 > v2v_bound_s:
        why.append(f"voice-to-voice p95 {p95:.3f} s > {v2v_bound_s} s")
    if lag_bound_s is not None:
        p99 = summary["vad_onset_lag_s"]["p99"]
        if p99 is None:
            why.append("no VAD onset measured")
        elif p99 > lag_bound_s:
            why.append(f"VAD onset lag p99 {p99:.3f} s > {lag_bound_s} s")
        if summary["probes_missed"]:
            why.append(f"{summary['probes_missed']} probes not heard")
    return why
