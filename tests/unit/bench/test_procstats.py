"""Step figures from scripted CPU/RSS samples (no real processes)."""

import pytest

from voxswitch.bench.procstats import ProcSample, StepWatch


class ScriptedGroup:
    """Answers ``sample()`` from a list, as a process group would over a step."""

    def __init__(self, samples):
        self._samples = list(samples)

    def sample(self):
        return self._samples.pop(0) if len(self._samples) > 1 else self._samples[0]


async def test_core_share_per_session_is_cpu_over_wall_and_sessions():
    clock = iter([100.0, 110.0])  # a 10 s step
    group = ScriptedGroup([ProcSample(5.0, 1000), ProcSample(7.0, 4000)])
    async with StepWatch(group, clock=lambda: next(clock)) as watch:
        pass
    figures = watch.figures(turns=4, sessions=8, idle_rss=0)
    assert figures["cpu_s"] == pytest.approx(2.0)
    assert figures["wall_s"] == pytest.approx(10.0)
    assert figures["cpu_s_per_turn"] == pytest.approx(0.5)
    assert figures["core_share_per_session"] == pytest.approx(2.0 / (10.0 * 8))
    assert figures["rss_per_session_bytes"] == 500


async def test_no_group_gives_no_figures():
    async with StepWatch(None) as watch:
        pass
    assert watch.figures(turns=1, sessions=1) is None
