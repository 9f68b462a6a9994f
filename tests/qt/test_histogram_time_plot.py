"""HistogramTimePlot resamples each snapshot onto one value grid, keeps the counts, and places columns by step."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import numpy as np
import pytest
from PySide6.QtGui import QImage

from visualizer.qt.plots import HistogramTimePlot, export_widget
from visualizer.qt.plots import histogram_time_plot as htp


@pytest.fixture
def plot(qtbot) -> HistogramTimePlot:
    widget = HistogramTimePlot()
    qtbot.addWidget(widget)
    return widget


def _row_centres(plot: HistogramTimePlot) -> np.ndarray:
    grid = plot.grid
    return (grid[:-1] + grid[1:]) / 2


def _widening(n: int = 300, seed: int = 0) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Histograms of a gaussian that widens over training, each with its own bin edges (as core records them)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        counts, edges = np.histogram(rng.normal(0.1 * i / n, 0.05 + 0.6 * i / n, 512), bins=30)
        out.append((10 * i, edges, counts))
    return out


def _overlap_reference(grid: np.ndarray, edges: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each source bin's count shared among grid bins by overlap length (a slow loop, written independently)."""
    out = np.zeros(grid.size - 1)
    for a, b, c in zip(edges[:-1], edges[1:], counts):
        for r, (lo, hi) in enumerate(zip(grid[:-1], grid[1:])):
            overlap = min(b, hi) - max(a, lo)
            if overlap > 0:
                out[r] += c * overlap / (b - a)
    return out


def test_mass_lands_at_the_right_values_for_each_step(plot):
    plot.append(0, np.linspace(0.45, 0.55, 11), np.full(10, 10.0))
    plot.append(10, np.linspace(-0.55, -0.45, 11), np.full(10, 10.0))
    assert plot.columns == 2
    np.testing.assert_allclose(plot.grid[[0, -1]], [-0.55, 0.55])
    centres = _row_centres(plot)
    data = plot.resampled
    for column, value in ((0, 0.5), (1, -0.5)):
        mass = data[:, column]
        assert np.average(centres, weights=mass) == pytest.approx(value, abs=0.01)
        assert mass[np.abs(centres - value) > 0.07].sum() == 0
    # The image: one pixel column per snapshot here (evenly spaced), zero counts transparent (NaN).
    image = plot.image.image
    assert image.shape == (htp.ROWS, 2)
    top_rows = np.nonzero(np.abs(centres - 0.5) < 0.04)[0]
    assert np.all(np.isfinite(image[top_rows, 0])) and np.all(np.isnan(image[top_rows, 1]))
    # The image sits at steps 0..20 (the last column as wide as the gap) and values -0.55..0.55.
    rect = plot.image.mapRectToParent(plot.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((0, 20))
    assert (rect.top(), rect.bottom()) == pytest.approx((-0.55, 0.55))


def test_resampling_matches_bin_overlap_reference_and_keeps_totals(plot):
    rng = np.random.default_rng(1)
    for step in range(0, 200, 20):
        lo = rng.uniform(-2, 0)
        edges = np.sort(np.concatenate(([lo, lo + rng.uniform(0.1, 3)], rng.uniform(lo, lo + 0.1, 7))))
        edges = np.linspace(edges[0], edges[-1], 9) if step % 40 else edges  # uneven and even bins
        plot.append(step, edges, rng.integers(0, 50, edges.size - 1))
    data = plot.resampled
    for column, (edges, cumulative) in enumerate(zip(plot._edges, plot._cumulative)):
        counts = np.diff(cumulative)
        np.testing.assert_allclose(data[:, column], _overlap_reference(plot.grid, edges, counts), atol=1e-9)
        assert data[:, column].sum() == pytest.approx(counts.sum(), rel=1e-12)


def test_set_columns_equals_repeated_append(qtbot, plot):
    history = _widening(120)
    for step, edges, counts in history:
        plot.append(step, edges, counts)
    rebuilt = HistogramTimePlot()
    qtbot.addWidget(rebuilt)
    steps, edges, counts = zip(*history)
    rebuilt.set_columns(np.array(steps), list(edges), list(counts))
    assert rebuilt.columns == plot.columns == 120
    np.testing.assert_array_equal(rebuilt.steps, plot.steps)
    np.testing.assert_allclose(rebuilt.grid, plot.grid)
    np.testing.assert_allclose(rebuilt.resampled, plot.resampled, atol=1e-9)
    np.testing.assert_allclose(rebuilt.image.image, plot.image.image, atol=1e-9)  # NaNs in the same places


def test_uneven_steps_draw_each_snapshot_until_the_next(plot):
    for step, centre in ((0, -0.5), (10, 0.0), (30, 0.5)):
        plot.append(step, np.linspace(centre - 0.05, centre + 0.05, 3), np.array([5.0, 5.0]))
    image = plot.image.image
    assert image.shape == (htp.ROWS, 4)  # cells of the smallest gap (10 steps): 0, 10, 20, 30
    np.testing.assert_array_equal(np.isnan(image[:, 1]), np.isnan(image[:, 2]))  # step 20 shows step 10
    rect = plot.image.mapRectToParent(plot.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((0, 40))


def test_same_step_replaces_and_earlier_step_is_refused(plot):
    plot.append(5, np.linspace(0, 1, 5), np.ones(4))
    plot.append(5, np.linspace(0, 1, 5), 2 * np.ones(4))
    assert plot.columns == 1 and plot.resampled.sum() == pytest.approx(8)
    with pytest.raises(ValueError, match="before the last snapshot"):
        plot.append(4, np.linspace(0, 1, 5), np.ones(4))
    with pytest.raises(ValueError, match="edges for"):
        plot.append(6, np.linspace(0, 1, 4), np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        plot.append(6, np.linspace(0, 1, 5), np.array([1, np.nan, 1, 1]))


def test_columns_are_capped_by_thinning(plot, monkeypatch):
    monkeypatch.setattr(htp, "MAX_COLUMNS", 40)
    for step in range(100):
        plot.append(step, np.linspace(-1, 1, 5), np.ones(4))
    assert 20 <= plot.columns <= 40
    assert plot.steps[0] == 0 and plot.steps[-1] == 99
    assert np.all(np.diff(plot.steps) > 0)


def test_clear_empties_and_titles_follow_layer_and_kind(plot):
    plot.set_layer("layer 1 (2→16)")
    assert plot.plot.titleLabel.text == "layer 1 (2→16): weights over time"
    assert plot.plot.getAxis("left").labelText == "weight value"
    assert plot.plot.getAxis("bottom").labelText == "step"
    plot.set_kind("gradients")
    assert plot.plot.titleLabel.text == "layer 1 (2→16): gradients over time"
    assert plot.plot.getAxis("left").labelText == "gradient value"
    with pytest.raises(ValueError):
        plot.set_kind("biases")
    plot.append(0, np.linspace(-1, 1, 5), np.ones(4))
    plot.clear()
    assert plot.columns == 0 and plot.image.image is None and plot.grid.size == 0
    plot.append(0, np.linspace(2, 3, 5), np.ones(4))  # a fresh range after clear
    np.testing.assert_allclose(plot.grid[[0, -1]], [2, 3])


def test_append_stays_fast_at_500_columns(plot):
    history = _widening(560)
    for step, edges, counts in history[:500]:
        plot.append(step, edges, counts)
    times = []
    for step, edges, counts in history[500:]:
        start = time.perf_counter()
        plot.append(step, edges, counts)
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.004  # ~0.2-1 ms measured; loose for slow CI machines


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_export_shows_the_histograms(plot, tmp_path, theme):
    plot.set_layer("layer 1 (2→16)")
    steps, edges, counts = zip(*_widening(300))
    plot.set_columns(np.array(steps), list(edges), list(counts))
    path = export_widget(plot, tmp_path / f"histogram_time_{theme}.png", 500, 350, theme=theme)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (500, 350)
    centre = {image.pixel(x, y) for x in range(150, 350, 4) for y in range(100, 250, 4)}
    assert len(centre) > 20  # the colour-mapped band, not a blank plot


def test_gradients_fill_the_axis_not_the_empty_first_snapshot(qtbot, plot):
    """The first snapshot has no gradients yet (an empty histogram on ±1): the axis fits the gradients that follow,
    appended one by one or set at once."""
    rng = np.random.default_rng(1)
    empty = (0, np.linspace(-1, 1, 31), np.zeros(30))
    later = []
    for i in range(1, 20):
        counts, edges = np.histogram(rng.normal(0, 0.004 + 0.0003 * i, 400), bins=30)
        later.append((10 * i, edges, counts))
    lo = min(edges[0] for _s, edges, _c in later)
    hi = max(edges[-1] for _s, edges, _c in later)
    plot.set_kind("gradients")
    for step, edges, counts in [empty, *later]:
        plot.append(step, edges, counts)
    assert plot.grid[0] == pytest.approx(lo) and plot.grid[-1] == pytest.approx(hi)
    assert plot.resampled[:, 0].sum() == 0 and plot.resampled[:, 1:].sum() == pytest.approx(400 * len(later))
    appended = plot.resampled
    plot.set_columns(*map(list, zip(empty, *later)))
    assert plot.grid[0] == pytest.approx(lo) and plot.grid[-1] == pytest.approx(hi)
    np.testing.assert_allclose(plot.resampled, appended)
    plot.resize(500, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.grab()  # drawn: the view has ranged itself on the image
    y0, y1 = plot.plot.vb.viewRange()[1]
    assert y1 - y0 < 2 * (hi - lo)  # the view is the gradients' range, not ±1
    plot.clear()
    plot.append(*empty)  # alone, an empty histogram still gives the grid a range
    assert plot.grid[0] == -1 and plot.grid[-1] == 1


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_the_colour_bar_title_stays_clear_of_its_ticks(qtbot, scale):
    """Counts in the thousands wrote the colour bar's ticks under its rotated "count" title."""
    from PySide6.QtGui import QPainter

    from visualizer.qt.plots._style import set_presentation_scale

    set_presentation_scale(scale, scale)
    try:
        plot = HistogramTimePlot()
        qtbot.addWidget(plot)
        plot.resize(600, 320)
        plot.show()
        qtbot.waitExposed(plot)
        for i in range(12):
            plot.append(i, np.linspace(-1, 1, 11), np.full(10, 120_000.0 + 5000 * i))
        qtbot.wait(20)
        axis = plot.colorbar.axis
        image = QImage(10, 10, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            _axis, _ticks, texts = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        assert texts and max(len(text) for _r, _f, text in texts) >= 5  # "20000"-like ticks
        title = axis.label.sceneBoundingRect()
        for rect, _flags, text in texts:
            tick = axis.mapRectToScene(rect)
            assert tick.right() <= title.left() + 2, (text, tick, title)  # the title is right of every tick
        margin = axis.label.document().documentMargin()
        visible = plot.mapToScene(plot.viewport().rect()).boundingRect()
        assert title.adjusted(margin, margin, -margin, -margin).right() <= visible.right()  # and not cut off
    finally:
        set_presentation_scale(1.0, 1.0)


def test_columns_appended_without_drawing_are_drawn_once_when_shown(qtbot):
    """Live frames bring several snapshots: they are appended undrawn, then drawn once, and a hidden plot (another
    tab) draws only when it is shown: the same picture as drawing each."""
    rng = np.random.default_rng(3)
    columns = []
    for k in range(6):
        counts, edges = np.histogram(rng.normal(0, 0.1 * (k + 1), 300), bins=20)
        columns.append((10 * k, edges, counts))
    eager, lazy = HistogramTimePlot(), HistogramTimePlot()
    for widget in (eager, lazy):
        qtbot.addWidget(widget)
    for step, edges, counts in columns:
        eager.append(step, edges, counts)
        lazy.append(step, edges, counts, draw=False)
    assert lazy.stale and lazy.image.image is None  # nothing drawn yet
    lazy.draw_if_visible()
    assert lazy.stale and lazy.image.image is None  # hidden: still waiting
    lazy.show()
    qtbot.waitExposed(lazy)
    assert not lazy.stale
    np.testing.assert_allclose(lazy.image.image, eager.image.image, atol=1e-12)
    lazy.append(60, *np.histogram(rng.normal(0, 0.7, 300), bins=20)[::-1], draw=False)
    lazy.draw_if_visible()  # shown: drawn at once
    assert not lazy.stale and lazy.image.image.shape[1] == 7


def test_a_hidden_plot_resamples_its_columns_once_when_they_are_wanted(plot, qtbot, monkeypatch):
    """Weights that spread widen the grid at every snapshot; appended without drawing (a hidden tab), the columns
    are resampled onto the last grid once, when they are drawn or read, and hold what drawing each would."""
    shown = HistogramTimePlot()
    qtbot.addWidget(shown)
    calls = []
    real = htp.resample
    monkeypatch.setattr(htp, "resample", lambda *args: calls.append(len(args[1])) or real(*args))
    rng = np.random.default_rng(0)
    snapshots = []
    for step in range(40):
        counts, edges = np.histogram(rng.normal(scale=1 + step / 10, size=400), bins=15)  # wider every time
        snapshots.append((step, edges, counts))
    for snapshot in snapshots:
        plot.append(*snapshot, draw=False)
    assert calls == [] and plot.stale  # nothing resampled yet
    for snapshot in snapshots:
        shown.append(*snapshot)
    assert len(calls) >= 20  # drawn at once, the other plot resampled at (almost) every snapshot
    before = len(calls)
    np.testing.assert_allclose(plot.resampled, shown.resampled, atol=1e-9)
    assert calls[before:] == [40]  # one resampling of the 40 columns
    plot.redraw()
    assert not plot.stale and calls[before:] == [40]
