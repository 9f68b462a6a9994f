"""Plots that fit their space: the loss legend hidden while empty and moved off the curves, fold-metric labels shortened
where a column is narrow."""

from __future__ import annotations

import numpy as np

from tests.qt.clicks import click_legend_entry
from visualizer.qt.plots.legend_place import covered_points, place_legend
from visualizer.qt.plots.loss_plot import LossPlot


def _shown(qtbot, width=420, height=360) -> LossPlot:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(width, height)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def test_an_empty_legend_is_not_drawn(qtbot):
    plot = _shown(qtbot)
    assert not plot.loss_legend.isVisible()  # the idle window showed an empty square
    steps = np.arange(1, 101, dtype=float)
    plot.set_history(steps, 1 / steps, np.array([]), None, None, None)
    assert plot.loss_legend.isVisible() and len(plot.loss_legend.items) == 2
    plot.clear()
    assert not plot.loss_legend.isVisible()


def test_a_curve_hidden_from_its_legend_entry_stays_hidden_while_the_run_goes_on(qtbot):
    """A click on a legend entry hides its curve (pyqtgraph's LegendItem): the next live frame showed it again and
    gave it a second legend entry. Now it stays hidden, with one entry, until the run is cleared."""
    plot = _shown(qtbot)
    steps = np.arange(1, 101, dtype=float)
    plot.set_history(steps, 1 / steps, steps[::10], 1 / steps[::10], None, None)
    names = [label.text for _sample, label in plot.loss_legend.items]
    click_legend_entry(plot.loss_legend, "train (per step)")
    assert not plot.train_loss_raw.isVisible()
    more = np.arange(1, 201, dtype=float)
    for n in (150, 200):  # two more live frames
        plot.set_history(more[:n], 1 / more[:n], more[:n:10], 1 / more[:n:10], None, None)
    assert not plot.train_loss_raw.isVisible() and plot.train_loss_smooth.isVisible()
    assert [label.text for _sample, label in plot.loss_legend.items] == names  # one entry each
    plot.clear()  # a new run shows every curve that has data again
    plot.set_history(steps, 1 / steps, steps[::10], 1 / steps[::10], None, None)
    assert plot.train_loss_raw.isVisible()
    assert [label.text for _sample, label in plot.loss_legend.items] == names


def test_the_legend_moves_off_the_curves(qtbot):
    plot = _shown(qtbot)
    steps = np.arange(1, 401, dtype=float)
    rising = steps / 400  # a curve that ends at the top right, where the legend starts
    plot.set_history(steps, rising, steps[::20], rising[::20], None, None)
    qtbot.wait(50)
    legend, view = plot.loss_legend, plot.loss_plot.getViewBox()
    curves = plot._curves[:3]
    size = legend.width(), legend.height()
    before = covered_points(view, "top-right", *size, curves)
    assert before > 0
    corner = place_legend(legend, curves)
    assert corner != "top-right"
    assert covered_points(view, corner, *size, curves) < 0.6 * before
    qtbot.wait(50)  # the legend is drawn where it says
    box, spot = view.sceneBoundingRect(), legend.sceneBoundingRect()
    assert box.contains(spot)
    assert (spot.center().x() < box.center().x()) == corner.endswith("left")
    assert (spot.center().y() > box.center().y()) == corner.startswith("bottom")
    assert place_legend(legend, curves) == corner  # stays: no hopping


def test_fold_metric_labels_shorten_where_a_column_is_narrow(qtbot):
    from visualizer.qt.plots.fold_metrics_plot import FoldMetricsPlot

    plot = FoldMetricsPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 300)
    plot.show()
    qtbot.waitExposed(plot)
    values = {"loss": [0.1, 0.12], "accuracy": [0.9, 0.95], "precision": [0.9, 0.94], "recall": [0.91, 0.95],
              "f1": [0.9, 0.95]}
    plot.set_metrics(values)
    scores = plot.strips[1]
    qtbot.waitUntil(lambda: scores.labels == ("accuracy", "precision", "recall", "macro F1"))
    plot.resize(300, 300)  # the cross-validation window at 1366 wide gave it about this
    qtbot.waitUntil(lambda: scores.labels == ("acc.", "prec.", "rec.", "F1"))
    plot.resize(900, 300)
    qtbot.waitUntil(lambda: scores.labels == ("accuracy", "precision", "recall", "macro F1"))
