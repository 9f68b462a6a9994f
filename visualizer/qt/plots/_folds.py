"""Colours and helpers shared by the cross-validation plots (fold map, fold metrics, fold curves)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

UNUSED = {"light": "#dadce0", "dark": "#45474d", "contrast": "#3a3a3a"}
#: metrics whose values are not bounded like scores: drawn on their own axis, left of the scores
UNBOUNDED = ("loss", "mse")
METRIC_LABELS = {"f1": "macro F1", "r2": "R²", "mse": "MSE"}
#: folds drawn in their own colour when overlaid; more are drawn as one muted bundle
MAX_COLOURED_FOLDS = 10
# Tableau 10: distinguishable on white and on dark backgrounds
FOLD_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
               "#9c755f", "#bab0ac")


def _rgba(color: str) -> np.ndarray:
    return np.array(pg.mkColor(color).getRgb(), dtype=np.uint8)


def fold_color(index: int) -> str:
    """Colour of fold `index` (0-based) when folds are overlaid."""
    return FOLD_COLORS[index % len(FOLD_COLORS)]


def _with_alpha(color: str, alpha: int) -> str:
    return f"{pg.mkColor(color).name()}{alpha:02x}"


def _swatch(color: str) -> pg.ScatterPlotItem:
    """A legend-only square of `color` (never added to a plot)."""
    return pg.ScatterPlotItem(symbol="s", size=11, pen=pg.mkPen(color), brush=pg.mkBrush(color))


def _fold_ticks(n: int) -> list[tuple[float, str]]:
    """About a dozen fold labels at round numbers, always including fold 1."""
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000) if n / s <= 12)
    marks = [1, *range(step, n + 1, step)] if step > 1 else list(range(1, n + 1))
    return [(float(f), str(f)) for f in dict.fromkeys(marks)]


