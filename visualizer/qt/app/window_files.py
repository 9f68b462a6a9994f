"""The window's File menu: open, save, recent files, presets and plot export (a mixin of MainWindow)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from visualizer.core.resources import resources_dir
from visualizer.qt.app.settings import add_recent_file, recent_files


class ExperimentFiles:
    """Experiment files in and out of the window; errors become messages, the current experiment is kept."""

    def open_experiment(self, path: Path, as_path: Path | None | bool = False, dirty: bool = False) -> bool:
        """Load an experiment file into the panels; a bad file leaves everything as it was, with a message."""
        from visualizer.core import experiment
        from visualizer.core.errors import VisualizerError

        try:
            exp = experiment.load(path)
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            return False
        self._reset_run()
        self.after_run = None  # a lesson's next step belongs to the experiment it opened
        self.lesson_bar.hide()
        file = Path(path) if as_path is False else as_path
        self.session.open(exp, file, Path(path).parent if file is None else file.parent, dirty)
        # the model and training parts first: loading the data reports the task, which the others check against
        self.network_panel.set_spec(exp.model)
        self.train_panel.set_spec(exp.train)
        self.data_panel.set_spec(exp.data, self.base_dir)
        self._update_title()
        if self.path is not None and as_path is False:
            add_recent_file(self.settings, str(self.path))
            self._build_recent_menu()
        self.show_message(f"Opened {exp.title or Path(path).name}.")
        return True

    def save_to(self, path: Path) -> bool:
        from visualizer.core import experiment

        try:
            experiment.save(self.experiment, path)
        except OSError as exc:
            self.show_message(f"Could not save {path}: {exc}", error=True)
            return False
        self.session.saved(Path(path))
        add_recent_file(self.settings, str(path))
        self._build_recent_menu()
        self._update_title()
        self.show_message(f"Saved {path}.")
        return True

    def _on_new(self) -> None:
        self.open_experiment(self.example_path(), as_path=None)

    def _on_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open experiment", str(self.base_dir),
                                              "Experiments (*.toml *.json)")
        if name:
            self.open_experiment(Path(name))

    def _on_save(self) -> None:
        if self.path is None:
            self._on_save_as()
        else:
            self.save_to(self.path)

    def _on_save_as(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save experiment", str(self.base_dir / "experiment.toml"),
                                              "TOML (*.toml);;JSON (*.json)")
        if name:
            self.save_to(Path(name))

    def export_to(self, folder: Path, fmt: str) -> list[Path]:
        try:
            written = self.views.export(folder, fmt)
        except (OSError, ValueError) as exc:
            self.show_message(f"Could not export to {folder}: {exc}", error=True)
            return []
        self.show_message(f"Exported {len(written)} plots to {folder}.")
        return written

    def _on_export(self, fmt: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Export plots as {fmt.upper()} into")
        if folder:
            self.export_to(Path(folder), fmt)

    def _build_presets_menu(self) -> None:
        from visualizer.core import experiment
        from visualizer.core.errors import VisualizerError

        menu = self.acts.presets_menu
        menu.clear()
        self._add_lessons_to_presets()
        for path in sorted((resources_dir() / "experiments").glob("*.toml")):
            try:
                exp = experiment.load(path)
            except VisualizerError:
                continue
            action = menu.addAction(exp.title or path.stem)
            action.setToolTip(exp.description)
            action.setStatusTip(exp.description)
            action.triggered.connect(lambda _=False, p=path: self.open_experiment(p, as_path=None))

    def _build_recent_menu(self) -> None:
        menu = self.acts.recent_menu
        menu.clear()
        for name in recent_files(self.settings):
            action = menu.addAction(Path(name).name)
            action.setToolTip(name)
            action.triggered.connect(lambda _=False, n=name: self.open_experiment(Path(n)))
        menu.setEnabled(bool(menu.actions()))

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.session.title()} — Optimization Visualizer")

