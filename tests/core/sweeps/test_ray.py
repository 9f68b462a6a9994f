"""The Ray backend on a local cluster started here (2 CPUs): the same table as the serial run, and a worker killed
during a trial leads to a retry and a complete table."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.core.sweeps.test_runner import SAME, _plan, _table
from visualizer.core.sweeps.backends import run_tasks
from visualizer.core.sweeps.runner import run_sweep

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray


def test_ray_gives_the_serial_table(tmp_path, local_ray):
    list(run_sweep(_plan(seeds=2), tmp_path / "serial", backend="serial"))
    list(run_sweep(_plan(seeds=2), tmp_path / "ray", backend="ray"))
    serial, on_ray = _table(tmp_path / "serial"), _table(tmp_path / "ray")
    assert [r["trial"] for r in serial] == [r["trial"] for r in on_ray]
    for a, b in zip(serial, on_ray):
        assert {k: a[k] for k in SAME} == {k: b[k] for k in SAME}
        assert (tmp_path / "ray" / b["run"]).read_bytes()[:16] == b"SQLite format 3\x00"  # the bytes came back


def test_on_a_local_ray_this_process_works_too_and_ray_runs_one_task_fewer_than_its_cpus(local_ray):
    def where(task):  # (pickled by value: Ray's workers need not import the tests)
        import os
        import time

        start = time.monotonic()  # (CLOCK_MONOTONIC: one clock for every process of the machine)
        time.sleep(0.3)
        return os.getpid(), start, time.monotonic()

    results = dict(run_tasks(where, list(range(8)), backend="ray"))
    assert sorted(results) == list(range(8))
    pids = {pid for pid, _start, _end in results.values()}
    assert os.getpid() in pids and len(pids) >= 2  # tasks here and on Ray
    on_ray = [(start, end) for pid, start, end in results.values() if pid != os.getpid()]
    cpus = int(local_ray.cluster_resources()["CPU"])
    for start, end in on_ray:  # this process is one of the machine's workers: Ray keeps a CPU for it
        assert sum(1 for a, b in on_ray if a < end and start < b) <= cpus - 1
    assert list(run_tasks(where, [0], backend="ray", work_here=False))[0][1][0] != os.getpid()  # (the window's way)


def _trial_workers() -> list[int]:
    """Ray worker processes running a trial now (Ray titles them 'ray::run_trial')."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(b"ray::run_trial"):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_the_table_is_complete(tmp_path, local_ray):
    params = ("train.lr=0.01,0.3", "train.momentum=0,0.9", "train.epochs=150")
    killed: list[int] = []
    stop = threading.Event()

    def kill_one():
        while not stop.is_set() and not killed:
            pids = _trial_workers()
            if pids:
                time.sleep(0.2)  # inside the trial
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one, name="ray-worker-killer")
    killer.start()
    try:
        list(run_sweep(_plan(params=params), tmp_path / "ray", backend="ray"))
    finally:
        stop.set()
        killer.join()
    assert killed, "no Ray worker was seen running a trial"
    list(run_sweep(_plan(params=params), tmp_path / "serial", backend="serial"))
    serial, on_ray = _table(tmp_path / "serial"), _table(tmp_path / "ray")
    assert [r["trial"] for r in on_ray] == ["0000", "0001", "0002", "0003"]  # each once, none lost
    for a, b in zip(serial, on_ray):
        assert {k: a[k] for k in SAME} == {k: b[k] for k in SAME}
