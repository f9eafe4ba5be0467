"""Prometheus text parsing and per-step histogram deltas, without prometheus_client."""

import math

import pytest

from voxswitch.bench.metrics_scrape import (
    counter_deltas,
    gauges,
    histograms,
    parse_exposition,
    step_histograms,
)

BEFORE = """\
# HELP voxswitch_live_sessions Sessions currently connected
# TYPE voxswitch_live_sessions gauge
voxswitch_live_sessions 0.0
# TYPE voxswitch_stage_latency_seconds histogram
voxswitch_stage_latency_seconds_bucket{le="0.1",stage="stt"} 1.0
voxswitch_stage_latency_seconds_bucket{le="0.5",stage="stt"} 2.0
voxswitch_stage_latency_seconds_bucket{le="+Inf",stage="stt"} 2.0
voxswitch_stage_latency_seconds_count{stage="stt"} 2.0
voxswitch_stage_latency_seconds_sum{stage="stt"} 0.35
voxswitch_stage_latency_seconds_created{stage="stt"} 1.7e9
# TYPE voxswitch_refusals counter
voxswitch_refusals_total{reason="at_capacity"} 1.0
"""

AFTER = """\
voxswitch_live_sessions 3.0
voxswitch_stage_latency_seconds_bucket{le="0.1",stage="stt"} 1.0
voxswitch_stage_latency_seconds_bucket{le="0.5",stage="stt"} 6.0
voxswitch_stage_latency_seconds_bucket{le="+Inf",stage="stt"} 12.0
voxswitch_stage_latency_seconds_count{stage="stt"} 12.0
voxswitch_stage_latency_seconds_sum{stage="stt"} 6.35
voxswitch_stage_latency_seconds_bucket{le="0.1",stage="llm_ttft"} 0.0
voxswitch_stage_latency_seconds_bucket{le="+Inf",stage="llm_ttft"} 0.0
voxswitch_stage_latency_seconds_count{stage="llm_ttft"} 0.0
voxswitch_stage_latency_seconds_sum{stage="llm_ttft"} 0.0
voxswitch_refusals_total{reason="at_capacity"} 4.0
voxswitch_refusals_total{reason="draining"} 0.0
other_metric 5
"""


def test_parse_samples_labels_and_special_values():
    text = 'm{a="x",b="q\\"uote\\\\n"} +Inf 1700000000\nplain 2.5\nbad line here\nnan_one NaN\n'
    samples = parse_exposition(text)
    assert samples[0].name == "m"
    assert dict(samples[0].labels) == {"a": "x", "b": 'q"uote\\n'}
    assert samples[0].value == math.inf
    assert samples[1].name == "plain" and samples[1].value == 2.5
    assert samples[2].name == "nan_one" and math.isnan(samples[2].value)
    assert len(samples) == 3  # the malformed line is skipped


def test_histograms_group_buckets_without_le():
    found = histograms(parse_exposition(AFTER), "voxswitch_")
    stt = found[("voxswitch_stage_latency_seconds", (("stage", "stt"),))]
    assert stt.count == 12 and stt.total == pytest.approx(6.35)
    assert stt.buckets == {0.1: 1.0, 0.5: 6.0, math.inf: 12.0}


def test_step_histograms_report_only_what_moved_during_the_step():
    rows = step_histograms(BEFORE, AFTER, "voxswitch_")
    assert len(rows) == 1  # llm_ttft saw nothing
    row = rows[0]
    assert row["labels"] == {"stage": "stt"} and row["count"] == 10
    assert row["mean"] == pytest.approx(0.6)
    # 4 of the 10 new observations fall in (0.1, 0.5]: the median is past that bucket,
    # which ends at the last finite bound, so that bound is the estimate.
    assert row["p50"] == 0.5
    assert step_histograms(None, None, "voxswitch_") == []


def test_quantile_interpolates_inside_a_bucket():
    rows = step_histograms(None, AFTER, "voxswitch_")
    stt = next(r for r in rows if r["labels"] == {"stage": "stt"})
    # rank 6 of 12: bucket (0.1, 0.5] holds observations 2..6 -> its upper edge.
    assert stt["p50"] == pytest.approx(0.5)
    assert stt["count"] == 12


def test_counters_and_gauges():
    assert counter_deltas(BEFORE, AFTER, "voxswitch_") == [
        {"metric": "voxswitch_refusals_total", "labels": {"reason": "at_capacity"}, "delta": 3.0}
    ]
    assert gauges(AFTER, "voxswitch_") == {"voxswitch_live_sessions": 3.0}
    assert gauges(None, "voxswitch_") == {}
