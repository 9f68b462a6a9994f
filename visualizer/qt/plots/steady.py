"""Axis ranges that stay still while live data move inside them: readable from frame to frame, and an axis whose
range has not changed is not redrawn (its labels are the costliest part of a live plot's paint)."""

from __future__ import annotations

#: a new range leaves this share of the data's extent free on each side (above the highest count for y)...
HEADROOM = 0.1
#: ...and is kept while the data stay inside it and fill at least this share of it
FILL = 0.6


def steady_range(shown: tuple[float, float] | None, low: float, high: float,
                 floor: float | None = None) -> tuple[float, float]:
    """The range to show data spanning [low, high]: ``shown`` while it holds them and they fill at least FILL of
    it, else theirs with HEADROOM on each side (none below ``floor``: counts start at 0). So an axis stays still
    from one frame to the next and moves when the data outgrow it or shrink into a corner."""
    if shown is not None:
        a, b = shown
        if a <= low and high <= b and high - low >= FILL * (b - a):
            return shown
    pad = HEADROOM * (high - low) or max(abs(high), abs(low), 1e-12) * HEADROOM
    return (floor if floor is not None else low - pad, high + pad)

