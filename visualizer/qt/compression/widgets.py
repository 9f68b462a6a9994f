"""Small builders shared by the compression tabs: named controls with tooltips, tables, number formats."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from visualizer.qt.evaluation.tables import _cell, make_table
from visualizer.qt.widgets.controls import button, double_spin, spin

__all__ = ["button", "column", "compact", "double_spin", "fill_table", "fmt_bytes", "fmt_seconds", "form",
           "make_table", "note", "percent", "progress_bar", "row", "spin"]


def progress_bar(name: str, tip: str) -> QProgressBar:
    p = QProgressBar()
    p.setObjectName(name)
    p.setRange(0, 1000)
    p.setValue(0)
    p.setTextVisible(True)
    p.setFormat("idle")
    p.setToolTip(tip)
    return p


def note(name: str, tip: str) -> QLabel:
    """A word-wrapped, selectable label for explanations and results."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setToolTip(tip)
    return label


def form(*rows: tuple[str, QWidget]) -> QFormLayout:
    """A form whose labels carry their field's tooltip."""
    layout = QFormLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    for text, widget in rows:
        label = QLabel(text)
        label.setToolTip(widget.toolTip())
        label.setBuddy(widget)
        layout.addRow(label, widget)
    return layout


def row(*widgets: QWidget, stretch: bool = False) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w)
    if stretch:
        layout.addStretch(1)
    return layout


def column(*items, margins: int = 0) -> QWidget:
    """A widget stacking widgets and layouts; an int adds that much stretch."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(margins, margins, margins, margins)
    layout.setSpacing(6)
    for item in items:
        if isinstance(item, int):
            layout.addStretch(item)
        elif isinstance(item, QWidget):
            layout.addWidget(item)
        else:
            layout.addLayout(item)
    return box


def fill_table(table: QTableWidget, headers: list[str], rows: list[list], digits: int = 4) -> None:
    """Rows of cells (numbers right-aligned and kept exactly under Qt.UserRole); the first column left-aligned."""
    table.setUpdatesEnabled(False)
    table.clearContents()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    if headers:
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = _cell(value, digits)
            if c == 0:
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.setUpdatesEnabled(True)


def compact(table: QTableWidget) -> None:
    """Height for its rows (no empty space, no scroll bar for a few rows); ``recompact`` redoes it for new fonts."""
    table.setProperty("compact", True)
    table.resizeRowsToContents()
    height = table.horizontalHeader().height() + 2 * table.frameWidth() + 2
    height += sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(height)


def recompact(window: QWidget) -> None:
    """Fit the compacted tables of ``window`` to their rows again (after a theme change altered the fonts)."""
    for table in window.findChildren(QTableWidget):
        if table.property("compact"):
            compact(table)


def fmt_bytes(n: float | None) -> str:
    if n is None or not math.isfinite(n):
        return "–"
    return f"{int(n):,} B"


def fmt_seconds(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "–"
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def percent(x: float) -> str:
    return f"{100 * x:.1f} %"


def lay_out_tab(tab: QWidget, left: QWidget, top: QWidget, bottom: QWidget, sizes: tuple[int, int],
                left_width: tuple[int, int]) -> None:
    """A tab's layout: controls and tables on the left (between the two widths), two views stacked on the right."""
    left.setMinimumWidth(left_width[0])
    left.setMaximumWidth(left_width[1])
    right = QSplitter(Qt.Orientation.Vertical)
    right.addWidget(top)
    right.addWidget(bottom)
    right.setSizes(list(sizes))
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(left)
    split.addWidget(right)
    split.setStretchFactor(1, 1)
    layout = QVBoxLayout(tab)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(split)
