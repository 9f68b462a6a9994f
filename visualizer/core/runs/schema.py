"""The run file's layout: one SQLite file per run, its tables, and how values are stored in them.

Arrays are stored as ``.npy`` bytes and weights as safetensors: never pickled. ``visualizer run`` names its run file
``run.sqlite`` (``run-2.sqlite``… when rerun into the same folder). Reading a value back trusts nothing in it: a
damaged or hostile value is a ``RecordError`` saying what is wrong, never a crash or a huge allocation.
"""

from __future__ import annotations

import functools
import io
import json
import math
from dataclasses import MISSING, asdict, fields

import numpy as np

from visualizer.core.errors import VisualizerError
from visualizer.core.training.events import RunStarted, StepEvent

FORMAT_VERSION = 1
SUFFIX = ".sqlite"
#: the run file `visualizer run` and `visualizer landscape` write into their folder
RUN_FILE = f"run{SUFFIX}"
SQLITE_HEADER = b"SQLite format 3\x00"
STEP_COLUMNS = StepEvent._fields
STEP_SQL = f"INSERT INTO steps VALUES ({', '.join('?' * len(STEP_COLUMNS))})"
#: step columns added after format 1 first shipped: a run file from before lacks them (read as NULL)
LATER_STEP_COLUMNS = ("penalty",)

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE steps (step INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, train_loss REAL, lr REAL, wall_s REAL,
                    val_loss REAL, train_metric REAL, val_metric REAL, eval_train_loss REAL, penalty REAL);
CREATE TABLE snapshots (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, epoch INTEGER NOT NULL, params BLOB NOT NULL,
                        boundary_xs BLOB, boundary_ys BLOB, boundary_probs BLOB, curve_x BLOB, curve_y BLOB,
                        confusion BLOB);
CREATE INDEX snapshots_step ON snapshots (step);
CREATE TABLE histograms (snapshot INTEGER NOT NULL REFERENCES snapshots (id), layer INTEGER NOT NULL,
                         name TEXT NOT NULL, weight_edges BLOB NOT NULL, weight_counts BLOB NOT NULL,
                         grad_edges BLOB NOT NULL, grad_counts BLOB NOT NULL, PRIMARY KEY (snapshot, layer));
CREATE TABLE ended (step INTEGER NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL, wall_s REAL NOT NULL);
CREATE TABLE weights (safetensors BLOB NOT NULL);
CREATE TABLE measures (step INTEGER NOT NULL, name TEXT NOT NULL, layer TEXT NOT NULL, value REAL);
"""


TABLES = ("meta", "steps", "snapshots", "histograms", "ended", "weights")
#: tables added after format 1 first shipped: a run file from before lacks them (and reads as having none)
LATER_TABLES = ("measures",)


class RunFileExists(VisualizerError, FileExistsError):
    """Refused: a run file is never written over an existing file."""


class RecordError(ValueError):
    """A value of a run file that is not what the format stores; the reader says which file and where."""


def npy(array: np.ndarray | None) -> bytes | None:
    """An array as ``.npy`` bytes (None stays None), the bytes ``np.save`` writes. A run's arrays repeat a few
    (dtype, shape) pairs: each header is formatted once, and a C-ordered array's data copied as it is."""
    if array is None:
        return None
    array = np.asarray(array)
    if not array.flags.c_contiguous or array.dtype.kind not in NUMERIC_KINDS:
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        return buf.getvalue()
    return _npy_head(array.dtype, array.shape) + array.tobytes()


@functools.lru_cache(maxsize=256)
def _npy_head(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    return buf.getvalue()


#: the dtypes a stored array may have (booleans, integers, reals): never objects, text or records
NUMERIC_KINDS = "biuf"
#: the longest .npy header read (numpy's own default limit)
MAX_NPY_HEADER = 10_000


def npy_header(head: bytes) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """(dtype, shape, Fortran order, offset of the data) of the ``.npy`` bytes that start with ``head`` (the header: at
    most MAX_NPY_HEADER bytes); raises RecordError for anything but a numeric array in format 1.0 or 2.0."""
    head = bytes(head[:MAX_NPY_HEADER + 12])
    if len(head) < 10 or not head.startswith(b"\x93NUMPY"):
        raise RecordError("not an array in .npy format (no .npy header)")
    size_bytes = {1: 2, 2: 4}.get(head[6])
    if size_bytes is None or head[7] != 0:
        raise RecordError(f"an array in .npy format {head[6]}.{head[7]}; expected 1.0 or 2.0")
    end = 8 + size_bytes + int.from_bytes(head[8:8 + size_bytes], "little")
    if end > len(head):
        raise RecordError("not an array in .npy format (its header is cut or too long)")
    return _parse_npy_header(head[:end])  # a run's arrays repeat a few headers: each is parsed once


@functools.lru_cache(maxsize=256)
def _parse_npy_header(header: bytes) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    from numpy.lib import format as npy_format

    buf = io.BytesIO(header)
    try:
        version = npy_format.read_magic(buf)
        read = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
        shape, fortran, dtype = read(buf, max_header_size=MAX_NPY_HEADER)
    except Exception as exc:  # noqa: BLE001  (a hostile header: any failure of numpy's parser is a damaged value)
        raise RecordError(f"not an array in .npy format ({type(exc).__name__})") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.itemsize == 0:
        raise RecordError(f"an array of {dtype.str!r}; expected numbers")
    if not all(isinstance(n, int) and 0 <= n for n in shape):
        raise RecordError(f"an array of shape {shape!r}")
    return dtype, tuple(shape), bool(fortran), len(header)


def npy_nbytes(dtype: np.dtype, shape: tuple[int, ...]) -> int:
    """How many data bytes an array of ``dtype`` and ``shape`` holds (exact, in Python integers)."""
    return math.prod(shape) * dtype.itemsize


def array(blob: bytes | None) -> np.ndarray | None:
    """``.npy`` bytes back to a numeric array, never unpickling (None stays None). The header must describe exactly
    the bytes that follow it, so that a header claiming 10^12 elements is refused before anything is allocated."""
    if blob is None:
        return None
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise RecordError(f"{type(blob).__name__} where an array belongs")
    blob = bytes(blob)
    dtype, shape, fortran, offset = npy_header(blob[:MAX_NPY_HEADER + 64])
    size = npy_nbytes(dtype, shape)
    if size != len(blob) - offset:
        raise RecordError(f"an array header claims {size:,} bytes of shape {shape}; {len(blob) - offset:,} follow")
    flat = np.frombuffer(blob, dtype=dtype, count=math.prod(shape), offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C").copy()  # writable, and free of the blob


def started_json(started: RunStarted) -> str:
    return json.dumps(asdict(started))


def _text(value) -> str:
    if not isinstance(value, str):
        raise TypeError("text")
    return value


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise TypeError("a whole number from 0")
    return value


def _names(value) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("a list of names")
    return tuple(value)


#: how each field of RunStarted is read back, by its annotation (a new field of a new kind fails at import)
_KINDS = {"str": _text, "int": _count, "tuple[str, ...]": _names}
_STARTED = {f.name: _KINDS[f.type] for f in fields(RunStarted)}
_OPTIONAL = {f.name for f in fields(RunStarted) if f.default is not MISSING}
_ALLOWED = {"task": ("classification", "regression"), "metric": ("accuracy", "r2")}


def started_from_json(text: str) -> RunStarted:
    """The start record back from its JSON; raises RecordError naming the field that is missing or wrong. Fields a
    newer version added are ignored."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RecordError(f"the start record is not JSON ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise RecordError("the start record is not a JSON object")
    values = {}
    for name, read in _STARTED.items():
        if name not in raw:
            if name in _OPTIONAL:  # added later: a file from before has none
                continue
            raise RecordError(f"the start record has no '{name}'")
        try:
            values[name] = read(raw[name])
        except TypeError as exc:
            raise RecordError(f"the start record's '{name}' is not {exc}") from None
    for name, allowed in _ALLOWED.items():
        if values[name] not in allowed:
            raise RecordError(f"the start record's '{name}' is not one of {', '.join(allowed)}")
    return RunStarted(**values)


#: weights set by hand (core.training.edits), one row per WeightEdited: a table added after format 1 first shipped,
#: so a run file from before has none (read as no edits). Kept apart from SCHEMA's text: later tables merge beside it.
EDITS_TABLE = """
CREATE TABLE edits (step INTEGER NOT NULL, layer INTEGER NOT NULL, target INTEGER NOT NULL, source INTEGER,
                    old REAL NOT NULL, new REAL NOT NULL, undo INTEGER NOT NULL);
"""
SCHEMA += EDITS_TABLE
