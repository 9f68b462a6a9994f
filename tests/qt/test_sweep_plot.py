"""SweepPlot and CompareHistogramPlot hold what they are given, reuse their items, and export."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from tests.qt.clicks import click_legend_entry
from visualizer.qt.plots import CompareHistogramPlot, SweepPlot, ensure_app, export_widget, histogram_pair
from visualizer.qt.plots.compare_histogram_plot import MAX_LEVEL_LINES


@pytest.fixture(autouse=True)
def _app():
    return ensure_app()


def _curves():
    x = np.array([0.0, 10, 50, 90, 99])
    return {"layer 1": (x, [0.97, 0.97, 0.96, 0.9, 0.4]), "layer 2": (x, [0.97, 0.97, 0.97, 0.95, 0.6]),
            "global": (x, [0.97, 0.96, 0.95, 0.6, 0.1])}


def test_sweep_plot_shows_each_curve_with_a_legend_entry():
    plot = SweepPlot()
    plot.set_axes("sparsity (%)", "accuracy", "Sensitivity")
    plot.set_curves(_curves())
    shown = plot.curves_shown()
    assert list(shown) == ["layer 1", "layer 2", "global"]
    for name, (x, y) in _curves().items():
        np.testing.assert_array_equal(shown[name][0], x)
        np.testing.assert_array_equal(shown[name][1], y)
    assert [label.text for _sample, label in plot.legend.items] == ["layer 1", "layer 2", "global"]
    assert plot.plot.getAxis("bottom").labelText == "sparsity (%)"
    assert plot.plot.getAxis("left").labelText == "accuracy"
    (_x0, _x1), (y0, y1) = plot.plot.vb.viewRange()
    assert y0 < 0 and y1 > 1  # accuracy keeps its whole 0-1 range
    # global, the curve the others are compared with, is drawn thicker
    items = dict(zip(shown, plot._pool))
    assert items["global"].opts["pen"].widthF() > items["layer 1"].opts["pen"].widthF()


def test_sweep_plot_reuses_its_curves_and_hides_the_unused():
    plot = SweepPlot()
    plot.set_curves(_curves())
    pool = list(plot._pool)
    plot.set_curves({"bits": ([2, 3, 4], [0.5, 0.9, 0.96])})
    assert list(plot.curves_shown()) == ["bits"]
    assert [label.text for _s, label in plot.legend.items] == ["bits"]
    assert not pool[1].isVisible() and not pool[2].isVisible()
    plot.set_curves(_curves())
    assert plot._pool == pool  # the same items again: never deleted
    with pytest.raises(ValueError, match="3 x values for 2 y values"):
        plot.set_curves({"bad": ([1, 2, 3], [1, 2])})
    plot.clear()
    assert plot.curves_shown() == {} and not plot.legend.isVisible()


def test_sweep_plot_baseline_and_integer_ticks():
    plot = SweepPlot()
    plot.set_axes("bits", "R²")
    plot.set_baseline(0.93, "original")
    assert plot.baseline.isVisible() and plot.baseline.value() == pytest.approx(0.93)
    assert plot.baseline_text.toPlainText() == "original 0.93"
    plot.set_curves({"bits": ([2, 3, 4, 5], [-3.0, 0.5, 0.9, 0.92])})
    ticks = {v for _spacing, values in plot.plot.getAxis("bottom").tickValues(2, 5, 600) for v in values}
    assert ticks == {2, 3, 4, 5}  # a tick at every bit width, none at 2.5
    (_x, (y0, _y1)) = plot.plot.vb.viewRange()
    assert -1.2 < y0 < -0.9  # R² far below zero is cut at -1
    plot.set_curves({"global": ([0, 50, 99], [1.0, 0.9, 0.2])})
    plot.set_baseline(None)
    assert not plot.baseline.isVisible()


def test_sweep_plot_exports_and_switches_theme(tmp_path):
    plot = SweepPlot(theme="dark")
    plot.set_curves(_curves())
    plot.set_baseline(0.97)
    assert plot.theme == "dark"
    path = export_widget(plot, tmp_path / "sweep.png", 800, 500, theme="light")
    assert path.stat().st_size > 5000 and plot.theme == "dark"


def test_histogram_pair_counts_before_and_after_on_shared_bins():
    rng = np.random.default_rng(0)
    before = rng.normal(0, 0.1, 1000)
    after = np.where(np.abs(before) < 0.05, 0.0, before)  # magnitude pruning
    pair = histogram_pair("layer 1", before, after, drop_zeros=True, note="38% zeros")
    assert pair.edges.size == 41 and pair.before.sum() == 1000
    assert pair.after.sum() == np.count_nonzero(after)
    np.testing.assert_array_equal(pair.before, np.histogram(before, pair.edges)[0])
    assert histogram_pair("x", before, after).after.sum() == 1000  # zeros kept when asked


def test_histogram_bins_are_centred_on_the_levels_of_a_coarse_grid():
    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.1, 5000)
    step = 0.0625
    q = np.round(w / step) * step
    levels = np.unique(q)
    pair = histogram_pair("layer", w, q, levels=levels, step=step)
    widths = np.diff(pair.edges)
    np.testing.assert_allclose(widths, widths[0])
    centres = (pair.edges[:-1] + pair.edges[1:]) / 2
    occupied = centres[pair.after > 0]
    np.testing.assert_allclose(occupied / step, np.round(occupied / step), atol=1e-9)
    assert pair.after.sum() == w.size and pair.before.sum() == w.size


def test_compare_plot_draws_levels_and_reuses_its_plots():
    rng = np.random.default_rng(2)
    plot = CompareHistogramPlot()
    w = rng.normal(0, 0.2, 2000)
    step = 0.125
    q = np.round(w / step) * step
    pairs = [histogram_pair(f"layer {i}", w, q, levels=np.unique(q), step=step, note="3 bits") for i in range(3)]
    plot.set_pairs(pairs, "float32", "quantized")
    assert plot.layer_names == ["layer 0", "layer 1", "layer 2"]
    np.testing.assert_allclose(plot.levels_shown(0), np.unique(q))
    assert [label.text for _s, label in plot.legend.items] == ["float32", "quantized", "levels"]
    assert plot.plots[0].getAxis("bottom").autoSIPrefixScale == 1.0  # ticks read 0.2, not 200
    plots = plot.plots
    plot.set_theme("dark")
    assert plot.plots[0].getAxis("bottom").autoSIPrefixScale == 1.0
    # too many levels to draw: none are drawn, the histograms still are
    fine = histogram_pair("dense", w, np.round(w / 2**-9) * 2**-9, levels=np.arange(-400, 401) * 2**-9)
    plot.set_pairs([fine])
    assert plot.levels_shown(0).size == 0 and np.arange(-400, 401).size > MAX_LEVEL_LINES
    plot.set_pairs(pairs)
    assert plot.plots == plots  # pooled, never deleted
    with pytest.raises(ValueError, match="need bins"):
        plot.set_pairs([pairs[0].__class__("bad", np.arange(3), np.arange(3))])
    plot.clear()
    assert plot.layer_names == [] and not plot.legend.isVisible()


def test_a_curve_hidden_from_the_legend_stays_hidden_when_the_sweep_grows_and_the_theme_changes():
    plot = SweepPlot()
    plot.set_curves(_curves())
    items = dict(zip(plot.curves_shown(), plot._pool))
    click_legend_entry(plot.legend, "layer 2")
    assert not items["layer 2"].isVisible()
    grown = {name: (np.append(x, 100.0), [*y, 0.1]) for name, (x, y) in _curves().items()}
    plot.set_curves(grown)  # a sweep's next point
    plot.set_theme("dark")
    assert not items["layer 2"].isVisible() and items["layer 1"].isVisible() and items["global"].isVisible()
    assert [label.text for _sample, label in plot.legend.items] == ["layer 1", "layer 2", "global"]
    plot.set_curves({"layer 1": grown["layer 1"]})  # other curves: each shown again
    plot.set_curves(grown)
    assert all(item.isVisible() for item in plot._pool[:3])
