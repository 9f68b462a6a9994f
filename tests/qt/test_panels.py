"""The spec panels edit one part of the experiment each, driven here as a user would drive them."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QFileDialog, QWidget

from visualizer.core.data.sets import DATASETS
from visualizer.core.experiment import DataSpec, ModelSpec, TrainSpec, hyper_values
from visualizer.core.model.losses import losses_for
from visualizer.core.model.nets import MAX_LAYERS, count_parameters
from visualizer.core.training.device import available_devices
from visualizer.qt.panels import DataPanel, NetworkPanel, TrainPanel, train_panel

REQUIRED = {
    DataPanel: ["datasetCombo", "samplesSpin", "noiseSpin", "classesSpin", "valPercentSpin", "dataSeedSpin",
                "loadCsvButton", "targetCombo", "csvPathLabel", "dataPreview", "dataErrorLabel"],
    NetworkPanel: ["layerList", "addLayerButton", "removeLayerButton", "dropoutSpin", "batchNormCheck",
                   "paramCountLabel", "layerWidthSpin_0", "layerActivationCombo_0", "layerUpButton_0",
                   "layerDownButton_0", "layerRemoveButton_0"],
    TrainPanel: ["optimizerCombo", "learningRateSpin", "updateRuleLabel", "lossCombo", "lossFormulaLabel",
                 "epochsSpin", "batchSizeSpin", "scheduleCombo", "trainSeedSpin", "deviceCombo"],
}


@pytest.fixture
def make(qtbot):
    def build(cls, *args):
        panel = cls(*args)
        qtbot.addWidget(panel)
        return panel

    return build


def _child(panel: QWidget, name: str):
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # rows replaced by a rebuild
    widget = panel.findChild(QWidget, name)
    assert widget is not None, name
    return widget


def _choose(box: QComboBox, data) -> None:
    index = box.findData(data)
    assert index >= 0, data
    box.setCurrentIndex(index)


def _recorder(signal) -> list:
    got: list = []
    signal.connect(got.append)
    return got


def _write_csv(path: Path, bad_cell: str | None = None) -> Path:
    rows = ["mass,width,fruit"] + [f"{100 + 7 * i},{5 + i % 4},{['apple', 'lemon'][i % 2]}" for i in range(30)]
    if bad_cell is not None:
        rows[5] = f"{bad_cell},6,apple"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# --- every panel -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [DataPanel, NetworkPanel, TrainPanel])
def test_controls_have_names_and_tooltips(make, cls):
    panel = make(cls)
    for name in REQUIRED[cls]:
        _child(panel, name)
    controls = [w for kind in (QAbstractSpinBox, QComboBox, QAbstractButton) for w in panel.findChildren(kind)]
    assert len(controls) >= 6
    for widget in [*controls, *(_child(panel, n) for n in REQUIRED[cls])]:
        assert widget.objectName(), widget
        assert widget.toolTip().strip(), widget.objectName()


# --- data panel ------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [
    DataSpec(),
    DataSpec(name="spiral", samples=300, noise=0.5, classes=5, val_fraction=0.35, seed=7),
    DataSpec(name="sine", samples=50, noise=0.0, val_fraction=0.0),
    DataSpec(name="iris", val_fraction=0.3, seed=3),
])
def test_data_set_spec_round_trips_without_editing(make, qtbot, spec):
    panel = make(DataPanel)
    with qtbot.assertNotEmitted(panel.edited, wait=200):
        panel.set_spec(spec)
    assert panel.spec() == spec
    assert panel.dataset() is not None and panel.dataset().name == spec.name
    assert panel.datasetCombo.currentData() == spec.name
    assert panel.valPercentSpin.value() == round(spec.val_fraction * 100)


def test_choosing_a_data_set_disables_unused_fields_and_emits_once(make, qtbot):
    panel = make(DataPanel)
    panel.set_spec(DataSpec())
    got, loaded = _recorder(panel.edited), _recorder(panel.dataset_changed)
    _choose(panel.datasetCombo, "iris")
    qtbot.waitUntil(lambda: len(got) == 1, timeout=2000)
    qtbot.wait(200)
    assert len(got) == 1 and got[0] == replace(DataSpec(), name="iris")
    assert loaded[-1].n_features == 4 and loaded[-1].n_classes == 3
    for name in ("samplesSpin", "noiseSpin", "classesSpin", "targetCombo"):
        assert not _child(panel, name).isEnabled(), name
    assert panel.valPercentSpin.isEnabled() and panel.loadCsvButton.isEnabled()

    _choose(panel.datasetCombo, "spiral")  # quick successive edits are loaded and reported together
    panel.classesSpin.setValue(4)
    panel.valPercentSpin.setValue(25)
    qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)
    qtbot.wait(200)
    assert len(got) == 2 and got[1] == DataSpec(name="spiral", classes=4, val_fraction=0.25)
    assert panel.classesSpin.isEnabled()


def test_family_titles_are_skipped_by_the_keyboard(make, qtbot):
    panel = make(DataPanel)
    panel.set_spec(DataSpec(name="blobs"))  # the last synthetic set; a "Regression" title follows
    qtbot.keyClick(panel.datasetCombo, Qt.Key.Key_Down)
    assert panel.datasetCombo.currentData() == "sine"
    assert DATASETS[panel.datasetCombo.currentData()].family == "regression"


def test_csv_with_text_in_a_number_column_shows_the_error_and_emits_nothing(make, qtbot, tmp_path, monkeypatch):
    panel = make(DataPanel)
    panel.set_spec(DataSpec())
    bad = _write_csv(tmp_path / "bad.csv", bad_cell="heavy")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    with qtbot.assertNotEmitted(panel.edited, wait=400):
        panel.loadCsvButton.click()
    assert panel.dataErrorLabel.isVisibleTo(panel)
    assert "'heavy' is not a number" in panel.dataErrorLabel.text() and "mass" in panel.dataErrorLabel.text()
    assert panel.spec() == DataSpec() and panel.dataset().name == "moons"
    assert [panel.targetCombo.itemText(i) for i in range(panel.targetCombo.count())] == ["mass", "width", "fruit"]

    good = _write_csv(tmp_path / "good.csv")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good), ""))
    with qtbot.waitSignal(panel.edited, timeout=2000) as blocker:
        panel.loadCsvButton.click()
    assert blocker.args[0] == replace(DataSpec(), name="csv", path=str(good), target="fruit")
    assert not panel.dataErrorLabel.isVisibleTo(panel) and panel.dataset().n_classes == 2
    with qtbot.assertNotEmitted(panel.edited, wait=400):  # the text column 'fruit' would become a feature
        panel.targetCombo.setCurrentIndex(1)
    assert "'apple' is not a number" in panel.dataErrorLabel.text() and panel.spec().target == "fruit"
    with qtbot.assertNotEmitted(panel.edited, wait=400):  # back to what is loaded: nothing new to report
        panel.targetCombo.setCurrentIndex(2)
    assert not panel.dataErrorLabel.isVisibleTo(panel)


def test_missing_csv_file_is_reported(make, qtbot, tmp_path):
    panel = make(DataPanel)
    with qtbot.assertNotEmitted(panel.edited, wait=50):
        panel.set_spec(DataSpec(name="csv", path="gone.csv"), base_dir=tmp_path)
    assert panel.dataErrorLabel.isVisibleTo(panel) and "file not found" in panel.dataErrorLabel.text()
    assert panel.dataset() is None


def test_cancelled_csv_dialog_keeps_the_data_set(make, qtbot, monkeypatch):
    panel = make(DataPanel)
    panel.set_spec(DataSpec(name="xor"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    with qtbot.assertNotEmitted(panel.edited, wait=250):
        _choose(panel.datasetCombo, "csv")
    assert panel.datasetCombo.currentData() == "xor"


# --- network panel ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [
    ModelSpec(),
    ModelSpec(hidden=(), activation=()),
    ModelSpec(hidden=(32, 8, 4), activation=("relu", "gelu", "sigmoid"), dropout=0.25, batch_norm=True),
])
def test_network_set_spec_round_trips_without_editing(make, qtbot, spec):
    panel = make(NetworkPanel)
    with qtbot.assertNotEmitted(panel.edited):
        panel.set_spec(spec)
        panel.set_io(5, 3)
    assert panel.spec() == spec
    for i, (width, act) in enumerate(zip(spec.hidden, spec.activation)):
        assert _child(panel, f"layerWidthSpin_{i}").value() == width
        assert _child(panel, f"layerActivationCombo_{i}").currentData() == act
    expected = count_parameters(5, spec.hidden, 3, spec.batch_norm)
    assert panel.paramCountLabel.text() == f"Parameters: {expected:,}"


def test_adding_removing_and_reordering_layers(make, qtbot):
    panel = make(NetworkPanel)
    panel.set_spec(ModelSpec(hidden=(4, 8), activation=("relu", "tanh")))
    panel.set_io(2, 2)
    assert panel.paramCountLabel.text() == "Parameters: 70"  # (2+1)4 + (4+1)8 + (8+1)2
    got = _recorder(panel.edited)
    panel.addLayerButton.click()
    assert got[-1] == ModelSpec(hidden=(4, 8, 8), activation=("relu", "tanh", "tanh"))
    _child(panel, "layerDownButton_0").click()
    assert got[-1] == ModelSpec(hidden=(8, 4, 8), activation=("tanh", "relu", "tanh"))
    _child(panel, "layerUpButton_2").click()
    assert got[-1] == ModelSpec(hidden=(8, 8, 4), activation=("tanh", "tanh", "relu"))
    _choose(_child(panel, "layerActivationCombo_1"), "gelu")
    _child(panel, "layerWidthSpin_0").setValue(3)
    assert got[-1] == ModelSpec(hidden=(3, 8, 4), activation=("tanh", "gelu", "relu"))
    _child(panel, "layerRemoveButton_1").click()
    assert got[-1] == ModelSpec(hidden=(3, 4), activation=("tanh", "relu"))
    panel.removeLayerButton.click()
    panel.batchNormCheck.setChecked(True)
    assert got[-1] == ModelSpec(hidden=(3,), activation=("tanh",), batch_norm=True)
    assert len(got) == 8
    assert panel.paramCountLabel.text() == f"Parameters: {count_parameters(2, (3,), 2, True)}"
    panel.removeLayerButton.click()
    assert got[-1].hidden == () and not panel.removeLayerButton.isEnabled()
    panel.addLayerButton.click()
    assert got[-1] == ModelSpec(hidden=(8,), activation=("tanh",), batch_norm=True)


def test_add_is_disabled_at_the_layer_limit(make):
    panel = make(NetworkPanel)
    panel.set_spec(ModelSpec(hidden=(2,) * MAX_LAYERS, activation=("relu",) * MAX_LAYERS))
    assert not panel.addLayerButton.isEnabled()
    assert str(MAX_LAYERS) in panel.addLayerButton.toolTip()
    panel.removeLayerButton.click()
    assert panel.addLayerButton.isEnabled() and len(panel.spec().hidden) == MAX_LAYERS - 1


# --- train panel -----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [
    TrainSpec(),
    TrainSpec(optimizer="rmsprop", lr=0.003, weight_decay=1e-4, hyper=(("alpha", 0.9), ("eps", 1e-6))),
    TrainSpec(optimizer="nesterov", lr=0.5, momentum=0.5, batch_size=0, epochs=7, loss="mse", schedule="step",
              step_size=3, gamma=0.5, device="cpu", seed=11, eval_every=20),
    TrainSpec(optimizer="sgd", hyper=(("beta2", 0.95),)),
])
def test_train_set_spec_round_trips_without_editing(make, qtbot, spec):
    panel = make(TrainPanel)
    with qtbot.assertNotEmitted(panel.edited), qtbot.assertNotEmitted(panel.learning_rate_changed):
        panel.set_spec(spec)
    assert panel.spec() == spec
    assert panel.optimizerCombo.currentData() == spec.optimizer
    assert panel.learningRateSpin.value() == pytest.approx(hyper_values(spec)["lr"])  # unset: the registry's
    for name, value in spec.hyper:
        if _child(panel, f"{name}Spin").isVisibleTo(panel):
            assert _child(panel, f"{name}Spin").value() == pytest.approx(value)


def test_hyperparameter_form_follows_the_optimizer(make, qtbot):
    panel = make(TrainPanel)
    panel.set_spec(TrainSpec(optimizer="adam"))
    lr_spin = panel.learningRateSpin
    shown = lambda: {n for n in ("beta1Spin", "beta2Spin", "epsSpin", "momentumSpin", "alphaSpin")
                     if _child(panel, n).isVisibleTo(panel)}
    assert shown() == {"beta1Spin", "beta2Spin", "epsSpin"}
    assert "β₁" in panel.updateRuleLabel.text()
    assert _child(panel, "beta2Spin").maximum() < 1.0 and lr_spin.minimum() > 0.0
    got = _recorder(panel.edited)
    _child(panel, "beta2Spin").setValue(0.99)
    assert got[-1].hyper == (("beta2", 0.99),)
    _choose(panel.optimizerCombo, "sgd")
    assert shown() == set() and got[-1].optimizer == "sgd" and got[-1].hyper == (("beta2", 0.99),)
    assert _child(panel, "learningRateSpin") is lr_spin and lr_spin.isVisibleTo(panel)
    _choose(panel.optimizerCombo, "rmsprop")
    assert shown() == {"alphaSpin", "epsSpin"}
    _choose(panel.optimizerCombo, "adam")
    assert _child(panel, "beta2Spin").value() == pytest.approx(0.99) and panel.spec().hyper == (("beta2", 0.99),)
    assert len(got) == 4
    _choose(panel.optimizerCombo, "gd")
    assert not panel.batchSizeSpin.isEnabled() and "whole training set" in panel.batchSizeSpin.toolTip()


def test_optimizer_switch_resets_values_the_new_one_refuses(make):
    panel = make(TrainPanel)
    panel.set_spec(TrainSpec(optimizer="momentum", momentum=0.0))
    _choose(panel.optimizerCombo, "nesterov")  # torch refuses Nesterov without momentum
    assert panel.spec().momentum == 0.9


def test_learning_rate_edits_emit_once_and_step_on_a_log_scale(make, qtbot):
    panel = make(TrainPanel)
    panel.set_spec(TrainSpec(lr=0.001))
    edits, rates = _recorder(panel.edited), _recorder(panel.learning_rate_changed)
    spin = panel.learningRateSpin
    spin.selectAll()
    qtbot.keyClicks(spin, "0.05")
    assert edits == [] and rates == []
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert [e.lr for e in edits] == [0.05] and rates == [0.05]
    spin.setValue(0.001)
    spin.stepBy(1)
    assert spin.value() == pytest.approx(0.00126) and spin.text() == "0.00126"
    spin.stepBy(-1)
    spin.stepBy(10)
    assert rates[-2:] == [pytest.approx(0.001), pytest.approx(0.01)]
    panel.epochsSpin.setValue(5)
    assert edits[-1].epochs == 5 and len(rates) == 5


def test_set_task_limits_the_losses(make, qtbot):
    panel = make(TrainPanel)
    panel.set_spec(TrainSpec(loss="cross_entropy"))
    with qtbot.waitSignal(panel.edited) as blocker:
        panel.set_task("regression", 0)
    assert blocker.args[0].loss == "mse"
    offered = [panel.lossCombo.itemData(i) for i in range(panel.lossCombo.count())]
    assert offered == ["auto", *losses_for("regression", 0)] and "cross_entropy" not in offered
    assert panel.lossFormulaLabel.text().startswith("L = (1/n)")
    with qtbot.assertNotEmitted(panel.edited):
        panel.set_task("classification", 2)
    assert panel.lossCombo.findData("log_loss") >= 0 and panel.spec().loss == "mse"


def test_device_combo_offers_only_present_devices(make, monkeypatch):
    offered = lambda p: [p.deviceCombo.itemData(i) for i in range(p.deviceCombo.count())]
    assert offered(make(TrainPanel)) == ["auto", *available_devices()]
    monkeypatch.setattr(train_panel, "available_devices", lambda: ["cpu"])
    panel = make(TrainPanel)
    assert offered(panel) == ["auto", "cpu"]
    panel.set_spec(TrainSpec(device="cuda"))
    assert panel.spec().device == "cuda" and panel.deviceCombo.currentData() == "cpu"
    assert "not available" in panel.deviceCombo.toolTip()


def test_digits_preview_shows_principal_components_and_its_own_sizes(qtbot):
    """64 pixels: the preview is the first two principal components, not pixel against pixel; the greyed sample
    and class fields show the data set's own 1,797 samples and 10 classes."""
    from visualizer.core.experiment import DataSpec
    from visualizer.qt.panels import DataPanel

    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.set_spec(DataSpec(name="digits"))
    qtbot.waitUntil(lambda: panel.dataset() is not None, timeout=20000)
    bottom = panel.dataPreview.getPlotItem().getAxis("bottom").labelText
    assert bottom.startswith("PC 1 of 64 features") and "pixel" not in bottom
    assert panel.samplesSpin.value() == 1797 and panel.classesSpin.value() == 10
    assert not panel.samplesSpin.isEnabled() and "Set by the data set" in panel.samplesSpin.toolTip()
    panel.set_spec(DataSpec(name="moons", samples=500, classes=3))
    qtbot.waitUntil(lambda: panel.dataset() is not None and panel.dataset().n_features == 2, timeout=20000)
    assert panel.samplesSpin.value() == 500 and panel.samplesSpin.isEnabled()
    assert "Set by the data set" not in panel.samplesSpin.toolTip()


def test_feature_toggles_edit_the_features_of_2d_sets_only(make, qtbot):
    """Toggling x1² and x2² on circles loads four inputs (the preview still shows the plane); the last toggle
    cannot be switched off; a set that is not 2-D greys the toggles out and drops back to x1, x2."""
    panel = make(DataPanel)
    panel.set_spec(DataSpec(name="circles", features=("x1", "x2", "x1^2")))
    toggles = panel.featureToggles
    assert toggles.isEnabled() and toggles.features() == ("x1", "x2", "x1^2")
    assert toggles.buttons["x1^2"].isChecked() and not toggles.buttons["x2^2"].isChecked()
    got = _recorder(panel.edited)
    toggles.buttons["x2^2"].click()
    qtbot.waitUntil(lambda: len(got) == 1, timeout=2000)
    assert got[0].features == ("x1", "x2", "x1^2", "x2^2") and panel.dataset().n_features == 4
    assert panel.dataPreview.getPlotItem().getAxis("bottom").labelText == "x1 (standardised)"
    for name in ("x1", "x2", "x1^2"):
        toggles.buttons[name].click()
    qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)
    qtbot.wait(200)
    assert got[-1].features == ("x2^2",)
    toggles.buttons["x2^2"].click()  # the last one stays on
    assert toggles.buttons["x2^2"].isChecked() and toggles.features() == ("x2^2",)
    _choose(panel.datasetCombo, "iris")
    qtbot.waitUntil(lambda: len(got) == 3, timeout=2000)
    assert got[-1].features == ("x1", "x2") and panel.dataset().n_features == 4 and not toggles.isEnabled()


def test_regularization_is_chosen_apart_from_weight_decay_and_shown_in_the_loss_formula(make, qtbot):
    panel = make(TrainPanel)
    panel.set_spec(TrainSpec(optimizer="adamw"))
    assert panel.regularizationCombo.currentData() == "none" and not panel.regularizationRateSpin.isEnabled()
    assert "λ" not in panel.lossFormulaLabel.text()
    got = _recorder(panel.edited)
    _choose(panel.regularizationCombo, "l1")
    assert got[-1].regularization == "l1" and got[-1].regularization_rate == 0.001
    assert got[-1].weight_decay is None  # the optimizer's own decay is untouched
    assert panel.regularizationRateSpin.isEnabled()
    assert panel.lossFormulaLabel.text().endswith(" + λ·Σ|w| (λ = 0.001)")
    panel.regularizationRateSpin.setValue(0.01)
    assert got[-1].regularization_rate == 0.01 and panel.lossFormulaLabel.text().endswith("(λ = 0.01)")
    _choose(panel.regularizationCombo, "l2")
    assert "λ/2·Σw²" in panel.lossFormulaLabel.text()
