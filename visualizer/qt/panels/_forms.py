"""Pieces the spec panels share: a scrolling form, spin boxes that report finished edits, a hyper-parameter spin box."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QSignalBlocker, Qt
from PySide6.QtGui import QFont, QFontDatabase, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

PANEL_WIDTH = 300  # the width a dock gives a panel at first; panels stay usable from ~260 px
LOG_STEPS_PER_DECADE = 10  # one arrow press on a log-scale field multiplies or divides by 10**0.1 ≈ 1.26
LOG_FLOOR = 1e-12  # smallest value of a log-scale field whose minimum is an exclusive 0 (lr, eps)
LINEAR_NUDGE = 1e-6  # an exclusive bound of a linear field moves inward by this share of the range
_NUMBER_PREFIX = re.compile(r"^[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?$")  # what typing a number passes through


def scrolling_form(panel: QWidget) -> tuple[QFormLayout, QVBoxLayout]:
    """Fill ``panel`` with a frameless scroll area holding a form; returns the form and the column around it."""
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    area = QScrollArea(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    body = QWidget(area)
    column = QVBoxLayout(body)
    column.setContentsMargins(8, 8, 8, 8)
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    column.addLayout(form)
    area.setWidget(body)
    outer.addWidget(area)
    return form, column


def add_row(form: QFormLayout, text: str, field: QWidget, tooltip: str) -> QLabel:
    """Add a labelled row; the label and the field share the tooltip, and the label's buddy is the field."""
    label = QLabel(text)
    label.setBuddy(field)
    label.setToolTip(tooltip)
    field.setToolTip(tooltip)
    form.addRow(label, field)
    return label


def heading(text: str) -> QLabel:
    """A bold section title spanning the form."""
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(0, 6, 0, 0)
    return label


def monospace_label(object_name: str, tooltip: str) -> QLabel:
    """A word-wrapped, selectable label in the fixed-pitch font, for update rules and formulas."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setToolTip(tooltip)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font = QFont()  # only the family is set: the size follows the application's font (presentation mode scales it)
    font.setFamilies(fixed.families())
    font.setStyleHint(QFont.StyleHint.TypeWriter)
    label.setFont(font)
    label.setFrameShape(QFrame.Shape.StyledPanel)
    label.setContentsMargins(6, 4, 6, 4)
    label.setMinimumWidth(1)  # wrap rather than widen the dock
    return label


def int_spin(object_name: str, low: int, high: int, step: int = 1) -> QSpinBox:
    """An integer spin box that reports a value only when typing is finished (Enter, focus out) or on arrows."""
    spin = QSpinBox()
    spin.setObjectName(object_name)
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    return spin


def real_spin(object_name: str, low: float, high: float, step: float, decimals: int) -> QDoubleSpinBox:
    """A fixed-decimals spin box with the same finished-edit reporting as ``int_spin``."""
    spin = QDoubleSpinBox()
    spin.setObjectName(object_name)
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setKeyboardTracking(False)
    return spin


def combo(object_name: str, items: Iterable[tuple[str, str, str]]) -> QComboBox:
    """A combo box of (label, data, tooltip) items."""
    box = QComboBox()
    box.setObjectName(object_name)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(8)
    for label, data, tip in items:
        box.addItem(label, data)
        box.setItemData(box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    return box


def on_choice(box: QComboBox, slot) -> None:
    """Call ``slot(data)`` with the item data whenever the current item changes."""
    box.currentIndexChanged.connect(lambda _index: slot(box.currentData()))


def select_data(box: QComboBox, data: object) -> bool:
    """Make the item holding ``data`` current; False (nothing changed) when no item holds it."""
    index = box.findData(data)
    if index >= 0:
        box.setCurrentIndex(index)
    return index >= 0


@contextmanager
def signals_blocked(widgets: Iterable[QObject]) -> Iterator[None]:
    """Set widgets from the spec without their change signals reaching the panel."""
    blockers = [QSignalBlocker(w) for w in widgets]
    try:
        yield
    finally:
        for blocker in blockers:
            blocker.unblock()


class FloatSpin(QDoubleSpinBox):
    """A real number shown with significant digits (0.0001, 1e-08), stepped by ×/÷ 1.26 when on a log scale.

    Keyboard tracking is off: typing "0.05" reports one value when Enter is pressed or the focus leaves.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._log = False
        self._first_step = 0.0  # a log-scale field at 0 steps up to this
        self.setDecimals(16)  # the value is not rounded; the text shows six significant digits
        self.setKeyboardTracking(False)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)

    def set_log_scale(self, log: bool, first_step: float = 0.0) -> None:
        self._log = log
        self._first_step = first_step

    def log_scale(self) -> bool:
        return self._log

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return format(value, ".6g")

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            ok = _NUMBER_PREFIX.match(stripped) is not None
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
        inside = math.isfinite(value) and self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt override)
        if not self._log:
            super().stepBy(steps)
            return
        value = self.value()
        if value <= 0.0:
            target = self._first_step if steps > 0 else value
        else:
            # snap to the 10-per-decade grid so repeated steps give round numbers (0.001, 0.00126, 0.00158, ...)
            k = round(math.log10(value) * LOG_STEPS_PER_DECADE) + steps
            target = float(f"{10.0 ** (k / LOG_STEPS_PER_DECADE):.3g}")
            if steps < 0 and target < self._first_step and self.minimum() <= 0.0:
                target = 0.0
        self.setValue(min(max(target, self.minimum()), self.maximum()))
        self.selectAll()


def configure_hyper_spin(spin: FloatSpin, hp) -> None:
    """Set a spin box's range, stepping and tooltip from a HyperParam (exclusive bounds nudged inward)."""
    low, high = hp.minimum, hp.maximum
    span = high - low
    if not hp.min_inclusive:
        low = LOG_FLOOR if hp.log_scale and low == 0.0 else low + (low * 1e-9 if hp.log_scale else LINEAR_NUDGE * span)
    if not hp.max_inclusive:
        high = high - LINEAR_NUDGE * span
    spin.setRange(low, high)
    spin.set_log_scale(hp.log_scale, first_step=1e-4 * hp.maximum)
    if not hp.log_scale:
        spin.setSingleStep(span / 100.0)
    how = ("Arrows multiply or divide by 1.26; Page Up/Down by 10." if hp.log_scale
           else f"Arrows step by {format(span / 100.0, 'g')}.")
    spin.setToolTip(f"{hp.label}: {hp.tooltip}\nAllowed: {hp.range_text()}. {how}")
