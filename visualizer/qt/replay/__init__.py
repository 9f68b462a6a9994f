"""Replay of a run file: the window, its timeline, and the Qt-free reading of the run."""

from .model import HistoryUpTo, ReplayRun
from .timeline import TimelineBar
from .window import ReplayWindow, run_label

__all__ = ["HistoryUpTo", "ReplayRun", "ReplayWindow", "TimelineBar", "run_label"]
