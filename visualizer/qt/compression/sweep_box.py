"""A sweep on the worker thread: Run, Cancel, a progress bar, the curves in a SweepPlot, a table of the points, and
export to PNG and CSV. The Sensitivity tab and the Quantize tab each hold one; the owner builds the job."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QSplitter, QVBoxLayout, QWidget

from visualizer.qt.compression.jobs import THREAD_NAME
from visualizer.qt.compression.widgets import button, fill_table, make_table, progress_bar, row
from visualizer.qt.jobs import JobEnded, JobRunner
from visualizer.qt.plots import SweepPlot, export_widget
from visualizer.qt.plots.figures import METRIC_LABELS


def sweep_csv(points, x_name: str, metric: str) -> str:
    """One row per measured point: curve, x, loss, metric (in the order measured)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["curve", x_name, "loss", metric])
    for p in points:
        w.writerow([p.curve, repr(float(p.x)), repr(float(p.loss)), repr(float(p.metric))])
    return buf.getvalue()


class SweepBox(QWidget):
    """``run_requested`` asks the owner for a job; ``message`` (text, error) goes to the window's status label."""

    run_requested = Signal()
    message = Signal(str, bool)

    def __init__(self, prefix: str, what: str, theme: str = "light", table: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.what = what
        self.points: list = []
        self.metric_name = "accuracy"  # not `metric`: that would hide QWidget.metric(), which Qt calls
        self.x_name, self.x_label, self.x_scale = "sparsity", "sparsity (%)", 100.0
        self.baseline: float | None = None
        self.runner = JobRunner(self, THREAD_NAME)
        self.runner.batch.connect(self._on_items)
        self.runner.ended.connect(self._on_ended)
        self.run_button = button("Run sweep", f"{prefix}RunButton", f"Measure {what} on a worker thread "
                                 "(every point compresses a fresh copy)")
        self.cancel_button = button("Cancel", f"{prefix}CancelButton", "Stop after the current point; the points "
                                    "measured so far stay (Esc)")
        self.progress = progress_bar(f"{prefix}Progress", "Points measured so far, of all the sweep's points")
        self.png_button = button("Export PNG…", f"{prefix}ExportPngButton", "Save the plot as a PNG image")
        self.csv_button = button("Export CSV…", f"{prefix}ExportCsvButton", "Save the measured points as CSV: "
                                 "curve, x, loss, metric")
        self.plot = SweepPlot(theme=theme)
        self.plot.setObjectName(f"{prefix}Plot")
        self.plot.setToolTip(f"{what[0].upper()}{what[1:]}: one curve per layer or quantizer; the dashed line is "
                             "the uncompressed model")
        self.table = make_table(f"{prefix}Table", "The measured points: one row per x, one column per curve")
        self.table.setVisible(table)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setStretchFactor(0, 1)
        split.setSizes([1000, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        controls = row(self.run_button, self.cancel_button)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.png_button)
        controls.addWidget(self.csv_button)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel)
        self.png_button.clicked.connect(self._on_png)
        self.csv_button.clicked.connect(self._on_csv)
        self._sync()

    @property
    def running(self) -> bool:
        return self.runner.running

    def set_metric(self, metric: str, baseline: float) -> None:
        """'accuracy' or 'r2', and the uncompressed model's value (the dashed line)."""
        self.metric_name, self.baseline = metric, baseline
        self.plot.set_baseline(baseline, "original")

    def set_axes(self, x_name: str, x_label: str, x_scale: float = 1.0, title: str = "") -> None:
        """What the sweep measures against, shown before it runs; points of another x are cleared."""
        if self.runner.running:
            return
        if x_name != self.x_name:
            self.points = []
            self.plot.clear()
            self._fill_table()
        self.x_name, self.x_label, self.x_scale = x_name, x_label, x_scale
        self.plot.set_axes(x_label, METRIC_LABELS[self.metric_name], title or None)

    def start(self, job, x_name: str, x_label: str, x_scale: float = 1.0, title: str = "") -> None:
        """Clear the points and run ``job`` (its SweepProgress items are plotted as x · x_scale)."""
        if self.runner.running:
            return
        self.set_axes(x_name, x_label, x_scale, title)
        self.points = []
        self.plot.clear()
        self._fill_table()
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.runner.start("sweep", job)
        self._sync()

    def cancel(self) -> None:
        self.runner.cancel()

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The measured curves as plotted (x scaled)."""
        from visualizer.core.compression.sensitivity import curves

        return {name: (x * self.x_scale, y) for name, (x, y) in curves(self.points).items()}

    def export_png(self, path: str | Path) -> Path:
        return export_widget(self.plot, path, 1000, 650)

    def export_csv(self, path: str | Path) -> Path:
        from visualizer.core.experiment import atomic_write_text

        path = Path(path)
        atomic_write_text(path, sweep_csv(self.points, self.x_name, self.metric_name))
        return path

    def shutdown(self) -> None:
        self.runner.shutdown()

    def set_theme(self, name: str) -> None:
        self.plot.set_theme(name)

    # --- internals ------------------------------------------------------------------------------------
    def _sync(self) -> None:
        running = self.runner.running
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.png_button.setEnabled(not running and bool(self.points))
        self.csv_button.setEnabled(not running and bool(self.points))

    def _on_items(self, items: list) -> None:
        self.points.extend(item.point for item in items)
        last = items[-1]
        self.progress.setValue(round(1000 * last.i / max(last.n, 1)))
        self.progress.setFormat(f"{last.i} of {last.n} points — {last.point.curve}")
        self.plot.set_curves(self.curves())
        self._fill_table()

    def _on_ended(self, ended: JobEnded) -> None:
        n = len(self.points)
        if ended.reason == "failed":
            self.progress.setFormat("failed")
            self.message.emit(f"The sweep failed: {ended.message}", True)
        elif ended.reason == "stopped":
            self.progress.setFormat(f"cancelled after {n} point(s)")
            self.message.emit(f"Sweep cancelled: {n} point(s) measured; they stay on the plot.", False)
        else:
            self.progress.setValue(1000)
            self.progress.setFormat(f"done: {n} points in {ended.seconds:.2f} s")
            self.message.emit(f"Swept {self.what}: {n} points in {ended.seconds:.2f} s.", False)
        self._sync()

    def _fill_table(self) -> None:
        curves = self.curves()
        xs = sorted({float(x) for x, _y in curves.values() for x in x})
        rows = []
        for x in xs:
            values = []
            for cx, cy in curves.values():
                hit = np.flatnonzero(np.isclose(cx, x))
                values.append(float(cy[hit[0]]) if hit.size else None)
            rows.append([f"{x:g}", *values])
        fill_table(self.table, [self.x_label, *(name.split(" (")[0] for name in curves)], rows)

    def _save_dialog(self, caption: str, suffix: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, caption, f"sweep.{suffix}", f"{suffix.upper()} (*.{suffix})")
        return Path(path) if path else None

    def _on_png(self) -> None:
        path = self._save_dialog("Export the sweep plot", "png")
        if path is not None:
            self._export(self.export_png, path)

    def _on_csv(self) -> None:
        path = self._save_dialog("Export the sweep points", "csv")
        if path is not None:
            self._export(self.export_csv, path)

    def _export(self, write, path: Path) -> None:
        try:
            written = write(path)
        except (OSError, ValueError) as exc:
            self.message.emit(f"Export failed: {exc}", True)
        else:
            self.message.emit(f"Wrote {written}.", False)
