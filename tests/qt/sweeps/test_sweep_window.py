"""The sweep window driven as a user drives it: cells appear as trials finish, a click replays the cell's run, a
finished sweep opens from its folder, a bad value is a message, the theme and presentation mode redraw the map."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import time

import pytest
from PySide6.QtCore import QPointF, Qt

from tests.core.sweeps.conftest import TINY
from visualizer.core import experiment
from visualizer.qt.sweeps.window import THREAD_NAME, SweepWindow


@pytest.fixture(autouse=True)
def _no_sweep_thread_left():
    yield
    left = [t.name for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
    assert not left, f"sweep threads still running after the test: {left}"


def _window(qtbot) -> SweepWindow:
    window = SweepWindow(experiment.loads(TINY), None)
    qtbot.addWidget(window)
    window.show()
    window.field_combos[0].setCurrentText("train.lr")
    window.value_edits[0].setText("0.01,0.1,1")
    window.field_combos[1].setCurrentText("train.momentum")
    window.value_edits[1].setText("0,0.5,0.9")
    window.epochs_spin.setValue(15)
    window.workers_spin.setValue(2)
    return window


def _click_cell(qtbot, window, at, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    plot = window.plot
    scene = plot.panels[0].vb.mapViewToScene(QPointF(*at))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, modifier, pos=plot.mapFromScene(scene))


@pytest.mark.slow
def test_cells_appear_as_trials_finish_and_a_click_opens_the_replay(qtbot, tmp_path, main_window):
    window = _window(qtbot)
    window.open_run.connect(main_window.open_replay)
    window.compare_run.connect(main_window._compare_run)
    seen: list[int] = []
    add = window._add_rows
    window._add_rows = lambda rows: (add(rows), seen.append(len(window.sweep_map.cells())))
    assert window.start(tmp_path / "sweep")
    qtbot.waitUntil(lambda: not window.runner.running, timeout=120_000)
    assert seen[-1] == 9 and min(seen) < 9, seen  # the map filled in over several frames, not at the end
    assert window.progress_bar.value() == 100 and "Done: 9 trials" in window.message.text()
    assert (tmp_path / "sweep" / "sweep.csv").read_text().count("\n") == 10
    assert window.plot.best_outline is not None
    _click_cell(qtbot, window, (2, 1))  # lr 1, momentum 0.5
    qtbot.waitUntil(lambda: len(main_window.replays) == 1, timeout=10_000)
    replay = main_window.replays[0]
    assert replay.path == tmp_path / "sweep" / window.sweep_map.runs((2, 1))[0]
    assert replay.run.experiment.train.lr == 1.0 and replay.run.experiment.train.momentum == 0.5
    compared = []
    replay.compare_with = lambda path: compared.append(path)
    _click_cell(qtbot, window, (0, 0), Qt.KeyboardModifier.ShiftModifier)  # Shift: compare, no second window
    assert compared == [tmp_path / "sweep" / window.sweep_map.runs((0, 0))[0]] and len(main_window.replays) == 1
    # the same sweep opened from its folder shows the same cells
    other = SweepWindow(experiment.loads(TINY), None)
    qtbot.addWidget(other)
    assert other.open_folder(tmp_path / "sweep")
    assert other.sweep_map.cells() == window.sweep_map.cells()
    assert other.sweep_map.best() == window.sweep_map.best()
    for theme in ("dark", "contrast", "light"):
        other.set_theme(theme)
        assert other.plot.theme == theme and len(other.plot.cell_items) == 9
    replay.close()


@pytest.mark.slow
def test_cancel_stops_the_sweep_and_a_bad_value_is_a_message(qtbot, tmp_path):
    window = _window(qtbot)
    window.value_edits[0].setText("0.01,99")
    assert not window.start(tmp_path / "bad")
    assert "train.lr: 99 is out of range" in window.message.text()
    window.value_edits[0].setText("0.01:1:log:5")
    window.epochs_spin.setValue(1500)  # trials of several seconds: Cancel must not wait for the running ones
    assert window.start(tmp_path / "cancelled")
    qtbot.waitUntil(lambda: len(window._rows) >= 1, timeout=240_000)
    trial_s = float(window._rows[0]["wall_s"])
    t0 = time.monotonic()
    window.cancel()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=60_000)
    assert time.monotonic() - t0 < trial_s, "Cancel waited for the running trials to finish"
    assert "Stopped" in window.message.text()
    rows = (tmp_path / "cancelled" / "sweep.csv").read_text().count("\n") - 1
    assert 1 <= rows < 15 and window.start_button.isEnabled()


def test_run_menu_opens_the_sweep_window_on_the_experiment(main_window):
    main_window.acts.sweep.trigger()
    window = main_window.sweep
    assert isinstance(window, SweepWindow) and window.isVisible()
    assert window.experiment == main_window.experiment
    assert window.field_combos[0].currentText() == "train.lr" and window.value_edits[0].text()
    assert all(w.toolTip() for w in (window.start_button, window.cancel_button, window.seeds_spin,
                                     window.value_edits[0], window.field_combos[1], window.export_button))
    main_window.set_theme("dark")
    assert window.plot.theme == "dark"
