"""Latest request wins: the mailbox of a long-lived job (see JobRunner.serve)."""

from __future__ import annotations

import threading


class Requests:
    """A mailbox for a long-lived job: ``submit`` replaces a pending request of the same key (the latest wins);
    the job ``take``s them one at a time and asks ``superseded`` between pieces of work to give up early."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict = {}
        self._closed = False
        self._working = False  # a request was taken and its ``done`` has not come yet

    def submit(self, request, key=None) -> None:
        with self._cond:
            self._pending[key] = request
            self._cond.notify_all()

    def take(self, *prefer):
        """The pending request of the first key in ``prefer`` that has one, else the oldest (waiting for one);
        None once closed (the job must end)."""
        with self._cond:
            while not self._closed and not self._pending:
                self._cond.wait()
            if self._closed:
                return None
            key = next((k for k in prefer if k in self._pending), next(iter(self._pending)))
            self._working = True
            return self._pending.pop(key)

    def done(self) -> None:
        """The job has finished with the request it took last."""
        with self._cond:
            self._working = False

    def busy(self) -> bool:
        """A request is pending, or taken and not yet done."""
        with self._cond:
            return self._working or bool(self._pending)

    def superseded(self, key=None) -> bool:
        """True when a newer request of ``key`` is waiting, or the mailbox was closed."""
        with self._cond:
            return self._closed or key in self._pending

    def open(self) -> None:
        with self._cond:
            self._closed = False

    def close(self) -> None:
        """Drop what is pending and wake the job: its ``take`` returns None."""
        with self._cond:
            self._closed = True
            self._working = False
            self._pending.clear()
            self._cond.notify_all()
