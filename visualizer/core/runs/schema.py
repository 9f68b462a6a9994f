"""The run file's layout: one SQLite file per run, its tables, and how values are stored in them.

Arrays are stored as ``.npy`` bytes and weights as safetensors: never pickled. ``visualizer run`` names its run file
``run.sqlite`` (``run-2.sqlite``… when rerun into the same folder).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, fields
from operator import attrgetter

import numpy as np

from visualizer.core.errors import VisualizerError
from visualizer.core.training.events import RunStarted, StepEvent

FORMAT_VERSION = 1
SUFFIX = ".sqlite"
#: the run file `visualizer run` and `visualizer landscape` write into their folder
RUN_FILE = f"run{SUFFIX}"
SQLITE_HEADER = b"SQLite format 3\x00"
STEP_COLUMNS = tuple(f.name for f in fields(StepEvent))
STEP_ROW = attrgetter(*STEP_COLUMNS)  # one C call per step instead of a loop over the fields
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


class RunFileExists(VisualizerError, FileExistsError):
    """Refused: a run file is never written over an existing file."""


def npy(array: np.ndarray | None) -> bytes | None:
    """An array as ``.npy`` bytes (None stays None)."""
    if array is None:
        return None
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def array(blob: bytes | None) -> np.ndarray | None:
    """``.npy`` bytes back to an array, never unpickling (None stays None)."""
    return None if blob is None else np.load(io.BytesIO(blob), allow_pickle=False)


def started_json(started: RunStarted) -> str:
    return json.dumps(asdict(started))


def started_from_json(text: str) -> RunStarted:
    raw = json.loads(text)
    return RunStarted(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
