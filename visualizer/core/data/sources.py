"""Where the built-in data sets come from: synthetic 2-D classes, 1-D and 2-D regression, scikit-learn's bundled
sets. Each generator turns a data spec into RawData (the whole set, before the split); every draw is seeded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

XOR_PADDING = 0.06  # TF Playground keeps XOR points this far (as a share of the range) from the axes


class RawData(NamedTuple):
    """A whole data set before the split: ``X`` float64 (n, d), ``y`` int64 classes or float64 targets."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    task: str
    plane: np.ndarray | None = None  # the two coordinates the features were computed from (None: X is the plane)


def _two_d(X: np.ndarray, y: np.ndarray, k: int) -> RawData:
    names = tuple(str(c) for c in range(k))
    return RawData(np.asarray(X, np.float64), np.asarray(y, np.int64), ("x1", "x2"), names, "classification")


def moons(spec: Any, base_dir: Path | None) -> RawData:
    from sklearn import datasets as skd  # here: the training process never loads scikit-learn

    X, y = skd.make_moons(spec.samples, noise=spec.noise, random_state=spec.seed)
    return _two_d(X, y, 2)


def circles(spec: Any, base_dir: Path | None) -> RawData:
    from sklearn import datasets as skd  # here: the training process never loads scikit-learn

    X, y = skd.make_circles(spec.samples, noise=spec.noise, factor=0.5, random_state=spec.seed)
    return _two_d(X, y, 2)


def xor(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    n = spec.samples
    y = rng.permutation(np.arange(n) % 2)  # 1: x1 and x2 have the same sign
    magnitude = rng.uniform(0.0, 1.0, (n, 2)) + XOR_PADDING
    first = rng.choice([-1.0, 1.0], n)
    second = np.where(y == 1, first, -first)
    X = magnitude * np.stack([first, second], axis=1) + rng.normal(0.0, 0.5 * spec.noise, (n, 2))
    return _two_d(X, y, 2)


def gauss(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    n = spec.samples
    y = rng.permutation(np.arange(n) % 2)
    centres = np.array([[1.0, 1.0], [-1.0, -1.0]])
    X = centres[y] + rng.normal(0.0, 0.3 + spec.noise, (n, 2))
    return _two_d(X, y, 2)


def spiral(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    n, k = spec.samples, spec.classes
    y = np.arange(n) % k
    per_class = np.array([len(range(c, n, k)) for c in range(k)])
    r = (np.arange(n) // k) / per_class[y]  # 0 .. <1 along each arm
    t = 1.75 * 2.0 * np.pi * r + 2.0 * np.pi * y / k
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.normal(0.0, 0.1 * spec.noise, (n, 2))
    order = rng.permutation(n)
    return _two_d(X[order], y[order], k)


def blobs(spec: Any, base_dir: Path | None) -> RawData:
    from sklearn import datasets as skd  # here: the training process never loads scikit-learn

    std = 0.5 + 2.5 * spec.noise  # 1.0 (make_blobs default) at the default noise 0.2
    X, y = skd.make_blobs(spec.samples, n_features=2, centers=spec.classes, cluster_std=std, random_state=spec.seed)
    return _two_d(X, y, spec.classes)


def sine(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    x = rng.uniform(-np.pi, np.pi, (spec.samples, 1))
    y = np.sin(x[:, 0]) + spec.noise * rng.normal(size=spec.samples)
    return RawData(x, y, ("x",), (), "regression")


def plane(spec: Any, base_dir: Path | None) -> RawData:
    rng = np.random.default_rng(spec.seed)
    X = rng.uniform(-1.0, 1.0, (spec.samples, 2))
    y = X[:, 0] - 2.0 * X[:, 1] + spec.noise * rng.normal(size=spec.samples)
    return RawData(X, y, ("x1", "x2"), (), "regression")


def bundled(name: str) -> Callable[[Any, Path | None], RawData]:
    def make(spec: Any, base_dir: Path | None) -> RawData:
        from sklearn import datasets as skd  # here: the training process never loads scikit-learn

        bunch = getattr(skd, f"load_{name}")()  # bundled with scikit-learn: no download
        features, classes = tuple(map(str, bunch.feature_names)), tuple(map(str, bunch.target_names))
        X, y = np.asarray(bunch.data, np.float64), np.asarray(bunch.target, np.int64)
        return RawData(X, y, features, classes, "classification")

    return make
