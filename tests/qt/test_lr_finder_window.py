"""The learning-rate finder window: opened from the Run menu, it runs the range test on the runner, marks what the
core suggests, sets the training panel's learning rate, exports PNG/SVG/CSV, reads in every theme and closes clean."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from tests.qt.readability import clipped, low_contrast
from visualizer.qt.labtools.lr_window import THREAD_NAME


def finished_finder(window, qtbot):
    window.acts.lr_finder.trigger()
    finder = window.lr_finder
    assert finder is not None and finder.isVisible()
    finder.steps_spin.setValue(150)
    assert finder.run()
    qtbot.waitUntil(lambda: not finder.running, timeout=60000)
    assert finder.result is not None, finder.status.text()
    return finder


def test_the_finder_marks_the_cores_suggestions_and_sets_the_learning_rate(main_window, qtbot, tmp_path):
    finder = finished_finder(main_window, qtbot)
    r = finder.result
    assert len(r.lrs) >= 20 and r.lrs[0] == pytest.approx(1e-6)
    marked = finder.plot.marked()
    assert marked["suggested"] == pytest.approx(r.suggested, rel=1e-9) == pytest.approx(r.min_over_10)
    if r.steepest is not None and r.steepest != r.suggested:
        assert marked["steepest"] == pytest.approx(r.steepest, rel=1e-9)
    x, y = finder.plot.smoothed.getData()  # drawn on the log axis: log10 of the rates
    np.testing.assert_allclose(x, np.log10(r.lrs), rtol=1e-12)
    np.testing.assert_allclose(y, r.smoothed)
    assert f"{r.suggested:.3g}" in finder.status.text() and finder.use_button.isEnabled()

    finder.use_button.click()
    spin = main_window.train_panel.learningRateSpin
    assert spin.value() == pytest.approx(r.suggested, abs=10 ** -spin.decimals())
    assert main_window.experiment.train.lr == pytest.approx(spin.value())

    written = finder.export_plots(tmp_path)
    assert sorted(p.name for p in written) == ["lr_find.csv", "lr_find.png", "lr_find.svg"]
    with open(tmp_path / "lr_find.csv") as fh:
        rows = list(csv.DictReader(fh))
    np.testing.assert_allclose([float(row["lr"]) for row in rows], r.lrs, rtol=1e-15)
    np.testing.assert_allclose([float(row["loss"]) for row in rows], r.losses, rtol=1e-15)
    assert (tmp_path / "lr_find.png").stat().st_size > 5000


def test_a_saved_range_test_opens_as_it_was(main_window, qtbot, tmp_path):
    from visualizer.qt.labtools.lr_window import LRFinderWindow

    finder = finished_finder(main_window, qtbot)
    r = finder.result
    finder.export_plots(tmp_path)
    again = LRFinderWindow(main_window.experiment, None)
    qtbot.addWidget(again)
    assert again.open_result(tmp_path / "lr_find.csv")
    o = again.result
    np.testing.assert_array_equal(o.lrs, r.lrs)  # the curve read back to the last bit
    np.testing.assert_array_equal(o.smoothed, r.smoothed)
    assert (o.suggested, o.steepest) == (r.suggested, r.steepest)  # the suggestions read off it again
    assert again.plot.marked() == finder.plot.marked()
    np.testing.assert_array_equal(again.plot.smoothed.getData()[1], finder.plot.smoothed.getData()[1])
    assert f"{r.suggested:.3g}" in again.status.text() and "Opened" in again.status.text()
    assert again.use_button.isEnabled() and again.export_button.isEnabled()
    (tmp_path / "bad.csv").write_text("step,lr,loss,smoothed\n1,0.001,oops,0.5\n")
    assert not again.open_result(tmp_path / "bad.csv")
    assert "line 2: loss is 'oops', not a number" in again.status.text()
    assert again.result is o  # what was shown stays
    again.close()


def test_the_finder_reads_in_every_theme_and_closes_with_the_window(main_window, qtbot):
    finder = finished_finder(main_window, qtbot)
    for where, switch in [("dark", lambda: main_window.set_theme("dark")),
                          ("presentation", main_window.presentation.enter),
                          ("left presentation", main_window.presentation.leave),
                          ("light", lambda: main_window.set_theme("light"))]:
        switch()
        for size in ((1366, 768), (1920, 1080)):
            finder.resize(*size)
            QApplication.processEvents()
            qtbot.wait(30)
            problems = low_contrast(finder) + clipped(finder)
            assert not problems, (where, size, problems)
        assert finder.plot.theme == main_window.theme
    main_window.close()
    assert not finder.isVisible()


def test_closing_the_finder_mid_test_leaves_no_thread(main_window, qtbot):
    main_window.acts.lr_finder.trigger()
    finder = main_window.lr_finder
    finder.steps_spin.setValue(10_000)
    finder.high_spin.setValue(-3)  # no early stop: the test is still running when the window closes
    assert finder.run()
    qtbot.waitUntil(lambda: finder.progress.value() > 0, timeout=30000)
    finder.close()
    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
