"""The cross-validation window: run every fold on a worker thread, then replay each fold's training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

from visualizer.qt.evaluation.drawing import ResultsDrawing
from visualizer.qt.evaluation.tables import fill_compare_table
from visualizer.qt.evaluation.views import EvaluationViews
from visualizer.qt.evaluation.worker import THREAD_NAME, EvaluationEnded, evaluation_job, fold_progress
from visualizer.qt.jobs import JobRunner
from visualizer.qt.plots import export_widget
from visualizer.qt.widgets.controls import export_plots_into_folder, resize_within_screen


def boundary_resolution(n_folds: int) -> int:
    """Grid size of the recorded decision boundaries: finer for few folds (memory grows with folds x snapshots)."""
    return 60 if n_folds <= 20 else 30 if n_folds <= 100 else 0


class EvaluationWindow(ResultsDrawing, QMainWindow):
    """Cross-validation of one experiment: hold-out, k-fold, stratified, leave-one-out or repeated sub-sampling,
    recorded fold by fold and replayed; a second experiment can be compared on the same folds."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ("evalMethodCombo", "evalKSpin", "evalRepeatsSpin", "evalValPercentSpin", "evalModeCombo",
                  "evalSpeedCombo")

    def __init__(self, experiment, base_dir: Path | None, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationWindow")
        self.experiment = experiment
        self.base_dir = base_dir
        self.theme = theme
        self.raw = None
        self.spec = None
        self.splits: list = []
        self.results: list = []
        self.compare_results: list = []
        self.differences: dict | None = None
        self.runner = JobRunner(self, THREAD_NAME)
        self.runner.batch.connect(self._on_batch)
        self.runner.progress.connect(lambda p: self.v.set_progress(p.fraction, p.text))
        self.runner.ended.connect(self._on_ended)
        self._role = "run"
        self._compare_title = ""
        self._follow = True
        self._shown_fold: int | None = None
        self._grid_key: tuple | None = None
        self._points: dict[int, tuple] = {}
        self._syncing = False

        self.setWindowTitle(f"Cross-validation — {experiment.title or 'untitled experiment'}")
        self.v = EvaluationViews(theme)
        self.setCentralWidget(self.v)
        resize_within_screen(self, 1500, 960)
        v = self.v
        v.method_combo.currentIndexChanged.connect(self._on_settings_changed)
        for spin in (v.k_spin, v.repeats_spin, v.val_spin):
            spin.valueChanged.connect(self._on_settings_changed)
        v.run_button.clicked.connect(self.run)
        v.cancel_button.clicked.connect(self.cancel)
        v.compare_button.clicked.connect(self._on_compare_clicked)
        v.export_button.clicked.connect(self._on_export_clicked)
        v.replay.moved.connect(self._show_replay)
        v.replay.user_moved.connect(self._stop_following)
        v.replay.mode_combo.currentTextChanged.connect(lambda _: self._show_replay())
        v.confusion_combo.currentIndexChanged.connect(self._on_confusion_choice)
        v.table.itemSelectionChanged.connect(self._on_table_selection)
        for keys, slot in (("Space", v.replay.toggle), ("Ctrl+Return", self.run), ("Escape", self.cancel)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WindowShortcut)
        self._load_data()

    # --- public ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.runner.running

    def current_spec(self):
        """The EvalSpec the controls describe (shuffled with the experiment's data seed)."""
        from visualizer.core.evaluation.folds import EvalSpec

        v = self.v
        return EvalSpec(method=v.method_combo.currentData(), k=v.k_spin.value(), repeats=v.repeats_spin.value(),
                        val_fraction=v.val_spin.value() / 100.0, seed=self.experiment.data.seed)

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def show_message(self, text: str, error: bool = False) -> None:
        self.v.show_message(text, error)

    def run(self) -> bool:
        """Check the request, then train every fold on the worker thread; False (with a message) if refused."""
        from visualizer.core.errors import VisualizerError
        from visualizer.core.evaluation.folds import LOO_CONFIRM_ABOVE, check_request, make_splits

        if self.running or self.raw is None:
            return False
        spec, raw = self.current_spec(), self.raw
        confirmed = False
        try:
            check_request(spec, raw.y, raw.task)
        except VisualizerError as exc:
            if not (spec.method == "loo" and len(raw.y) > LOO_CONFIRM_ABOVE):
                self.show_message(str(exc), error=True)
                return False
            if not self.confirm("Leave-one-out on many samples?",
                                f"Leave-one-out trains one network per sample: {len(raw.y):,} networks, which "
                                "may take a long time. Run them all?"):
                self.show_message("Leave-one-out not started: k-fold gives a similar estimate much faster.")
                return False
            confirmed = True
        self.spec, self.splits = spec, make_splits(spec, raw)
        self.results, self.compare_results, self.differences = [], [], None
        self._points.clear()
        self._follow, self._shown_fold, self._grid_key = True, None, None
        self._show_map()
        self._refresh_results()
        fill_compare_table(self.v.compare_table, [], {})
        self.v.compare_label.setText("")
        if not self._start(self.experiment, self.base_dir,
                           boundary_resolution(len(self.splits)) if self._is_2d() else 0, confirmed, "run"):
            return False
        self.show_message(f"Training {len(self.splits)} fold(s)…")
        return True

    def cancel(self) -> None:
        """Stop the run after its current step and wait for the worker; finished folds are kept."""
        self.runner.cancel()

    def compare_with(self, path: str | Path) -> bool:
        """Evaluate another experiment on the same folds and show the per-fold differences (it − this one)."""
        from visualizer.core import experiment as experiment_file
        from visualizer.core.data.sets import raw_arrays
        from visualizer.core.errors import VisualizerError

        path = Path(path)
        if self.running:
            self.show_message("Compare: wait for the run to finish, or cancel it.", error=True)
            return False
        if not self.results or len(self.results) != len(self.splits):
            self.show_message("Compare: run the cross-validation to the end first; the comparison uses its folds.",
                              error=True)
            return False
        try:
            other = experiment_file.load(path)
            raw = raw_arrays(other.data, path.parent)
        except (VisualizerError, OSError) as exc:
            self.show_message(f"Compare: {exc}", error=True)
            return False
        if raw.X.shape != self.raw.X.shape or not (np.array_equal(raw.X, self.raw.X)
                                                   and np.array_equal(raw.y, self.raw.y)):
            self.show_message(f"Compare: {path.name} uses different data ({raw.X.shape[0]} samples × "
                              f"{raw.X.shape[1]} features, data set '{other.data.name}'); the folds can only be "
                              "shared by experiments on the same data.", error=True)
            return False
        self.compare_results, self.differences = [], None
        self._compare_title = other.title or path.stem
        if not self._start(other, path.parent, 0, True, "compare"):
            return False
        self.show_message(f"Evaluating {self._compare_title} on the same {len(self.splits)} fold(s)…")
        return True

    def export_plots(self, folder: str | Path) -> list[Path]:
        """Write the fold map, the strip plot, the curves (and the boundary, the confusion matrix) as PNG."""
        folder = Path(folder)
        v = self.v
        plots = [(v.fold_map, "cv_indices.png", 1200, 520), (v.metrics_plot, "folds.png", 1000, 520),
                 (v.curves, "fold_curves.png", 1000, 620)]
        if self.results and self._is_2d():
            plots.append((v.boundary, "decision_boundary.png", 800, 700))
        if self.results and self.raw.task == "classification":
            plots.append((v.confusion, "confusion_matrix.png", 800, 700))
        return [export_widget(plot, folder / name, w, h) for plot, name, w, h in plots]

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.v.set_theme(name)

    def shutdown(self) -> None:
        """Stop the worker and the timers (closing the window does it too)."""
        self.v.replay.pause()
        self.runner.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no thread may outlive the window
        self.shutdown()
        super().closeEvent(event)

    # --- data and settings -----------------------------------------------------------------------------
    def _load_data(self) -> None:
        from visualizer.core.data.sets import raw_arrays
        from visualizer.core.errors import VisualizerError

        try:
            self.raw = raw_arrays(self.experiment.data, self.base_dir)
        except (VisualizerError, OSError) as exc:
            self.show_message(f"The data could not be loaded: {exc}", error=True)
            self.v.run_button.setEnabled(False)
            return
        self.v.set_task(self.raw.task, self._is_2d(), self.experiment.data.val_fraction)
        self._on_settings_changed()

    def _is_2d(self) -> bool:
        return self.raw is not None and self.raw.task == "classification" and (
            self.raw.plane is not None or self.raw.X.shape[1] == 2)

    def _on_settings_changed(self) -> None:
        """Grey out what the method does not use; preview its folds while no run is shown."""
        from visualizer.core.errors import VisualizerError
        from visualizer.core.evaluation.folds import check_request, make_splits

        self.v.enable_settings(self.v.method_combo.currentData(), not self.running)
        if self.raw is None or self.running:
            return
        if self.results:
            self.show_message("Settings changed: Run to evaluate with them (the results shown are the last run's).")
            return
        spec = self.current_spec()
        try:
            check_request(spec, self.raw.y, self.raw.task, confirm=True)
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            self.splits = []
        else:
            self.splits = make_splits(spec, self.raw)
            self.show_message(f"{len(self.splits)} fold(s) on {len(self.raw.y):,} samples. Press Run to train "
                              "them.")
        self._show_map()

    def _show_map(self) -> None:
        raw = self.raw
        y = raw.y if raw.task == "classification" else None
        self.v.fold_map.set_folds(len(raw.y), self.splits, y, list(raw.class_names) if y is not None else None)

    # --- the worker ------------------------------------------------------------------------------------
    def _start(self, exp, base_dir, resolution: int, confirm: bool, role: str) -> bool:
        self._role = role
        prefix = "compare: " if role == "compare" else ""
        if not self.runner.start("evaluation", evaluation_job(exp, self.spec, base_dir, resolution, confirm),
                                 progress=fold_progress(prefix)):
            self.show_message(f"Cross-validation cannot start yet: {self.runner.refusal}.", error=True)
            return False
        self.v.set_running(True, self.spec.method)
        self.v.set_progress(0, f"{prefix}fold 1 of {len(self.splits)} — starting")
        return True

    def _on_batch(self, items: list) -> None:
        """What the worker produced since the last frame: new fold results are drawn once."""
        from visualizer.core.evaluation.folds import FoldResult

        new = [item for item in items if isinstance(item, FoldResult)]
        if new and self._role == "run":
            self.results.extend(new)
            self._refresh_results()
        elif new:
            self.compare_results.extend(new)

    def _on_ended(self, ended: EvaluationEnded) -> None:
        self.v.set_running(False, self.v.method_combo.currentData())
        done = self.results if self._role == "run" else self.compare_results
        what = "Comparison" if self._role == "compare" else "Cross-validation"
        if ended.reason == "failed":
            self.v.set_progress(None, "failed")
            self.show_message(f"{what} failed: {ended.message}", error=True)
        elif ended.reason == "stopped" or len(done) < len(self.splits):
            self.v.set_progress(None, f"cancelled after {len(done)} of {len(self.splits)} fold(s)")
            self.show_message(f"{what} cancelled: {len(done)} of {len(self.splits)} fold(s) finished.")
        else:
            self.v.set_progress(1.0, f"done: {len(done)} fold(s)")
            if self._role == "compare":
                self._show_differences()
            else:
                self.show_message(self._summary_text())

    def _show_differences(self) -> None:
        from visualizer.core.errors import VisualizerError
        from visualizer.core.evaluation.folds import paired_differences

        try:
            self.differences = paired_differences(self.results, self.compare_results, self.raw.task,
                                                  self.spec.method)
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            return
        fill_compare_table(self.v.compare_table, [r.fold for r in self.results], self.differences)
        this = self.experiment.title or "this experiment"
        self.v.compare_label.setText(f"Δ = {self._compare_title} − {this}, fold by fold on the same folds")
        self.v.show_compare_tab()
        self.show_message(f"Compared {self._compare_title} with {this} on {len(self.results)} fold(s).")

    def _on_compare_clicked(self) -> None:
        start = str(self.base_dir) if self.base_dir else ""
        path, _ = QFileDialog.getOpenFileName(self, "Compare with…", start, "Experiments (*.toml *.json)")
        if path:
            self.compare_with(path)

    def _on_export_clicked(self) -> None:
        export_plots_into_folder(self, "cross-validation")
