"""Presentation mode (F11): full screen, larger fonts, thicker lines, the high-contrast theme, controls hidden on
request. For lectures on a projector and for screen sharing, where 9-point tick labels and 1-pixel lines vanish."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from visualizer.qt.plots._style import set_presentation_scale

FONT_SCALE = 1.5
LINE_SCALE = 2.0
THEME = "contrast"


class Presentation:
    """Enters and leaves presentation mode for a main window that has ``set_theme(name)`` and ``theme``."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.active = False
        self.controls_hidden = False
        self.saved_theme: str | None = None
        self._saved_font = None
        self._saved_geometry = QByteArray()
        self._saved_state = QByteArray()

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        """Full screen, fonts x1.5, lines x2, the high-contrast theme."""
        if self.active:
            return
        w = self.window
        self.active = True
        self.saved_theme = w.theme
        self._saved_geometry = w.saveGeometry()
        self._saved_state = w.saveState()
        app = QApplication.instance()
        if app is not None:
            self._saved_font = app.font()
            bigger = app.font()
            bigger.setPointSizeF(max(bigger.pointSizeF(), 9.0) * FONT_SCALE)
            app.setFont(bigger)
        set_presentation_scale(FONT_SCALE, LINE_SCALE)
        w.set_theme(THEME)
        docks = [d for d in w.docks() if d.isVisible() and not d.isFloating()]
        w.resizeDocks(docks, [round(d.width() * FONT_SCALE) for d in docks], Qt.Orientation.Horizontal)
        w.showFullScreen()

    def leave(self) -> None:
        """Back to the window, theme, fonts and panels as they were."""
        if not self.active:
            return
        w = self.window
        self.active = False
        if self.controls_hidden:
            w.acts.hide_controls.setChecked(False)  # its toggled signal shows the panels again
            self.set_controls_hidden(False)
        set_presentation_scale(1.0, 1.0)
        app = QApplication.instance()
        if app is not None and self._saved_font is not None:
            app.setFont(self._saved_font)
        w.set_theme(self.saved_theme or "light")
        self.saved_theme = None
        w.showNormal()
        w.restoreGeometry(self._saved_geometry)
        w.restoreState(self._saved_state)

    def set_controls_hidden(self, hidden: bool) -> None:
        """Hide (or show again) the side panels and the toolbar, leaving the views the whole screen."""
        w = self.window
        self.controls_hidden = hidden
        for dock in w.docks():
            dock.setVisible(not hidden)
        w.acts.toolbar.setVisible(not hidden)
