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


#: the largest saved curve a tool window opens (a range test of 10,000 steps is ~0.8 MB)
MAX_CURVE_BYTES = 16 * 1024 * 1024


def read_curve(path, header: tuple[str, ...], what: str, optional: tuple[str, ...] = ()) -> dict:
    """The columns of a curve a command or a tool window saved as CSV (``header`` exactly, in order), as float
    arrays by name; an empty cell of an ``optional`` column makes that whole column None. Anything else is a
    VisualizerError naming the file, the line and the allowed form."""
    import numpy as np

    from visualizer.core.errors import VisualizerError
    from visualizer.core.files import read_text_bounded

    path = Path(path)
    lines = read_text_bounded(path, MAX_CURVE_BYTES, what).splitlines()
    if not lines or tuple(c.strip() for c in lines[0].split(",")) != header:
        raise VisualizerError(f"{path}: not a saved {what}; its first line must be {','.join(header)}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(header):
            raise VisualizerError(f"{path}, line {number}: {len(cells)} values; expected {len(header)} "
                                  f"({','.join(header)})")
        row = []
        for name, cell in zip(header, cells):
            if cell.strip() == "" and name in optional:
                row.append(None)
                continue
            try:
                row.append(float(cell))
            except ValueError:
                raise VisualizerError(f"{path}, line {number}: {name} is {cell.strip()[:40]!r}, not a number") from None
        rows.append(row)
    if not rows:
        raise VisualizerError(f"{path}: the {what} has no rows")
    out = {}
    for k, name in enumerate(header):
        column = [r[k] for r in rows]
        if name in optional and any(v is None for v in column):
            out[name] = None
        else:
            out[name] = np.asarray(column, np.float64)
    return out
