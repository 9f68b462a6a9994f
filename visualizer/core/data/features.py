"""Input features of a 2-D data set, as TensorFlow Playground offers them: x1, x2, their squares, their product and
their sines, computed from a sample's two coordinates before standardisation.

``FEATURES`` is the registry (name as the experiment file writes it, label, formula); ``feature_columns`` turns
(n, 2) points into the chosen columns. The data set keeps the two coordinates as its *plane*, the picture the
boundary view and the neuron pictures draw, and maps plane points to network inputs through the same function.
numpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from visualizer.core.errors import ExperimentError, choices, shown


@dataclass(frozen=True)
class Feature:
    """One input feature: ``name`` as the experiment file writes it, ``label`` as the window shows it, ``formula``
    for tooltips, and ``compute(x1, x2)`` on arrays of raw coordinates."""

    name: str
    label: str
    formula: str
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("x1", "x₁", "the first coordinate", lambda a, b: a),
    Feature("x2", "x₂", "the second coordinate", lambda a, b: b),
    Feature("x1^2", "x₁²", "the first coordinate squared", lambda a, b: a * a),
    Feature("x2^2", "x₂²", "the second coordinate squared", lambda a, b: b * b),
    Feature("x1*x2", "x₁·x₂", "the product of the two coordinates", lambda a, b: a * b),
    Feature("sin x1", "sin x₁", "the sine of the first coordinate", lambda a, b: np.sin(a)),
    Feature("sin x2", "sin x₂", "the sine of the second coordinate", lambda a, b: np.sin(b)),
)}

#: the features a data set has when the experiment chooses none: its two coordinates as they are
PLAIN = ("x1", "x2")


def is_plain(names) -> bool:
    """Whether ``names`` are the two coordinates as they are (then the inputs are the data set's own columns)."""
    return tuple(names) == PLAIN


def feature_columns(points: np.ndarray, names) -> np.ndarray:
    """The chosen features of (n, 2) points, one column per name in order, float64."""
    points = np.asarray(points, np.float64)
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([FEATURES[name].compute(x1, x2) for name in names], axis=1)


def parse_features(value) -> tuple[str, ...]:
    """The experiment file's ``data.features``: a non-empty list of distinct registered names; ExperimentError
    naming the field and the allowed names otherwise."""
    allowed = f"allowed: {choices(FEATURES)}"
    if not isinstance(value, list) or not value:
        raise ExperimentError("data.features", f"{shown(value)} is not a list of features such as "
                              f"[\"x1\", \"x2\", \"x1^2\"]; {allowed}")
    for name in value:
        if not isinstance(name, str) or name not in FEATURES:
            raise ExperimentError("data.features", f"{shown(name)} is not known; {allowed}")
    if len(set(value)) != len(value):
        raise ExperimentError("data.features", f"{shown(value)} names a feature twice; give each once")
    return tuple(value)


def plane_size(n_features: int, names) -> int:
    """Coordinates of the space a run's pictures are drawn over: 2 for a 2-D set with input features (however many
    columns they make), else the network's input count. For records (RunStarted) that hold only the latter."""
    return n_features if not names or is_plain(names) else 2
