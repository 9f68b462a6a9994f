"""The plot classes hold the data they are given, and export draws them to PNG/SVG."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage

from visualizer.qt.plots import (
    ConfusionMatrixPlot,
    DecisionBoundaryPlot,
    HistogramPlot,
    LossPlot,
    ensure_app,
    export_widget,
)
from visualizer.qt.plots.boundary_plot import probability_image
from visualizer.qt.plots.histogram_plot import grid_columns
from visualizer.qt.plots.smoothing import Smoother, ema


def _history(n: int = 300, every: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1, dtype=float)
    train_loss = np.exp(-steps / 100) + rng.uniform(0, 0.1, n)
    eval_steps = np.arange(every, n + 1, every, dtype=float)
    val_loss = np.exp(-eval_steps / 100) + 0.05
    train_acc = 1 - 0.5 * np.exp(-steps / 80)
    val_acc = 1 - 0.5 * np.exp(-eval_steps / 80)
    return steps, train_loss, eval_steps, val_loss, train_acc, val_acc


def _legend_names(legend) -> list[str]:
    return [label.text for _sample, label in legend.items]


@pytest.fixture
def loss_plot(qtbot) -> LossPlot:
    widget = LossPlot()
    qtbot.addWidget(widget)
    return widget


# --- smoothing ------------------------------------------------------------------------------
def _ema_loop(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing, one point at a time (the reference)."""
    out, last, count = [], 0.0, 0
    for v in values:
        if not np.isfinite(v):
            out.append(np.nan)
            continue
        last, count = last * weight + (1 - weight) * v, count + 1
        out.append(last / (1 - weight**count))
    return np.array(out)


@pytest.mark.parametrize("weight", [0.0, 0.6, 0.9, 0.999])
def test_ema_matches_the_point_by_point_reference(weight):
    values = np.random.default_rng(1).normal(size=5000) + 3
    values[[10, 500, 501]] = np.nan
    np.testing.assert_allclose(ema(values, weight), _ema_loop(values, weight), rtol=1e-10, equal_nan=True)


def test_smoother_extends_a_growing_series_and_restarts_on_a_new_one():
    values = np.random.default_rng(2).normal(size=2000)
    smoother = Smoother(0.95)
    smoother(values[:1500])
    np.testing.assert_allclose(smoother(values), _ema_loop(values, 0.95), rtol=1e-10)
    other = values[::-1].copy()
    np.testing.assert_allclose(smoother(other), _ema_loop(other, 0.95), rtol=1e-10)


# --- loss plot ------------------------------------------------------------------------------
def test_loss_plot_curves_hold_the_history(loss_plot):
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history()
    val_loss[2] = np.nan  # a missing evaluation
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)

    assert loss_plot.objectName() == "lossPlot"
    x, y = loss_plot.train_loss_raw.getOriginalDataset()
    np.testing.assert_array_equal(x, steps)
    np.testing.assert_array_equal(y, train_loss)
    x, y = loss_plot.val_loss_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, eval_steps)
    np.testing.assert_array_equal(y, val_loss)  # NaN kept: the line breaks there
    assert loss_plot.val_loss_curve.opts["connect"] == "finite"
    np.testing.assert_allclose(loss_plot.train_loss_smooth.getOriginalDataset()[1], _ema_loop(train_loss, 0.9))
    np.testing.assert_array_equal(loss_plot.train_metric_raw.getOriginalDataset()[1], train_acc)
    np.testing.assert_array_equal(loss_plot.val_metric_curve.getOriginalDataset()[1], val_acc)
    assert _legend_names(loss_plot.loss_legend) == ["train (per step)", "train (smoothed)", "validation"]
    assert loss_plot.loss_plot.getAxis("left").labelText == "loss"
    assert loss_plot.metric_plot.getAxis("bottom").labelText == "step"
    assert loss_plot.metric_plot.getAxis("left").labelText == "accuracy"
    assert loss_plot.metric_plot.vb.viewRange()[1][0] < 0 < 1 < loss_plot.metric_plot.vb.viewRange()[1][1]


def test_loss_plot_hides_validation_when_there_is_none(loss_plot):
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history()
    no_val = np.full(eval_steps.shape, np.nan)
    loss_plot.set_history(steps, train_loss, eval_steps, no_val, train_acc, no_val)
    assert not loss_plot.val_loss_curve.isVisible()
    assert not loss_plot.val_metric_curve.isVisible()
    assert "validation" not in _legend_names(loss_plot.loss_legend)
    assert loss_plot.train_loss_raw.isVisible()

    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
    assert loss_plot.val_loss_curve.isVisible()
    assert "validation" in _legend_names(loss_plot.loss_legend)

    loss_plot.set_history(steps, train_loss, eval_steps, None, None, None)  # no metric, no validation
    assert not loss_plot.train_metric_raw.isVisible() and not loss_plot.val_loss_curve.isVisible()
    with pytest.raises(ValueError, match="val_loss has 2 values for 6 eval_steps"):
        loss_plot.set_history(steps, train_loss, eval_steps, val_loss[:2], train_acc, val_acc)


def test_loss_plot_log_scale_r2_and_clear(loss_plot):
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history()
    train_loss[5] = 0.0  # log10(0) must not warn (warnings are errors here)
    loss_plot.set_metric_name("R²")
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc - 2, val_acc)
    assert loss_plot.metric_plot.getAxis("left").labelText == "R²"
    assert loss_plot.metric_plot.vb.viewRange()[1][0] < -0.9  # R² below 0 stays visible down to -1

    loss_plot.set_log_scale(True)
    assert loss_plot.loss_plot.vb.state["logMode"][1] is True
    loss_plot.grab()  # paints in log mode
    loss_plot.set_log_scale(False)
    assert loss_plot.loss_plot.vb.state["logMode"][1] is False

    loss_plot.clear()
    x, _y = loss_plot.train_loss_raw.getOriginalDataset()
    assert x is None or x.size == 0
    assert loss_plot.loss_plot in loss_plot.ci.items  # clear() drops data, not the plots
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
    assert loss_plot.train_loss_raw.getOriginalDataset()[1].size == steps.size


def test_loss_plot_step_axis_stays_fixed_on_a_log_loss_axis(loss_plot):
    """A run of known length fixes the step axis; turning the log axis on or off (which the window does by itself
    when the loss spans decades) keeps it fixed, so the curves grow into it and its labels are not redrawn."""
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history()
    loss_plot.set_step_range(3000)
    for log in (True, False, True):
        loss_plot.set_log_scale(log)
        loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
        loss_plot.grab()
        for plot in (loss_plot.loss_plot, loss_plot.metric_plot):
            low, high = plot.vb.viewRange()[0]
            assert low < 0 and 3000 < high < 3100, (log, low, high)  # not the data's 0..299
    loss_plot.set_step_range(None)
    loss_plot.set_log_scale(False)
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
    loss_plot.grab()
    assert loss_plot.loss_plot.vb.viewRange()[0][1] < 400  # following the data again


def test_loss_plot_loss_axis_stays_still_while_the_curves_move_inside_it(loss_plot, qtbot):
    """A live run's loss axis keeps its range from frame to frame while the curves stay inside and fill most of it,
    takes a new one that holds them when they leave it, is left alone once a user zooms, and is refitted in the
    log axis's units."""
    loss_plot.resize(600, 400)
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history(n=3000)
    vb = loss_plot.loss_plot.vb
    loss_plot.set_step_range(3000)
    loss_plot.set_history(steps[:1000], train_loss[:1000], eval_steps[:20], val_loss[:20], train_acc[:1000],
                          val_acc[:20])
    low, high = vb.viewRange()[1]
    assert low < 0.0 and 1.0 < high  # the curves (from ~1.1 down to ~0) with room on each side
    falling = 2.0 - steps / 3000  # a loss that falls a little every frame, staying inside the range
    loss_plot.set_history(steps[:1000], falling[:1000], eval_steps[:20], val_loss[:20] + 1.8, train_acc[:1000],
                          val_acc[:20])
    first = tuple(vb.viewRange()[1])
    ranges = set()
    for n in range(1010, 1100, 10):
        loss_plot.set_history(steps[:n], falling[:n], eval_steps[:n // 50], val_loss[:n // 50] + 1.8,
                              train_acc[:n], val_acc[:n // 50])
        ranges.add(tuple(np.round(vb.viewRange()[1], 9)))
    assert ranges == {tuple(np.round(first, 9))}  # (pyqtgraph's auto-range moved it at every frame)
    loss_plot.set_history(steps[:1300], falling[:1300], eval_steps[:26], val_loss[:26] + 1.8, train_acc[:1300],
                          val_acc[:26])
    assert vb.viewRange()[1][0] < falling[1299] < first[0]  # fallen out of it: refitted

    spike = train_loss.copy()
    spike[1400] = 3.0  # outside: a new range that holds it
    loss_plot.set_history(steps[:1500], spike[:1500], eval_steps[:30], val_loss[:30], train_acc[:1500], val_acc[:30])
    assert vb.viewRange()[1][1] > 3.0

    loss_plot.set_log_scale(True)  # in log10 units now
    loss_plot.set_history(steps[:1500], spike[:1500], eval_steps[:30], val_loss[:30], train_acc[:1500], val_acc[:30])
    low, high = vb.viewRange()[1]
    lowest = np.log10(spike[:1500].min())
    assert lowest - 1.0 < low < lowest and np.log10(3.0) < high < 1.5

    vb.scaleBy(y=0.5)  # a user zooms in (what the mouse wheel does)
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])
    zoomed = vb.viewRange()[1]
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
    assert vb.viewRange()[1] == pytest.approx(zoomed)


def test_loss_plot_marks_evaluations_only_while_the_marks_stand_apart(loss_plot, qtbot):
    """A marker at each evaluation while they are at least three marker sizes apart on the plot as laid out; closer
    (many evaluations, a long run, a narrow plot) they would merge into a thick line over the curve: none."""
    loss_plot.resize(600, 400)
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history(n=300, every=50)
    loss_plot.set_step_range(300)
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
    assert loss_plot.val_loss_curve.opts["symbol"] == "o"  # 6 evaluations ~90 px apart
    assert loss_plot.val_metric_curve.opts["symbol"] == "o"

    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history(n=3000, every=25)
    loss_plot.set_step_range(3000)
    loss_plot.set_history(steps[:500], train_loss[:500], eval_steps[:20], val_loss[:20], train_acc[:500],
                          val_acc[:20])
    assert loss_plot.val_loss_curve.opts["symbol"] is None  # 20 so far, ~4 px apart across the run's 3000 steps
    assert loss_plot.val_metric_curve.opts["symbol"] is None
    loss_plot.set_step_range(500)
    loss_plot.set_history(steps[:500], train_loss[:500], eval_steps[:20], val_loss[:20], train_acc[:500],
                          val_acc[:20])
    assert loss_plot.val_loss_curve.opts["symbol"] == "o"  # the same 20 over 500 steps: ~25 px apart


def test_loss_plot_hover_readout_names_the_nearest_step(loss_plot, qtbot):
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history()
    loss_plot.resize(800, 500)
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
    loss_plot.grab()  # paint once, so the views have ranged to the data as on screen
    vb = loss_plot.loss_plot.vb
    scene_pos = vb.mapViewToScene(QPointF(120.2, 0.5))
    loss_plot.scene().sigMouseMoved.emit(scene_pos)
    qtbot.waitUntil(loss_plot.readout.isVisible, timeout=1000)
    assert loss_plot.readout.toPlainText().startswith(f"step 120: loss {train_loss[119]:.4g}")

    loss_plot.scene().sigMouseMoved.emit(QPointF(-50, -50))  # outside both plots
    qtbot.waitUntil(lambda: not loss_plot.readout.isVisible(), timeout=1000)


def test_loss_plot_set_history_is_fast_with_100k_points(loss_plot):
    n = 100_000
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history(n=n, every=50)
    loss_plot.set_history(steps[: n - 100], train_loss[: n - 100], eval_steps, val_loss, train_acc[: n - 100], val_acc)
    times = []
    for m in range(n - 90, n + 1, 10):  # a live run: the arrays grow a little each frame
        start = time.perf_counter()
        loss_plot.set_history(steps[:m], train_loss[:m], eval_steps, val_loss, train_acc[:m], val_acc)
        times.append(time.perf_counter() - start)
    assert np.median(times) < 1 / 30, f"median {np.median(times) * 1e3:.1f} ms per frame"


# --- histograms -----------------------------------------------------------------------------
def _layers(names, bins=20, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for name in names:
        counts, edges = np.histogram(rng.normal(size=500), bins=bins)
        layers.append((name, edges, counts))
    return layers


def test_histogram_plot_draws_one_step_histogram_per_layer(qtbot):
    widget = HistogramPlot()
    qtbot.addWidget(widget)
    layers = _layers(["fc1.weight", "fc2.weight", "out.weight"], bins=20)
    widget.set_histograms(layers)

    assert widget.objectName() == "histogramPlot"
    assert widget.layer_names == ["fc1.weight", "fc2.weight", "out.weight"]
    for plot, bars, (name, edges, counts) in zip(widget.plots, widget.bars, layers, strict=True):
        x, y = bars.getOriginalDataset()
        assert y.size == counts.size == 20 and x.size == edges.size  # step mode: bins + 1 edges
        np.testing.assert_array_equal(y, counts)
        assert bars.opts["stepMode"] == "center" and bars.opts["fillLevel"] == 0
        assert plot.titleLabel.text == name
        assert plot.getAxis("bottom").labelText == "weight value"
        assert plot.getAxis("left").labelText == "count"

    first_plots = list(widget.plots)
    widget.set_histograms(_layers(["fc1.weight", "fc2.weight", "out.weight"], seed=1), kind="gradients")
    assert widget.plots == first_plots  # same layers: plots reused
    assert widget.plots[0].getAxis("bottom").labelText == "gradient value"

    widget.set_histograms(_layers(["a", "b", "c", "d"]))
    assert [plot.titleLabel.text for plot in widget.plots] == ["a", "b", "c", "d"]
    # new layers re-lay out pooled plots (deleting a plot item that was in the scene crashes a later paint)
    assert widget.plots[:3] == first_plots and len(widget.ci.items) == 4
    widget.set_histograms(_layers(["a", "b"]))
    assert len(widget.ci.items) == 2 and widget.plots == first_plots[:2]
    with pytest.raises(ValueError, match="edges"):
        widget.set_histograms([("a", np.arange(5.0), np.ones(5))])


def test_histogram_axes_stay_still_until_the_data_outgrow_them(qtbot):
    """Snapshot after snapshot the histograms keep their ranges (readable, and not redrawn) while the data stay
    inside and fill most of them; a histogram that spreads out or shrinks gets a new range that holds it."""
    widget = HistogramPlot()
    qtbot.addWidget(widget)
    edges = np.linspace(-1.0, 1.0, 21)
    counts = np.arange(20.0) + 10
    widget.set_histograms([("fc1.weight", edges, counts)])
    (x0, x1), (y0, y1) = widget.ranges[0]
    assert x0 < -1.0 and 1.0 < x1 and y0 == 0.0 and 29 < y1 < 35
    assert widget.plots[0].vb.viewRange()[0] == pytest.approx([x0, x1])

    widget.set_histograms([("fc1.weight", edges * 1.05, counts + 1)])  # a little wider and taller: still inside
    assert widget.ranges[0] == ((x0, x1), (y0, y1))
    widget.set_histograms([("fc1.weight", edges * 2.0, counts * 2)])  # outgrown: new ranges that hold it
    (a0, a1), (_b0, b1) = widget.ranges[0]
    assert a0 < -2.0 and 2.0 < a1 and b1 > 58
    widget.set_histograms([("fc1.weight", edges * 0.5, counts * 2)])  # shrunk into the middle: fitted again
    (a0, a1), _ = widget.ranges[0]
    assert -1.0 < a0 < -0.5 and 0.5 < a1 < 1.0
    widget.set_histograms([("fc1.weight", edges * 1e-3, counts)], kind="gradients")  # orders of magnitude smaller
    (a0, a1), _ = widget.ranges[0]
    assert -2e-3 < a0 < -1e-3 and 1e-3 < a1 < 2e-3
    assert widget.plots[0].vb.viewRange()[0] == pytest.approx([a0, a1])


def test_histogram_grid_columns():
    assert [grid_columns(n) for n in range(1, 8)] == [1, 2, 3, 2, 3, 3, 3]


# --- decision boundary, regression fit, confusion matrix ----------------------------------
def test_boundary_image_covers_the_grid_with_pixel_centres_on_the_points(qtbot):
    widget = DecisionBoundaryPlot()
    qtbot.addWidget(widget)
    xs, ys = np.linspace(-2, 3, 51), np.linspace(-1, 1, 21)
    p1 = np.broadcast_to(((xs - xs[0]) / (xs[-1] - xs[0]))[None, :], (21, 51))
    widget.set_grid(xs, ys, np.stack([1 - p1, p1], axis=2))

    assert widget.objectName() == "boundaryPlot"
    assert widget.image.image.shape[:2] == (21, 51)
    rect = widget.image.mapRectToParent(widget.image.boundingRect())
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    assert rect.left() == pytest.approx(xs[0] - dx / 2) and rect.right() == pytest.approx(xs[-1] + dx / 2)
    assert rect.top() == pytest.approx(ys[0] - dy / 2) and rect.bottom() == pytest.approx(ys[-1] + dy / 2)
    # P(class 1) = 0 on the left column (orange), 1 on the right (blue)
    left, right = widget.image.image[10, 0, :3].astype(int), widget.image.image[10, -1, :3].astype(int)
    assert left[0] > left[2] and right[2] > right[0]
    assert widget.plot.getAxis("bottom").labelText == "x₁ (standardised)"
    with pytest.raises(ValueError, match="shape"):
        widget.set_grid(xs, ys, np.zeros((51, 21, 2)))


def test_probability_image_colours_the_argmax_class_by_confidence():
    probs = np.zeros((1, 3, 3))
    probs[0, 0] = [1.0, 0, 0]
    probs[0, 1] = [0, 0, 1.0]
    probs[0, 2] = [1 / 3, 1 / 3, 1 / 3]
    image = probability_image(probs, "#ffffff").astype(int)
    assert image.shape == (1, 3, 4)
    assert image[0, 0, 0] > image[0, 0, 2]  # class 0: orange
    assert image[0, 1, 1] > image[0, 1, 0] and image[0, 1, 1] > image[0, 1, 2]  # class 2: green
    assert (image[0, 2, :3] == 255).all()  # undecided: background


def test_boundary_points_and_regression_curve(qtbot):
    widget = DecisionBoundaryPlot()
    qtbot.addWidget(widget)
    widget.show()
    assert not widget.legend.isVisible()  # no empty box before the data
    rng = np.random.default_rng(0)
    x_train, y_train = rng.normal(size=(30, 2)), rng.integers(0, 3, 30)
    x_val, y_val = rng.normal(size=(10, 2)), rng.integers(0, 3, 10)
    widget.set_points(x_train, y_train, x_val, y_val)
    np.testing.assert_array_equal(widget.train_points.data["x"], x_train[:, 0])
    np.testing.assert_array_equal(widget.val_points.data["y"], x_val[:, 1])
    assert widget.train_points.opts["symbol"] == "o" and widget.val_points.opts["symbol"] == "t"
    colours = {b.color().name() for b in widget.train_points.data["brush"]}
    assert len(colours) == len(set(y_train.tolist()))
    assert _legend_names(widget.legend) == ["train", "validation"] and widget.legend.isVisible()

    widget.set_points(x_train, y_train)  # no validation set
    assert _legend_names(widget.legend) == ["train"]

    x_grid = np.linspace(-2, 2, 50)
    xr = rng.uniform(-2, 2, (20, 1))
    widget.set_curve(x_grid, np.sin(x_grid), xr, np.sin(xr[:, 0]), xr[:5], np.sin(xr[:5, 0]))
    np.testing.assert_array_equal(widget.curve.getOriginalDataset()[1], np.sin(x_grid))
    np.testing.assert_array_equal(widget.train_points.data["y"], np.sin(xr[:, 0]))
    assert not widget.image.isVisible()
    assert widget.plot.getAxis("bottom").labelText == "x (standardised)"
    assert widget.plot.getAxis("left").labelText == "y"
    assert _legend_names(widget.legend) == ["train", "validation", "model"]


def test_confusion_matrix_writes_each_count(qtbot):
    widget = ConfusionMatrixPlot()
    qtbot.addWidget(widget)
    matrix = np.array([[5, 1, 0], [2, 7, 1], [0, 3, 9]])
    widget.set_matrix(matrix, ["cat", "dog", "a very long class name"])

    assert [t.toPlainText() for t in widget.texts] == [str(v) for v in matrix.ravel()]
    assert widget.texts[5].pos().x() == 2 and widget.texts[5].pos().y() == 1  # row 1 (true), column 2 (predicted)
    assert widget.plot.getAxis("bottom").labelText == "predicted class"
    assert widget.plot.getAxis("left").labelText == "true class"
    assert [label for _pos, label in widget.plot.getAxis("bottom")._tickLevels[0]][:2] == ["cat", "dog"]
    widget.set_matrix(matrix.T, ["cat", "dog", "eel"])
    assert [t.toPlainText() for t in widget.texts] == [str(v) for v in matrix.T.ravel()]
    with pytest.raises(ValueError, match="square"):
        widget.set_matrix(np.ones((2, 3)), ["a", "b"])


def test_a_large_confusion_matrix_is_one_image_without_text_items(qtbot, tmp_path):
    """300 classes once meant 90,000 text items and minutes of drawing: now an image, every n-th class named."""
    from visualizer.qt.plots.confusion_plot import MAX_TEXT_CLASSES, MAX_TICK_LABELS

    widget = ConfusionMatrixPlot()
    qtbot.addWidget(widget)
    k = 300
    matrix = np.random.default_rng(0).integers(0, 50, (k, k)) + np.diag(np.full(k, 500))
    widget.set_matrix(matrix, [f"class {i}" for i in range(k)])
    assert widget.texts == [] and not widget.counts_shown and k > MAX_TEXT_CLASSES
    assert widget.image.image.shape == (k, k)
    np.testing.assert_array_equal(widget.matrix, matrix)
    ticks = widget.plot.getAxis("bottom")._tickLevels[0]
    step = ticks[1][0]  # every n-th class is named, n as the room allows
    assert len(ticks) <= MAX_TICK_LABELS and ticks[:2] == [(0, "class 0"), (step, f"class {step}")]
    png = export_widget(widget, tmp_path / "confusion.png", 800, 700)
    assert _distinct_colours(QImage(str(png))) > 10
    widget.set_matrix(np.eye(3, dtype=int) * 4)  # and back to a small one: its counts written again
    assert [t.toPlainText() for t in widget.texts] == [str(v) for v in (np.eye(3, dtype=int) * 4).ravel()]


def test_confusion_counts_are_written_only_while_they_fit(qtbot):
    widget = ConfusionMatrixPlot()
    qtbot.addWidget(widget)
    k = 30
    widget.set_matrix(np.full((k, k), 1234), [str(i) for i in range(k)])
    assert len(widget.texts) == k * k
    widget.resize(300, 300)
    widget.show()
    qtbot.waitUntil(lambda: not widget.counts_shown)  # 30 cells in ~200 px: no room for "1234"
    assert len(widget.plot.getAxis("bottom")._tickLevels[0]) < 10  # nor for 30 names side by side
    widget.resize(1800, 1800)
    qtbot.waitUntil(lambda: widget.counts_shown)


# --- export ---------------------------------------------------------------------------------
def _distinct_colours(image: QImage) -> int:
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(rgb.constBits(), np.uint32).copy()  # copy while `rgb` owns the memory
    return len(np.unique(pixels))


def test_ensure_app_returns_the_running_application(qapp):
    assert ensure_app() is qapp


QUIET_SCRIPT = """
from visualizer.qt.plots import ensure_app
from PySide6.QtCore import qWarning
from PySide6.QtWidgets import QWidget
app = ensure_app()
w = QWidget(); w.show(); w.setFixedSize(200, 200); app.processEvents()
qWarning("another Qt warning")
"""


def test_an_offscreen_app_drops_only_the_size_hint_note():
    """Every offscreen command printed "This plugin does not support propagateSizeHints()"; other warnings stay."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run([sys.executable, "-c", QUIET_SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "propagateSizeHints" not in done.stderr and "another Qt warning" in done.stderr


def test_export_png_and_svg(qtbot, tmp_path):
    widget = LossPlot(theme="dark")
    qtbot.addWidget(widget)
    widget.set_history(*_history())

    png = export_widget(widget, tmp_path / "loss.png", width=640, height=400, theme="light")
    image = QImage(str(png))
    assert (image.width(), image.height()) == (640, 400)
    assert _distinct_colours(image) > 50  # curves, text and grid, not a blank page
    assert (image.pixelColor(2, 2).red(), image.pixelColor(2, 2).green()) == (255, 255)  # light background
    assert widget.theme == "dark"  # the export's theme does not stick

    svg = export_widget(widget, tmp_path / "loss.svg", width=640, height=400)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and root.attrib["viewBox"] == "0 0 640 400"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "loss.svg"]  # no temporary files left

    with pytest.raises(ValueError, match="suffix|use"):
        export_widget(widget, tmp_path / "loss.txt")


@pytest.mark.parametrize("make", [HistogramPlot, DecisionBoundaryPlot, ConfusionMatrixPlot])
def test_every_plot_exports_a_non_blank_png(qtbot, tmp_path, make):
    widget = make()
    qtbot.addWidget(widget)
    if isinstance(widget, HistogramPlot):
        widget.set_histograms(_layers(["a", "b"]))
    elif isinstance(widget, DecisionBoundaryPlot):
        xs = np.linspace(-1, 1, 20)
        p1 = np.broadcast_to(((xs + 1) / 2)[None, :], (20, 20))
        widget.set_grid(xs, xs, np.stack([1 - p1, p1], axis=2))
        widget.set_points(np.zeros((3, 2)), np.array([0, 1, 1]))
    else:
        widget.set_matrix(np.eye(4, dtype=int) * 5, None)
    image = QImage(str(export_widget(widget, tmp_path / "plot.png", width=500, height=400)))
    assert (image.width(), image.height()) == (500, 400)
    assert _distinct_colours(image) > 20


def test_changing_layers_many_times_while_shown_does_not_crash(qtbot):
    """A regression test: deleting plot items that had been painted crashed PySide6 in a later paint."""
    import gc

    widget = HistogramPlot()
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    widget.show()
    rng = np.random.default_rng(0)
    for i in range(60):
        names = [f"layer {j} {i % 2}" for j in range((2, 3, 4)[i % 3])]
        widget.set_histograms([(n, np.linspace(-1, 1, 41), rng.integers(0, 9, 40).astype(float)) for n in names])
        qtbot.wait(1)
        if i % 5 == 0:
            widget.clear()
            gc.collect()
    assert len(widget.plots) == len(names)


def _history_of(losses):
    from visualizer.core.training.events import StepEvent
    from visualizer.core.training.history import History

    history = History()
    for step, loss in enumerate(losses):
        evaluated = step % 5 == 0 and np.isfinite(loss)
        history.append(StepEvent(step, 1, float(loss), 0.1, step * 0.01, *((loss, 0.5, 0.5, loss) if evaluated
                                                                            else ())))
    return history


def test_a_loss_that_spans_decades_is_drawn_on_a_log_axis(qtbot):
    """loss.png of a diverged run was linear up to 1e6: a flat line, then a wall."""
    from visualizer.core.scales import wants_log_axis
    from visualizer.qt.plots.figures import loss_figure

    diverging = _history_of([0.5 * 10.0 ** (s / 2) for s in range(18)] + [np.inf])
    plot = loss_figure(diverging, "r2")
    qtbot.addWidget(plot)
    assert plot.loss_plot.getAxis("left").logMode
    converging = _history_of(0.7 * np.exp(-np.linspace(0, 2.5, 40)))  # 0.7 to 0.06: one decade, linear reads well
    plot = loss_figure(converging, "accuracy")
    qtbot.addWidget(plot)
    assert not plot.loss_plot.getAxis("left").logMode
    assert wants_log_axis(np.array([1.0, 150.0])) and not wants_log_axis(np.array([1.0, 90.0, np.inf, 0.0]))
    assert not wants_log_axis(np.array([np.nan]), None)


def test_confusion_names_are_shortened_before_classes_are_skipped(qtbot):
    widget = ConfusionMatrixPlot()
    qtbot.addWidget(widget)
    widget.set_matrix(np.eye(3, dtype=int) * 50, ["setosa", "versicolor", "virginica"])
    widget.resize(330, 300)
    widget.show()
    qtbot.waitUntil(lambda: widget.plot.vb.boundingRect().width() < 250)
    labels = [label for _pos, label in widget.plot.getAxis("bottom")._tickLevels[0]]
    assert len(labels) == 3 and labels[0] == "setosa" and all(a[:4] == b[:4] for a, b in
                                                                zip(labels[1:], ["versicolor", "virginica"]))


def test_loss_plot_draws_the_regularization_penalty_as_its_own_curve(loss_plot, qtbot):
    steps, train_loss, eval_steps, val_loss, train_acc, val_acc = _history()
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc)
    assert not loss_plot.penalty_curve.isVisible() and loss_plot.loss_legend.getLabel(loss_plot.penalty_curve) is None
    penalty = np.linspace(0.05, 0.02, steps.size)
    loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc, penalty=penalty)
    x, y = loss_plot.penalty_curve.getData()
    assert loss_plot.penalty_curve.isVisible() and np.array_equal(y, penalty) and np.array_equal(x, steps)
    assert loss_plot.loss_legend.getLabel(loss_plot.penalty_curve).text == "regularization"
    loss_plot.resize(800, 500)
    loss_plot.show()
    qtbot.waitExposed(loss_plot)
    loss_plot.grab()
    loss_plot.scene().sigMouseMoved.emit(loss_plot.loss_plot.vb.mapViewToScene(QPointF(120.2, 0.5)))
    qtbot.waitUntil(loss_plot.readout.isVisible, timeout=1000)
    assert f"of which regularization {penalty[119]:.4g}" in loss_plot.readout.toPlainText()
    with pytest.raises(ValueError, match="penalty"):
        loss_plot.set_history(steps, train_loss, eval_steps, val_loss, train_acc, val_acc, penalty=penalty[:3])


def test_boundary_shows_or_hides_the_validation_points_alone(qtbot):
    widget = DecisionBoundaryPlot()
    qtbot.addWidget(widget)
    rng = np.random.default_rng(0)
    widget.set_points(rng.normal(size=(20, 2)), np.arange(20) % 2, rng.normal(size=(6, 2)), np.arange(6) % 2)
    labels = lambda: [label.text for _sample, label in widget.legend.items]  # noqa: E731
    assert labels() == ["train", "validation"]
    widget.set_validation_shown(False)
    assert widget.train_points.isVisible() and not widget.val_points.isVisible() and labels() == ["train"]
    widget.set_points_shown(False)
    assert not widget.train_points.isVisible() and not widget.val_points.isVisible() and labels() == []
    widget.set_points_shown(True)
    assert widget.train_points.isVisible() and not widget.val_points.isVisible()  # the choice is kept
    widget.set_validation_shown(True)
    assert widget.val_points.isVisible() and labels() == ["train", "validation"]


def test_a_cleared_confusion_matrix_keeps_its_texts_for_the_next_and_takes_a_theme(qtbot):
    """Clearing hides the count texts and keeps them for a matrix of as many classes (making them took ~90 ms of
    a run's first frames); a theme switched after the clear restyles it (it raised: names for a 0x0 matrix)."""
    widget = ConfusionMatrixPlot()
    qtbot.addWidget(widget)
    widget.resize(500, 500)
    widget.show()
    widget.prepare(["a", "b", "c"])
    texts = list(widget.texts)
    assert [t.toPlainText() for t in texts] == ["0"] * 9
    widget.clear()
    widget.set_theme("dark")
    widget.resize(520, 520)  # a resize of the cleared plot
    qtbot.wait(50)
    assert widget.matrix.size == 0 and not widget.counts_shown
    matrix = np.array([[5, 1, 0], [2, 7, 1], [0, 3, 9]])
    widget.set_matrix(matrix, ["a", "b", "c"])
    assert widget.texts == texts and [t.toPlainText() for t in texts] == [str(v) for v in matrix.ravel()]
    qtbot.waitUntil(lambda: widget.counts_shown)


def test_confusion_counts_take_the_colour_that_reads_on_their_cell_in_each_theme(qtbot):
    """The counts' colours are worked out once per entry of the theme's colour table: after a theme switch each is
    still the one with the most contrast on its cell (light on the dark cells, dark on the light ones)."""
    from PySide6.QtGui import QColor

    from visualizer.qt.plots._style import readable_on

    widget = ConfusionMatrixPlot()
    qtbot.addWidget(widget)
    matrix = np.array([[90, 10, 0], [0, 50, 50], [1, 0, 99]])
    on_empty = {}
    for theme in ("dark", "light"):
        widget.set_theme(theme)
        widget.set_matrix(matrix, ["a", "b", "c"], title=f"Confusion matrix ({theme})")
        assert widget.plot.titleLabel.text == f"Confusion matrix ({theme})"  # a new title restyles the plot
        fraction = matrix / matrix.sum(axis=1, keepdims=True)
        lut = widget.image.lut
        for text, frac in zip(widget.texts, fraction.ravel(), strict=True):
            cell = QColor(*(int(v) for v in lut[round(float(frac) * (len(lut) - 1))][:3]))
            want = readable_on(cell, (widget._theme.foreground, "#000000", "#ffffff"))
            assert text.color.name() == QColor(want).name()
        on_empty[theme] = {t.color.name() for t, f in zip(widget.texts, fraction.ravel(), strict=True) if f == 0}
    assert on_empty["light"] == {"#000000"} and on_empty["dark"] == {"#ffffff"}  # each theme's own colours
