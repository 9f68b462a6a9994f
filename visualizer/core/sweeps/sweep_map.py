"""The map of a sweep as numbers: the swept fields with several values become axes (x, then y, then one panel per
value of the third), each cell the mean of a figure over its seeds with its spread, whether a seed diverged, and
the best cell. The plot draws this; the window fills it as rows arrive."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visualizer.core.sweeps.table import cell
from visualizer.core.sweeps.trial import finite

#: what a map can show: (label, sweep.csv column, lower is better)
MAP_METRICS = {
    "loss": ("final validation loss", "final_val_loss", True),
    "accuracy": ("final validation accuracy", "final_val_metric", False),
    "r2": ("final validation R²", "final_val_metric", False),
}


@dataclass(frozen=True)
class MapAxis:
    """A swept field as an axis: its name, the values' labels as sweep.csv writes them, the values as numbers
    (None for names), and whether they are shown on a log scale."""

    field: str
    labels: tuple[str, ...]
    numbers: tuple[float, ...] | None
    log: bool


def axes_of(params) -> list[MapAxis]:
    """The map's axes: the swept fields with more than one value, in the order given."""
    out = []
    for p in params:
        if len(p.values) < 2:
            continue
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p.values)
        out.append(MapAxis(p.field, tuple(cell(v) for v in p.values),
                           tuple(float(v) for v in p.values) if numeric else None, p.log and numeric))
    return out


class SweepMap:
    """Cells of a sweep by the index of each axis' value: the figure per seed, the statuses; add rows as they
    come. ``values[c]`` (mean over the seeds that did not diverge), ``low``/``high`` (min and max over them)."""

    def __init__(self, params, metric: str = "loss") -> None:
        if metric not in MAP_METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        self.metric = metric
        self.label, self.column, self.lower_is_better = MAP_METRICS[metric]
        self.axes = axes_of(params)
        shape = tuple(len(a.labels) for a in self.axes) or (1,)
        self.shape = shape
        self._samples: dict[tuple, list[float]] = {}
        self._statuses: dict[tuple, list[str]] = {}
        self._runs: dict[tuple, list[str]] = {}

    def index_of(self, row: dict) -> tuple | None:
        """The cell of a sweep.csv row (None: its values are not on this map's axes)."""
        try:
            return tuple(a.labels.index(row[a.field]) for a in self.axes) or (0,)
        except (KeyError, ValueError):
            return None

    def add(self, row: dict) -> tuple | None:
        """Add a finished trial's row; returns its cell."""
        at = self.index_of(row)
        if at is None:
            return None
        value = finite(row.get(self.column))
        if value is None and self.metric == "loss":  # no validation set: the training loss
            value = finite(row.get("final_train_loss"))
        status = row.get("status", "failed")
        self._statuses.setdefault(at, []).append(status)
        self._runs.setdefault(at, []).append(row.get("run", ""))
        if status == "done" and value is not None:
            self._samples.setdefault(at, []).append(value)
        return at

    def cells(self) -> list[tuple]:
        """The cells that have at least one finished trial."""
        return sorted(self._statuses)

    def status(self, at: tuple) -> str:
        """'diverged' when any seed of the cell diverged, 'failed' when all failed, 'done', or '' (not yet)."""
        statuses = self._statuses.get(tuple(at), [])
        if not statuses:
            return ""
        if "diverged" in statuses:
            return "diverged"
        return "failed" if all(s == "failed" for s in statuses) else "done"

    def seeds_done(self, at: tuple) -> int:
        return len(self._statuses.get(tuple(at), []))

    def runs(self, at: tuple) -> list[str]:
        """The run files of a cell's trials (paths relative to the sweep's folder)."""
        return [r for r in self._runs.get(tuple(at), []) if r]

    def grid(self, reduce: str = "mean") -> np.ndarray:
        """The figure over the whole grid (shape: one dimension per axis): mean, min or max over seeds; NaN where
        nothing finished or every seed diverged."""
        out = np.full(self.shape, np.nan)
        fn = {"mean": np.mean, "min": np.min, "max": np.max, "std": np.std}[reduce]
        for at, values in self._samples.items():
            out[at] = fn(values)
        return out

    def best(self) -> tuple | None:
        """The cell with the best mean (lowest loss, highest accuracy) among cells where no seed diverged."""
        grid = self.grid()
        ok = [at for at in self._samples if self.status(at) == "done" and np.isfinite(grid[at])]
        if not ok:
            return None
        pick = min if self.lower_is_better else max
        return pick(ok, key=lambda at: grid[at])
