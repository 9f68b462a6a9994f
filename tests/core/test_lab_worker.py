"""The lab's measuring process (core.lab.worker): the sharpness measured beside training gives the numbers of
measuring in the loop, whenever the hand-over between the two happens; a measuring process that dies mid-run costs
no reading; it never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from visualizer.core.experiment import DataSpec, Experiment, LabSpec, ModelSpec, TrainSpec
from visualizer.core.lab import measuring_process, worker
from visualizer.core.training.events import Measured, RunEnded
from visualizer.core.training.session import TrainingSession

pytestmark = pytest.mark.timeout(120)


def _exp(optimizer="adam") -> Experiment:
    return Experiment(data=DataSpec(name="moons", samples=300, seed=0),
                      model=ModelSpec(hidden=(8, 8), activation=("tanh", "tanh")),
                      train=TrainSpec(optimizer=optimizer, lr=0.02, batch_size=16, epochs=8, loss="cross_entropy"),
                      lab=LabSpec(sharpness_every=10))


def _readings(exp) -> tuple[list[tuple[int, tuple]], str]:
    out, ended = [], None
    for event in TrainingSession(exp).run():
        if isinstance(event, Measured):
            out.append((event.step, event.rows))
        elif isinstance(event, RunEnded):
            ended = event.reason
    return out, ended


@pytest.fixture
def process(monkeypatch):
    monkeypatch.setenv("VISUALIZER_LAB_WORKER", "process")
    assert worker.warm(60)
    yield
    worker.shutdown()


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_the_process_gives_the_numbers_of_the_loop(optimizer, process, monkeypatch):
    sent = []
    original = worker.Lease.send
    monkeypatch.setattr(worker.Lease, "send", lambda self, step, *a, **k: (sent.append(step),
                                                                          original(self, step, *a, **k)))
    beside, ended = _readings(_exp(optimizer))
    assert ended == "completed"
    monkeypatch.setenv("VISUALIZER_LAB_WORKER", "inline")
    inline, _ = _readings(_exp(optimizer))
    steps = [s for s, _ in inline]
    assert steps == list(range(10 if optimizer == "adam" else 0, 121, 10))  # Adam: nothing before its first step
    assert len(sent) == len(steps)  # every one of them measured in the process
    assert beside == inline  # the same floats: the same weights, operations and warm-start chain


def test_measurements_go_in_batches_and_keep_the_numbers(process, monkeypatch):
    monkeypatch.setattr(worker, "BATCH_S", 60.0)  # held until a batch is full, or the run waits at its end
    messages = []
    original = worker.MeasuringProcess.send
    monkeypatch.setattr(worker.MeasuringProcess, "send", lambda self, m: (
        messages.append(len(m[2])) if isinstance(m, tuple) and m[0] == "measure" else None, original(self, m))[1])
    beside, ended = _readings(_exp("momentum"))
    monkeypatch.setenv("VISUALIZER_LAB_WORKER", "inline")
    inline, _ = _readings(_exp("momentum"))
    assert ended == "completed" and beside == inline
    assert sum(messages) == len(inline)  # every one measured in the process
    # the first at once (nothing was sent before it), then batches (a full one first; a wait when too many are
    # unanswered sends the rest early), and near the end each at once: the end waits for one reading, not a batch
    assert messages[0] == 1 and messages[1] == worker.BATCH_MOST and max(messages) == worker.BATCH_MOST
    assert messages[-3:] == [1, 1, 1]


def test_a_hand_over_back_and_forth_keeps_the_numbers(process, monkeypatch):
    turns = iter([True, False, False, True, True, False] * 10)
    monkeypatch.setattr(worker, "core_to_spare", lambda: next(turns))  # the machine busy now and then
    beside, ended = _readings(_exp())
    monkeypatch.setenv("VISUALIZER_LAB_WORKER", "inline")
    inline, _ = _readings(_exp())
    assert ended == "completed" and beside == inline


def test_a_measuring_process_killed_mid_run_costs_no_reading(process, monkeypatch):
    original = worker.Lease.send
    sent = []

    def send_then_kill(self, step, *a, **k):
        original(self, step, *a, **k)
        sent.append(step)
        if len(sent) == 3:
            os.kill(self.process._child.pid, signal.SIGKILL)

    monkeypatch.setattr(worker.Lease, "send", send_then_kill)
    beside, ended = _readings(_exp())
    monkeypatch.setenv("VISUALIZER_LAB_WORKER", "inline")
    inline, _ = _readings(_exp())
    assert ended == "completed"
    assert [s for s, _ in beside] == [s for s, _ in inline]  # what it did not answer was measured in the loop
    assert beside == inline
    assert len(sent) < len(inline)  # after it died the rest was measured in the loop
    assert worker.warm(60)  # the next run gets a new one


def _state(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return line.split()[1]
    except OSError:
        return "gone"
    return "gone"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_the_measuring_process_ends_with_the_process_that_started_it():
    script = ("import sys, time\nfrom visualizer.core.lab import worker\nassert worker.warm(60)\n"
              "print(worker._process._child.pid, flush=True)\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, VISUALIZER_LAB_WORKER="process"))
    try:
        child = int(parent.stdout.readline())
        assert _state(child) in ("S", "R")
        parent.send_signal(signal.SIGKILL)  # no atexit: only the end of its input tells the child
        parent.wait()
        deadline = time.monotonic() + 10
        while _state(child) not in ("gone", "Z") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _state(child) in ("gone", "Z")
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


def test_a_measuring_process_that_stops_answering_is_ended_and_its_work_done_here(process, monkeypatch):
    monkeypatch.setattr(worker, "ANSWER_S", 1.0)
    original = worker.Lease.send
    stopped = []

    def send_then_freeze(self, step, *a, **k):
        original(self, step, *a, **k)
        if not stopped:
            os.kill(self.process._child.pid, signal.SIGSTOP)  # alive, but it never answers
            stopped.append(self.process)

    monkeypatch.setattr(worker.Lease, "send", send_then_freeze)
    beside, ended = _readings(_exp())
    monkeypatch.setenv("VISUALIZER_LAB_WORKER", "inline")
    inline, _ = _readings(_exp())
    assert ended == "completed" and beside == inline
    assert stopped[0].ended and stopped[0]._child.wait(10) is not None  # killed, not left stopped
    assert worker.warm(60)  # the next run gets a new one


@pytest.mark.skipif(os.name != "posix", reason="POSIX priorities; Windows reads replies on a thread")
def test_the_measuring_process_yields_to_other_work_and_no_thread_reads_its_replies(process):
    import threading

    child = worker._process._child.pid
    assert os.getpriority(os.PRIO_PROCESS, child) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + worker.NICE)
    assert measuring_process.READER_THREAD not in {t.name for t in threading.enumerate()}
    if sys.platform.startswith("linux"):  # a pipe that holds a big model's reply (the warm-start vector)
        import fcntl

        wanted = min(measuring_process.PIPE_BYTES, int(Path("/proc/sys/fs/pipe-max-size").read_text()))
        assert fcntl.fcntl(worker._process._fd, fcntl.F_GETPIPE_SZ) >= wanted
    readings, ended = _readings(_exp())  # the run's own thread reads the replies
    assert ended == "completed" and len(readings) == 12


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="CPU affinity: Linux, two CPUs or more")
def test_the_measuring_process_is_kept_off_the_cpu_of_the_thread_that_sends_to_it(process, monkeypatch):
    allowed = os.sched_getaffinity(0)
    child = worker._process._child.pid
    sent_on = []
    send = measuring_process.MeasuringProcess.send

    def send_and_note(self, message):
        ok = send(self, message)
        sent_on.append((measuring_process._current_cpu(), os.sched_getaffinity(child)))
        return ok

    monkeypatch.setattr(measuring_process.MeasuringProcess, "send", send_and_note)
    monkeypatch.delenv("VISUALIZER_LAB_WORKER")  # the machine's own choice:
    assert worker.core_to_spare()  # kept off the training's CPU, the process measures whatever the load
    readings, ended = _readings(_exp())
    assert ended == "completed" and len(readings) == 12 and sent_on
    for _cpu, child_cpus in sent_on:  # (the thread may have moved between the send and the look: one CPU out)
        assert child_cpus < allowed and len(child_cpus) == len(allowed) - 1
    assert any(cpu not in child_cpus for cpu, child_cpus in sent_on)
