"""The forms built from the registries: optimizer defaults that follow the optimizer, schedule fields from the
schedule registry, the playground's and the race's defaults."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QWidget

from visualizer.core import experiment
from visualizer.core.experiment import Experiment, TrainSpec
from visualizer.core.model.schedules import SCHEDULE_FIELDS, SCHEDULES, ScheduleInfo
from visualizer.core.playground.functions import Racer
from visualizer.qt.panels import TrainPanel


@pytest.fixture
def panel(qtbot):
    p = TrainPanel()
    qtbot.addWidget(p)
    return p


def _child(widget: QWidget, name: str):
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    found = widget.findChild(QWidget, name)
    assert found is not None, name
    return found


def _choose(box, data) -> None:
    index = box.findData(data)
    assert index >= 0, data
    box.setCurrentIndex(index)


def test_switching_optimizer_shows_its_defaults_unless_the_user_set_a_value(panel):
    panel.set_spec(TrainSpec(optimizer="adam"))
    lr = panel.learningRateSpin
    assert lr.value() == pytest.approx(0.001)
    _choose(panel.optimizerCombo, "gd")
    assert lr.value() == pytest.approx(0.1) and panel.spec().lr is None
    _choose(panel.optimizerCombo, "adamw")
    decay = _child(panel, "weightDecaySpin")
    assert lr.value() == pytest.approx(0.001) and decay.value() == pytest.approx(0.01)
    assert "Not set" in decay.toolTip() and "AdamW's default 0.01" in decay.toolTip()
    saved = experiment.to_dict(Experiment(train=panel.spec()))["train"]
    assert "lr" not in saved and "weight_decay" not in saved  # the file does not freeze defaults nobody chose

    lr.setValue(0.05)  # the user's own value stays when the optimizer changes
    assert panel.spec().lr == 0.05 and "Set by the experiment" in lr.toolTip()
    _choose(panel.optimizerCombo, "sgd")
    assert lr.value() == pytest.approx(0.05) and _child(panel, "weightDecaySpin").value() == 0.0
    assert experiment.to_dict(Experiment(train=panel.spec()))["train"]["lr"] == 0.05


def test_schedule_fields_come_from_the_registry(panel, qtbot):
    assert set(panel.scheduleSpins) == set(SCHEDULE_FIELDS)
    step, gamma = _child(panel, "stepSizeSpin"), _child(panel, "gammaSpin")
    panel.set_spec(TrainSpec(schedule="cosine"))
    assert not step.isEnabled() and not gamma.isEnabled()
    assert "Cosine annealing does not use this field; only Step decay reads it." in gamma.toolTip()
    assert panel.scheduleFormulaLabel.text() == SCHEDULES["cosine"].formula
    _choose(panel.scheduleCombo, "step")
    assert step.isEnabled() and gamma.isEnabled()
    assert SCHEDULE_FIELDS["gamma"].tooltip in gamma.toolTip() and "(0, 1]" in gamma.toolTip()
    assert step.specialValueText() == SCHEDULE_FIELDS["step_size"].zero_text and step.value() == 0
    assert panel.scheduleFormulaLabel.text() == SCHEDULES["step"].formula
    with qtbot.waitSignal(panel.edited) as blocker:
        gamma.setValue(0.5)
    assert blocker.args[0].gamma == 0.5 and blocker.args[0].schedule == "step"
    step.setValue(4)
    assert panel.spec().step_size == 4


def test_a_registered_schedule_is_offered_with_its_formula(qtbot, monkeypatch):
    monkeypatch.setitem(SCHEDULES, "halving", ScheduleInfo("halving", "Halving", "α(t) = α · ½^epoch",
                                                           lambda *args: 1.0))
    panel = TrainPanel()
    qtbot.addWidget(panel)
    _choose(panel.scheduleCombo, "halving")
    assert panel.spec().schedule == "halving" and panel.scheduleFormulaLabel.text() == "α(t) = α · ½^epoch"
    assert not _child(panel, "gammaSpin").isEnabled()
    assert "Halving does not use this field" in _child(panel, "gammaSpin").toolTip()


def test_a_racer_keeps_what_was_set_and_takes_the_new_optimizers_defaults(qtbot):
    from visualizer.qt.playground.racers import RacerEditor

    editor = RacerEditor(Racer("sgd", {"lr": 0.004}), "#ff0000")
    qtbot.addWidget(editor)
    _choose(editor.combo, "adamw")
    assert editor.racer() == Racer("adamw", {"lr": 0.004, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                             "weight_decay": 0.01})
    editor.spins["weight_decay"].setValue(0.0)
    _choose(editor.combo, "nesterov")
    assert editor.racer().hyperparams == {"lr": 0.004, "momentum": 0.9, "weight_decay": 0.0}


def test_the_race_window_offers_the_registry_learning_rate_when_the_experiment_sets_none(qtbot):
    from visualizer.qt.playground.race_window import RaceWindow

    window = RaceWindow(experiment.loads("[train]\noptimizer = 'adam'\nepochs = 2\n"), None)
    qtbot.addWidget(window)
    try:
        assert {e.optimizer: e.hyper["lr"] for e in window.entries()}["adam"] == pytest.approx(0.001)
    finally:
        window.close()
