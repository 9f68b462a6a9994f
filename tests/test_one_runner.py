"""One runner: no thread, QThread, thread pool or child process is started anywhere in the package but the job
runner (visualizer/qt/jobs/), so that every background task has progress, cancel and a joined shutdown."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "visualizer"
RUNNER = "qt/jobs/"

#: ways to start concurrent work in Python and Qt
STARTS = {
    "a thread": r"\bthreading\.Thread\(|(?<![.\w])Thread\(|\bthreading\.Timer\(|\b_thread\.start_new",
    "a QThread or thread pool": r"\bQThread(Pool)?\b|\bQRunnable\b|\bQtConcurrent\b|\bmoveToThread\(",
    "a superqt worker": r"\bthread_worker\b|\bcreate_worker\b|\bnew_worker_qthread\b|\bGeneratorWorker\b",
    "an executor": r"\bconcurrent\.futures\b|\b(Thread|Process)PoolExecutor\b",
    "a child process": (r"\bQProcess\(|\bsubprocess\.(Popen|run|call|check_call|check_output|getoutput)\b|"
                        r"\bPopen\(|\bmultiprocessing\b|\bos\.(fork|forkpty|system|popen|spawn\w*|posix_spawn\w*|"
                        r"exec\w*)\(|\basyncio\.create_subprocess"),
}

#: (file, what it may start, why). Each must still match: remove an entry when its reason goes.
EXCEPTIONS = [
    # benchmarks time a fresh interpreter's start-up: they wait for each child (subprocess.run), from the
    # command line (`visualizer bench`), never from the window
    ("core/landscape/bench.py", "a child process", "`bench landscape` times a fresh process's first surface"),
    ("qt/app/bench_gui.py", "a child process", "`bench gui` times a fresh window's first paint"),
    ("core/bench_load.py", "a child process", "`bench --loaded` runs one busy process beside the measurement"),
    # a sweep's (and cross-validation's) local backend: worker processes that run independent trials; the window
    # runs the sweep itself as a job of its JobRunner, which cancels it (the pool is shut down and joined)
    ("core/sweeps/backends.py", "an executor", "the local backend's worker processes (trials, folds)"),
    ("core/sweeps/backends.py", "a child process", "the local backend spawns its workers (multiprocessing)"),
    # the lab's measuring process beside a training session (core, so in the training process and headless too,
    # where no runner exists): one child and the thread that reads its replies, kept warm for the next run like
    # multiprocessing's resource tracker; it ends at its parent's exit or when its input ends (tests kill the parent).
    # The thread reads its replies where the pipe cannot be polled (Windows); elsewhere the run's thread reads them
    ("core/lab/measuring_process.py", "a thread", "reads the measuring process's replies (Windows)"),
    ("core/lab/measuring_process.py", "a child process", "the sharpness measured beside training (core.lab.worker)"),
]


def _starts(text: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for i, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        for what, pattern in STARTS.items():
            if re.search(pattern, code):
                found.setdefault(what, []).append(i)
    return found


def test_nothing_outside_the_runner_starts_a_thread_or_a_process():
    allowed = {(f, what) for f, what, _why in EXCEPTIONS}
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(RUNNER):
            continue
        for what, lines in _starts(path.read_text(encoding="utf-8")).items():
            if (rel, what) not in allowed:
                offences.append(f"visualizer/{rel}:{lines} starts {what}")
    assert not offences, "use visualizer.qt.jobs.JobRunner instead:\n" + "\n".join(offences)


def test_every_exception_is_still_needed():
    for rel, what, why in EXCEPTIONS:
        assert what in _starts((PACKAGE / rel).read_text(encoding="utf-8")), f"{rel} no longer starts {what} " \
            f"({why}): remove it from EXCEPTIONS"


def test_the_grep_sees_what_it_looks_for():
    """The patterns catch the usual spellings (and the runner itself uses them)."""
    samples = {"a thread": "t = threading.Thread(target=f)", "a QThread or thread pool": "pool = QThreadPool()",
               "a superqt worker": "@thread_worker", "an executor": "ThreadPoolExecutor(2)",
               "a child process": "subprocess.Popen(['ls'])"}
    for what, line in samples.items():
        assert what in _starts(line), line
    assert "a child process" in _starts("p = QProcess(parent)")
    assert not _starts("from threading import Condition  # no Thread( here")
    runner = "".join(p.read_text(encoding="utf-8") for p in (PACKAGE / RUNNER).glob("*.py"))
    assert {"a thread", "a child process"} <= set(_starts(runner))
