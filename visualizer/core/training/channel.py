"""One run in the training process (see ``child``): the session iterated as in the window's worker, its run file
recorded here, its events sent in batches, and the window's commands applied at the session's yields."""

from __future__ import annotations

import time

from visualizer.core.training.events import StepEvent
from visualizer.core.training.recording import RunFileOpened, RunRecording
from visualizer.core.training.session import RunControl

#: how often a running session looks at its control channel (between steps), and how often events are sent: a
#: batch per SEND_S (a frame is 33 ms at the most), or sooner when the run pauses, is paced or ends. Each batch wakes
#: the window's reader thread, which takes the GIL from the GUI thread: 100 batches a second (10 ms) cost the run
#: ~3 % of its time in the child's sends and the GUI thread its turns
POLL_S = 0.004
SEND_S = 0.020

clock = time.perf_counter


def warm_up() -> None:
    """Do the one-time imports now, before the first Train (torch's optimizers, the run writer)."""
    import visualizer.core.runs.writer  # noqa: F401
    from visualizer.core.model.optimizers import warm_up as warm_optimizers

    warm_optimizers()


class Outbox:
    """Events on their way to the window: sent as one batch every SEND_S, or when asked (``flush``)."""

    def __init__(self, events) -> None:
        self.events, self.items, self.sent_at = events, [], clock()

    def put(self, item) -> None:
        self.items.append(item)
        if clock() - self.sent_at >= SEND_S:
            self.flush()

    def flush(self) -> None:
        if self.items:
            items, self.items = self.items, []
            self.events.send(("events", items))
        self.sent_at = clock()


def _poller(connection):
    """A poll object on ``connection``'s descriptor (Connection.poll builds a selector at every call), or None."""
    import select

    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
    except (AttributeError, OSError, ValueError):  # Windows has no poll(); a Connection without a descriptor
        return None
    return poller


class ChannelControl(RunControl):
    """The RunControl of a run in the training process: the window's commands arrive on ``commands`` and are applied
    between steps (at most POLL_S apart) and while paused, where it waits on the channel instead of a condition."""

    def __init__(self, commands, outbox: Outbox, delay: float = 0.0) -> None:
        super().__init__()
        self.commands, self.outbox = commands, outbox
        self._waiting = _poller(commands)
        self.delay = max(0.0, delay)
        self.quit = False  # the window said quit (or is gone): the process ends after this run
        self._polled = clock()
        self._next_at: float | None = None  # when the next paced step may come (None: no step paced yet)

    def apply(self, message) -> None:
        name, *args = message
        if name == "pause":
            self.pause()
        elif name == "resume":
            self.resume()
        elif name == "step":
            self.step(*args)
        elif name == "lr":
            self.set_lr(*args)
        elif name == "edit":
            self.edit_weight(*args)
        elif name == "delay":
            self.delay = max(0.0, float(args[0]))
        elif name in ("stop", "quit"):
            self.quit = self.quit or name == "quit"
            self.stop()

    def read(self, timeout: float | None = 0.0) -> None:
        """Apply the commands waiting on the channel, waiting up to ``timeout`` seconds (None: for ever) for one."""
        try:
            if timeout == 0.0 and self._waiting is not None and not self._waiting.poll(0):
                self._polled = clock()  # nothing came (the common case: one system call, no selector built)
                return
            while self.commands.poll(timeout):
                self.apply(self.commands.recv())
                timeout = 0.0
        except (EOFError, OSError):  # the window is gone: end the run, then the process
            self.quit = True
            self.stop()
        self._polled = clock()

    def after(self, event) -> None:
        """Called after each event: read the channel now and then, and pace a slowed-down run's steps."""
        if clock() - self._polled >= POLL_S:
            self.read()
        if self.delay and type(event) is StepEvent:
            self._pace()

    def _pace(self) -> None:
        """At most one step per ``delay`` seconds (as the window's worker paces them); commands still arrive."""
        delay = self.delay
        if self._next_at is None:  # the first: the pace counts from here, not from a slow set-up before it
            self._next_at = clock()
        else:
            self._next_at = max(self._next_at + delay, clock() - delay)
        self.outbox.flush()
        while self.delay and not self.stopped and (wait := self._next_at - clock()) > 0:
            self.read(wait)

    def wait_turn(self) -> bool:
        if not self._attention:
            return True
        while self.will_wait():  # paused with no steps to take: show what there is, then wait for the window
            self.outbox.flush()
            self.read(None)
        return super().wait_turn()


def train(commands, events, request, delay: float = 0.0) -> bool:
    """Train one run: ``request`` is (SessionRecipe, folder for the run file or None). Returns False when the
    process must end (the window said quit, or is gone)."""
    recipe, record_to = request
    outbox = Outbox(events)
    control = ChannelControl(commands, outbox, delay)
    if recipe.paused:
        control.pause()
    reason, message = "completed", ""
    try:
        session = recipe.session(control)
        recording = RunRecording(session, record_to)
        if recording.path is not None:
            outbox.put(RunFileOpened(recording.path))
        for event in session.run():
            outbox.put(event)
            recording.add(event)
            control.after(event)
        outbox.put(recording.close())
    except (EOFError, ConnectionError):
        raise  # the channel is broken: the window is gone
    except Exception as exc:  # noqa: BLE001 - a failure outside the session is a message, as in the window's worker
        from visualizer.core.errors import VisualizerError

        reason = "failed"
        message = str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}"
    if reason == "completed" and control.stopped:
        reason = "stopped"
    outbox.flush()
    events.send(("done", reason, message))
    return not control.quit
