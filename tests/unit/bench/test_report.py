"""Table, comparison ratios, JSON and plot from a scripted report."""

import argparse
import io
import json

import pytest

from voxswitch.bench.cli import _metrics_url, _steps, add_bench_arguments
from voxswitch.bench.report import compare, print_table, write_json, write_plot
from voxswitch.bench.results import CallResult, Outcome, TurnResult
from voxswitch.bench.sentences import Verdict
from voxswitch.bench.stats import summarize_calls
from voxswitch.errors import BenchError


def _step(callers, v2v, connect, rss_per_session):
    results = [
        CallResult(
            i,
            Outcome.COMPLETED,
            handshake_s=0.01,
            connect_s=connect,
            turns=[TurnResult(0, "s", voice_to_voice_s=v2v, verdict=Verdict.OWN)],
        )
        for i in range(callers)
    ]
    step = summarize_calls(results)
    step["server"] = {
        "metrics": [
            {
                "metric": "voxswitch_stage_latency_seconds",
                "labels": {"stage": "stt"},
                "count": 2,
                "mean": 0.1,
                "p50": 0.1,
                "p95": 0.2,
            }
        ],
        "process": {"cpu_s_per_turn": 0.5, "rss_per_session_bytes": rss_per_session},
    }
    step.update(mode="fixed", callers=callers, sustainable=True, why_not=[])
    return step


def _report():
    ours = {
        "url": "ws://a/ws",
        "capacity": 8,
        "steps": [_step(1, 0.5, 0.01, 10e6), _step(2, 0.6, 0.01, 10e6)],
    }
    peer = {
        "url": "ws://b/ws",
        "capacity": 2,
        "steps": [_step(1, 1.0, 1.5, 500e6), _step(2, 2.0, 2.0, 500e6)],
    }
    report = {
        "bench": {"mode": "capacity", "v2v_bound_s": 1.5},
        "machine": {"cpus": 2, "cpu_model": "test cpu"},
        "systems": {"voxswitch": ours, "naive": peer},
    }
    report["comparison"] = compare(ours, peer)
    return report


def test_comparison_ratios_are_ours_over_peer():
    c = _report()["comparison"]
    assert c["capacity"] == {"voxswitch": 8, "peer": 2, "ratio": 4.0}
    at2 = next(r for r in c["at_size"] if r["size"] == 2)
    assert at2["voice_to_voice_s_p50"] == pytest.approx(0.3)
    assert at2["connect_s_p50"] == pytest.approx(0.005)
    assert at2["rss_per_session"] == pytest.approx(0.02)
    assert "vad_onset_lag_s_p50" not in at2  # nothing measured, no ratio


def test_table_mentions_every_system_and_the_ratios():
    out = io.StringIO()
    print_table(_report(), out)
    text = out.getvalue()
    assert "== voxswitch" in text and "== naive" in text
    assert "capacity: 8 vs 2" in text
    assert "voxswitch_stage_latency_seconds{stage=stt}" in text


def test_json_and_plot_files(tmp_path):
    report = _report()
    write_json(report, tmp_path / "bench.json")
    assert json.loads((tmp_path / "bench.json").read_text())["comparison"]["capacity"]["ratio"] == 4
    assert write_plot(report, tmp_path / "bench.png")
    assert (tmp_path / "bench.png").read_bytes()[:4] == b"\x89PNG"


def _args(*argv):
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    return parser.parse_args(list(argv))


def test_steps_per_mode():
    assert _steps(_args("--callers", "3")) == [3]
    assert _steps(_args("--mode", "capacity", "--max-callers", "4")) == [1, 2, 3, 4]
    assert _steps(_args("--mode", "listen", "--ramp", "5, 10")) == [5, 10]
    with pytest.raises(BenchError):
        _steps(_args("--mode", "capacity", "--ramp", "a,b"))
    with pytest.raises(BenchError):
        _steps(_args("--mode", "capacity", "--ramp", "0"))


def test_metrics_url_sits_next_to_the_websocket():
    assert _metrics_url("ws://127.0.0.1:8000/ws") == "http://127.0.0.1:8000/metrics"
    assert _metrics_url("wss://example.org/ws?x=1") == "https://example.org/metrics"
