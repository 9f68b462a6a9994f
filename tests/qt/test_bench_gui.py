"""`bench gui`'s wait at a random moment: a stall weighs as long as it lasts, as a fine clock would find it."""

from __future__ import annotations

import numpy as np
import pytest

from visualizer.qt.app.bench_gui import share_late, waits_at_random_moments


def _sampled(late, timer_ms, step=0.01):
    """The waits at every ``step`` ms of the run, each tick's stretch as timer_ms free then ``late`` busy."""
    parts = []
    for busy in late:
        parts.append(np.zeros(int(round(timer_ms / step))))
        parts.append(np.arange(busy, 0, -step))
    return np.concatenate(parts)


def test_the_waits_are_those_of_a_finely_sampled_run():
    rng = np.random.default_rng(1)
    late = np.concatenate([rng.exponential(0.3, 2000), [400.0], rng.uniform(3, 9, 60)])
    got = waits_at_random_moments(late, 5, (0.5, 0.9, 0.95, 0.99))
    want = np.quantile(_sampled(late, 5), (0.5, 0.9, 0.95, 0.99))
    assert got == pytest.approx(want, rel=2e-3, abs=0.05)  # (the sampling adds up to one step a stretch)


def test_one_long_stall_weighs_more_than_many_short_lates():
    short = [4.0] * 100 + [0.0] * 1900  # 100 ticks 4 ms late: the ticks' p95 is 4 ms
    stall = [0.0] * 1999 + [400.0]  # one tick of 2000 late by 400 ms: the ticks' p95 is 0
    assert np.percentile(short, 95) > np.percentile(stall, 95)
    assert share_late(short) == 0.05 and share_late(stall) == 0.0005  # the p95 counts the late ticks: 5 % is its edge
    assert waits_at_random_moments(stall, 5, (0.99,))[0] > 100 > 4 >= waits_at_random_moments(short, 5, (0.99,))[0]
    assert waits_at_random_moments([], 5) == [0.0, 0.0, 0.0]


def test_the_report_prints_the_share_of_late_ticks_beside_their_p95(capsys):
    from visualizer.cli.bench import _gui_report

    late = [0.2] * 939 + [3.0] * 61  # 6.1 % of the ticks over 1 ms late: the p95 reads the late ticks' 3 ms
    result = {"model": "m", "repeats": 1, "steps_per_run": 10, "worker_threads": 1, "headless_default_threads": 2,
              "p50_lateness_ms": 0.2, "p95_lateness_ms": float(np.percentile(late, 95)), "max_lateness_ms": 3.0,
              "late_over_1ms_share": share_late(late), "timer_ticks": len(late), "p50_wait_ms": 0.0,
              "p95_wait_ms": 1.0, "p99_wait_ms": 2.0, "headless_steps_per_s": 100.0,
              "headless_default_threads_steps_per_s": 90.0, "window_steps_per_s": 95.0, "steps_ratio": 0.95,
              "train_to_first_step_s": 0.1, "first_paint_s": 0.4}
    _gui_report(result)
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("GUI timer"))
    assert "p95 3.00 ms" in line and "(1000 ticks, 6.1 % over 1 ms late)" in line
