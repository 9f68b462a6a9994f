"""What a run file may hold, checked as it is read: its tables are tables, every step, snapshot, histogram and end
holds values of the kinds the format stores, and every array has the shape the others imply.

The reader runs these checks on everything it indexes (the array headers are read through SQLite's incremental blob
I/O, so a check costs a few bytes per array), so that a damaged or hostile file is refused at once with one message
naming what is wrong, instead of crashing a view, an export or a replay later. Each check raises RecordError.
"""

from __future__ import annotations

import math
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.core.errors import ExperimentError, VisualizerError
from visualizer.core.files import read_head
from visualizer.core.runs.schema import (
    LATER_STEP_COLUMNS,
    MAX_NPY_HEADER,
    SQLITE_HEADER,
    STEP_COLUMNS,
    TABLES,
    RecordError,
    npy_header,
    npy_nbytes,
)
from visualizer.core.training.events import RunStarted, Snapshot

#: step columns that hold whole numbers; the others hold reals or NULL (NaN is stored as NULL)
INTEGER_STEP_COLUMNS = ("step", "epoch")
SNAPSHOT_ARRAYS = ("params", "boundary_xs", "boundary_ys", "boundary_probs", "curve_x", "curve_y", "confusion")
HISTOGRAM_ARRAYS = ("weight_edges", "weight_counts", "grad_edges", "grad_counts")
#: the longest text a run file's small fields may hold (a title, a message, a layer's name)
MAX_TEXT = 1024 * 1024


#: the files SQLite opens beside a run file: each must be a regular file (a FIFO there would hang the open)
SIDECARS = ("-wal", "-shm", "-journal")


def check_file(path: Path) -> None:
    """A run file is a regular file (never opened blocking: a FIFO is refused) that starts as SQLite files do and is
    as long as its header says, and the files SQLite opens beside it are regular files too; else VisualizerError."""
    header, size = read_head(path, 100, "run file")
    if not header.startswith(SQLITE_HEADER) or len(header) < 100:
        raise VisualizerError(f"{path} is not a run file (it is not an SQLite database)")
    for suffix in SIDECARS:
        side = Path(f"{path}{suffix}")
        if os.path.lexists(side) and not side.is_file():
            raise VisualizerError(f"{side}: is not a regular file; SQLite would open it beside the run file "
                                  f"{path.name}: remove it")
    # the header's page count is valid when its change counter matches (bytes 24 and 92); a shorter file is cut
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    wal = Path(f"{path}-wal")
    if header[24:28] == header[92:96] and not (wal.is_file() and wal.stat().st_size) and size < pages * page_size:
        raise VisualizerError(f"{path} is not a readable run file (it is truncated: {size} of {pages * page_size} "
                              "bytes)")


def check_tables(db: sqlite3.Connection, names: tuple[str, ...] = TABLES) -> None:
    """The tables ``names`` are there and are plain tables, checked before any of them is read: a view (or a virtual
    table) could compute rows without end."""
    found = {name: (kind, sql or "") for name, kind, sql in db.execute(
        f"SELECT name, type, sql FROM sqlite_master WHERE name IN ({', '.join('?' * len(names))})", names)}
    for name in names:
        if name not in found:
            raise RecordError(f"it has no '{name}' table")
        kind, sql = found[name]
        if kind != "table" or sql.upper().startswith("CREATE VIRTUAL"):
            raise RecordError(f"its '{name}' is a {'virtual table' if kind == 'table' else kind}, not a table")


def step_columns(db: sqlite3.Connection) -> tuple[str, ...]:
    """The step columns the file has: all of STEP_COLUMNS, less those added later (LATER_STEP_COLUMNS) that a file
    from before lacks; a missing original column is a RecordError."""
    present = {row[1] for row in db.execute("PRAGMA table_info(steps)")}
    missing = [c for c in STEP_COLUMNS if c not in present and c not in LATER_STEP_COLUMNS]
    if missing:
        raise RecordError(f"its steps have no '{missing[0]}' column")
    return tuple(c for c in STEP_COLUMNS if c in present)


def check_steps(db: sqlite3.Connection, after: int, columns: tuple[str, ...] = STEP_COLUMNS) -> None:
    """The steps after step ``after`` hold whole numbers in step and epoch and numbers (or nothing) elsewhere."""
    ok = " AND ".join([f"typeof({c}) = 'integer'" for c in INTEGER_STEP_COLUMNS]
                      + [f"typeof({c}) IN ('real', 'integer', 'null')" for c in columns
                         if c not in INTEGER_STEP_COLUMNS])
    kinds = ", ".join(f"typeof({c})" for c in columns)
    row = db.execute(f"SELECT CASE typeof(step) WHEN 'integer' THEN 'step ' || step ELSE 'a step' END, {kinds} "
                     f"FROM steps WHERE step > ? AND NOT ({ok}) LIMIT 1", (after,)).fetchone()
    if row is None:
        return
    for column, kind in zip(columns, row[1:]):
        wanted = ("integer",) if column in INTEGER_STEP_COLUMNS else ("real", "integer", "null")
        if kind not in wanted:
            what = "a whole number" if column in INTEGER_STEP_COLUMNS else "a number or nothing"
            raise RecordError(f"{row[0]}: its '{column}' holds {kind}; expected {what}")


def check_text(value, what: str) -> str:
    """A text field (a name, a message) as stored: text of at most MAX_TEXT characters."""
    if not isinstance(value, str):
        raise RecordError(f"{what} is {type(value).__name__}, not text")
    if len(value) > MAX_TEXT:
        raise RecordError(f"{what} is {len(value):,} characters long")
    return value


def _blob_shape(db: sqlite3.Connection, table: str, column: str, rowid: int, length: int,
                where: str) -> tuple[int, ...]:
    """The shape of the .npy array stored in one cell, from its header alone (the data is not read)."""
    with db.blobopen(table, column, rowid, readonly=True) as blob:
        head = blob.read(min(length, MAX_NPY_HEADER + 64))
    try:
        dtype, shape, _fortran, offset = npy_header(head)
    except RecordError as exc:
        raise RecordError(f"{where}: its {column} is {exc}") from None
    if npy_nbytes(dtype, shape) != length - offset:
        raise RecordError(f"{where}: its {column} array claims {npy_nbytes(dtype, shape):,} bytes of shape {shape}; "
                          f"{length - offset:,} are stored")
    return shape


@dataclass
class Expected:
    """What the run's start record says every snapshot looks like (None: not known, any size, the same each time)."""

    n_params: int | None = None
    n_classes: int | None = None
    n_layers: int | None = None


def expected_of(started: RunStarted | None) -> Expected:
    if started is None:
        return Expected()
    k = started.n_classes if started.task == "classification" else None
    return Expected(started.n_params, k, len(started.layer_names))


def check_snapshots(db: sqlite3.Connection, after_id: int, expected: Expected) -> list[tuple[int, int]]:
    """(id, step) of the snapshots after ``after_id``, each checked: whole numbers for step and epoch, arrays of
    numbers whose shapes fit together and the start record, histograms with one edge more than counts."""
    cells = ", ".join(f"typeof({c}), length({c})" for c in SNAPSHOT_ARRAYS)
    rows = db.execute(f"SELECT id, id IS rowid, step, typeof(step), typeof(epoch), {cells} FROM snapshots "
                      "WHERE id > ? ORDER BY id", (after_id,)).fetchall()
    if not rows:
        return []
    layers: dict[int, list[tuple]] = {}
    hist_cells = ", ".join(f"typeof({c}), length({c})" for c in HISTOGRAM_ARRAYS)
    for row in db.execute(f"SELECT rowid, snapshot, typeof(layer), typeof(name), length(name), {hist_cells} "
                          "FROM histograms WHERE snapshot > ? ORDER BY snapshot, layer", (after_id,)):
        layers.setdefault(row[1], []).append(row)
    out = []
    for sid, own_row, step, step_kind, epoch_kind, *blobs in rows:
        if not own_row or (step_kind, epoch_kind) != ("integer",) * 2:  # an id is its row's: one row per id
            raise RecordError("a snapshot's id, step or epoch is not a whole number of its own")
        where = f"the snapshot at step {step}"
        shapes = {}
        for column, kind, length in zip(SNAPSHOT_ARRAYS, blobs[::2], blobs[1::2]):
            if kind == "null" and column != "params":
                shapes[column] = None
            elif kind != "blob":
                raise RecordError(f"{where}: its {column} holds {kind}; expected an array")
            else:
                shapes[column] = _blob_shape(db, "snapshots", column, sid, length, where)
        hist = []
        for rowid, _sid, layer_kind, name_kind, name_length, *cells_ in layers.get(sid, []):
            if layer_kind != "integer" or name_kind != "text" or name_length > MAX_TEXT:
                raise RecordError(f"{where}: a histogram's layer or name is damaged")
            if any(kind != "blob" for kind in cells_[::2]):
                raise RecordError(f"{where}: a histogram holds something other than arrays")
            hist.append(tuple(_blob_shape(db, "histograms", column, rowid, length, where)
                              for column, length in zip(HISTOGRAM_ARRAYS, cells_[1::2])))
        check_shapes(where, shapes, hist, expected)
        out.append((sid, step))
    return out


def check_shapes(where: str, shapes: dict[str, tuple[int, ...] | None], histograms: list[tuple], expected: Expected):
    """The arrays of one snapshot fit together: a flat parameter vector (of the start record's size, else of the
    first snapshot's, which ``expected`` then remembers), a boundary grid probs (ny, nx, k) over xs (nx,) and ys (ny,),
    a curve x (n,) y (n,), a confusion matrix (k, k), and per layer edges (b + 1,) for counts (b,)."""
    params = shapes["params"]
    if len(params) != 1:
        raise RecordError(f"{where}: its parameters have shape {params}; expected a flat vector")
    if expected.n_params is None:
        expected.n_params = params[0]
    elif params[0] != expected.n_params:
        raise RecordError(f"{where}: it holds {params[0]:,} parameters; the run's network has {expected.n_params:,}")
    grid = [shapes[c] for c in ("boundary_xs", "boundary_ys", "boundary_probs")]
    if any(s is not None for s in grid):
        xs, ys, probs = grid
        if xs is None or ys is None or probs is None or len(xs) != 1 or len(ys) != 1 or len(probs) != 3 \
                or probs[:2] != (ys[0], xs[0]) or (expected.n_classes is not None and probs[2] != expected.n_classes):
            raise RecordError(f"{where}: its decision boundary has shapes {xs}, {ys}, {probs}; expected (nx,), (ny,), "
                              f"(ny, nx, classes)")
    curve = (shapes["curve_x"], shapes["curve_y"])
    if any(s is not None for s in curve) and (None in curve or len(curve[0]) != 1 or curve[0] != curve[1]):
        raise RecordError(f"{where}: its fitted curve has shapes {curve[0]} and {curve[1]}; expected (n,) twice")
    confusion = shapes["confusion"]
    if confusion is not None and (len(confusion) != 2 or confusion[0] != confusion[1]
                                  or (expected.n_classes is not None and confusion[0] != expected.n_classes)):
        raise RecordError(f"{where}: its confusion matrix has shape {confusion}; expected one row and column per "
                          "class")
    if expected.n_layers is not None and len(histograms) != expected.n_layers:
        raise RecordError(f"{where}: it holds {len(histograms)} layer histograms; the network has {expected.n_layers} "
                          "layers")
    for i, (w_edges, w_counts, g_edges, g_counts) in enumerate(histograms):
        for edges, counts in ((w_edges, w_counts), (g_edges, g_counts)):
            if len(edges) != 1 or len(counts) != 1 or edges[0] != counts[0] + 1:
                raise RecordError(f"{where}: layer {i + 1}'s histogram has {edges} edges for {counts} counts; "
                                  "expected one edge more than counts")


def check_values(snapshot: Snapshot) -> Snapshot:
    """The values a view draws are finite where a genuine run's always are: histogram edges and counts, the grid's
    coordinates, the curve's x and the confusion counts (the parameters and predictions may be NaN: a run diverges)."""
    where = f"the snapshot at step {snapshot.step}"
    for layer in snapshot.layers:
        for name in ("weight_edges", "weight_counts", "grad_edges", "grad_counts"):
            if not np.all(np.isfinite(getattr(layer, name))):
                raise RecordError(f"{where}: the histogram of {layer.name!r} holds {name.replace('_', ' ')} that are "
                                  "not finite")
        if np.any(np.diff(layer.weight_edges) < 0) or np.any(np.diff(layer.grad_edges) < 0):
            raise RecordError(f"{where}: the histogram of {layer.name!r} has edges out of order")
    arrays = [("decision boundary", a) for a in (snapshot.boundary.xs, snapshot.boundary.ys)] if snapshot.boundary \
        else []
    if snapshot.curve is not None:
        arrays.append(("fitted curve", snapshot.curve[0]))
    if snapshot.confusion is not None:
        arrays.append(("confusion matrix", snapshot.confusion))
    for what, values in arrays:
        if not np.all(np.isfinite(values)):
            raise RecordError(f"{where}: its {what} holds values that are not finite")
    return snapshot


def check_ended(row: tuple) -> tuple:
    """The end record (step, reason, message, wall_s) as stored: a whole number, two texts, a number."""
    step, reason, message, wall_s = row
    if isinstance(step, bool) or not isinstance(step, int):
        raise RecordError("the end record's step is not a whole number")
    check_text(reason, "the end record's reason")
    check_text(message, "the end record's message")
    if isinstance(wall_s, bool) or not isinstance(wall_s, (int, float)) or math.isnan(wall_s):
        raise RecordError("the end record's time is not a number")
    return step, reason, message, float(wall_s)


def check_weights(db: sqlite3.Connection) -> bool:
    """Whether the run stored its final weights; when it did, they are safetensors bytes whose header (read alone)
    describes tensors that its bytes hold."""
    from visualizer.core.model.weights import MAX_HEADER_BYTES, header_problem

    row = db.execute("SELECT rowid, typeof(safetensors), length(safetensors) FROM weights LIMIT 1").fetchone()
    if row is None:
        return False
    rowid, kind, length = row
    if kind != "blob":
        raise RecordError(f"its final weights are {kind}, not safetensors bytes")
    with db.blobopen("weights", "safetensors", rowid, readonly=True) as blob:
        head = blob.read(min(length, 8))
        n = int.from_bytes(head, "little") if len(head) == 8 else 0
        if len(head) == 8 and n <= min(MAX_HEADER_BYTES, length - 8):
            head += blob.read(n)
    problem = header_problem(head, length)
    if problem:
        raise RecordError(f"its final weights are not readable safetensors ({problem})")
    return True


def check_started(started: RunStarted, experiment) -> None:
    """The start record (read by ``schema.started_from_json``) describes the experiment's network: its names fit its
    counts, its layers are the network's and its parameter count is the one the network has on that data (so that
    every snapshot's parameters fit the network)."""
    from visualizer.core.data.images import image_shape
    from visualizer.core.model.losses import LOSSES, default_loss, task_kind
    from visualizer.core.model.nets import spec_parameter_count, spec_weighted_layers

    if len(started.feature_names) != started.n_features or len(started.class_names) != started.n_classes:
        raise RecordError("its start record names more or fewer features or classes than it counts")
    n_layers = spec_weighted_layers(experiment.model)
    if len(started.layer_names) != n_layers:
        raise RecordError(f"its start record names {len(started.layer_names)} layers; the network of its experiment "
                          f"has {n_layers}")
    kind = task_kind(started.task, started.n_classes)
    loss = experiment.train.loss if experiment.train.loss != "auto" else default_loss(started.task, started.n_classes)
    if not LOSSES[loss].fits(kind):
        raise RecordError(f"its experiment's loss '{loss}' does not fit the task it records ({started.task})")
    outputs = LOSSES[loss].output_size(started.task, started.n_classes)
    try:
        n = spec_parameter_count(experiment.model, started.n_features, outputs,
                                 image_shape(experiment.data.name, started.n_features))
    except ExperimentError as exc:
        raise RecordError(f"its experiment's network does not fit the data it records ({exc})") from None
    if n != started.n_params:
        raise RecordError(f"its start record counts {started.n_params:,} parameters; the network of its experiment "
                          f"has {n:,}")
