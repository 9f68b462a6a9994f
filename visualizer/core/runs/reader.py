"""Reading a run file: its steps, snapshots and end (also while another process writes it), and what the run is
made of: its data set, its network with the final weights, and the path its weights took (the trajectory).

``open_run`` opens a run given the run file or the folder holding it: every command that takes a run goes through it.
Nothing in the file is trusted (see ``checks``): a damaged or hostile run file is a VisualizerError naming the file
and what is wrong, at open or when the damaged part is read, never another exception, a hang or a huge allocation.
"""

from __future__ import annotations

import bisect
import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from visualizer.core import experiment as experiment_file
from visualizer.core.errors import ExperimentError, VisualizerError
from visualizer.core.files import MIB
from visualizer.core.runs import checks
from visualizer.core.runs.locate import run_file_of
from visualizer.core.runs.measures import MeasureRows
from visualizer.core.runs.schema import (
    FORMAT_VERSION,
    STEP_COLUMNS,
    RecordError,
    array,
    npy,
    started_from_json,
)
from visualizer.core.training.events import BoundaryGrid, LayerHistogram, RunEnded, RunStarted, Snapshot, StepEvent
from visualizer.core.training.history import History

#: the longest start record read (a CSV of 200,000 columns names each of them in it)
MAX_STARTED_CHARS = 64 * MIB


@dataclass(frozen=True, eq=False)
class Trajectory:
    """The path the weights took: the snapshot steps (T,) and the flattened parameters at each (T, P), in
    ``model.parameters()`` order."""

    steps: np.ndarray
    params: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def open_run(path: str | Path) -> RunReader:
    """A RunReader on the run given as its run file or the folder holding it (see ``run_file_of``), every snapshot's
    values checked (``check_values``): a command refuses a damaged run before it starts, in one line."""
    reader = RunReader(run_file_of(path))
    try:
        reader.check_values()
    except BaseException:
        reader.close()
        raise
    return reader


class RunReader:
    """Reads a run file, also one that another process is still writing: ``refresh()`` loads what was added.

    ``history()`` is one History that grows with each refresh; ``snapshot_at(t)`` is the snapshot the live run
    showed at step t (the last one taken at or before t). ``dataset()``, ``model()`` and ``trajectory()`` rebuild
    what the run trained on, what it ended with and the path it took.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        checks.check_file(self.path)
        try:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._damaged(exc) from None
        self._db.text_factory = _text  # damaged text (not UTF-8) is read with replacement characters, never raised
        try:
            self._history = History()
            self._snap_steps: list[int] = []
            self._snap_ids: list[int] = []
            self.ended: RunEnded | None = None
            self.started: RunStarted | None = None
            self._expected = checks.Expected()
            self._has_weights = False
            self._measures = MeasureRows()
            self._read_meta()
            self.refresh()
        except BaseException:
            self._db.close()
            raise

    def _damaged(self, exc: Exception) -> VisualizerError:
        if isinstance(exc, RecordError):
            return VisualizerError(f"{self.path} is a damaged run file: {exc}")
        return VisualizerError(f"{self.path} is not a readable run file (it is damaged or truncated: {exc})")

    @contextlib.contextmanager
    def _reading(self):
        """What goes wrong while reading the file (SQLite finds it damaged, a value is not what the format stores)
        becomes one VisualizerError naming the file."""
        try:
            yield
        except (RecordError, sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # the last: SQLite's message quoted
            raise self._damaged(exc) from None  # damaged bytes that are not UTF-8

    def _query(self, sql: str, args=()) -> list:
        with self._reading():
            return self._db.execute(sql, args).fetchall()

    def _meta_text(self, key: str, limit: int) -> str | None:
        """The meta record ``key`` as text (None when absent), refused when it is not text or longer than ``limit``."""
        row = self._query("SELECT typeof(value), length(value) FROM meta WHERE key = ? LIMIT 1", (key,))
        if not row:
            return None
        kind, length = row[0]
        if kind not in ("text", "integer"):
            raise self._damaged(RecordError(f"its '{key}' record is {kind}, not text"))
        if length > limit:
            raise self._damaged(RecordError(f"its '{key}' record is {length:,} characters long (at most {limit:,})"))
        return str(self._query("SELECT value FROM meta WHERE key = ? LIMIT 1", (key,))[0][0])

    def _read_meta(self) -> None:
        try:
            checks.check_tables(self._db, ("meta",))  # before any read: a view could be endless
        except RecordError as exc:
            if "no 'meta'" in str(exc):
                raise VisualizerError(f"{self.path} is an SQLite file but not a run file (no meta table)") from None
            raise self._damaged(exc) from None
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise VisualizerError(f"{self.path} is not a run file (it is not an SQLite database)") from None
            raise self._damaged(exc) from None
        except UnicodeDecodeError as exc:  # SQLite's own message quoted a damaged (not UTF-8) schema
            raise self._damaged(exc) from None
        text = self._meta_text("format_version", 20)
        if text is None or not text.strip().isdigit() or int(text) < 1:
            raise VisualizerError(f"{self.path} is an SQLite file but not a run file (no format version)")
        version = int(text)
        if version > FORMAT_VERSION:
            raise VisualizerError(f"{self.path} was written by a newer version (format {version}; "
                                  f"this program reads up to {FORMAT_VERSION})")
        with self._reading():
            checks.check_tables(self._db)
            self._step_columns = checks.step_columns(self._db)
        self._step_select = ", ".join(c if c in self._step_columns else f"NULL AS {c}" for c in STEP_COLUMNS)
        self.format_version = version
        self.app_version = self._meta_text("app_version", 200) or ""
        self.created = self._meta_text("created", 200) or ""
        experiment = self._meta_text("experiment", experiment_file.MAX_FILE_BYTES)
        if experiment is None:
            raise self._damaged(RecordError("it records no experiment"))
        try:
            self.experiment = experiment_file.loads(experiment, source=f"{self.path} (experiment)")
        except ExperimentError as exc:  # a key of the recorded experiment: named with the file
            raise self._damaged(RecordError(f"its experiment is not valid ({exc})")) from None
        self._read_started()

    def _read_started(self) -> None:
        """The start record, once it is there (a live run writes it with its first event), checked against the
        experiment: the network it describes must be the experiment's."""
        text = self._meta_text("started", MAX_STARTED_CHARS)
        if text is None:
            return
        with self._reading():
            started = started_from_json(text)
            checks.check_started(started, self.experiment)
            if self._expected.n_params not in (None, started.n_params):
                raise RecordError(f"its snapshots hold {self._expected.n_params:,} parameters; its start record "
                                  f"says {started.n_params:,}")
        self.started = started
        self._expected = checks.expected_of(started)

    # -- following a run ----------------------------------------------------------------------------
    def refresh(self) -> int:
        """Load the steps, snapshots and end committed since the last refresh; returns how many steps came."""
        if self.started is None:
            self._read_started()
        last = int(self._history.steps[-1]) if len(self._history) else -1
        with self._reading():
            checks.check_steps(self._db, last, self._step_columns)
        rows = self._query(f"SELECT {self._step_select} FROM steps WHERE step > ? ORDER BY step", (last,))
        last_id = self._snap_ids[-1] if self._snap_ids else 0
        with self._reading():
            snapshots = checks.check_snapshots(self._db, last_id, self._expected)
            for _sid, step in snapshots:
                if self._snap_steps and step < self._snap_steps[-1] or step < 0:
                    raise RecordError(f"its snapshot at step {step} comes after one at step {self._snap_steps[-1]}"
                                      if step >= 0 else f"a snapshot is at step {step}")
                self._snap_steps.append(step)
            self._snap_ids.extend(sid for sid, _step in snapshots)
            self._has_weights = self._has_weights or checks.check_weights(self._db)
            ended = None
            if self.ended is None:
                row = self._db.execute("SELECT step, reason, message, wall_s FROM ended LIMIT 1").fetchall()
                ended = RunEnded(*checks.check_ended(row[0])) if row else None
        self._history.extend(StepEvent(*row) for row in rows)
        self.ended = self.ended or ended
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

    def measures(self):
        """The lab's measures recorded so far (core.lab.measures.Measures; a file from before has none)."""
        with self._reading():
            return self._measures.read(self._db)

    def check_values(self) -> None:
        """Read what every snapshot shows (its histograms and pictures, not its parameters) once: a value no genuine
        run holds (a histogram edge that is not finite, say) is refused now rather than by the view drawing it."""
        for sid in self._snap_ids:
            self._load_snapshot(sid, with_params=False)

    def _load_snapshot(self, sid: int, with_params: bool = True) -> Snapshot:
        """The snapshot of id ``sid``, its values checked; without its parameters (an empty vector) when not asked."""
        (row,) = self._query(f"SELECT step, epoch, {'params' if with_params else 'NULL'}, boundary_xs, boundary_ys, "
                             "boundary_probs, curve_x, curve_y, confusion FROM snapshots WHERE id = ?", (sid,))
        step, epoch, params, bx, by, bp, cx, cy, confusion = row
        params = params if with_params else npy(np.empty(0, np.float32))
        hist = self._query("SELECT name, weight_edges, weight_counts, grad_edges, grad_counts FROM histograms"
                           " WHERE snapshot = ? ORDER BY layer", (sid,))
        with self._reading():
            layers = tuple(LayerHistogram(name, *(array(b) for b in blobs)) for name, *blobs in hist)
            boundary = BoundaryGrid(array(bx), array(by), array(bp)) if bp is not None else None
            curve = (array(cx), array(cy)) if cx is not None else None
            return checks.check_values(Snapshot(step, epoch, layers, array(params), boundary, curve,
                                                array(confusion)))

    def edits(self) -> list:
        """The weights set by hand (WeightEdited), in order; none in a run file from before they were recorded."""
        from visualizer.core.runs.edits import read_edits

        with self._reading():
            return read_edits(self._db)

    def weights(self) -> dict[str, torch.Tensor] | None:
        """The final weights, or None when the run did not store them."""
        from visualizer.core.model.weights import weights_from_bytes

        row = self._query("SELECT safetensors FROM weights LIMIT 1")
        if not row:
            return None
        if not isinstance(row[0][0], bytes):
            raise self._damaged(RecordError(f"its weights are {type(row[0][0]).__name__}, not safetensors bytes"))
        return weights_from_bytes(row[0][0], f"{self.path} (its final weights)")

    # -- what the run is made of -------------------------------------------------------------------------
    def dataset(self, base_dir: str | Path | None = None):
        """The data set the run trained on, split and standardised as it was. A CSV file is read where it was
        recorded (an absolute path); an older run file's relative path is taken from ``base_dir`` (default: the
        run file's folder). A CSV file that is not there is a VisualizerError saying where it was looked for."""
        from visualizer.core.data.csv_file import resolve_path
        from visualizer.core.data.sets import load_dataset

        spec = self.experiment.data
        base = Path(base_dir) if base_dir is not None else self.path.parent
        if spec.name == "csv" and spec.path.strip():
            csv = resolve_path(spec.path.strip(), base)
            if not csv.is_file():
                where = (f"the CSV file {csv}" if Path(spec.path.strip()).expanduser().is_absolute() else
                         f"the CSV file '{spec.path}' (a relative path, recorded by an older version, looked for "
                         f"beside the run file: {csv})")
                raise VisualizerError(f"{self.path}: the run's data, {where}, is not found; put the file back "
                                      "there to see the run with its data")
        dataset = load_dataset(spec, base)
        s = self.started
        if s is not None and (dataset.task, dataset.n_features, dataset.n_classes) != (s.task, s.n_features,
                                                                                        s.n_classes):
            def what(task, features, classes):
                return f"{task}, {features} features" + (f", {classes} classes" if task == "classification" else "")

            raise VisualizerError(f"{self.path}: the run's data no longer matches it: the run trained on "
                                  f"{what(s.task, s.n_features, s.n_classes)}; its data set is now "
                                  f"{what(dataset.task, dataset.n_features, dataset.n_classes)}")
        return dataset

    def model(self, dataset=None) -> torch.nn.Module:
        """The run's network with its final weights (the stored ones, else the last snapshot's), on the CPU, in
        evaluation mode; ``dataset`` (default: ``dataset()``) sizes its input and output layers."""
        from visualizer.core.model.losses import LOSSES
        from visualizer.core.model.nets import build_model_for
        from visualizer.core.model.weights import load_into

        ds = self.dataset() if dataset is None else dataset
        exp = experiment_file.resolve(self.experiment, ds)
        model = build_model_for(exp.model, ds, LOSSES[exp.train.loss])
        weights = self.weights()
        if weights is not None:
            load_into(model, weights, f"{self.path}: the stored weights do not fit the network of its experiment")
        elif self._snap_ids:
            flat = self._params(self._snap_ids[-1])
            n = sum(p.numel() for p in model.parameters())
            if flat.size != n:
                raise VisualizerError(f"{self.path}: the last snapshot has {flat.size} parameters; the network of "
                                      f"its experiment has {n}")
            with torch.no_grad():
                torch.nn.utils.vector_to_parameters(torch.as_tensor(flat, dtype=torch.float32), model.parameters())
        else:
            raise VisualizerError(f"{self.path}: the run holds neither weights nor snapshots")
        return model.eval()

    def trajectory(self, n: int | None = None) -> Trajectory:
        """The snapshots' steps and flattened parameters, one per step (the last snapshot of a step that repeats),
        evenly thinned to at most ``n`` (the first and the last always kept); empty when none was recorded."""
        last_of_step: dict[int, int] = {}
        for sid, step in zip(self._snap_ids, self._snap_steps):
            last_of_step[step] = sid
        steps = sorted(last_of_step)
        if n is not None and len(steps) > n:
            keep = np.unique(np.linspace(0, len(steps) - 1, max(n, 1)).round().astype(int))
            steps = [steps[i] for i in keep]
        params = [self._params(last_of_step[s]) for s in steps]
        flat = np.stack(params).astype(np.float32) if params else np.zeros((0, 0), np.float32)
        return Trajectory(np.asarray(steps, np.int64), flat)

    def _params(self, sid: int) -> np.ndarray:
        (row,) = self._query("SELECT params FROM snapshots WHERE id = ?", (sid,))
        with self._reading():
            return np.asarray(array(row[0])).reshape(-1)

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

