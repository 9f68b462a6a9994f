"""The window of the loss between two runs (Run > Barrier between two runs…): choose two run files of the same
network, measure the loss on the straight line between their final weights on a worker, see the barrier."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from visualizer.qt.evaluation.views import ERROR_STYLE
from visualizer.qt.jobs import JobEnded, JobRunner, Progress
from visualizer.qt.labtools.barrier_plot import BarrierPlot
from visualizer.qt.plots import export_widget
from visualizer.qt.widgets.controls import button, resize_within_screen, spin

THREAD_NAME = "barrier-worker"


def barrier_progress(record) -> Progress | None:
    """A LinePoint as the progress bar shows it ('t = 0.45, point 14 of 61')."""
    from visualizer.core.lab.interpolation import LinePoint

    if not isinstance(record, LinePoint):
        return None
    return Progress((record.index + 1) / record.total, f"t = {record.t:.2f}, point {record.index + 1} of "
                                                      f"{record.total}")


def measure(path_a: Path, path_b: Path, points: int, control):
    """The job: load both runs (on the worker: reading a run file takes a moment) and walk the line."""
    from visualizer.core.lab.interpolation import line_losses
    from visualizer.core.runs.loaded import load_run

    run_a, run_b = load_run(path_a), load_run(path_b)
    for event in line_losses(run_a, run_b, points):
        if control.stopped:
            return
        yield event


class BarrierWindow(QMainWindow):
    """Two runs' final weights joined by a straight line, and the loss along it."""

    def __init__(self, run_a: Path | None = None, runs_folder: Path | None = None, theme: str = "light",
                 parent: QWidget | None = None) -> None:
        from visualizer.core.lab.interpolation import POINTS

        super().__init__(parent)
        self.setObjectName("barrierWindow")
        self.theme, self.runs_folder, self.result = theme, runs_folder, None
        self.runner = JobRunner(self, THREAD_NAME)
        self.runner.batch.connect(self._on_batch)
        self.runner.progress.connect(self._on_progress)
        self.runner.ended.connect(self._on_ended)
        self.setWindowTitle("Loss between two runs")

        self.path_edits = []
        form = QFormLayout()
        for k, (name, tip) in enumerate((("Run A (t = 0)", "The first run: its run file (.sqlite) or folder"),
                                         ("Run B (t = 1)", "The second run, of the same network and data"))):
            edit = QLineEdit(str(run_a) if k == 0 and run_a is not None else "")
            edit.setObjectName(f"barrierRun{'AB'[k]}Edit")
            edit.setToolTip(tip)
            choose = button("Choose…", f"barrierRun{'AB'[k]}Button", f"Choose the run file of {name[:5].lower()}")
            choose.clicked.connect(lambda _=False, e=edit: self._on_choose(e))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(choose)
            form.addRow(name, row)
            self.path_edits.append(edit)
        self.points_spin = spin("barrierPoints", 3, 1001, POINTS, "Values of t over [0, 1] (the line is also "
                                                                  "drawn a quarter of its length beyond each end)")
        form.addRow("Points", self.points_spin)
        self.run_button = button("Run", "barrierRunButton", "Measure the loss along the line (Ctrl+Enter)")
        self.cancel_button = button("Cancel", "barrierCancelButton", "Stop measuring (Esc)")
        self.export_button = button("Export…", "barrierExportButton",
                                    "Write the plot (PNG and SVG) and the losses (CSV) into a folder")
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.cancel_button, self.export_button):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setObjectName("barrierProgress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("ready")
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setObjectName("barrierStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        about = QLabel("<small>θ(t) = θ_A + t·(θ_B − θ_A) joins the two runs' final weights. The barrier is the "
                       "largest rise of the loss above the straight line between its two end values, for t in "
                       "[0, 1] (Entezari et al. 2022): 0 when the two minima are linearly connected, positive when "
                       "a ridge separates them, as it usually does between two seeds of a small network. The "
                       "loss is measured on run A's data, the network in evaluation mode.</small>")
        about.setWordWrap(True)
        about.setObjectName("barrierAbout")

        side = QWidget()
        side.setFixedWidth(380)
        column = QVBoxLayout(side)
        column.setContentsMargins(6, 6, 6, 6)
        column.addLayout(form)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addWidget(about)
        column.addStretch(1)
        self.plot = BarrierPlot(theme=theme)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(side)
        layout.addWidget(self.plot, 1)
        self.setCentralWidget(central)
        resize_within_screen(self, 1250, 700)

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self._on_export_clicked)
        for keys, slot in (("Ctrl+Return", self.run), ("Escape", self.cancel), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WindowShortcut)
        self.show_message("Choose two runs of the same network and data (e.g. two seeds) and press Run.")

    # --- public ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.runner.running

    def set_runs(self, run_a: Path, run_b: Path) -> None:
        self.path_edits[0].setText(str(run_a))
        self.path_edits[1].setText(str(run_b))

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(f"⚠ {text}" if error else text)
        self.status.setStyleSheet(ERROR_STYLE if error else "QLabel { padding: 5px; }")

    def run(self) -> bool:
        """Start measuring on the worker; False (with a message) when it cannot start."""
        if self.running:
            return False
        paths = [Path(e.text().strip()) for e in self.path_edits]
        if not all(e.text().strip() for e in self.path_edits):
            self.show_message("Choose both runs first.", error=True)
            return False
        points = self.points_spin.value()
        if not self.runner.start("barrier", lambda put, control: measure(*paths, points, control),
                                 progress=barrier_progress):
            self.show_message(f"Cannot start yet: {self.runner.refusal}.", error=True)
            return False
        self.result = None
        self._set_running(True)
        self.progress.setValue(0)
        self.progress.setFormat("reading the runs…")
        self.show_message("Measuring the loss along the line…")
        return True

    def cancel(self) -> None:
        self.runner.cancel()

    def export_plots(self, folder: str | Path) -> list[Path]:
        """barrier.png, barrier.svg and barrier.csv (t, train_loss, val_loss) in ``folder``."""
        folder = Path(folder)
        return [export_widget(self.plot, folder / "barrier.png", 1000, 650),
                export_widget(self.plot, folder / "barrier.svg", 1000, 650),
                self.plot.write_csv(folder / "barrier.csv")]

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.plot.set_theme(name)

    def shutdown(self) -> None:
        self.runner.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no thread may outlive the window
        self.shutdown()
        super().closeEvent(event)

    # --- internals --------------------------------------------------------------------------------------
    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        self.export_button.setEnabled(not on and self.result is not None)
        for e in self.path_edits:
            e.setEnabled(not on)
        self.points_spin.setEnabled(not on)

    def _on_choose(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a run file", str(self.runs_folder or ""),
                                              "Run files (*.sqlite);;All files (*)")
        if path:
            edit.setText(path)

    def _on_batch(self, items: list) -> None:
        from visualizer.core.lab.interpolation import Interpolation

        for item in items:
            if isinstance(item, Interpolation):
                self.result = item
                self.plot.set_line(item)

    def _on_progress(self, progress: Progress) -> None:
        self.progress.setValue(round(1000 * (progress.fraction or 0.0)))
        self.progress.setFormat(progress.text)

    def _on_ended(self, ended: JobEnded) -> None:
        self._set_running(False)
        r = self.result
        if ended.reason == "failed":
            self.progress.setFormat("failed")
            self.show_message(ended.message, error=True)
        elif r is None:
            self.progress.setFormat("cancelled")
            self.show_message("Cancelled.")
        else:
            self.progress.setValue(1000)
            self.progress.setFormat(f"done in {ended.seconds:.1f} s")
            la, lb = r.end_losses("train")
            val = "" if r.val_barrier is None else f" (validation: {r.val_barrier:.4g} at t = {r.val_barrier_t:.2f})"
            self.show_message(f"Barrier {r.train_barrier:.4g} at t = {r.train_barrier_t:.2f}{val}. Training loss "
                              f"{la:.4g} at run A, {lb:.4g} at run B; ‖θ_B − θ_A‖ = {r.distance:.4g}.")

    def _on_export_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the plot of the loss between two runs into…")
        if folder:
            try:
                written = self.export_plots(folder)
            except (OSError, ValueError) as exc:
                self.show_message(f"Export failed: {exc}", error=True)
            else:
                self.show_message(f"Wrote {len(written)} file(s) into {folder}.")
