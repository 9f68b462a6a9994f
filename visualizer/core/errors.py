"""Errors a user can fix: their message is shown as is, one line, never a traceback."""

from __future__ import annotations


class VisualizerError(Exception):
    """A problem with the user's input or files; ``str(error)`` is the whole message."""


class ExperimentError(VisualizerError):
    """A bad value in an experiment: names the key (``data.name``), the value and what is allowed."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.problem = message
        super().__init__(f"{key}: {message}")


def choices(names) -> str:
    """``'a', 'b' or 'c'``: the allowed values, for messages."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
