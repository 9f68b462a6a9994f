"""The live loss-landscape view: surface, path, honesty numbers, 1-D line, worker hygiene, window flow."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.landscape.directions import project
from visualizer.core.landscape.live import SurfaceRequest
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model
from visualizer.core.training.session import TrainingSession
from visualizer.qt.landscape.view import LandscapeView
from visualizer.qt.landscape.worker import THREAD_NAME, LandscapeService

MOONS = Path(__file__).parents[2] / "resources" / "experiments" / "moons.toml"


def landscape_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


@pytest.fixture(scope="module")
def run():
    """A short moons run: (experiment, dataset, snapshots)."""
    exp = experiment.load(MOONS)
    exp = replace(exp, model=replace(exp.model, hidden=[8]), train=replace(exp.train, epochs=4))
    ds = load_dataset(exp.data)
    exp = experiment.resolve(exp, ds)
    session = TrainingSession(exp, dataset=ds, snapshot_every_steps=10, snapshot_interval_s=0.0)
    snaps = [e for e in session.run() if type(e).__name__ == "Snapshot"]
    return exp, ds, snaps


def direct_loss(exp, ds, flat) -> float:
    """The loss at flat weights, computed as the session measures it (evaluation mode, whole training set)."""
    info = LOSSES[exp.train.loss]
    model = build_model(exp.model, ds.n_features, info.output_size(ds.task, ds.n_classes)).eval()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(flat), model.parameters())
    with torch.no_grad():
        return float(info(model(torch.as_tensor(ds.X_train)), torch.as_tensor(ds.y_train), ds.task))


@pytest.fixture
def view(qtbot, run):
    exp, ds, _ = run
    v = LandscapeView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    v.set_dataset(ds)
    v.set_experiment(exp)
    yield v
    v.shutdown()
    assert not landscape_threads()


def wait_fine(qtbot, v: LandscapeView) -> None:
    qtbot.waitUntil(lambda: v.surface is not None and v.surface.fine and not v.worker.busy()
                    and v.surface.request_id == max(v.worker.completed, default=-1), timeout=20000)


def test_surface_path_and_honesty(view, qtbot, run):
    exp, ds, snaps = run
    view.directions_combo.setCurrentIndex(view.directions_combo.findData("random"))  # a plane the path leaves
    half = len(snaps) // 2
    view.add_snapshots(snaps[:half])
    view.finish()
    wait_fine(qtbot, view)
    assert view.surface.loss.shape == (41, 41) and np.isfinite(view.surface.loss).all()
    view.add_snapshots(snaps[half:])  # the plane stays; the path moves on it
    assert len(view.trajectory) == len(snaps) == view.snapshot_count
    center, d1, d2 = view.current_plane()
    np.testing.assert_allclose(view.trajectory[:, 0], project(np.stack([s.params for s in snaps]), center, d1, d2)[0])
    qtbot.waitUntil(lambda: view.honesty_numbers()["true_loss"] is not None, timeout=10000)
    h = view.honesty_numbers()
    theta = snaps[-1].params
    a, b, dist = project(theta, center, d1, d2)
    assert h["distance"] == pytest.approx(dist) and dist > 0
    assert h["relative_distance"] == pytest.approx(dist / np.linalg.norm(theta.astype(np.float64)))
    assert h["true_loss"] == pytest.approx(direct_loss(exp, ds, theta), rel=1e-5)
    assert "distance from the plane" in view.honesty.text()
    # the 1-D line of the last surface: α = 0 at the initial weights, α = 1 at the weights it was centred on
    alphas, line = view.line.data
    assert line[np.isclose(alphas, 0)][0] == pytest.approx(direct_loss(exp, ds, snaps[0].params), rel=1e-5)
    assert line[np.isclose(alphas, 1)][0] == pytest.approx(direct_loss(exp, ds, view.surface.center), rel=1e-5)


def test_the_surface_and_path_export_as_csv(view, qtbot, run, tmp_path):
    import csv

    _, _, snaps = run
    view.add_snapshots(snaps)
    view.finish()
    wait_fine(qtbot, view)
    r = view.surface
    view.write_csv(tmp_path / "landscape.csv")
    rows = list(csv.DictReader((tmp_path / "landscape.csv").read_text().splitlines()))
    assert len(rows) == r.loss.size and set(rows[0]) == {"alpha", "beta", "loss", "accuracy"}
    k = 7 * len(r.alphas) + 3  # row-major: beta i, alpha j
    assert float(rows[k]["alpha"]) == r.alphas[3] and float(rows[k]["beta"]) == r.betas[7]
    assert float(rows[k]["loss"]) == r.loss[7, 3]
    path = list(csv.DictReader((tmp_path / "landscape_trajectory.csv").read_text().splitlines()))
    assert [int(p["step"]) for p in path] == [s.step for s in snaps]
    np.testing.assert_allclose([float(p["alpha"]) for p in path], view.trajectory[:, 0], rtol=1e-6, atol=1e-9)


def test_a_long_path_is_thinned_keeping_its_ends(view, qtbot, run, monkeypatch):
    import visualizer.qt.landscape.view as lv

    monkeypatch.setattr(lv, "MAX_PATH_SNAPSHOTS", 10)
    _, _, snaps = run
    many = [replace(snaps[k % len(snaps)], step=k) for k in range(25)]
    view.add_snapshots(many[:3])
    view.finish()
    wait_fine(qtbot, view)
    for k in range(3, 25):
        view.add_snapshots([many[k]])
    assert view.snapshot_count <= 10 and len(view.trajectory) == view.snapshot_count
    steps = view._steps
    assert steps[0] == 0 and steps[-1] == 24 and steps == sorted(steps)
    a, b, _ = project(np.stack([many[s].params for s in steps]), *view.current_plane())
    np.testing.assert_allclose(view.trajectory, np.column_stack([a, b]), rtol=1e-6, atol=1e-9)


def test_two_chosen_weights_are_the_exact_slice(view, qtbot, run):
    exp, ds, snaps = run
    view.add_snapshots(snaps)
    view.directions_combo.setCurrentText("Two weights")
    assert all(spin.isVisible() for spin in view.weight_spins)
    view.weight_spins[0].setValue(3)
    view.weight_spins[1].setValue(20)
    view.finish()
    qtbot.waitUntil(lambda: view.surface is not None and view.surface.directions == "weights"
                    and view.surface.fine and not view.worker.busy(), timeout=20000)
    r = view.surface
    assert int(np.argmax(r.d1)) == 3 and int(np.argmax(r.d2)) == 20 and r.d1.sum() == 1 and r.d2.sum() == 1
    assert view.plot2d.plot.getAxis("bottom").labelText == "α (weight θ[3])"
    i, j = 5, 30  # one grid point, recomputed by setting the two weights by hand
    theta = np.array(r.center, np.float64)
    theta[3] += r.alphas[j]
    theta[20] += r.betas[i]
    assert r.loss[i, j] == pytest.approx(direct_loss(exp, ds, theta.astype(np.float32)), rel=1e-4)
    view.directions_combo.setCurrentIndex(0)
    assert not any(spin.isVisible() for spin in view.weight_spins)


def test_random_directions_can_include_the_biases(view, qtbot, run):
    _, _, snaps = run
    view.directions_combo.setCurrentIndex(view.directions_combo.findData("random"))
    view.add_snapshots(snaps)
    view.finish()
    wait_fine(qtbot, view)
    biases = np.r_[np.arange(16, 24), np.arange(40, 42)]  # moons 2-8-2: the flat indices of the biases
    assert not view.surface.d1[biases].any()
    view.bias_check.setChecked(True)
    qtbot.waitUntil(lambda: view.surface.d1[biases].any() and view.surface.fine, timeout=20000)
    np.testing.assert_allclose(np.abs(view.surface.d1[biases]), np.abs(view.surface.center[biases]), rtol=1e-6)
    view.directions_combo.setCurrentIndex(1)
    assert not view.bias_check.isVisible()


def test_pca_and_hessian_planes_say_what_their_axes_are(view, qtbot, run):
    _, _, snaps = run
    view.add_snapshots(snaps)
    view.directions_combo.setCurrentIndex(1)  # PCA
    wait_fine(qtbot, view)
    assert view.surface.directions == "pca" and view.surface.explained_variance is not None
    assert "% of variance" in view.plot2d.plot.getAxis("bottom").labelText
    view.directions_combo.setCurrentIndex(2)  # Hessian
    wait_fine(qtbot, view)
    assert view.surface.directions == "hessian" and "λ" in view.plot2d.plot.getAxis("left").labelText
    assert "<u>Hessian</u> eigenvalues" in view.honesty.text()


def test_3d_falls_back_to_2d_with_a_message_offscreen(view):
    view.view_combo.setCurrentText("3-D")
    assert view.plot3d is None
    assert view.stack.currentWidget() is view.plot2d and view.view_combo.currentText() == "2-D"
    assert not view.message.isHidden() and "OpenGL" in view.message.text()
    view.view_combo.setCurrentText("1-D line")
    assert view.stack.currentWidget() is view.line


def test_marked_points_are_projected_onto_the_plane(view, qtbot, run):
    _, _, snaps = run
    view.add_snapshots(snaps)
    view.finish()
    wait_fine(qtbot, view)
    pruned = snaps[-1].params * (np.abs(snaps[-1].params) > 0.2)
    view.mark_points("pruned", pruned, "#ff2d55")
    a, b, dist = project(pruned, *view.current_plane())
    assert dist > 0  # the label says how far off the plane the marked weights are
    assert view.plot2d.marked == [(f"pruned, {dist:.3g} off the plane", pytest.approx(a), pytest.approx(b))]
    view.mark_points("pruned", None)
    assert view.plot2d.marked == []


def test_a_newer_request_supersedes_an_older_one(run, qtbot):
    exp, ds, snaps = run
    worker = LandscapeService()
    worker.configure(exp, ds)
    try:
        with worker.requests._cond:  # both submitted before the worker can take the first: it never starts
            worker.submit(SurfaceRequest(1, snaps[-1].params, resolution=31, coarse=False))
            worker.submit(SurfaceRequest(2, snaps[-1].params, resolution=11, coarse=False))
        qtbot.waitUntil(lambda: not worker.busy(), timeout=20000)
        assert worker.completed == [2]
        worker.submit(SurfaceRequest(3, snaps[0].params, resolution=161, coarse=False))  # taken, then superseded
        qtbot.waitUntil(lambda: worker.busy() and not worker.requests._pending, timeout=20000)  # it was taken
        worker.submit(SurfaceRequest(4, snaps[0].params, resolution=11, coarse=False))
        qtbot.waitUntil(lambda: not worker.busy(), timeout=20000)
    finally:
        assert worker.shutdown()
    assert worker.completed == [2, 4]
    assert not landscape_threads()


def test_clear_joins_the_landscape_thread(view, qtbot, run):
    _, _, snaps = run
    view.add_snapshots(snaps)
    assert view.worker.is_alive()
    view.clear()
    assert not landscape_threads() and view.trajectory.shape == (0, 2) and view.surface is None
    # the plots are emptied, not stripped of their items (PlotWidget's own clear() would remove them)
    assert view.line.curve in view.line.plot.items and view.plot2d.path in view.plot2d.plot.items


def test_window_flow_shows_a_live_surface_and_joins_on_close(qtbot):
    from visualizer.core.session_model import FINISHED
    from visualizer.qt.app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.finish_setup(MOONS)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=15000)
    views = window.views
    views.right_tabs.setCurrentWidget(views.landscape)
    views.set_experiment(experiment.resolve(window.experiment, window.dataset))
    received = []
    window.bridge.frame.connect(lambda frame: received.extend(frame.snapshots))
    window._on_train()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    lv = views.landscape
    wait_fine(qtbot, lv)
    assert np.isfinite(lv.plot2d.image.image).all() and lv.plot2d.image.image.shape == (41, 41)
    assert len(lv.trajectory) == len(received) == lv.snapshot_count
    np.testing.assert_allclose(lv.surface.center, received[-1].params)
    window.close()
    assert not landscape_threads()


def test_a_registered_direction_is_offered_and_drawn(qtbot, run, monkeypatch):
    """Adding a kind of plane is one registry entry: the tab offers it (with its description as the tooltip) and
    draws the surface on it with its axis titles."""
    from PySide6.QtCore import Qt

    from visualizer.core.landscape import planes

    exp, ds, snaps = run

    def axes(inputs):
        n = inputs.center.size
        return np.eye(n, dtype=np.float32)[0], np.eye(n, dtype=np.float32)[n - 1], {}

    monkeypatch.setitem(planes.DIRECTIONS, "first_last", planes.DirectionInfo(
        "first_last", "First and last weight", "The first and the last weight as the axes", axes,
        lambda plane: ("α (first weight)", "β (last weight)"), fits_path=False))
    v = LandscapeView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    v.set_dataset(ds)
    v.set_experiment(exp)
    try:
        k = v.directions_combo.findText("First and last weight")
        assert k >= 0 and v.directions_combo.itemData(k, Qt.ItemDataRole.ToolTipRole).startswith("The first and")
        v.directions_combo.setCurrentIndex(k)
        v.add_snapshots(snaps)
        v.finish()
        wait_fine(qtbot, v)
        assert v.surface.directions == "first_last" and v.surface.d2[-1] == 1.0
        assert v.plot2d.plot.getAxis("bottom").labelText == "α (first weight)"
    finally:
        v.shutdown()


def test_the_first_look_is_the_pca_plane_where_the_path_shows(view, qtbot, run):
    """By default the path lies in the plane (PCA of the path): its start and end are apart on the plot; before
    there are 3 snapshots a random plane stands in, and the status says so."""
    _, _, snaps = run
    assert view.directions_combo.currentData() == "pca"
    view.add_snapshots(snaps[:2])
    view.finish()
    wait_fine(qtbot, view)
    assert view.surface.directions == "random" and "random directions until then" in view.status.text()
    view.add_snapshots(snaps[2:])
    view.finish()
    qtbot.waitUntil(lambda: view.surface.directions == "pca" and view.surface.fine, timeout=20000)
    path = view.trajectory
    span = np.ptp(path, axis=0).max()
    assert np.linalg.norm(path[0] - path[-1]) > 0.2 * span > 0  # start and end markers do not stack


def test_a_full_speed_moons_run_gives_a_smooth_path(main_window, qtbot):
    """Snapshots by progress: a moons run of ~1,500 steps (about a second at full speed) yields at least 100
    snapshots, and the landscape path drawn has a point for each."""
    from visualizer.core.session_model import FINISHED

    window = main_window
    window.views.right_tabs.setCurrentWidget(window.views.landscape)
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=120000)
    view = window.views.landscape
    qtbot.waitUntil(lambda: view.surface is not None and view.surface.fine, timeout=60000)
    assert view.snapshot_count >= 100
    assert len(view.trajectory) == view.snapshot_count
    assert len(window.views.hist_time.steps) >= 100
