"""The sweep's folder: sweep.json (what was asked: the experiment, the swept fields, the seeds, the target loss),
sweep.csv (one row per finished trial, rewritten atomically after each) and trials/<id>/ (each trial's run folder).
A rerun of the same sweep into the folder skips the trials sweep.csv holds; another sweep is refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from visualizer.core.errors import VisualizerError
from visualizer.core.files import atomic_write_bytes, atomic_write_text, read_text_bounded
from visualizer.core.sweeps.trial import MEASURES

SPEC_FILE, TABLE_FILE, TRIALS_DIR = "sweep.json", "sweep.csv", "trials"
#: sweep.json's format; a different one is not resumed
SPEC_VERSION = 1
#: a sweep.csv of 10,000 trials is about 3 MB
MAX_TABLE_BYTES = 64 * 1024 * 1024


def columns(fields: list[str]) -> list[str]:
    """sweep.csv's header: the trial's id, the swept fields, the seed, the figures and the run file's path."""
    return ["trial", *fields, "seed", *MEASURES, "run"]


def cell(value) -> str:
    """A value as sweep.csv writes it: blank for none or non-finite, widths as 16x16, true/false, repr floats."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "x".join(str(int(v)) for v in value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else ""
    return str(value)


def table_text(fields: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns(fields))
    for row in sorted(rows, key=lambda r: r["trial"]):
        w.writerow([row.get(c, "") for c in columns(fields)])
    return buf.getvalue()


def read_table(folder: Path) -> tuple[list[str], list[dict]]:
    """(header, rows as dicts of text) of ``folder``'s sweep.csv; ([], []) when there is none. A damaged table is a
    VisualizerError naming it."""
    path = Path(folder) / TABLE_FILE
    if not path.exists():
        return [], []
    text = read_text_bounded(path, MAX_TABLE_BYTES, "sweep table")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
        rows = [dict(zip(header, r)) for r in reader if r]
    except csv.Error as exc:
        raise VisualizerError(f"{path}: not a sweep table ({exc})") from None
    if header[:1] != ["trial"] or any(len(r) != len(header) for r in rows):
        raise VisualizerError(f"{path}: not a sweep table (its header or a row is damaged); move it away and run "
                              "the sweep again")
    return header, rows


def read_spec(folder: Path) -> dict | None:
    """The sweep asked for in ``folder`` (sweep.json), or None when there is none."""
    path = Path(folder) / SPEC_FILE
    if not path.exists():
        return None
    try:
        spec = json.loads(read_text_bounded(path, 16 * 1024 * 1024, "sweep description"))
    except json.JSONDecodeError as exc:
        raise VisualizerError(f"{path}: not a sweep description ({exc})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("params"), list):
        raise VisualizerError(f"{path}: not a sweep description (no params)")
    return spec


def _difference(old: dict, new: dict) -> str:
    parts = {"experiment": "the experiment", "params": "the swept fields or their values", "seeds": "the seeds",
             "target_loss": "the target loss", "version": "the sweep format"}
    differ = [words for key, words in parts.items() if old.get(key) != new.get(key)]
    return " and ".join(differ) or "its description"


class SweepFolder:
    """The folder of one sweep: claims it for a spec (or resumes the same spec), records trials as they finish."""

    def __init__(self, folder: Path, spec: dict, fields: list[str]) -> None:
        self.folder = Path(folder)
        self.spec = spec
        self.fields = fields
        self.rows: dict[str, dict] = {}

    def open(self) -> set[str]:
        """Create the folder or check that it holds the same sweep; returns the ids of the trials already done.
        A folder holding another sweep is a VisualizerError saying what differs."""
        old = read_spec(self.folder)
        if old is not None and _canonical(old) != _canonical(self.spec):
            raise VisualizerError(f"{self.folder} holds another sweep ({_difference(old, self.spec)} differ); "
                                  "choose another --out folder, or delete it to start over")
        if old is None:
            if (self.folder / TABLE_FILE).exists():
                raise VisualizerError(f"{self.folder}: has a {TABLE_FILE} but no {SPEC_FILE}; choose another --out "
                                      "folder")
            atomic_write_text(self.folder / SPEC_FILE, json.dumps(self.spec, indent=2) + "\n")
        header, rows = read_table(self.folder)
        if rows and header != columns(self.fields):
            raise VisualizerError(f"{self.folder / TABLE_FILE}: its columns are not this sweep's; choose another "
                                  "--out folder")
        self.rows = {r["trial"]: r for r in rows}
        return set(self.rows)

    def record(self, trial, outcome) -> dict:
        """Write a finished trial: its run folder's files first, then its row (sweep.csv rewritten atomically, so
        a kill leaves the old table or the new one, never half a row). Returns the row (text cells)."""
        run_dir = self.folder / TRIALS_DIR / trial.id
        for name, payload in outcome.files.items():
            atomic_write_bytes(run_dir / Path(name).name, payload)
        row = {"trial": trial.id, "seed": str(trial.seed), **{f: cell(v) for f, v in trial.values.items()},
               **{m: cell(outcome.figures.get(m)) for m in MEASURES}}
        row["run"] = f"{TRIALS_DIR}/{trial.id}/run.sqlite" if "run.sqlite" in outcome.files else ""
        self.rows[trial.id] = row
        atomic_write_text(self.folder / TABLE_FILE, table_text(self.fields, list(self.rows.values())))
        return row


def _canonical(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True)
