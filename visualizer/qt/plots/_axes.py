"""An axis whose log mode reads like a paper's: ticks at 1, 2 and 5 per decade, plain numbers."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg


def _multiples(low: float, high: float, mantissas: tuple[int, ...]) -> list[float]:
    """log10 of mantissa * 10**d for every decade d, inside (low, high) (both log10)."""
    steps = np.log10(mantissas)
    values = [d + s for d in range(math.floor(low), math.ceil(high) + 1) for s in steps]
    return [v for v in values if low <= v <= high]


class LogFriendlyAxis(pg.AxisItem):
    """In log mode, label 1-2-5 per decade (or whole decades when the range is wide).

    pyqtgraph labels every 1..9 multiple, whose uneven spacing makes labels overlap near each decade.
    """

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 (pyqtgraph override)
        decades = maxVal - minVal
        if decades > 4:
            step = max(1, math.ceil(decades / 8))
            major = [float(d) for d in range(math.ceil(minVal), math.floor(maxVal) + 1) if d % step == 0]
            return [(None, major)]
        for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
            major = _multiples(minVal, maxVal, mantissas)
            if len(major) >= 3:
                return [(None, major)]
        return super().logTickValues(minVal, maxVal, size, stdTicks)

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        numbers = 10 ** np.asarray(values, dtype=float) * scale
        if numbers.size and np.all((numbers >= 1e-4) & (numbers < 1e5)):
            return [f"{x:.3g}" for x in numbers]
        return super().logTickStrings(values, scale, spacing)
