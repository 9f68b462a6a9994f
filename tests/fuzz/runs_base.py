"""Valid run files to damage (a 2-D classification with its decision boundary, a regression with its fitted curve,
a 4-feature classification with its confusion matrix), and ways to damage them through SQLite itself."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import torch

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.runs.writer import RunWriter
from visualizer.core.training.session import TrainingSession

KINDS = {
    "moons": {"data": {"name": "moons", "samples": 60, "seed": 1}, "model": {"hidden": [4]},
              "train": {"optimizer": "sgd", "lr": 0.1, "batch_size": 16, "epochs": 2, "device": "cpu"}},
    "sine": {"data": {"name": "sine", "samples": 40, "seed": 1}, "model": {"hidden": [3], "batch_norm": True},
             "train": {"optimizer": "adam", "batch_size": 16, "epochs": 2, "device": "cpu"}},
    "iris": {"title": "iris", "data": {"name": "iris"}, "model": {"hidden": []},
             "train": {"optimizer": "adam", "batch_size": 64, "epochs": 2, "device": "cpu"}},
}
TABLE_COLUMNS = {
    "steps": ("step", "epoch", "train_loss", "lr", "wall_s", "val_loss", "train_metric", "val_metric",
              "eval_train_loss"),
    "snapshots": ("id", "step", "epoch", "params", "boundary_xs", "boundary_ys", "boundary_probs", "curve_x",
                  "curve_y", "confusion"),
    "histograms": ("snapshot", "layer", "name", "weight_edges", "weight_counts", "grad_edges", "grad_counts"),
    "ended": ("step", "reason", "message", "wall_s"),
    "weights": ("safetensors",),
    "meta": ("key", "value"),
}
META_KEYS = ("format_version", "app_version", "created", "experiment", "started")


def record_run(path: Path, kind: str) -> Path:
    """Train a tiny run of ``kind`` and record it, with snapshots holding its prediction picture and its weights."""
    exp = experiment.from_dict(KINDS[kind])
    exp = experiment.resolve(exp, load_dataset(exp.data))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        session = TrainingSession(exp, snapshot_every_steps=2, snapshot_interval_s=0.0, boundary_resolution=6)
        with RunWriter(path, exp, session.prepare()) as writer:
            for event in session.run():
                writer.add(event)
            writer.add_weights(session.model)
    finally:
        torch.set_num_threads(threads)
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def relax(db: sqlite3.Connection, table: str) -> None:
    """Rebuild ``table`` without its types and constraints, so that any value can be put in any cell (what a damaged
    or hand-made file can hold)."""
    db.executescript(f"CREATE TABLE relaxed AS SELECT * FROM {table}; DROP TABLE {table}; "
                     f"ALTER TABLE relaxed RENAME TO {table};")


def open_for_damage(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=MEMORY")
    db.execute("PRAGMA synchronous=OFF")
    return db


def started_of(db: sqlite3.Connection) -> dict:
    return json.loads(db.execute("SELECT value FROM meta WHERE key = 'started'").fetchone()[0])
