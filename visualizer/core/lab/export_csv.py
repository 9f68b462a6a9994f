"""A recorded run's lab views as CSV data (the "csv" writers of the export registry's sharpness and health views)."""

from __future__ import annotations

import csv
from pathlib import Path

from visualizer.core.errors import VisualizerError
from visualizer.core.lab.measures import health_rows, sharpness_rows


def write_sharpness_csv(measures, path: Path) -> Path:
    name, rows = sharpness_rows(measures)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["step", name, "threshold"])
        w.writerows(rows)
    return path


def write_health_csv(measures, path: Path) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["name", "layer", "step", "value"])
        w.writerows(health_rows(measures))
    return path


def sharpness_csv(run, out: Path) -> list[Path]:
    """sharpness.csv: step, sharpness (or preconditioned_sharpness), threshold."""
    measures = run.reader.measures()
    if not sharpness_rows(measures)[1]:
        raise VisualizerError(f"{run.path}: the run measured no sharpness ([lab] sharpness_every)")
    return [write_sharpness_csv(measures, Path(out) / "sharpness.csv")]


def health_csv(run, out: Path) -> list[Path]:
    """health.csv: name, layer, step, value of every layer's health."""
    measures = run.reader.measures()
    if not health_rows(measures):
        raise VisualizerError(f"{run.path}: the run measured no training health ([lab] health_every)")
    return [write_health_csv(measures, Path(out) / "health.csv")]
