"""The sweep window (Run > Sweep…): pick one or two of the experiment's fields and their values, start, and watch
the map fill in cell by cell as trials finish in worker processes; click a cell to replay its run; export the map;
open a finished sweep from its folder. The sweep runs as a job of the window's JobRunner (core.sweeps.runner)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from visualizer.qt.jobs import JobRunner, Progress
from visualizer.qt.sweeps.map_plot import SweepMapPlot
from visualizer.qt.widgets.controls import button, resize_within_screen, spin

THREAD_NAME = "sweep-worker"
NONE = "(none)"
VALUES_TIP = ("Values of the field: V1,V2,... or LOW:HIGH:lin|log:N, e.g. 0.001:1:log:4 (four learning rates, a "
              "decade apart) or 16x16 for two hidden layers of 16")


def sweeps_dir() -> Path:
    """Where the window writes its sweeps: a folder beside the run library's."""
    from visualizer.qt.app.settings import runs_dir

    return runs_dir().parent / "sweeps"


class SweepWindow(QMainWindow):
    """A sweep of one experiment over one or two of its fields (and seeds), shown as a map while it runs;
    ``open_run(path)`` asks for a trial's run file to be replayed (the main window's replay), ``compare_run(path)``
    for it to be compared with the replay shown."""

    open_run = Signal(Path)
    #: a cell's run to overlay on the replay shown (Shift+click)
    compare_run = Signal(Path)

    def __init__(self, experiment, base_dir: Path | None, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from visualizer.core.sweeps.grid import sweepable_fields

        self.setObjectName("sweepWindow")
        self.experiment = experiment
        self.base_dir = base_dir
        self.theme = theme
        self.folder: Path | None = None
        self.sweep_map = None
        self.runner = JobRunner(self, THREAD_NAME, threads=None)
        self.runner.batch.connect(self._on_batch)
        self.runner.progress.connect(self._on_progress)
        self.runner.ended.connect(self._on_ended)
        self.setWindowTitle(f"Sweep — {experiment.title or 'untitled experiment'}")

        fields = sorted(sweepable_fields())
        self.field_combos, self.value_edits = [], []
        form = QFormLayout()
        for n, default in enumerate(("train.lr", "train.momentum" if experiment.train.momentum is not None or
                                     experiment.train.optimizer in ("momentum", "nesterov") else NONE)):
            combo = QComboBox()
            combo.setObjectName(f"sweepField{n + 1}Combo")
            combo.addItems(fields if n == 0 else [NONE, *fields])
            combo.setToolTip("A field of the experiment file to sweep" + (" (optional: a second axis)" if n else ""))
            edit = QLineEdit()
            edit.setObjectName(f"sweepValues{n + 1}Edit")
            edit.setToolTip(VALUES_TIP)
            combo.currentTextChanged.connect(lambda name, e=edit: e.setText(self._suggest(name)))
            combo.setCurrentText(default)
            edit.setText(self._suggest(default))
            self.field_combos.append(combo)
            self.value_edits.append(edit)
            form.addRow(f"Field {n + 1}", combo)
            form.addRow("values", edit)
        self.seeds_spin = spin("sweepSeedsSpin", 1, 20, 1, "Seeds per cell: train.seed, train.seed+1, ...; the "
                               "map shows their mean (curves: min–max)")
        self.epochs_spin = spin("sweepEpochsSpin", 1, 100_000, experiment.train.epochs, "Epochs of every trial")
        self.workers_spin = spin("sweepWorkersSpin", 0, 256, 0, "Trials at once in worker processes (0: one per "
                                 "core)")
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("sweepMetricCombo")
        self.metric_combo.addItems(["loss", "accuracy", "r2"])
        self.metric_combo.setToolTip("What the map shows: the final validation loss, accuracy or R²")
        self.metric_combo.currentTextChanged.connect(lambda _: self._rebuild_map())
        for label, widget in (("Seeds", self.seeds_spin), ("Epochs", self.epochs_spin),
                              ("Workers", self.workers_spin), ("Map of", self.metric_combo)):
            form.addRow(label, widget)
        self.start_button = button("Start", "sweepStartButton", "Start the sweep (Ctrl+Return); a stopped one "
                                   "resumes where it was when started again into the same folder")
        self.cancel_button = button("Cancel", "sweepCancelButton", "Stop the sweep after the running trials (Esc)")
        self.open_button = button("Open sweep…", "sweepOpenButton", "Show a sweep from its folder (sweep.json, "
                                  "sweep.csv)")
        self.export_button = button("Export map…", "sweepExportButton", "Write the map as PNG or SVG")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("sweepProgress")
        self.progress_bar.setToolTip("Trials finished of the sweep")
        self.message = QLabel("Choose fields and values, then Start. Click a cell to replay its run.")
        self.message.setObjectName("sweepMessage")
        self.message.setWordWrap(True)
        side = QVBoxLayout()
        side.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.cancel_button)
        side.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.export_button)
        side.addLayout(row)
        side.addWidget(self.progress_bar)
        side.addWidget(self.message)
        side.addStretch(1)
        panel = QWidget()
        panel.setLayout(side)
        panel.setMaximumWidth(380)
        self.plot = SweepMapPlot(theme=theme)
        self.plot.setToolTip("Each cell one combination of the fields: click it to replay its run, Shift+click "
                             "another to compare the two")
        self.plot.cell_clicked.connect(lambda at: self._on_cell_clicked(at, self.open_run))
        self.plot.cell_compared.connect(lambda at: self._on_cell_clicked(at, self.compare_run))
        splitter = QSplitter()
        splitter.addWidget(panel)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        resize_within_screen(self, 1300, 820)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        for keys, slot in (("Ctrl+Return", self.start), ("Escape", self.cancel)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WindowShortcut)

    # --- public ---------------------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        self.theme = theme
        self.plot.set_theme(theme)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d62728;" if error else "")

    def plan(self):
        """The sweep the controls describe (a VisualizerError names a bad field or value)."""
        from visualizer.core.sweeps.grid import parse_param
        from visualizer.core.sweeps.runner import SweepPlan

        params = [parse_param(f"{c.currentText()}={e.text()}") for c, e in zip(self.field_combos, self.value_edits)
                  if c.currentText() != NONE]
        if self.epochs_spin.value() != self.experiment.train.epochs and "train.epochs" not in {p.field for p in params}:
            params.append(parse_param(f"train.epochs={self.epochs_spin.value()}"))
        plan = SweepPlan(self.experiment, tuple(params), self.seeds_spin.value(), None,
                         str(self.base_dir) if self.base_dir else "")
        plan.trials()  # checked now, with the experiment file's rules
        return plan

    def start(self, folder: Path | None = None) -> bool:
        """Start the sweep into ``folder`` (default: a new folder under the sweeps folder); False when refused."""
        from visualizer.core.errors import VisualizerError

        if self.runner.running:
            return False
        try:
            plan = self.plan()
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            return False
        if not folder:
            title = "".join(ch if ch.isalnum() else "-" for ch in (self.experiment.title or "sweep")).strip("-")
            folder = sweeps_dir() / f"{title or 'sweep'}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.folder = Path(folder)
        self._set_map(plan)
        workers = self.workers_spin.value()

        def job(put, control):
            from visualizer.core.sweeps.runner import run_sweep

            return run_sweep(plan, self.folder, "local", workers, None, 1, control, work_here=False)

        if not self.runner.start("sweep", job, progress=self._progress_of):
            self.show_message(self.runner.refusal, error=True)
            return False
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.show_message(f"Sweeping {len(plan.trials())} trials into {self.folder}…")
        return True

    def cancel(self) -> None:
        self.runner.cancel()

    def open_folder(self, folder: Path) -> bool:
        """Show the sweep recorded in ``folder``; False (with a message) when it is not one."""
        from visualizer.core.errors import VisualizerError
        from visualizer.qt.sweeps.figures import load_sweep_map

        try:
            plan, sweep_map = load_sweep_map(Path(folder), self.metric_combo.currentText())
        except (VisualizerError, OSError, KeyError, ValueError, TypeError) as exc:
            self.show_message(f"{folder} could not be shown as a sweep: {exc}", error=True)
            return False
        self.folder, self.sweep_map = Path(folder), sweep_map
        self._show_plan(plan)
        title = plan.experiment.title
        self.plot.set_map(sweep_map, f"{title}: {sweep_map.label}" if title else "")
        self.show_message(f"{len(sweep_map.cells())} cells of {folder}. Click one to replay its run.")
        return True

    def shutdown(self) -> bool:
        return self.runner.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no worker may outlive the window
        self.shutdown()
        super().closeEvent(event)

    def _show_plan(self, plan) -> None:
        """The controls say what a sweep opened from its folder swept (its first two fields, its seeds)."""
        from visualizer.core.sweeps.grid import cell_text

        axes = [p for p in plan.params if len(p.values) > 1][:2]
        for n, (combo, edit) in enumerate(zip(self.field_combos, self.value_edits)):
            combo.blockSignals(True)
            combo.setCurrentText(axes[n].field if n < len(axes) else NONE)
            combo.blockSignals(False)
            edit.setText(",".join(cell_text(v) for v in axes[n].values) if n < len(axes) else "")
        self.seeds_spin.setValue(plan.seeds)

    # --- the map -----------------------------------------------------------------------------------------
    def _suggest(self, name: str) -> str:
        from visualizer.core.sweeps.grid import suggested_values

        return "" if name == NONE else suggested_values(name, self.experiment)

    def _title(self) -> str:
        return f"{self.experiment.title}: {self.sweep_map.label}" if self.experiment.title else ""

    def _set_map(self, plan) -> None:
        from visualizer.core.sweeps.sweep_map import SweepMap

        self._plan = plan
        self.sweep_map = SweepMap(plan.params, self.metric_combo.currentText())
        self._rows: list[dict] = []
        self.plot.set_map(self.sweep_map, self._title())

    def _rebuild_map(self) -> None:
        if getattr(self, "_plan", None) is not None and self.runner.running:
            rows = list(self._rows)
            self._set_map(self._plan)
            self._add_rows(rows)
        elif self.folder is not None and (self.folder / "sweep.json").exists():
            self.open_folder(self.folder)

    def _add_rows(self, rows: list[dict]) -> None:
        for row in rows:
            self._rows.append(row)
            self.sweep_map.add(row)
        if rows:
            self.plot.redraw()

    # --- the job -----------------------------------------------------------------------------------------
    @staticmethod
    def _progress_of(record) -> Progress | None:
        done, total = getattr(record, "done", None), getattr(record, "total", None)
        if done is None:
            done, total = len(getattr(record, "done_before", ())), getattr(record, "total", 0)
        return Progress(done / total if total else None, f"{done} of {total} trials") if total else None

    def _on_batch(self, records: list) -> None:
        from visualizer.core.sweeps.runner import SweepStarted, TrialFinished

        rows = []
        for record in records:
            if isinstance(record, SweepStarted):
                rows.extend(record.done_before)
            elif isinstance(record, TrialFinished):
                rows.append(record.row)
        self._add_rows(rows)

    def _on_progress(self, progress: Progress) -> None:
        if progress.fraction is not None:
            self.progress_bar.setValue(round(100 * progress.fraction))
        self.progress_bar.setFormat(progress.text or "%p%")

    def _on_ended(self, ended) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if ended.reason == "failed":
            self.show_message(f"The sweep failed: {ended.message}", error=True)
        elif ended.reason == "stopped":
            self.show_message(f"Stopped; {len(self._rows)} trials are recorded in {self.folder}.")
        else:
            self.progress_bar.setValue(100)
            self.show_message(f"Done: {len(self._rows)} trials in {self.folder}. Click a cell to replay its run.")

    # --- clicks and files ---------------------------------------------------------------------------------
    def _on_cell_clicked(self, at: tuple, signal) -> None:
        runs = self.sweep_map.runs(at) if self.sweep_map is not None else []
        if not runs or self.folder is None:
            self.show_message("This cell's trial has no run file (it failed before training).", error=True)
            return
        signal.emit(self.folder / runs[0])

    def _on_open_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a sweep's folder", str(sweeps_dir()))
        if folder:
            self.open_folder(Path(folder))

    def _on_export_clicked(self) -> None:
        from visualizer.qt.plots import export_widget

        path, _ = QFileDialog.getSaveFileName(self, "Export the map", str((self.folder or sweeps_dir()) / "map.png"),
                                              "PNG image (*.png);;SVG image (*.svg)")
        if path:
            try:
                export_widget(self.plot, path, 1000, 720, theme="light")
            except (OSError, ValueError) as exc:
                self.show_message(f"Export failed: {exc}", error=True)
            else:
                self.show_message(f"Wrote {path}.")
