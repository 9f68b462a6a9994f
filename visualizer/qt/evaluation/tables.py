"""The per-fold metrics table and the paired-differences table: a row per fold, then the mean and the std."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

#: column titles of the metrics, in the user's words
METRIC_TITLES = {"loss": "loss", "accuracy": "accuracy", "precision": "precision", "recall": "recall",
                 "f1": "macro F1", "r2": "R²", "mse": "MSE"}
SUMMARY_ROWS = ("mean", "std")


def make_table(name: str, tip: str) -> QTableWidget:
    table = QTableWidget(0, 0)
    table.setObjectName(name)
    table.setToolTip(tip)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setAlternatingRowColors(True)
    return table


def _cell(value, digits: int = 4, bold: bool = False) -> QTableWidgetItem:
    """A right-aligned cell showing `value` rounded; the exact number is kept under Qt.UserRole."""
    if isinstance(value, str):
        item = QTableWidgetItem(value)
    elif isinstance(value, (int, np.integer)):
        item = QTableWidgetItem(str(int(value)))
        item.setData(Qt.ItemDataRole.UserRole, int(value))
    else:
        v = float(value) if value is not None else math.nan
        item = QTableWidgetItem(f"{v:.{digits}f}" if math.isfinite(v) else "–")
        item.setData(Qt.ItemDataRole.UserRole, v)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if bold:
        f = QFont(item.font())
        f.setBold(True)
        item.setFont(f)
    return item


def _stats(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of the finite values."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if not a.size:
        return math.nan, math.nan
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def _fill(table: QTableWidget, headers: list[str], rows: list[list], columns: list[list[float]], lead: int) -> None:
    """Rows of cells, then mean and std rows over `columns` (one list of values per metric column)."""
    table.setUpdatesEnabled(False)
    table.clearContents()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(rows) + (len(SUMMARY_ROWS) if rows else 0))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, _cell(value))
    if rows:
        stats = [_stats(col) for col in columns]
        for k, name in enumerate(SUMMARY_ROWS):
            r = len(rows) + k
            table.setItem(r, 0, _cell(name, bold=True))
            for c in range(1, lead):
                table.setItem(r, c, _cell(""))
            for j, (mean, std) in enumerate(stats):
                table.setItem(r, lead + j, _cell(mean if name == "mean" else std, bold=True))
    table.setUpdatesEnabled(True)


def fill_metrics_table(table: QTableWidget, results, names: tuple[str, ...]) -> None:
    """fold, n_train, n_val, then each metric, one row per FoldResult; mean and std rows below."""
    headers = ["fold", "n_train", "n_val", *(METRIC_TITLES.get(n, n) for n in names)]
    rows = [[r.fold, r.n_train, r.n_val, *(r.metrics[n] for n in names)] for r in results]
    _fill(table, headers, rows, [[r.metrics[n] for r in results] for n in names], lead=3)


def fill_compare_table(table: QTableWidget, folds: list[int], differences: dict) -> None:
    """fold, then Δ of each metric (from core.evaluate.paired_differences); mean and std rows below."""
    names = list(differences)
    headers = ["fold", *(f"Δ {METRIC_TITLES.get(n, n)}" for n in names)]
    rows = [[fold, *(differences[n]["differences"][i] for n in names)] for i, fold in enumerate(folds)]
    _fill(table, headers, rows, [differences[n]["differences"] for n in names], lead=1)
