"""A run's file size is estimated before it starts (snapshots x parameters); above MAX_RUN_FILE_BYTES its snapshots
are spaced out to fit, and the run says so once (``hidden = [4096] * 8`` wrote 1.4 GB per snapshot, ~94 GB
projected, with no check)."""

from __future__ import annotations

import os
import re

import pytest

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.model.nets import count_parameters
from visualizer.core.runs.folder import train_to_dir
from visualizer.core.runs.reader import RunReader
from visualizer.core.training import snapshot_plan
from visualizer.core.training.snapshot_plan import MAX_RUN_FILE_BYTES, plan_snapshots


def test_a_very_wide_network_gets_few_snapshots_and_a_note():
    n_params = count_parameters(64, [4096] * 8, 10)  # digits through eight layers of 4096
    steps = 23 * 60  # 1,437 samples in batches of 64, 60 epochs
    plan = plan_snapshots(n_params, 9, steps, steps // max(1, steps // 200) + 2)
    assert plan.estimate_bytes <= MAX_RUN_FILE_BYTES and plan.snapshots >= 2
    assert plan.every_steps * (plan.snapshots - 1) >= steps - plan.every_steps
    projected = float(re.search(r"would grow to about ([\d.]+) GB", plan.note).group(1))
    assert projected == pytest.approx(232 * 4 * n_params / 1024**3, rel=0.01)  # ~100 GB: the issue projected 94
    assert f"{plan.snapshots:,} snapshots" in plan.note


def test_a_small_network_keeps_its_snapshots_without_a_note():
    plan = plan_snapshots(count_parameters(2, [16, 16], 2), 3, 1500, 202, picture_values=100 * 100 * 2)
    assert plan.every_steps == 1 and plan.snapshots == 202 and plan.note == ""


def test_even_two_snapshots_beyond_the_limit_say_how_large_the_file_will_be():
    plan = plan_snapshots(300_000_000, 9, 100, 102)  # 1.2 GB a snapshot: the two ends and the weights, 3.6 GB
    assert plan.snapshots == 2 and plan.every_steps == 100 and "Even so it will be about 3.4 GB" in plan.note


@pytest.fixture
def wide_digits():
    exp = experiment.from_dict({"title": "wide digits", "data": {"name": "digits"}, "model": {"hidden": [64, 64]},
                                "train": {"epochs": 20, "batch_size": 64}})
    ds = load_dataset(exp.data)
    return experiment.resolve(exp, ds), ds


def test_the_estimate_is_the_run_files_size(wide_digits, tmp_path):
    exp, ds = wide_digits
    run = train_to_dir(exp, tmp_path / "run", ds)
    plan = run.session.snapshot_plan
    assert plan.note == "" and plan.snapshots > 200
    assert os.path.getsize(run.run_file) == pytest.approx(plan.estimate_bytes, rel=0.1)


def test_a_run_over_the_limit_records_fewer_snapshots_and_says_so_once(wide_digits, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_plan, "MAX_RUN_FILE_BYTES", 3 * 1024**2)  # this run projects ~10 MB
    exp, ds = wide_digits
    seen = []
    run = train_to_dir(exp, tmp_path / "run", ds, on_event=seen.append)
    plan = run.session.snapshot_plan
    assert "to stay under 3 MB" in plan.note and plan.note in run.started.device_message
    assert sum(plan.note in getattr(e, "device_message", "") for e in seen) == 1
    assert os.path.getsize(run.run_file) <= 3 * 1024**2
    with RunReader(run.run_file) as reader:
        steps = reader.snapshot_steps()
    assert len(steps) == plan.snapshots and steps[0] == 0 and steps[-1] == run.ended.step
    assert all(b - a <= plan.every_steps for a, b in zip(steps, steps[1:]))
    assert run.summary["device_message"] == run.started.device_message


def test_snapshots_by_progress_carry_the_weights_and_leave_the_picture_to_the_timed_ones():
    from dataclasses import replace

    from visualizer.core.training.events import Snapshot
    from visualizer.core.training.session import TrainingSession

    exp = experiment.load(os.path.join(os.path.dirname(__file__), "..", "..", "resources", "experiments",
                                       "moons.toml"))
    exp = replace(exp, train=replace(exp.train, epochs=20))
    session = TrainingSession(exp, boundary_resolution=20, snapshot_interval_s=0.5, snapshot_progress=100)
    snaps = [e for e in session.run() if isinstance(e, Snapshot)]
    assert len(snaps) >= 100  # by progress: a smooth path however fast
    with_picture = [s.step for s in snaps if s.boundary is not None]
    assert with_picture[0] == 0 and with_picture[-1] == snaps[-1].step == session.total_steps
    assert len(with_picture) < len(snaps) / 2  # the pictures only on the timed ones (20 epochs: about a second)
    assert all(s.params is not None and s.layers for s in snaps)
