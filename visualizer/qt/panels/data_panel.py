"""The data panel: which data set, its size, noise and split, a CSV loader, and a preview of the points.

An edit loads its data on the job runner (a CSV file can be large): the window stays responsive, and the latest
edit wins. ``set_spec`` (opening an experiment) loads at once: whoever opens a file needs its data to go on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QStandardItemModel
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget
from superqt import QElidingLabel

from visualizer.core.data.csv_file import csv_columns, resolve_path
from visualizer.core.data.features import PLAIN
from visualizer.core.data.preview import preview
from visualizer.core.data.sets import DATASETS, LIMITS, Dataset, check_features, load_dataset
from visualizer.core.errors import ExperimentError, VisualizerError
from visualizer.core.experiment import DataSpec
from visualizer.qt.jobs import JobEnded, JobRunner
from visualizer.qt.panels._forms import (
    PANEL_WIDTH,
    add_row,
    combo,
    int_spin,
    real_spin,
    scrolling_form,
    select_data,
    signals_blocked,
)
from visualizer.qt.panels.feature_toggles import FeatureToggles
from visualizer.qt.plots._style import class_color, font, get_theme, pt

FAMILY_TITLES = {"synthetic2d": "Synthetic 2-D", "regression": "Regression", "bundled": "Bundled tables",
                 "csv": "Your data"}
LOAD_DELAY_MS = 150  # edits within this time are loaded (and reported) together
PREVIEW_POINTS = 1500  # at most this many points of each part are drawn
PREVIEW_PT = 8  # the preview's tick labels and titles (scaled in presentation mode)
MAX_SEED = min(int(LIMITS["seed"][1]), 2**31 - 1)  # a QSpinBox holds a signed 32-bit int, as the experiment does
ERROR_COLOURS = {"light": "#c5221f", "dark": "#ff8a80", "contrast": "#ff8a80"}  # 4.5:1 or more on each theme
FILE_SET = next(name for name, info in DATASETS.items() if "path" in info.uses)  # the data set a file feeds
THREAD_NAME = "data-loader"


@dataclass(frozen=True, eq=False)
class DataLoaded:
    """The data set a spec gave (on the loader's thread); ``from_user``: it came from an edit in the panel."""

    spec: DataSpec
    dataset: Dataset
    from_user: bool


class DataPanel(QWidget):
    """Edits the experiment's DataSpec; emits it only once it loads, and shows the points it gives."""

    edited = Signal(object)  # DataSpec, after a user change that loads
    dataset_changed = Signal(object)  # Dataset, after every successful load (user change or set_spec)

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self._spec = DataSpec()  # the last spec that loaded, or the one set
        self._draft = self._spec  # what the controls show; becomes the spec once it loads
        self._base_dir: Path | None = None
        self._dataset: Dataset | None = None
        self._user_edit = False
        self._own_settings: dict = {}  # spin -> (its maximum, its tooltip) while it shows a data set's own value
        self._theme = get_theme(theme)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(LOAD_DELAY_MS)
        self._timer.timeout.connect(self._load)
        self.loader = JobRunner(self, THREAD_NAME, threads=None)
        self.loader.batch.connect(self._on_loaded)
        self.loader.ended.connect(self._on_load_ended)
        self._loading: DataSpec | None = None  # the draft the loader is loading
        self._reload = False  # an edit arrived while it was loading: load the latest draft next
        self._build()
        self._show(self._spec)
        self.setMinimumWidth(260)
        self.resize(PANEL_WIDTH, 640)

    def set_theme(self, name: str) -> None:
        """Restyle the preview for a theme ("light", "dark", "contrast") and the current font scale."""
        t = self._theme = get_theme(name)
        self.dataErrorLabel.setStyleSheet(f"color: {ERROR_COLOURS.get(t.name, ERROR_COLOURS['dark'])};")
        self.dataPreview.setBackground(t.background)
        for side in ("left", "bottom"):
            axis = self.dataPreview.getPlotItem().getAxis(side)
            axis.setStyle(tickFont=font(PREVIEW_PT), tickTextOffset=3)
            axis.setPen(pg.mkPen(t.foreground))
            axis.setTextPen(pg.mkPen(t.foreground))
            if axis.labelText:
                axis.setLabel(axis.labelText, color=t.foreground, **{"font-size": f"{pt(PREVIEW_PT)}pt"})

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        form, column = scrolling_form(self)
        self.datasetCombo = combo("datasetCombo", [])
        model = self.datasetCombo.model()
        assert isinstance(model, QStandardItemModel)
        family = None
        for info in DATASETS.values():
            if info.family != family:  # a disabled title row before each family; arrow keys skip it
                family = info.family
                self.datasetCombo.addItem(FAMILY_TITLES.get(family, family))
                title = model.item(self.datasetCombo.count() - 1)
                title.setEnabled(False)
                bold = QFont(title.font())
                bold.setBold(True)
                title.setFont(bold)
            self.datasetCombo.addItem(info.label, info.name)
            self.datasetCombo.setItemData(self.datasetCombo.count() - 1, info.description,
                                          Qt.ItemDataRole.ToolTipRole)
        add_row(form, "Data set", self.datasetCombo, "Which data the network learns from.")

        file_row = QWidget()
        row = QHBoxLayout(file_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.csvPathLabel = QElidingLabel("no file")
        self.csvPathLabel.setObjectName("csvPathLabel")
        self.csvPathLabel.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.csvPathLabel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.loadCsvButton = QPushButton("Load CSV…")
        self.loadCsvButton.setObjectName("loadCsvButton")
        row.addWidget(self.csvPathLabel, 1)
        row.addWidget(self.loadCsvButton)
        self._file_label = add_row(form, "File", file_row, "The CSV file the data comes from.")
        self.loadCsvButton.setToolTip("Choose a CSV table: a header row, number columns and a target column.")
        self.targetCombo = combo("targetCombo", [])
        add_row(form, "Target", self.targetCombo,
                "The column to predict: classes when it is text or has at most 20 integer values, else regression.")

        low, high = LIMITS["samples"]
        self.samplesSpin = int_spin("samplesSpin", int(low), int(high), 100)
        self.samplesSpin.setStepType(self.samplesSpin.StepType.AdaptiveDecimalStepType)
        add_row(form, "Samples", self.samplesSpin, "How many points to generate (train and validation together).")
        self.noiseSpin = real_spin("noiseSpin", *LIMITS["noise"], step=0.05, decimals=2)
        add_row(form, "Noise", self.noiseSpin, "Spread added to the points: 0 is a clean pattern.")
        self.classesSpin = int_spin("classesSpin", int(LIMITS["classes"][0]), int(LIMITS["classes"][1]))
        add_row(form, "Classes", self.classesSpin, "How many classes (spiral arms or blobs).")
        self.valPercentSpin = int_spin("valPercentSpin", 0, round(100 * LIMITS["val_fraction"][1]), 5)
        self.valPercentSpin.setSuffix(" %")
        add_row(form, "Validation", self.valPercentSpin,
                "Share of the samples held out for validation (stratified by class).")
        self.dataSeedSpin = int_spin("dataSeedSpin", 0, MAX_SEED)
        add_row(form, "Seed", self.dataSeedSpin, "Seeds the generated points and the train/validation split.")
        self.featureToggles = FeatureToggles()
        add_row(form, "Features", self.featureToggles, "The network's inputs, computed from a 2-D set's x1 and x2 "
                "before standardisation (x1² and x2² let a network without hidden layers separate circles).")
        self._uses = {"samples": (self.samplesSpin,), "noise": (self.noiseSpin,), "classes": (self.classesSpin,),
                      "path": (self.csvPathLabel, self._file_label), "target": (self.targetCombo,)}

        self.dataErrorLabel = QLabel()
        self.dataErrorLabel.setObjectName("dataErrorLabel")
        self.dataErrorLabel.setToolTip("Why the data cannot be loaded; the last data that loaded stays in use.")
        self.dataErrorLabel.setWordWrap(True)
        self.dataErrorLabel.setMinimumWidth(1)
        self.dataErrorLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dataErrorLabel.hide()
        column.addWidget(self.dataErrorLabel)

        self.dataPreview = pg.PlotWidget(background=self._theme.background)
        self.dataPreview.setObjectName("dataPreview")
        self.dataPreview.setToolTip("The first two standardised features (1-D regression: x against y); "
                                    "filled: train, hollow: validation, colour: class.")
        self.dataPreview.setMinimumSize(200, 200)  # ~250 wide in a 300-px dock; narrower docks shrink it
        self.dataPreview.setMaximumHeight(260)
        plot = self.dataPreview.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        self.set_theme(self._theme.name)
        column.addWidget(self.dataPreview)
        self.dataSummaryLabel = QLabel()
        self.dataSummaryLabel.setObjectName("dataSummaryLabel")
        self.dataSummaryLabel.setToolTip("Sizes of the training and validation parts of the loaded data.")
        self.dataSummaryLabel.setWordWrap(True)
        column.addWidget(self.dataSummaryLabel)
        column.addStretch(1)

        self.datasetCombo.currentIndexChanged.connect(self._on_dataset_chosen)
        self.loadCsvButton.clicked.connect(self._on_load_csv)
        self.targetCombo.currentIndexChanged.connect(lambda _i: self._edit(target=self.targetCombo.currentText()))
        self.samplesSpin.valueChanged.connect(lambda v: self._edit(samples=v))
        self.noiseSpin.valueChanged.connect(lambda v: self._edit(noise=round(v, 2)))
        self.classesSpin.valueChanged.connect(lambda v: self._edit(classes=v))
        self.valPercentSpin.valueChanged.connect(lambda v: self._edit(val_fraction=v / 100))
        self.dataSeedSpin.valueChanged.connect(lambda v: self._edit(seed=v))
        self.featureToggles.changed.connect(lambda names: self._edit(features=names))

    # ---------------------------------------------------------------- public API
    def set_spec(self, spec: DataSpec, base_dir: Path | None = None) -> None:
        """Show ``spec`` (relative CSV paths are taken from ``base_dir``) and load it now; never emits ``edited``."""
        self._timer.stop()
        self._spec = self._draft = spec
        self._base_dir = base_dir
        self._dataset = None
        self._user_edit = False
        self._reload = False
        self._show(spec)
        try:
            dataset = load_dataset(spec, base_dir)
        except VisualizerError as error:
            self._show_error(str(error))
            return
        self._apply(DataLoaded(spec, dataset, from_user=False))

    def spec(self) -> DataSpec:
        """The last spec that loaded (or was set): a draft with an error is not returned."""
        return self._spec

    def dataset(self) -> Dataset | None:
        """The data set the last successful load gave, or None."""
        return self._dataset

    @property
    def loading(self) -> bool:
        """An edit's data is being loaded (or waits for the debounce)."""
        return self.loader.running or self._timer.isActive()

    def shutdown(self) -> None:
        """Stop waiting for a load and join the loader (closing the window does)."""
        self._timer.stop()
        self.loader.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no thread outlives the panel
        self.shutdown()
        super().closeEvent(event)

    # ---------------------------------------------------------------- spec <-> controls
    def _show(self, spec: DataSpec) -> None:
        controls = (self.datasetCombo, self.targetCombo, self.samplesSpin, self.noiseSpin, self.classesSpin,
                    self.valPercentSpin, self.dataSeedSpin)
        with signals_blocked(controls):
            select_data(self.datasetCombo, spec.name)
            self.samplesSpin.setValue(spec.samples)
            self.noiseSpin.setValue(spec.noise)
            self.classesSpin.setValue(spec.classes)
            self.valPercentSpin.setValue(round(spec.val_fraction * 100))
            self.dataSeedSpin.setValue(min(spec.seed, MAX_SEED))
        self.featureToggles.set_features(spec.features)
        self._show_file(spec)
        self._enable_for(spec.name)

    def _show_file(self, spec: DataSpec) -> None:
        path = resolve_path(spec.path, self._base_dir) if spec.path.strip() else None
        self.csvPathLabel.setText(spec.path if path else "no file")
        self.csvPathLabel.setToolTip(str(path) if path else "No CSV file chosen: use Load CSV…")
        columns = csv_columns(path) if path else []
        with signals_blocked([self.targetCombo]):
            self.targetCombo.clear()
            self.targetCombo.addItems(columns)
            if columns:
                self.targetCombo.setCurrentIndex(columns.index(spec.target) if spec.target in columns else -1)
                if self.targetCombo.currentIndex() < 0:
                    self.targetCombo.setCurrentIndex(len(columns) - 1)  # the loader's default: the last column

    def _show_fixed_fields(self, ds: Dataset) -> None:
        """Fields the data set does not use show what it has (greyed), not an unused default."""
        uses = DATASETS[self._spec.name].uses if self._spec.name in DATASETS else ()
        for field, spin, value, unit in (("samples", self.samplesSpin, len(ds.X_train) + len(ds.X_val), "samples"),
                                         ("classes", self.classesSpin, ds.n_classes, "classes")):
            own = self._own_settings.setdefault(spin, (spin.maximum(), spin.toolTip()))
            if field in uses:
                spin.setMaximum(own[0])
                spin.setToolTip(own[1])
                continue
            with signals_blocked([spin]):
                if value > spin.maximum():
                    spin.setMaximum(value)
                spin.setValue(value)
            spin.setToolTip(f"Set by the data set: {value:,} {unit}")

    def _enable_for(self, name: str) -> None:
        uses = DATASETS[name].uses if name in DATASETS else ()
        for field, widgets in self._uses.items():
            for widget in widgets:
                widget.setEnabled(field in uses)
        self.datasetCombo.setToolTip(DATASETS[name].description if name in DATASETS else "Choose a data set.")

    # ---------------------------------------------------------------- user edits
    def _edit(self, **changes: object) -> None:
        self._draft = replace(self._draft, **changes)
        self._user_edit = True
        self._timer.start()  # restarts: quick successive edits are loaded once

    def _on_dataset_chosen(self, index: int) -> None:
        name = self.datasetCombo.itemData(index)
        if name is None:
            return
        if "path" in DATASETS[name].uses and not self._draft.path.strip():
            if not self._on_load_csv():  # cancelled: stay with the data set shown before
                with signals_blocked([self.datasetCombo]):
                    select_data(self.datasetCombo, self._draft.name)
            return
        self._enable_for(name)
        try:
            check_features(replace(self._draft, name=name))
            self._edit(name=name)
        except ExperimentError:  # not a 2-D set: its own columns are the inputs
            self.featureToggles.set_features(PLAIN)
            self._edit(name=name, features=PLAIN)

    def _on_load_csv(self) -> bool:
        start = resolve_path(self._draft.path, self._base_dir).parent if self._draft.path else self._base_dir
        path, _filter = QFileDialog.getOpenFileName(self, "Open a CSV table", str(start or ""),
                                                    "CSV files (*.csv);;All files (*)")
        if not path:
            return False
        columns = csv_columns(Path(path))
        draft = replace(self._draft, name=FILE_SET, path=path, target=columns[-1] if columns else "", features=PLAIN)
        self.featureToggles.set_features(PLAIN)
        with signals_blocked([self.datasetCombo]):
            select_data(self.datasetCombo, FILE_SET)
        self._show_file(draft)
        self._enable_for(FILE_SET)
        self._draft = draft
        self._edit()
        return True

    # ---------------------------------------------------------------- loading
    def _load(self) -> None:
        """Load the draft on the loader's thread; while another load runs, the latest draft follows it."""
        if self.loader.running:
            self._reload = True
            return
        draft, from_user, base_dir = self._draft, self._user_edit, self._base_dir
        self._user_edit = False
        self._loading = draft

        def job(put, control) -> None:
            put(DataLoaded(draft, load_dataset(draft, base_dir), from_user))

        self.loader.start("data set", job)

    def _on_loaded(self, records: list) -> None:
        for loaded in records:
            if loaded.spec == self._draft:  # else the controls moved on: the next load follows
                self._apply(loaded)

    def _on_load_ended(self, ended: JobEnded) -> None:
        loading, self._loading = self._loading, None
        if ended.reason == "failed" and loading == self._draft:
            self._show_error(ended.message)
        if self._reload:
            self._reload = False
            self._user_edit = True
            self._load()

    def _show_error(self, text: str) -> None:
        still = f"\nStill using the last data that loaded ({DATASETS[self._spec.name].label})." \
            if self._dataset is not None and self._spec.name in DATASETS else ""
        self.dataErrorLabel.setText(f"{text}{still}")
        self.dataErrorLabel.show()

    def _apply(self, loaded: DataLoaded) -> None:
        self.dataErrorLabel.hide()
        if loaded.from_user and loaded.spec == self._spec and self._dataset is not None:
            return  # edited back to what is loaded
        self._spec, self._dataset = loaded.spec, loaded.dataset
        self._draw_preview(loaded.dataset)
        if loaded.from_user:
            self.edited.emit(loaded.spec)
            if self._dataset is not loaded.dataset:  # the window declined the change and set its spec back
                return
        self.dataset_changed.emit(loaded.dataset)

    def _draw_preview(self, ds: Dataset) -> None:
        plot = self.dataPreview.getPlotItem()
        plot.clear()
        regression = ds.task == "regression"
        points = preview(ds, PREVIEW_POINTS)
        classes = [None] if regression else range(ds.n_classes)
        for hollow, (x, y, labels) in enumerate((points.train, points.val)):
            for c in classes:
                mask = slice(None) if c is None else labels == c
                color = class_color(1 if c is None else c)
                pen, brush = (pg.mkPen(color, width=1.2), None) if hollow else (None, pg.mkBrush(color))
                plot.addItem(pg.ScatterPlotItem(x[mask], y[mask], size=5 if hollow else 4, pen=pen, brush=brush))
        style = {"color": self._theme.foreground, "font-size": f"{pt(PREVIEW_PT)}pt"}
        plot.setLabel("bottom", points.x_title, **style)
        plot.setLabel("left", points.y_title, **style)
        plot.autoRange()
        self._show_fixed_fields(ds)
        self.featureToggles.setEnabled(ds.n_plane == 2)
        what = "regression" if regression else f"{ds.n_classes} classes"
        features = f"{ds.n_features} feature{'s' if ds.n_features != 1 else ''}"
        self.dataSummaryLabel.setText(f"{len(ds.X_train)} train (filled) · {len(ds.X_val)} validation (hollow)"
                                      f" · {features} · {what}")
