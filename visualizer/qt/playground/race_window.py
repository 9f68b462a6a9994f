"""The optimizer race window: train one initial network with up to six optimizers on the same batches (on a
worker thread), then draw every path on one shared loss landscape and overlay their loss curves."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from visualizer.qt.evaluation.views import ERROR_STYLE
from visualizer.qt.jobs import JobEnded, JobRunner, Progress
from visualizer.qt.playground.race_entries import EntryRow, backend_combo, race_progress
from visualizer.qt.plots import export_widget
from visualizer.qt.plots.race_plot import MAX_PATHS, RaceLandscapePlot, RaceLossPlot, race_color
from visualizer.qt.widgets.controls import button, export_plots_into_folder, resize_within_screen, spin

THREAD_NAME = "race-worker"
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad", "nesterov")
DEFAULT_ON = 3
#: the side column's width at the normal font, and in average characters with larger ones (presentation mode), as
#: long as it takes at most SIDE_SHARE of the window: on a small screen the plots keep their room (at 1366 px in
#: presentation mode a wider column pushed the landscape's colour bar out) and a long name is cut, its tooltip whole
SIDE_WIDTH, SIDE_CHARS, SIDE_SHARE = 340, 48, 0.25


class RaceWindow(QMainWindow):
    """Optimizer race on the experiment's network: the same initial weights and batches for each optimizer; the
    paths on the plane of the two principal directions of all of them, through the common initial weights."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ("raceLogColors", "raceLogY", "raceShowBatches")

    def __init__(self, experiment, base_dir: Path | None, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("raceWindow")
        self.experiment = experiment
        self.base_dir = base_dir
        self.theme = theme
        self.runner = JobRunner(self, THREAD_NAME)
        self.runner.batch.connect(self._on_batch)
        self.runner.progress.connect(self._on_progress)
        self.runner.ended.connect(self._on_ended)
        self.runs: list = []
        self.result = None
        self.setWindowTitle(f"Optimizer race — {experiment.title or experiment.data.name}")

        self.rows = [EntryRow(i, DEFAULT_OPTIMIZERS[i], i < DEFAULT_ON, experiment) for i in range(MAX_PATHS)]
        entries = QGroupBox("Optimizers (up to 6)")
        grid = QGridLayout(entries)
        for i, row in enumerate(self.rows):
            grid.addWidget(row.check, i, 0)
            grid.addWidget(row.combo, i, 1)
            grid.addWidget(row.lr, i, 2)
        grid.setColumnStretch(1, 1)
        self.epochs_spin = spin("raceEpochs", 1, 10_000, experiment.train.epochs,
                                "Epochs each optimizer trains for (the experiment's by default)")
        self.grid_spin = spin("raceGrid", 11, 121, 41, "Grid points per side of the loss surface")
        self.log_colors = QCheckBox("log₁₀ loss colours")
        self.log_colors.setObjectName("raceLogColors")
        self.log_colors.setToolTip("Colour the surface by log₁₀ of the loss (shows the valleys' structure)")
        self.log_colors.setChecked(True)
        self.log_y = QCheckBox("log scale loss curves")
        self.log_y.setObjectName("raceLogY")
        self.log_y.setToolTip("Show the loss curves on a logarithmic axis")
        self.backend_combo = backend_combo()
        form = QFormLayout()
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Surface grid", self.grid_spin)
        form.addRow("Train on", self.backend_combo)
        form.addRow(self.log_colors)
        form.addRow(self.log_y)
        self.batches = QCheckBox("every batch's loss (faint)")
        self.batches.setObjectName("raceShowBatches")
        self.batches.setToolTip("Behind the per-epoch mean, the loss of every mini-batch as it was trained on")
        form.addRow(self.batches)
        self.run_button = button("Run", "raceRunButton", "Train every chosen optimizer from one start (Ctrl+Enter)")
        self.cancel_button = button("Cancel", "raceCancelButton", "Stop the race after the current step (Esc)")
        self.cancel_button.setEnabled(False)
        self.export_button = button("Export PNG…", "raceExportButton",
                                    "Write the landscape and the loss curves as PNG files into a folder")
        self.export_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        self.progress = QProgressBar()
        self.progress.setObjectName("raceProgress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("ready")
        self.progress.setTextVisible(True)
        self.about = QLabel(self._about_text())
        self.about.setWordWrap(True)
        self.about.setObjectName("raceAbout")
        self.status = QLabel()
        self.status.setObjectName("raceStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        side = self._side = QWidget()
        self._fit_side()
        column = QVBoxLayout(side)
        column.setContentsMargins(6, 6, 6, 6)
        column.addWidget(entries)
        column.addLayout(form)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addWidget(self.about)
        column.addStretch(1)

        self.landscape = RaceLandscapePlot(theme=theme)
        self.losses = RaceLossPlot(theme=theme)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.landscape)
        plots.addWidget(self.losses)
        plots.setSizes([620, 520])
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(side)
        layout.addWidget(plots, 1)
        self.setCentralWidget(central)
        resize_within_screen(self, 1500, 820)

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.log_colors.toggled.connect(self._on_log_colors_toggled)
        self.log_y.toggled.connect(self.losses.set_log_y)
        self.batches.toggled.connect(self.losses.set_show_batches)
        for keys, slot in (("Ctrl+Return", self.run), ("Escape", self.cancel), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WindowShortcut)
        self.show_message("Choose the optimizers and press Run: each trains a copy of the same initial network "
                          "on the same batches.")

    # --- public ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.runner.running

    def changeEvent(self, event) -> None:  # Qt override: the side column widens with the font (presentation mode)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "_side"):
            self._fit_side()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:  # Qt override: the side column's share of the window (SIDE_SHARE)
        super().resizeEvent(event)
        if hasattr(self, "_side"):
            self._fit_side()

    def _fit_side(self) -> None:
        """SIDE_WIDTH, or wider with larger fonts where the window leaves room: an entry's optimizer name
        ('Nesterov momentum') in full."""
        wanted = min(self.fontMetrics().averageCharWidth() * SIDE_CHARS, int(self.width() * SIDE_SHARE))
        self._side.setFixedWidth(max(SIDE_WIDTH, wanted))

    def entries(self) -> list:
        """The RaceEntry of every ticked row, in order."""
        return [row.entry() for row in self.rows if row.check.isChecked()]

    def race_experiment(self):
        """The experiment with the epochs chosen here."""
        return replace(self.experiment, train=replace(self.experiment.train, epochs=self.epochs_spin.value()))

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(f"⚠ {text}" if error else text)
        self.status.setStyleSheet(ERROR_STYLE if error else "QLabel { padding: 5px; }")

    def run(self) -> bool:
        """Start the race on the worker thread; False (with a message) when it cannot start."""
        from visualizer.core.errors import VisualizerError
        from visualizer.core.playground.network_race import check_entries, race_network

        if self.running:
            return False
        entries = self.entries()
        try:
            check_entries(entries)
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            return False
        exp, base_dir, resolution = self.race_experiment(), self.base_dir, self.grid_spin.value()

        backend = self.backend_combo.currentData()

        def job(put, control):
            return race_network(exp, entries, base_dir, control=control, resolution=resolution, backend=backend)

        labels = [entry.title() for entry in entries]
        if not self.runner.start("race", job, progress=lambda record: race_progress(record, labels)):
            self.show_message(f"The race cannot start yet: {self.runner.refusal}.", error=True)
            return False
        self.runs, self.result = [], None
        self.losses.clear_curves()
        self.landscape.clear_race()
        self._set_running(True)
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.show_message(f"Racing {len(entries)} optimizer(s) for {exp.train.epochs} epoch(s)…")
        return True

    def cancel(self) -> None:
        """Stop the race after its current step and wait for the worker; finished curves stay."""
        self.runner.cancel()

    def export_plots(self, folder: str | Path) -> list[Path]:
        """Write the landscape with the paths (race_landscape.png) and the loss curves (race_losses.png)."""
        folder = Path(folder)
        return [export_widget(self.landscape, folder / "race_landscape.png", 900, 800),
                export_widget(self.losses, folder / "race_losses.png", 1000, 650)]

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.landscape.set_theme(name)
        self.losses.set_theme(name)

    def shutdown(self) -> None:
        """Stop and join the worker and the timer (closing the window does it too)."""
        self.runner.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no thread may outlive the window
        self.shutdown()
        super().closeEvent(event)

    # --- internals --------------------------------------------------------------------------------------
    def _about_text(self) -> str:
        return ("<small>All paths start at the same initial weights θ₀ (white circle) and see the same batches "
                "(full-batch gradient descent sees the whole set each step). The plane passes through θ₀ along the "
                "two principal directions of all the paths' snapshots together; the surface is the training "
                "loss on that plane, exact at θ₀ and only approximate where the paths leave the plane.</small>")

    def _set_running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        self.export_button.setEnabled(not on and bool(self.runs))
        for row in self.rows:
            row.check.setEnabled(not on)
            row.combo.setEnabled(not on and row.check.isChecked())
            row.lr.setEnabled(not on and row.check.isChecked())
        self.epochs_spin.setEnabled(not on)
        self.grid_spin.setEnabled(not on)
        self.backend_combo.setEnabled(not on)

    def _on_log_colors_toggled(self, _on: bool) -> None:
        if self.result is not None:
            self._draw_result()

    def _on_export_clicked(self) -> None:
        export_plots_into_folder(self, "race")

    def _on_batch(self, items: list) -> None:
        """What the worker produced since the last frame; the loss curves are drawn once."""
        from visualizer.core.playground.network_race import RaceResult, RaceRun

        new_runs = False
        for item in items:
            if isinstance(item, RaceRun):
                self.runs.append(item)
                new_runs = True
            elif isinstance(item, RaceResult):
                self.result = item
        if new_runs:
            self.losses.set_curves(self.runs)

    def _on_progress(self, progress: Progress) -> None:
        self.progress.setValue(round(1000 * progress.fraction))
        self.progress.setFormat(progress.text)

    def _on_ended(self, ended: JobEnded) -> None:
        self._set_running(False)
        if ended.reason == "failed":
            self.progress.setFormat("failed")
            self.show_message(f"The race failed: {ended.message}", error=True)
        elif self.result is None:
            self.progress.setFormat("cancelled")
            self.show_message(f"Race cancelled after {len(self.runs)} optimizer(s); their loss curves are shown.")
        else:
            self.progress.setValue(1000)
            self.progress.setFormat(f"done in {ended.seconds:.1f} s")
            self._draw_result()
            self.show_message(self._summary())

    def _draw_result(self) -> None:
        r = self.result
        self.landscape.set_race(r.alphas, r.betas, r.loss, r.paths, [run.label for run in r.runs], r.explained,
                                log_scale=self.log_colors.isChecked())

    def _summary(self) -> str:
        r = self.result
        rows = "".join(
            f"<tr><td><span style='color:{race_color(i)}'>■</span> {run.label}"
            f"{'' if run.reason == 'completed' else ' (' + run.reason + ')'}</td>"
            f"<td align='right'>{(run.eval_losses[-1] if len(run.eval_losses) else run.losses[-1]):.4f}</td>"
            f"<td align='right'>{float(dist.max()):.3g}</td></tr>"
            for i, (run, dist) in enumerate(zip(r.runs, r.distances)))
        return (f"PCA 1 and 2 explain {100 * r.explained[0]:.1f}% and {100 * r.explained[1]:.1f}% of the variance "
                "of all the paths.<table cellspacing='4'><tr><th align='left'>optimizer</th><th>final loss</th>"
                f"<th>off plane</th></tr>{rows}</table><small>final loss: the last epoch's mean training loss; "
                "off plane: the largest distance ‖θ − plane‖ of a snapshot.</small>")
