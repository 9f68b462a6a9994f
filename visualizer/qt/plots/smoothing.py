"""TensorBoard-style exponential moving average, vectorised and incremental (pure numpy)."""

from __future__ import annotations

import numpy as np


def _ema_continue(x: np.ndarray, weight: float, last: float, count: int) -> tuple[np.ndarray, float, int]:
    """Debiased EMA of finite `x`, continuing from biased state `last` after `count` values.

    Works in chunks using s_i = w^(i+1) s_-1 + (1-w) w^i cumsum(x_j w^-j), with chunks short
    enough that w^-j stays below 1e100, so no Python loop runs per point.
    """
    n = x.size
    if n == 0:
        return np.empty(0), last, count
    if weight <= 0.0:
        return x.astype(float, copy=True), float(x[-1]), count + n
    chunk = max(1, min(4096, int(100.0 / -np.log10(weight))))
    biased = np.empty(n)
    for start in range(0, n, chunk):
        seg = x[start : start + chunk]
        m = seg.size
        j = np.arange(m)
        w_pow = weight**j
        biased[start : start + m] = weight * w_pow * last + (1.0 - weight) * w_pow * np.cumsum(seg / w_pow)
        last = float(biased[start + m - 1])
    debias = 1.0 - weight ** (count + 1 + np.arange(n, dtype=float))
    return biased / debias, last, count + n


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Smooth `values` like TensorBoard: debiased EMA over the finite points; non-finite stay NaN.

    `weight` in [0, 1): 0 leaves the data unchanged, 0.99 smooths heavily.
    """
    return Smoother(weight)(values)


class Smoother:
    """Incremental EMA: when called with a longer copy of the same series, only the new tail is computed."""

    def __init__(self, weight: float = 0.9) -> None:
        self.weight = float(np.clip(weight, 0.0, 0.9999))
        self.reset()

    def reset(self) -> None:
        """Forget the series seen so far."""
        self._values = np.empty(0)
        self._smoothed = np.empty(0)
        self._last = 0.0
        self._count = 0

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Return the smoothed series (a new array each time the input grows)."""
        values = np.asarray(values, dtype=float).ravel()
        n_old = self._values.size
        if values.size < n_old or not np.array_equal(values[:n_old], self._values, equal_nan=True):
            self.reset()
            n_old = 0
        new = values[n_old:]
        if new.size:
            finite = np.isfinite(new)
            part = np.full(new.size, np.nan)
            if finite.any():
                part[finite], self._last, self._count = _ema_continue(new[finite], self.weight, self._last, self._count)
            self._smoothed = np.concatenate([self._smoothed, part])
            self._values = np.concatenate([self._values, new])
        return self._smoothed
