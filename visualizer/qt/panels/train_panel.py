"""The training panel: optimizer and its hyper-parameters, loss, schedule, length of training and device."""

from __future__ import annotations

from dataclasses import fields, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from visualizer.core.experiment import TrainSpec, chosen_hyper, hyper_values
from visualizer.core.model.hyperparams import HyperParam
from visualizer.core.model.losses import LOSSES, default_loss, losses_for
from visualizer.core.model.optimizers import OPTIMIZERS, OptimizerInfo
from visualizer.core.model.regularization import RATE, REGULARIZATIONS, formula
from visualizer.core.model.schedules import SCHEDULE_FIELDS, SCHEDULES, users_of
from visualizer.core.training.device import available_devices
from visualizer.qt.panels._forms import (
    PANEL_WIDTH,
    FloatSpin,
    add_row,
    combo,
    configure_hyper_spin,
    heading,
    int_spin,
    monospace_label,
    on_choice,
    scrolling_form,
    select_data,
    signals_blocked,
)

MAX_SEED = 2**31 - 1
MAX_COUNT = 1_000_000  # epochs, batch size and eval_every, as the experiment file allows
SPEC_FIELDS = {f.name for f in fields(TrainSpec)}  # hyper-parameters with their own TrainSpec field (lr, ...)
DEVICE_LABELS = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple MPS"}
DEVICE_TIPS = {"auto": "Auto: CUDA if present, then Apple MPS, else the CPU.", "cpu": "The processor.",
               "cuda": "The NVIDIA GPU (CUDA).", "mps": "The Apple-silicon GPU (Metal Performance Shaders)."}
AUTO_LOSS_TEXT = "Chosen from the data: cross-entropy for classes, mean squared error for regression."


def spin_name(hyper_name: str) -> str:
    """Object name of a hyper-parameter's spin box: learningRateSpin, beta1Spin, weightDecaySpin, ..."""
    head, *rest = ("learning_rate" if hyper_name == "lr" else hyper_name).split("_")
    return head + "".join(part.capitalize() for part in rest) + "Spin"


def setting_spin(field: HyperParam) -> QWidget:
    """A spin box for a declared setting (a schedule's field): whole numbers or reals, range from the registry."""
    if field.integer:
        spin = int_spin(spin_name(field.name), int(field.minimum), int(field.maximum))
        if field.zero_text:
            spin.setSpecialValueText(field.zero_text)
        return spin
    spin = FloatSpin()
    spin.setObjectName(spin_name(field.name))
    configure_hyper_spin(spin, field)
    return spin


class TrainPanel(QWidget):
    """Edits the experiment's TrainSpec; the hyper-parameter rows come from the optimizer registry, the schedule's
    fields from the schedule registry. A hyper-parameter the spec leaves unset shows the chosen optimizer's
    default and stays unset (so switching optimizer shows the new one's default) until the user edits it."""

    edited = Signal(object)  # TrainSpec, once per user change
    learning_rate_changed = Signal(float)  # after edited, when the change was the learning rate alone

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainPanel")
        self._spec = TrainSpec()
        self._task: tuple[str, int] | None = None
        self._form, column = scrolling_form(self)
        form = self._form
        form.addRow(heading("Optimizer"))
        self.optimizerCombo = combo("optimizerCombo", [(o.label, o.name, o.description) for o in OPTIMIZERS.values()])
        form.addRow(self.optimizerCombo)  # the heading is its label; the full width fits the longest name
        self._hyper: dict[str, tuple[QLabel, FloatSpin]] = {}
        for info in OPTIMIZERS.values():
            for hp in info.hyperparams:
                if hp.name not in self._hyper:
                    label, spin = QLabel(hp.label, self), FloatSpin(self)
                    spin.setObjectName(spin_name(hp.name))
                    configure_hyper_spin(spin, hp)  # range and tooltip from its first optimizer until shown
                    label.setBuddy(spin)
                    label.hide()
                    spin.hide()
                    spin.valueChanged.connect(lambda v, name=hp.name: self._on_hyper(name, v))
                    self._hyper[hp.name] = (label, spin)
        self.learningRateSpin = self._hyper["lr"][1]
        self._shown: list[str] = []  # the hyper-parameter rows in the form, and the optimizer they are for
        self._hyper_tips: dict[str, str] = {}  # each row's tooltip from the registry, before the origin line
        self._rows_for = ""
        self.updateRuleLabel = monospace_label("updateRuleLabel", "")
        form.addRow(self.updateRuleLabel)

        form.addRow(heading("Loss"))
        self.lossCombo = combo("lossCombo", [])
        form.addRow(self.lossCombo)
        self.lossFormulaLabel = monospace_label("lossFormulaLabel", "The loss as a formula: ŷ prediction, y target.")
        form.addRow(self.lossFormulaLabel)
        self.regularizationCombo = combo("regularizationCombo", [(r.label, r.name, r.description)
                                                                 for r in REGULARIZATIONS.values()])
        add_row(form, "Regularization", self.regularizationCombo, "A penalty on the weights added to the loss "
                "(apart from an optimizer's weight decay, which changes the update instead).")
        self.regularizationRateSpin = FloatSpin(self)
        self.regularizationRateSpin.setObjectName("regularizationRateSpin")
        configure_hyper_spin(self.regularizationRateSpin, RATE)
        add_row(form, RATE.label, self.regularizationRateSpin, self.regularizationRateSpin.toolTip())

        form.addRow(heading("Schedule"))
        self.epochsSpin = int_spin("epochsSpin", 1, MAX_COUNT)
        add_row(form, "Epochs", self.epochsSpin, "Passes over the training set.")
        self.batchSizeSpin = int_spin("batchSizeSpin", 0, MAX_COUNT)
        self.batchSizeSpin.setSpecialValueText("full batch")
        self._batch_label = add_row(form, "Batch size", self.batchSizeSpin, "")
        self.scheduleCombo = combo("scheduleCombo", [(s.label, s.name, s.formula) for s in SCHEDULES.values()])
        add_row(form, "Learning rate", self.scheduleCombo, "")
        self.scheduleFormulaLabel = monospace_label("scheduleFormulaLabel",
                                                    "The learning rate at step t: α base rate, T total steps.")
        form.addRow(self.scheduleFormulaLabel)
        #: the schedule fields (SCHEDULE_FIELDS), each with its label and the tooltip it has when in use
        self.scheduleSpins: dict[str, QWidget] = {}
        self._schedule_labels: dict[str, QLabel] = {}
        for field in SCHEDULE_FIELDS.values():
            spin = setting_spin(field)
            self._schedule_labels[field.name] = add_row(form, field.label, spin, spin.toolTip() or field.tooltip)
            spin.valueChanged.connect(lambda v, name=field.name: self._edit(**{name: v}))
            self.scheduleSpins[field.name] = spin
        self.evalEverySpin = int_spin("evalEverySpin", 0, MAX_COUNT)
        self.evalEverySpin.setSpecialValueText("each epoch")
        add_row(form, "Evaluate every", self.evalEverySpin,
                "Steps between validation evaluations (0: once per epoch).")

        form.addRow(heading("Run"))
        self.trainSeedSpin = int_spin("trainSeedSpin", 0, MAX_SEED)
        add_row(form, "Seed", self.trainSeedSpin, "Seeds the weight initialisation, batch order and dropout.")
        devices = ["auto", *available_devices()]
        self.deviceCombo = combo("deviceCombo", [(DEVICE_LABELS.get(d, d), d, DEVICE_TIPS.get(d, d))
                                                 for d in devices])
        add_row(form, "Device", self.deviceCombo, "")
        column.addStretch(1)

        on_choice(self.optimizerCombo, self._on_optimizer)
        on_choice(self.lossCombo, lambda name: self._edit(loss=name))
        on_choice(self.regularizationCombo, lambda name: self._edit(regularization=name))
        self.regularizationRateSpin.valueChanged.connect(lambda v: self._edit(regularization_rate=v))
        self.epochsSpin.valueChanged.connect(lambda v: self._edit(epochs=v))
        self.batchSizeSpin.valueChanged.connect(lambda v: self._edit(batch_size=v))
        on_choice(self.scheduleCombo, lambda name: self._edit(schedule=name))
        self.evalEverySpin.valueChanged.connect(lambda v: self._edit(eval_every=v))
        self.trainSeedSpin.valueChanged.connect(lambda v: self._edit(seed=v))
        on_choice(self.deviceCombo, lambda name: self._edit(device=name))
        self.setMinimumWidth(260)
        self.resize(PANEL_WIDTH, 720)
        self._fill_losses()
        self.set_spec(self._spec)

    # ---------------------------------------------------------------- public API
    def set_spec(self, spec: TrainSpec) -> None:
        """Show ``spec``; never emits ``edited`` or ``learning_rate_changed``."""
        self._spec = spec
        self._show(spec)

    def spec(self) -> TrainSpec:
        return self._spec

    def set_task(self, task: str, n_classes: int) -> None:
        """Offer only the losses that fit the data; a loss that no longer fits becomes the default (emits)."""
        self._task = (task, n_classes)
        self._fill_losses()
        loss = self._spec.loss
        if loss != "auto" and loss not in losses_for(task, n_classes):
            self._edit(loss=default_loss(task, n_classes))
        self._show(self._spec)

    # ---------------------------------------------------------------- spec -> controls
    def _controls(self) -> list[QWidget]:
        return [self.optimizerCombo, self.lossCombo, self.regularizationCombo, self.regularizationRateSpin,
                self.epochsSpin, self.batchSizeSpin, self.scheduleCombo,
                *self.scheduleSpins.values(), self.evalEverySpin, self.trainSeedSpin, self.deviceCombo,
                *(spin for _label, spin in self._hyper.values())]

    def _show(self, spec: TrainSpec) -> None:
        with signals_blocked(self._controls()):
            select_data(self.optimizerCombo, spec.optimizer)
            self._show_hyperparams(spec)
            select_data(self.lossCombo, spec.loss)
            select_data(self.regularizationCombo, spec.regularization)
            self.regularizationRateSpin.setValue(spec.regularization_rate)
            self.epochsSpin.setValue(spec.epochs)
            self.batchSizeSpin.setValue(spec.batch_size)
            select_data(self.scheduleCombo, spec.schedule)
            for name, spin in self.scheduleSpins.items():
                spin.setValue(getattr(spec, name))
            self.evalEverySpin.setValue(spec.eval_every)
            self.trainSeedSpin.setValue(min(spec.seed, MAX_SEED))
            missing = not select_data(self.deviceCombo, spec.device)
            if missing:
                select_data(self.deviceCombo, "cpu")
        self.regularizationRateSpin.setEnabled(spec.regularization != "none")
        info = OPTIMIZERS.get(spec.optimizer)
        self.optimizerCombo.setToolTip(info.description if info else f"'{spec.optimizer}' is not known here.")
        self.updateRuleLabel.setText(info.rule if info else "")
        self.updateRuleLabel.setToolTip(f"Update rule of {info.label if info else spec.optimizer}: g gradient, "
                                        "α learning rate, λ weight decay, θ weights.")
        full = bool(info and info.full_batch)
        self.batchSizeSpin.setEnabled(not full)
        tip = (f"{info.label} always uses the whole training set." if full
               else "Samples per step; 0 = the whole training set (full batch).")
        self.batchSizeSpin.setToolTip(tip)
        self._batch_label.setToolTip(tip)
        self._show_schedule(spec.schedule)
        self.deviceCombo.setToolTip(
            f"'{spec.device}' is not available here: the run falls back to the CPU." if missing
            else f"Where the network trains: {DEVICE_TIPS.get(spec.device, spec.device)} "
            "Only devices present on this machine are offered.")
        self._show_loss(spec.loss, spec)

    def _show_hyperparams(self, spec: TrainSpec) -> None:
        info = OPTIMIZERS.get(spec.optimizer)
        params = info.hyperparams if info else ()
        if self._shown == [hp.name for hp in params] and self._rows_for == spec.optimizer:
            for hp in params:
                self._hyper[hp.name][1].setValue(self._value(spec, hp))
            self._show_origins(spec, info)
            return
        for name in self._shown:  # take the previous optimizer's rows out; their widgets live on
            label, spin = self._hyper[name]
            self._form.takeRow(spin)
            label.hide()
            spin.hide()
        first = self._form.getWidgetPosition(self.optimizerCombo)[0] + 1
        for offset, hp in enumerate(params):
            label, spin = self._hyper[hp.name]
            configure_hyper_spin(spin, hp)
            self._hyper_tips[hp.name] = spin.toolTip()
            spin.setValue(self._value(spec, hp))
            label.setText(hp.label)
            self._form.insertRow(first + offset, label, spin)
            label.show()
            spin.show()
        self._shown = [hp.name for hp in params]
        self._rows_for = spec.optimizer
        if info:
            self._show_origins(spec, info)

    def _show_origins(self, spec: TrainSpec, info: OptimizerInfo) -> None:
        """Say in each hyper-parameter's tooltip whether the experiment sets it or it is the optimizer's default."""
        chosen = chosen_hyper(spec)
        for hp in info.hyperparams:
            origin = ("Set by the experiment." if hp.name in chosen else
                      f"Not set: {info.label}'s default {hp.default:g}, which follows the optimizer "
                      "(a saved experiment leaves it out).")
            label, spin = self._hyper[hp.name]
            tip = f"{self._hyper_tips.get(hp.name, spin.toolTip())}\n{origin}"
            spin.setToolTip(tip)
            label.setToolTip(tip)

    def _show_schedule(self, name: str) -> None:
        """The schedule's formula; its fields enabled, the others greyed with a tooltip saying who reads them."""
        schedule = SCHEDULES.get(name)
        self.scheduleCombo.setToolTip(f"Learning-rate schedule: {schedule.formula}" if schedule
                                      else f"'{name}' is not known here.")
        self.scheduleFormulaLabel.setText(schedule.formula if schedule else "")
        for field_name, spin in self.scheduleSpins.items():
            used = schedule is not None and schedule.uses(field_name)
            field = SCHEDULE_FIELDS[field_name]
            tip = (f"{field.label}: {field.tooltip} Allowed: {field.range_text()}." if used else
                   f"{schedule.label if schedule else name} does not use this field; "
                   f"only {' and '.join(users_of(field_name)) or 'no schedule'} reads it.")
            spin.setEnabled(used)
            spin.setToolTip(tip)
            self._schedule_labels[field_name].setEnabled(used)
            self._schedule_labels[field_name].setToolTip(tip)

    def _fill_losses(self) -> None:
        names = losses_for(*self._task) if self._task else list(LOSSES)
        auto = f"Automatic: {LOSSES[default_loss(*self._task)].label}" if self._task else "Automatic"
        with signals_blocked([self.lossCombo]):
            self.lossCombo.clear()
            self.lossCombo.addItem(auto, "auto")
            self.lossCombo.setItemData(0, AUTO_LOSS_TEXT, Qt.ItemDataRole.ToolTipRole)
            for name in names:
                self.lossCombo.addItem(LOSSES[name].label, name)
                self.lossCombo.setItemData(self.lossCombo.count() - 1, LOSSES[name].description,
                                        Qt.ItemDataRole.ToolTipRole)

    def _show_loss(self, loss: str, spec: TrainSpec) -> None:
        resolved = default_loss(*self._task) if loss == "auto" and self._task else loss
        info = LOSSES.get(resolved)
        penalty = formula(spec.regularization, spec.regularization_rate) if spec.regularization in REGULARIZATIONS \
            else ""
        self.lossFormulaLabel.setText((info.formula if info else AUTO_LOSS_TEXT) + penalty)
        self.lossCombo.setToolTip(info.description if info else AUTO_LOSS_TEXT)

    @staticmethod
    def _value(spec: TrainSpec, hp: HyperParam) -> float:
        """The value shown: the spec's own, else the chosen optimizer's registry default."""
        return float(hyper_values(spec)[hp.name])

    @staticmethod
    def _with_value(spec: TrainSpec, name: str, value: float) -> TrainSpec:
        if name in SPEC_FIELDS:
            return replace(spec, **{name: value})
        return replace(spec, hyper=tuple(sorted({**dict(spec.hyper), name: value}.items())))

    # ---------------------------------------------------------------- user edits
    def _edit(self, **changes: object) -> None:
        spec = replace(self._spec, **changes)
        if spec != self._spec:
            self._spec = spec
            self._show(spec)
            self.edited.emit(spec)

    def _on_optimizer(self, name: str) -> None:
        spec = replace(self._spec, optimizer=name)  # values the spec leaves unset show the new one's defaults
        for hp in OPTIMIZERS[name].hyperparams:  # values set that the new optimizer refuses become its defaults
            if not hp.allows(self._value(spec, hp)):
                spec = self._with_value(spec, hp.name, hp.default)
        self._spec = spec
        self._show(spec)
        self.edited.emit(spec)

    def _on_hyper(self, name: str, value: float) -> None:
        spec = self._with_value(self._spec, name, value)
        if spec == self._spec:
            return
        self._spec = spec
        if spec.optimizer in OPTIMIZERS:
            self._show_origins(spec, OPTIMIZERS[spec.optimizer])
        self.edited.emit(spec)
        if name == "lr":
            self.learning_rate_changed.emit(value)
