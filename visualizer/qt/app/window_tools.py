"""The windows the main window opens beside itself: cross-validation, compression, the optimizer playground and
race, the run library and replay, the export dialog; and the lessons of the Presets menu that set them up."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from visualizer.qt.app.lessons import LESSONS, start_lesson
from visualizer.qt.app.settings import runs_dir
from visualizer.qt.app.window_memory import remember


class ToolWindows:
    """Mixin for MainWindow: keeps one of each tool window and closes them with the main window."""

    TOOL_WINDOWS = ("evaluation", "sweep", "compression", "playground", "race", "library", "export_dialog",
                    "lr_finder", "barrier")

    def _init_tool_windows(self) -> None:
        for name in self.TOOL_WINDOWS:
            setattr(self, name, None)
        self.replays: list = []
        #: called once when the current run ends (a lesson's next step)
        self.after_run = None
        a = self.acts
        a.cross_validate.triggered.connect(lambda: self.open_evaluation())
        a.sweep.triggered.connect(lambda: self.open_sweep())
        a.compress.triggered.connect(lambda: self.open_compression())
        a.playground.triggered.connect(lambda: self.open_playground())
        a.race.triggered.connect(self.open_race)
        a.lr_finder.triggered.connect(lambda: self.open_lr_finder())
        a.barrier.triggered.connect(lambda: self.open_barrier())
        a.run_library.triggered.connect(self.open_run_library)
        a.open_run.triggered.connect(self._on_open_run)
        a.export_dialog.triggered.connect(self.open_export_dialog)

    def tool_windows(self) -> list:
        return [w for w in (*(getattr(self, n) for n in self.TOOL_WINDOWS), *self.replays) if w is not None]

    def _replace(self, name: str, window):
        old = getattr(self, name)
        if old is not None:
            old.close()
            old.deleteLater()  # a closed window lives on (its signals' lambdas hold it) until it is deleted
        setattr(self, name, window)
        remember(window, self.settings, name)  # its place and choices, as the last one of its kind left them
        window.show()
        return window

    # -- lessons --------------------------------------------------------------------------------------
    def _add_lessons_to_presets(self) -> None:
        menu = self.acts.presets_menu
        section = menu.addSection("Lessons")
        section.setToolTip("Presets that set up a whole demonstration, with what to look for")
        for lesson in LESSONS:
            action = menu.addAction(lesson.title)
            action.setObjectName(f"lesson_{lesson.key}")
            action.setToolTip(lesson.explanation)
            action.setStatusTip(lesson.explanation)
            action.triggered.connect(lambda _=False, les=lesson: start_lesson(self, les))
        playground = menu.addMenu("Optimizer playground")
        playground.setToolTipsVisible(True)
        from visualizer.core.errors import VisualizerError
        from visualizer.core.playground.functions import load_preset, preset_paths

        for path in preset_paths():
            try:
                preset = load_preset(path)
            except VisualizerError:
                continue
            action = playground.addAction(preset.title)
            action.setToolTip(preset.description)
            action.setStatusTip(preset.description)
            action.triggered.connect(lambda _=False, p=path: self.open_playground(p))
        menu.addSection("Experiments")

    def train_from_start(self) -> None:
        """Start a fresh run of the current experiment (a lesson's first step)."""
        if self.run_state not in ("idle", "finished"):
            self._reset_run()
        self._start_run(paused=False)

    def _run_after_hook(self) -> None:
        hook, self.after_run = self.after_run, None
        if hook is not None:
            hook()

    # -- the tool windows -----------------------------------------------------------------------------
    def open_evaluation(self, method: str | None = None, k: int | None = None, start: bool = False):
        from visualizer.qt.evaluation.window import EvaluationWindow

        if self.experiment is None:
            return None
        window = self._replace("evaluation", EvaluationWindow(self.experiment, self.base_dir, self.theme))
        v = window.v
        if method is not None and v.method_combo.findData(method) >= 0:
            v.method_combo.setCurrentIndex(v.method_combo.findData(method))
        if k is not None:
            v.k_spin.setValue(k)
        if start:
            window.run()
        return window

    def open_sweep(self):
        from visualizer.qt.sweeps.window import SweepWindow

        if self.experiment is None:
            return None
        window = self._replace("sweep", SweepWindow(self.experiment, self.base_dir, self.theme))
        window.open_run.connect(self.open_replay)
        window.compare_run.connect(self._compare_run)
        return window

    def open_compression(self, prune: tuple[str, float] | None = None):
        from visualizer.qt.compression.window import CompressionWindow

        if self.run_state != "finished" or self.recorded is None:
            why = ("Compression works on a trained network: train (Space) until the run finishes, or stop it, then "
                   "choose Run > Compress again.")
            if self.run_state == "finished":
                why = "Compression opens on the run file, and this run was not recorded (see the message above)."
            self.show_message(why, error=True)
            return None
        window = self._replace("compression", CompressionWindow(self.recorded, theme=self.theme))
        window.prune_tab.pruned_weights.connect(self._show_pruned_weights)
        if prune is not None:
            window.when_loaded(lambda: window.prune_tab.request(*prune))
        return window

    def _show_pruned_weights(self, label: str, flat) -> None:
        """Where the pruned network lands on the landscape plane shown (one marker, replaced at each preview)."""
        landscape = getattr(self.views, "landscape", None)
        if landscape is not None:
            previous = getattr(self, "_pruned_label", None)
            if previous is not None:
                landscape.mark_points(previous, None)
            landscape.mark_points(label, flat)
            self._pruned_label = label

    def open_playground(self, preset: Path | None = None):
        from visualizer.qt.playground.window import PlaygroundWindow

        return self._replace("playground", PlaygroundWindow(theme=self.theme, preset=preset))

    def open_race(self):
        from visualizer.qt.playground.race_window import RaceWindow

        if self.experiment is None:
            return None
        return self._replace("race", RaceWindow(self.experiment, self.base_dir, theme=self.theme))

    def open_lr_finder(self, start: bool = False):
        """The learning-rate finder on the current experiment; its "Use" button sets the training panel's rate."""
        from visualizer.qt.labtools.lr_window import LRFinderWindow

        if self.experiment is None:
            return None
        window = self._replace("lr_finder", LRFinderWindow(self.experiment, self.base_dir, theme=self.theme))
        window.use_learning_rate.connect(self.train_panel.learningRateSpin.setValue)
        if start:
            window.run()
        return window

    def open_barrier(self, run_b: Path | None = None):
        """The loss between two runs, run A being the last recorded run (if any)."""
        from visualizer.qt.labtools.barrier_window import BarrierWindow

        window = self._replace("barrier", BarrierWindow(self.recorded, runs_dir(), theme=self.theme))
        if run_b is not None and self.recorded is not None:
            window.set_runs(self.recorded, run_b)
        return window

    def open_run_library(self):
        from visualizer.qt.runs.library import RunLibraryDialog

        dialog = RunLibraryDialog(runs_dir(), parent=self, theme=self.theme)
        dialog.open_requested.connect(self.open_replay)
        dialog.compare_requested.connect(self._compare_run)
        return self._replace("library", dialog)

    def _on_open_run(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a run file", str(runs_dir()),
                                              "Run files (*.sqlite);;All files (*)")
        if path:
            self.open_replay(Path(path))

    def open_replay(self, path: Path):
        from visualizer.core.errors import VisualizerError
        from visualizer.qt.runs.replay_window import ReplayWindow

        try:
            window = ReplayWindow(Path(path), theme=self.theme)
        except (VisualizerError, OSError) as exc:
            self.show_message(f"The run file {path} could not be opened: {exc}", error=True)
            return None
        for closed in self.replays:
            if not closed.isVisible():
                closed.deleteLater()  # (as _replace's)
        self.replays = [w for w in self.replays if w.isVisible()] + [window]
        remember(window, self.settings, "replay")
        window.show()
        return window

    def _compare_run(self, path: Path) -> None:
        """Overlay a run on the replay opened last, or open it when none is open."""
        shown = [w for w in self.replays if w.isVisible()]
        if shown:
            shown[-1].compare_with(path)
        else:
            self.open_replay(path)

    def open_export_dialog(self):
        from visualizer.qt.runs.export_dialog import ExportDialog

        self.views.flush()
        dialog = ExportDialog(self.export_views(), parent=self, data={"landscape": self.views.landscape})
        dialog.accepted.connect(lambda: self.show_message(
            f"Exported {len(dialog.written)} file(s) to {dialog.written[0].parent}." if dialog.written else
            "Nothing was exported."))
        return self._replace("export_dialog", dialog)

    def export_views(self) -> dict:
        """The views the export dialog offers, by name, as figures: each plot alone (no controls around it), and the
        dashboard: the plots in one grid."""
        figures = self.views.figures()
        title = (self.experiment.title if self.experiment is not None else "") or ""
        return {"dashboard": self.views.dashboard(title),
                **{name.replace("_", " "): figure for name, figure in figures.items()}}

    def close_tool_windows(self) -> None:
        for window in self.tool_windows():
            window.close()
