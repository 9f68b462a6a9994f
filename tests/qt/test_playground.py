"""The optimizer playground window: presets open, a click moves the start, Play races, at most six racers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from visualizer.core.playground.functions import MAX_RACERS, PRESETS_DIR, Racer, load_preset, preset_paths
from visualizer.qt.playground.panel import slider_from_speed
from visualizer.qt.playground.plots import THIN_FROM, decimate_curve, thin_path
from visualizer.qt.playground.window import GRID, PlaygroundWindow

ROSENBROCK = PRESETS_DIR / "momentum_vs_sgd_rosenbrock.toml"


@pytest.fixture
def window(qtbot):
    w = PlaygroundWindow(preset=ROSENBROCK)
    qtbot.addWidget(w)
    yield w
    w.close()


def _drawn_paths(w: PlaygroundWindow) -> list[np.ndarray]:
    return w.surface.path_points()


@pytest.mark.parametrize("path", preset_paths(), ids=lambda p: p.stem)
def test_each_preset_opens(qtbot, path):
    preset = load_preset(path)
    w = PlaygroundWindow(theme="dark", preset=path)
    qtbot.addWidget(w)
    assert w.windowTitle() == "Optimizer playground"
    assert w.controls.function_combo.currentData() == preset.function
    assert w.controls.preset_combo.currentText() == preset.title
    assert w.controls.description.text() == preset.description
    assert w.racers() == [Racer(r.optimizer, r.values()) for r in preset.racers]
    assert w.controls.steps_spin.value() == preset.steps
    assert w.race.steps == 0 and w.race.start == preset.start
    assert w.surface.image.image.shape == (GRID, GRID)
    assert len(_drawn_paths(w)) == len(preset.racers)
    for pts in _drawn_paths(w):
        np.testing.assert_allclose(pts, [preset.start])
    x, _y = w.surface.minima.getData()
    assert len(x) == len(w.race.fn.minima)
    w.close()


def test_clicking_the_surface_moves_the_start(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    window.step(10)
    vb = window.surface.plot.getViewBox()
    target = (0.5, -0.25)
    scene = vb.mapViewToScene(QPointF(*target))
    pos = window.surface.mapFromScene(scene)
    qtbot.mouseClick(window.surface.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    # within a pixel: the view spans 4 units over several hundred pixels
    assert window.start == (pytest.approx(target[0], abs=0.02), pytest.approx(target[1], abs=0.02))
    assert window.race.steps == 0
    assert window.controls.preset_combo.currentIndex() == 0 and window.controls.description.text() == ""
    for pts in _drawn_paths(window):
        np.testing.assert_allclose(pts, [window.start])
    sx, sy = window.surface.start.getData()
    assert (sx[0], sy[0]) == window.start
    assert f"({window.start[0]:.3g}, {window.start[1]:.3g})" in window.controls.start_label.text()


def test_play_advances_and_draws_the_race(window, qtbot):
    window.controls.speed_slider.setValue(slider_from_speed(1000))
    assert window.speed == 1000
    window.play()
    assert window.playing and window.controls.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: window.race.steps >= 30, timeout=5000)
    window.pause()
    assert not window.playing and window.controls.play_button.text() == "Play"
    race = window.race
    drawn = _drawn_paths(window)
    assert len(drawn) == len(race.lanes)
    for pts, lane in zip(drawn, race.lanes):
        assert len(pts) == race.steps + 1
        np.testing.assert_array_equal(pts, lane.path)
    for curve, lane in zip(window.loss_plot.curves, race.lanes):
        _x, y = curve.getData()
        np.testing.assert_allclose(10**y, lane.losses)  # getData gives the displayed log10 values
    for editor, lane in zip(window.editors, race.lanes):
        assert editor.status.text() == lane.status and editor.status.text().startswith(f"step {race.steps} · f = ")
    assert window.controls.step_label.text() == f"Step {race.steps} of 2000"


def test_play_pauses_at_the_step_limit(window, qtbot):
    window.controls.steps_spin.setValue(25)
    window.controls.speed_slider.setValue(slider_from_speed(1000))
    window.play()
    qtbot.waitUntil(lambda: not window.playing, timeout=5000)
    assert window.race.steps == 25


def test_step_and_reset(window):
    window.step(1)
    window.controls.step_button.click()
    assert window.race.steps == 2 and all(len(p) == 3 for p in _drawn_paths(window))
    window.controls.reset_button.click()
    assert window.race.steps == 0 and all(len(p) == 1 for p in _drawn_paths(window))


def test_a_seventh_racer_is_refused(window):
    assert len(window.editors) == 3 and window.controls.add_button.isEnabled()
    while len(window.editors) < MAX_RACERS:
        assert window.add_racer(Racer("adam", {"lr": 0.02}))
    assert not window.controls.add_button.isEnabled()
    assert not window.add_racer(Racer("sgd", {"lr": 0.001}))
    assert len(window.editors) == MAX_RACERS == len(window.race.lanes)
    assert "At most 6" in window.statusBar().currentMessage()
    assert len({e.color for e in window.editors}) == MAX_RACERS
    window.editors[0].remove_button.click()
    assert len(window.editors) == MAX_RACERS - 1 and window.controls.add_button.isEnabled()
    assert [lane.racer for lane in window.race.lanes] == window.racers()


def test_editing_a_racer_restarts_the_race_with_it(window):
    window.step(5)
    window.editors[0].spins["lr"].setValue(0.002)
    assert window.race.steps == 0 and window.race.racers[0].values()["lr"] == 0.002
    assert "α=0.002" in window.surface.legend_text.textItem.toPlainText()
    window.editors[0].combo.setCurrentIndex(window.editors[0].combo.findData("adam"))
    assert set(window.editors[0].spins) == {"lr", "beta1", "beta2", "eps", "weight_decay"}
    assert window.race.racers[0].optimizer == "adam"


def test_a_diverging_racer_says_so_and_the_others_go_on(window):
    window.editors[0].spins["lr"].setValue(0.1)
    window.step(40)
    lanes = window.race.lanes
    assert not lanes[0].running
    assert window.editors[0].status.text() == f"diverged at step {lanes[0].diverged_at}"
    assert lanes[1].running and window.editors[1].status.text().startswith("step 40 ")
    heads = window.surface.heads
    assert heads[0].opts["symbol"] == "x" and heads[1].opts["symbol"] == "o"


def test_changing_the_function_shows_its_surface_and_start(window):
    window.controls.function_combo.setCurrentIndex(window.controls.function_combo.findData("himmelblau"))
    fn = window.race.fn
    assert fn.key == "himmelblau" and window.start == fn.start
    assert "x² + y − 11" in window.controls.formula.text()
    x, _y = window.surface.minima.getData()
    assert len(x) == 4
    assert window.surface.plot.titleLabel.text == fn.label
    window.controls.function_combo.setCurrentIndex(window.controls.function_combo.findData("saddle"))
    assert not window.loss_plot.log_y and not window.surface.minima.isVisible()


def test_closing_stops_the_timer(qtbot):
    w = PlaygroundWindow(preset=ROSENBROCK)
    qtbot.addWidget(w)
    w.show()
    w.play()
    assert w.timer.isActive()
    w.close()
    assert not w.timer.isActive() and not w.playing


def test_long_paths_are_thinned_to_what_the_screen_shows():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(scale=0.001, size=(5000, 2)), axis=0)
    cell = 0.004
    thin = thin_path(walk, cell)
    assert 10 < len(thin) < len(walk) / 2
    np.testing.assert_array_equal(thin[0], walk[0])
    np.testing.assert_array_equal(thin[-1], walk[-1])
    # every point left out lies in the same cell as the point before it, so it adds nothing a pixel can show
    cells = np.floor(walk / cell)
    kept = {tuple(p) for p in thin}
    for k in range(1, len(walk) - 1):
        if tuple(walk[k]) not in kept:
            assert tuple(cells[k]) == tuple(cells[k - 1])


def test_long_curves_keep_their_extremes():
    y = np.exp(-np.arange(10_000) / 2000.0)
    y[7777] = 50.0  # a spike
    x, d = decimate_curve(y)
    assert len(d) <= 2 * THIN_FROM + 10
    assert d.max() == 50.0 and 7777 in x and x[0] == 0 and d.min() == y.min()
    np.testing.assert_array_equal(d, y[x.astype(int)])


def test_load_button_reports_a_bad_preset_and_keeps_the_race(window, tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text('function = "rosenbrock"\nstart = [0, 0]\n[[racers]]\noptimizer = "sgd"\nlr = 50\n',
                   encoding="utf-8")
    monkeypatch.setattr("visualizer.qt.playground.window.QFileDialog.getOpenFileName",
                        lambda *args, **kwargs: (str(bad), ""))
    before = window.racers()
    window.controls.load_button.click()
    assert window.statusBar().currentMessage() == "racers[0].lr: 50.0 is out of range; allowed: (0, 10]"
    assert window.racers() == before and window.race.start == (-1.5, 2.0)
    good = PRESETS_DIR / "adam_ill_conditioned.toml"
    monkeypatch.setattr("visualizer.qt.playground.window.QFileDialog.getOpenFileName",
                        lambda *args, **kwargs: (str(good), ""))
    window.controls.load_button.click()
    assert window.race.fn.key == "ill_conditioned" and len(window.editors) == 3
    assert window.controls.preset_combo.currentText() == load_preset(good).title


def test_preset_combo_and_theme(window):
    combo = window.controls.preset_combo
    index = combo.findText(load_preset(PRESETS_DIR / "saddle_escape.toml").title)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert window.race.fn.key == "saddle" and not window.loss_plot.log_y
    window.set_theme("dark")
    assert window.surface.theme == "dark"
    assert window.surface.plot.titleLabel.text == window.race.fn.label
    assert window.surface.colorbar.axis.labelText == "f(x, y)"
