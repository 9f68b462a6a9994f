"""A recorded run's views as CSV data (the "csv" writers of ``export_registry.EXPORT_VIEWS``): each writes its
files into a folder and returns them. Values are written with ``repr`` (round trip exact); a value that is not
finite is an empty cell in the landscape."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.export import RunExport


def _write_rows(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _cell(v: float) -> str:
    return "" if v is None or not np.isfinite(v) else repr(float(v))


def loss_csv(run: RunExport, out: Path) -> list[Path]:
    """loss.csv: one row per step (the run folder's metrics.csv)."""
    from visualizer.core.runs.folder import metrics_csv

    path = Path(out) / "loss.csv"
    path.write_text(metrics_csv(run.history, run.task))
    return [path]


def histograms_csv(run: RunExport, out: Path) -> list[Path]:
    """histograms.csv: layer, bin_left, bin_right, count of the last snapshot's weights."""
    if not run.snapshot_steps:
        raise VisualizerError(f"{run.path}: the run recorded no snapshots, so no histograms")
    snap = run.snapshot_at(run.snapshot_steps[-1])
    rows = [(layer.name, repr(float(lo)), repr(float(hi)), int(c)) for layer in snap.layers
            for lo, hi, c in zip(layer.weight_edges[:-1], layer.weight_edges[1:], layer.weight_counts)]
    return [_write_rows(Path(out) / "histograms.csv", ["layer", "bin_left", "bin_right", "count"], rows)]


def boundary_csv(run: RunExport, out: Path) -> list[Path]:
    """boundary.csv: x, y and each class's probability on the grid at the last snapshot (or the end)."""
    g = run.boundary_at(run.snapshot_steps[-1] if run.snapshot_steps else None)
    names = list(run.dataset.class_names) or [str(k) for k in range(g.probs.shape[2])]
    rows = ([repr(float(x)), repr(float(y)), *(repr(float(p)) for p in g.probs[i, j])]
            for i, y in enumerate(g.ys) for j, x in enumerate(g.xs))
    return [_write_rows(Path(out) / "boundary.csv", ["x", "y", *(f"p_{n}" for n in names)], rows)]


def landscape_csv(run: RunExport, out: Path) -> list[Path]:
    """landscape.csv (alpha, beta, loss on the grid) and landscape_trajectory.csv (step, alpha, beta, distance
    of each snapshot on the plane)."""
    land = run.landscape
    rows = ((repr(float(a)), repr(float(b)), _cell(land.loss[i, j]))
            for i, b in enumerate(land.betas) for j, a in enumerate(land.alphas))
    surface = _write_rows(Path(out) / "landscape.csv", ["alpha", "beta", "loss"], rows)
    traj = ((int(s), repr(float(p[0])), repr(float(p[1])), repr(float(d)))
            for s, p, d in zip(land.steps, land.points, land.distance))
    return [surface, _write_rows(Path(out) / "landscape_trajectory.csv", ["step", "alpha", "beta", "distance"],
                                 traj)]
