"""What the lab's tool windows (the learning-rate finder, the loss between two runs) share: a column of controls
beside a plot, one job at a time on their own runner with a progress bar and a status line, Ctrl+Enter / Esc /
Ctrl+W, the plot's export (PNG, SVG and CSV) and the theme."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLayout,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from visualizer.qt.evaluation.views import ERROR_STYLE
from visualizer.qt.jobs import JobEnded, JobRunner, Progress
from visualizer.qt.plots.export import export_plot_files
from visualizer.qt.widgets.controls import resize_within_screen


class LabToolWindow(QMainWindow):
    """The frame of a lab tool window named ``name`` (the prefix of its widgets' object names). A subclass builds its
    controls and plot, calls ``lay_out``, and supplies ``run``, ``_set_running``, ``_on_batch`` and ``_on_ended``;
    EXPORT_STEM names its exported files and EXPORT_TITLE the folder dialog. Open… (``open_result``) shows a saved
    <EXPORT_STEM>.csv again: the subclass reads it (``_read_saved``) and shows it (``_show_saved``)."""

    EXPORT_STEM = "plot"
    EXPORT_TITLE = "Export the plot into…"
    OPEN_TITLE = "Open a saved result"

    def __init__(self, name: str, thread_name: str, theme: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Window")
        self.name, self.theme, self.result = name, theme, None
        self.plot = None
        self.runner = JobRunner(self, thread_name)
        self.runner.batch.connect(self._on_batch)
        self.runner.progress.connect(self._on_progress)
        self.runner.ended.connect(self._on_ended)
        self.progress = QProgressBar()
        self.progress.setObjectName(f"{name}Progress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("ready")
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setObjectName(f"{name}Status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def about(self, html: str) -> QLabel:
        """The small print under the controls: what the tool measures and where it comes from."""
        label = QLabel(f"<small>{html}</small>")
        label.setWordWrap(True)
        label.setObjectName(f"{self.name}About")
        return label

    def lay_out(self, side_items: list[QWidget | QLayout], plot: QWidget, side_width: int,
                size: tuple[int, int]) -> None:
        """The controls (``side_items``, top to bottom) in a column of ``side_width`` beside ``plot``; the window
        sized to ``size`` within the screen; the keys."""
        self.plot = plot
        side = QWidget()
        side.setFixedWidth(side_width)
        column = QVBoxLayout(side)
        column.setContentsMargins(6, 6, 6, 6)
        for item in side_items:
            if isinstance(item, QLayout):
                column.addLayout(item)
            else:
                column.addWidget(item)
        column.addStretch(1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(side)
        layout.addWidget(plot, 1)
        self.setCentralWidget(central)
        resize_within_screen(self, *size)
        for keys, slot in (("Ctrl+Return", self.run), ("Escape", self.cancel), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WindowShortcut)

    # --- public ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.runner.running

    def run(self) -> bool:  # the subclass's job
        raise NotImplementedError

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(f"⚠ {text}" if error else text)
        self.status.setStyleSheet(ERROR_STYLE if error else "QLabel { padding: 5px; }")

    def cancel(self) -> None:
        self.runner.cancel()

    def make_open_button(self) -> QPushButton:
        """The Open… button (for the subclass's button row), wired to a file dialog and ``open_result``."""
        from visualizer.qt.widgets.controls import button

        b = button("Open…", f"{self.name}OpenButton",
                   f"Show a result saved before ({self.EXPORT_STEM}.csv, written by Export… or by visualizer "
                   f"{self.EXPORT_STEM.replace('_', '-')} --out)")
        b.clicked.connect(self._on_open_clicked)
        return b

    def open_result(self, path: str | Path) -> bool:
        """Show a result saved before (its <EXPORT_STEM>.csv) as it was, Export… as after a run. False, with a
        message saying what is wrong, for a file that is not one."""
        from visualizer.core.errors import VisualizerError

        if self.running:
            return False
        try:
            result = self._read_saved(Path(path))
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            return False
        self.result = result
        self._show_saved(result)
        self._set_running(False)
        self.progress.setValue(1000)
        self.progress.setFormat(f"opened {Path(path).name}")
        self._describe(result, f"Opened {path}. ")
        return True

    def export_plots(self, folder: str | Path) -> list[Path]:
        """<EXPORT_STEM>.png, .svg and .csv in ``folder``."""
        return export_plot_files(self.plot, folder, self.EXPORT_STEM, csv=True)

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.plot.set_theme(name)

    def shutdown(self) -> None:
        self.runner.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no thread may outlive the window
        self.shutdown()
        super().closeEvent(event)

    # --- internals --------------------------------------------------------------------------------------
    def _on_open_clicked(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, self.OPEN_TITLE, "", f"Saved result ({self.EXPORT_STEM}.csv "
                                                                           "*.csv)")
        if path:
            self.open_result(path)

    def _read_saved(self, path: Path):  # the subclass's reader of its saved CSV (VisualizerError when it is not one)
        raise NotImplementedError

    def _show_saved(self, result) -> None:  # the subclass draws a result read back
        raise NotImplementedError

    def _describe(self, result, before: str = "") -> None:  # the subclass's status line for a result
        raise NotImplementedError

    def _set_running(self, on: bool) -> None:
        raise NotImplementedError

    def _on_batch(self, items: list) -> None:
        raise NotImplementedError

    def _on_ended(self, ended: JobEnded) -> None:
        raise NotImplementedError

    def _on_progress(self, progress: Progress) -> None:
        self.progress.setValue(round(1000 * (progress.fraction or 0.0)))
        self.progress.setFormat(progress.text)

    def _on_export_clicked(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, self.EXPORT_TITLE)
        if folder:
            try:
                written = self.export_plots(folder)
            except (OSError, ValueError) as exc:
                self.show_message(f"Export failed: {exc}", error=True)
            else:
                self.show_message(f"Wrote {len(written)} file(s) into {folder}.")
