"""Run files: whatever a file holds (garbage or missing or extra keys in the start record, text or NULL in step
columns, blobs of the wrong type or shape, an .npy header claiming 10^12 elements, a view where a table belongs,
injured pages), the reader, the replay, the library, ``load_run`` and the commands give the run or one line naming the
file and what is wrong; the file is never changed; hostile files (a FIFO) are refused at once."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sqlite3
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import COUNTS, FUZZ, HOSTILE, counted, make_hostile, one_line
from tests.fuzz.runs_base import (
    META_KEYS,
    TABLE_COLUMNS,
    npy_bytes,
    open_for_damage,
    record_run,
    relax,
    started_of,
)
from tests.fuzz.strategies import HUGE_NUMBERS, damaged_bytes, damaged_text, injuries, values
from visualizer.core.errors import VisualizerError, shown
from visualizer.core.runs.library import list_runs
from visualizer.core.runs.loaded import load_run
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.replay import ReplayRun
from visualizer.core.runs.schema import array
from visualizer.core.training.events import Snapshot

pytestmark = pytest.mark.timeout(180, method="thread")  # a hang inside SQLite ignores signals


class Bases(dict):
    """The valid run files' bytes by kind (shown short in failure reports)."""

    def __repr__(self) -> str:
        return f"<valid run files: {', '.join(self)}>"


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bases")
    return Bases({kind: record_run(folder / f"{kind}.sqlite", kind).read_bytes() for kind in ("moons", "sine", "iris")})


# --- values a damaged cell may hold ---------------------------------------------------------------------------
def _npy_variants():
    good = npy_bytes(np.arange(6, dtype=np.float32))
    return st.one_of(
        st.sampled_from([
            good.replace(b"(6,)", b"(1000000000000,)"),  # a header claiming 10^12 elements
            good.replace(b"(6,)", b"(3, 2)"), good.replace(b"(6,)", b"(7,)"), good[:-4], good[:20], good + b"\0" * 8,
            good.replace(b"'<f4'", b"'|O'"), good.replace(b"'<f4'", b"'<U2'"), good.replace(b"'<f4'", b"'<c8'"),
            good.replace(b"'<f4'", b"[('a', '<f4')]"), good.replace(b"False", b"True "), b"\x93NUMPY\x03\x00",
            b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 100, npy_bytes(np.array(3.0)), npy_bytes(np.zeros((0,))),
        ]),
        st.builds(lambda shape, dtype: npy_bytes(np.zeros(shape, dtype)),
                  st.lists(st.integers(0, 4), max_size=3).map(tuple),
                  st.sampled_from(["f4", "f8", "i8", "u1", "?", "f2"])),
    )


cell_values = st.one_of(
    st.none(), st.integers(), st.sampled_from([2**63 - 1, -(2**63), -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([h for h in HUGE_NUMBERS if isinstance(h, float)]),
    st.text(max_size=20), st.sampled_from(["1", "1.5", "nan", "[1, 2]", "{}", "completed", "x" * 2000]),
    st.binary(max_size=40), _npy_variants(),
)


@st.composite
def sql_damage(draw):
    """A function that damages an open run file through SQLite, and its description (for the failure report)."""
    kind = draw(st.sampled_from(["cell", "cell", "cell", "started", "started", "meta", "rows", "structure"]))
    if kind == "cell":
        table = draw(st.sampled_from(sorted(TABLE_COLUMNS)))
        column = draw(st.sampled_from(TABLE_COLUMNS[table]))
        row = draw(st.integers(1, 8))
        value = draw(cell_values)
        loose = draw(st.booleans())

        def apply(db):
            if loose or table == "meta":
                relax(db, table)
            try:
                db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = (SELECT rowid FROM {table} LIMIT 1 "
                           f"OFFSET ?)", (value, row - 1))
            except sqlite3.IntegrityError:
                relax(db, table)
                db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = (SELECT rowid FROM {table} LIMIT 1 "
                           f"OFFSET ?)", (value, row - 1))
        return apply, f"{table}.{column}[{row}] = {shown(value)}"
    if kind == "started":
        action = draw(st.sampled_from(["drop", "add", "set", "text", "list"]))
        key = draw(st.sampled_from(["device", "n_params", "task", "metric", "n_classes", "n_features", "layer_names",
                                    "feature_names", "class_names", "total_steps", "steps_per_epoch"]))
        value = draw(values)
        text = draw(st.sampled_from(["", "{", "[]", "null", "1e999", "{\"a\": " * 3000, "\ufeff{}"]))

        def apply(db):
            started = started_of(db)
            if action == "drop":
                started.pop(key)
            elif action == "add":
                started["added_in_a_newer_version"] = value
            elif action == "set":
                started[key] = value
            elif action == "list":
                started[key] = [value]
            try:
                new = text if action == "text" else json.dumps(started, allow_nan=True)
            except RecursionError:  # a deep nest: written by hand, as another program could
                name = "added_in_a_newer_version" if action == "add" else key
                plain = {k: v for k, v in started.items() if k != name} | {name: "DEEP"}
                new = json.dumps(plain).replace('"DEEP"', "[" * 5000 + "]" * 5000, 1)
            db.execute("UPDATE meta SET value = ? WHERE key = 'started'", (new,))
        return apply, f"started: {action} {key} {shown(value)} {text!r:.20}"
    if kind == "meta":
        key = draw(st.sampled_from(META_KEYS))
        edit = draw(st.sampled_from(["text", "drop", "value"]))
        noise = draw(st.data())

        def apply(db):
            (old,) = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if edit == "drop":
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            elif edit == "text":
                db.execute("UPDATE meta SET value = ? WHERE key = ?", (noise.draw(damaged_text(old)), key))
            else:
                db.execute("UPDATE meta SET value = ? WHERE key = ?", (noise.draw(st.sampled_from(
                    ["0", "-1", "2", "99999999999999999999", "1.0", "", "x"])), key))
        return apply, f"meta {key}: {edit}"
    if kind == "rows":
        table = draw(st.sampled_from(sorted(TABLE_COLUMNS)))
        edit = draw(st.sampled_from(["delete_all", "delete_some", "duplicate"]))
        n = draw(st.integers(1, 5))

        def apply(db):
            if edit == "delete_all":
                db.execute(f"DELETE FROM {table}")
            elif edit == "delete_some":
                db.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY random() "
                           f"LIMIT {n})")
            else:
                relax(db, table)
                db.execute(f"INSERT INTO {table} SELECT * FROM {table} LIMIT {n}")
        return apply, f"rows {table}: {edit} {n}"
    table = draw(st.sampled_from(sorted(TABLE_COLUMNS)))
    edit = draw(st.sampled_from(["drop", "endless_view", "rename_column"]))

    def apply(db):
        if edit == "drop":
            db.execute(f"DROP TABLE {table}")
        elif edit == "endless_view":  # a hostile file: reading this 'table' would never end
            columns = ", ".join(f"x AS {c}" for c in TABLE_COLUMNS[table])
            db.execute(f"DROP TABLE {table}")
            db.execute(f"CREATE VIEW {table} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                       f"SELECT {columns} FROM c")
        else:
            first = TABLE_COLUMNS[table][0]
            db.execute(f"ALTER TABLE {table} RENAME COLUMN {first} TO renamed")
    return apply, f"structure {table}: {edit}"


# --- what every reader must do with the file -------------------------------------------------------------------
def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def names_it(text: str, path) -> None:
    assert str(path) in text or "data." in text or path.name in text, text


def exercise(path) -> str:
    """Read the run file as every part of the app does; each either works or raises one VisualizerError line naming
    the file. Returns the reader's error at open ('' when it opened)."""
    before = digest(path)
    opened_error = ""
    try:
        with RunReader(path) as run:
            summary = run.summary()
            json.dumps(summary, allow_nan=True)
            history = run.history()
            assert len(history.steps) == len(history.train_loss) and np.all(np.diff(history.steps) >= 0)
            steps = run.snapshot_steps()
            assert steps == sorted(steps)
            for stage in (lambda: run.snapshots(), lambda: run.snapshot_at(10**9), lambda: run.trajectory(),
                          lambda: run.trajectory(2), lambda: run.weights(), lambda: run.model(), lambda: run.refresh()):
                try:
                    result = stage()
                except VisualizerError as exc:
                    names_it(one_line(exc), path)
                    continue
                if isinstance(result, list):
                    assert all(isinstance(s, Snapshot) for s in result)
                if hasattr(result, "params") and hasattr(result, "steps"):  # a trajectory: one size, one per step
                    assert result.params.ndim == 2 and len(result.params) == len(result.steps)
    except VisualizerError as exc:
        opened_error = one_line(exc)
        names_it(opened_error, path)
    try:
        replay = ReplayRun(path)
    except VisualizerError as exc:
        names_it(one_line(exc), path)
    else:
        try:
            n = len(replay.history)
            events = replay.step_events(0, n)
            assert len(events) == n
            replay.duration(), replay.time_at(replay.last_step), replay.step_at_time(1.0), replay.epoch_at(0)
            replay.snapshots_up_to(replay.last_step)
        finally:
            replay.close()
    try:
        loaded = load_run(path)
        loaded.trajectory()
    except VisualizerError as exc:
        names_it(one_line(exc), path)
    (listing,) = [item for item in list_runs(path.parent) if item.path == path]
    assert (listing.summary is None) == bool(opened_error)
    if listing.error:
        one_line(listing.error)
    assert digest(path) == before, "reading changed the run file"
    return opened_error


def fresh(folder, name: str, data: bytes):
    for old in folder.iterdir():
        old.unlink()
    path = folder / name
    path.write_bytes(data)
    return path


@settings(FUZZ, max_examples=250)
@given(kind=st.sampled_from(["moons", "sine", "iris"]), damage=sql_damage())
@counted("run file: cells, records and tables")
def test_damaged_through_sqlite(kind, damage, bases, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    path = fresh(folder, "run.sqlite", bases[kind])
    apply, _description = damage
    db = open_for_damage(path)
    try:
        apply(db)
    except sqlite3.OperationalError:  # a damage that does not apply to this run (a column it lacks)
        pass
    finally:
        db.close()
    exercise(path)


@settings(FUZZ, max_examples=150)
@given(kind=st.sampled_from(["moons", "sine", "iris"]), hurt=injuries, start=st.sampled_from([0, 100, 4096]))
@counted("run file: injured bytes")
def test_injured_bytes(kind, hurt, start, bases, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    path = fresh(folder, "run.sqlite", hurt.apply(bases[kind], start))
    exercise(path)


@FUZZ
@given(blob=st.one_of(_npy_variants(), st.builds(lambda b, d: d, st.just(0), st.binary(max_size=200))),
       data=st.data())
@counted("run file: .npy values")
def test_npy_values(blob, data):
    blob = data.draw(damaged_bytes(blob)) if data.draw(st.booleans()) and blob else blob
    try:
        out = array(blob)
    except ValueError as exc:  # RecordError: the reader names the file around it
        one_line(exc)
        return
    assert out.dtype.kind in "biuf" and out.nbytes <= len(blob)


# --- the cases, each once, by hand --------------------------------------------------------------------
def _set(table, column, value, where="rowid = (SELECT min(rowid) FROM {t})"):
    def apply(db):
        relax(db, table)
        db.execute(f"UPDATE {table} SET {column} = ? WHERE " + where.format(t=table), (value,))
    return apply


def _started(edit):
    def apply(db):
        started = started_of(db)
        edit(started)
        db.execute("UPDATE meta SET value = ? WHERE key = 'started'", (json.dumps(started),))
    return apply


KNOWN = {
    "garbage in started": lambda db: db.execute("UPDATE meta SET value = '{garbage' WHERE key = 'started'"),
    "a key missing from started": _started(lambda s: s.pop("task")),
    "started of the wrong type": lambda db: db.execute("UPDATE meta SET value = '[1, 2]' WHERE key = 'started'"),
    "text in a step column": _set("steps", "train_loss", "abc"),
    "NULL in a step's epoch": _set("steps", "epoch", None),
    "text in a step's epoch": _set("steps", "epoch", "x"),
    "text where params belong": _set("snapshots", "params", "hello"),
    "a blob that is no array": _set("snapshots", "params", b"\x01\x02"),
    "params of the wrong shape": _set("snapshots", "params", npy_bytes(np.zeros((2, 2)))),
    "params of another size": _set("snapshots", "params", npy_bytes(np.zeros(5, np.float32))),
    "an npy header claiming 10^12 elements": _set(
        "snapshots", "params", npy_bytes(np.zeros(3)).replace(b"(3,)", b"(1000000000000,)")),
    "text in a histogram": _set("histograms", "weight_edges", "x"),
    "text as the weights": _set("weights", "safetensors", "x"),
    "a weights header claiming 10^12 bytes": _set("weights", "safetensors", (10**12).to_bytes(8, "little") + b"{}"),
    "text as the end's step": _set("ended", "step", "x"),
    "a view with endless rows": lambda db: db.executescript(
        "DROP TABLE steps; CREATE VIEW steps AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT x AS step, x AS epoch, x AS train_loss, x AS lr, x AS wall_s, x AS val_loss, x AS train_metric, "
        "x AS val_metric, x AS eval_train_loss FROM c"),
}


@pytest.mark.parametrize("case", sorted(KNOWN))
def test_known_damage_is_refused_by_every_reader(case, bases, tmp_path):
    COUNTS["hand-made"] += 1
    path = fresh(tmp_path, "run.sqlite", bases["moons"])
    db = open_for_damage(path)
    KNOWN[case](db)
    db.close()
    t0 = time.monotonic()
    error = exercise(path)
    assert error, f"{case}: the damaged file opened"
    assert "damaged" in error or "not a" in error, error
    assert time.monotonic() - t0 < 30


def test_a_file_from_a_newer_version_with_an_added_field_is_listed_and_read(bases, tmp_path):
    COUNTS["hand-made"] += 1
    path = fresh(tmp_path, "run.sqlite", bases["moons"])
    db = open_for_damage(path)
    _started(lambda s: s.update(added_in_a_newer_version=[1, 2]))(db)
    db.close()
    assert exercise(path) == ""
    (listing,) = list_runs(tmp_path)
    assert listing.summary is not None and listing.summary["steps"] > 0


def test_the_library_lists_every_damaged_file_with_what_is_wrong(bases, tmp_path):
    COUNTS["hand-made"] += 1
    for i, case in enumerate(sorted(KNOWN)):
        path = tmp_path / f"{i:02d}.sqlite"
        path.write_bytes(bases["moons"])
        db = open_for_damage(path)
        KNOWN[case](db)
        db.close()
    (tmp_path / "good.sqlite").write_bytes(bases["iris"])
    os.mkfifo(tmp_path / "fifo.sqlite")
    listed = {item.path.name: item for item in list_runs(tmp_path)}
    assert len(listed) == len(KNOWN) + 1  # the FIFO is not a file: not listed, never opened
    assert listed["good.sqlite"].summary["title"] == "iris" and not listed["good.sqlite"].error
    for name, item in listed.items():
        if name != "good.sqlite":
            assert item.summary is None and one_line(item.error).startswith(str(tmp_path / name))


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_refused_at_once(kind, tmp_path):
    COUNTS["hand-made"] += 1
    path = make_hostile(tmp_path, "run.sqlite", kind)
    t0 = time.monotonic()
    for read in (RunReader, ReplayRun, load_run):
        with pytest.raises(VisualizerError) as info:
            read(path)
        one_line(info.value)
    assert list_runs(tmp_path) == [] or all(item.error for item in list_runs(tmp_path))
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize("sidecar", ["-wal", "-shm", "-journal"])
def test_a_fifo_beside_the_run_file_is_refused(sidecar, bases, tmp_path):
    COUNTS["hand-made"] += 1
    path = fresh(tmp_path, "run.sqlite", bases["moons"])
    os.mkfifo(f"{path}{sidecar}")
    with pytest.raises(VisualizerError, match="is not a regular file") as info:
        RunReader(path)
    one_line(info.value)


def test_the_bases_are_valid_runs(bases, tmp_path):
    for kind, data in bases.items():
        path = fresh(tmp_path, f"{kind}.sqlite", data)
        assert exercise(path) == ""
        with RunReader(path) as run:
            assert run.ended.ok and len(run.snapshots()) >= 2 and run.weights() is not None
            assert math.isfinite(run.summary()["final"]["train_loss"])
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_infinite_or_missing_times_still_replay(bases, tmp_path):
    COUNTS["hand-made"] += 1
    path = fresh(tmp_path, "run.sqlite", bases["sine"])
    db = open_for_damage(path)
    db.execute("UPDATE steps SET wall_s = 9e999 WHERE step % 2 = 0")
    db.execute("UPDATE steps SET train_loss = NULL WHERE step = 1")
    db.close()
    assert exercise(path) == ""
    replay = ReplayRun(path)
    try:
        assert math.isfinite(replay.duration()) and replay.step_at_time(replay.duration()) == replay.last_step
    finally:
        replay.close()
