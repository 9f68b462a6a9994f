"""Recording a run into a new run file while it trains (see ``schema`` for the layout).

The writer commits at most every ``COMMIT_INTERVAL_S`` seconds (or ``COMMIT_EVERY`` events, and on every snapshot
and the end), in WAL mode, so a killed process leaves a readable run up to its last commit and another process can
follow a run while it is written. The experiment is recorded with its CSV path made absolute, so that the run finds
its data from any working directory. A full disk stops the recording with one DiskFull error; what was committed
before it stays readable.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import torch

from visualizer.core import experiment as experiment_file
from visualizer.core.data.csv_file import with_absolute_path
from visualizer.core.errors import DiskFull, VisualizerError, disk_full
from visualizer.core.experiment import Experiment
from visualizer.core.files import give_umask_permissions
from visualizer.core.runs.schema import (
    FORMAT_VERSION,
    SCHEMA,
    STEP_SQL,
    SUFFIX,
    RunFileExists,
    npy,
    started_json,
)
from visualizer.core.training.events import Measured, RunEnded, RunStarted, Snapshot, StepEvent, WeightEdited

COMMIT_INTERVAL_S = 0.2
COMMIT_EVERY = 1000
#: pages the WAL may hold before SQLite folds it into the file (64 MB of 4 kB pages; SQLite's default, 1000 pages,
#: folded a run in every 4 MB, with two fsyncs each: ~half the cost of recording `bench gui`'s digits run). A
#: run's WAL is folded in when it closes in any case; a killed writer leaves it beside the file, still readable.
WAL_PAGES = 16384


def _app_version() -> str:
    from visualizer import __version__

    return __version__


#: a run file's name stays well inside a file system's 255 bytes, with room for -N, .sqlite, -wal and a temp prefix
MAX_NAME_BYTES = 120


def run_file_name(title: str, when: str = "") -> str:
    """A file name for a run titled ``title`` (letters and digits kept, the rest as dashes, lower case), after the
    time ``when``; cut to MAX_NAME_BYTES of UTF-8 whatever the title's length or script."""
    name = "".join(c if c.isalnum() else "-" for c in title).strip("-").lower() or "run"
    name = f"{when}-{name}" if when else name
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    return name.rstrip("-") or "run"


def unique_run_path(folder: str | Path, name: str) -> Path:
    """``folder/name.sqlite``, or ``name-2.sqlite``, ``name-3.sqlite``… when that is taken."""
    folder = Path(folder)
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    path, n = folder / f"{stem}{SUFFIX}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{SUFFIX}"
    return path


def create_run_file(folder: str | Path, name: str, experiment: Experiment, started: RunStarted | None = None,
                    base_dir: str | Path | None = None) -> RunWriter:
    """A RunWriter on a new file in ``folder``, named after ``name`` with a number added if the name is taken;
    ``base_dir`` is the experiment file's folder (a relative CSV path is taken from there)."""
    for _ in range(1000):
        try:
            return RunWriter(unique_run_path(folder, name), experiment, started, base_dir)
        except FileExistsError:  # another writer took the name between the check and the link: try the next
            continue
    raise VisualizerError(f"{folder}: cannot find a free name for the run file '{name}'")


class RunWriter:
    """Records one run into a new SQLite file; ``add(event)`` takes every event of a TrainingSession.

    The file never replaces an existing one: it is built under a temporary name and linked into place, which fails
    when the name is taken (FileExistsError, a VisualizerError too). ``started`` may come later, as the first event.
    ``base_dir`` resolves a relative CSV path (the experiment file's folder; None: the working directory, as
    ``load_dataset`` does).
    """

    def __init__(self, path: str | Path, experiment: Experiment, started: RunStarted | None = None,
                 base_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        if self.path.exists():
            raise RunFileExists(f"{self.path} already exists; a run file is never overwritten")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        base = Path(base_dir) if base_dir is not None else None
        self.experiment = replace(experiment, data=with_absolute_path(experiment.data, base))
        self._create(self.experiment, started)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process
        self._db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
        self._db.execute("BEGIN")
        self._rows: list[tuple] = []  # step rows not yet written
        self._last_commit = time.monotonic()
        self._started = started
        self.closed = False
        self.committed_step: int | None = None  # the last step a reader can see
        self._pending_step: int | None = None
        self._failed: DiskFull | None = None

    def _create(self, experiment: Experiment, started: RunStarted | None) -> None:
        text = experiment_file.dumps(experiment)
        experiment_file.loads(text, source=f"{self.path}: the experiment to record")  # a run must read back
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as exc:
            raise disk_full(exc, f"cannot create the run file {self.path}") or exc from None
        os.close(fd)
        give_umask_permissions(tmp)  # the run file is the user's: readable as their other files are
        try:
            db = sqlite3.connect(tmp)
            try:
                with db:
                    db.executescript(SCHEMA)
                    meta = {"format_version": str(FORMAT_VERSION), "app_version": _app_version(),
                            "created": datetime.now(UTC).isoformat(timespec="seconds"),
                            "experiment": text}
                    if started is not None:
                        meta["started"] = started_json(started)
                    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            except sqlite3.OperationalError as exc:
                raise disk_full(exc, f"cannot create the run file {self.path}") or exc from None
            finally:
                db.close()
            try:
                os.link(tmp, self.path)  # atomic, and refuses an existing name
            except FileExistsError:
                raise RunFileExists(f"{self.path} already exists; a run file is never overwritten") from None
            except OSError:  # a file system without hard links
                if self.path.exists():
                    raise RunFileExists(f"{self.path} already exists; a run file is never overwritten") from None
                os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- recording ----------------------------------------------------------------------------------
    def add(self, event) -> None:
        """Record one event (RunStarted, StepEvent, Snapshot, Measured, WeightEdited or RunEnded); a full disk
        raises DiskFull."""
        if self.closed or self._failed is not None:
            raise self._failed or VisualizerError(f"{self.path}: the run file is closed")
        if type(event) is StepEvent:  # the hot path: a row kept in memory, written with the others at the commit
            self._rows.append(event)  # (a named tuple: the row as it is)
            self._pending_step = event.step
            if len(self._rows) >= COMMIT_EVERY or time.monotonic() - self._last_commit >= COMMIT_INTERVAL_S:
                self.commit()
            return
        try:
            self._add(event)
        except sqlite3.OperationalError as exc:
            raise self._full(exc) from None

    def _add(self, event) -> None:
        db = self._db
        if isinstance(event, Snapshot):
            self._add_snapshot(event)
            self.commit()
        elif isinstance(event, Measured):  # a few rows every N steps: written with the next commit
            db.executemany("INSERT INTO measures VALUES (?, ?, ?, ?)",
                           [(event.step, name, layer, value) for name, layer, value in event.rows])
        elif isinstance(event, RunEnded):
            db.execute("INSERT INTO ended VALUES (?, ?, ?, ?)", (event.step, event.reason, event.message,
                                                                   event.wall_s))
            self.commit()
        elif isinstance(event, WeightEdited):
            from visualizer.core.runs.edits import write_edit

            write_edit(db, event)
            self.commit()
        elif isinstance(event, RunStarted):
            if self._started is None:
                db.execute("INSERT INTO meta VALUES ('started', ?)", (started_json(event),))
                self._started = event
                self.commit()
        else:
            raise TypeError(f"not a training event: {type(event).__name__}")

    def _add_snapshot(self, s: Snapshot) -> None:
        b, curve = s.boundary, s.curve or (None, None)
        cur = self._db.execute(
            "INSERT INTO snapshots (step, epoch, params, boundary_xs, boundary_ys, boundary_probs, curve_x, curve_y,"
            " confusion) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.step, s.epoch, npy(s.params), npy(b and b.xs), npy(b and b.ys), npy(b and b.probs),
             npy(curve[0]), npy(curve[1]), npy(s.confusion)))
        self._db.executemany(
            "INSERT INTO histograms VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(cur.lastrowid, i, h.name, npy(h.weight_edges), npy(h.weight_counts), npy(h.grad_edges),
              npy(h.grad_counts)) for i, h in enumerate(s.layers)])

    def add_weights(self, model_or_state: torch.nn.Module | dict[str, torch.Tensor]) -> None:
        """Store the final weights (a model's state_dict, or a dict of tensors) as safetensors bytes."""
        from safetensors.torch import save

        if self._failed is not None:
            raise self._failed
        state = model_or_state.state_dict() if isinstance(model_or_state, torch.nn.Module) else model_or_state
        payload = save({k: v.detach().cpu().contiguous() for k, v in state.items()})
        try:
            self._db.execute("DELETE FROM weights")
            self._db.execute("INSERT INTO weights VALUES (?)", (payload,))
        except sqlite3.OperationalError as exc:
            raise self._full(exc) from None
        self.commit()

    def _flush_steps(self) -> None:
        if self._rows:
            self._db.executemany(STEP_SQL, self._rows)
            self._rows = []

    def commit(self) -> None:
        """Make everything added so far visible to readers and safe from a crash; a full disk raises DiskFull."""
        if self._failed is not None:
            raise self._failed
        try:
            self._flush_steps()
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
        except sqlite3.OperationalError as exc:
            raise self._full(exc) from None
        self.committed_step = self._pending_step
        self._last_commit = time.monotonic()

    def _full(self, error: sqlite3.OperationalError) -> Exception:
        """The error to raise for a failed write: DiskFull (saying what the file keeps) for a full disk, which
        also ends the recording (SQLite has rolled the transaction back); else the error itself."""
        self._rows = []  # rows that will never be written
        kept = (f"keeps the run up to step {self.committed_step}" if self.committed_step is not None
                else "holds no step yet")
        full = disk_full(error, f"the run file {self.path} {kept}")
        if full is None:
            return error
        self._failed = full
        return full

    def close(self) -> None:
        """Commit and close; the file becomes one self-contained file unless a reader still has it open. After
        a full disk it only closes: what was committed stays (in the -wal file beside it when the disk had no
        room to fold it in)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._failed is None:
                self._flush_steps()
                if self._db.in_transaction:
                    self._db.execute("COMMIT")
                self.committed_step = self._pending_step
        except sqlite3.OperationalError as exc:
            error = self._full(exc)
            self._db.close()
            raise error from None
        try:  # leaving WAL needs the file to ourselves; a live reader keeps the -wal file beside it, still valid
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._db.execute("PRAGMA busy_timeout=0")
            self._db.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:
            pass
        self._db.close()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        try:  # the error that ended the recording is the one to report, not a second one from closing
            self.close()
        except Exception:  # noqa: BLE001
            pass


def record(session, path: str | Path):
    """Run a TrainingSession to the end while recording it to a new run file at ``path``; returns a RunReader."""
    from visualizer.core.runs.reader import RunReader

    with RunWriter(path, session.experiment, base_dir=session.base_dir) as writer:
        for event in session.run():
            writer.add(event)
        if session.model is not None:
            writer.add_weights(session.model)
    return RunReader(path)
