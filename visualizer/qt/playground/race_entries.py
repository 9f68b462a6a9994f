"""The race window's controls beside its plots: one row per contestant (taking part, optimizer, learning rate),
where the race trains, and how its progress reads."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox

from visualizer.qt.jobs import Progress
from visualizer.qt.plots.race_plot import race_color


def race_progress(record, labels: list[str]) -> Progress | None:
    """A RaceProgress as the progress bar shows it ('Adam (2 of 3): step 40 of 300', 'loss surface: row 5 of 41')."""
    from visualizer.core.playground.network_race import RaceProgress

    if not isinstance(record, RaceProgress):
        return None
    if record.stage == "surface":
        return Progress(record.fraction, f"loss surface: row {record.done} of {record.total}")
    if record.stage == "parallel":
        return Progress(record.fraction, f"{record.done} of {record.total} trained (all at once)")
    return Progress(record.fraction, f"{labels[record.entry]} ({record.entry + 1} of {record.n_entries}): "
                                     f"step {record.done} of {record.total}")


def backend_combo() -> QComboBox:
    """Where the race trains: here one after another, in worker processes all at once, or as Ray tasks (the
    sweep's and evaluate's backends, core.sweeps.backends); Ray's entry is disabled, saying how to install it,
    where Ray is not installed."""
    import importlib.util

    from visualizer.core.sweeps.backends import RAY_MISSING, default_workers

    combo = QComboBox()
    combo.setObjectName("raceBackend")
    combo.setToolTip("Where the optimizers train: one after another on this window's worker thread (progress at "
                     "every step), or all at once in worker processes or on Ray (the local one, or the cluster "
                     "this process joined; the same numbers; progress as each finishes)")
    combo.addItem("here, in turn", "serial")  # (short: the side column is narrow in presentation mode)
    combo.addItem(f"{default_workers()} processes", "local")
    combo.addItem("Ray", "ray")
    if importlib.util.find_spec("ray") is None:
        item = combo.model().item(2)
        item.setEnabled(False)
        item.setToolTip(RAY_MISSING.replace("--backend ray: ", ""))
    return combo


class EntryRow:
    """One contestant's controls: taking part, which optimizer, its learning rate."""

    def __init__(self, index: int, optimizer: str, on: bool, experiment) -> None:
        from visualizer.core.model.optimizers import OPTIMIZERS

        self.experiment = experiment
        self.check = QCheckBox()
        self.check.setObjectName(f"raceEntryCheck{index}")
        self.check.setChecked(on)
        self.check.setToolTip("Take part in the race")
        swatch = race_color(index)
        self.check.setStyleSheet(f"QCheckBox::indicator:checked {{ background: {swatch}; border: 1px solid #444; }}")
        self.combo = QComboBox()
        self.combo.setObjectName(f"raceEntryOptimizer{index}")
        self.combo.setToolTip("The optimizer of this entry (its other hyper-parameters take their defaults)")
        for name, info in OPTIMIZERS.items():
            self.combo.addItem(info.label, name)
            self.combo.setItemData(self.combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        self.lr = QDoubleSpinBox()
        self.lr.setObjectName(f"raceEntryLr{index}")
        self.lr.setDecimals(5)
        self.lr.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr.setToolTip("α: the learning rate of this optimizer")
        self.combo.currentIndexChanged.connect(self._on_optimizer_changed)
        self.combo.setCurrentIndex(self.combo.findData(optimizer))
        self._on_optimizer_changed()
        self.check.toggled.connect(self._on_toggled)
        self._on_toggled(on)

    @property
    def optimizer(self) -> str:
        return self.combo.currentData()

    def set_entry(self, optimizer: str, lr: float | None = None, on: bool = True) -> None:
        self.combo.setCurrentIndex(self.combo.findData(optimizer))
        if lr is not None:
            self.lr.setValue(lr)
        self.check.setChecked(on)

    def entry(self):
        from visualizer.core.playground.network_race import RaceEntry

        return RaceEntry(self.optimizer, {"lr": self.lr.value()})

    def _on_optimizer_changed(self) -> None:
        from visualizer.core.experiment import hyper_values
        from visualizer.core.model.optimizers import OPTIMIZERS

        hp = next(h for h in OPTIMIZERS[self.optimizer].hyperparams if h.name == "lr")
        self.lr.setRange(max(hp.minimum, 1e-5), hp.maximum)
        tr = self.experiment.train
        self.lr.setValue(hyper_values(tr)["lr"] if self.optimizer == tr.optimizer else hp.default)
        self.lr.setToolTip(f"{hp.label}: {hp.tooltip} Allowed {hp.range_text()}.")

    def _on_toggled(self, on: bool) -> None:
        self.combo.setEnabled(on)
        self.lr.setEnabled(on)
