"""The learning-rate finder window (Run > LR finder…): runs the range test on the current experiment on a worker,
draws loss against learning rate as it goes, marks both suggestions, and sets the chosen one in the training panel."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QWidget

from visualizer.qt.jobs import JobEnded, Progress
from visualizer.qt.labtools.lr_plot import LRFinderPlot
from visualizer.qt.labtools.tool_window import LabToolWindow
from visualizer.qt.widgets.controls import button, spin

THREAD_NAME = "lr-finder-worker"


def lr_progress(record) -> Progress | None:
    """An LRPoint as the progress bar shows it ('step 40 of 300, lr 0.00123')."""
    from visualizer.core.lab.lr_finder import LRPoint

    if not isinstance(record, LRPoint):
        return None
    return Progress(record.step / record.total, f"step {record.step} of {record.total}, lr {record.lr:.3g}")


class LRFinderWindow(LabToolWindow):
    """The range test of one experiment; ``use_learning_rate`` carries the rate the user chose to train with."""

    use_learning_rate = Signal(float)
    EXPORT_STEM = "lr_find"
    EXPORT_TITLE = "Export the learning-rate finder's plot into…"
    OPEN_TITLE = "Open a saved range test"

    def __init__(self, experiment, base_dir: Path | None, theme: str = "light", parent: QWidget | None = None) -> None:
        from visualizer.core.lab import lr_finder

        super().__init__("lrFinder", THREAD_NAME, theme, parent)
        self.experiment, self.base_dir = experiment, base_dir
        self._lrs, self._losses, self._averages = [], [], []
        self.setWindowTitle(f"Learning-rate finder — {experiment.title or experiment.data.name}")

        decade = "learning rate of the {} step, as a power of ten (1e-6 = 0.000001)"
        self.low_spin = spin("lrFinderLow", -9, -1, round(math.log10(lr_finder.LOW)), decade.format("first"))
        self.high_spin = spin("lrFinderHigh", -4, 2, round(math.log10(lr_finder.HIGH)), decade.format("last"))
        for s in (self.low_spin, self.high_spin):
            s.setPrefix("1e")
        self.steps_spin = spin("lrFinderSteps", 10, 10_000, lr_finder.STEPS,
                               "Training steps of the test: the learning rate grows by the same factor at each")
        form = QFormLayout()
        form.addRow("From lr", self.low_spin)
        form.addRow("To lr", self.high_spin)
        form.addRow("Steps", self.steps_spin)
        self.run_button = button("Run", "lrFinderRunButton", "Run the range test from the experiment's initial "
                                                             "weights (Ctrl+Enter)")
        self.cancel_button = button("Cancel", "lrFinderCancelButton", "Stop the test here (Esc)")
        self.use_button = button("Use this learning rate", "lrFinderUseButton",
                                 "Set the suggested learning rate in the training panel")
        self.export_button = button("Export…", "lrFinderExportButton",
                                    "Write the plot (PNG and SVG) and the curve (CSV) into a folder")
        for b in (self.cancel_button, self.use_button, self.export_button):
            b.setEnabled(False)
        self.open_button = self.make_open_button()
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.open_button)
        about = self.about(
            "The learning rate grows exponentially while the network trains from its initial weights on its "
            "usual mini-batches (Smith 2017). Where the loss falls, the rate is large enough to learn; where it "
            f"turns up, too large. The test stops once the loss averages {lr_finder.STOP_FACTOR:g}× its minimum. "
            "Suggested: the rate at the minimum of the smoothed loss, divided by 10. The steepest descent is marked "
            "too; on small networks it is noisier.")
        self.lay_out([form, buttons, self.progress, self.use_button, self.export_button, self.status, about],
                     LRFinderPlot(theme=theme), 300, (1200, 700))

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.show_message("Press Run: a few hundred training steps at growing learning rates, about a second on the "
                          "presets.")

    # --- public ---------------------------------------------------------------------------------------
    def run(self) -> bool:
        """Start the range test on the worker; False (with a message) when it cannot start."""
        from visualizer.core.lab.lr_finder import range_test

        if self.running:
            return False
        low, high, steps = 10.0 ** self.low_spin.value(), 10.0 ** self.high_spin.value(), self.steps_spin.value()
        if not high > low:
            self.show_message("The last learning rate must be above the first.", error=True)
            return False
        exp, base_dir = self.experiment, self.base_dir

        def job(put, control):
            return range_test(exp, None, base_dir, low=low, high=high, steps=steps, control=control)

        if not self.runner.start("lr-finder", job, progress=lr_progress):
            self.show_message(f"The test cannot start yet: {self.runner.refusal}.", error=True)
            return False
        self.result = None
        self._lrs, self._losses, self._averages = [], [], []
        self.plot.clear()
        self._set_running(True)
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.show_message(f"Training {steps} steps at learning rates from {low:g} to {high:g}…")
        return True

    # --- internals --------------------------------------------------------------------------------------
    def _read_saved(self, path: Path):
        from visualizer.core.lab.lr_finder import read_csv

        return read_csv(path)

    def _show_saved(self, r) -> None:
        self._lrs, self._losses, self._averages = list(r.lrs), list(r.losses), list(r.smoothed)
        self.plot.set_result(r)

    def _describe(self, r, before: str = "") -> None:
        if r.suggested is None:
            self.use_button.setText("Use this learning rate")
            self.show_message(f"{before}The test ended too early to suggest a learning rate: lower the first rate "
                              "or add steps.", error=True)
            return
        steep = "" if r.steepest is None else f" The steepest descent is at {r.steepest:.3g}."
        self.use_button.setText(f"Use learning rate {r.suggested:.3g}")
        self.show_message(f"{before}Suggested learning rate: {r.suggested:.3g} (the smoothed loss is lowest at "
                          f"{10 * r.min_over_10:.3g}).{steep} {len(r.lrs)} steps"
                          f"{'; ' + r.stopped if r.stopped else ''}.")

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.open_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        for s in (self.low_spin, self.high_spin, self.steps_spin):
            s.setEnabled(not on)
        self.use_button.setEnabled(not on and self.result is not None and self.result.suggested is not None)
        self.export_button.setEnabled(not on and bool(self._lrs))

    def _on_batch(self, items: list) -> None:
        from visualizer.core.lab.lr_finder import LRFinderResult, LRPoint

        points = False
        for item in items:
            if isinstance(item, LRPoint):
                self._lrs.append(item.lr)
                self._losses.append(item.loss)
                self._averages.append(item.average)
                points = True
            elif isinstance(item, LRFinderResult):
                self.result = item
        if self.result is not None:
            self.plot.set_result(self.result)
        elif points:
            self.plot.set_points(self._lrs, self._losses, self._averages)

    def _on_ended(self, ended: JobEnded) -> None:
        r = self.result
        self._set_running(False)
        if ended.reason == "failed":
            self.progress.setFormat("failed")
            self.show_message(f"The range test failed: {ended.message}", error=True)
            return
        self.progress.setValue(1000)
        self.progress.setFormat(f"done in {ended.seconds:.1f} s")
        if r is None:
            self.show_message("The test ended too early to suggest a learning rate: lower the first rate or add "
                              "steps.", error=True)
            return
        self._describe(r)

    def _on_use_clicked(self) -> None:
        if self.result is not None and self.result.suggested is not None:
            self.use_learning_rate.emit(float(self.result.suggested))
            self.show_message(f"The training panel's learning rate is now {self.result.suggested:.3g}.")
