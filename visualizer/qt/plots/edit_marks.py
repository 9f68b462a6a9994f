"""Marks on the loss plot where weights were set by hand: a dotted vertical line at each edit's step, labelled ✎,
with what was set as its tooltip (live and in replay, from the WeightEdited events)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt


class EditMarks:
    """One dotted line per step at which weights were set by hand, on ``plot`` (a PlotItem)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.lines: dict[int, pg.InfiniteLine] = {}
        self.edits: list = []
        self._color = "#202124"

    def set_theme(self, theme) -> None:
        self._color = theme.foreground
        for line in self.lines.values():
            self._style(line)

    def set(self, edits) -> None:
        """Mark exactly these edits (WeightEdited), replacing any marks."""
        for line in self.lines.values():
            self.plot.removeItem(line)
        self.lines, self.edits = {}, []
        self.add(edits)

    def add(self, edits) -> None:
        """Mark more edits (a live run's, as they come)."""
        from visualizer.core.runs.edits import describe_edit

        for edit in edits:
            self.edits.append(edit)
            line = self.lines.get(edit.step)
            if line is None:
                line = self.lines[edit.step] = pg.InfiniteLine(pos=edit.step, angle=90, movable=False, label="✎",
                                                               labelOpts={"position": 0.95})
                self._style(line)
                line.setZValue(12)
                self.plot.addItem(line, ignoreBounds=True)
            line.setToolTip("\n".join(describe_edit(e) for e in self.edits if e.step == edit.step))

    def _style(self, line: pg.InfiniteLine) -> None:
        line.setPen(pg.mkPen(self._color, width=1, style=Qt.PenStyle.DotLine))
        line.label.setColor(self._color)
