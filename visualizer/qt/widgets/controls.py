"""Small control factories: a widget with its object name, range and tooltip set in one call."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QPushButton, QSpinBox, QVBoxLayout, QWidget


def button(text: str, name: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.setToolTip(tip)
    return b


def spin(name: str, lo: int, hi: int, value: int, tip: str, suffix: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setObjectName(name)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setSuffix(suffix)
    s.setToolTip(tip)
    return s


def double_spin(name: str, lo: float, hi: float, value: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setObjectName(name)
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setValue(value)
    s.setToolTip(tip)
    return s


def export_plots_into_folder(window, what: str) -> None:
    """Ask for a folder and write ``window.export_plots(folder)`` there; the outcome goes to ``window.show_message``
    (the Export PNG… buttons of the tool windows)."""
    from PySide6.QtWidgets import QFileDialog

    folder = QFileDialog.getExistingDirectory(window, f"Export the {what} plots into…")
    if folder:
        try:
            written = window.export_plots(folder)
        except (OSError, ValueError) as exc:
            window.show_message(f"Export failed: {exc}", error=True)
        else:
            window.show_message(f"Wrote {len(written)} PNG file(s) into {folder}.")


def resize_within_screen(window, width: int, height: int) -> None:
    """Give a window its usual size, or the screen's available size where that is smaller (a tool window of 1500 x
    960 on a 1366 x 768 projector would run off the screen)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None and screen.availableGeometry().width() > 0:
        area = screen.availableGeometry()
        width, height = min(width, area.width()), min(height, area.height())
    window.resize(width, height)


def titled(widget: QWidget, *controls: QWidget) -> QWidget:
    """A view with a thin row of controls above it."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    if controls:
        row = QHBoxLayout()
        row.setContentsMargins(6, 2, 6, 0)
        for c in controls:
            row.addWidget(c)
        row.addStretch(1)
        layout.addLayout(row)
    layout.addWidget(widget, 1)
    return box
