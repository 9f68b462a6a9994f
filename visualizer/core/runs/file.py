"""The run file: one SQLite file per run, written while it trains, read for the library, replay and export.

The writer commits at most every ``COMMIT_INTERVAL_S`` seconds (or ``COMMIT_EVERY`` events, and on every snapshot
and the end), in WAL mode, so a killed process leaves a readable run up to its last commit and another process can
follow a run while it is written. Arrays are stored as ``.npy`` bytes and weights as safetensors: never pickled.
"""

from __future__ import annotations

import bisect
import io
import json
import os
import sqlite3
import tempfile
import time
from dataclasses import asdict, fields
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path

import numpy as np
import torch

from visualizer.core import experiment as experiment_file
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import Experiment
from visualizer.core.training.events import BoundaryGrid, LayerHistogram, RunEnded, RunStarted, Snapshot, StepEvent
from visualizer.core.training.history import History

FORMAT_VERSION = 1
SUFFIX = ".sqlite"
COMMIT_INTERVAL_S = 0.2
COMMIT_EVERY = 1000
_SQLITE_HEADER = b"SQLite format 3\x00"
STEP_COLUMNS = tuple(f.name for f in fields(StepEvent))
_STEP_ROW = attrgetter(*STEP_COLUMNS)  # one C call per step instead of a loop over the fields
STEP_SQL = f"INSERT INTO steps VALUES ({', '.join('?' * len(STEP_COLUMNS))})"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE steps (step INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, train_loss REAL, lr REAL, wall_s REAL,
                    val_loss REAL, train_metric REAL, val_metric REAL, eval_train_loss REAL);
CREATE TABLE snapshots (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, epoch INTEGER NOT NULL, params BLOB NOT NULL,
                        boundary_xs BLOB, boundary_ys BLOB, boundary_probs BLOB, curve_x BLOB, curve_y BLOB,
                        confusion BLOB);
CREATE INDEX snapshots_step ON snapshots (step);
CREATE TABLE histograms (snapshot INTEGER NOT NULL REFERENCES snapshots (id), layer INTEGER NOT NULL,
                         name TEXT NOT NULL, weight_edges BLOB NOT NULL, weight_counts BLOB NOT NULL,
                         grad_edges BLOB NOT NULL, grad_counts BLOB NOT NULL, PRIMARY KEY (snapshot, layer));
CREATE TABLE ended (step INTEGER NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL, wall_s REAL NOT NULL);
CREATE TABLE weights (safetensors BLOB NOT NULL);
"""


def _app_version() -> str:
    from visualizer import __version__

    return __version__


def _npy(array: np.ndarray | None) -> bytes | None:
    if array is None:
        return None
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _array(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.load(io.BytesIO(blob), allow_pickle=False)


def _started_json(started: RunStarted) -> str:
    return json.dumps(asdict(started))


def _started_from_json(text: str) -> RunStarted:
    raw = json.loads(text)
    return RunStarted(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


class RunFileExists(VisualizerError, FileExistsError):
    """Refused: a run file is never written over an existing file."""


def unique_run_path(folder: str | Path, name: str) -> Path:
    """``folder/name.sqlite``, or ``name-2.sqlite``, ``name-3.sqlite``… when that is taken."""
    folder = Path(folder)
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    path, n = folder / f"{stem}{SUFFIX}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{SUFFIX}"
    return path


def create_run_file(folder: str | Path, name: str, experiment: Experiment,
                    started: RunStarted | None = None) -> RunWriter:
    """A RunWriter on a new file in ``folder``, named after ``name`` with a number added if the name is taken."""
    for _ in range(1000):
        try:
            return RunWriter(unique_run_path(folder, name), experiment, started)
        except FileExistsError:  # another writer took the name between the check and the link: try the next
            continue
    raise VisualizerError(f"{folder}: cannot find a free name for the run file '{name}'")


class RunWriter:
    """Records one run into a new SQLite file; ``add(event)`` takes every event of a TrainingSession.

    The file never replaces an existing one: it is built under a temporary name and linked into place, which fails
    when the name is taken (FileExistsError, a VisualizerError too). ``started`` may come later, as the first event.
    """

    def __init__(self, path: str | Path, experiment: Experiment, started: RunStarted | None = None) -> None:
        self.path = Path(path)
        if self.path.exists():
            raise RunFileExists(f"{self.path} already exists; a run file is never overwritten")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._create(experiment, started)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process
        self._db.execute("BEGIN")
        self._rows: list[tuple] = []  # step rows not yet written
        self._last_commit = time.monotonic()
        self._started = started
        self.closed = False

    def _create(self, experiment: Experiment, started: RunStarted | None) -> None:
        text = experiment_file.dumps(experiment)
        experiment_file.loads(text, source=f"{self.path}: the experiment to record")  # a run must read back
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        try:
            db = sqlite3.connect(tmp)
            with db:
                db.executescript(SCHEMA)
                meta = {"format_version": str(FORMAT_VERSION), "app_version": _app_version(),
                        "created": datetime.now(UTC).isoformat(timespec="seconds"),
                        "experiment": text}
                if started is not None:
                    meta["started"] = _started_json(started)
                db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
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
        """Record one event (RunStarted, StepEvent, Snapshot or RunEnded)."""
        if self.closed:
            raise VisualizerError(f"{self.path}: the run file is closed")
        db = self._db
        if type(event) is StepEvent:  # the hot path: a row kept in memory, written with the others at the commit
            self._rows.append(_STEP_ROW(event))
            if len(self._rows) >= COMMIT_EVERY or time.monotonic() - self._last_commit >= COMMIT_INTERVAL_S:
                self.commit()
        elif isinstance(event, Snapshot):
            self._add_snapshot(event)
            self.commit()
        elif isinstance(event, RunEnded):
            db.execute("INSERT INTO ended VALUES (?, ?, ?, ?)", (event.step, event.reason, event.message,
                                                                   event.wall_s))
            self.commit()
        elif isinstance(event, RunStarted):
            if self._started is None:
                db.execute("INSERT INTO meta VALUES ('started', ?)", (_started_json(event),))
                self._started = event
                self.commit()
        else:
            raise TypeError(f"not a training event: {type(event).__name__}")

    def _add_snapshot(self, s: Snapshot) -> None:
        b, curve = s.boundary, s.curve or (None, None)
        cur = self._db.execute(
            "INSERT INTO snapshots (step, epoch, params, boundary_xs, boundary_ys, boundary_probs, curve_x, curve_y,"
            " confusion) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.step, s.epoch, _npy(s.params), _npy(b and b.xs), _npy(b and b.ys), _npy(b and b.probs),
             _npy(curve[0]), _npy(curve[1]), _npy(s.confusion)))
        self._db.executemany(
            "INSERT INTO histograms VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(cur.lastrowid, i, h.name, _npy(h.weight_edges), _npy(h.weight_counts), _npy(h.grad_edges),
              _npy(h.grad_counts)) for i, h in enumerate(s.layers)])

    def add_weights(self, model_or_state: torch.nn.Module | dict[str, torch.Tensor]) -> None:
        """Store the final weights (a model's state_dict, or a dict of tensors) as safetensors bytes."""
        from safetensors.torch import save

        state = model_or_state.state_dict() if isinstance(model_or_state, torch.nn.Module) else model_or_state
        payload = save({k: v.detach().cpu().contiguous() for k, v in state.items()})
        self._db.execute("DELETE FROM weights")
        self._db.execute("INSERT INTO weights VALUES (?)", (payload,))
        self.commit()

    def _flush_steps(self) -> None:
        if self._rows:
            self._db.executemany(STEP_SQL, self._rows)
            self._rows = []

    def commit(self) -> None:
        """Make everything added so far visible to readers and safe from a crash."""
        self._flush_steps()
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        self._last_commit = time.monotonic()

    def close(self) -> None:
        """Commit and close; the file becomes one self-contained file unless a reader still has it open."""
        if self.closed:
            return
        self.closed = True
        self._flush_steps()
        self._db.execute("COMMIT")
        try:  # leaving WAL needs the file to ourselves; a live reader keeps the -wal file beside it, still valid
            self._db.execute("PRAGMA busy_timeout=0")
            self._db.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:
            pass
        self._db.close()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RunReader:
    """Reads a run file, also one that another process is still writing: ``refresh()`` loads what was added.

    ``history()`` is one History that grows with each refresh; ``snapshot_at(t)`` is the snapshot the live run
    showed at step t (the last one taken at or before t).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._check_header()
        try:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._damaged(exc) from None
        try:
            self._read_meta()
            self._history = History()
            self._snap_steps: list[int] = []
            self._snap_ids: list[int] = []
            self.ended: RunEnded | None = None
            self.refresh()
        except BaseException:
            self._db.close()
            raise

    def _check_header(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                header = fh.read(100)
        except FileNotFoundError:
            raise VisualizerError(f"{self.path}: no such run file") from None
        except OSError as exc:
            raise VisualizerError(f"{self.path}: cannot read the run file ({exc.strerror})") from None
        if not header.startswith(_SQLITE_HEADER) or len(header) < 100:
            raise VisualizerError(f"{self.path} is not a run file (it is not an SQLite database)")
        # the header's page count is valid when its change counter matches (bytes 24 and 92); a shorter file is cut
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        wal = Path(f"{self.path}-wal")
        if (header[24:28] == header[92:96] and not (wal.exists() and wal.stat().st_size)
                and self.path.stat().st_size < pages * page_size):
            raise VisualizerError(f"{self.path} is not a readable run file (it is truncated: "
                                  f"{self.path.stat().st_size} of {pages * page_size} bytes)")

    def _damaged(self, exc: Exception) -> VisualizerError:
        return VisualizerError(f"{self.path} is not a readable run file (it is damaged or truncated: {exc})")

    def _query(self, sql: str, args=()) -> list:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from None

    def _read_meta(self) -> None:
        try:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise VisualizerError(f"{self.path} is an SQLite file but not a run file (no meta table)") from None
            raise self._damaged(exc) from None
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise VisualizerError(f"{self.path} is not a run file (it is not an SQLite database)") from None
            raise self._damaged(exc) from None
        meta = dict(rows)
        try:
            version = int(meta["format_version"])
        except (KeyError, ValueError):
            raise VisualizerError(f"{self.path} is an SQLite file but not a run file (no format version)") from None
        if version > FORMAT_VERSION:
            raise VisualizerError(f"{self.path} was written by a newer version (format {version}; "
                                  f"this program reads up to {FORMAT_VERSION})")
        self.meta = meta
        self.format_version = version
        self.app_version = meta.get("app_version", "")
        self.created = meta.get("created", "")
        self.experiment = experiment_file.loads(meta.get("experiment", ""), source=f"{self.path} (experiment)")
        self.started = _started_from_json(meta["started"]) if "started" in meta else None

    # -- following a run ----------------------------------------------------------------------------
    def refresh(self) -> int:
        """Load the steps, snapshots and end committed since the last refresh; returns how many steps came."""
        if self.started is None:
            row = self._query("SELECT value FROM meta WHERE key = 'started'")
            self.started = _started_from_json(row[0][0]) if row else None
        last = int(self._history.steps[-1]) if len(self._history) else -1
        rows = self._query(f"SELECT {', '.join(STEP_COLUMNS)} FROM steps WHERE step > ? ORDER BY step", (last,))
        self._history.extend(StepEvent(*row) for row in rows)
        last_id = self._snap_ids[-1] if self._snap_ids else 0
        for sid, step in self._query("SELECT id, step FROM snapshots WHERE id > ? ORDER BY id", (last_id,)):
            self._snap_ids.append(sid)
            self._snap_steps.append(step)
        if self.ended is None:
            row = self._query("SELECT step, reason, message, wall_s FROM ended")
            self.ended = RunEnded(*row[0]) if row else None
        return len(rows)

    def history(self) -> History:
        return self._history

    def snapshot_steps(self) -> list[int]:
        """The steps at which snapshots were taken, in order (a step can repeat: pause, then stop)."""
        return list(self._snap_steps)

    def snapshot_at(self, step: int) -> Snapshot | None:
        """The last snapshot taken at or before ``step``; None before the first one."""
        i = bisect.bisect_right(self._snap_steps, step)
        return self._load_snapshot(self._snap_ids[i - 1]) if i else None

    def snapshots(self, start: int = 0) -> list[Snapshot]:
        """Every snapshot from the ``start``-th on, in order (a replay loads them once: they are small)."""
        return [self._load_snapshot(sid) for sid in self._snap_ids[start:]]

    def _load_snapshot(self, sid: int) -> Snapshot:
        (row,) = self._query("SELECT step, epoch, params, boundary_xs, boundary_ys, boundary_probs, curve_x, curve_y,"
                             " confusion FROM snapshots WHERE id = ?", (sid,))
        step, epoch, params, bx, by, bp, cx, cy, confusion = row
        hist = self._query("SELECT name, weight_edges, weight_counts, grad_edges, grad_counts FROM histograms"
                           " WHERE snapshot = ? ORDER BY layer", (sid,))
        try:
            layers = tuple(LayerHistogram(name, *(_array(b) for b in blobs)) for name, *blobs in hist)
            boundary = BoundaryGrid(_array(bx), _array(by), _array(bp)) if bp is not None else None
            curve = (_array(cx), _array(cy)) if cx is not None else None
            return Snapshot(step, epoch, layers, _array(params), boundary, curve, _array(confusion))
        except ValueError as exc:
            raise self._damaged(exc) from None

    def weights(self) -> dict[str, torch.Tensor] | None:
        """The final weights, or None when the run did not store them."""
        from safetensors import SafetensorError
        from safetensors.torch import load

        row = self._query("SELECT safetensors FROM weights")
        if not row:
            return None
        try:
            return load(row[0][0])
        except (SafetensorError, ValueError) as exc:
            raise self._damaged(exc) from None

    def summary(self) -> dict:
        """What the run library lists: title, date, status, steps and the final metrics."""
        h = self._history

        def last(values: np.ndarray) -> float | None:
            ok = values[~np.isnan(values)]
            return float(ok[-1]) if len(ok) else None

        return {
            "path": str(self.path),
            "title": self.experiment.title or self.path.stem,
            "created": self.created,
            "data": self.experiment.data.name,
            "optimizer": self.experiment.train.optimizer,
            "message": self.ended.message if self.ended else "",
            "status": self.ended.reason if self.ended else "unfinished",
            "steps": int(h.steps[-1]) if len(h) else 0,
            "total_steps": self.started.total_steps if self.started else None,
            "metric": self.started.metric if self.started else None,
            "final": {"train_loss": last(h.eval_train_loss), "val_loss": last(h.val_loss),
                      "train_metric": last(h.train_metric), "val_metric": last(h.val_metric)},
        }

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def record(session, path: str | Path) -> RunReader:
    """Run a TrainingSession to the end while recording it to a new run file at ``path``; returns a reader."""
    with RunWriter(path, session.experiment) as writer:
        for event in session.run():
            writer.add(event)
        if session.model is not None:
            writer.add_weights(session.model)
    return RunReader(path)
