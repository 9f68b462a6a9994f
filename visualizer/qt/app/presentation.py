"""Presentation mode (F11): the views own the screen. Full screen, the side panels collapsed out of the way, a compact
control strip in the toolbar (Train/Pause, Step, Reset, speed, optimizer and learning rate), fonts x1.5, lines x2
and the high-contrast theme, for lectures on a projector and for screen sharing. Leaving puts everything back as it
was: window geometry and state, panels and their sizes, the views' splitters, fonts and theme."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QRect, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter

FONT_SCALE = 1.5
LINE_SCALE = 2.0
THEME = "contrast"
MIN_POINT_SIZE = 9.0  # the font presentation mode scales is at least this large
PANEL_SHARE = 0.28  # the panels shown in presentation mode (one column of tabs) take this share of the width
TOP_SHARE = 0.6  # the loss and prediction row's share of the views' height (the histograms have the rest)


def _set_font(app: QApplication, font: QFont) -> None:
    """The application's font, in every widget before anything else happens: the widgets take it from posted events,
    and a combo box computes its minimum size once per style (the theme's style is set next), so a combo box
    restyled before it has the new font would keep the old font's size, and the toolbar and panels with it."""
    app.setFont(font)
    QApplication.sendPostedEvents()


@dataclass
class _Saved:
    """What entering changed, to put back on leaving."""

    theme: str
    font: QFont
    window_state: Qt.WindowState
    geometry: QRect
    docks: QByteArray
    splitters: list[tuple[QSplitter, QByteArray]]
    panels_hidden: bool


class Presentation:
    """Enters and leaves presentation mode for the main window (its ``set_theme``, ``theme``, ``docks()``, ``acts``
    and, once its panels are built, ``control_strip``)."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.active = False
        self._saved: _Saved | None = None

    @property
    def saved_theme(self) -> str | None:
        """The theme to return to (None outside presentation mode)."""
        return self._saved.theme if self._saved else None

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        """Full screen, panels collapsed, the control strip shown, fonts x1.5, lines x2, the high-contrast theme."""
        if self.active:
            return
        w = self.window
        app = QApplication.instance()
        self._saved = _Saved(
            theme=w.theme, font=QFont(app.font()), window_state=w.windowState(), geometry=QRect(w.geometry()),
            docks=w.saveState(), splitters=[(s, s.saveState()) for s in w.centralWidget().findChildren(QSplitter)],
            panels_hidden=w.acts.hide_panels.isChecked())
        self.active = True
        bigger = QFont(app.font())
        bigger.setPointSizeF(max(bigger.pointSizeF(), MIN_POINT_SIZE) * FONT_SCALE)
        _set_font(app, bigger)
        _scale_plots(FONT_SCALE, LINE_SCALE)
        self._show_strip(True)
        w.acts.hide_panels.setChecked(True)  # its toggled signal collapses the panels
        if w.views is not None:  # (built right after the first paint)
            rows = w.views.splitter
            total = sum(rows.sizes())
            rows.setSizes([round(total * TOP_SHARE), total - round(total * TOP_SHARE)])
        w.set_theme(THEME)
        w.showFullScreen()

    def leave(self) -> None:
        """Back to the window, panels, fonts and theme exactly as they were."""
        if not self.active:
            return
        w, saved = self.window, self._saved
        self.active = False
        self._show_strip(False)
        _scale_plots(1.0, 1.0)
        _set_font(QApplication.instance(), saved.font)
        w.set_theme(saved.theme)
        self._saved = None
        w.setWindowState(saved.window_state)
        if not saved.window_state & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
            w.setGeometry(saved.geometry)
        w.restoreState(saved.docks)
        for splitter, state in saved.splitters:
            splitter.restoreState(state)
        w.acts.hide_panels.blockSignals(True)  # the panels are as restoreState left them
        w.acts.hide_panels.setChecked(saved.panels_hidden)
        w.acts.hide_panels.blockSignals(False)
        w.acts.presentation.setChecked(False)

    def set_panels_hidden(self, hidden: bool) -> None:
        """Collapse the side panels (or show them again). In presentation mode they come back as tabs of one column
        at a share of the width, so that the views keep most of the screen. The toolbar stays: Train is always at
        hand."""
        w = self.window
        docks = w.docks()
        tabbed = [d for d in docks if not d.isFloating()] if self.active and not hidden else []
        for dock in tabbed:
            w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        for dock in tabbed[1:]:
            w.tabifyDockWidget(tabbed[0], dock)
        for dock in docks:
            dock.setVisible(not hidden)
        if tabbed:
            tabbed[-1].raise_()  # the training settings: what a lecture changes
            w.resizeDocks(tabbed[:1], [round(w.width() * PANEL_SHARE)], Qt.Orientation.Horizontal)

    def _show_strip(self, shown: bool) -> None:
        w = self.window
        strip = getattr(w, "control_strip", None)
        if strip is not None:
            strip.set_shown(shown)
        toolbar = w.acts.toolbar
        for action in toolbar.actions():  # the device is in the status bar too: room for the strip
            if toolbar.widgetForAction(action) is w.acts.device:
                action.setVisible(not shown)
        toolbar.setVisible(True)


def _scale_plots(font: float, line: float) -> None:
    from visualizer.qt.plots._style import set_presentation_scale  # (pyqtgraph: imported after the first paint)

    set_presentation_scale(font, line)
