"""The big loss numbers over the prediction change every frame of a run without laying the window out."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QVBoxLayout, QWidget

from visualizer.qt.training.readouts import LossReadouts


def _history(train: float, val: float):
    return SimpleNamespace(eval_steps=np.array([10]), eval_train_loss=np.array([train]), val_loss=np.array([val]))


class _LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # Qt override
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_a_number_no_wider_than_before_lays_nothing_out(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    readouts = LossReadouts()
    QVBoxLayout(parent).addWidget(readouts)
    parent.show()
    readouts.show_history(_history(0.012345, 0.065432))  # the widest numbers of the run (0.01235)
    qtbot.wait(20)
    requests = _LayoutRequests()
    for w in (parent, readouts):
        w.installEventFilter(requests)
    for train, val in ((0.2, 0.3), (0.0123, 0.5), (1.5, 2.25)):
        readouts.show_history(_history(train, val))
        qtbot.wait(10)
        for label in (readouts.train_label, readouts.val_label):  # the whole text is shown
            assert label.width() >= label.sizeHint().width()
    assert requests.count == 0  # (without a fixed size, each new text laid out the parents: ~3 ms a frame)
    assert readouts.val_label.text() == "Validation loss 2.25"
    readouts.show_history(_history(0.123456, 123.456789))  # wider: laid out once, and shown whole
    qtbot.wait(10)
    assert readouts.val_label.width() >= readouts.val_label.sizeHint().width()


def test_clearing_frees_the_labels_size(qtbot):
    readouts = LossReadouts()
    qtbot.addWidget(readouts)
    readouts.show_history(_history(0.123456, 0.654321))
    assert readouts.train_label.minimumWidth() == readouts.train_label.maximumWidth() > 0
    readouts.clear()
    assert readouts.train_label.minimumWidth() == 0
    assert readouts.train_label.maximumWidth() > 10_000
