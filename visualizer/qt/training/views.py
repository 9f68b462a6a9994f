"""The central views: loss curves, what the model predicts (or the loss landscape), and the weight histograms."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.model.predict import prediction_view, prediction_views_text
from visualizer.core.scales import history_wants_log_axis
from visualizer.qt.jobs.frames import FRAME_MS, SpreadWork
from visualizer.qt.lab.views import LabViews
from visualizer.qt.landscape.view import LandscapeView
from visualizer.qt.plots import (
    ConfusionMatrixPlot,
    DecisionBoundaryPlot,
    HistogramPlot,
    HistogramTimePlot,
    LossPlot,
)
from visualizer.qt.plots.figures import METRIC_LABELS, histogram_layers, show_history
from visualizer.qt.training.filters_tab import FiltersTab
from visualizer.qt.training.readouts import LossReadouts
from visualizer.qt.training.view_figures import ViewFigures
from visualizer.qt.training.view_pictures import ViewPictures
from visualizer.qt.training.view_rounds import ViewRounds
from visualizer.qt.widgets.controls import titled

KINDS = {"Weights": "weights", "Gradients": "gradients"}
APPEND_UP_TO = 16  # snapshots of one frame added column by column to the histogram over time (more: one redraw)
PICTURE_FIELDS = ("boundary", "curve", "confusion", "neurons")  # what only the timed snapshots compute


class _Column(NamedTuple):
    """What the histogram-over-time view keeps of a snapshot."""

    step: int
    layers: tuple


IDLE_HINT = ("Press <b>Train</b> (Space), or <b>Step</b> (S) for one batch, and watch: the loss falls, the "
             "prediction takes shape, the weights spread. Presets ▸ Lessons has guided demonstrations.")


class TrainingViews(ViewFigures, ViewPictures, ViewRounds, QWidget):
    """Every live view of a run; fed a History and the Frames the bridge delivers."""

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss = LossPlot(theme=theme)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName("logScaleCheck")
        self.log_check.setToolTip("Show the loss on a logarithmic axis (L)")
        self.log_check.toggled.connect(self.loss.set_log_scale)

        self.boundary = DecisionBoundaryPlot(theme=theme)
        self.confusion = ConfusionMatrixPlot(theme=theme)
        self.no_view = QLabel(prediction_views_text())
        self.no_view.setWordWrap(True)
        self.no_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting_view = QLabel("The validation set's confusion matrix appears here when training starts.")
        self.waiting_view.setObjectName("predictionWaiting")
        self.waiting_view.setWordWrap(True)
        self.waiting_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction = QStackedWidget()
        for w in (self.boundary, self.confusion, self.no_view, self.waiting_view):
            self.prediction.addWidget(w)
        self.points_check = QCheckBox("Show data")
        self.points_check.setObjectName("boundaryPointsCheck")
        self.points_check.setChecked(True)
        self.points_check.setToolTip("Draw the training (circles) and validation (triangles) points over the "
                                     "prediction; untick to see the whole decision boundary")
        self.points_check.toggled.connect(self.boundary.set_points_shown)
        self.discrete_check = QCheckBox("Discretize output")
        self.discrete_check.setObjectName("boundaryDiscreteCheck")
        self.discrete_check.setToolTip("Colour each point of the plane by the class the network predicts, without "
                                       "the shading by how confident it is (as TensorFlow Playground's option)")
        self.discrete_check.toggled.connect(self.boundary.set_discrete)
        self.validation_check = QCheckBox("Show validation")
        self.validation_check.setObjectName("boundaryValidationCheck")
        self.validation_check.setChecked(True)
        self.validation_check.setToolTip("Draw the validation points (triangles) too, or the training points alone "
                                         "(as TensorFlow Playground's 'show test data')")
        self.validation_check.toggled.connect(self.boundary.set_validation_shown)
        self.points_check.toggled.connect(self.validation_check.setEnabled)
        self.readouts = LossReadouts()
        self.prediction.currentChanged.connect(self._sync_prediction_controls)
        self.idle_hint = QLabel(IDLE_HINT)  # an idle window says what to do
        self.idle_hint.setObjectName("idleHint")
        self.idle_hint.setWordWrap(True)
        self.idle_hint.setToolTip("Train: Space; one batch: S; the lessons are in the Presets menu")
        self.idle_hint.setStyleSheet("QLabel#idleHint { padding: 5px 8px; border: 1px solid palette(mid); "
                                     "border-radius: 3px; }")

        self.histograms = HistogramPlot(theme=theme)
        self.hist_time = HistogramTimePlot(theme=theme)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("histogramKindCombo")
        self.kind_combo.addItems(list(KINDS))
        self.kind_combo.setToolTip("Histograms of the weights, or of their gradients at the last step (G)")
        self.kind_combo.currentTextChanged.connect(self._redraw_histograms)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("histogramLayerCombo")
        self.layer_combo.setToolTip("The layer whose histogram over time is shown")
        self.layer_combo.currentIndexChanged.connect(self._redraw_time)
        self.hist_tabs = QTabWidget()
        self.hist_tabs.setObjectName("histogramTabs")
        self.hist_tabs.addTab(self.histograms, "Per layer")
        self.hist_tabs.addTab(titled(self.hist_time, QLabel("Layer:"), self.layer_combo), "Over time")
        self.hist_tabs.setTabToolTip(0, "The current histogram of every layer")
        self.hist_tabs.setTabToolTip(1, "One layer's histogram at every snapshot: step across, value up, "
                                        "count as colour")

        self.landscape = LandscapeView(theme=theme)
        self.right_tabs = QTabWidget()
        self.right_tabs.setObjectName("rightTabs")
        self.right_tabs.addTab(titled(titled(self.prediction, self.readouts), self.points_check,
                                       self.validation_check, self.discrete_check), "Prediction")
        self.right_tabs.addTab(self.landscape, "Loss landscape")
        self.right_tabs.setTabToolTip(0, "What the network predicts: decision boundary, fitted curve or confusion")
        self.right_tabs.setTabToolTip(1, "The loss surface around the current weights, with the optimizer's path")
        self.filters = FiltersTab(theme)
        self.right_tabs.addTab(self.filters, "Filters")
        self.right_tabs.setTabToolTip(2, "Each filter of the first conv layer as an image, live (blue positive, "
                                         "orange negative, white zero), and the feature maps they make of a "
                                         "chosen sample (convolutional networks only)")
        self.right_tabs.setTabVisible(2, False)
        self.lab = LabViews(self.right_tabs, theme)  # Sharpness and Health: the lab's measures of the run

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(titled(self.loss, self.log_check))
        top.addWidget(self.right_tabs)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 1)
        top.setSizes([1000, 1000])  # equal shares, also when the landscape tab's controls ask for more
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(titled(self.hist_tabs, QLabel("Histograms of:"), self.kind_combo))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.idle_hint)
        layout.addWidget(self.splitter)

        self._snapshot = None
        self.pictured = None  # the latest snapshot that carries a picture (boundary, curve, confusion, neurons)
        self._prediction_drawn = None  # the snapshot whose picture the prediction view shows
        #: the heavier snapshot pictures redraw in rounds at most every PICTURES_EVERY_S: snapshots now come by
        #: progress (100 a run at any speed), and redrawing for each one doubled the GUI thread's timer lateness
        self._pictures_due, self._pictures_at = False, -1e9
        self._frame_ms = FRAME_MS  # the live frames' interval (show_frame's frame_ms)
        self._pictures_timer = QTimer(self)
        self._pictures_timer.setSingleShot(True)
        self._pictures_timer.timeout.connect(self._pictures_time_up)
        self._columns: list = []  # every snapshot's (step, layers) for the time view
        #: what a new snapshot redraws, one per frame; the window adds its network drawing
        self.snapshot_views = [self._draw_histograms, self._draw_prediction, self._draw_filters]
        self._pending: list = []
        self._spread = SpreadWork(self)  # a live frame's parts, one a turn of the event loop
        self._layer_names: list[str] = []
        #: how each registered prediction view (predict.PREDICTION_VIEWS) is drawn: before a run, and from a snapshot
        self._empty_pictures = {"boundary": self._show_points, "curve": self._show_curve_points,
                                "confusion": self._show_empty_confusion}
        self._pictures = {"boundary": self._draw_boundary, "curve": self._draw_curve,
                          "confusion": self._draw_confusion}

    # -- set-up ---------------------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        for plot in (self.loss, self.boundary, self.confusion, self.histograms, self.hist_time, self.landscape,
                     self.filters, self.readouts, self.lab):
            plot.set_theme(name)

    def set_filter_source(self, source) -> None:
        """What the Filters tab draws from (a filters_tab.FilterSource); None hides the tab (no convolution)."""
        self.right_tabs.setTabVisible(2, source is not None)
        self.filters.set_source(source)

    def set_experiment(self, experiment) -> None:
        """The resolved experiment of the run about to start (the landscape rebuilds its network from it)."""
        self.landscape.set_experiment(experiment)

    def shutdown(self) -> None:
        """Stop and join the background threads of the views (before the window closes)."""
        self.landscape.shutdown()

    def show_data(self, dataset, layers: int = 0) -> None:
        """Before a run: the data points in the prediction view, everything else empty; the plots of a run of
        ``layers`` weighted layers are made now, not in its first frames."""
        self.clear()
        self.histograms.reserve(layers)
        self.landscape.set_dataset(dataset)
        self.idle_hint.setVisible(dataset is not None)
        if dataset is None:
            return
        view = prediction_view(dataset.task, dataset.n_plane)
        if view is None:
            self.prediction.setCurrentWidget(self.no_view)
        else:
            if view.name == "confusion":
                self.confusion.prepare(list(dataset.class_names))
            self.prediction.setCurrentWidget(self._empty_pictures[view.name](dataset))
        self._dataset = dataset

    def _show_points(self, dataset) -> QWidget:
        P_train, P_val = dataset.plane_points()
        self.boundary.set_points(P_train, dataset.y_train, P_val, dataset.y_val)
        self._sync_prediction_controls()
        return self.boundary

    def _show_curve_points(self, dataset) -> QWidget:
        self.boundary.set_curve(dataset.X_train[:0, 0], dataset.y_train[:0], dataset.X_train, dataset.y_train,
                                dataset.X_val, dataset.y_val)
        self._sync_prediction_controls()
        return self.boundary

    def _sync_prediction_controls(self, *_args) -> None:
        """The boundary's check boxes only beside the boundary (discretize only where there are classes)."""
        boundary = self.prediction.currentWidget() is self.boundary
        self.points_check.setVisible(boundary)
        self.validation_check.setVisible(boundary)
        self.discrete_check.setVisible(boundary and self.boundary.mode == "classification")

    def _show_empty_confusion(self, dataset) -> QWidget:
        return self.waiting_view  # a matrix of zeros would say nothing

    def begin(self, started) -> None:
        """A run started: name the metric and the layers."""
        self._spread.drop()  # (a run left mid-frame)
        self._hold_curves(False)
        self._log_decided = self.log_check.isChecked()  # a user's log axis stays; a linear one may switch once
        self.idle_hint.hide()
        self.loss.clear()
        self.loss.set_metric_name(METRIC_LABELS[started.metric])
        self.loss.set_step_range(started.total_steps)
        self._layer_names = list(started.layer_names)
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems(self._layer_names)
        self.layer_combo.setCurrentIndex(0)
        self.layer_combo.blockSignals(False)
        # lay the per-layer plots out now, while the worker prepares, not in the middle of the first frames
        empty = (np.linspace(-1.0, 1.0, 41), np.zeros(40))
        self.histograms.set_histograms([(name, *empty) for name in self._layer_names], self.kind())

    def clear(self) -> None:
        self.loss.clear()
        self.histograms.clear()
        self.hist_time.clear()
        self.boundary.clear()
        self.confusion.clear()
        self.landscape.clear()
        self.filters.clear()
        self.readouts.clear()
        self.lab.clear()
        self._spread.drop()
        self._hold_curves(False)
        self._snapshot, self._columns, self._pending = None, [], []
        self.pictured = self._prediction_drawn = None
        self._pictures_due, self._pictures_at = False, -1e9
        self._pictures_timer.stop()

    # -- live -----------------------------------------------------------------------------------------
    def show_frame(self, history, frame, spread: bool = False, frame_ms: float = FRAME_MS) -> None:
        """Redraw the curves from the whole History; of the views a new snapshot changes, draw one per frame.

        Spreading the heavier pictures (histograms, prediction, network) over successive frames keeps each
        frame's work on the GUI thread short, so the window stays responsive while training runs at full speed.
        ``spread`` (the window, live): the curves, the snapshots and the picture each in a turn of the event loop
        of its own (SpreadWork), drawn before the next frame's; else all now. ``frame_ms``: the interval the frames
        come at now (the pictures' rounds are spaced out with it: pictures_every_s).
        """
        self._frame_ms = frame_ms
        parts = [lambda: self._show_curves(history, frame, hold=spread), self._paint_curves,
                 lambda: self._show_snapshots(frame), self._draw_next]
        if spread:
            self._spread.start(parts)
        else:
            self._spread.finish()
            for part in parts:
                part()

    def _show_curves(self, history, frame, hold: bool = False) -> None:
        if frame.steps and len(history):
            self._hold_curves(hold)  # painted in the next part (ViewRounds._hold_curves)
            show_history(self.loss, history)
            self.readouts.show_history(history)
            if not self._log_decided and history_wants_log_axis(history):
                self._log_decided = True  # once a run: a user who then unticks it keeps the linear axis
                self.log_check.setChecked(True)  # the loss spans decades: on a linear axis it is one spike
        self.lab.add(getattr(frame, "measures", None))

    def _show_snapshots(self, frame) -> None:
        if frame.snapshots:
            self._columns.extend(_Column(s.step, s.layers) for s in frame.snapshots)  # not their parameters
            if len(frame.snapshots) <= APPEND_UP_TO:  # live: a few per frame, each a column added, drawn once
                for snap in frame.snapshots:
                    self._append_time_column(snap, draw=False)
                self.hist_time.draw_if_visible()
            else:  # a replay's jump: one redraw instead of one per snapshot
                self._redraw_time()
            self._snapshot = frame.snapshots[-1]
            for snap in frame.snapshots:  # snapshots by progress carry weights only: the pictures of the last that has
                if any(getattr(snap, name, None) is not None for name in PICTURE_FIELDS):
                    self.pictured = snap
            self._pictures_due = True
            self.landscape.add_snapshots(frame.snapshots)
        ended = getattr(frame, "ended", None)
        if ended is not None:
            self.landscape.finish()
            if ended.reason == "diverged":  # the steps that ran, not the hundreds it never reached
                self.loss.set_step_range(max(int(ended.step), 1))
        self._start_pictures(force=ended is not None)

    def _draw_filters(self, snap) -> None:
        if self.filters.source is not None and snap is not None:
            self.filters.show_params(snap.params)

    def _draw_histograms(self, snap) -> None:
        self.histograms.set_histograms(histogram_layers(snap, self.kind()), self.kind())

    def kind(self) -> str:
        return KINDS[self.kind_combo.currentText()]

    def _redraw_histograms(self, *_args) -> None:
        if self._snapshot is not None:
            self.histograms.set_histograms(histogram_layers(self._snapshot, self.kind()), self.kind())
        self._redraw_time()

    def _layer_index(self) -> int:
        return max(self.layer_combo.currentIndex(), 0)

    def _append_time_column(self, snap, draw: bool = True) -> None:
        i = self._layer_index()
        if i < len(snap.layers):
            name, edges, counts = histogram_layers(snap, self.kind())[i]
            self.hist_time.append(snap.step, edges, counts, draw=draw)

    def _redraw_time(self, *_args) -> None:
        i = self._layer_index()
        self.hist_time.clear()
        if i < len(self._layer_names):
            self.hist_time.set_layer(self._layer_names[i])
        self.hist_time.set_kind(self.kind())
        cols = [(s.step, *histogram_layers(s, self.kind())[i][1:]) for s in self._columns if i < len(s.layers)]
        if cols:
            steps, edges, counts = zip(*cols)
            self.hist_time.set_columns(list(steps), list(edges), list(counts))
