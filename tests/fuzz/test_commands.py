"""The commands on bad input, as a user runs them: exit status 2 and one line on stderr, never a traceback or a
hang (each child process is given a deadline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.conftest import COUNTS
from tests.fuzz.runs_base import open_for_damage, record_run

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]


def visualizer(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "visualizer", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def test_bad_input_is_exit_2_and_one_line(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("title = " + "[" * 100_000 + "]" * 100_000 + "\n")
    big = tmp_path / "big.toml"
    big.write_text("[data]\nsamples = " + "9" * 5000 + "\n")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    damaged = record_run(tmp_path / "damaged.sqlite", "moons")
    db = open_for_damage(damaged)
    db.execute("UPDATE meta SET value = ? WHERE key = 'started'", (json.dumps({"task": "classification"}),))
    db.close()
    run_fifo = tmp_path / "run.sqlite"
    os.mkfifo(run_fifo)
    commands = {
        "validate deep nesting": ("validate", str(deep)),
        "validate a FIFO": ("validate", str(fifo)),
        "run a 5000-digit integer": ("run", str(big), "--out", str(tmp_path / "out1"), "--quiet"),
        "export a damaged start record": ("export", str(damaged), "--out", str(tmp_path / "out2")),
        "export a FIFO": ("export", str(run_fifo), "--out", str(tmp_path / "out3")),
    }
    COUNTS["hand-made"] += len(commands)
    children = {name: visualizer(*args) for name, args in commands.items()}  # side by side: two cores
    problems = []
    for name, child in children.items():
        try:
            out, err = child.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            problems.append(f"{name}: no answer within 240 s")
            continue
        lines = [line for line in err.splitlines() if "propagateSizeHints" not in line]
        if child.returncode != 2 or len(lines) != 1 or not lines[0].startswith("error: ") or "Traceback" in err:
            problems.append(f"{name}: exit {child.returncode}, stderr {err[-600:]!r}")
    assert not problems, "\n".join(problems)
    assert not (tmp_path / "out1").exists()
