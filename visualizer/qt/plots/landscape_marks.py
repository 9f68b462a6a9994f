"""Labelled markers on the landscape (where the pruned network lands) and a compared run's path, with their labels
kept inside the view."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from visualizer.qt.plots._style import px, style_text


class LandscapeMarks:
    """Mixin of LandscapePlot (its ``plot``, ``marks``, ``_marks``, ``compare_path``, ``compare_label``, ``compared``,
    ``_theme`` and ``_fit_range``)."""

    @property
    def marked(self) -> list[tuple[str, float, float]]:
        """The labelled markers drawn: (label, α, β)."""
        return list(self._marks)

    def set_marks(self, marks: Sequence[tuple[str, float, float, str]]) -> None:
        """Draw labelled markers (label, α, β, colour) on the plane; the previous ones are replaced."""
        while len(self.marks) < len(marks):
            dot = pg.ScatterPlotItem(symbol="t", size=px(14), pen=pg.mkPen("#000000", width=1.5))
            text = pg.TextItem(anchor=(0.5, 1.25), color="#ffffff", fill=pg.mkBrush("#000000a0"))  # above it
            style_text(text, self._theme, color="#ffffff")
            for item in (dot, text):
                item.setZValue(30)
                self.plot.addItem(item)
            self.marks.append((dot, text))
        self._marks = [(str(label), float(a), float(b)) for label, a, b, _ in marks]
        for k, (dot, text) in enumerate(self.marks):
            if k < len(marks):
                label, a, b, color = marks[k]
                dot.setData([a], [b], brush=pg.mkBrush(color))
                text.setText(str(label))
                text.setPos(a, b)
                dot.show()
                text.show()
            else:
                dot.setData([], [])
                dot.hide()
                text.hide()
        self._fit_range()
        self._place_labels()

    def set_compare_path(self, points: np.ndarray | None, label: str = "") -> None:
        """Draw another run's (T, 2) path, dashed and named at its end (None hides it)."""
        if points is None or len(points) == 0:
            self.compare_path.setData([], [])
            self.compare_path.hide()
            self.compare_label.hide()
            self.compared = None
            return
        points = np.asarray(points, dtype=np.float64)
        self.compare_path.setData(points[:, 0], points[:, 1])
        self.compare_label.setText(label)
        self.compare_label.setPos(float(points[-1, 0]), float(points[-1, 1]))
        self.compare_path.show()
        self.compare_label.show()
        self.compared = (label, points)
        self._place_labels()

    def _place_labels(self, *_args) -> None:
        """Keep each marker's label (and a compared run's name) inside the view: centred above its point where it
        fits, else moved left or right and below the point as far as needed."""
        labels = [(text, a, b) for (_dot, text), (_label, a, b) in zip(self.marks, self._marks)]
        if self.compared is not None:
            end = self.compared[1][-1]
            labels.append((self.compare_label, float(end[0]), float(end[1])))
        vb = self.plot.vb
        room = vb.sceneBoundingRect().adjusted(2, 2, -2, -2)
        if room.width() <= 0 or room.height() <= 0:
            return
        for text, a, b in labels:
            text.updateTransform()  # unscaled in the scene now, not at its next paint
            at = vb.mapViewToScene(pg.Point(a, b))
            size = text.boundingRect()  # in pixels: a text item ignores the view's scaling
            w, h = max(size.width(), 1.0), max(size.height(), 1.0)
            ax = min(max(0.5, 1 - (room.right() - at.x()) / w), (at.x() - room.left()) / w)
            ay = 1.25 if at.y() - 1.25 * h >= room.top() else -0.25  # above the point, else below it
            ay = min(max(ay, 1 - (room.bottom() - at.y()) / h), (at.y() - room.top()) / h)
            text.setAnchor((ax, ay))

