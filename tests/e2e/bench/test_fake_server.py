"""The bench against a real socket server that we control: it must see cross-talk and refusals.

The server (tests/e2e/bench/fake_server.py) speaks Pipecat's protocol and
reports whatever transcript the test tells it to — the honest one, or another
caller's, as a server that mixes sessions up would.
"""

from __future__ import annotations

import pytest

from tests.e2e.bench.conftest import quick_options
from tests.e2e.bench.fake_server import FakePipecatServer
from voxswitch.bench.runner import Runner, Target
from voxswitch.bench.sentences import sentences_for
from voxswitch.bench.stats import step_failures

pytestmark = pytest.mark.e2e

CALLERS, TURNS = 2, 2


def honest(index: int, utterance: int) -> str:
    # Calls start 0.5 s apart (stagger), so connection order is caller order.
    return sentences_for(index, TURNS, CALLERS)[utterance]


def crossed(index: int, utterance: int) -> str:
    return sentences_for(1 - index, TURNS, CALLERS)[utterance]


async def _run(server: FakePipecatServer, voices, callers: int, turns: int) -> dict:
    runner = Runner(Target("fake", server.url), quick_options(turns=turns), voices)
    return await runner.fixed_step(callers)


async def test_honest_server_has_no_cross_talk(voices):
    async with FakePipecatServer(honest) as server:
        step = await _run(server, voices, CALLERS, TURNS)
    assert step["calls"]["completed"] == CALLERS
    assert step["isolation"]["own"] == CALLERS * TURNS
    assert step["isolation"]["cross_talk"] == 0
    assert step["voice_to_voice_s"]["n"] == CALLERS * TURNS
    print("voice-to-voice against the fake server:", step["voice_to_voice_s"])


async def test_server_returning_another_callers_transcript_is_reported_as_cross_talk(voices):
    async with FakePipecatServer(crossed) as server:
        step = await _run(server, voices, CALLERS, TURNS)
    assert step["isolation"]["cross_talk"] == CALLERS * TURNS
    assert step["isolation"]["own"] == 0
    case = step["isolation"]["cross_talk_cases"][0]
    assert case["heard"] in {s for i in range(CALLERS) for s in sentences_for(i, TURNS, CALLERS)}
    assert case["heard"] != case["said"] and case["matches"] == case["heard"]
    assert any("cross-talk" in why for why in step_failures(step))


async def test_refused_caller_is_counted_as_refused(voices):
    async with FakePipecatServer(honest, max_sessions=1) as server:
        step = await _run(server, voices, callers=2, turns=1)
        assert server.refused == 1
    assert step["calls"] == {"started": 2, "completed": 1, "refused": 1, "failed": 0}
    assert step["refusals"] == {"at capacity": 1}
    assert step["errors"] == {}
    # Only the admitted caller contributes latencies.
    assert step["voice_to_voice_s"]["n"] == 1
    assert step["connect_s"]["n"] == 1
    refused = next(c for c in step["calls_detail"] if c["outcome"] == "refused")
    assert refused["turns"] == [] and refused["close_code"] == 1013
    assert "1 refused" in step_failures(step)


async def test_listening_sessions_measure_vad_onset(voices):
    async with FakePipecatServer(honest) as server:
        options = quick_options(listen_s=2.0, probe_interval_s=0.3, vad_start_s=0.0)
        runner = Runner(Target("fake", server.url), options, voices)
        step = await runner.listen_step(2)
    assert step["calls"]["completed"] == 2
    assert step["vad_onset_lag_s"]["n"] >= 1
    assert step["probes_missed"] == 0
    # The fake server fires on the first loud frame: the lag is only the socket's.
    print("VAD onset lag against the fake server:", step["vad_onset_lag_s"])
