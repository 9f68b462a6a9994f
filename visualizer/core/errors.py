"""Errors a user can fix: their message is shown as is, one line, never a traceback."""

from __future__ import annotations


class VisualizerError(Exception):
    """A problem with the user's input or files; ``str(error)`` is the whole message."""


class DiskFull(VisualizerError):
    """The disk (or the user's quota) filled up while writing: what was written before it stays. Not bad input:
    the command exits with status 1."""


def disk_full(error: BaseException, where: str = "") -> DiskFull | None:
    """A DiskFull saying so in one line for an OSError (ENOSPC, EDQUOT) or an SQLite error ("database or disk is
    full") of a full disk; None for any other error. ``where`` names what was being written."""
    import errno
    import sqlite3

    codes = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}  # a full disk, a full quota
    full = (isinstance(error, OSError) and error.errno in codes) or (
        isinstance(error, sqlite3.OperationalError) and "database or disk is full" in str(error))
    if not full:
        return None
    place = where or (f"cannot write {error.filename}" if getattr(error, "filename", None) else "")
    return DiskFull("the disk is full" + (f": {place}" if place else "") + "; free some space and run again")


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
