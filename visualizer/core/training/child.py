"""The training process: the window trains in a child process that its job runner spawns after the first paint and
keeps warm between runs, so that a crash in training (killed, out of memory, a native kernel) never takes the window
with it. This module is the child's side of the channel; it imports torch only inside ``serve``.

The window sends commands: ``("run", (SessionRecipe, record_to), delay)``, then during a run ``("pause",)``,
``("resume",)``, ``("step", n)``, ``("stop",)``, ``("lr", value)``, ``("edit", WeightEdit)``, ``("delay", seconds)``;
``("quit",)`` ends the process. The child sends ``("ready", pid)`` once warm, ``("events", [...])`` batches of the
session's own events (and the run file's RunFileOpened and RunRecorded), and ``("done", reason, message)`` when a
run is over.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from visualizer.core.data.sets import Dataset
    from visualizer.core.experiment import Experiment


@dataclass(frozen=True, eq=False)
class SessionRecipe:
    """What a training process needs to build the session the window asks for (picklable: numbers, numpy arrays
    and the experiment, no torch objects). ``options`` are TrainingSession's keyword arguments; ``paused``: the run
    starts paused (a single step from an idle window)."""

    experiment: Experiment
    base_dir: Path | None = None
    dataset: Dataset | None = None
    options: dict = field(default_factory=dict)
    paused: bool = False

    def session(self, control=None):
        """The TrainingSession this recipe describes, driven by ``control``."""
        from visualizer.core.training.session import TrainingSession

        return TrainingSession(self.experiment, self.base_dir, control=control, dataset=self.dataset,
                               **self.options)


def serve(commands, events) -> None:
    """The training process's main: warm up (torch, the optimizers, the run writer), say so, then train each run the
    window asks for until it says quit or is gone (its end of the channel closes: no orphan is left)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal reaches the window, which ends us cleanly
    from visualizer.core.threads import wait_passively

    wait_passively()  # before torch is imported
    try:
        from visualizer.core.training.channel import train, warm_up

        warm_up()
        events.send(("ready", os.getpid()))
        while True:
            message = commands.recv()
            if message[0] == "quit" or (message[0] == "run" and not train(commands, events, *message[1:])):
                break
            # anything else is a command for a run that has already ended: nothing to do
    except (EOFError, OSError):  # the window is gone (or closed its end): end quietly
        pass
    _exit_now()


def _exit_now() -> None:
    """End the process at once: every run file is closed by now, and tearing torch down takes a second or more
    (a closing window would wait for it)."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(0)
