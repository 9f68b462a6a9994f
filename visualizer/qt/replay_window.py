"""The replay window (it lives in the ``replay`` package: model, timeline, window)."""

from .replay import ReplayWindow, TimelineBar, run_label

__all__ = ["ReplayWindow", "TimelineBar", "run_label"]
