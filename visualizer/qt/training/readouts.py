"""TensorFlow Playground's big numbers over the output: the training and validation loss of the latest evaluation,
large enough to read from across a room while the network trains."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from visualizer.qt.plots._style import font

READOUT_PT = 13  # scaled with the window's font (presentation mode too)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "–"


class LossReadouts(QWidget):
    """Two large numbers: "Training loss" and "Validation loss" at the latest evaluation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossReadouts")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        row.setSpacing(18)
        self.train_label = QLabel()
        self.train_label.setObjectName("trainLossReadout")
        self.train_label.setToolTip("Training loss: the mean over the batches since the last evaluation (the "
                                    "data loss, without the regularisation penalty)")
        self.val_label = QLabel()
        self.val_label.setObjectName("validationLossReadout")
        self.val_label.setToolTip("Validation loss: measured on the whole validation set at the last evaluation")
        for label in (self.train_label, self.val_label):
            label.setFont(font(READOUT_PT, bold=True))
            row.addWidget(label)
        row.addStretch(1)
        self.clear()

    def set_theme(self, _name: str) -> None:
        """Take the current font scale (the colours follow the application's palette)."""
        for label in (self.train_label, self.val_label):
            label.setFont(font(READOUT_PT, bold=True))
            _free_size(label)

    def clear(self) -> None:
        self.train_label.setText("Training loss –")
        self.val_label.setText("Validation loss –")
        for label in (self.train_label, self.val_label):
            _free_size(label)

    def show_history(self, history) -> None:
        """The losses of the latest evaluation in ``history`` (a History)."""
        if not len(history.eval_steps):
            return
        self.train_label.setText(f"Training loss {_fmt(float(history.eval_train_loss[-1]))}")
        self.val_label.setText(f"Validation loss {_fmt(float(history.val_loss[-1]))}")
        for label in (self.train_label, self.val_label):
            _hold_width(label)


def _free_size(label: QLabel) -> None:
    """Let ``label`` take its text's size again (a new run, a new font)."""
    label.setMinimumSize(0, 0)
    label.setMaximumSize(16777215, 16777215)


def _hold_width(label: QLabel) -> None:
    """Keep ``label`` as wide as its widest number so far, at a fixed size: Qt lays out a label's parents at every
    new text unless its size is fixed, and that layout pass (the splitter, the word-wrapped labels in it) held the
    GUI thread ~3 ms at every frame of a run; now only a wider number than any before lays the window out."""
    hint = label.sizeHint()
    size = QSize(max(hint.width(), label.minimumWidth()), hint.height())
    if label.minimumSize() != size or label.maximumSize() != size:
        label.setFixedSize(size)
