"""Errors a user can fix: their message is shown as is, one line, never a traceback."""

from __future__ import annotations

import reprlib

#: the characters that would break a message over lines (those ``str.splitlines`` splits at), shown escaped
_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


class VisualizerError(Exception):
    """A problem with the user's input or files; ``str(error)`` is the whole message, always one line (a line break
    that comes with a file name or a value is shown escaped)."""

    def __init__(self, message: str = "", *args) -> None:
        if isinstance(message, str):
            message = message.translate(_LINE_BREAKS)
        super().__init__(message, *args)


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


#: how many allowed values a message lists before it says how many there are
MAX_CHOICES = 30


def choices(names) -> str:
    """``'a', 'b' or 'c'``: the allowed values, for messages (one line: at most MAX_CHOICES listed, names that are
    not printable shown escaped)."""
    names = list(names)
    quoted = [f"'{n}'" if isinstance(n, str) and n.isprintable() and len(n) <= 60 else shown(n)
              for n in names[:MAX_CHOICES]]
    if len(names) > MAX_CHOICES:
        return ", ".join(quoted) + f", … ({len(names)} in all)"
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 60, 60, 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6


def plain(name) -> str:
    """A name (a key, a column) as messages write it: as is when it is short printable text, else ``shown``."""
    return name if isinstance(name, str) and name.isprintable() and len(name) <= 60 else shown(name)


def shown(value) -> str:
    """A value as a message quotes it: its repr, cut short (long text, deep or long lists), always one line."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {len(str(abs(value))) if value.bit_length() < 14_000 else 'over 4300'} digits"
    try:
        return _SHORT.repr(value)
    except (RecursionError, ValueError, TypeError):
        return f"a {type(value).__name__}"
