"""The main window's look and help (a mixin of MainWindow): messages, the theme, the keyboard shortcuts, About."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QDockWidget, QMessageBox

from visualizer.qt.app.actions import shortcut_rows
from visualizer.qt.app.theme import apply_theme


class LookAndHelp:
    """Messages in the status bar and the bar above the views, the theme of everything the window shows, Help's
    dialogs, and the docks that presentation mode collapses."""

    def show_message(self, text: str, error: bool = False) -> None:
        """Show a message in the status bar; warnings and errors also in the bar above the views."""
        self.statusBar().showMessage(text)
        self.statusBar().setToolTip(text)  # whole, where the step counters beside it clip a long message
        if error:
            self.message_bar.setText(f"⚠ {text}")
            self.message_bar.setStyleSheet("QLabel { background: #fdecea; color: #611a15; padding: 6px; "
                                           "border: 1px solid #f5c2c0; border-radius: 3px; }")
            self.message_bar.show()

    def set_theme(self, name: str) -> None:
        """Restyle everything the window shows, and its tool windows, for a theme (and the current font scale)."""
        self.theme = name
        app = QApplication.instance()
        if app is not None:
            apply_theme(app, name)
        if self.views is not None:
            self.views.set_theme(name)
        for view in (getattr(self, "network_view", None), getattr(self, "data_panel", None)):
            if view is not None:
                view.set_theme(name)
        for window in self.tool_windows():
            if hasattr(window, "set_theme"):
                window.set_theme(name)
        self.acts.dark.blockSignals(True)  # checking it must not set a theme again
        self.acts.dark.setChecked(name == "dark")
        self.acts.dark.blockSignals(False)
        self.acts.presentation.setChecked(self.presentation.active)

    def _on_shortcuts(self) -> None:
        from visualizer.qt.app.shortcuts_dialog import ShortcutsDialog

        if self._shortcuts_box is not None:
            self._shortcuts_box.close()
        self._shortcuts_box = ShortcutsDialog(shortcut_rows(self.acts, self.undo_edit_action), self)
        self._shortcuts_box.show()

    def _on_about(self) -> None:
        from visualizer import __version__

        QMessageBox.about(self, "About Optimization Visualizer",
                          f"Optimization Visualizer {__version__}: watch neural-network optimization happen.")

    def docks(self) -> list[QDockWidget]:
        """The side panels (Hide panels and presentation mode collapse them)."""
        return [self.data_dock, self.network_dock, self.train_dock]
