"""Your own table as a data set: the CSV file's path (made absolute when a run is recorded), its reading and
checking (one message per problem, naming the line and column), and the target column's task."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from visualizer.core.data.sources import RawData
from visualizer.core.errors import ExperimentError, choices

MIN_CSV_ROWS = 10
MAX_INTEGER_CLASSES = 20  # an integer CSV target with more distinct values than this is a regression target
#: the most classes a CSV target may have: each one is an output of the network, a row and a column of the confusion
#: matrix (1,500 text classes made a 2.25-million-cell matrix that took `run` down)
MAX_CSV_CLASSES = 100


def resolve_path(path: str, base_dir: Path | None = None) -> Path:
    """The absolute path of a data file: relative paths are taken from ``base_dir`` (the experiment's folder)."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = Path(base_dir if base_dir is not None else Path.cwd()) / p
    return p.absolute()


def with_absolute_path(spec: Any, base_dir: Path | None = None) -> Any:
    """The data spec with a CSV file's path made absolute (and canonical) against ``base_dir`` (the experiment's
    folder; None: the working directory): what a run file records, so that the run finds its data from anywhere."""
    if spec.name != "csv" or not isinstance(spec.path, str) or not spec.path.strip():
        return spec
    return replace(spec, path=str(resolve_path(spec.path.strip(), base_dir).resolve()))


def _csv_number(cell: str, column: str, line: int, file: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ExperimentError("data.path", f"{file} line {line}, column '{column}': {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ExperimentError("data.path", f"{file} line {line}, column '{column}': {cell!r} is not a finite number")
    return value


def _read_text(spec: Any, base_dir: Path | None) -> tuple[Path, str]:
    if not isinstance(spec.path, str) or not spec.path.strip():
        raise ExperimentError("data.path", "required when data.name is 'csv'")
    path = resolve_path(spec.path.strip(), base_dir)
    if not path.exists():
        raise ExperimentError("data.path", f"file not found: {path}")
    if not path.is_file():
        raise ExperimentError("data.path", f"{path} is not a file")
    try:
        return path, path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ExperimentError("data.path", f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise ExperimentError("data.path", f"cannot read {path}: {error.strerror}") from None


def _read_table(path: Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and the (line number, stripped cells) of each non-blank row."""
    file = path.name
    first = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=max((",", ";", "\t"), key=first.count))
    try:
        rows = [(reader.line_num, [c.strip() for c in row]) for row in reader if any(c.strip() for c in row)]
    except csv.Error as error:
        raise ExperimentError("data.path", f"{file} line {reader.line_num}: {error}") from None
    if not rows:
        raise ExperimentError("data.path", f"{path} is empty")
    names = rows[0][1]
    for j, name in enumerate(names):
        if not name:
            raise ExperimentError("data.path", f"{file} header: column {j + 1} has no name")
        if names.index(name) != j:
            raise ExperimentError("data.path", f"{file} header: column '{name}' appears twice")
    for line, cells in rows[1:]:
        if len(cells) != len(names):
            problem = f"line {line} has {len(cells)} cells but the header has {len(names)}"
            raise ExperimentError("data.path", f"{file} {problem}")
        for j, cell in enumerate(cells):
            if not cell:
                raise ExperimentError("data.path", f"{file} line {line}, column '{names[j]}': the cell is empty")
    if len(rows) == 1:
        raise ExperimentError("data.path", f"{file} has a header but no data rows")
    if len(rows) <= MIN_CSV_ROWS:
        raise ExperimentError("data.path", f"{file} has {len(rows) - 1} data rows, at least {MIN_CSV_ROWS} are needed")
    return names, rows[1:]


def read_csv(spec: Any, base_dir: Path | None) -> RawData:
    path, text = _read_text(spec, base_dir)
    names, rows = _read_table(path, text)
    file = path.name
    if not isinstance(spec.target, str):
        raise ExperimentError("data.target", f"{spec.target!r} is not a column name")
    target = spec.target.strip() or names[-1]
    if target not in names:
        raise ExperimentError("data.target", f"'{target}' is not a column of {file}; use {choices(names)}")
    if len(names) < 2:
        raise ExperimentError("data.path", f"{file} needs at least one feature column besides the target '{target}'")
    t = names.index(target)
    columns = [j for j in range(len(names)) if j != t]
    X = np.array([[_csv_number(cells[j], names[j], line, file) for j in columns] for line, cells in rows], np.float64)
    feature_names = tuple(names[j] for j in columns)

    targets = [cells[t] for _, cells in rows]
    parsed: list[float | None] = []
    for cell in targets:
        try:
            parsed.append(float(cell))
        except ValueError:
            parsed.append(None)
    words = [i for i, value in enumerate(parsed) if value is None]
    numeric = {value for value in parsed if value is not None}
    if words:
        if len(numeric) > MAX_INTEGER_CLASSES:  # a numeric column with a stray word: a typo, not a class
            _csv_number(targets[words[0]], target, rows[words[0]][0], file)
        class_names = tuple(sorted(set(targets)))
        if len(class_names) > MAX_CSV_CLASSES:
            raise ExperimentError(
                "data.target", f"column '{target}' of {file} has {len(class_names):,} distinct values; a class "
                f"target may have at most {MAX_CSV_CLASSES} classes (a column of measurements to predict is a "
                "regression target: it must hold numbers only)")
        index = {name: i for i, name in enumerate(class_names)}
        y = np.array([index[v] for v in targets], np.int64)
    else:
        for i, value in enumerate(parsed):
            if not math.isfinite(value):
                _csv_number(targets[i], target, rows[i][0], file)
        values = np.array(parsed, np.float64)
        unique = np.unique(values)
        if not np.all(unique == np.round(unique)) or len(unique) > MAX_INTEGER_CLASSES:
            return RawData(X, values, feature_names, (), "regression")
        y = np.searchsorted(unique, values).astype(np.int64)
        class_names = tuple(str(int(u)) for u in unique)
    if len(class_names) < 2:
        raise ExperimentError(
            "data.target", f"column '{target}' has one class ({class_names[0]!r}); classification needs at least 2"
        )
    return RawData(X, y, feature_names, class_names, "classification")
