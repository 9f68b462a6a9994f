"""Reading a run file's measures table (the lab's sharpness and training health), trusting nothing in it: a run
file from before the table has none, and a damaged row is a RecordError naming it."""

from __future__ import annotations

import sqlite3

from visualizer.core.runs.checks import check_tables
from visualizer.core.runs.schema import RecordError

#: the most measure rows read (a sharpness and ~5 health numbers per layer, every few steps of a long run)
MAX_ROWS = 2_000_000
MAX_NAME_CHARS = 200


def has_measures(db: sqlite3.Connection) -> bool:
    """Whether the file has a measures table (a plain table: anything else is a RecordError)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'measures'").fetchone():
        return False
    check_tables(db, ("measures",))
    return True


def read_measures(db: sqlite3.Connection, after_rowid: int = 0) -> list[tuple[int, int, str, str, float]]:
    """The rows (rowid, step, name, layer, value) after ``after_rowid``, in the order they were written."""
    if not has_measures(db):
        return []
    count = db.execute("SELECT count(*) FROM (SELECT 1 FROM measures WHERE rowid > ? LIMIT ?)",
                       (after_rowid, MAX_ROWS + 1)).fetchone()[0]
    if count > MAX_ROWS:
        raise RecordError(f"its measures table holds more than {MAX_ROWS:,} rows")
    bad = db.execute(
        "SELECT rowid, typeof(step), typeof(name), typeof(layer), typeof(value), length(name), length(layer) "
        "FROM measures WHERE rowid > ? AND NOT (typeof(step) = 'integer' AND typeof(name) = 'text' AND "
        "typeof(layer) = 'text' AND typeof(value) IN ('real', 'integer', 'null') AND length(name) <= ? AND "
        "length(layer) <= ? AND step >= 0) LIMIT 1", (after_rowid, MAX_NAME_CHARS, MAX_NAME_CHARS)).fetchone()
    if bad is not None:
        raise RecordError(f"its measure row {bad[0]} is not a step, a name, a layer and a number")
    rows = db.execute("SELECT rowid, step, name, layer, value FROM measures WHERE rowid > ? ORDER BY rowid LIMIT ?",
                      (after_rowid, MAX_ROWS)).fetchall()
    return [(r, s, n, layer, float("nan") if v is None else float(v)) for r, s, n, layer, v in rows]


class MeasureRows:
    """A run file's measures as they are written: ``read(db)`` adds the rows committed since the last read."""

    def __init__(self) -> None:
        from visualizer.core.lab.measures import Measures

        self.measures, self._last = Measures(), 0

    def read(self, db: sqlite3.Connection):
        rows = read_measures(db, self._last)
        self.measures.extend(row[1:] for row in rows)
        if rows:
            self._last = rows[-1][0]
        return self.measures
