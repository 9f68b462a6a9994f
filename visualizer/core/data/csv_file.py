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
from visualizer.core.errors import ExperimentError, VisualizerError, choices, shown
from visualizer.core.files import MIB, read_text_bounded

MIN_CSV_ROWS = 10
#: a data table the app trains on is far smaller; a bigger file is refused before it is read
MAX_CSV_BYTES = 256 * MIB
MAX_INTEGER_CLASSES = 20  # an integer CSV target with more distinct values than this is a regression target
#: the most classes a CSV target may have: each one is an output of the network, a row and a column of the confusion
#: matrix (1,500 text classes made a 2.25-million-cell matrix that took `run` down)
MAX_CSV_CLASSES = 100


def resolve_path(path: str, base_dir: Path | None = None) -> Path:
    """The absolute path of a data file: relative paths are taken from ``base_dir`` (the experiment's folder)."""
    try:
        p = Path(path).expanduser()
    except RuntimeError:  # "~" without a home folder: the name as written
        p = Path(path)
    if not p.is_absolute():
        p = Path(base_dir if base_dir is not None else Path.cwd()) / p
    return p.absolute()


def with_absolute_path(spec: Any, base_dir: Path | None = None) -> Any:
    """The data spec with a CSV file's path made absolute (and canonical) against ``base_dir`` (the experiment's
    folder; None: the working directory): what a run file records, so that the run finds its data from anywhere."""
    if spec.name != "csv" or not isinstance(spec.path, str) or not spec.path.strip():
        return spec
    return replace(spec, path=str(resolve_path(spec.path.strip(), base_dir).resolve()))


def _name(column: str) -> str:
    """A column as messages name it: 'x', or escaped when it holds unprintable characters or is very long."""
    return f"'{column}'" if column.isprintable() and len(column) <= 60 else shown(column)


def _csv_number(cell: str, column: str, line: int, file: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ExperimentError("data.path", f"{file} line {line}, column {_name(column)}: {shown(cell)} is not a "
                              "number") from None
    if not math.isfinite(value):
        raise ExperimentError("data.path", f"{file} line {line}, column {_name(column)}: {shown(cell)} is not a "
                              "finite number")
    return value


def _read_text(spec: Any, base_dir: Path | None) -> tuple[Path, str]:
    """The CSV file's text, read bounded: a FIFO, a device, a folder or a file over MAX_CSV_BYTES is a message."""
    if not isinstance(spec.path, str) or not spec.path.strip():
        raise ExperimentError("data.path", "required when data.name is 'csv'")
    path = resolve_path(spec.path.strip(), base_dir)
    try:
        return path, read_text_bounded(path, MAX_CSV_BYTES, "CSV file")
    except VisualizerError as error:
        text = str(error)
        if "no such CSV file" in text:
            text = f"file not found: {path}"
        raise ExperimentError("data.path", text) from None


def _rows(file: str, text: str, delimiter: str):
    """(line number, stripped cells) of each non-blank row; a quoted cell running over lines (an unbalanced quote)
    is refused with the line it starts on and its column."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            if reader.line_num != start:
                j = next((j for j, c in enumerate(row) if "\n" in c or "\r" in c), len(row) - 1)
                raise ExperimentError("data.path", f"{file} line {start}, column {j + 1}: a quoted cell runs on to "
                                      f"line {reader.line_num}; is a quote (\") missing?")
            start = reader.line_num + 1
            if any(c.strip() for c in row):
                yield reader.line_num, [c.strip() for c in row]
    except csv.Error as error:
        raise ExperimentError("data.path", f"{file} line {reader.line_num}: {error}") from None


def _read_table(path: Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and the (line number, stripped cells) of each non-blank row."""
    file = path.name
    first = next((line for line in text.splitlines() if line.strip()), "")
    rows = list(_rows(file, text, max((",", ";", "\t"), key=first.count)))
    if not rows:
        raise ExperimentError("data.path", f"{path} is empty")
    names = rows[0][1]
    seen: set[str] = set()
    for j, name in enumerate(names):  # a set, not names.index: 200,000 columns are checked in linear time
        if not name:
            raise ExperimentError("data.path", f"{file} header: column {j + 1} has no name")
        if name in seen:
            raise ExperimentError("data.path", f"{file} header: column {_name(name)} appears twice")
        seen.add(name)
    for line, cells in rows[1:]:
        if len(cells) != len(names):
            problem = f"line {line} has {len(cells)} cells but the header has {len(names)}"
            raise ExperimentError("data.path", f"{file} {problem}")
        for j, cell in enumerate(cells):
            if not cell:
                raise ExperimentError("data.path", f"{file} line {line}, column {_name(names[j])}: the cell is empty")
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
        raise ExperimentError("data.target", f"{shown(spec.target)} is not a column name")
    target = spec.target.strip() or names[-1]
    if target not in names:
        raise ExperimentError("data.target", f"{_name(target)} is not a column of {file}; use {choices(names)}")
    if len(names) < 2:
        raise ExperimentError("data.path", f"{file} needs at least one feature column besides the target "
                              f"{_name(target)}")
    t = names.index(target)
    columns = [j for j in range(len(names)) if j != t]
    X = np.array([[_csv_number(cells[j], names[j], line, file) for j in columns] for line, cells in rows], np.float64)
    feature_names = tuple(names[j] for j in columns)
    _check_magnitudes(X, feature_names, file)

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
            _check_target_magnitude(values, target, file)
            return RawData(X, values, feature_names, (), "regression")
        y = np.searchsorted(unique, values).astype(np.int64)
        class_names = tuple(str(int(u)) for u in unique)
    if len(class_names) < 2:
        raise ExperimentError(
            "data.target", f"column '{target}' has one class ({class_names[0]!r}); classification needs at least 2"
        )
    return RawData(X, y, feature_names, class_names, "classification")


def _check_magnitudes(X: np.ndarray, names: tuple[str, ...], file: str) -> None:
    """Refuse a feature column whose standardisation would overflow: any part of n rows of values within ±m has a
    mean and a variance below n·(2m)² (the training part, a fold), which must stay a finite float64."""
    if not X.size:
        return
    largest = np.abs(X).max(axis=0)
    limit = math.sqrt(np.finfo(np.float64).max / (4.0 * len(X)))
    bad = np.flatnonzero(largest > limit)
    if bad.size:
        j = int(bad[0])
        raise ExperimentError("data.path", f"{file} column {_name(names[j])}: values as large as {largest[j]:.3g} "
                              f"overflow when the column is standardised; rescale it (values within ±{limit:.2g} "
                              "work)")


def _check_target_magnitude(y: np.ndarray, target: str, file: str) -> None:
    """Refuse a regression target whose squared error over the set would overflow the 32-bit floats training uses."""
    largest = float(np.abs(y).max()) if y.size else 0.0
    limit = math.sqrt(float(np.finfo(np.float32).max) / (4.0 * max(len(y), 1)))
    if largest > limit:
        raise ExperimentError("data.target", f"{file} column {_name(target)}: target values as large as "
                              f"{largest:.3g} overflow the loss in 32-bit floats; rescale the column (values within "
                              f"±{limit:.2g} work)")


def csv_columns(path: Path) -> list[str]:
    """The column names in a CSV file's header, split the way the data loader splits them; [] if unreadable."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for line in fh:
                if line.strip():
                    delimiter = max((",", ";", "\t"), key=line.count)
                    return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return []
