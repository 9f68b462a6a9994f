"""What a job hands the GUI besides its own records: its end, its progress; and how it leaves early."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobEnded:
    """The job is over: reason is 'completed', 'stopped' or 'failed' (message says why); seconds it ran."""

    kind: str
    reason: str
    message: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Progress:
    """How far a job is: a fraction in [0, 1] (None: unknown) and a line of text for a progress bar."""

    fraction: float | None
    text: str = ""


class Cancelled(Exception):
    """Raised inside a job (e.g. from a progress callback) to leave it early when asked to stop."""


def failure_message(exc: BaseException) -> str:
    """The text a failed job shows: the core's own message, or the exception's type and text."""
    from visualizer.core.errors import VisualizerError

    return str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}"
