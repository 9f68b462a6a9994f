"""Where independent tasks (a sweep's trials, cross-validation's folds) run: here one after another ('serial'),
in worker processes on this machine ('local'), or as Ray tasks on a cluster ('ray'). Each backend yields
(task, result) as tasks finish, in any order; closing the generator cancels what has not started."""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator

from visualizer.core.errors import VisualizerError

BACKENDS = ("local", "ray", "serial")
#: what --backend ray says where Ray is not installed
RAY_MISSING = ("--backend ray: Ray is not installed; install the cluster extra with pip install \".[cluster]\" "
               "(or pip install \"ray>=2.40\"), or use --backend local")
#: retries of a Ray task whose worker was lost (a killed process, a node gone); the task's own errors are not retried
RAY_RETRIES = 3
#: how often a wait for results looks whether it was asked to stop (seconds)
STOP_CHECK_S = 0.1


class BackendMissing(VisualizerError):
    """The backend asked for is not installed (exit status 2, with how to install it)."""


def default_workers() -> int:
    """Worker processes by default: one per core this process may use, each computing with one torch thread
    (the thread policy: small models run fastest on one thread, and trials in parallel use every core)."""
    from visualizer.core.threads import cores

    return cores()


def import_ray():
    """The ray module, or BackendMissing saying how to install it."""
    try:
        import ray
    except ImportError:
        raise BackendMissing(RAY_MISSING) from None
    return ray


def run_tasks(fn: Callable, tasks: list, backend: str = "local", workers: int = 0, address: str | None = None,
              work_here: bool = True, stopped: Callable[[], bool] | None = None) -> Iterator[tuple[object, object]]:
    """Run ``fn(task)`` for every task on ``backend`` and yield (task, result) as each finishes. ``fn`` must be a
    module-level function (it is pickled by name); an exception it raises is re-raised here. ``workers``: local
    worker processes, or the CPUs of a Ray cluster started here (0: one per core). ``work_here``: the local
    backend runs tasks in this process too while its workers start (False in the window: its GUI thread must not
    compete with training for the interpreter). ``stopped()`` True: the generator ends within a fraction of a
    second, its running tasks abandoned (worker processes ended, Ray tasks cancelled)."""
    if backend not in BACKENDS:
        raise VisualizerError(f"--backend: {backend!r} is not known; allowed: {', '.join(BACKENDS)}")
    if workers < 0:
        raise VisualizerError(f"--workers: {workers} is out of range; allowed: 1 or more (0: one per core)")
    workers = workers or default_workers()
    if backend == "ray":
        return _ray(fn, tasks, workers, address, stopped or _never, work_here)
    if backend == "serial" or (work_here and (workers == 1 or len(tasks) <= 1)):
        return ((t, fn(t)) for t in tasks)
    return _local(fn, tasks, workers, work_here, stopped or _never)


def _never() -> bool:
    return False



#: how the local backend starts its workers, when set: 'spawn' or 'fork' (tests use it to take each way)
START_ENV = "VISUALIZER_WORKER_START"


def start_method(work_here: bool) -> str:
    """'fork' where it is safe and what it saves counts: on Linux, from a command-line process that works on tasks
    itself and runs no other thread; the worker then starts at once with torch already imported (spawning one
    imports torch and torch's compiler stub again: about 4 s on 2 cores, a third of a 16-trial sweep). 'spawn'
    elsewhere: macOS and Windows, and the window (its process has Qt's threads; a fork would copy their locks)."""
    forced = os.environ.get(START_ENV, "").strip().lower()
    if forced in ("spawn", "fork"):
        return forced
    if sys.platform.startswith("linux") and work_here and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _one_thread() -> None:
    """A worker process computes with one torch thread, and its OpenMP threads wait passively (core.threads)."""
    from visualizer.core.threads import ENV, wait_passively

    os.environ.setdefault(ENV, "1")
    wait_passively()


def _local(fn: Callable, tasks: list, workers: int, work_here: bool,
           stopped: Callable[[], bool]) -> Iterator[tuple[object, object]]:
    """``workers - 1`` worker processes and this process: it runs tasks itself while the workers start (a spawned
    process imports torch for a second or two; a forked one is up at once: ``start_method``), and collects the
    workers' results between its own. Without ``work_here``: ``workers`` worker processes, this one only
    collects."""
    pending = deque(tasks)
    children = max(1, min(workers - 1, len(tasks) - 1)) if work_here else max(1, min(workers, len(tasks)))
    ctx = multiprocessing.get_context(start_method(work_here))
    pool = cf.ProcessPoolExecutor(children, mp_context=ctx, initializer=_one_thread)
    inflight: dict[cf.Future, object] = {}
    finished = False
    try:
        yield from _feed(fn, pending, inflight, children, work_here, lambda task: pool.submit(fn, task), stopped,
                         done=lambda futures: [f for f in futures if f.done()], result=lambda f: f.result(),
                         wait=lambda futures: cf.wait(futures, timeout=STOP_CHECK_S,
                                                      return_when=cf.FIRST_COMPLETED))
        finished = not pending and not inflight
    finally:
        if not finished:  # stopped, or closed early: end the workers now rather than after their trials
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _feed(fn: Callable, pending: deque, inflight: dict, slots: int, work_here: bool, submit: Callable,
          stopped: Callable[[], bool], done: Callable, result: Callable, wait: Callable) -> Iterator[tuple]:
    """The loop of both parallel backends: keep ``slots`` workers fed from ``pending`` (one task running and one
    queued each; near the end one each when this process works too: a task queued on a worker at the end kept
    that core busy while this one had nothing left), yield (task, result) as tasks finish, and while nothing has
    come back run the next task here (``work_here``). ``inflight`` (handle -> task) is the caller's, to end what
    is left; ``submit(task)`` gives a handle, ``done(handles)`` those finished, ``result(handle)`` its result,
    ``wait(handles)`` waits up to STOP_CHECK_S for one. Ends early when ``stopped()``."""
    while (pending or inflight) and not stopped():
        queued = 2 if len(pending) > 2 * slots or not work_here else 1
        while pending and len(inflight) < queued * slots:
            task = pending.popleft()
            inflight[submit(task)] = task
        finished = done(list(inflight)) if inflight else []
        for handle in finished:
            yield inflight.pop(handle), result(handle)
        if finished:
            continue
        if pending and work_here:  # nothing has come back yet: this process takes the next task itself
            task = pending.popleft()
            yield task, fn(task)
        else:
            wait(list(inflight))


def _apply(fn: Callable, task):
    """A Ray task: ``fn(task)`` (Ray takes only plain functions; ``fn`` may be a functools.partial of one)."""
    return fn(task)


def _ray(fn: Callable, tasks: list, workers: int, address: str | None, stopped: Callable[[], bool],
         work_here: bool = True) -> Iterator[tuple[object, object]]:
    """Each task a Ray task (retried when its worker is lost); results come back to this process as they finish.
    Uses the Ray this process already joined, else ``address`` (a cluster), else a local one of ``workers`` CPUs
    that is shut down at the end.

    On a cluster of this machine alone (a local Ray) with ``work_here``, this process is one of its workers, as
    the local backend's is: Ray runs one task fewer than its CPUs at a time (each task asks for C/(C-1) of its C
    CPUs) and this process takes the next task itself whenever none has come back. A new Ray worker imports torch
    before its first task (about 2.2 s, most of it torch._dynamo, which torch.optim imports); this process has it
    already. On 2 cores, 16 moons trials, cold workers: 0.83x serial with two Ray workers, 0.64-0.67x this way
    (tasks on Ray and here at once on every core were slower: 0.92-1.15x). Elsewhere (a cluster of other machines, the
    window) every task is a Ray task of one CPU."""
    ray = import_ray()
    started_here = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise VisualizerError(f"--address {address}: cannot join the Ray cluster ({exc})" if address else
                                  f"--backend ray: cannot start a local Ray ({exc})") from None
        started_here = True
    slots = None  # Ray's tasks at a time beside this process's (None: every task goes to Ray at once)
    if work_here and len(tasks) > 1 and _this_machine_only(ray):
        cpus = int(ray.cluster_resources().get("CPU", 1))
        slots = cpus - 1 if cpus >= 2 else None
    options = dict(num_cpus=round((slots + 1) / slots, 4) if slots else 1, max_retries=RAY_RETRIES,
                   retry_exceptions=False)
    if inspect.isfunction(fn):  # the task carries the function's name ('ray::run_trial' in the process list)
        remote = ray.remote(**options)(fn)
        submit = remote.remote
    else:
        remote = ray.remote(**options)(_apply)
        submit = lambda task: remote.remote(fn, task)  # noqa: E731
    refs: dict = {}
    try:
        yield from _feed(fn, deque(tasks), refs, slots or len(tasks), slots is not None, submit, stopped,
                         done=lambda handles: ray.wait(handles, num_returns=len(handles), timeout=0)[0],
                         result=ray.get,
                         wait=lambda handles: ray.wait(handles, num_returns=1, timeout=STOP_CHECK_S))
    finally:
        for ref in refs:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def _this_machine_only(ray) -> bool:
    """Whether every node of the Ray cluster this process joined is this machine (a local Ray)."""
    try:
        here = ray.util.get_node_ip_address()
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        return bool(nodes) and all(node.get("NodeManagerAddress") == here for node in nodes)
    except Exception:  # noqa: BLE001 - a cluster that cannot say: treat it as other machines
        return False
