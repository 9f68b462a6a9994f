"""The replay window's animation export shows what the window shows (issue 11, part 6): the child process draws the
landscape on the plane and grid of the window's landscape tab; only the animations that apply to the run are
offered."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.landscape.plane import project
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.writer import record
from visualizer.core.training.session import TrainingSession
from visualizer.qt.runs.replay_window import ReplayWindow

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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("animation")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, exp in (("moons", MOONS), ("sine", SINE)):
            record(TrainingSession(exp, snapshot_every_steps=3, snapshot_interval_s=0.0),
                   folder / f"{name}.sqlite").close()
    finally:
        torch.set_num_threads(threads)
    return folder


def _rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_animation_is_drawn_on_the_plane_the_window_shows(qtbot, runs, tmp_path):
    window = ReplayWindow(runs / "moons.sqlite")
    qtbot.addWidget(window)
    window.show()
    views = window.views
    views.right_tabs.setCurrentWidget(views.landscape)
    tab = views.landscape
    # not what the export would choose by itself (PCA, 61 x 61, around the final weights)
    tab.directions_combo.setCurrentIndex(tab.directions_combo.findData("random"))
    tab.resolution_combo.setCurrentText("21")
    tab.span_combo.setCurrentText("±0.5")
    middle = window.run.snapshot_steps[len(window.run.snapshot_steps) // 2]
    window.go_to(middle)  # the plane goes through the weights shown, not the final ones
    qtbot.waitUntil(lambda: tab.surface is not None and tab.surface.fine and len(tab.surface.alphas) == 21,
                    timeout=60000)
    shown = tab.surface
    with RunReader(runs / "moons.sqlite") as reader:
        snapshots = reader.trajectory()
    assert not np.allclose(shown.center, snapshots.params[-1])

    out = tmp_path / "anim"
    with qtbot.waitSignal(window.animation.finished, timeout=180000) as done:
        assert window.export_animation(out, "landscape", formats=("gif", "csv"), frames=2)
    ok, message = done.args
    assert ok, message
    assert (out / "landscape.gif").exists()
    surface = _rows(out / "landscape.csv")
    alphas = sorted({float(r["alpha"]) for r in surface})
    betas = sorted({float(r["beta"]) for r in surface})
    assert alphas == shown.alphas.tolist() and betas == shown.betas.tolist()  # the window's grid, exactly
    loss = np.array([float(r["loss"]) for r in surface]).reshape(len(betas), len(alphas))
    np.testing.assert_allclose(loss, shown.loss, rtol=1e-4)  # the window's surface
    path = _rows(out / "landscape_trajectory.csv")
    assert [int(r["step"]) for r in path] == snapshots.steps.tolist()
    a, b, dist = project(snapshots.params, shown.center, shown.d1, shown.d2)  # on the window's plane vectors
    np.testing.assert_allclose([float(r["alpha"]) for r in path], a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([float(r["beta"]) for r in path], b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([float(r["distance"]) for r in path], dist, rtol=1e-4, atol=1e-5)
    assert not list(tmp_path.glob("**/plane.npz"))  # the plane file handed to the child is gone with it
    window.close()


def test_before_a_surface_the_tab_s_options_are_passed(qtbot, runs):
    from visualizer.qt.runs.animation_export import shown_landscape

    window = ReplayWindow(runs / "moons.sqlite")
    qtbot.addWidget(window)
    tab = window.views.landscape  # never shown: no surface drawn
    tab.directions_combo.setCurrentIndex(tab.directions_combo.findData("random"))
    tab.bias_check.setChecked(True)
    tab.resolution_combo.setCurrentText("81")
    tab.span_combo.setCurrentText("±2")
    shown = shown_landscape(tab)
    assert shown.plane is None
    assert shown.arguments(runs) == ["--directions", "random", "--resolution", "81", "--span", "2.0",
                                     "--include-bias-bn"]
    window.close()


def test_only_the_animations_that_apply_are_offered(qtbot, runs, tmp_path):
    moons = ReplayWindow(runs / "moons.sqlite")
    sine = ReplayWindow(runs / "sine.sqlite")
    for w in (moons, sine):
        qtbot.addWidget(w)
    assert moons.animation_views() == ["loss", "landscape", "histograms", "boundary"]
    assert sine.animation_views() == ["loss", "landscape", "histograms"]  # regression: no decision boundary
    assert list(sine.animation_actions) == sine.animation_views()
    menu = sine.findChild(type(sine.menuBar().actions()[0].menu()), "animationMenu")
    assert menu.title() == "Export &animation (GIF and MP4)"
    assert "Decision boundary" not in [a.text() for a in menu.actions()]
    assert not sine.export_animation(tmp_path, "boundary")
    assert "no boundary animation" in sine.message_text() and not sine.animation.running
    for w in (moons, sine):
        w.close()
