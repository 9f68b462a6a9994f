"""A floating legend moved to the corner of its view where it covers the fewest drawn points (matplotlib's
``loc="best"``), so that the legend never sits on the curves it explains: loss curves fall to the bottom right on one
run and stay at the top on another."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

#: corner -> (the legend's anchor point, the view's anchor point, offset in pixels)
CORNERS = {
    "top-right": ((1, 0), (1, 0), (-8, 8)),
    "top-left": ((0, 0), (0, 0), (8, 8)),
    "bottom-right": ((1, 1), (1, 1), (-8, -8)),
    "bottom-left": ((0, 1), (0, 1), (8, -8)),
}
#: a corner wins over the current one only with fewer than this share of its covered points (no hopping back and forth)
MOVE_BELOW = 0.6


def covered_points(view: pg.ViewBox, corner: str, width: float, height: float, curves) -> int:
    """How many points of ``curves`` (as drawn: log axes and downsampling applied) a legend of width x height pixels
    in ``corner`` of ``view`` covers."""
    item_pos, parent_pos, offset = CORNERS[corner]
    box = view.boundingRect()
    x0 = box.left() + parent_pos[0] * box.width() + offset[0] - item_pos[0] * width
    y0 = box.top() + parent_pos[1] * box.height() + offset[1] - item_pos[1] * height
    a, b = view.mapToView(QPointF(x0, y0)), view.mapToView(QPointF(x0 + width, y0 + height))
    left, right = sorted((a.x(), b.x()))
    low, high = sorted((a.y(), b.y()))
    count = 0
    for curve in curves:
        if not curve.isVisible():
            continue
        x, y = curve.getData()
        if x is None or y is None or len(x) == 0:
            continue
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        count += int(np.count_nonzero((x >= left) & (x <= right) & (y >= low) & (y <= high)))
    return count


def place_legend(legend: pg.LegendItem, curves) -> str:
    """Move ``legend`` (floating over its view box) to the corner where it covers the fewest points of ``curves``;
    it stays where it is unless another corner covers clearly fewer. Returns the corner it is in."""
    view = legend.parentItem()
    current = getattr(legend, "corner", "top-right")
    if not isinstance(view, pg.ViewBox) or not legend.isVisible():
        return current
    width, height = legend.width(), legend.height()
    box = view.boundingRect()
    if width <= 0 or height <= 0 or box.width() <= width or box.height() <= height:
        return current
    counts = {corner: covered_points(view, corner, width, height, curves) for corner in CORNERS}
    best = min(counts, key=lambda c: (counts[c], c != current))
    if best != current and counts[best] < MOVE_BELOW * counts[current]:
        item_pos, parent_pos, offset = CORNERS[best]
        legend.anchor(itemPos=item_pos, parentPos=parent_pos, offset=offset)
        legend.opts["offset"] = offset
        legend.corner = current = best
    return current
