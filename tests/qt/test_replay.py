"""The replay window: a run file replayed through the live views shows at step t what the live run showed at t."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from visualizer.core.data import sets as data_module
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.replay import HistoryUpTo
from visualizer.core.runs.writer import RunWriter
from visualizer.core.training.events import Snapshot, StepEvent
from visualizer.core.training.session import TrainingSession
from visualizer.qt.runs.replay_window import ReplayWindow

ROOT = Path(__file__).resolve().parents[2]

MOONS = Experiment(
    data=DataSpec(name="moons", samples=200, noise=0.2, seed=1),
    model=ModelSpec(hidden=(6,), activation=("tanh",)),
    train=TrainSpec(optimizer="adam", lr=0.02, batch_size=32, epochs=10, loss="cross_entropy", seed=5),
    title="Replay moons",
)
SINE = Experiment(
    data=DataSpec(name="sine", samples=100, noise=0.1, seed=0),
    model=ModelSpec(hidden=(6,), activation=("tanh",)),
    train=TrainSpec(optimizer="sgd", lr=0.05, batch_size=32, epochs=3, loss="mse", seed=0),
    title="Replay sine",
)


def record_run(path: Path, exp: Experiment, **options) -> list:
    """Train ``exp`` while recording it; returns every event the live run yielded."""
    session = TrainingSession(exp, **options)
    started = session.prepare()
    events = [started]
    with RunWriter(path, exp, started) as writer:
        for event in session.run():
            events.append(event)
            writer.add(event)
    return events


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("runs")
    events = record_run(folder / "moons.sqlite", MOONS, snapshot_every_steps=3, snapshot_interval_s=0.0,
                        boundary_resolution=10)
    other = MOONS.__class__(data=MOONS.data, model=MOONS.model, title="Other moons",
                            train=TrainSpec(optimizer="sgd", lr=0.1, batch_size=32, epochs=12,
                                            loss="cross_entropy", seed=5))
    record_run(folder / "other.sqlite", other)
    record_run(folder / "sine.sqlite", SINE)
    torch.set_num_threads(threads)
    return folder, events


@pytest.fixture
def window(qtbot, runs):
    w = ReplayWindow(runs[0] / "moons.sqlite")
    qtbot.addWidget(w)
    yield w
    w.close()


def live_state(events: list, t: int):
    steps = [e for e in events if isinstance(e, StepEvent) and e.step <= t]
    snaps = [e for e in events if isinstance(e, Snapshot) and e.step <= t]
    return steps, snaps


def assert_shows(w: ReplayWindow, events: list, t: int) -> None:
    steps, snaps = live_state(events, t)
    assert w.step == t and w.views.loss.cursor == t
    raw = w.views.loss.train_loss_raw
    assert np.array_equal(raw.xData, [e.step for e in steps])
    assert np.array_equal(raw.yData, np.array([e.train_loss for e in steps]))
    evals = [e for e in steps if e.val_loss is not None]
    assert np.array_equal(w.views.loss.val_loss_curve.xData, [e.step for e in evals])
    for bars, layer in zip(w.views.histograms.bars, snaps[-1].layers, strict=True):
        assert np.array_equal(bars.yData, layer.weight_counts)
        assert np.array_equal(bars.xData, layer.weight_edges)
    assert np.array_equal(w.views.hist_time.steps, [s.step for s in snaps])  # one column per snapshot so far
    assert w.timeline.slider.value() == t
    assert w.timeline.position_label.text().startswith(f"step {t} / {w.last} · epoch {steps[-1].epoch}")


def test_opens_at_the_end_with_everything_the_live_run_showed(window, runs):
    events = runs[1]
    last = max(e.step for e in events if isinstance(e, StepEvent))
    assert window.last == last and window.timeline.slider.maximum() == last
    assert_shows(window, events, last)
    assert "completed" in window.header.text() and not window.timeline.follow_check.isEnabled()


def test_scrubbing_back_and_forth_matches_the_live_run(window, runs):
    events = runs[1]
    for t in (0, 1, 7, 8, 7, 30, 4, 0, 49, 20, 23, 22, 21, 50, 2):
        window.go_to(t)
        assert_shows(window, events, t)


def test_slider_moves_are_coalesced_into_one_redraw(window, qtbot, runs):
    for t in (40, 30, 20, 10):
        window.timeline.slider.setValue(t)
    assert window.step == window.last  # nothing drawn yet: the moves wait for the next frame
    qtbot.waitUntil(lambda: window.step == 10, timeout=2000)
    assert_shows(window, runs[1], 10)


def test_snapshot_stepping_and_keys(window, qtbot, runs):
    snap_steps = window.run.snapshot_steps
    window.go_to(10)
    window.next_snapshot()
    after = min(s for s in snap_steps if s > 10)
    assert window.step == after
    window.previous_snapshot()
    assert window.step == max(s for s in snap_steps if s < after)
    window.previous_snapshot()
    assert window.step == max(s for s in snap_steps if s < max(s for s in snap_steps if s < after))
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.step == 0
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.step == window.last
    assert_shows(window, runs[1], window.last)


def test_play_advances_and_stops_at_the_end(window, qtbot):
    window.timeline.speed_combo.setCurrentText("8x")  # the 10 s a short run lasts at 1x: 1.25 s
    window.play()  # from the end: starts again at 0
    assert window.playing and window.step == 0
    qtbot.waitUntil(lambda: 0 < window.step < window.last, timeout=3000)
    qtbot.waitUntil(lambda: not window.playing, timeout=5000)
    assert window.step == window.last


def test_replay_clock_follows_the_run_pace(runs):
    from visualizer.core.runs.replay import ReplayRun

    run = ReplayRun(runs[0] / "moons.sqlite")
    try:
        assert run.duration() == pytest.approx(10.0)  # a run of a fraction of a second is stretched to 10 s
        times = [run.time_at(s) for s in range(run.last_step + 1)]
        assert times[0] == 0.0 and times == sorted(times) and times[-1] == pytest.approx(10.0)
        assert run.step_at_time(0.0) == 0 and run.step_at_time(1e9) == run.last_step
        assert all(run.step_at_time(run.time_at(s)) >= s for s in range(run.last_step + 1))
    finally:
        run.close()


def test_history_up_to_a_step(runs):
    with RunReader(runs[0] / "moons.sqlite") as reader:
        h = reader.history()
        part = HistoryUpTo(h, 12)
        assert len(part) == 13 and part.steps[-1] == 12
        assert np.array_equal(part.eval_steps, h.eval_steps[h.eval_steps <= 12])
        assert len(part.val_loss) == len(part.eval_steps) == len(part.train_metric)


def test_compare_overlays_another_run(window, runs):
    loss = window.views.loss
    assert window.compare_with(runs[0] / "other.sqlite")
    with RunReader(runs[0] / "other.sqlite") as other:
        h = other.history()
        assert np.array_equal(loss.overlay_loss.xData, h.steps)
        assert np.array_equal(loss.overlay_val_metric.yData, h.val_metric)
    assert loss.overlay_loss.isVisible() and loss.overlay_val_metric.isVisible()
    assert loss.overlay_name == "Other moons"
    assert loss.loss_legend.getLabel(loss.overlay_loss).text == "Other moons (dashed)"
    assert "Other moons" in window.message_text()
    window.go_to(5)  # going back rebuilds the views: the comparison stays
    assert loss.overlay_loss.isVisible() and loss.loss_plot.vb.viewRange()[0][1] >= h.steps[-1]
    window.clear_comparison()
    assert not loss.overlay_loss.isVisible() and loss.loss_legend.getLabel(loss.overlay_loss) is None


def test_compare_draws_the_other_path_on_the_landscape_plane(window, qtbot, runs):
    from visualizer.core.landscape.plane import project

    window.show()
    views = window.views
    views.right_tabs.setCurrentWidget(views.landscape)
    landscape = views.landscape
    qtbot.waitUntil(lambda: landscape.surface is not None and landscape.surface.fine, timeout=30000)
    assert window.compare_with(runs[0] / "other.sqlite")
    with RunReader(runs[0] / "other.sqlite") as other:
        theirs = np.stack([s.params for s in other.snapshots()])
    label, points = landscape.plot2d.compared
    a, b, _ = project(theirs, *landscape.current_plane())
    assert label == "Other moons" and landscape.plot2d.compare_path.isVisible()
    np.testing.assert_allclose(points, np.column_stack([a, b]), rtol=1e-6, atol=1e-9)
    window.clear_comparison()
    assert landscape.plot2d.compared is None and not landscape.plot2d.compare_path.isVisible()


def test_compare_with_another_metric_shows_only_the_loss(window, runs):
    assert window.compare_with(runs[0] / "sine.sqlite")
    loss = window.views.loss
    assert loss.overlay_loss.isVisible() and not loss.overlay_val_metric.isVisible()
    assert "R²" in window.message_text() and "only its loss" in window.message_text()


def test_compare_with_a_damaged_file_says_why(window, tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 10)
    assert not window.compare_with(bad)
    assert "not a run file" in window.message_text()
    assert not window.views.loss.overlay_loss.isVisible()


def test_replays_without_the_data_when_it_cannot_be_loaded(qtbot, runs, monkeypatch):
    def fail(*args, **kwargs):
        raise VisualizerError("data.csv: no such file")

    monkeypatch.setattr(data_module, "load_dataset", fail)
    w = ReplayWindow(runs[0] / "moons.sqlite")
    qtbot.addWidget(w)
    assert "could not be loaded" in w.message_text() and "data.csv" in w.message_text()
    w.go_to(9)
    assert_shows(w, runs[1], 9)
    w.close()


def test_export_views(window, tmp_path):
    window.go_to(20)
    written = window.export_views(tmp_path / "out", "png")
    names = {p.name for p in written}
    assert {"loss.png", "histograms.png"} <= names and all(p.stat().st_size > 1000 for p in written)


def test_closing_stops_every_timer(qtbot, runs):
    w = ReplayWindow(runs[0] / "moons.sqlite")
    qtbot.addWidget(w)
    w.play()
    w.timeline.follow_check.setEnabled(True)
    w.timeline.follow_check.setChecked(True)
    w.timeline.slider.setValue(3)
    assert w.playing and w.following
    with qtbot.waitSignal(w.closed):
        w.close()
    assert not w.playing and not w.following and not w._scrub_timer.isActive()


LIVE_EXPERIMENT = """
title = "Live moons"
[data]
name = "moons"
samples = 400
seed = 1
[model]
hidden = [8]
activation = "tanh"
[train]
optimizer = "adam"
lr = 0.01
batch_size = 8
epochs = 2000
loss = "cross_entropy"
seed = 0
"""


def test_follows_a_live_run_and_opens_it_after_a_kill(qtbot, tmp_path):
    exp = tmp_path / "live.toml"
    exp.write_text(LIVE_EXPERIMENT)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "visualizer", "run", str(exp), "--out", str(out), "--quiet",
                             "--no-plots"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path = out / "run.sqlite"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            if path.exists():
                with RunReader(path) as reader:
                    if len(reader.history()) > 5:
                        break
            time.sleep(0.1)
        w = ReplayWindow(path)
        qtbot.addWidget(w)
        assert w.following and w.timeline.follow_check.isChecked() and "being written" in w.header.text()
        first = w.last
        assert w.step == first
        qtbot.waitUntil(lambda: w.last > first + 50, timeout=15000)
        assert w.step == w.last  # the cursor was at the end: it stays there
        assert w.timeline.slider.maximum() == w.last
        w.go_to(3)  # away from the end: the cursor stays where the user put it
        grown = w.last
        qtbot.waitUntil(lambda: w.last > grown, timeout=15000)
        assert w.step == 3
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    w.close()
    assert not w.following
    killed = ReplayWindow(path)
    qtbot.addWidget(killed)
    with RunReader(path) as reader:
        last = int(reader.history().steps[-1])
        assert reader.ended is None
    assert killed.last == last and killed.step == last
    assert "incomplete" in killed.header.text() or "being written" in killed.header.text()
    killed.close()


def test_a_run_without_an_end_is_followed_only_while_its_file_changes(qtbot, tmp_path, monkeypatch):
    from visualizer.core.training.events import RunEnded
    from visualizer.qt.runs import replay_window as window_module

    path = tmp_path / "cut.sqlite"
    session = TrainingSession(SINE)
    with RunWriter(path, SINE, session.prepare()) as writer:
        for event in session.run():
            if not isinstance(event, RunEnded):
                writer.add(event)
    monkeypatch.setattr(window_module, "LIVE_S", 0.0)  # as if the file had not changed for a long time
    w = ReplayWindow(path)
    qtbot.addWidget(w)
    assert not w.following and w.timeline.follow_check.isEnabled() and "incomplete" in w.header.text()
    assert w.step == w.last == session.total_steps
    w.close()
    monkeypatch.setattr(window_module, "LIVE_S", 1e9)
    w = ReplayWindow(path)
    qtbot.addWidget(w)
    assert w.following and "being written" in w.header.text()
    w.close()


def test_theme(window, runs):
    window.compare_with(runs[0] / "other.sqlite")
    window.set_theme("dark")
    loss = window.views.loss
    assert loss.theme == "dark"
    assert loss.overlay_loss.opts["pen"].color().name() == "#5aa9ef"
    assert loss.overlay_loss.opts["pen"].style() == Qt.PenStyle.DashLine


def test_exports_an_animation_in_a_child_process(window, qtbot, tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "anim"
    progress = []
    window.animation.progress.connect(lambda *args: progress.append(args))
    with qtbot.waitSignal(window.animation.finished, timeout=180000) as done:
        assert window.export_animation(out, "landscape", formats=("gif",), frames=4)
        assert window.cancel_animation.isEnabled()
        assert not window.export_animation(out, "loss")  # one at a time
    ok, message = done.args
    assert progress == [("landscape", i, 4) for i in (1, 2, 3, 4)]
    assert not window.cancel_animation.isEnabled()
    assert ok, message
    assert "landscape.gif" in message and message in window.message_text()
    frames = iio.imread(out / "landscape.gif", index=None)
    assert frames.shape[0] == 4 and frames.shape[1:3] == (700, 1000)


def test_an_animation_export_can_be_cancelled(window, qtbot, tmp_path):
    assert window.export_animation(tmp_path / "anim", "landscape", formats=("gif",), frames=60)
    window.cancel_animation.trigger()
    assert not window.animation.running and not window.cancel_animation.isEnabled()
    assert "cancelled" in window.message_text()


def test_a_failed_animation_export_is_a_message(window, qtbot, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with qtbot.waitSignal(window.animation.finished, timeout=180000) as done:
        window.export_animation(blocker / "sub", "loss", formats=("gif",), frames=2)
    ok, message = done.args
    assert not ok and message.startswith("The animation was not written:")


def test_the_fruit_csv_run_replays_with_its_points_from_another_directory(qtbot, tmp_path, monkeypatch):
    """The preset's CSV path is relative to the preset; the run file records it absolute."""
    from dataclasses import replace

    from visualizer.core import experiment
    from visualizer.core.runs.writer import record

    preset = ROOT / "resources" / "experiments" / "fruit_csv.toml"
    exp = experiment.load(preset)
    exp = replace(exp, train=replace(exp.train, epochs=2))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        record(TrainingSession(exp, preset.parent, snapshot_every_steps=5, snapshot_interval_s=0.0),
               tmp_path / "fruit.sqlite").close()
    finally:
        torch.set_num_threads(threads)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    w = ReplayWindow(tmp_path / "fruit.sqlite")
    qtbot.addWidget(w)
    expected = data_module.load_dataset(exp.data, preset.parent)
    assert "could not be loaded" not in w.message_text()
    assert w._dataset is not None and w.views.landscape._dataset is w._dataset
    assert np.array_equal(w._dataset.X_train, expected.X_train) and w._dataset.class_names == expected.class_names
    w.close()
