"""The bench against real servers: voxswitch itself (spawned by the bench) and the plain peer."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys

import pytest

from tests.e2e.bench.conftest import quick_options
from voxswitch.bench.behaviours import CallTiming
from voxswitch.bench.runner import Runner, Target
from voxswitch.bench.spawn import spawn_naive_peer

pytestmark = pytest.mark.e2e


def _server_import_error() -> str | None:
    try:
        importlib.import_module("voxswitch.server.serve")
    except ImportError as e:
        return f"voxswitch.server is not importable yet ({e})"
    return None


@pytest.mark.skipif(_server_import_error() is not None, reason=str(_server_import_error()))
def test_bench_against_voxswitch_writes_every_figure(tmp_path, voices):
    """`voxswitch bench --spawn`, 2 callers x 2 turns: the JSON carries every field."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "voxswitch.bench.cli",
            "--spawn",
            "--callers",
            "2",
            "--turns",
            "2",
            "--think",
            "0.5",
            "--out",
            str(out),
            "--cache",
            str(voices.cache_dir),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    report = json.loads((out / "bench.json").read_text())
    assert {"bench", "machine", "systems"} <= report.keys()
    system = report["systems"]["voxswitch"]
    assert system["pids"], "the spawned server's PID is watched"
    step = system["steps"][0]
    for key in (
        "calls",
        "refusals",
        "errors",
        "turns",
        "voice_to_voice_s",
        "handshake_s",
        "connect_s",
        "isolation",
        "client",
        "server",
        "duration_s",
        "calls_detail",
    ):
        assert key in step, key
    assert step["calls"] == {"started": 2, "completed": 2, "refused": 0, "failed": 0}
    assert step["turns"] == {"done": 4, "answered": 4}
    assert step["voice_to_voice_s"]["n"] == 4 and step["voice_to_voice_s"]["p95"] > 0
    assert step["isolation"]["cross_talk"] == 0
    process = step["server"]["process"]
    assert process["cpu_s_per_turn"] > 0 and process["rss_peak_bytes"] > 0
    assert process["rss_per_session_bytes"] is not None
    stages = {m["labels"].get("stage") for m in step["server"]["metrics"]}
    assert "voice_to_voice" in stages, step["server"]["metrics"]
    for call in step["calls_detail"]:
        assert len(call["turns"]) == 2
        assert all(t["transcript"] for t in call["turns"])
    assert (out / "bench.png").exists()
    assert (out / "voxswitch-serve.log").exists()


async def test_naive_peer_answers_a_caller(tmp_path, voices):
    """The plain-Pipecat peer works end to end: one caller, one turn, bot audio back."""
    peer = await asyncio.to_thread(spawn_naive_peer, log_dir=tmp_path)
    try:
        options = quick_options(
            timing=CallTiming(
                open_timeout_s=10,
                ready_timeout_s=60,
                turn_timeout_s=60,
                answer_timeout_s=60,
                warmup_s=1.0,
            ),
        )
        runner = Runner(Target("naive", peer.ws_url, None, peer.pids), options, voices)
        step = await runner.fixed_step(1)
    finally:
        await asyncio.to_thread(peer.stop)
    print(
        "naive peer, 1 caller x 1 turn:",
        json.dumps(
            {k: step[k] for k in ("voice_to_voice_s", "connect_s", "isolation")}, default=str
        ),
    )
    print("naive peer process:", step["server"]["process"])
    assert step["calls"]["completed"] == 1, step["calls_detail"]
    assert step["turns"] == {"done": 1, "answered": 1}
    assert step["calls_detail"][0]["turns"][0]["bot_audio_s"] > 0
    assert step["isolation"]["own"] == 1
