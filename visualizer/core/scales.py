"""When a plot reads better on a logarithmic scale: one rule for the window, the command line and the exports."""

from __future__ import annotations

import numpy as np

#: loss curves whose values span more than this factor (two decades) read better on a log axis: a diverging run's
#: loss, drawn linearly, is a flat line and then a wall
LOG_AXIS_RATIO = 100.0
#: colour a surface by log₁₀ of the loss once it spans more than this factor over the grid (a decade)
LOG_COLOUR_RATIO = 10.0


def _spans(ratio: float, *series) -> bool:
    parts = [np.asarray(s, dtype=float).ravel() for s in series if s is not None]
    values = np.concatenate(parts) if parts else np.empty(0)
    values = values[np.isfinite(values) & (values > 0)]
    return bool(values.size) and float(values.max()) > ratio * float(values.min())


def wants_log_axis(*series) -> bool:
    """Whether curves belong on a log axis: their finite positive values span more than LOG_AXIS_RATIO."""
    return _spans(LOG_AXIS_RATIO, *series)


def history_wants_log_axis(history) -> bool:
    """Whether a run's loss belongs on a log axis: its evaluations, or its first and largest batch loss, span more
    than two decades (a diverging run; a loss falling from 1 to 0.001). Single noisy batches do not count."""
    steps = np.asarray(history.train_loss, dtype=float)
    finite = steps[np.isfinite(steps)]
    ends = np.array([steps[0], finite.max()]) if finite.size else None
    return wants_log_axis(history.eval_train_loss, history.val_loss, ends)


def log_colours(loss) -> bool:
    """Whether a surface reads better in log₁₀ colours: its finite positive values span more than a decade."""
    return _spans(LOG_COLOUR_RATIO, loss)
