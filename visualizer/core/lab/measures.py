"""The lab's measures of one run (sharpness, training health) as series by name and layer: what the views, the
CSV export and the replay read, live or from a run file's measures table."""

from __future__ import annotations

import numpy as np

#: the measures' names (torch-free here, so that the window's views can name them before torch is imported)
SHARPNESS, PRECONDITIONED, THRESHOLD = "sharpness", "preconditioned_sharpness", "sharpness_threshold"
GRAD_NORM, WEIGHT_NORM, UPDATE_RATIO = "grad_norm", "weight_norm", "update_ratio"
DEAD_RELU, SATURATED = "dead_relu_fraction", "saturated_fraction"


class Measures:
    """Every (step, name, layer, value) row of a run, grouped into series; ``up_to(step)`` is what a replay showed
    at that step."""

    def __init__(self, rows=()) -> None:
        self._series: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        self._arrays: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.rows = 0
        self.extend(rows)

    def add(self, step: int, name: str, layer: str, value: float) -> None:
        steps, values = self._series.setdefault((name, layer), ([], []))
        steps.append(int(step))
        values.append(float(value))
        self._arrays.pop((name, layer), None)
        self.rows += 1

    def extend(self, rows) -> None:
        for step, name, layer, value in rows:
            self.add(step, name, layer, value)

    def add_event(self, event) -> None:
        """Take a ``Measured`` event."""
        for name, layer, value in event.rows:
            self.add(event.step, name, layer, value)

    def __len__(self) -> int:
        return self.rows

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._series})

    def layers(self, name: str) -> list[str]:
        """The layers measured under ``name``, in the order they first came."""
        return [layer for n, layer in self._series if n == name]

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self._series)

    def series(self, name: str, layer: str = "") -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one measure (empty arrays when it was never measured)."""
        key = (name, layer)
        if key not in self._arrays:
            steps, values = self._series.get(key, ([], []))
            self._arrays[key] = (np.asarray(steps, np.int64), np.asarray(values, np.float64))
        return self._arrays[key]

    def up_to(self, step: float) -> Measures:
        """The rows at or before ``step``."""
        out = Measures()
        for key, (steps, values) in self._series.items():
            n = int(np.searchsorted(self.series(*key)[0], step, side="right"))
            if n:
                out._series[key] = (steps[:n], values[:n])
                out.rows += n
        return out

    def table(self) -> list[tuple[int, str, str, float]]:
        """Every row, ordered by step, then name and layer (the CSV's rows)."""
        rows = [(s, name, layer, v) for (name, layer), (steps, values) in self._series.items()
                for s, v in zip(steps, values)]
        return sorted(rows, key=lambda r: (r[0], r[1]))


#: the health measures in the order the Health view and its CSV show them
HEALTH_ORDER = (GRAD_NORM, UPDATE_RATIO, WEIGHT_NORM, DEAD_RELU, SATURATED)


def _cell(value: float) -> str:
    return repr(float(value)) if np.isfinite(value) else ""


def sharpness_rows(measures: Measures) -> tuple[str, list[tuple[int, str, str]]]:
    """(the measure's name, rows of step, value, threshold): the Sharpness view's data (Adam's preconditioned
    sharpness when the run measured it)."""
    name = PRECONDITIONED if measures.has(PRECONDITIONED) else SHARPNESS
    steps, values = measures.series(name)
    threshold = dict(zip(*(a.tolist() for a in measures.series(THRESHOLD))))
    return name, [(s, _cell(v), _cell(threshold.get(s, np.nan))) for s, v in zip(steps.tolist(), values.tolist())]


def health_rows(measures: Measures) -> list[tuple[str, str, int, str]]:
    """Rows of name, layer, step, value: the Health view's data."""
    return [(name, layer, s, _cell(v)) for name in HEALTH_ORDER for layer in measures.layers(name)
            for s, v in zip(*(a.tolist() for a in measures.series(name, layer)))]
