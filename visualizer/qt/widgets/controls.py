"""Small control factories: a widget with its object name, range and tooltip set in one call."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QPushButton, QSpinBox


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
