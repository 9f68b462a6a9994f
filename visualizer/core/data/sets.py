"""Data sets: synthetic 2-D sets, regression sets, scikit-learn's bundled sets and CSV files, in one registry.

``load_dataset(spec)`` turns a ``DataSpec`` into standardised float32 train/validation arrays. The same spec gives
bit-identical arrays: every random draw is seeded by ``spec.seed``.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

from visualizer.core.errors import ExperimentError, choices

MIN_CSV_ROWS = 10
MAX_INTEGER_CLASSES = 20  # an integer CSV target with more distinct values than this is a regression target
XOR_PADDING = 0.06  # TF Playground keeps XOR points this far (as a share of the range) from the axes


class RawData(NamedTuple):
    """A whole data set before the split: ``X`` float64 (n, d), ``y`` int64 classes or float64 targets."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    task: str


@dataclass(frozen=True)
class DatasetInfo:
    """A registered data set and what the data panel needs to offer it."""

    name: str
    label: str
    family: str  # "synthetic2d", "regression", "bundled" or "csv"
    task: str  # "classification", "regression" or "auto" (decided when the file is read)
    uses: tuple[str, ...]  # the DataSpec fields that apply, besides val_fraction and seed
    description: str
    make: Callable[[Any, Path | None], RawData]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Standardised train/validation arrays, ready for a model."""

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes; 0 for regression."""
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        """Number of input features (columns of X)."""
        return int(self.X_train.shape[1])

    @property
    def n_samples(self) -> int:
        """Train plus validation samples."""
        return int(self.X_train.shape[0] + self.X_val.shape[0])


# ---------------------------------------------------------------- generators


def _two_d(X: np.ndarray, y: np.ndarray, k: int) -> RawData:
    names = tuple(str(c) for c in range(k))
    return RawData(np.asarray(X, np.float64), np.asarray(y, np.int64), ("x1", "x2"), names, "classification")


def _moons(spec: Any, base_dir: Path | None) -> RawData:
    X, y = skd.make_moons(spec.samples, noise=spec.noise, random_state=spec.seed)
    return _two_d(X, y, 2)


def _circles(spec: Any, base_dir: Path | None) -> RawData:
    X, y = skd.make_circles(spec.samples, noise=spec.noise, factor=0.5, random_state=spec.seed)
    return _two_d(X, y, 2)


def _xor(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    n = spec.samples
    y = rng.permutation(np.arange(n) % 2)  # 1: x1 and x2 have the same sign
    magnitude = rng.uniform(0.0, 1.0, (n, 2)) + XOR_PADDING
    first = rng.choice([-1.0, 1.0], n)
    second = np.where(y == 1, first, -first)
    X = magnitude * np.stack([first, second], axis=1) + rng.normal(0.0, 0.5 * spec.noise, (n, 2))
    return _two_d(X, y, 2)


def _gauss(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    n = spec.samples
    y = rng.permutation(np.arange(n) % 2)
    centres = np.array([[1.0, 1.0], [-1.0, -1.0]])
    X = centres[y] + rng.normal(0.0, 0.3 + spec.noise, (n, 2))
    return _two_d(X, y, 2)


def _spiral(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    n, k = spec.samples, spec.classes
    y = np.arange(n) % k
    per_class = np.array([len(range(c, n, k)) for c in range(k)])
    r = (np.arange(n) // k) / per_class[y]  # 0 .. <1 along each arm
    t = 1.75 * 2.0 * np.pi * r + 2.0 * np.pi * y / k
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.normal(0.0, 0.1 * spec.noise, (n, 2))
    order = rng.permutation(n)
    return _two_d(X[order], y[order], k)


def _blobs(spec: Any, base_dir: Path | None) -> RawData:
    std = 0.5 + 2.5 * spec.noise  # 1.0 (make_blobs default) at the default noise 0.2
    X, y = skd.make_blobs(spec.samples, n_features=2, centers=spec.classes, cluster_std=std, random_state=spec.seed)
    return _two_d(X, y, spec.classes)


def _sine(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    x = rng.uniform(-np.pi, np.pi, (spec.samples, 1))
    y = np.sin(x[:, 0]) + spec.noise * rng.normal(size=spec.samples)
    return RawData(x, y, ("x",), (), "regression")


def _plane(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    X = rng.uniform(-1.0, 1.0, (spec.samples, 2))
    y = X[:, 0] - 2.0 * X[:, 1] + spec.noise * rng.normal(size=spec.samples)
    return RawData(X, y, ("x1", "x2"), (), "regression")


def _bundled(name: str) -> Callable[[Any, Path | None], RawData]:
    def make(spec: Any, base_dir: Path | None) -> RawData:
        bunch = getattr(skd, f"load_{name}")()  # bundled with scikit-learn: no download
        features, classes = tuple(map(str, bunch.feature_names)), tuple(map(str, bunch.target_names))
        X, y = np.asarray(bunch.data, np.float64), np.asarray(bunch.target, np.int64)
        return RawData(X, y, features, classes, "classification")

    return make


# ---------------------------------------------------------------- CSV


def resolve_path(path: str, base_dir: Path | None = None) -> Path:
    """The absolute path of a data file: relative paths are taken from ``base_dir`` (the experiment's folder)."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = Path(base_dir if base_dir is not None else Path.cwd()) / p
    return p.absolute()


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


def _read_csv(spec: Any, base_dir: Path | None) -> RawData:
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


# ---------------------------------------------------------------- registry

_SN = ("samples", "noise")
_SNC = ("samples", "noise", "classes")
_CLS, _REG = "classification", "regression"
_cancer = _bundled("breast_cancer")
DATASETS: dict[str, DatasetInfo] = {
    row[0]: DatasetInfo(*row)
    for row in (
        ("moons", "Two moons", "synthetic2d", _CLS, _SN, "Two interleaving half circles (make_moons).", _moons),
        ("circles", "Circles", "synthetic2d", _CLS, _SN, "A circle inside a circle twice its size.", _circles),
        ("xor", "Exclusive or", "synthetic2d", _CLS, _SN, "The class is whether x1 and x2 share a sign.", _xor),
        ("gauss", "Two Gaussians", "synthetic2d", _CLS, _SN, "Two round clusters at (1, 1) and (-1, -1).", _gauss),
        ("spiral", "Spiral", "synthetic2d", _CLS, _SNC, "One interleaved spiral arm per class.", _spiral),
        ("blobs", "Blobs", "synthetic2d", _CLS, _SNC, "One Gaussian blob per class (make_blobs).", _blobs),
        ("sine", "Sine", "regression", _REG, _SN, "y = sin(x) plus noise, x in [-pi, pi].", _sine),
        ("plane", "Plane", "regression", _REG, _SN, "y = x1 - 2 x2 plus noise, x in [-1, 1]^2.", _plane),
        ("iris", "Iris", "bundled", _CLS, (), "150 iris flowers: 4 measurements, 3 species.", _bundled("iris")),
        ("wine", "Wine", "bundled", _CLS, (), "178 wines: 13 chemical measures, 3 cultivars.", _bundled("wine")),
        ("breast_cancer", "Breast cancer", "bundled", _CLS, (), "569 tumours: 30 features, 2 diagnoses.", _cancer),
        ("digits", "Digits", "bundled", _CLS, (), "1797 handwritten digits: 8x8 pixels each.", _bundled("digits")),
        ("csv", "CSV file", "csv", "auto", ("path", "target"), "Your table: number columns and a target.", _read_csv),
    )
}

# ---------------------------------------------------------------- validation and splitting

LIMITS: dict[str, tuple[float, float]] = {  # inclusive ranges of the DataSpec fields
    "samples": (10, 100_000),
    "noise": (0.0, 5.0),
    "classes": (2, 10),
    "val_fraction": (0.0, 0.9),
    "seed": (0, 2**32 - 1),  # scikit-learn's random_state limit
}
_INTEGER_FIELDS = ("samples", "classes", "seed")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_range(spec: Any, field: str) -> None:
    value = getattr(spec, field)
    low, high = LIMITS[field]
    integer = field in _INTEGER_FIELDS
    if not (_is_int(value) if integer else _is_real(value)) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise ExperimentError(f"data.{field}", f"{value!r} is not allowed; use {kind} from {low} to {high}")


def _check_fields(spec: Any) -> DatasetInfo:
    """Check everything that needs no data; return the registry entry."""
    name = spec.name
    if not isinstance(name, str) or name not in DATASETS:
        raise ExperimentError("data.name", f"unknown data set {name!r}; use {choices(DATASETS)}")
    info = DATASETS[name]
    for field in ("val_fraction", "seed", *(f for f in ("samples", "noise", "classes") if f in info.uses)):
        _check_range(spec, field)
    return info


def _plan_split(n: int, val_fraction: float, counts: np.ndarray, class_names: tuple[str, ...]) -> tuple[int, bool]:
    """The validation size and whether to stratify; raises rather than let training miss a class or be empty."""
    n_val = math.ceil(round(val_fraction * n, 9))
    k = len(counts)
    if n - n_val < max(1, k):
        need = f"one per class ({k})" if k else "1"
        raise ExperimentError(
            "data.val_fraction", f"{val_fraction!r} leaves {n - n_val} of {n} samples for training, at least {need} "
            "is needed; lower it or use more samples",
        )  # fmt: skip
    if n_val == 0 or k == 0:
        return n_val, False
    if counts.min() >= 2 and n_val >= k:
        return n_val, True
    small = int(np.argmin(counts))
    if n_val >= counts[small]:  # unstratified, the smallest class could land wholly in validation
        name, count = class_names[small], counts[small]
        raise ExperimentError(
            "data.val_fraction", f"{val_fraction!r} could leave class '{name}' (samples: {count}) out of training; "
            f"stratifying needs 2 samples per class and {k} for validation",
        )  # fmt: skip
    return n_val, False


def validate_data_spec(spec: Any, base_dir: Path | None = None) -> None:
    """Raise ExperimentError for a bad data spec; generates nothing, but reads a CSV file to check it."""
    info = _check_fields(spec)
    if info.family == "csv":
        raw = info.make(spec, base_dir)
        _plan_split(len(raw.y), spec.val_fraction, _class_counts(raw), raw.class_names)
    elif "samples" in info.uses:  # synthetic sets are balanced: class c holds every k-th sample
        k = spec.classes if "classes" in info.uses else (2 if info.task == "classification" else 0)
        counts = np.bincount(np.arange(spec.samples) % k) if k else np.zeros(0, np.int64)
        _plan_split(spec.samples, spec.val_fraction, counts, tuple(str(c) for c in range(k)))


def raw_arrays(spec: Any, base_dir: Path | None = None) -> RawData:
    """The whole data set before splitting and standardising: (X float64, y, feature_names, class_names, task)."""
    return _check_fields(spec).make(spec, base_dir)


def _class_counts(raw: RawData) -> np.ndarray:
    k = len(raw.class_names)
    return np.bincount(raw.y, minlength=k) if k else np.zeros(0, np.int64)


def _split(raw: RawData, val_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    k = len(raw.class_names)
    n_val, stratified = _plan_split(len(raw.y), val_fraction, _class_counts(raw), raw.class_names)
    if n_val == 0:
        return raw.X, raw.X[:0], raw.y, raw.y[:0]
    X_train, X_val, y_train, y_val = train_test_split(
        raw.X, raw.y, test_size=n_val, random_state=seed, stratify=raw.y if stratified else None
    )
    missing = sorted(set(range(k)) - set(np.unique(y_train).tolist()))
    if missing:  # stratified but very unbalanced: rounding gave a small class no training sample
        raise ExperimentError(
            "data.val_fraction", f"{val_fraction!r} leaves class '{raw.class_names[missing[0]]}' out of training; "
            "lower it or add samples of that class",
        )  # fmt: skip
    return X_train, X_val, y_train, y_val


def standardise(X_train: np.ndarray, X_val: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scale both parts with the training part's mean and std (1.0 for constant columns): (train, val, mean, std)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 1e-10 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return (X_train - mean) / std, (X_val - mean) / std, mean, std


def load_dataset(spec: Any, base_dir: Path | None = None) -> Dataset:
    """Build the data set a spec describes: seeded split, then standardisation with the training statistics."""
    raw = raw_arrays(spec, base_dir)
    X_train, X_val, y_train, y_val = _split(raw, spec.val_fraction, spec.seed)
    return dataset_from_split(spec.name, raw, X_train, X_val, y_train, y_val)


def dataset_from_split(name: str, raw: RawData, X_train: np.ndarray, X_val: np.ndarray, y_train: np.ndarray,
                       y_val: np.ndarray) -> Dataset:
    """A Dataset from one split of raw arrays (a fold, say), standardised with its training part's statistics."""
    X_train, X_val, mean, std = standardise(X_train, X_val)
    y_type = np.int64 if raw.task == "classification" else np.float32
    return Dataset(
        name=name,
        task=raw.task,
        X_train=np.ascontiguousarray(X_train, np.float32),
        y_train=np.ascontiguousarray(y_train, y_type),
        X_val=np.ascontiguousarray(X_val, np.float32),
        y_val=np.ascontiguousarray(y_val, y_type),
        feature_names=raw.feature_names,
        class_names=raw.class_names,
        mean=mean,
        std=std,
    )
