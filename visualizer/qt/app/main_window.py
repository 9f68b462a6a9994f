"""The main window: docks that edit the experiment, a toolbar that drives the run, live views in the middle."""

from __future__ import annotations

import html
from collections import deque
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.resources import resources_dir
from visualizer.core.training.history import History
from visualizer.qt.app.actions import SPEEDS, build_actions, shortcut_rows
from visualizer.qt.app.lessons import LessonBar
from visualizer.qt.app.presentation import Presentation
from visualizer.qt.app.settings import last_session_path, open_settings, set_aside
from visualizer.qt.app.theme import apply_theme
from visualizer.qt.app.window_files import ExperimentFiles
from visualizer.qt.app.window_tools import ToolWindows
from visualizer.qt.training.bridge import TrainingBridge
from visualizer.qt.training.views import TrainingViews

IDLE, RUNNING, PAUSED, FINISHED = "idle", "running", "paused", "finished"
BOUNDARY_RESOLUTION = 80
#: snapshots (histograms, prediction, network weights) at most every 0.5 s: each redraw holds the GIL
SNAPSHOT_INTERVAL_S = 0.5


def _dock(window: QMainWindow, title: str, name: str, tip: str) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setToolTip(tip)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    placeholder = QLabel("Loading…")
    placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
    dock.setWidget(placeholder)
    return dock


class MainWindow(ExperimentFiles, ToolWindows, QMainWindow):
    """Paints at once with empty views; ``finish_setup`` then imports torch and builds the panels."""

    run_state_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings, self.settings_problems = open_settings()
        self.theme = str(self.settings.value("theme", "light"))
        self.views = TrainingViews(self.theme)
        self.message_bar = QLabel()
        self.message_bar.setObjectName("messageBar")
        self.message_bar.setWordWrap(True)
        self.message_bar.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_bar.setToolTip("The last warning or error; click the view to carry on")
        self.message_bar.hide()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message_bar)
        self.lesson_bar = LessonBar()
        layout.addWidget(self.lesson_bar)
        layout.addWidget(self.views, 1)
        self.setCentralWidget(central)

        self.acts = build_actions(self)
        self.presentation = Presentation(self)
        self.data_dock = _dock(self, "Data", "dataDock", "The data set, its size, noise and validation split")
        self.network_dock = _dock(self, "Network", "networkDock", "Hidden layers, activations, the network drawn")
        self.train_dock = _dock(self, "Training", "trainDock", "Optimizer, loss, schedule, epochs and device")
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.data_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.network_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.train_dock)
        for dock in (self.data_dock, self.network_dock, self.train_dock):
            self.acts.view_menu.addAction(dock.toggleViewAction())
        self.resizeDocks([self.data_dock, self.train_dock], [330, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.data_dock, self.network_dock], [520, 480], Qt.Orientation.Vertical)
        self._default_state = self.saveState()

        self.status_labels = {}
        for key, tip in (("step", "Optimizer steps taken"), ("epoch", "Passes over the training set"),
                         ("speed", "Training steps per second"), ("device", "Where the run trains")):
            label = QLabel(f"{key}: –")
            label.setObjectName(f"{key}Status")
            label.setToolTip(tip)
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label
        self.statusBar().setToolTip("The last message")

        self.bridge = TrainingBridge(self)
        self.bridge.started.connect(self._on_run_started)
        self.bridge.frame.connect(self._on_frame)
        self.bridge.ended.connect(self._on_run_ended)
        self.history = History()
        self.experiment = None
        self.path: Path | None = None
        self.dirty = False
        self.dataset = None
        self.recorded = None  # the run file of the last finished run
        self._started = self._ended = None
        self.run_state = IDLE
        self._rates: deque = deque(maxlen=64)
        self._connect_actions()
        self._init_tool_windows()
        self._set_run_actions_enabled(False)
        self._restore_window()
        self._update_title()

    # -- start-up -------------------------------------------------------------------------------------
    def _connect_actions(self) -> None:
        a = self.acts
        a.new.triggered.connect(self._on_new)
        a.open.triggered.connect(self._on_open)
        a.save.triggered.connect(self._on_save)
        a.save_as.triggered.connect(self._on_save_as)
        a.export_png.triggered.connect(lambda: self._on_export("png"))
        a.export_svg.triggered.connect(lambda: self._on_export("svg"))
        a.quit.triggered.connect(self.close)
        a.train.triggered.connect(self._on_train)
        a.step.triggered.connect(self._on_step)
        a.reset.triggered.connect(self._on_reset)
        a.stop.triggered.connect(self._on_stop)
        a.dark.setChecked(self.theme == "dark")
        a.dark.toggled.connect(lambda on: self.set_theme("dark" if on else "light"))
        a.log_scale.toggled.connect(self.views.log_check.setChecked)
        self.views.log_check.toggled.connect(a.log_scale.setChecked)
        a.reset_layout.triggered.connect(lambda: self.restoreState(self._default_state))
        a.presentation.triggered.connect(self.presentation.toggle)
        a.hide_controls.toggled.connect(self.presentation.set_controls_hidden)
        a.shortcuts.triggered.connect(self._on_shortcuts)
        a.about.triggered.connect(self._on_about)
        a.speed.currentTextChanged.connect(lambda text: self.bridge.set_delay(SPEEDS[text]))
        a.speed.setCurrentText(str(self.settings.value("speed", "Full speed")))

    def _restore_window(self) -> None:
        geometry, state = self.settings.value("geometry"), self.settings.value("window_state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def finish_setup(self, path: str | Path | None = None) -> None:
        """Import the engine (torch), build the panels and open ``path``, the last session or the example."""
        from visualizer.core.model.optimizers import warm_up
        from visualizer.qt.panels import DataPanel, NetworkPanel, TrainPanel
        from visualizer.qt.widgets import NetworkView

        warm_up()  # torch's first optimizer imports torch._dynamo: do it now rather than on the first Train

        self.data_panel = DataPanel()
        self.network_panel = NetworkPanel()
        self.network_view = NetworkView(theme=self.theme)
        self.train_panel = TrainPanel()
        net_box = QWidget()
        net_layout = QVBoxLayout(net_box)
        net_layout.setContentsMargins(0, 0, 0, 0)
        net_layout.addWidget(self.network_panel)
        net_layout.addWidget(self.network_view, 1)
        self.network_view.setMinimumHeight(180)
        self.data_dock.setWidget(self.data_panel)  # the panels scroll themselves
        self.network_dock.setWidget(net_box)
        self.train_dock.setWidget(self.train_panel)
        self.views.snapshot_views.append(self._draw_network_weights)
        self.data_panel.edited.connect(self._on_data_edited)
        self.data_panel.dataset_changed.connect(self._on_dataset_changed)
        self.network_panel.edited.connect(self._on_model_edited)
        self.train_panel.edited.connect(self._on_train_edited)
        self.train_panel.learning_rate_changed.connect(self._on_learning_rate)
        self._build_presets_menu()
        self._build_recent_menu()
        last = last_session_path()
        if path is not None:
            opened = self.open_experiment(Path(path))
        elif last.exists() or last.is_symlink():
            saved_path = self.settings.value("last_path", "")
            opened = self.open_experiment(last, as_path=Path(saved_path) if saved_path else None,
                                          dirty=self.settings.value("last_dirty", "false") == "true")
            if not opened:
                self.settings_problems.append(f"the last session could not be opened; {set_aside(last)}")
        else:
            opened = False
        if not opened:
            self.open_experiment(self.example_path(), as_path=None)
        if self.settings_problems:
            self.show_message("Settings: " + "; ".join(self.settings_problems) + ".", error=True)
        self._set_run_actions_enabled(True)

    @staticmethod
    def example_path() -> Path:
        return resources_dir() / "experiments" / "moons.toml"

    # -- editing --------------------------------------------------------------------------------------
    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _may_reset(self, what: str) -> bool:
        if self.run_state == IDLE:
            return True
        if self.confirm("Reset training?", f"Changing the {what} starts training again from new weights. Reset?"):
            self._reset_run()
            return True
        return False

    def _edited(self, **parts) -> None:
        self.experiment = replace(self.experiment, **parts)
        self.dirty = True
        self._update_title()
        self._save_session()  # every edit is kept, even if the window is killed rather than closed

    def _save_session(self) -> None:
        from visualizer.core import experiment

        try:
            experiment.save(self.experiment, last_session_path())
            self.settings.setValue("last_path", str(self.path) if self.path else "")
            self.settings.setValue("last_dirty", "true" if self.dirty else "false")
        except OSError:
            pass

    def _on_data_edited(self, spec) -> None:
        if self._may_reset("data"):
            self._edited(data=spec)
        else:
            self.data_panel.set_spec(self.experiment.data, self.base_dir)

    def _on_model_edited(self, spec) -> None:
        if self._may_reset("network"):
            self._edited(model=spec)
            self._update_network_view()
        else:
            self.network_panel.set_spec(self.experiment.model)

    def _on_train_edited(self, spec) -> None:
        only_lr = replace(self.experiment.train, lr=spec.lr) == spec
        if only_lr or self._may_reset("training settings"):
            self._edited(train=spec)
        else:
            self.train_panel.set_spec(self.experiment.train)

    def _on_learning_rate(self, lr: float) -> None:
        if self.run_state in (RUNNING, PAUSED) and self.bridge.control is not None:
            self.bridge.control.set_lr(lr)
            self.show_message(f"Learning rate {lr:g} from the next step.")

    def _n_out(self) -> int:
        from visualizer.core.model.losses import LOSSES, default_loss

        ds = self.dataset
        loss = self.experiment.train.loss
        if loss == "auto" or loss not in LOSSES:
            loss = default_loss(ds.task, ds.n_classes)
        return LOSSES[loss].output_size(ds.task, ds.n_classes)

    def _on_dataset_changed(self, dataset) -> None:
        self.dataset = dataset
        self.train_panel.set_task(dataset.task, dataset.n_classes)
        self.network_panel.set_io(dataset.n_features, self._n_out())
        self._update_network_view()
        if self.run_state == IDLE:
            self.views.show_data(dataset)

    def _update_network_view(self) -> None:
        if self.dataset is None:
            return
        m, ds = self.experiment.model, self.dataset
        n_out = self._n_out()
        outputs = list(ds.class_names) if ds.task == "classification" and n_out == ds.n_classes else ["ŷ"] * n_out
        self.network_view.set_architecture([ds.n_features, *m.hidden, n_out], list(m.activation),
                                           list(ds.feature_names), outputs)
        self.network_panel.set_io(ds.n_features, n_out)

    # -- the run --------------------------------------------------------------------------------------
    def _set_run_state(self, state: str) -> None:
        self.run_state = state
        running = state == RUNNING
        self.acts.train.setText("Pause" if running else ("Resume" if state == PAUSED else "Train"))
        self.acts.stop.setEnabled(state in (RUNNING, PAUSED))
        self.run_state_changed.emit(state)

    def _set_run_actions_enabled(self, on: bool) -> None:
        for action in (self.acts.train, self.acts.step, self.acts.reset, self.acts.new, self.acts.open,
                       self.acts.save, self.acts.save_as):
            action.setEnabled(on)
        self.acts.stop.setEnabled(on and self.run_state in (RUNNING, PAUSED))

    def _start_run(self, paused: bool) -> bool:
        from visualizer.core import experiment
        from visualizer.core.errors import VisualizerError
        from visualizer.core.training.session import RunControl, TrainingSession

        if self.dataset is None:
            self.show_message("The data set is not loaded yet.", error=True)
            return False
        try:
            exp = experiment.resolve(self.experiment, self.dataset)
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            return False
        self._reset_run()
        self.views.set_experiment(exp)  # the landscape rebuilds the network the session trains
        control = RunControl()
        if paused:
            control.pause()
        session = TrainingSession(exp, self.base_dir, control=control, dataset=self.dataset,
                                  boundary_resolution=BOUNDARY_RESOLUTION, snapshot_interval_s=SNAPSHOT_INTERVAL_S)
        self.history = History()
        self._rates.clear()
        self.message_bar.hide()
        from visualizer.qt.app.settings import runs_dir

        if not self.bridge.start(session, record_to=runs_dir()):  # every run is kept as a run file
            self.show_message(f"Training cannot start yet: {self.bridge.refusal}.", error=True)
            return False
        self._set_run_state(PAUSED if paused else RUNNING)
        return True

    def _on_train(self) -> None:
        if self.run_state in (IDLE, FINISHED):
            self._start_run(paused=False)
        elif self.run_state == RUNNING:
            self.bridge.control.pause()
            self._set_run_state(PAUSED)
        else:
            self.bridge.control.resume()
            self._set_run_state(RUNNING)

    def _on_step(self) -> None:
        if self.run_state in (IDLE, FINISHED) and not self._start_run(paused=True):
            return
        self.bridge.control.step(1)
        self._set_run_state(PAUSED)

    def _on_stop(self) -> None:
        if self.run_state in (RUNNING, PAUSED):
            self.bridge.control.stop()

    def _on_reset(self) -> None:
        self.after_run = None  # a lesson's next step belongs to the run it started
        self._reset_run()
        self.show_message("Reset: the next Train starts from new initial weights.")

    def _reset_run(self) -> None:
        self.bridge.shutdown()
        self.history = History()
        self._set_run_state(IDLE)
        self.views.show_data(self.dataset)
        for key in self.status_labels:
            self.status_labels[key].setText(f"{key}: –")

    def _on_run_started(self, started) -> None:
        self._started = started
        self.views.begin(started)
        self.acts.device.setText(f" Device: {started.device} ")
        self.status_labels["device"].setText(f"device: {started.device}")
        self.show_message(f"{started.device_message} {started.n_params:,} parameters, "
                          f"{started.total_steps:,} steps.")

    def _on_frame(self, frame) -> None:
        self.history.extend(frame.steps)
        self.views.show_frame(self.history, frame)
        if frame.steps:
            last = frame.steps[-1]
            self._rates.append((last.wall_s, last.step))
            wall0, step0 = self._rates[0]
            rate = (last.step - step0) / (last.wall_s - wall0) if last.wall_s > wall0 else 0.0
            self.status_labels["step"].setText(f"step: {last.step:,}")
            self.status_labels["epoch"].setText(f"epoch: {last.epoch}")
            self.status_labels["speed"].setText(f"steps/s: {rate:,.0f}")

    def _draw_network_weights(self, snap) -> None:
        from visualizer.core.model.nets import linear_weights

        m, ds = self.experiment.model, self.dataset
        self.network_view.set_weights(linear_weights(snap.params, ds.n_features, m.hidden, self._n_out(),
                                                     m.batch_norm))

    def _on_run_ended(self, ended) -> None:
        self._ended = ended
        self.recorded = self.bridge.run_file  # the worker has ended: its run file is written
        self.views.flush()
        self._set_run_state(FINISHED)
        if ended.reason == "diverged":
            self.show_message(f"Training diverged. {ended.message}", error=True)
        elif ended.reason == "failed":
            self.show_message(f"Training failed: {ended.message}", error=True)
        else:
            self.show_message(ended.message + (f" Recorded in {self.recorded}." if self.recorded else ""))
        if self.bridge.record_error:
            self.show_message(f"The run was not recorded: {self.bridge.record_error}", error=True)
        self._run_after_hook()

    # -- look and help --------------------------------------------------------------------------------
    def show_message(self, text: str, error: bool = False) -> None:
        """Show a message in the status bar; warnings and errors also in the bar above the views."""
        self.statusBar().showMessage(text)
        if error:
            self.message_bar.setText(f"⚠ {text}")
            self.message_bar.setStyleSheet("QLabel { background: #fdecea; color: #611a15; padding: 6px; "
                                           "border: 1px solid #f5c2c0; border-radius: 3px; }")
            self.message_bar.show()

    def set_theme(self, name: str) -> None:
        self.theme = name
        app = QApplication.instance()
        if app is not None:
            apply_theme(app, name)
        self.views.set_theme(name)
        if hasattr(self, "network_view"):
            self.network_view.set_theme(name)
        for window in self.tool_windows():
            if hasattr(window, "set_theme"):
                window.set_theme(name)
        self.acts.dark.blockSignals(True)  # checking it must not set a theme again
        self.acts.dark.setChecked(name == "dark")
        self.acts.dark.blockSignals(False)
        self.acts.presentation.setChecked(self.presentation.active)

    def _on_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                       for k, v in shortcut_rows(self.acts))
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table cellpadding=4>{rows}</table>",
                          QMessageBox.StandardButton.Close, self)
        box.setObjectName("shortcutsDialog")
        box.setModal(False)
        box.show()
        self._shortcuts_box = box

    def _on_about(self) -> None:
        from visualizer import __version__

        QMessageBox.about(self, "About Optimization Visualizer",
                          f"Optimization Visualizer {__version__}: watch neural-network optimization happen.")

    def docks(self) -> list[QDockWidget]:
        """The side panels (presentation mode hides them on request)."""
        return [self.data_dock, self.network_dock, self.train_dock]

    def keyPressEvent(self, event) -> None:  # Qt override: Esc leaves presentation mode
        if event.key() == Qt.Key.Key_Escape and self.presentation.active:
            self.presentation.leave()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # Qt override: stop and join the workers before Qt objects die
        self.presentation.leave()  # so that the normal geometry, theme and fonts are what gets saved
        self.bridge.shutdown()
        if hasattr(self, "data_panel"):
            self.data_panel.shutdown()
        self.views.shutdown()
        self.close_tool_windows()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("theme", self.presentation.saved_theme or self.theme)
        self.settings.setValue("speed", self.acts.speed.currentText())
        if self.experiment is not None:
            self._save_session()
        self.settings.sync()
        super().closeEvent(event)
