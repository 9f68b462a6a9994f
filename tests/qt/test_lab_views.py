"""The lab's views in the window: Sharpness and Health tabs fed live Measured events and a replay's measures up to
its step; both themes and presentation scale; export to PNG, SVG and CSV; the spectrum plot."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest

from visualizer.core.experiment import DataSpec, Experiment, LabSpec, ModelSpec, TrainSpec
from visualizer.core.runs.writer import record
from visualizer.core.training.events import Measured, RunStarted, StepEvent
from visualizer.core.training.session import TrainingSession
from visualizer.qt.lab.spectrum_plot import SpectrumPlot
from visualizer.qt.runs.replay_window import ReplayWindow
from visualizer.qt.training.bridge import Frame
from visualizer.qt.training.views import TrainingViews

EXP = Experiment(data=DataSpec(name="moons", samples=200, seed=0),
                 model=ModelSpec(hidden=(8, 8), activation=("relu", "tanh")),
                 train=TrainSpec(optimizer="gd", lr=0.2, batch_size=0, epochs=40, loss="cross_entropy"),
                 lab=LabSpec(sharpness_every=5, health_every=5), title="Lab views")


@pytest.fixture(scope="module")
def events():
    """Measured in the loop: one Measured a step with both measures (a warm measuring process on an idle machine
    sends the sharpness in events of its own: test_measures_split_over_events_draw_the_same)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("VISUALIZER_LAB_WORKER", "inline")
    try:
        return list(TrainingSession(EXP).run())
    finally:
        mp.undo()


def _feed(views, events):
    from visualizer.core.training.history import History

    history = History()
    started = next(e for e in events if isinstance(e, RunStarted))
    views.begin(started)
    frame = Frame(steps=[e for e in events if isinstance(e, StepEvent)],
                  measures=[e for e in events if isinstance(e, Measured)])
    history.extend(frame.steps)
    views.show_frame(history, frame)


def test_live_frames_draw_sharpness_with_its_threshold_and_every_layers_health(qtbot, events):
    views = TrainingViews()
    qtbot.addWidget(views)
    _feed(views, events)
    expected = [(e.step, dict((n, v) for n, _layer, v in e.rows)) for e in events if isinstance(e, Measured)]
    x, y = views.lab.sharpness.curve.getData()
    assert list(x) == [s for s, _ in expected] == list(range(0, 41, 5))
    np.testing.assert_allclose(y, [rows["sharpness"] for _, rows in expected])
    _, threshold = views.lab.sharpness.threshold.getData()
    np.testing.assert_allclose(threshold, 2 / 0.2)
    assert views.lab.sharpness_tab.currentWidget() is views.lab.sharpness
    layers = {layer for (_panel, layer) in views.lab.health._curves}
    assert layers == {"layer 1 (2→8)", "layer 2 (8→8)", "output (8→2)"}
    steps, ratio = views.lab.health._curves[(1, "output (8→2)")].getData()  # a log axis: log10 of the values
    measured = [(e.step, v) for e in events if isinstance(e, Measured) for n, layer, v in e.rows
                if n == "update_ratio" and layer == "output (8→2)"]
    assert list(steps) == [s for s, _ in measured] == list(range(5, 41, 5))  # none before the first step
    np.testing.assert_allclose(10 ** ratio, [v for _, v in measured], rtol=1e-6)
    tabs = [views.right_tabs.tabText(i) for i in range(views.right_tabs.count())]
    assert "Sharpness" in tabs and "Health" in tabs


def test_both_themes_and_export_to_png_svg_and_csv(qtbot, events, tmp_path):
    from visualizer.qt.runs.export_files import plot_csv

    views = TrainingViews(theme="dark")
    qtbot.addWidget(views)
    _feed(views, events)
    for theme in ("light", "dark", "contrast"):
        views.set_theme(theme)
        assert views.lab.sharpness.theme == theme and views.lab.health.theme == theme
    written = {p.name for fmt in ("png", "svg") for p in views.export(tmp_path, fmt)}
    assert {"sharpness.png", "sharpness.svg", "health.png", "health.svg"} <= written
    assert all((tmp_path / name).stat().st_size > 1000 for name in written)
    plot_csv(views.lab.sharpness, tmp_path / "sharpness.csv")
    rows = list(csv.reader((tmp_path / "sharpness.csv").read_text().splitlines()))
    assert rows[0] == ["step", "sharpness", "threshold"] and len(rows) == 1 + 9
    assert float(rows[1][2]) == pytest.approx(10.0)
    plot_csv(views.lab.health, tmp_path / "health.csv")
    rows = list(csv.reader((tmp_path / "health.csv").read_text().splitlines()))
    names = {r[0] for r in rows[1:]}
    assert names == {"grad_norm", "update_ratio", "weight_norm", "dead_relu_fraction", "saturated_fraction"}


def test_a_run_without_measures_shows_how_to_turn_them_on(qtbot):
    views = TrainingViews()
    qtbot.addWidget(views)
    _feed(views, list(TrainingSession(replace(EXP, lab=LabSpec())).run()))
    note = views.lab.sharpness_tab.currentWidget()
    assert note is not views.lab.sharpness and "sharpness_every" in note.text()
    assert views.lab.health_tab.currentWidget() is not views.lab.health
    assert "sharpness" not in views.figures() and "health" not in views.figures()


def test_replay_shows_the_measures_up_to_its_step(qtbot, tmp_path):
    with record(TrainingSession(EXP), tmp_path / "run.sqlite"):
        pass
    window = ReplayWindow(tmp_path / "run.sqlite")
    qtbot.addWidget(window)
    window.go_to(40)
    assert list(window.views.lab.sharpness.curve.getData()[0]) == list(range(0, 41, 5))
    window.go_to(17)
    assert list(window.views.lab.sharpness.curve.getData()[0]) == [0, 5, 10, 15]
    steps = window.views.lab.health._curves[(0, "output (8→2)")].getData()[0]
    assert steps.max() == 15


def test_spectrum_plot_draws_the_density_and_the_top_eigenvalues(qtbot, tmp_path):
    from visualizer.core.lab.spectrum import hessian_spectrum
    from visualizer.qt.plots import export_widget

    diag = np.array([1.0] * 30 + [4.0] * 5 + [10.0])
    import torch

    spec = hessian_spectrum(lambda v: torch.as_tensor(diag) * v, 36, k=3, probes=2, steps=12)
    plot = SpectrumPlot(theme="dark")
    qtbot.addWidget(plot)
    plot.set_spectrum(spec)
    x, _ = plot.top.getData()
    np.testing.assert_allclose(sorted(x), [4.0, 4.0, 10.0])
    export_widget(plot, tmp_path / "spectrum.png", 900, 600)
    plot.write_csv(tmp_path / "spectrum.csv")
    assert (tmp_path / "spectrum.png").stat().st_size > 1000
    assert len((tmp_path / "spectrum.csv").read_text().splitlines()) == 1 + len(spec.grid)


@pytest.mark.slow
def test_the_edge_of_stability_lesson_shows_the_sharpness_reaching_two_over_eta(main_window, qtbot):
    from visualizer.core.session_model import FINISHED

    window = main_window
    found = [a for a in window.acts.presets_menu.actions() if a.objectName() == "lesson_edge_of_stability"]
    assert len(found) == 1
    found[0].trigger()
    assert window.views.right_tabs.currentWidget() is window.views.lab.sharpness_tab
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=120000)
    qtbot.waitUntil(lambda: len(window.views.lab.sharpness._steps) == 201, timeout=10000)
    x, y = window.views.lab.sharpness.curve.getData()
    assert y[0] < 0.6 * 25 and np.max(y) > 25  # rises from far below 2/η = 25 to beyond it
    assert abs(np.median(y[-50:]) - 25) < 0.15 * 25  # and hovers there


def test_presentation_scale_thickens_the_lab_curves(qtbot, events):
    from visualizer.qt.plots._style import set_presentation_scale

    views = TrainingViews()
    qtbot.addWidget(views)
    _feed(views, events)
    normal = views.lab.sharpness.curve.opts["pen"].widthF()
    set_presentation_scale(1.5, 2.0)
    try:
        views.set_theme("contrast")
        assert views.lab.sharpness.curve.opts["pen"].widthF() == pytest.approx(2 * normal)
        assert views.lab.health._curves[(0, "output (8→2)")].opts["pen"].widthF() == pytest.approx(2 * 1.5)
    finally:
        set_presentation_scale(1.0, 1.0)
        views.set_theme("light")


def test_measures_split_over_events_draw_the_same(qtbot, events):
    """The measuring process's readings come in Measured events of their own, beside the loop's health at the
    same step: the views draw what one event a step draws."""
    split = []
    for e in events:
        if isinstance(e, Measured):
            sharp = tuple(r for r in e.rows if r[1] == "")
            split += [Measured(e.step, tuple(r for r in e.rows if r not in sharp)), Measured(e.step, sharp)]
        else:
            split.append(e)
    one, two = TrainingViews(), TrainingViews()
    qtbot.addWidget(one)
    qtbot.addWidget(two)
    _feed(one, events)
    _feed(two, split)
    assert set(one.lab.health._curves) == set(two.lab.health._curves) and one.lab.health._curves
    a, b = one.lab.sharpness, two.lab.sharpness
    pairs = [(a.curve, b.curve), (a.threshold, b.threshold)]
    pairs += [(one.lab.health._curves[key], two.lab.health._curves[key]) for key in one.lab.health._curves]
    for a, b in pairs:
        np.testing.assert_array_equal(a.getData()[0], b.getData()[0])
        np.testing.assert_array_equal(a.getData()[1], b.getData()[1])
    assert len(one.lab.sharpness.curve.getData()[0]) == 9


def test_a_threshold_far_above_the_sharpness_leaves_the_curve_readable(qtbot):
    """Adam at lr 0.01 on moons measures 50-150 under a threshold of 3,800: the y range fits the measured values and
    the title says where the threshold is; near it (gradient descent at the edge of stability) both are shown."""
    from visualizer.core.lab.measures import Measures
    from visualizer.qt.lab.sharpness_plot import SharpnessPlot

    plot = SharpnessPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    plot.show()
    far = [(s, "preconditioned_sharpness", "", 50.0 + s / 10) for s in range(50, 1501, 50)]
    plot.set_measures(Measures(far + [(s, "sharpness_threshold", "", 3800.0) for s in range(50, 1501, 50)]))
    low, high = plot.plot.vb.viewRange()[1]
    assert 200.0 <= high < 3800.0 and low <= 55.0
    assert "threshold 3,800: above" in plot.title
    near = [(s, "sharpness", "", 8.0 + s / 1000) for s in range(0, 1001, 50)]
    plot.set_measures(Measures(near + [(s, "sharpness_threshold", "", 10.0) for s in range(0, 1001, 50)]))
    plot.plot.vb.prepareForPaint()
    assert plot.plot.vb.viewRange()[1][1] >= 10.0 and plot.title == "Sharpness"
