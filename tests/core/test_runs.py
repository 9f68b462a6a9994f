"""The run file: round trip, replay, a killed writer, following a live run, bad files, never overwriting."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import one_torch_thread  # noqa: F401  (fixture)
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.runs import schema
from visualizer.core.runs import writer as run_writer
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.writer import RunWriter, create_run_file, record
from visualizer.core.training.events import RunEnded, RunStarted, Snapshot, StepEvent
from visualizer.core.training.session import TrainingSession

ROOT = Path(__file__).resolve().parents[2]

SMALL = Experiment(
    data=DataSpec(name="moons", samples=200, noise=0.2, seed=1),
    model=ModelSpec(hidden=(8, 8), activation=("tanh", "relu")),
    train=TrainSpec(optimizer="adam", lr=0.02, batch_size=32, epochs=4, loss="cross_entropy", seed=5),
    title="Small moons",
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def recorded(path: Path, exp: Experiment = SMALL, **options):
    """Train ``exp`` while recording it; returns the session and every event the live run yielded."""
    session = TrainingSession(exp, **options)
    started = session.prepare()
    events = []
    with RunWriter(path, exp, started) as writer:
        for event in session.run():
            events.append(event)
            writer.add(event)
        writer.add_weights(session.model)
    return session, events


def assert_snapshot_equal(a: Snapshot, b: Snapshot) -> None:
    assert (a.step, a.epoch) == (b.step, b.epoch)
    assert np.array_equal(a.params, b.params) and a.params.dtype == b.params.dtype
    assert len(a.layers) == len(b.layers)
    for x, y in zip(a.layers, b.layers):
        assert x.name == y.name
        for field in ("weight_edges", "weight_counts", "grad_edges", "grad_counts"):
            assert np.array_equal(getattr(x, field), getattr(y, field))
    assert (a.boundary is None) == (b.boundary is None)
    if a.boundary is not None:
        for field in ("xs", "ys", "probs"):
            assert np.array_equal(getattr(a.boundary, field), getattr(b.boundary, field))
    assert (a.confusion is None) == (b.confusion is None)
    if a.confusion is not None:
        assert np.array_equal(a.confusion, b.confusion)


def test_round_trip_of_a_training_run(tmp_path):
    path = tmp_path / "run.sqlite"
    session, events = recorded(path, snapshot_every_steps=3, snapshot_interval_s=0.0, boundary_resolution=12)
    steps = [e for e in events if isinstance(e, StepEvent)]
    snaps = [e for e in events if isinstance(e, Snapshot)]
    with RunReader(path) as run:
        assert run.experiment == SMALL
        assert run.started == events[0] and isinstance(run.started, RunStarted)
        assert run.ended == events[-1] and run.ended.reason == "completed"
        assert run.format_version == schema.FORMAT_VERSION and run.created
        h = run.history()
        assert len(h) == len(steps)
        assert np.array_equal(h.steps, [e.step for e in steps])
        assert np.array_equal(h.train_loss, [e.train_loss for e in steps])
        assert np.array_equal(h.lr, [e.lr for e in steps])
        evals = [e for e in steps if e.val_loss is not None]
        assert np.array_equal(h.eval_steps, [e.step for e in evals])
        assert np.array_equal(h.val_metric, [e.val_metric for e in evals])
        assert run.snapshot_steps() == [s.step for s in snaps]
        for s in snaps:
            assert_snapshot_equal(run.snapshot_at(s.step), s)
        weights = run.weights()
        state = session.model.state_dict()
        assert weights.keys() == state.keys()
        for k, v in state.items():
            assert torch.equal(weights[k], v)
        summary = run.summary()
        assert summary["title"] == "Small moons" and summary["status"] == "completed"
        assert summary["steps"] == steps[-1].step
        assert summary["final"]["val_metric"] == evals[-1].val_metric
    # a cleanly closed run is one self-contained file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.sqlite"]


def test_replay_shows_what_the_live_run_showed(tmp_path):
    path = tmp_path / "run.sqlite"
    exp = Experiment(data=DataSpec(name="iris"), model=ModelSpec(hidden=(6,), activation=("tanh",)),
                     train=TrainSpec(optimizer="sgd", lr=0.1, batch_size=16, epochs=3, seed=2,
                                                                       loss="cross_entropy"))
    _, events = recorded(path, exp, snapshot_every_steps=4, snapshot_interval_s=0.0, boundary_resolution=8)
    shown = None  # the snapshot on screen after each step of the live run
    live = {}
    for e in events:
        if isinstance(e, Snapshot):
            shown = e
        elif isinstance(e, StepEvent):
            live[e.step] = shown
    with RunReader(path) as run:
        assert run.snapshot_at(-1) is None
        for t in live:
            # a snapshot taken at step t comes right after step t's event: it is what step t shows when replayed
            expected = max((s for s in events if isinstance(s, Snapshot) and s.step <= t), key=lambda s: s.step)
            got = run.snapshot_at(t)
            assert_snapshot_equal(got, expected)
            assert got.confusion is not None  # iris has 4 features: the confusion matrix is recorded
            assert live[t] is None or live[t].step <= got.step <= t


KILLED_RUN = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
    from visualizer.core.runs.writer import RunWriter
    from visualizer.core.training.session import TrainingSession
    exp = Experiment(data=DataSpec(name="moons", samples=400), model=ModelSpec(hidden=(16,), activation=("tanh",)),
                     train=TrainSpec(epochs=100000, batch_size=16, seed=3, loss="cross_entropy"))
    session = TrainingSession(exp)
    writer = RunWriter(sys.argv[1], exp, session.prepare())
    for event in session.run():
        writer.add(event)
""")


def test_a_killed_run_leaves_a_readable_file(tmp_path):
    path = tmp_path / "killed.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(path)], env=env, stderr=subprocess.PIPE)
    try:
        deadline, seen = time.monotonic() + 60, 0
        while time.monotonic() < deadline and seen < 100:
            assert proc.poll() is None, proc.stderr.read().decode()
            if path.exists():
                with RunReader(path) as run:
                    seen = len(run.history())
            time.sleep(0.05)
        assert seen >= 100, "the run recorded no steps in time"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    with RunReader(path) as run:
        h = run.history()
        assert len(h) >= seen
        assert np.array_equal(h.steps, np.arange(len(h)))  # every step up to the last commit, none missing
        assert run.ended is None and run.weights() is None
        assert run.snapshot_steps()[0] == 0 and run.snapshot_at(int(h.steps[-1])) is not None
        assert run.summary()["status"] == "unfinished"
        assert run.experiment.train.epochs == 100000


def test_a_reader_follows_a_live_run(tmp_path):
    path = tmp_path / "live.sqlite"
    session = TrainingSession(SMALL, snapshot_every_steps=1, snapshot_interval_s=0.0)
    events = session.run()
    writer = RunWriter(path, SMALL)  # RunStarted comes as the first event
    writer.add(next(events))
    with RunReader(path) as run:
        assert run.started == session.started and len(run.history()) == 0
        counts = []
        for event in events:
            writer.add(event)
            if isinstance(event, Snapshot):  # snapshots commit: the reader sees everything up to here
                run.refresh()
                counts.append(len(run.history()))
                assert run.snapshot_steps()[-1] == event.step
                assert_snapshot_equal(run.snapshot_at(event.step), event)
        assert run.ended is None
        run.refresh()  # the end came after the last snapshot
        assert run.ended is not None and run.ended.reason == "completed"
        writer.close()
        assert counts == sorted(counts) and counts[-1] == session.total_steps + 1 and counts[0] == 1
        assert run.refresh() == 0 and len(run.history()) == session.total_steps + 1


def test_steps_are_committed_in_time_without_snapshots(tmp_path, monkeypatch):
    path = tmp_path / "run.sqlite"
    monkeypatch.setattr(run_writer, "COMMIT_EVERY", 5)
    with RunWriter(path, SMALL) as writer, RunReader(path) as run:
        for step in range(4):
            writer.add(StepEvent(step, 0, 1.0, 0.1, 0.0))
        assert run.refresh() == 0  # not committed yet
        writer.add(StepEvent(4, 0, 1.0, 0.1, 0.0))
        assert run.refresh() == 5
        writer.add(StepEvent(5, 0, 1.0, 0.1, 0.0))
        time.sleep(run_writer.COMMIT_INTERVAL_S + 0.05)
        writer.add(StepEvent(6, 0, 1.0, 0.1, 0.0))
        assert run.refresh() == 2


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.sqlite"
    recorded(path, snapshot_every_steps=1, snapshot_interval_s=0.0)
    return path


def test_a_truncated_file(good_file, tmp_path):
    data = good_file.read_bytes()
    for size in (len(data) // 2, 4096 + 10, 50, 0):
        bad = tmp_path / f"cut{size}.sqlite"
        bad.write_bytes(data[:size])
        with pytest.raises(VisualizerError, match="is not a (readable )?run file") as info:
            with RunReader(bad) as run:
                run.snapshot_at(10**9), run.weights()
        assert str(bad) in str(info.value)
    # with the header's page count marked stale, SQLite itself finds the missing pages
    cut = bytearray(data[: len(data) // 2])
    cut[95] ^= 1
    bad = tmp_path / "stale.sqlite"
    bad.write_bytes(bytes(cut))
    with pytest.raises(VisualizerError, match="is not a readable run file .it is damaged or truncated"):
        with RunReader(bad) as run:
            run.snapshot_at(10**9), run.weights()


def test_random_bytes_and_a_text_file(tmp_path):
    noise = tmp_path / "noise.sqlite"
    noise.write_bytes(np.random.default_rng(0).bytes(20000))
    text = tmp_path / "notes.sqlite"
    text.write_text("title = 'not a run'\n" * 100)
    for path in (noise, text):
        with pytest.raises(VisualizerError, match=r"is not a run file \(it is not an SQLite database\)") as info:
            RunReader(path)
        assert str(info.value).startswith(str(path))


def test_a_damaged_page_gives_a_clear_message(good_file, tmp_path):
    data = bytearray(good_file.read_bytes())
    data[4096:] = np.random.default_rng(1).bytes(len(data) - 4096)  # every page but the first is garbage
    bad = tmp_path / "damaged.sqlite"
    bad.write_bytes(bytes(data))
    with pytest.raises(VisualizerError, match="run file") as info:
        with RunReader(bad) as run:
            run.snapshot_at(10**9), run.weights()
    assert str(bad) in str(info.value)


def test_another_programs_sqlite_file(tmp_path):
    path = tmp_path / "contacts.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE people (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(VisualizerError, match=r"is an SQLite file but not a run file \(no meta table\)"):
        RunReader(path)


def test_a_newer_format_version(good_file, tmp_path):
    path = tmp_path / "future.sqlite"
    path.write_bytes(good_file.read_bytes())
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '3' WHERE key = 'format_version'")
    db.commit()
    db.close()
    with pytest.raises(VisualizerError, match=r"was written by a newer version \(format 3; this program reads up "
                                              r"to 1\)") as info:
        RunReader(path)
    assert str(info.value).startswith(str(path))


def test_a_missing_file(tmp_path):
    with pytest.raises(VisualizerError, match="no such run file"):
        RunReader(tmp_path / "nowhere.sqlite")


def test_never_overwrites_an_existing_file(tmp_path):
    existing = tmp_path / "run.sqlite"
    existing.write_bytes(b"precious")
    with pytest.raises(VisualizerError, match="already exists"):
        RunWriter(existing, SMALL)
    assert existing.read_bytes() == b"precious"
    first = create_run_file(tmp_path, "run", SMALL)
    second = create_run_file(tmp_path, "run.sqlite", SMALL)
    first.close()
    second.close()
    assert (first.path.name, second.path.name) == ("run-2.sqlite", "run-3.sqlite")
    assert existing.read_bytes() == b"precious"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with RunReader(second.path) as run:
        assert run.started is None and run.ended is None and len(run.history()) == 0


def test_record_helper_and_a_failed_run(tmp_path):
    bad = Experiment(data=DataSpec(name="sine", samples=200, seed=0),
                     model=ModelSpec(hidden=(16,), activation=("relu",)),
                     train=TrainSpec(optimizer="sgd", lr=9.0, batch_size=16, epochs=50, loss="mse"))
    run = record(TrainingSession(bad), tmp_path / "diverged.sqlite")
    with run:
        assert run.ended.reason == "diverged"
        assert isinstance(run.ended, RunEnded) and run.ended.step == int(run.history().steps[-1])
        assert run.summary()["status"] == "diverged"
        assert run.weights() is not None


def test_an_experiment_that_would_not_read_back_is_refused(tmp_path):
    wrong = Experiment(train=TrainSpec(optimizer="sgd", lr=1e6))
    with pytest.raises(VisualizerError, match="train.lr"):
        RunWriter(tmp_path / "run.sqlite", wrong)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("title", ["A" * 100, "é" * 100, "数" * 100, "", "---", "moons / SGD: lr=0.1"])
def test_any_title_gives_a_run_file_that_can_be_created(tmp_path, title):
    """Issue 13: a 100-character title stopped the window's run from being recorded (the name was too long)."""
    from visualizer.core.runs.writer import MAX_NAME_BYTES, create_run_file, run_file_name

    name = run_file_name(title, "20261201-120000")
    assert 0 < len(name.encode("utf-8")) <= MAX_NAME_BYTES and "/" not in name
    with create_run_file(tmp_path, name, Experiment(title=title)) as writer:
        assert writer.path.exists()


@pytest.mark.parametrize("array", [np.float32(3.5), np.arange(5), np.linspace(0, 1, 12).reshape(3, 4),
                                   np.linspace(0, 1, 12).reshape(4, 3).T, np.arange(6, dtype=">f4"),
                                   np.zeros((0, 3)), np.array([True, False]), np.arange(24, dtype=np.uint8)[::2],
                                   [1.0, 2.0]], ids=repr)
def test_arrays_are_stored_as_the_bytes_numpy_saves(array):
    import io

    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    assert schema.npy(array) == buf.getvalue() and schema.npy(array) == buf.getvalue()  # a header cached, the same
