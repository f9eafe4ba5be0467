"""Step figures from scripted call results: percentiles, refusals, errors, cross-talk."""

import math

import pytest

from voxswitch.bench.results import CallResult, Outcome, TurnResult
from voxswitch.bench.sentences import Verdict
from voxswitch.bench.stats import distribution, percentile, step_failures, summarize_calls


def test_percentile_interpolates_between_ranks():
    data = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert percentile(data, 0) == 1.0
    assert percentile(data, 100) == 4.0
    assert percentile(data, 50) == pytest.approx(2.5)
    assert percentile(data, 95) == pytest.approx(3.85)


def test_percentile_edge_cases():
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, math.nan, 3.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_distribution_ignores_missing_values():
    d = distribution([1.0, None, 3.0])
    assert d["n"] == 2 and d["mean"] == 2.0 and d["max"] == 3.0 and d["p50"] == 2.0
    assert distribution([])["p95"] is None


def _turn(i, v2v, verdict=Verdict.OWN, error=None):
    return TurnResult(
        i,
        f"sentence {i}",
        voice_to_voice_s=v2v,
        verdict=verdict,
        error=error,
        transcript=None if verdict is Verdict.MISSING else "x",
    )


def _completed(caller, *v2vs, connect=0.5, verdict=Verdict.OWN):
    return CallResult(
        caller,
        Outcome.COMPLETED,
        handshake_s=0.01,
        connect_s=connect,
        turns=[_turn(i, v, verdict) for i, v in enumerate(v2vs)],
    )


def test_refused_call_is_counted_as_refused_not_as_a_latency():
    results = [
        _completed(0, 0.8, 1.0),
        # A refusal that happened after a (fast) handshake must not pull connect time down.
        CallResult(1, Outcome.REFUSED, reason="at capacity", handshake_s=0.001),
        CallResult(2, Outcome.REFUSED, reason="at capacity"),
    ]
    s = summarize_calls(results)
    assert s["calls"] == {"started": 3, "completed": 1, "refused": 2, "failed": 0}
    assert s["refusals"] == {"at capacity": 2}
    assert s["errors"] == {}
    assert s["voice_to_voice_s"]["n"] == 2
    assert s["connect_s"]["n"] == 1
    assert s["handshake_s"]["n"] == 1 and s["handshake_s"]["p50"] == 0.01
    assert step_failures(s) == ["2 refused"]


def test_errors_by_kind():
    results = [
        _completed(0, 0.5),
        CallResult(1, Outcome.FAILED, reason="connect_timeout"),
        CallResult(
            2,
            Outcome.COMPLETED,
            connect_s=0.2,
            turns=[_turn(0, None, Verdict.MISSING, error="no_bot_audio")],
            rtvi_errors=["pipeline error"],
        ),
    ]
    s = summarize_calls(results)
    assert s["errors"] == {"connect_timeout": 1, "no_bot_audio": 1, "rtvi_error": 1}
    assert s["turns"] == {"done": 2, "answered": 1}
    assert s["isolation"]["missing"] == 1
    why = step_failures(s)
    assert any("errors" in w for w in why) and any("unanswered" in w for w in why)


def test_cross_talk_is_counted_and_reported():
    crossed = _completed(1, 0.7)
    crossed.turns[0].verdict = Verdict.CROSS_TALK
    crossed.turns[0].other_sentence = "someone else's words"
    s = summarize_calls([_completed(0, 0.6), crossed])
    assert s["isolation"]["own"] == 1 and s["isolation"]["cross_talk"] == 1
    case = s["isolation"]["cross_talk_cases"][0]
    assert case["caller"] == 1 and case["matches"] == "someone else's words"
    assert "1 cross-talk" in step_failures(s)


def test_latency_bound():
    s = summarize_calls([_completed(0, 0.5, 0.6, 2.5)])
    assert step_failures(s, v2v_bound_s=3.0) == []
    assert len(step_failures(s, v2v_bound_s=1.5)) == 1


def test_listen_lag_bound():
    result = CallResult(
        0, Outcome.COMPLETED, connect_s=0.1, probe_lags_s=[0.02, 0.03, 0.2], probes_missed=1
    )
    s = summarize_calls([result])
    assert s["vad_onset_lag_s"]["n"] == 3
    why = step_failures(s, lag_bound_s=0.1)
    assert any("VAD onset lag" in w for w in why) and any("not heard" in w for w in why)
    none = summarize_calls([CallResult(0, Outcome.COMPLETED, connect_s=0.1)])
    assert step_failures(none, lag_bound_s=0.1) == ["no VAD onset measured"]


def test_client_pacing_figures():
    r = _completed(0, 0.5)
    r.frames_sent, r.late_frames, r.max_send_lag_s = 200, 2, 0.05
    s = summarize_calls([r])
    assert s["client"]["late_frame_ratio"] == 0.01
    assert s["client"]["max_send_lag_s"] == 0.05
