"""The job runner itself: per-frame batches, progress, cancel, errors as messages, joined shutdown, a step that
outlasts the join timeout, pause and single steps, slowing down, a child process, latest-request-wins serving."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from PySide6.QtCore import QTimer

from visualizer.core.errors import VisualizerError
from visualizer.core.training.session import RunControl
from visualizer.qt.jobs import (
    FRAME_MS,
    MAX_FRAME_MS,
    Cancelled,
    JobEnded,
    JobRunner,
    Progress,
    Requests,
    adapt_frame_rate,
)

NAME = "test-job-worker"


def workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == NAME and t.is_alive()]


@pytest.fixture
def runner(qtbot):
    runner = JobRunner(thread_name=NAME, threads=None)
    batches, ends, progress = [], [], []
    runner.batch.connect(lambda items: batches.append((time.perf_counter(), list(items))))
    runner.ended.connect(ends.append)
    runner.progress.connect(progress.append)
    runner.batches, runner.ends, runner.progress_seen = batches, ends, progress
    yield runner
    runner.shutdown()


def records(runner) -> list:
    return [item for _t, items in runner.batches for item in items]


def test_records_arrive_in_order_in_one_batch_per_frame(runner, qtbot):
    def job(put, control) -> None:
        for chunk in range(40):
            for i in range(250):
                put(chunk * 250 + i)
            time.sleep(0.01)

    assert runner.start("count", job)
    assert runner.running and runner.kind == "count" and workers()
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=20000)
    assert records(runner) == list(range(10_000))  # every record, in order
    times = [t for t, _items in runner.batches]
    assert 2 <= len(times) < 10_000 / 50  # batched: one signal per frame, not one per record
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.5 * FRAME_MS / 1000
    ended = runner.ends[0]
    assert (ended.kind, ended.reason, ended.message) == ("count", "completed", "")
    assert ended.seconds >= 0.4 and not runner.running and not workers()


def test_every_frame_runners_emit_empty_frames(qtbot):
    runner = JobRunner(thread_name=NAME, threads=None, every_frame=True)
    got = []
    runner.batch.connect(got.append)
    release = threading.Event()
    runner.start("idle", lambda put, control: release.wait(5) and None)
    qtbot.waitUntil(lambda: len(got) >= 3, timeout=5000)
    assert all(batch == [] for batch in got)
    release.set()
    with qtbot.waitSignal(runner.ended, timeout=5000):
        pass
    assert not workers()


def test_the_frame_rate_slows_while_drawing_is_heavy_and_recovers():
    timer = QTimer()
    timer.setInterval(FRAME_MS)
    busy = [time.thread_time() - 0.030, time.perf_counter() - 0.033]  # 90 % of the GUI thread drawing
    adapt_frame_rate(timer, busy)
    assert timer.interval() == int(FRAME_MS * 1.25) + 1
    for _ in range(30):
        adapt_frame_rate(timer, [time.thread_time() - 0.030, time.perf_counter() - 0.033])
    assert timer.interval() == MAX_FRAME_MS
    for _ in range(30):
        adapt_frame_rate(timer, [time.thread_time(), time.perf_counter() - 1.0])  # idle
    assert timer.interval() == FRAME_MS


def test_progress_is_the_frames_latest_and_a_generator_is_iterated(runner, qtbot):
    def job(put, control):
        for i in range(1, 6):
            yield Progress(i / 5, f"{i} of 5")
            yield f"record {i}"

    runner.start("steps", job)
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    assert records(runner) == [f"record {i}" for i in range(1, 6)]  # Progress records are not in the batch
    assert runner.progress_seen[-1] == Progress(1.0, "5 of 5")
    assert runner.ends[0].reason == "completed"


def test_a_mapping_turns_the_jobs_own_records_into_progress(runner, qtbot):
    runner.start("fold", lambda put, control: iter(range(10)),
                 progress=lambda n: Progress(n / 9, f"item {n}") if n % 3 == 0 else None)
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    assert records(runner) == list(range(10))
    assert runner.progress_seen[-1] == Progress(1.0, "item 9")


def test_cancel_stops_a_generator_at_its_next_yield_and_delivers_now(runner, qtbot):
    closed = threading.Event()

    def job(put, control):
        def forever():
            try:
                i = 0
                while True:
                    yield i
                    i += 1
                    time.sleep(0.001)
            finally:
                closed.set()  # the runner closes the generator: its clean-up runs on the worker

        return forever()

    runner.start("forever", job)
    qtbot.waitUntil(lambda: bool(records(runner)), timeout=5000)
    runner.cancel()
    assert runner.ends and runner.ends[0].reason == "stopped"  # delivered by cancel itself
    assert closed.is_set() and not runner.running and not workers()
    got = records(runner)
    assert got == list(range(len(got)))


def test_a_job_that_calls_put_stops_when_it_checks_the_control(runner, qtbot):
    def job(put, control) -> None:
        while not control.stopped:
            put("working")
            time.sleep(0.005)

    runner.start("loop", job)
    qtbot.waitUntil(lambda: bool(records(runner)), timeout=5000)
    runner.cancel()
    assert [e.reason for e in runner.ends] == ["stopped"]


def test_cancelled_raised_inside_a_job_ends_it_as_stopped(runner, qtbot):
    def job(put, control) -> None:
        put(1)
        raise Cancelled

    runner.start("early", job)
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    assert runner.ends[0].reason == "stopped" and records(runner) == [1]


@pytest.mark.parametrize(("error", "message"), [
    (ValueError("the width must be positive"), "ValueError: the width must be positive"),
    (VisualizerError("unknown optimizer 'adamx'"), "unknown optimizer 'adamx'"),
])
def test_an_error_in_a_job_becomes_its_message(runner, qtbot, capfd, error, message):
    def job(put, control) -> None:
        put("before")
        raise error

    runner.start("broken", job)
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    ended = runner.ends[0]
    assert (ended.reason, ended.message) == ("failed", message)
    assert records(runner) == ["before"]  # what it produced before it failed still arrives
    assert "Traceback" not in capfd.readouterr().err
    assert not workers()


def test_shutdown_joins_and_delivers_nothing(runner, qtbot):
    runner.start("loop", lambda put, control: iter(lambda: time.sleep(0.002) or "x", None))
    qtbot.waitUntil(lambda: bool(workers()), timeout=5000)
    assert runner.shutdown()
    assert not workers() and not runner.running
    qtbot.wait(3 * FRAME_MS)
    assert runner.ends == []


def test_one_job_at_a_time(runner, qtbot):
    release = threading.Event()
    assert runner.start("first", lambda put, control: release.wait(5) and None)
    assert not runner.start("second", lambda put, control: None)
    assert runner.refusal == "a first is still running"
    release.set()
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    assert runner.start("second", lambda put, control: None)
    qtbot.waitUntil(lambda: len(runner.ends) == 2, timeout=5000)


def test_a_step_longer_than_the_join_timeout_blocks_the_next_start_until_it_ends(runner, qtbot):
    in_step, release = threading.Event(), threading.Event()

    def job(put, control) -> None:
        in_step.set()
        release.wait(10)  # one long step that does not look at the control

    runner.start("slow", job)
    assert in_step.wait(5)
    t0 = time.perf_counter()
    assert not runner.shutdown(timeout=0.1)  # not ended: the thread is still in its step
    assert time.perf_counter() - t0 < 2 and not runner.running and runner.finishing
    assert not runner.start("next", lambda put, control: None)
    assert "still finishing its current step" in runner.refusal and len(workers()) == 1
    release.set()
    qtbot.waitUntil(lambda: not workers(), timeout=5000)
    assert not runner.finishing
    assert runner.start("next", lambda put, control: None)
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    assert [e.kind for e in runner.ends] == ["next"]  # the abandoned job reported nothing


def test_cancel_of_a_longer_step_delivers_the_end_with_a_later_frame(runner, qtbot):
    release = threading.Event()
    runner.start("slow", lambda put, control: release.wait(10) and None)
    runner.cancel(timeout=0.05)
    assert runner.running and not runner.ends  # still in its step: the runner keeps draining
    release.set()
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    assert runner.ends[0].reason == "stopped" and not workers()


def test_pause_single_steps_and_live_learning_rate_reach_a_job_that_honours_the_control(runner, qtbot):
    lrs = []

    def job(put, control) -> None:
        step = 0
        while control.wait_turn():
            lr = control.take_lr()
            if lr is not None:
                lrs.append(lr)
            step += 1
            put(step)
            time.sleep(0.001)

    control = RunControl()
    control.pause()
    runner.start("train", job, control=control)
    assert runner.control is control
    qtbot.wait(100)
    assert records(runner) == []  # paused from the start
    runner.step(3)
    qtbot.waitUntil(lambda: len(records(runner)) == 3, timeout=5000)
    qtbot.wait(100)
    assert records(runner) == [1, 2, 3]  # exactly three steps, then paused again
    runner.set_lr(0.5)
    runner.step(1)
    qtbot.waitUntil(lambda: len(records(runner)) == 4, timeout=5000)
    assert lrs == [0.5]
    runner.resume()
    qtbot.waitUntil(lambda: len(records(runner)) > 20, timeout=5000)
    runner.pause()
    runner.cancel()
    assert runner.ends[0].reason == "stopped" and not workers()


def test_a_delay_spaces_the_paced_records_out_and_a_stop_wakes_it(runner, qtbot):
    stamps = []

    def job(put, control) -> None:
        for i in range(6):
            stamps.append(time.perf_counter())
            put(("step", i))
            put(("note", i))  # not paced
        control.wait_turn()

    runner.set_delay(0.05)
    runner.start("paced", job, paced=lambda record: record[0] == "step")
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=5000)
    assert stamps[-1] - stamps[0] >= 0.95 * 0.05 * 5, stamps  # one paced record per 0.05 s on average
    runner.ends.clear()

    runner.set_delay(30.0)  # a very slow run still stops at once
    runner.start("slow", job, paced=lambda record: record[0] == "step")
    qtbot.waitUntil(lambda: bool(records(runner)), timeout=5000)
    t0 = time.perf_counter()
    runner.cancel()
    assert time.perf_counter() - t0 < 1 and runner.ends[0].reason == "stopped"


PROCESS = """
import sys, time
print("first.gif", flush=True)
for i in (1, 2, 3):
    print(f"progress view {i} 3", file=sys.stderr, flush=True)
print("second.mp4", flush=True)
if sys.argv[1] == "fail":
    print("error: the folder is a file", file=sys.stderr, flush=True)
    sys.exit(2)
if sys.argv[1] == "sleep":
    time.sleep(60)
"""


def _parse(line: str):
    parts = line.split()
    return tuple(parts) if parts and parts[0] == "progress" else None


def test_a_child_process_has_the_same_signals(runner, qtbot):
    assert runner.start_process("export", sys.executable, ["-c", PROCESS, "ok"], parse=_parse,
                                progress=lambda r: Progress(int(r[2]) / 3) if isinstance(r, tuple) else None)
    assert runner.running and runner.control is None
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=30000)
    got = records(runner)  # stdout and stderr are two pipes: each in order, not with each other
    assert [r for r in got if isinstance(r, str)] == ["first.gif", "second.mp4"]
    assert [r for r in got if isinstance(r, tuple)] == [("progress", "view", str(i), "3") for i in (1, 2, 3)]
    assert runner.progress_seen[-1] == Progress(1.0)
    assert runner.ends[0].reason == "completed" and not runner.running


def test_a_failed_child_process_is_its_last_error_line(runner, qtbot):
    runner.start_process("export", sys.executable, ["-c", PROCESS, "fail"], parse=_parse)
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=30000)
    assert (runner.ends[0].reason, runner.ends[0].message) == ("failed", "error: the folder is a file")


def test_a_child_process_that_cannot_start_is_a_message(runner, qtbot):
    runner.start_process("export", "/nonexistent/visualizer", [])
    qtbot.waitUntil(lambda: bool(runner.ends), timeout=10000)
    assert runner.ends[0].reason == "failed" and "could not start /nonexistent/visualizer" in runner.ends[0].message


def test_cancelling_a_child_process_ends_it(runner, qtbot):
    runner.start_process("export", sys.executable, ["-c", PROCESS, "sleep"], parse=_parse)
    qtbot.waitUntil(lambda: "second.mp4" in records(runner), timeout=30000)
    runner.cancel()
    assert runner.ends[0].reason == "stopped" and not runner.running  # reaped: the leftover fixture checks


def test_shutting_down_ends_a_child_process(runner, qtbot):
    runner.start_process("export", sys.executable, ["-c", PROCESS, "sleep"], parse=_parse)
    qtbot.waitUntil(lambda: "second.mp4" in records(runner), timeout=30000)
    assert runner.shutdown() and runner.ends == []


def test_a_served_job_takes_the_latest_request(runner, qtbot):
    requests = Requests()
    first_taken, release = threading.Event(), threading.Event()
    abandoned = []

    def serve(put, control) -> None:
        while (request := requests.take()) is not None:
            if request == 1:
                first_taken.set()
                release.wait(5)
                if requests.superseded():
                    abandoned.append(request)  # a newer request is waiting: give this one up
                    continue
            put(f"done {request}")

    runner.serve("surface", serve, requests)
    assert runner.submit(1)
    assert first_taken.wait(5)
    for request in (2, 3, 4):  # while 1 is evaluated; only the latest is kept
        assert runner.submit(request)
    release.set()
    qtbot.waitUntil(lambda: records(runner) == ["done 4"], timeout=5000)
    assert abandoned == [1] and runner.running  # long-lived: it waits for the next request
    assert runner.submit(5, key="probe") and runner.submit(6)
    qtbot.waitUntil(lambda: len(records(runner)) == 3, timeout=5000)
    assert sorted(records(runner)[1:]) == ["done 5", "done 6"]
    assert runner.shutdown()  # wakes it in take() and joins
    assert not workers() and runner.ends == []
    assert runner.submit(7)  # a later request starts it again
    qtbot.waitUntil(lambda: records(runner)[-1] == "done 7", timeout=5000)
    runner.cancel()
    assert runner.ends[-1] == JobEnded("surface", "stopped", "", runner.ends[-1].seconds)


def test_a_preferred_kind_of_request_is_taken_first():
    requests = Requests()
    requests.submit("surface 1", key="surface")
    requests.submit("probe 1", key="probe")
    requests.submit("surface 2", key="surface")  # replaces surface 1, keeps its place
    assert requests.take("probe") == "probe 1"
    assert requests.superseded("surface") and not requests.superseded("probe")
    assert requests.take("probe") == "surface 2"
    requests.close()
    assert requests.take() is None and requests.superseded("probe")


def test_garbage_is_collected_on_the_gui_thread_never_on_a_job_thread(qtbot):
    """A Qt object freed by the cyclic collector on a worker thread can hang the window (qt.jobs.gc_policy): with a
    runner alive, automatic collection is off and the GUI thread's timer collects, what a job allocates included."""
    import gc

    from visualizer.qt.jobs import JobRunner

    runner = JobRunner(thread_name="gc-test-worker")
    assert not gc.isenabled()
    freed_on: list[str] = []
    collected_on: list[str] = []

    class Cycle:
        def __init__(self):
            self.me = self

        def __del__(self):
            freed_on.append(threading.current_thread().name)

    def job(put, control):
        Cycle()  # garbage in a cycle, then far more live containers than the collector's threshold
        put([[i] for i in range(50 * gc.get_threshold()[0])])

    kept = []
    runner.batch.connect(kept.extend)  # the job's containers stay alive: a collection is due, and comes
    record = lambda phase, info: collected_on.append(threading.current_thread().name) if phase == "start" else None
    gc.callbacks.append(record)
    try:
        assert runner.start("gc", job)
        qtbot.waitUntil(lambda: not runner.running, timeout=10_000)
        qtbot.waitUntil(lambda: bool(freed_on), timeout=5_000)
    finally:
        gc.callbacks.remove(record)
        runner.shutdown()
    assert kept and freed_on == [threading.main_thread().name]
    assert collected_on and set(collected_on) == {threading.main_thread().name}


def test_after_the_start_is_frozen_new_garbage_is_still_collected():
    """freeze_startup (run once the window is up) leaves the objects alive then out of later collections, which is
    what keeps a full collection from stalling the window; garbage made after it is collected as before. In a
    fresh interpreter: a freeze would keep this test process's objects for good."""
    import subprocess
    import sys

    script = (
        "import gc, os, weakref\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from visualizer.qt.app.start import create_app\n"
        "app = create_app()\n"
        "from visualizer.qt.jobs import gc_policy\n"
        "class Node: pass\n"
        "old = Node(); old.me = old; old_ref = weakref.ref(old)\n"
        "frozen = gc_policy.freeze_startup()\n"
        "del old\n"
        "new = Node(); new.me = new; new_ref = weakref.ref(new); del new\n"
        "gc.collect()\n"
        "print(frozen, old_ref() is not None, new_ref() is None, gc.isenabled())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    frozen, old_kept, new_freed, automatic = done.stdout.split()
    assert int(frozen) > 10_000 and old_kept == "True"  # a cycle among the frozen stays: they live with the window
    assert new_freed == "True" and automatic == "False"  # and the collection stays on the GUI thread's timer
