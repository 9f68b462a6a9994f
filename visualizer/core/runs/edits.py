"""The run file's record of weights set by hand (its ``edits`` table, see ``schema.EDITS_TABLE``): written as the
WeightEdited events come, read back checked (a damaged row is a RecordError; a file from before has no table)."""

from __future__ import annotations

import math
import sqlite3

from visualizer.core.runs.schema import RecordError
from visualizer.core.training.events import WeightEdited

#: the most edits read back from one run file (each is a click: a genuine run holds a handful)
MAX_EDITS = 100_000
_INSERT = "INSERT INTO edits VALUES (?, ?, ?, ?, ?, ?, ?)"
_SELECT = "SELECT step, layer, target, source, old, new, undo FROM edits ORDER BY rowid LIMIT ?"


def write_edit(db: sqlite3.Connection, event: WeightEdited) -> None:
    """Record one weight set by hand."""
    db.execute(_INSERT, (event.step, event.layer, event.target, event.source, event.old, event.new,
                         int(event.undo)))


def _whole(value, what: str, none_ok: bool = False) -> int | None:
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise RecordError(f"a weight edit's {what} is {value!r}, not a whole number from 0")
    return value


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RecordError(f"a weight edit's {what} is {value!r}, not a finite number")
    return float(value)


def read_edits(db: sqlite3.Connection) -> list[WeightEdited]:
    """The weights set by hand, in the order they were set; [] for a run file from before the table existed."""
    from visualizer.core.runs.checks import check_tables

    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'edits'").fetchall():
        return []
    check_tables(db, ("edits",))  # a plain table, not a view that computes rows without end
    edits = []
    for step, layer, target, source, old, new, undo in db.execute(_SELECT, (MAX_EDITS,)).fetchall():
        if undo not in (0, 1) or isinstance(undo, float):
            raise RecordError(f"a weight edit's undo mark is {undo!r}, not 0 or 1")
        edits.append(WeightEdited(_whole(step, "step"), _whole(layer, "layer"), _whole(target, "neuron"),
                                  _whole(source, "input", none_ok=True), _number(old, "old value"),
                                  _number(new, "new value"), bool(undo)))
    return edits


def describe_edit(edit: WeightEdited) -> str:
    """One line for a run's log: 'after step 12: layer 2, input 3 → neuron 1 set from 0.41 to -1 (undo)'."""
    from visualizer.core.training.edits import edit_place

    what = "put back" if edit.undo else "set"
    return f"after step {edit.step}: {edit_place(edit)} {what} from {edit.old:.4g} to {edit.new:.4g}"
