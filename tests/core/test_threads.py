"""The thread policy: an explicit --threads wins, then $VISUALIZER_THREADS, then the policy; runs record it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.errors import VisualizerError
from visualizer.core.threads import ENV, ONE_THREAD_BELOW, choose_threads, forward_work, policy_threads
from visualizer.core.training.session import TrainingSession


def test_the_policy_gives_small_work_one_thread_and_large_work_more_on_many_cores():
    assert forward_work([64, 128, 128, 10], 32) == 32 * (64 * 128 + 128 * 128 + 128 * 10)
    assert policy_threads(forward_work([64, 128, 128, 10], 32), available=16)[0] == 1  # the digits MLP
    assert policy_threads(ONE_THREAD_BELOW, available=6)[0] == 5  # one core left free...
    assert policy_threads(ONE_THREAD_BELOW * 100, available=64)[0] == 8  # ...and never more than 8
    n, reason = policy_threads(ONE_THREAD_BELOW, available=2)
    assert n == 1 and "2 cores" in reason  # on two cores a second thread competes with the window


def test_an_explicit_choice_wins_then_the_environment(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert choose_threads(10).threads == 1 and choose_threads(10).source == "policy"
    monkeypatch.setenv(ENV, "3")
    assert (choose_threads(10).threads, choose_threads(10).source) == (3, ENV)
    assert (choose_threads(10, 2).threads, choose_threads(10, 2).source) == (2, "--threads")
    monkeypatch.setenv(ENV, "many")
    with pytest.raises(VisualizerError, match=r"\$VISUALIZER_THREADS: 'many' is not a number of threads"):
        choose_threads(10)
    with pytest.raises(VisualizerError, match="--threads: 999 is out of range; allowed: 1 to 256"):
        choose_threads(10, 999)


def test_a_run_records_its_threads(monkeypatch):
    monkeypatch.setenv(ENV, "2")
    exp = experiment.from_dict({"data": {"name": "moons", "samples": 100}, "train": {"epochs": 1, "lr": 0.01}})
    exp = experiment.resolve(exp, load_dataset(exp.data))
    session = TrainingSession(exp)
    started = session.prepare()
    assert started.threads == 2 and "VISUALIZER_THREADS" in started.threads_note
    assert TrainingSession(exp, threads=1).prepare().threads == 1  # a command's --threads


def test_the_command_line_takes_threads_and_summary_json_says_so(tmp_path):
    """--threads on a command that computes is what its runs use, and summary.json names it."""
    out = tmp_path / "run"
    exp = tmp_path / "e.toml"
    exp.write_text("[data]\nname = 'moons'\nsamples = 100\n[train]\nepochs = 1\nlr = 0.01\n")
    done = subprocess.run([sys.executable, "-m", "visualizer", "run", str(exp), "--out", str(out), "--threads", "2",
                           "--quiet", "--no-plots"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["torch_threads"] == 2 and "VISUALIZER_THREADS" in summary["threads_note"]
    bad = subprocess.run([sys.executable, "-m", "visualizer", "run", str(exp), "--out", str(out), "--threads", "-1",
                          "--quiet"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --threads: -1 is out of range; allowed: 1 to 256"
