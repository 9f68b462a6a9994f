"""THE job runner: every background task of the window (training, compression, cross-validation, the race, data
loading, animation export) runs through a ``JobRunner``; nothing else in the package starts a thread or a process.

A job is a function ``job(put, control)`` run on a worker thread. It hands frozen records (numbers, numpy arrays,
the core's events and reports) to ``put``, or returns an iterable (a core generator) that the runner iterates and
puts for it, stopping at the next yield once cancelled (superqt's GeneratorWorker does the same). ``control`` is
the core's RunControl: jobs that support pause, single steps or a live learning rate pass it on to the core (the
training session); the others only read ``control.stopped``. The worker never waits for the GUI: records go into a
locked list that a QTimer on the GUI thread drains once per frame, at an adaptive frame rate, and emits as one
``batch``; the frame's latest progress as ``progress``; and a ``JobEnded`` last, whose failure is a message, never a
traceback. A child process (``start_process``) is run the same way, with the same signals.

The window trains in a child process of its own (``warm`` spawns it after the first paint and keeps it between jobs;
``start_child`` runs a job in it): ``control`` sends pause, steps, stop and the learning rate over a pipe, its events
come back in batches over another, and its death (a signal, out of memory) ends the job with a message naming the
signal and the last step; the next job gets a fresh process. ``end_child`` ends it (a closing window).

One job at a time per runner. ``shutdown`` stops and joins it; a job whose current step outlasts the join timeout
is remembered, and ``start`` refuses (``refusal`` says why) until it has ended: no worker runs into the next job.
A long-lived job fed requests (latest request wins) is ``serve`` + ``submit`` with a ``Requests`` mailbox.
"""

from visualizer.qt.jobs.frames import (
    FRAME_MS,
    GUI_BUSY_TARGET,
    JOIN_TIMEOUT_S,
    MAX_FRAME_MS,
    WORKER_THREADS,
    adapt_frame_rate,
    start_frame_timer,
)
from visualizer.qt.jobs.records import Cancelled, JobEnded, Progress, failure_message
from visualizer.qt.jobs.requests import Requests
from visualizer.qt.jobs.runner import JobRunner
from visualizer.qt.jobs.workers import Job, Put

__all__ = ["FRAME_MS", "GUI_BUSY_TARGET", "JOIN_TIMEOUT_S", "MAX_FRAME_MS", "WORKER_THREADS", "Cancelled", "Job",
           "JobEnded", "JobRunner", "Progress", "Put", "Requests", "adapt_frame_rate", "failure_message",
           "start_frame_timer"]
