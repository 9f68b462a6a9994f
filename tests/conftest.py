"""Every test, in every folder, must end what it started: a thread or a child process still running after it fails
it (napari's conftest does the same for threads). Work in the window goes through the job runner, whose shutdown
joins; a test that leaves something behind shows a window or a runner that does not."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from pathlib import Path

import pytest

#: threads that libraries start once and keep for the life of the process, by name. None so far: torch's and
#: Qt's pools are native threads that ``threading`` does not list.
LONG_LIVED_THREADS: frozenset[str] = frozenset({"lab-measuring-reader"})
#: helper processes that Python starts once and keeps for the life of the process, by what their command line runs:
#: the resource tracker that the first spawned child starts, and the lab's measuring process that the first run
#: measuring sharpness starts and later runs reuse (both end when this process ends: no orphan)
LONG_LIVED_PROCESSES: tuple[str, ...] = ("multiprocessing.resource_tracker", "visualizer.core.lab.worker")


def child_pids() -> set[int]:
    """The pids of this process's children, from Linux's /proc (psutil is not a dependency); empty elsewhere."""
    pids: set[int] = set()
    for children in Path("/proc/self/task").glob("*/children"):
        try:
            pids.update(int(pid) for pid in children.read_text().split())
        except OSError:  # the thread ended while we looked
            continue
    return pids


@pytest.fixture(autouse=True)
def _nothing_left_running():
    """Fail a test that leaves a thread, a multiprocessing child or any child process (QProcess, subprocess)."""
    before_threads, before_children = set(threading.enumerate()), child_pids()
    yield
    if (gc_policy := sys.modules.get("visualizer.qt.jobs.gc_policy")) is not None:
        gc_policy.collect_if_due()  # garbage is collected on this thread only once a window ran (qt.jobs.gc_policy)
    # no grace period: what was stopped and joined (or waited for) has ended by now
    threads = [t for t in threading.enumerate()
               if t not in before_threads and t.is_alive() and t.name not in LONG_LIVED_THREADS]
    processes = multiprocessing.active_children()
    children = {pid for pid in child_pids() - before_children
                if not any(name in _commands({pid}) for name in LONG_LIVED_PROCESSES)}
    problems = []
    if threads:
        problems.append(f"threads still running: {sorted(t.name for t in threads)}")
    if processes:
        problems.append(f"multiprocessing children still running: {processes}")
    if children:
        problems.append(f"child processes still running: {_commands(children)}")
    assert not problems, "the test left work behind: " + "; ".join(problems)


def _commands(pids: set[int]) -> str:
    names = []
    for pid in sorted(pids):
        try:
            names.append(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip()[:120])
        except OSError:
            names.append(str(pid))
    return ", ".join(names)


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray of 2 CPUs for all the Ray tests (starting one takes ~10 s); skipped without ray."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
