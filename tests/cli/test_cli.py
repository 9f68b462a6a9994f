"""The `visualizer` command as a user runs it: files written, exit statuses, one-line messages."""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[2]
PRESETS = ROOT / "resources" / "experiments"


def visualizer(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "visualizer", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def _png_is_a_real_plot(path: Path) -> None:
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull() and image.width() >= 400 and image.height() >= 300, path
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20, f"{path} looks blank"


def test_run_moons_writes_every_file(tmp_path):
    out = tmp_path / "moons"
    result = visualizer("run", str(PRESETS / "moons.toml"), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert {"metrics.csv", "summary.json", "experiment.toml", "model.safetensors", "loss.png", "histograms.png",
            "decision_boundary.png", "run.sqlite"} <= names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["final"]["val_acc"] >= 0.95
    from visualizer.core.runs.reader import RunReader

    with RunReader(out / "run.sqlite") as recorded:  # the run file holds what the CSV holds
        assert len(recorded.history()) == summary["steps"] + 1 and recorded.ended.reason == "completed"
        assert recorded.weights()["0.weight"].shape == (16, 2)
        # about 200 snapshots evenly spaced in steps (1,500 steps: every 7th), however fast it trained
        snaps = recorded.snapshot_steps()
        assert 200 <= len(snaps) <= 220 and snaps[:3] == [0, 7, 14] and snaps[-1] == summary["steps"]
    assert summary["parameters"] == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2)
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    assert list(rows[0]) == ["step", "epoch", "train_loss", "val_loss", "train_acc", "val_acc", "lr", "wall_s"]
    assert len(rows) == summary["steps"] + 1 and rows[-1]["val_acc"] != ""
    assert rows[1]["val_loss"] == "" and float(rows[-1]["val_acc"]) == pytest.approx(summary["final"]["val_acc"])
    # the resolved experiment trains the same run again, and the weights load without unpickling
    from visualizer.core import experiment
    from visualizer.core.model.weights import load_weights

    again = experiment.load(out / "experiment.toml")
    assert again == experiment.load(PRESETS / "moons.toml")
    weights = load_weights(out / "model.safetensors")
    assert weights["0.weight"].shape == (16, 2) and weights["4.weight"].shape == (2, 16)
    for png in ("loss.png", "histograms.png", "decision_boundary.png"):
        _png_is_a_real_plot(out / png)


def test_run_regression_writes_r2_columns(tmp_path):
    out = tmp_path / "sine"
    result = visualizer("run", str(PRESETS / "sine.toml"), "--out", str(out), "--epochs", "3", "--quiet")
    assert result.returncode == 0, result.stderr
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[-2:] == ["train_r2", "val_r2"]
    assert "decision_boundary.png" not in {p.name for p in out.iterdir()}
    assert (out / "fit.png").exists()
    assert json.loads((out / "summary.json").read_text())["metric"] == "r2"


@pytest.mark.parametrize("text, words", [
    ("[data]\nname = 'moon'\n", ["data.name", "'moon'", "'moons'"]),
    ("[train]\nlr = -1\n", ["train.lr", "-1"]),
    ("[model]\nhidden = [0]\n", ["model.hidden[0]", "0"]),
    ("[data\n", ["not valid TOML"]),
    ("[data]\nname = 'csv'\npath = 'nothere.csv'\n", ["data.path", "nothere.csv"]),
    ("[data]\nname = 'sine'\n[train]\nloss = 'cross_entropy'\n", ["train.loss", "regression"]),
])
def test_bad_experiments_exit_2_with_one_line(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "o")]):
        result = visualizer(*command)
        assert result.returncode == 2, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
        for word in words:
            assert word in lines[0]
    assert not (tmp_path / "o").exists()


def test_csv_with_text_in_a_numeric_column(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,x\n3,oops,y\n" + "".join(f"{i},{i},x\n" for i in range(20)))
    (tmp_path / "e.toml").write_text("[data]\nname = 'csv'\npath = 'd.csv'\ntarget = 'label'\n")
    result = visualizer("validate", str(tmp_path / "e.toml"))
    assert result.returncode == 2 and "'oops'" in result.stderr and "b" in result.stderr


def test_validate_a_good_file():
    result = visualizer("validate", str(PRESETS / "iris.toml"))
    assert result.returncode == 0 and "ok" in result.stdout


def test_diverging_run_exits_1_and_keeps_its_files(tmp_path):
    path = tmp_path / "diverge.toml"
    path.write_text("[data]\nname = 'sine'\nsamples = 200\n[model]\nhidden = [16]\nactivation = 'relu'\n"
                    "[train]\noptimizer = 'sgd'\nlr = 9.0\nbatch_size = 16\nepochs = 50\n")
    result = visualizer("run", str(path), "--out", str(tmp_path / "o"), "--quiet", "--no-plots")
    assert result.returncode == 1
    assert "smaller learning rate" in result.stderr and "Traceback" not in result.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "diverged"


def test_usage_errors_exit_2():
    result = visualizer("run")
    assert result.returncode == 2 and "error:" in result.stderr
    result = visualizer("frobnicate")
    assert result.returncode == 2


def test_help_lists_the_commands():
    result = visualizer("--help")
    assert result.returncode == 0
    for command in ("run", "validate", "bench"):
        assert command in result.stdout


def test_bench_train_json():
    result = visualizer("bench", "train", "--json", "--repeats", "1", "--epochs", "1")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["ratio"] > 0 and figures["plain_steps_per_s"] > 0 and figures["session_steps_per_s"] > 0


def test_bench_train_lab_json_has_both_ratios():
    result = visualizer("bench", "train", "--sharpness-every", "50", "--json", "--repeats", "2")
    assert result.returncode == 0, result.stderr
    r = json.loads(result.stdout)
    assert r["measurements_per_run"] == 30  # the moons preset: 1,500 steps, one every 50 from step 50
    assert r["ratio"] == pytest.approx(statistics.median(r["on_runs"]) / statistics.median(r["off_runs"]))
    pairs = [on / off for on, off in zip(r["on_runs"], r["off_runs"])]
    assert r["pair_ratio"] == pytest.approx(statistics.median(pairs))


def test_gui_command_paints_a_window(tmp_path):
    env_dir = tmp_path / "config"
    result = subprocess.run([sys.executable, "-m", "visualizer", "gui", "--first-paint-probe"], capture_output=True,
                            text=True, timeout=120,
                            env=dict(os.environ, QT_QPA_PLATFORM="offscreen", VISUALIZER_CONFIG_DIR=str(env_dir)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("first_paint ")


def test_the_window_paints_before_its_plots_and_the_engine_load(tmp_path):
    """The start paints the window's frame first (Qt alone: 0.3 s against 0.8 with pyqtgraph and the views built
    before it, on 2 cores); the plots come right after that paint, the engine (torch) after theirs."""
    script = ("import sys\nimport visualizer.qt.app.start as start\nbase = start._FirstPaint.__init__\n"
              "def init(self, callback):\n"
              "    def at_paint():\n"
              "        print('loaded at first paint:', sorted(m for m in ('pyqtgraph', 'torch', 'sklearn') "
              "if m in sys.modules), flush=True)\n"
              "        callback()\n"
              "    base(self, at_paint)\n"
              "start._FirstPaint.__init__ = init\nstart.main(first_paint_probe=True)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, QT_QPA_PLATFORM="offscreen", VISUALIZER_CONFIG_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "loaded at first paint: []" in result.stdout


def test_gui_with_a_missing_file_exits_2(tmp_path):
    result = visualizer("gui", str(tmp_path / "missing.toml"))
    assert result.returncode == 2 and "no such experiment file" in result.stderr


def test_evaluate_writes_folds_summary_and_plots(tmp_path):
    exp = tmp_path / "iris.toml"
    exp.write_text((PRESETS / "iris.toml").read_text().replace("epochs = 100", "epochs = 10"))
    out = tmp_path / "cv"
    result = visualizer("evaluate", str(exp), "--out", str(out), "--method", "stratified", "--k", "4", "--quiet")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((out / "folds.csv").read_text().splitlines()))
    assert [r["fold"] for r in rows] == ["1", "2", "3", "4"]
    assert all(int(r["n_train"]) + int(r["n_val"]) == 150 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "stratified" and summary["k"] == 4 and summary["seed"] == 0
    import numpy as np

    accs = [float(r["accuracy"]) for r in rows]
    assert summary["metrics"]["accuracy"]["mean"] == pytest.approx(np.mean(accs))
    assert summary["metrics"]["accuracy"]["std"] == pytest.approx(np.std(accs, ddof=1))
    for png in ("cv_indices.png", "folds.png"):
        _png_is_a_real_plot(out / png)


@pytest.mark.parametrize("args, words", [
    (["--method", "stratified", "--k", "60"], ["k:", "2 to 20"]),
    (["--method", "loo"], ["leave-one-out on 1797 samples", "--yes"]),
])
def test_evaluate_refuses_bad_requests(tmp_path, args, words):
    result = visualizer("evaluate", str(PRESETS / "digits.toml"), "--out", str(tmp_path / "o"), *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), result.stderr


def test_gui_check_start_shows_the_window_and_trains(tmp_path):
    """The start check that packaging/check_start.sh runs on a built program, here on the source tree."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VISUALIZER_CONFIG_DIR": str(tmp_path)}
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "visualizer", "gui", "--check-start"], capture_output=True,
                          text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("check-start")]
    assert line and line[0].startswith("check-start ok: window 'Two moons") and "steps trained on cpu" in line[0]
    steps = int(line[0].split(", ")[-1].split()[0])
    assert steps >= 50
    frozen = [x for x in done.stdout.splitlines() if x.startswith("gc-freeze: ")]  # (qt.jobs.gc_policy)
    assert frozen and int(frozen[0].split()[1]) > 50_000  # the modules, torch's among them, and the window


def test_the_fruit_csv_run_replays_and_exports_from_another_working_directory(tmp_path):
    """The preset's CSV path is relative to the preset; the run file records it absolute, so the run is found with
    its data wherever the commands run from."""
    from visualizer.core import experiment
    from visualizer.core.data.sets import load_dataset
    from visualizer.core.runs.reader import RunReader
    from visualizer.core.runs.replay import ReplayRun

    trained_in, exported_in = tmp_path / "a", tmp_path / "b"
    trained_in.mkdir()
    exported_in.mkdir()
    out = tmp_path / "fruit"
    result = visualizer("run", str(PRESETS / "fruit_csv.toml"), "--out", str(out), "--epochs", "4", "--quiet",
                        "--no-plots", cwd=trained_in)
    assert result.returncode == 0, result.stderr
    with RunReader(out / "run.sqlite") as run:
        assert Path(run.experiment.data.path) == (ROOT / "resources" / "data" / "fruit.csv").resolve()
    result = visualizer("export", str(out), "--views", "landscape", "--formats", "csv,png", "--out",
                        str(tmp_path / "views"), cwd=exported_in)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "views" / "landscape.csv").read_text().splitlines()))
    path = list(csv.DictReader((tmp_path / "views" / "landscape_trajectory.csv").read_text().splitlines()))
    assert len(rows) >= 25 and all(r["loss"] != "" for r in rows) and len(path) >= 3
    _png_is_a_real_plot(tmp_path / "views" / "landscape.png")
    # the replay reads the same run with its points, from yet another directory
    here = Path.cwd()
    os.chdir(exported_in)
    try:
        replay = ReplayRun(out / "run.sqlite")
        try:
            points = replay.reader.dataset()
        finally:
            replay.close()
    finally:
        os.chdir(here)
    expected = load_dataset(experiment.load(PRESETS / "fruit_csv.toml").data, PRESETS)  # as the preset says
    assert points.class_names == ("apple", "orange", "pear") and np.array_equal(points.X_train, expected.X_train)


def test_every_command_that_takes_a_run_says_so_in_its_help():
    for command in ("compress", "distill", "landscape", "export"):
        result = visualizer(command, "--help")
        text = " ".join(result.stdout.split())
        assert result.returncode == 0 and "RUN" in text and "a run file (.sqlite) or the folder holding it" in text
