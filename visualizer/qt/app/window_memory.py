"""Tool windows remember their place and their choices as the main window does: geometry and the controls a window
declares in ``REMEMBERED`` (object names), kept in the window's settings under the tool's name.

A remembered value is only used when it still fits (a combo item that exists, a number in range), so a stale or
damaged entry falls back to the control's default.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit, QSlider, QTabWidget, QWidget


def _value(w: QWidget):
    if isinstance(w, QComboBox):
        return w.currentText()
    if isinstance(w, (QAbstractSpinBox, QSlider)):
        return w.value()
    if isinstance(w, QCheckBox):
        return "true" if w.isChecked() else "false"
    if isinstance(w, QLineEdit):
        return w.text()
    if isinstance(w, QTabWidget):
        return w.currentIndex()
    return None


def _restore(w: QWidget, value) -> None:
    """Set a control from a stored value when it fits; anything else is ignored."""
    try:
        if isinstance(w, QComboBox) and isinstance(value, str) and w.findText(value) >= 0:
            w.setCurrentIndex(w.findText(value))
        elif isinstance(w, (QAbstractSpinBox, QSlider)):
            number = float(value)
            if w.minimum() <= number <= w.maximum():
                w.setValue(number if isinstance(w.value(), float) else round(number))
        elif isinstance(w, QCheckBox) and value in ("true", "false"):
            w.setChecked(value == "true")
        elif isinstance(w, QLineEdit) and isinstance(value, str) and len(value) < 1000:
            w.setText(value)
        elif isinstance(w, QTabWidget) and 0 <= int(value) < w.count():
            w.setCurrentIndex(int(value))
    except (TypeError, ValueError):
        pass


class WindowMemory(QObject):
    """Restores a window's geometry and declared controls now, and stores them when it closes."""

    def __init__(self, window: QWidget, settings: QSettings, name: str) -> None:
        super().__init__(window)
        self.window, self.settings, self.group = window, settings, f"tools/{name}"
        self.names = tuple(getattr(window, "REMEMBERED", ()))
        geometry = settings.value(f"{self.group}/geometry")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        for control in self._controls():
            key = f"{self.group}/{control.objectName()}"
            if settings.contains(key):
                _restore(control, settings.value(key))
        window.installEventFilter(self)

    def _controls(self) -> list[QWidget]:
        found = []
        for name in self.names:
            control = self.window.findChild(QWidget, name)
            if control is not None:
                found.append(control)
        return found

    def store(self) -> None:
        self.settings.setValue(f"{self.group}/geometry", self.window.saveGeometry())
        for control in self._controls():
            value = _value(control)
            if value is not None:
                self.settings.setValue(f"{self.group}/{control.objectName()}", value)

    def eventFilter(self, watched, event) -> bool:  # Qt override
        # the event's type first: while a closed window is collected, its memory's attributes may be gone already
        # (the two are a reference cycle) and it still sees the window's last events
        if event.type() == QEvent.Type.Close and watched is getattr(self, "window", None):
            self.store()
        return False


def remember(window: QWidget, settings: QSettings, name: str) -> WindowMemory:
    """Give ``window`` a memory under ``name`` (restored now, stored on close)."""
    return WindowMemory(window, settings, name)
