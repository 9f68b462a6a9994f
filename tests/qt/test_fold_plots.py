"""The cross-validation plots draw exactly the folds and the values they are given."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from sklearn.datasets import load_iris
from sklearn.model_selection import LeaveOneOut, ShuffleSplit, StratifiedKFold

from visualizer.qt.plots import FoldCurve, FoldCurvesPlot, FoldMapPlot, FoldMetricsPlot, export_widget
from visualizer.qt.plots._folds import MAX_COLOURED_FOLDS
from visualizer.qt.plots._style import CLASS_COLORS


def _legend_names(legend) -> list[str]:
    return [label.text for _sample, label in legend.items]


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _map(qtbot) -> FoldMapPlot:
    plot = FoldMapPlot()
    qtbot.addWidget(plot)
    return plot


def test_fold_map_image_shows_each_folds_membership(qtbot, iris):
    X, y = iris
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    plot = _map(qtbot)
    plot.set_folds(len(y), folds, y, ["setosa", "versicolor", "virginica"])
    image = plot.fold_image.image
    assert image.shape == (5, len(y), 4)
    colors = plot.colors
    for row, (train, val) in enumerate(folds):
        assert (image[row, train] == colors["train"]).all()
        assert (image[row, val] == colors["validation"]).all()
        drawn_train = np.flatnonzero((image[row] == colors["train"]).all(axis=1))
        drawn_val = np.flatnonzero((image[row] == colors["validation"]).all(axis=1))
        np.testing.assert_array_equal(drawn_train, np.sort(train))
        np.testing.assert_array_equal(drawn_val, np.sort(val))
    classes = plot.class_image.image[0]
    expected = np.array([pg.mkColor(CLASS_COLORS[c]).getRgb() for c in y], dtype=np.uint8)
    np.testing.assert_array_equal(classes, expected)
    names = _legend_names(plot.legend)
    assert names[:2] == ["train", "validation"] and "unused" not in names
    assert "class virginica" in names
    # fold 1 is the top row: the y axis is inverted and the tick "1" labels the first row
    assert plot.plot.vb.state["yInverted"]


def test_fold_map_marks_unused_samples_and_highlights_a_row(qtbot, iris):
    X, y = iris
    folds = list(ShuffleSplit(4, train_size=0.5, test_size=0.2, random_state=0).split(X))
    plot = _map(qtbot)
    plot.set_folds(len(y), folds)
    unused = plot.membership == 0
    assert unused.sum() == 4 * (len(y) - 75 - 30)
    assert (plot.fold_image.image[unused] == plot.colors["unused"]).all()
    assert "unused" in _legend_names(plot.legend)
    assert plot.class_image.image is None
    plot.highlight(2)
    assert plot.highlighted == 2
    _x, ys = plot.outline.getData()
    assert (ys.min(), ys.max()) == (2.5, 3.5)  # fold 3's row spans y 2.5..3.5
    plot.highlight(None)
    assert plot.outline.getData()[0] is None or len(plot.outline.getData()[0]) == 0


def test_fold_map_draws_leave_one_out_as_an_image(qtbot, tmp_path):
    n = 120
    y = np.arange(n) % 3
    folds = list(LeaveOneOut().split(np.zeros((n, 1))))
    plot = _map(qtbot)
    plot.set_folds(n, folds, y)
    assert plot.membership.shape == (n, n)
    np.testing.assert_array_equal(plot.membership, np.where(np.eye(n, dtype=bool), 2, 1))
    plot.highlight(n - 1)
    assert plot.highlighted == n - 1
    path = export_widget(plot, tmp_path / "loo.png", 600, 500)
    assert QImage(str(path)).width() == 600
    with pytest.raises(ValueError, match="classes for"):
        plot.set_folds(n, folds, y[:-1])


def _strip(qtbot) -> FoldMetricsPlot:
    plot = FoldMetricsPlot()
    qtbot.addWidget(plot)
    return plot


def test_strip_plot_points_equal_the_values_and_loss_has_its_own_axis(qtbot):
    rng = np.random.default_rng(1)
    values = {"loss": rng.uniform(0.1, 0.5, 6), "accuracy": rng.uniform(0.8, 1, 6),
              "precision": rng.uniform(0.8, 1, 6), "recall": rng.uniform(0.8, 1, 6), "f1": rng.uniform(0.8, 1, 6)}
    plot = _strip(qtbot)
    plot.set_metrics({k: list(v) for k, v in values.items()}, highlight=3)
    shown = plot.values_shown()
    assert set(shown) == set(values)
    for name, v in values.items():
        np.testing.assert_allclose(shown[name], v)
    loss_strip, score_strip = plot.strips
    assert loss_strip.metrics == ("loss",)
    assert score_strip.metrics == ("accuracy", "precision", "recall", "f1")
    # the mean bar and the ± std whiskers: mean and sample std (ddof=1)
    _x, bar_y = score_strip.means.getData()
    np.testing.assert_allclose(bar_y[::2], [values[m].mean() for m in score_strip.metrics])
    _x, whisker_y = score_strip.spread.getData()
    acc = values["accuracy"]
    np.testing.assert_allclose(whisker_y[:2], [acc.mean() - acc.std(ddof=1), acc.mean() + acc.std(ddof=1)])
    # the highlighted fold is drawn again, bigger
    _x, chosen_y = score_strip.chosen.getData()
    np.testing.assert_allclose(chosen_y, [values[m][3] for m in score_strip.metrics])
    plot.highlight(0)
    np.testing.assert_allclose(loss_strip.chosen.getData()[1], [values["loss"][0]])
    assert plot.highlighted == 0


def test_strip_plot_for_regression_and_missing_values(qtbot, tmp_path):
    plot = _strip(qtbot)
    plot.set_metrics({"loss": [0.2, 0.3, 0.25], "r2": [0.9, float("nan"), 0.8], "mse": [0.2, 0.3, 0.25]})
    assert plot.strips[0].metrics == ("loss", "mse")
    assert plot.strips[1].metrics == ("r2",)
    np.testing.assert_allclose(plot.values_shown()["r2"], [0.9, 0.8])  # NaN is not drawn
    assert export_widget(plot, tmp_path / "strip.png", 700, 400).exists()
    plot.clear()
    assert plot.values_shown() == {}


def _curves(n_folds: int, n_steps: int = 100) -> list[FoldCurve]:
    out = []
    for i in range(n_folds):
        steps = np.arange(n_steps + 1, dtype=float)
        evals = np.arange(0, n_steps + 1, 10, dtype=float)
        out.append(FoldCurve(steps, np.exp(-steps / 40) + 0.1 * i, evals, np.exp(-evals / 40) + 0.1 * i + 0.05))
    return out


def test_curves_plot_draws_one_fold_up_to_the_step(qtbot):
    plot = FoldCurvesPlot()
    qtbot.addWidget(plot)
    curves = _curves(3)
    plot.set_curves(curves)
    plot.show_folds([1], 42)
    assert plot.shown == (1,)
    x, y = plot.visible_train()[1]
    np.testing.assert_array_equal(x, curves[1].steps[:43])
    np.testing.assert_array_equal(y, curves[1].train_loss[:43])
    vx, vy = plot.val.getData()
    np.testing.assert_array_equal(vx, [0, 10, 20, 30, 40])
    assert plot.cursor.value() == 42
    assert _legend_names(plot.legend) == ["train (per step)", "train (smoothed)", "validation"]


def test_curves_plot_overlays_folds_with_a_colour_each(qtbot, tmp_path):
    plot = FoldCurvesPlot()
    qtbot.addWidget(plot)
    plot.set_curves(_curves(4))
    plot.show_folds(range(4), 60, highlight=2)
    drawn = plot.visible_train()
    assert sorted(drawn) == [0, 1, 2, 3]
    assert all(x.max() == 60 for x, _y in drawn.values())
    assert [f"fold {i}" for i in range(1, 5)] == _legend_names(plot.legend)[2:]
    assert export_widget(plot, tmp_path / "overlay.png", 700, 400).exists()
    # many folds (leave-one-out): the highlighted fold coloured, the others as one bundle
    plot.set_curves(_curves(MAX_COLOURED_FOLDS + 5))
    plot.show_folds(range(MAX_COLOURED_FOLDS + 5), 100, highlight=4)
    assert list(plot.visible_train()) == [4]
    bx, _by = plot.bundle.train.getData()
    assert np.isnan(bx).sum() == MAX_COLOURED_FOLDS + 4  # one gap after each other fold


def test_fold_membership_and_classes_do_not_share_colours(qtbot):
    """Train/validation cells and the class row are told apart: no membership colour is a class colour."""
    from visualizer.qt.plots._style import CLASS_COLORS
    from visualizer.qt.plots.fold_map_plot import MEMBERSHIP_COLORS, FoldMapPlot

    plot = FoldMapPlot()
    qtbot.addWidget(plot)
    classes = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in CLASS_COLORS[:4]}
    for theme in ("light", "dark", "contrast"):
        plot.set_theme(theme)
        cells = {tuple(int(v) for v in plot.colors[k][:3]) for k in ("train", "validation")}
        assert cells.isdisjoint(classes) and len(cells) == 2 and theme in MEMBERSHIP_COLORS
