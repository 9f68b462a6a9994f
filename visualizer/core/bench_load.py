"""A busy process beside a benchmark (`visualizer bench ... --loaded`): users always run something else, and a
figure that holds only on an idle machine is not met. The busy process is this program's own `bench busy`, a loop
that keeps one core at 100 % until it is killed."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

#: the speeds each benchmark compares loaded against unloaded: (key, True when higher is better)
SPEEDS = {
    "train": (("session_steps_per_s", True), ("plain_steps_per_s", True)),
    "gui": (("window_steps_per_s", True), ("headless_steps_per_s", True)),
    "landscape": (("moons_batched_s", False), ("digits_batched_s", False)),
}


def busy_command() -> list[str]:
    """How to start `visualizer bench busy` from here: the packaged program, or this Python with -m."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "bench", "busy"]
    return [sys.executable, "-m", "visualizer", "bench", "busy"]


def spin_forever() -> None:
    """The busy process's work: one core at 100 % until killed."""
    while True:
        pass


@contextlib.contextmanager
def busy_process() -> Iterator[None]:
    """One busy process for the duration of the block; killed and reaped when it ends."""
    proc = subprocess.Popen(busy_command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # it is running before the measurement starts
        yield
    finally:
        proc.kill()
        proc.wait()


def loaded_and_unloaded(kind: str, measure) -> dict:
    """``measure()`` on its own and beside a busy process; both results and, for each headline speed, loaded over
    unloaded (1 = unaffected; the goal is at least 0.8)."""
    unloaded = measure()
    with busy_process():
        loaded = measure()
    ratios = {}
    for key, higher_better in SPEEDS[kind]:
        a, b = unloaded.get(key), loaded.get(key)
        if a and b:
            ratios[key] = b / a if higher_better else a / b
    return {"unloaded": unloaded, "loaded": loaded, "loaded_over_unloaded": ratios}
