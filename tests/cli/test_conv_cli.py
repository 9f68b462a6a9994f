"""A convolutional experiment through every command, as a user runs them: run, landscape (random, PCA, Hessian),
compress (structured channel pruning with shrink, then int8), evaluate (k-fold) and export."""

from __future__ import annotations

import json

from tests.cli.test_cli import visualizer
from visualizer.core import experiment
from visualizer.core.model.weights import load_weights

CNN = """[data]
name = "digits"
[model]
layers = ["conv 6 3x3", "relu", "maxpool 2", "conv 8 2x2", "relu", "flatten", "dense 16", "relu"]
[train]
epochs = 2
batch_size = 64
lr = 0.01
"""


def test_a_cnn_experiment_goes_through_every_command(tmp_path):
    exp_path = tmp_path / "cnn.toml"
    exp_path.write_text(CNN)
    run = tmp_path / "run"
    result = visualizer("run", str(exp_path), "--out", str(run), "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["final"]["val_acc"] > 0.5
    assert load_weights(run / "model.safetensors")["1.weight"].shape == (6, 1, 3, 3)

    for directions in ("random", "pca", "hessian"):
        out = tmp_path / f"landscape_{directions}"
        result = visualizer("landscape", str(run), "--out", str(out), "--directions", directions,
                            "--resolution", "5", "--quiet", "--no-plots")
        assert result.returncode == 0, result.stderr
        assert (out / "landscape.npz").exists()

    out = tmp_path / "small"
    result = visualizer("compress", str(run), "--out", str(out), "--prune", "structured:0.5", "--shrink",
                        "--quantize", "int8", "--repeats", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "compression.json").read_text())
    assert report["steps"]["prune"]["shrunk"]["hidden"] == [3, 4, 8]
    assert [layer["name"] for layer in report["layers"]][:2] == ["conv 1 (1→3, 3×3)", "conv 2 (3→4, 2×2)"]
    shrunk = experiment.load(out / "experiment.toml")  # the saved experiment describes the smaller network
    assert shrunk.model.layers[:4] == ("conv 3 3x3", "relu", "maxpool 2", "conv 4 2x2")

    out = tmp_path / "cv"
    result = visualizer("evaluate", str(exp_path), "--out", str(out), "--k", "2", "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "summary.json").read_text())["k"] == 2

    out = tmp_path / "export"
    result = visualizer("export", str(run), "--out", str(out), "--views", "loss,histograms,landscape",
                        "--formats", "png,csv")
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert {"loss.png", "histograms.png", "histograms.csv", "landscape.png"} <= names
    assert "conv 1 (1→6, 3×3)" in (out / "histograms.csv").read_text(encoding="utf-8")
