"""Clicks on plot items that pyqtgraph handles itself, without a mouse: shared by the plot tests."""

from __future__ import annotations

from PySide6.QtCore import Qt


class _LeftClick:
    """What pyqtgraph hands to an item's mouseClickEvent for a left click (the parts a legend entry reads)."""

    def button(self):
        return Qt.MouseButton.LeftButton

    def accept(self):
        pass


def click_legend_entry(legend, text: str) -> None:
    """A left click on the entry ``text`` of a pyqtgraph LegendItem (its sample toggles the curve's visibility)."""
    next(sample for sample, label in legend.items if label.text == text).mouseClickEvent(_LeftClick())
