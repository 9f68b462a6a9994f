"""The main window: docks that edit the experiment, a toolbar that drives the run, live views in the middle."""

from __future__ import annotations

from collections import deque
from dataclasses import fields, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.resources import resources_dir
from visualizer.core.session_model import IDLE, SessionModel
from visualizer.qt.app.actions import SPEEDS, build_actions
from visualizer.qt.app.lessons import LessonBar
from visualizer.qt.app.presentation import Presentation
from visualizer.qt.app.settings import last_session_path, open_settings, set_aside
from visualizer.qt.app.window_edits import WeightEdits
from visualizer.qt.app.window_files import ExperimentFiles
from visualizer.qt.app.window_look import LookAndHelp
from visualizer.qt.app.window_run import RunControls
from visualizer.qt.app.window_tools import ToolWindows
from visualizer.qt.training.bridge import TrainingBridge

DEFAULT_SIZE = (1400, 900)


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


class MainWindow(ExperimentFiles, ToolWindows, RunControls, WeightEdits, LookAndHelp, QMainWindow):
    """Paints at once with empty views; ``finish_setup`` then imports torch and builds the panels. With
    ``defer_views`` (the application's start) it paints before the views too: their plots (pyqtgraph, about
    0.2 s to import, 0.25 s to build on 2 cores) come with ``attach_views`` right after that paint (``finish_setup``
    builds them first if nobody did)."""

    run_state_changed = Signal(str)

    def __init__(self, defer_views: bool = False) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings, self.settings_problems = open_settings()
        self.theme = str(self.settings.value("theme", "light"))
        self.views = None  # TrainingViews, from attach_views
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
        self._views_placeholder = QLabel("Loading…")
        self._views_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self._views_placeholder, 1)
        self._central_layout = layout
        self.setCentralWidget(central)

        self.acts = build_actions(self)
        self.presentation = Presentation(self)
        self._shortcuts_box = None  # Help > Keyboard shortcuts, while open
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
                         ("speed", "Training steps per second"), ("device", "Where the run trains"),
                          ("threads", "torch threads the run computes with (the thread policy, --threads or "
                                      "$VISUALIZER_THREADS)")):
            label = QLabel(f"{key}: –")
            label.setObjectName(f"{key}Status")
            label.setToolTip(tip)
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label
        self.statusBar().setToolTip("The last message appears here")

        self.bridge = TrainingBridge(self)
        self.bridge.started.connect(self._on_run_started)
        self.bridge.frame.connect(self._on_frame)
        self.bridge.ended.connect(self._on_run_ended)
        self.session = SessionModel()  # the window's state: panels edit it, the window and its tools follow it
        self.session.events.file.connect(lambda *_: self._update_title())
        self.session.events.experiment.connect(lambda *_: self._save_session())
        self.session.events.run_state.connect(self._on_run_state)
        self._rates: deque = deque(maxlen=64)
        self._connect_actions()
        if not defer_views:
            self.attach_views()
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
        a.reset_layout.triggered.connect(lambda: self.restoreState(self._default_state))
        a.presentation.triggered.connect(self.presentation.toggle)
        a.hide_panels.toggled.connect(self.presentation.set_panels_hidden)
        a.shortcuts.triggered.connect(self._on_shortcuts)
        a.about.triggered.connect(self._on_about)
        a.speed.currentTextChanged.connect(lambda text: self.bridge.set_delay(SPEEDS[text]))
        a.speed.setCurrentText(str(self.settings.value("speed", "Full speed")))

    def attach_views(self) -> None:
        """Build the training views in place of their placeholder (once)."""
        if self.views is not None:
            return
        from visualizer.qt.training.views import TrainingViews

        self.views = TrainingViews(self.theme)
        self._central_layout.replaceWidget(self._views_placeholder, self.views)
        self._views_placeholder.deleteLater()
        self._views_placeholder = None
        self.views.log_check.setChecked(self.acts.log_scale.isChecked())
        self.acts.log_scale.toggled.connect(self.views.log_check.setChecked)
        self.views.log_check.toggled.connect(self.acts.log_scale.setChecked)

    def _restore_window(self) -> None:
        geometry, state = self.settings.value("geometry"), self.settings.value("window_state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:  # the first start: 1400 x 900, or what fits the screen (a 1366 x 768 projector)
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            width, height = DEFAULT_SIZE
            if screen is not None and screen.width() > 0:
                width, height = min(width, screen.width()), min(height, screen.height())
            self.resize(width, height)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def finish_setup(self, path: str | Path | None = None) -> None:
        """Import the engine (torch), build the panels and open ``path``, the last session or the example."""
        from visualizer.core.model.optimizers import warm_up
        from visualizer.qt.app.control_strip import ControlStrip
        from visualizer.qt.panels import DataPanel, NetworkPanel, TrainPanel
        from visualizer.qt.widgets import NetworkView

        self.attach_views()  # (deferred by the application's start until the window had painted)
        warm_up()  # torch's first optimizer imports torch._dynamo: do it now rather than on the first Train

        self.data_panel = DataPanel(theme=self.theme)
        self.network_panel = NetworkPanel()
        self.network_view = NetworkView(theme=self.theme)
        self.train_panel = TrainPanel()
        self.control_strip = ControlStrip(self.acts.toolbar, self.train_panel, self.session)
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
        self._setup_weight_edits()
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
        self.bridge.warm()  # the training process imports torch now, beside the window: Train starts at once

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

    # -- the state, read from the session model ------------------------------------------------------------
    @property
    def experiment(self):
        return self.session.experiment

    @experiment.setter
    def experiment(self, exp) -> None:  # a script or test replacing the whole experiment: an edit of every part
        self.session.edit(**{f.name: getattr(exp, f.name) for f in fields(exp)})

    @property
    def path(self) -> Path | None:
        return self.session.path

    @property
    def base_dir(self) -> Path | None:
        return self.session.base_dir

    @property
    def dirty(self) -> bool:
        return self.session.dirty

    @property
    def dataset(self):
        return self.session.dataset

    @property
    def run_state(self) -> str:
        return self.session.run_state

    @property
    def history(self):
        return self.session.history

    @property
    def recorded(self) -> Path | None:
        """The run file of the last finished run."""
        return self.session.recorded

    def _edited(self, **parts) -> None:
        self.session.edit(**parts)  # the title follows, and every edit is kept (even if the window is killed)

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

    def _on_dataset_changed(self, dataset) -> None:
        self.session.set_dataset(dataset)
        self.train_panel.set_task(dataset.task, dataset.n_classes)
        self.network_panel.set_io(dataset.n_features, self.session.output_size())
        self._update_network_view()
        if self.run_state == IDLE:
            self.views.show_data(dataset, self._weighted_layers())

    def _update_network_view(self) -> None:
        if self.dataset is None:
            return
        m, ds = self.experiment.model, self.dataset
        n_out = self.session.output_size()
        outputs = list(ds.class_names) if ds.task == "classification" and n_out == ds.n_classes else ["ŷ"] * n_out
        from visualizer.core.data.features import FEATURES
        from visualizer.core.data.images import dataset_image_shape
        from visualizer.core.errors import VisualizerError
        from visualizer.core.model.columns import network_columns
        from visualizer.core.model.neurons import NeuronPictures, input_pictures
        from visualizer.qt.training.filters_tab import filter_source

        image = dataset_image_shape(ds)
        self.network_panel.set_io(ds.n_features, n_out, image)
        try:
            cols = network_columns(m, ds.n_features, n_out, image)
        except VisualizerError:  # a layer list that does not fit this data: the run will say why
            return
        self.views.set_filter_source(filter_source(m, ds, n_out))
        inputs = [FEATURES[name].label for name in ds.features] if ds.features else list(ds.feature_names)
        names = list(cols.input_names) if cols.input_names is not None else inputs
        self.network_view.set_architecture(list(cols.sizes), list(cols.titles), names, outputs, list(cols.maps))
        if ds.n_plane == 2 and not any(cols.maps):  # the input nodes' pictures need no network: numpy, instant
            xs, ys, planes = input_pictures(ds)
            self.network_view.set_pictures(NeuronPictures(xs, ys, (planes,)), ds.task)

    def keyPressEvent(self, event) -> None:  # Qt override: Esc leaves presentation mode
        if event.key() == Qt.Key.Key_Escape and self.presentation.active:
            self.presentation.leave()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # Qt override: stop and join the workers before Qt objects die
        self.presentation.leave()  # so that the normal geometry, theme and fonts are what gets saved
        self.bridge.close()  # the run stopped and recorded, the training process ended
        if hasattr(self, "data_panel"):
            self.data_panel.shutdown()
        if self.views is not None:
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
