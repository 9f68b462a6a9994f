"""A job in a child process that is spawned (the same on Linux, macOS and Windows) ahead of time and kept warm
between jobs: the window's training. Commands go to it over one pipe (written by a thread: a big request, such as a
data set, never blocks the GUI while the child is still warming up), its records come back in batches over another,
read by a thread that puts them into the job's list for the runner's frames. When the process dies (killed, out of
memory, a crash in a native kernel) its job ends with a message naming the signal and the last step it reported;
the next job starts a fresh process. Only the runner creates these."""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
import time

from visualizer.qt.jobs.records import JobEnded

#: how long ending the process waits for it to quit before killing it, and for its reader to see it gone
END_TIMEOUT_S = 5.0


def death_message(exitcode: int | None, step: int | None) -> str:
    """One line for a child that died: which signal (or exit code), at which step."""
    if exitcode is None:
        how = "ended unexpectedly"
    elif exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        how = f"was killed by {name}" + (" (the system does this when memory runs out)" if name == "SIGKILL" else "")
    else:
        how = f"exited with code {exitcode}"
    at = f"at step {step:,}" if step is not None else "before its first step"
    return (f"the training process {how} {at}. The views and the run file keep everything up to then; "
            f"Train starts a fresh process.")


class ChildProcess:
    """A spawned child running ``serve(commands, events)``; a writer thread sends it commands in order, a reader
    thread hands what it sends to the attached job (``receive``), and its death to it (``died``)."""

    def __init__(self, serve, name: str) -> None:
        context = multiprocessing.get_context("spawn")
        child_commands, self._commands = context.Pipe(duplex=False)
        self._events, child_events = context.Pipe(duplex=False)
        self._child_ends = (child_commands, child_events)
        self.process = context.Process(target=serve, args=self._child_ends, name=name, daemon=True)
        self._lock = threading.Lock()
        self._job = None
        self.ready = threading.Event()  # the child has warmed up
        self.gone = threading.Event()  # its end of the pipe closed: it has ended
        self.exitcode: int | None = None
        self.pid: int | None = None
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name=f"{name}-reader", daemon=True)
        self._writer = threading.Thread(target=self._write, name=f"{name}-writer", daemon=True)

    def start(self) -> None:
        self.process.start()
        for end in self._child_ends:  # the child holds these now; our copies would keep its death from showing
            end.close()
        self.pid = self.process.pid
        self._reader.start()
        self._writer.start()

    def send(self, message) -> bool:
        """Send a command (in order, without waiting for the child to read it); False when the process is gone."""
        if self.gone.is_set():
            return False
        self._outbox.put(message)
        return True

    def attach(self, job) -> None:
        with self._lock:
            self._job = job
        if self.gone.is_set():  # it died before the job could see it
            job.died(self.exitcode)

    def detach(self, job) -> None:
        with self._lock:
            if self._job is job:
                self._job = None

    def kill(self) -> None:
        if not self.gone.is_set():
            try:
                self.process.kill()
            except (OSError, ValueError, AttributeError):
                pass

    def end(self, timeout: float = END_TIMEOUT_S) -> bool:
        """Ask the process to quit (kill it if it is still warming up, or does not quit within ``timeout``), and join
        it and its reader; True when both have ended."""
        if self._reader.is_alive():
            if self.ready.is_set() and self.send(("quit",)):
                self._reader.join(timeout)
            if self._reader.is_alive():
                self.kill()
                self._reader.join(timeout)
        self._outbox.put(None)  # the writer ends (a write to a dead process fails at once)
        self._writer.join(timeout)
        ended = not self._reader.is_alive() and not self._writer.is_alive()
        if ended:
            for connection in (self._commands, self._events):
                connection.close()
            try:
                self.process.close()
            except ValueError:  # not reaped yet (its reader's join timed out): the Process object keeps it
                pass
        return ended

    def _write(self) -> None:
        while (message := self._outbox.get()) is not None:
            try:
                self._commands.send(message)
            except (OSError, ValueError):  # the process is gone: the reader reports it
                return

    def _read(self) -> None:
        while True:
            try:
                message = self._events.recv()
            except (EOFError, OSError):
                break
            except Exception:  # noqa: BLE001 - a record that cannot be read back is dropped, not the reader
                continue
            if message[0] == "ready":
                self.ready.set()
                continue
            with self._lock:
                job = self._job
            if job is not None:
                job.receive(message)
        self.process.join(END_TIMEOUT_S)  # only this thread joins the process
        self.exitcode = self.process.exitcode
        self.gone.set()
        with self._lock:
            job = self._job
        if job is not None:
            job.died(self.exitcode)


class ChildControl:
    """Pause, resume, single steps, stop, the learning rate and weights set by hand of a job in the child process:
    RunControl's calls, sent over the control channel and applied there at the session's yields."""

    def __init__(self, send, paused: bool = False) -> None:
        self._send = send
        self.paused = paused
        self.stopped = False

    def pause(self) -> None:
        self.paused = True
        self._send(("pause",))

    def resume(self) -> None:
        self.paused = False
        self._send(("resume",))

    def step(self, n: int = 1) -> None:
        """Pause after exactly ``n`` more steps."""
        self.paused = True
        self._send(("step", int(n)))

    def stop(self) -> None:
        self.stopped = True
        self._send(("stop",))

    def set_lr(self, lr: float) -> None:
        """The next step uses this base learning rate."""
        self._send(("lr", float(lr)))

    def edit_weight(self, edit) -> None:
        """Set a weight by hand (a core.training.edits.WeightEdit) before the next step."""
        self._send(("edit", edit))


class ChildJob:
    """One job in a ChildProcess: sends it ``("run", request, delay)`` and collects what comes back until its
    ``("done", reason, message)`` or the process's death, ending with a JobEnded as a thread job does."""

    requests = None

    def __init__(self, kind: str, child: ChildProcess, request, paused: bool, delay: float) -> None:
        self.kind, self.child = kind, child
        self.control = ChildControl(child.send, paused)
        self.last_step: int | None = None  # the last step the child reported (the message of its death names it)
        self._request, self._delay = request, delay
        self._lock = threading.Lock()
        self._items: list = []
        self._done = threading.Event()
        self._t0 = time.perf_counter()

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self.child.attach(self)
        if not self.child.send(("run", self._request, self._delay)) and not self.child.gone.is_set():
            self._finish("failed", "the training process cannot be reached")

    def is_alive(self) -> bool:
        return not self._done.is_set()

    def drain(self) -> list:
        with self._lock:
            items, self._items = self._items, []
        return items

    def set_delay(self, seconds: float) -> None:
        self.child.send(("delay", max(0.0, seconds)))

    def stop(self) -> None:
        if not self._done.is_set():
            self.control.stop()

    def join(self, timeout: float) -> bool:
        """Wait for the job's end; a job that outlasts ``timeout`` (a step longer than any wait) loses its process,
        and the next job gets a fresh one."""
        if not self._done.wait(timeout):
            self.child.kill()
            self._done.wait(END_TIMEOUT_S)
        return self._done.is_set()

    def release(self) -> None:
        self.child.detach(self)

    # --- from the reader thread -----------------------------------------------------------------------------
    def receive(self, message) -> None:
        if message[0] == "events":
            items = message[1]
            step = next((item.step for item in reversed(items) if type(item).__name__ == "StepEvent"), None)
            with self._lock:
                self._items.extend(items)
                if step is not None:
                    self.last_step = step
        elif message[0] == "done":
            self._finish(message[1], message[2])

    def died(self, exitcode: int | None) -> None:
        if self.control.stopped:  # stopped, and killed because it did not stop in time (or died meanwhile)
            self._finish("stopped", "")
        else:
            self._finish("failed", death_message(exitcode, self.last_step))

    def _finish(self, reason: str, message: str) -> None:
        with self._lock:
            if self._done.is_set():
                return
            self._items.append(JobEnded(self.kind, reason, message, time.perf_counter() - self._t0))
            self._done.set()
