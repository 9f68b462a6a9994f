"""`visualizer bench gui`: the window stays responsive while it trains at full speed, and paints fast."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def _digits_experiment(epochs: int):
    from visualizer.core.training.bench import digits_experiment

    return digits_experiment(epochs)


def headless_steps_per_s(exp, threads: int | None = None) -> float:
    """The session on this thread, with ``threads`` torch threads (None: the thread policy, as the window's) and
    the window's snapshots and pictures (the same work as a run in the window, without the window)."""
    import torch

    from visualizer.core.data.sets import load_dataset
    from visualizer.core.training.bench import session_loop
    from visualizer.qt.app.window_run import session_options

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        steps, seconds = session_loop(exp, load_dataset(exp.data), threads, session_options())
    finally:
        torch.set_num_threads(before)
    return steps / seconds


def waits_at_random_moments(late_ms, timer_ms: float, quantiles=(0.5, 0.95, 0.99)) -> list[float]:
    """How long an input arriving at a random moment of the run would wait for the GUI thread: the quantiles of that
    wait, in ms, from the lateness of a ``timer_ms`` timer's ticks.

    A tick ``late`` ms late means the thread was busy for (at least) the ``late`` ms before it, where an input waits
    out the rest of that stretch: ``late`` at its start, 0 at its end; the ``timer_ms`` between ticks it waits none.
    Unlike the ticks' own percentiles, a stall counts for as long as it lasts: a 400 ms stall is one late tick of
    some thousands, but 400 ms of a run in which nothing answers."""
    late = np.sort(np.asarray(late_ms, dtype=float))
    if late.size == 0:
        return [0.0 for _ in quantiles]
    n, total = late.size, late.size * timer_ms + late.sum()
    before = np.concatenate(([0.0], np.cumsum(late)[:-1]))  # sum of the stretches shorter than late[k]
    covered = before + (n - np.arange(n)) * late  # sum(min(late, w)) at w = late[k], the busy time waited <= w
    out = []
    for q in quantiles:
        need = q * total - n * timer_ms
        if need <= 0:
            out.append(0.0)
            continue
        k = min(int(np.searchsorted(covered, need)), n - 1)  # w lies in (late[k-1], late[k]]: linear there
        out.append(float((need - before[k]) / (n - k)))
    return out


def share_late(late_ms, over_ms: float = 1.0) -> float:
    """The share of a timer's ticks more than ``over_ms`` late. Its p95 reads the late ticks' own values once this
    share passes 5 %, and ~0 below: it counts the GUI thread's busy stretches (how often the timer meets one), not
    how long they last, so one frame drawn in one long stretch reads better than the same work in short parts."""
    late = np.asarray(late_ms, dtype=float)
    return float(np.mean(late > over_ms)) if late.size else 0.0


def first_paint_seconds() -> float:
    """Seconds from launching `python -m visualizer gui` to its first painted window."""
    from visualizer.qt.app.settings import visualizer_command

    t0 = time.time()
    out = subprocess.run([*visualizer_command(), "gui", "--first-paint-probe"], capture_output=True, text=True,
                         timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("first_paint "):
            return float(line.split()[1]) - t0
    raise RuntimeError(f"the window did not report its first paint: {out.stderr.strip()[-500:]}")


TIMER_MS = 5


def window_run(exp, timer_ms: int = TIMER_MS) -> dict:
    """Train ``exp`` in the window at full speed; lateness of a ``timer_ms`` GUI timer and the steps/s."""
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, Qt, QTimer

    from visualizer.core import experiment as experiment_file
    from visualizer.core.session_model import FINISHED
    from visualizer.qt.app.main_window import MainWindow
    from visualizer.qt.app.start import create_app
    from visualizer.qt.jobs.gc_policy import freeze_startup

    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VISUALIZER_CONFIG_DIR"] = str(Path(tmp) / "config")  # a window as a new user first sees it
        path = experiment_file.save(exp, Path(tmp) / "bench.toml")
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        window.finish_setup(path)
        deadline = time.perf_counter() + 60
        while (window.dataset is None or not window.bridge.ready) and time.perf_counter() < deadline:
            app.processEvents()  # the data loaded, and the training process warm (as a user finds it)
            time.sleep(0.005)
        freeze_startup()  # as the app does once its data set is in
        window.acts.speed.setCurrentText("Full speed")
        late: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            late.append(max(0.0, (now - last[0]) * 1000 - timer_ms))
            last[0] = now

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(tick)
        loop = QEventLoop()
        window.run_state_changed.connect(lambda state: loop.quit() if state == FINISHED else None)
        QTimer.singleShot(600_000, loop.quit)
        first_step: list[float] = []
        window.bridge.frame.connect(lambda frame: first_step.append(time.perf_counter())
                                    if not first_step and any(e.step >= 1 for e in frame.steps) else None)
        pressed = time.perf_counter()
        window._on_train()
        last[0] = time.perf_counter()
        timer.start(timer_ms)
        loop.exec()  # the real event loop, as the application runs it
        timer.stop()
        h = window.history
        steps = h.steps[-1] - h.steps[1]
        rate = steps / (h.wall_s[-1] - h.wall_s[1])
        threads = window.session.started.threads if window.session.started else 0
        window.close()
        # deleted now: a closed window lives on (its signals hold the lambdas that hold it), and the runs after it
        # and the interpreter's exit had to live with every window before (the exit crashed now and then)
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return {"late_ms": late, "steps_per_s": float(rate), "steps": int(h.steps[-1]), "threads": threads,
            "train_to_first_step_s": first_step[0] - pressed if first_step else None}


def bench_gui(epochs: int = 150, repeats: int = 3, paint_repeats: int = 3) -> dict:
    """Alternate headless and window runs of the digits MLP; lateness percentiles, steps/s ratio, first paint."""
    exp = _digits_experiment(epochs)
    exp = replace(exp, title="bench gui")

    from visualizer.core.threads import cores

    default_threads = cores()  # torch's own default: one per core
    headless, headless_default, window, late, first_steps = [], [], [], [], []
    headless_steps_per_s(replace(exp, train=replace(exp.train, epochs=2)))  # warm-up: torch's one-time imports
    for _ in range(repeats):
        headless.append(headless_steps_per_s(exp))  # at the policy's threads: the window's
        headless_default.append(headless_steps_per_s(exp, threads=default_threads))
        run = window_run(exp)
        window.append(run["steps_per_s"])
        late.extend(run["late_ms"])
        if run["train_to_first_step_s"] is not None:
            first_steps.append(run["train_to_first_step_s"])
    paints = [first_paint_seconds() for _ in range(paint_repeats)]
    same = statistics.median(headless)
    lat = np.asarray(late)
    return {
        "model": "digits MLP 64-128-128-10 relu, batch 32, adam",
        "steps_per_run": run["steps"],
        "repeats": repeats,
        "worker_threads": run["threads"],
        "headless_default_threads": default_threads,
        "p50_lateness_ms": float(np.percentile(lat, 50)),
        "p95_lateness_ms": float(np.percentile(lat, 95)),
        "max_lateness_ms": float(lat.max()),
        "late_over_1ms_share": share_late(lat),
        # the wait of an input at a random moment: a stall weighs as long as it lasts (see waits_at_random_moments)
        **dict(zip(("p50_wait_ms", "p95_wait_ms", "p99_wait_ms"), waits_at_random_moments(lat, TIMER_MS))),
        "timer_ticks": int(lat.size),
        "headless_steps_per_s": statistics.median(headless),
        "headless_default_threads_steps_per_s": statistics.median(headless_default),
        "window_steps_per_s": statistics.median(window),
        "steps_ratio": statistics.median(window) / same,  # at the same thread count
        "train_to_first_step_s": statistics.median(first_steps) if first_steps else None,  # the process warm
        "first_paint_s": statistics.median(paints),
        "first_paint_runs": paints,
    }
