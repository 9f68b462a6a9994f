"""The network panel: hidden layers (width and activation each), dropout, batch norm, and the parameter count; a
network written as a layer list (convolutions) is shown layer by layer, read-only."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import ModelSpec
from visualizer.core.model.nets import ACTIVATION_FORMULAS, ACTIVATIONS, MAX_LAYERS, MAX_WIDTH, spec_parameter_count
from visualizer.qt.panels._forms import (
    PANEL_WIDTH,
    add_row,
    combo,
    heading,
    int_spin,
    real_spin,
    scrolling_form,
    select_data,
    signals_blocked,
)

NEW_LAYER = (8, "tanh")  # what "Add layer" appends to a network without hidden layers
_ADD_TIP = "Append a hidden layer: a copy of the last one."
_FULL_TIP = f"At most {MAX_LAYERS} hidden layers (the experiment format's limit): remove one to add another."
_LIST_TIP = "This network is a layer list (convolutions, pooling, dense layers): edit [model] layers = [...] in " \
    "the experiment file."


class NetworkPanel(QWidget):
    """Edits the experiment's ModelSpec: one row per hidden layer, with move and remove buttons."""

    edited = Signal(object)  # ModelSpec, once per user change

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("networkPanel")
        self._spec = ModelSpec()
        self._io: tuple[int, int] | None = None
        self._image: tuple[int, int, int] | None = None
        form, column = scrolling_form(self)
        form.addRow(heading("Hidden layers"))
        self.layerList = QWidget()
        self.layerList.setObjectName("layerList")
        self.layerList.setToolTip("One row per hidden layer, input side first: neurons and activation.")
        self._grid = QGridLayout(self.layerList)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setColumnStretch(1, 2)
        self._grid.setColumnStretch(2, 3)
        form.addRow(self.layerList)

        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.addLayerButton = QPushButton("Add layer")
        self.addLayerButton.setObjectName("addLayerButton")
        self.removeLayerButton = QPushButton("Remove last")
        self.removeLayerButton.setObjectName("removeLayerButton")
        self.removeLayerButton.setToolTip("Remove the last hidden layer (a row's ✕ removes that row).")
        row.addWidget(self.addLayerButton)
        row.addWidget(self.removeLayerButton)
        form.addRow(buttons)

        form.addRow(heading("Regularisation"))
        self.dropoutSpin = real_spin("dropoutSpin", 0.0, 0.9, step=0.05, decimals=2)
        add_row(form, "Dropout", self.dropoutSpin,
                "Share of each hidden layer's outputs zeroed at random while training (0 to 0.9).")
        self.batchNormCheck = QCheckBox("Batch normalisation")
        self.batchNormCheck.setObjectName("batchNormCheck")
        self.batchNormCheck.setToolTip("BatchNorm1d after each hidden Linear layer (adds 2 parameters per neuron).")
        form.addRow(self.batchNormCheck)
        self.paramCountLabel = QLabel()
        self.paramCountLabel.setObjectName("paramCountLabel")
        self.paramCountLabel.setWordWrap(True)
        form.addRow(self.paramCountLabel)
        column.addStretch(1)

        self.addLayerButton.clicked.connect(self._on_add)
        self.removeLayerButton.clicked.connect(lambda: self._remove(len(self._spec.hidden) - 1))
        self.dropoutSpin.valueChanged.connect(lambda v: self._edit(dropout=round(v, 2)))
        self.batchNormCheck.toggled.connect(lambda on: self._edit(batch_norm=on))
        self.setMinimumWidth(260)
        self.resize(PANEL_WIDTH, 480)
        self.set_spec(self._spec)

    # ---------------------------------------------------------------- public API
    def set_spec(self, spec: ModelSpec) -> None:
        """Show ``spec``; never emits ``edited``."""
        self._spec = spec
        with signals_blocked([self.dropoutSpin, self.batchNormCheck]):
            self.dropoutSpin.setValue(spec.dropout)
            self.batchNormCheck.setChecked(spec.batch_norm)
        self._rebuild_rows()

    def spec(self) -> ModelSpec:
        return self._spec

    def set_io(self, n_in: int, n_out: int, image: tuple[int, int, int] | None = None) -> None:
        """The data's input features, the network's outputs and the data's image shape, for the parameter count."""
        self._io, self._image = (n_in, n_out), image
        self._update_count()

    # ---------------------------------------------------------------- layer rows
    def _layers(self) -> list[tuple[int, str]]:
        acts = self._spec.activation
        return [(w, acts[i] if i < len(acts) else NEW_LAYER[1]) for i, w in enumerate(self._spec.hidden)]

    def _rebuild_rows(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget()
            if widget is not None:  # deleted later (a row's own button may be mid-click); renamed now
                widget.setObjectName("")
                widget.hide()
                widget.deleteLater()
        if self._spec.layers:
            self._show_layer_list()
            return
        for widget in (self.dropoutSpin, self.batchNormCheck):
            widget.setEnabled(True)
        layers = self._layers()
        for i, (width, act) in enumerate(layers):
            number = QLabel(f"{i + 1}")
            number.setToolTip(f"Hidden layer {i + 1} of {len(layers)}")
            spin = int_spin(f"layerWidthSpin_{i}", 1, MAX_WIDTH)
            spin.setValue(width)
            spin.setToolTip(f"Neurons in hidden layer {i + 1} (1 to {MAX_WIDTH}).")
            spin.valueChanged.connect(lambda v, i=i: self._set_layer(i, width=v))
            choice = combo(f"layerActivationCombo_{i}",
                           [(name, name, f"{name}(x) = {ACTIVATION_FORMULAS[name]}") for name in ACTIVATIONS])
            choice.setMinimumContentsLength(4)  # the popup still shows whole names; keeps the row ~250 px
            select_data(choice, act)
            choice.setToolTip(self._activation_tip(i, act))
            choice.currentIndexChanged.connect(lambda _x, i=i, c=choice: self._set_layer(i, act=c.currentData()))
            row = [number, spin, choice]
            for name, arrow, tip, enabled, slot in (
                ("Up", Qt.ArrowType.UpArrow, "Move this layer towards the input", i > 0, self._move),
                ("Down", Qt.ArrowType.DownArrow, "Move this layer towards the output", i < len(layers) - 1,
                 self._move),
            ):
                button = QToolButton()
                button.setObjectName(f"layer{name}Button_{i}")
                button.setArrowType(arrow)
                button.setToolTip(tip)
                button.setEnabled(enabled)
                button.setAutoRaise(True)
                button.clicked.connect(lambda _c=False, i=i, d=(-1 if name == "Up" else 1), f=slot: f(i, d))
                row.append(button)
            remove = QToolButton()
            remove.setObjectName(f"layerRemoveButton_{i}")
            remove.setText("✕")
            remove.setToolTip(f"Remove hidden layer {i + 1}")
            remove.setAutoRaise(True)
            remove.clicked.connect(lambda _c=False, i=i: self._remove(i))
            row.append(remove)
            for col, widget in enumerate(row):
                self._grid.addWidget(widget, i, col)
        if not layers:
            empty = QLabel("No hidden layers: a linear (logistic) model.")
            empty.setToolTip("Add a layer to make the model non-linear.")
            empty.setWordWrap(True)
            self._grid.addWidget(empty, 0, 0, 1, 6)
        full = len(layers) >= MAX_LAYERS
        self.addLayerButton.setEnabled(not full)
        self.addLayerButton.setToolTip(_FULL_TIP if full else _ADD_TIP)
        self.removeLayerButton.setEnabled(bool(layers))
        self._update_count()

    def _show_layer_list(self) -> None:
        """A layer list, one read-only row per layer; the MLP's controls are off (they do not apply to it)."""
        for i, text in enumerate(self._spec.layers):
            number, label = QLabel(f"{i + 1}"), QLabel(text)
            label.setObjectName(f"layerText_{i}")
            for widget in (number, label):
                widget.setToolTip(_LIST_TIP)
            self._grid.addWidget(number, i, 0)
            self._grid.addWidget(label, i, 1, 1, 5)
        for widget in (self.addLayerButton, self.removeLayerButton, self.dropoutSpin, self.batchNormCheck):
            widget.setEnabled(False)
        self.addLayerButton.setToolTip(_LIST_TIP)
        self._update_count()

    @staticmethod
    def _activation_tip(i: int, act: str) -> str:
        return f"Activation after hidden layer {i + 1}: {act}(x) = {ACTIVATION_FORMULAS.get(act, '?')}"

    def _focus(self, name: str) -> None:
        widget = self.layerList.findChild(QWidget, name)
        (widget if widget is not None and widget.isEnabled() else self.addLayerButton).setFocus()

    # ---------------------------------------------------------------- user edits
    def _edit(self, **changes: object) -> None:
        spec = replace(self._spec, **changes)
        if spec != self._spec:
            self._spec = spec
            self._update_count()
            self.edited.emit(spec)

    def _set_layers(self, layers: list[tuple[int, str]]) -> None:
        self._edit(hidden=tuple(w for w, _a in layers), activation=tuple(a for _w, a in layers))

    def _set_layer(self, i: int, width: int | None = None, act: str | None = None) -> None:
        layers = self._layers()
        old_width, old_act = layers[i]
        layers[i] = (old_width if width is None else width, old_act if act is None else act)
        if act is not None:
            combo_box = self.layerList.findChild(QWidget, f"layerActivationCombo_{i}")
            combo_box.setToolTip(self._activation_tip(i, act))
        self._set_layers(layers)

    def _on_add(self) -> None:
        layers = self._layers()
        if len(layers) >= MAX_LAYERS:
            return
        layers.append(layers[-1] if layers else NEW_LAYER)
        self._set_layers(layers)
        self._rebuild_rows()
        self._focus(f"layerWidthSpin_{len(layers) - 1}")

    def _remove(self, i: int) -> None:
        layers = self._layers()
        if not 0 <= i < len(layers):
            return
        del layers[i]
        self._set_layers(layers)
        self._rebuild_rows()
        self._focus(f"layerWidthSpin_{min(i, len(layers) - 1)}")

    def _move(self, i: int, step: int) -> None:
        layers = self._layers()
        j = i + step
        if not (0 <= i < len(layers) and 0 <= j < len(layers)):
            return
        layers[i], layers[j] = layers[j], layers[i]
        self._set_layers(layers)
        self._rebuild_rows()
        self._focus(f"layer{'Up' if step < 0 else 'Down'}Button_{j}")

    def _update_count(self) -> None:
        if self._io is None:
            self.paramCountLabel.setText("Parameters: – (load a data set)")
            self.paramCountLabel.setToolTip("The count needs the data's input and output sizes.")
            return
        n_in, n_out = self._io
        try:
            total = spec_parameter_count(self._spec, n_in, n_out, self._image)
        except VisualizerError as exc:  # a layer list that does not fit this data set (conv on a table)
            self.paramCountLabel.setText("Parameters: – (the layers do not fit this data)")
            self.paramCountLabel.setToolTip(str(exc))
            return
        self.paramCountLabel.setText(f"Parameters: {total:,}")
        if self._spec.layers:
            self.paramCountLabel.setToolTip(f"Weights and biases to train in {len(self._spec.layers)} layers and "
                                            "the output layer.")
            return
        shape = " → ".join(str(w) for w in (n_in, *self._spec.hidden, n_out))
        extra = " (including batch norm's scale and shift)" if self._spec.batch_norm else ""
        self.paramCountLabel.setToolTip(f"Weights and biases to train{extra}; layer widths {shape}.")
