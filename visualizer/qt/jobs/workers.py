"""What runs a job: a daemon thread (ThreadJob) or a child process (ProcessJob); both put records into a list
that the runner drains on the GUI thread, ending with a JobEnded. Only the runner creates them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject

from visualizer.qt.jobs.records import Cancelled, JobEnded, failure_message
from visualizer.qt.jobs.requests import Requests

Put = Callable[[object], None]
Job = Callable[[Put, object], Iterable | None]


class ThreadJob:
    """One job on one daemon thread; its records go into a locked list that ``drain`` empties."""

    def __init__(self, kind: str, job: Job, control, thread_name: str, threads: int | None, paced, delay: float,
                 requests: Requests | None) -> None:
        self.kind = kind
        self.control = control
        self.requests = requests
        self._job = job
        self._threads = threads
        self._paced = paced
        self._delay = delay
        self._wake = threading.Event()
        self._next_at = 0.0
        self._lock = threading.Lock()
        self._items: list = []
        self._thread = threading.Thread(target=self._work, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def drain(self) -> list:
        with self._lock:
            items, self._items = self._items, []
        return items

    def set_delay(self, seconds: float) -> None:
        self._delay = max(0.0, seconds)
        self._wake.set()

    def stop(self) -> None:
        self.control.stop()
        if self.requests is not None:
            self.requests.close()
        self._wake.set()

    def release(self) -> None:
        pass

    def join(self, timeout: float) -> bool:
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def put(self, item) -> None:
        with self._lock:
            self._items.append(item)
        if self._delay and self._paced is not None and self._paced(item):
            self._pace()

    def _pace(self) -> None:
        """At most one paced record per ``delay`` seconds (a slowed-down run); a stop or a new delay wakes it."""
        delay = self._delay
        self._next_at = max(self._next_at + delay, time.perf_counter() - delay)
        while self._delay and not self.control.stopped and (wait := self._next_at - time.perf_counter()) > 0:
            self._wake.wait(min(wait, 0.1))
            self._wake.clear()

    def _work(self) -> None:
        if self._threads is not None:
            import torch

            torch.set_num_threads(self._threads)
        t0 = self._next_at = time.perf_counter()
        reason, message = "completed", ""
        try:
            iterator = self._job(self.put, self.control)
            if iterator is not None:
                iterator = iter(iterator)
                try:
                    for item in iterator:
                        self.put(item)
                        if self.control.stopped:
                            break
                finally:
                    getattr(iterator, "close", lambda: None)()  # a generator's finally blocks run now
        except Cancelled:
            reason = "stopped"
        except Exception as exc:  # a failed job is a message in the window, never a traceback
            reason, message = "failed", failure_message(exc)
        if reason == "completed" and self.control.stopped:
            reason = "stopped"
        with self._lock:
            self._items.append(JobEnded(self.kind, reason, message, time.perf_counter() - t0))


class ProcessJob:
    """A child process (a QProcess owned by the runner): stdout lines and parsed stderr lines become records;
    its exit becomes a JobEnded (a failure's message is the last line it wrote to stderr)."""

    control = None  # no pause or steps: a process is only stopped
    requests = None

    def __init__(self, kind: str, parent: QObject, program: str, args: list[str], env: dict | None, parse) -> None:
        from PySide6.QtCore import QProcess, QProcessEnvironment

        self.kind = kind
        self._items: list = []
        self._errors: list[str] = []
        self._partial = {"out": "", "err": ""}
        self._parse = parse
        self._stopped = self._ended = False
        self._t0 = time.perf_counter()
        self._program, self._args = program, list(args)
        self.process = QProcess(parent)
        environment = QProcessEnvironment.systemEnvironment()
        for key, value in (env or {}).items():
            environment.insert(key, value)
        self.process.setProcessEnvironment(environment)
        self.process.readyReadStandardOutput.connect(lambda: self._read("out"))
        self.process.readyReadStandardError.connect(lambda: self._read("err"))
        self.process.finished.connect(self._on_finished)
        self.process.errorOccurred.connect(self._on_error)

    def start(self) -> None:
        self.process.start(self._program, self._args)

    def is_alive(self) -> bool:
        from PySide6.QtCore import QProcess

        return self.process.state() != QProcess.ProcessState.NotRunning

    def drain(self) -> list:
        items, self._items = self._items, []
        return items

    def set_delay(self, seconds: float) -> None:
        pass

    def stop(self) -> None:
        self._stopped = True
        if self.is_alive():
            self.process.kill()

    def join(self, timeout: float) -> bool:
        if self.is_alive():
            self.process.waitForFinished(round(timeout * 1000))
        return not self.is_alive()

    def release(self) -> None:
        """The process has ended: its QProcess goes (deleteLater also serves a call from one of its signals)."""
        self.process.deleteLater()

    def _read(self, which: str, final: bool = False) -> None:
        data = self.process.readAllStandardOutput() if which == "out" else self.process.readAllStandardError()
        lines = (self._partial[which] + bytes(data).decode(errors="replace")).split("\n")
        self._partial[which] = "" if final else lines.pop()  # a line the child has not finished writing yet
        for line in lines:
            if which == "out":
                if line.strip():
                    self._items.append(line.strip())
            elif (record := self._parse(line) if self._parse else None) is not None:
                self._items.append(record)
            elif line.strip():
                self._errors.append(line.strip())

    def _end(self, reason: str, message: str = "") -> None:
        if not self._ended:
            self._ended = True
            self._items.append(JobEnded(self.kind, reason, message, time.perf_counter() - self._t0))

    def _on_finished(self, code: int, status) -> None:
        from PySide6.QtCore import QProcess

        self._read("out", final=True)
        self._read("err", final=True)
        if self._stopped:
            self._end("stopped")
        elif status == QProcess.ExitStatus.NormalExit and code == 0:
            self._end("completed")
        else:
            self._end("failed", self._errors[-1] if self._errors else f"exit code {code}")

    def _on_error(self, error) -> None:
        from PySide6.QtCore import QProcess

        if error == QProcess.ProcessError.FailedToStart:
            self._end("failed", f"could not start {self._program}: {self.process.errorString()}")
