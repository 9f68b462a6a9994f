"""Data sets: synthetic 2-D sets, regression sets, scikit-learn's bundled sets and CSV files, in one registry
(the generators live in ``sources``, the CSV reader in ``csv_file``), checked, split and standardised here.

``load_dataset(spec)`` turns a ``DataSpec`` into standardised float32 train/validation arrays. The same spec gives
bit-identical arrays: every random draw is seeded by ``spec.seed``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from visualizer.core.data.csv_file import read_csv
from visualizer.core.data.features import FEATURES, PLAIN, feature_columns, is_plain
from visualizer.core.data.sources import (
    RawData,
    blobs,
    bundled,
    circles,
    gauss,
    moons,
    plane,
    sine,
    spiral,
    xor,
)
from visualizer.core.errors import ExperimentError, choices


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
    features: tuple[str, ...] = ()  # the derived input features (empty: the columns as they are)
    plane_train: np.ndarray | None = None  # with features: the samples' two coordinates, standardised
    plane_val: np.ndarray | None = None
    plane_mean: np.ndarray | None = None
    plane_std: np.ndarray | None = None

    @property
    def n_plane(self) -> int:
        """Coordinates of the data's own space: 2 for a 2-D set whatever its features, else the input columns."""
        return 2 if self.plane_train is not None else self.n_features

    def plane_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Train and validation samples in the data's own space (what the boundary view draws), standardised."""
        if self.plane_train is None:
            return self.X_train, self.X_val
        return self.plane_train, self.plane_val

    def plane_inputs(self, points: np.ndarray) -> np.ndarray:
        """The network's inputs (float32) at points of the plane_points' space: through the same features and
        standardisation as the samples. Without features the points are the inputs."""
        if self.plane_train is None:
            return np.asarray(points, np.float32)
        raw = np.asarray(points, np.float64) * self.plane_std + self.plane_mean
        return ((feature_columns(raw, self.features) - self.mean) / self.std).astype(np.float32)

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


# ---------------------------------------------------------------- registry

_SN = ("samples", "noise")
_SNC = ("samples", "noise", "classes")
_CLS, _REG = "classification", "regression"
_cancer = bundled("breast_cancer")
DATASETS: dict[str, DatasetInfo] = {
    row[0]: DatasetInfo(*row)
    for row in (
        ("moons", "Two moons", "synthetic2d", _CLS, _SN, "Two interleaving half circles (make_moons).", moons),
        ("circles", "Circles", "synthetic2d", _CLS, _SN, "A circle inside a circle twice its size.", circles),
        ("xor", "Exclusive or", "synthetic2d", _CLS, _SN, "The class is whether x1 and x2 share a sign.", xor),
        ("gauss", "Two Gaussians", "synthetic2d", _CLS, _SN, "Two round clusters at (1, 1) and (-1, -1).", gauss),
        ("spiral", "Spiral", "synthetic2d", _CLS, _SNC, "One interleaved spiral arm per class.", spiral),
        ("blobs", "Blobs", "synthetic2d", _CLS, _SNC, "One Gaussian blob per class (make_blobs).", blobs),
        ("sine", "Sine", "regression", _REG, _SN, "y = sin(x) plus noise, x in [-pi, pi].", sine),
        ("plane", "Plane", "regression", _REG, _SN, "y = x1 - 2 x2 plus noise, x in [-1, 1]^2.", plane),
        ("iris", "Iris", "bundled", _CLS, (), "150 iris flowers: 4 measurements, 3 species.", bundled("iris")),
        ("wine", "Wine", "bundled", _CLS, (), "178 wines: 13 chemical measures, 3 cultivars.", bundled("wine")),
        ("breast_cancer", "Breast cancer", "bundled", _CLS, (), "569 tumours: 30 features, 2 diagnoses.", _cancer),
        ("digits", "Digits", "bundled", _CLS, (), "1797 handwritten digits: 8x8 pixels each.", bundled("digits")),
        ("csv", "CSV file", "csv", "auto", ("path", "target"), "Your table: number columns and a target.", read_csv),
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
    check_features(spec)
    if info.family == "csv":
        raw = raw_arrays(spec, base_dir)
        _plan_split(len(raw.y), spec.val_fraction, _class_counts(raw), raw.class_names)
    elif "samples" in info.uses:  # synthetic sets are balanced: class c holds every k-th sample
        k = spec.classes if "classes" in info.uses else (2 if info.task == "classification" else 0)
        counts = np.bincount(np.arange(spec.samples) % k) if k else np.zeros(0, np.int64)
        _plan_split(spec.samples, spec.val_fraction, counts, tuple(str(c) for c in range(k)))


def raw_arrays(spec: Any, base_dir: Path | None = None) -> RawData:
    """The whole data set before splitting and standardising: (X float64, y, feature_names, class_names, task),
    with the spec's input features computed from the two coordinates (which stay as ``plane``). Every consumer
    (training, replay, landscape, compression, cross-validation, export) builds its inputs through here."""
    raw = _check_fields(spec).make(spec, base_dir)
    names = tuple(getattr(spec, "features", PLAIN))
    if is_plain(names):
        return raw
    if raw.X.shape[1] != 2:
        raise ExperimentError("data.features", f"input features are for data sets with 2 features; "
                              f"'{spec.name}' has {raw.X.shape[1]}; use {list(PLAIN)}")
    return raw._replace(X=feature_columns(raw.X, names), feature_names=names, plane=raw.X)


def check_features(spec: Any) -> None:
    """Refuse input features on a data set known not to be 2-D (a CSV file is checked when it is read)."""
    names = tuple(getattr(spec, "features", PLAIN))
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ExperimentError("data.features", f"{unknown[0]!r} is not known; allowed: {choices(FEATURES)}")
    info = DATASETS[spec.name]
    if is_plain(names) or info.family == "csv":
        return
    small = replace(spec, samples=LIMITS["samples"][0]) if "samples" in info.uses else spec
    width = info.make(small, None).X.shape[1]
    if width != 2:
        raise ExperimentError("data.features", f"input features are for data sets with 2 features; "
                              f"'{spec.name}' has {width}; use {list(PLAIN)}")


def _class_counts(raw: RawData) -> np.ndarray:
    k = len(raw.class_names)
    return np.bincount(raw.y, minlength=k) if k else np.zeros(0, np.int64)


def _split(raw: RawData, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and validation rows of a seeded split (stratified where it can be)."""
    k = len(raw.class_names)
    n_val, stratified = _plan_split(len(raw.y), val_fraction, _class_counts(raw), raw.class_names)
    rows = np.arange(len(raw.y))
    if n_val == 0:
        return rows, rows[:0]
    from sklearn.model_selection import train_test_split  # here: the training process never loads scikit-learn

    train_idx, val_idx, y_train, _y_val = train_test_split(
        rows, raw.y, test_size=n_val, random_state=seed, stratify=raw.y if stratified else None
    )
    missing = sorted(set(range(k)) - set(np.unique(y_train).tolist()))
    if missing:  # stratified but very unbalanced: rounding gave a small class no training sample
        raise ExperimentError(
            "data.val_fraction", f"{val_fraction!r} leaves class '{raw.class_names[missing[0]]}' out of training; "
            "lower it or add samples of that class",
        )  # fmt: skip
    return train_idx, val_idx


def standardise(X_train: np.ndarray, X_val: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scale both parts with the training part's mean and std (1.0 for constant columns): (train, val, mean, std)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 1e-10 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return (X_train - mean) / std, (X_val - mean) / std, mean, std


def load_dataset(spec: Any, base_dir: Path | None = None) -> Dataset:
    """Build the data set a spec describes: seeded split, then standardisation with the training statistics."""
    raw = raw_arrays(spec, base_dir)
    return dataset_from_split(spec.name, raw, *_split(raw, spec.val_fraction, spec.seed))


def dataset_from_split(name: str, raw: RawData, train_idx: np.ndarray, val_idx: np.ndarray) -> Dataset:
    """A Dataset from one split of raw arrays' rows (a fold, say), standardised with its training part's
    statistics; the plane of a set with input features is standardised with its own."""
    X_train, X_val, mean, std = standardise(raw.X[train_idx], raw.X[val_idx])
    y_train, y_val = raw.y[train_idx], raw.y[val_idx]
    plane: dict = {}
    if raw.plane is not None:
        p_train, p_val, p_mean, p_std = standardise(raw.plane[train_idx], raw.plane[val_idx])
        plane = dict(features=raw.feature_names, plane_train=np.ascontiguousarray(p_train, np.float32),
                     plane_val=np.ascontiguousarray(p_val, np.float32), plane_mean=p_mean, plane_std=p_std)
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
        **plane,
    )
