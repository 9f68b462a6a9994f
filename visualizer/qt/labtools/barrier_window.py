"""The window of the loss between two runs (Run > Barrier between two runs…): choose two run files of the same
network, measure the loss on the straight line between their final weights on a worker, see the barrier."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QWidget

from visualizer.qt.jobs import JobEnded, Progress
from visualizer.qt.labtools.barrier_plot import BarrierPlot
from visualizer.qt.labtools.tool_window import LabToolWindow
from visualizer.qt.widgets.controls import button, spin

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


class BarrierWindow(LabToolWindow):
    """Two runs' final weights joined by a straight line, and the loss along it."""

    EXPORT_STEM = "barrier"
    EXPORT_TITLE = "Export the plot of the loss between two runs into…"
    OPEN_TITLE = "Open a saved line between two runs"

    def __init__(self, run_a: Path | None = None, runs_folder: Path | None = None, theme: str = "light",
                 parent: QWidget | None = None) -> None:
        from visualizer.core.lab.interpolation import POINTS

        super().__init__("barrier", THREAD_NAME, theme, parent)
        self.runs_folder = runs_folder
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
        self.open_button = self.make_open_button()
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.cancel_button, self.open_button, self.export_button):
            buttons.addWidget(b)
        about = self.about("θ(t) = θ_A + t·(θ_B − θ_A) joins the two runs' final weights. The barrier is the "
                       "largest rise of the loss above the straight line between its two end values, for t in "
                       "[0, 1] (Entezari et al. 2022): 0 when the two minima are linearly connected, positive when "
                       "a ridge separates them, as it usually does between two seeds of a small network. The "
                           "loss is measured on run A's data, the network in evaluation mode.")
        self.lay_out([form, buttons, self.progress, self.status, about], BarrierPlot(theme=theme), 380, (1250, 700))

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.show_message("Choose two runs of the same network and data (e.g. two seeds) and press Run.")

    # --- public ---------------------------------------------------------------------------------------
    def set_runs(self, run_a: Path, run_b: Path) -> None:
        self.path_edits[0].setText(str(run_a))
        self.path_edits[1].setText(str(run_b))

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

    # --- internals --------------------------------------------------------------------------------------
    def _read_saved(self, path: Path):
        from visualizer.core.lab.interpolation import read_csv

        return read_csv(path)

    def _show_saved(self, r) -> None:
        self.plot.set_line(r)
        if r.run_a and r.run_b:
            self.set_runs(Path(r.run_a), Path(r.run_b))

    def _describe(self, r, before: str = "") -> None:
        import math

        la, lb = r.end_losses("train")
        val = "" if r.val_barrier is None else f" (validation: {r.val_barrier:.4g} at t = {r.val_barrier_t:.2f})"
        distance = "" if math.isnan(r.distance) else f"; ‖θ_B − θ_A‖ = {r.distance:.4g}"
        self.show_message(f"{before}Barrier {r.train_barrier:.4g} at t = {r.train_barrier_t:.2f}{val}. Training "
                          f"loss {la:.4g} at run A, {lb:.4g} at run B{distance}.")

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.open_button.setEnabled(not on)
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
            self._describe(r)
