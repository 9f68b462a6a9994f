"""A sweep from start to end: every trial recorded once, diverged trials found, the local backend's table equal to
the serial one, a folder of another sweep refused."""

from __future__ import annotations

import csv
import math

import pytest

from visualizer.core import experiment
from visualizer.core.errors import VisualizerError
from visualizer.core.runs.reader import RunReader
from visualizer.core.sweeps.grid import parse_param
from visualizer.core.sweeps.runner import SweepPlan, SweepStarted, TrialFinished, run_sweep
from visualizer.core.sweeps.trial import steps_to_target

from .conftest import TINY

SINE = ("[data]\nname = 'sine'\nsamples = 200\n[model]\nhidden = [16]\nactivation = 'relu'\n"
        "[train]\noptimizer = 'sgd'\nlr = 0.01\nbatch_size = 16\nepochs = 3\n")
#: the figures that must be equal between backends (wall_s is the time a trial took)
SAME = ("status", "final_train_loss", "final_val_loss", "final_val_metric", "best_val_loss", "steps_to_target",
        "diverged_step", "steps")


def _plan(text=TINY, params=("train.lr=0.01,0.3", "train.momentum=0,0.9"), seeds=1, target=None):
    return SweepPlan(experiment.loads(text), tuple(parse_param(p) for p in params), seeds, target)


def _table(folder):
    with open(folder / "sweep.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_sweep_records_every_trial_with_its_run_and_figures(tmp_path):
    events = list(run_sweep(_plan(seeds=2, target=0.6), tmp_path, backend="serial"))
    assert isinstance(events[0], SweepStarted) and events[0].total == 8
    finished = [e for e in events if isinstance(e, TrialFinished)]
    assert [e.done for e in finished] == list(range(1, 9))
    rows = _table(tmp_path)
    assert sorted(r["trial"] for r in rows) == [f"{i:04d}" for i in range(8)]
    for row in rows:
        with RunReader(tmp_path / row["run"]) as reader:  # each trial is a normal run file
            history, exp = reader.history(), reader.experiment
        assert exp.train.lr == float(row["train.lr"]) and exp.train.momentum == float(row["train.momentum"])
        assert exp.train.seed == int(row["seed"])
        assert float(row["final_val_loss"]) == pytest.approx(history.val_loss[-1], rel=1e-12)
        assert float(row["best_val_loss"]) == pytest.approx(history.val_loss.min(), rel=1e-12)
        assert row["status"] == "done" and row["steps"] == str(int(history.steps[-1]))
        hit = [int(s) for s, v in zip(history.eval_steps, history.val_loss) if v <= 0.6]
        assert row["steps_to_target"] == (str(hit[0]) if hit else "")
        assert (tmp_path / "trials" / row["trial"] / "summary.json").exists()


def test_diverged_trials_are_marked_with_their_step(tmp_path):
    list(run_sweep(_plan(SINE, ("train.lr=0.01,10",)), tmp_path, backend="serial"))
    rows = {r["train.lr"]: r for r in _table(tmp_path)}
    assert rows["0.01"]["status"] == "done" and rows["0.01"]["diverged_step"] == ""
    bad = rows["10.0"]
    assert bad["status"] == "diverged" and "became" in bad["message"]
    with RunReader(tmp_path / bad["run"]) as reader:
        assert reader.ended.reason == "diverged" and bad["diverged_step"] == str(reader.ended.step)


@pytest.mark.slow
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_the_local_backend_gives_the_serial_table(tmp_path, monkeypatch, start):
    from visualizer.core.sweeps.backends import START_ENV

    monkeypatch.setenv(START_ENV, start)  # workers forked with torch imported, or fresh interpreters
    list(run_sweep(_plan(seeds=2), tmp_path / "serial", backend="serial"))
    list(run_sweep(_plan(seeds=2), tmp_path / "local", backend="local", workers=2))
    serial, local = _table(tmp_path / "serial"), _table(tmp_path / "local")
    assert [r["trial"] for r in serial] == [r["trial"] for r in local]
    for a, b in zip(serial, local):
        assert {k: a[k] for k in SAME} == {k: b[k] for k in SAME}  # identical numbers, not merely close


def test_a_rerun_skips_finished_trials_and_another_sweep_is_refused(tmp_path):
    first = list(run_sweep(_plan(), tmp_path, backend="serial"))
    again = list(run_sweep(_plan(), tmp_path, backend="serial"))
    assert len(again) == 1 and len(again[0].done_before) == 4 == len(first) - 1
    with pytest.raises(VisualizerError, match="holds another sweep .*the swept fields or their values"):
        list(run_sweep(_plan(params=("train.lr=0.01,0.2",)), tmp_path, backend="serial"))
    with pytest.raises(VisualizerError, match="holds another sweep .*the seeds"):
        list(run_sweep(_plan(seeds=2), tmp_path, backend="serial"))


def test_steps_to_target_falls_back_to_the_training_loss():
    from visualizer.core.training.events import StepEvent
    from visualizer.core.training.history import History

    h = History()
    for step, loss in enumerate([1.0, 0.8, 0.4, 0.2]):
        h.append(StepEvent(step, 0, loss, 0.1, 0.0, val_loss=math.nan if step else None, train_metric=0.5,
                           eval_train_loss=loss))
    assert steps_to_target(h, 0.5) == 2 and steps_to_target(h, 0.1) is None and steps_to_target(h, None) is None


@pytest.mark.slow
def test_bench_sweep_is_the_moons_sweep_and_reports_same_tables():
    from visualizer.core.sweeps.bench import bench_sweep, format_report, moons_plan

    plan = moons_plan()
    trials = plan.trials()
    assert len(trials) == 16 and trials[0].experiment["train"]["epochs"] == 60  # the preset's, by default
    assert {t.values["train.momentum"] for t in trials} == {0.0, 0.5, 0.9, 0.99}
    result = bench_sweep(epochs=1, workers=2, ray=False)
    assert result["local_same"] and result["trials"] == 16 and result["serial_s"] > 0
    assert "ratio" in format_report(result)


def test_workers_are_forked_only_from_a_single_threaded_process_that_works_too(monkeypatch):
    import sys
    import threading

    from visualizer.core.sweeps import backends

    monkeypatch.delenv(backends.START_ENV, raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "linux")
    assert backends.start_method(work_here=True) == "fork"
    assert backends.start_method(work_here=False) == "spawn"  # the window: its process has Qt's threads
    monkeypatch.setattr(threading, "active_count", lambda: 3)
    assert backends.start_method(work_here=True) == "spawn"  # another thread's locks would be copied
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    for platform in ("darwin", "win32"):
        monkeypatch.setattr(sys, "platform", platform)
        assert backends.start_method(work_here=True) == "spawn"
    monkeypatch.setenv(backends.START_ENV, "fork")
    assert backends.start_method(work_here=False) == "fork"


def test_a_stopped_local_backend_ends_its_workers_at_once():
    import time

    from visualizer.core.sweeps.backends import run_tasks

    stop = []
    t0 = time.monotonic()
    results = run_tasks(time.sleep, [0.2, 60.0, 60.0, 60.0], "local", workers=2, work_here=False,
                        stopped=lambda: bool(stop))
    for _task, _result in results:  # the 0.2 s task comes back first; the 60 s ones are abandoned
        stop.append(True)
    assert time.monotonic() - t0 < 30  # not 60: the workers were ended, not waited for


def test_trials_carry_their_data_set_loaded_once_and_a_worker_never_imports_sklearn(tmp_path):
    import pickle
    import subprocess
    import sys

    from visualizer.core.sweeps.runner import _datasets
    from visualizer.core.sweeps.trial import TrialTask, run_trial

    plan = _plan(params=("train.lr=0.01,0.3", "data.noise=0.1,0.2"))
    trials = plan.trials()
    sets = _datasets(trials, plan.base_dir)
    assert len(sets) == 4 and len({id(d) for d in sets.values()}) == 2  # one load per distinct [data]
    by_noise = {t.experiment["data"]["noise"]: sets[t.id] for t in trials}
    assert not (by_noise[0.1].X_train == by_noise[0.2].X_train).all()
    task = TrialTask(trials[0].id, trials[0].experiment, plan.base_dir, 1, None, sets[trials[0].id])
    script = ("import pickle, sys\nfrom visualizer.core.sweeps.trial import run_trial\n"
              "out = run_trial(pickle.loads(sys.stdin.buffer.read()))\n"
              "print(out.figures['status'], repr(out.figures['final_val_loss']), 'sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(task), capture_output=True, timeout=120)
    status, loss, sklearn = done.stdout.decode().split()
    here = run_trial(TrialTask(trials[0].id, trials[0].experiment, plan.base_dir, 1, None))  # loading it itself
    assert (status, float(loss), sklearn) == ("done", here.figures["final_val_loss"], "False")
