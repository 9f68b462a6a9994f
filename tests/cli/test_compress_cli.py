"""`visualizer compress` and `visualizer distill` as a user runs them: the files written, weights exactly zero or
exactly on their grid, and one line with exit status 2 for every bad request."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers import one_torch_thread, train_run  # noqa: F401  (fixtures)
from visualizer.cli import compress as cli_compress
from visualizer.cli import distill as cli_distill
from visualizer.cli import parser as cli_parser
from visualizer.core import experiment
from visualizer.core.compression.measure import scores
from visualizer.core.compression.pruning import masks, prune_model
from visualizer.core.data.sets import load_dataset
from visualizer.core.model.weights import load_weights
from visualizer.core.runs.folder import train_to_dir
from visualizer.core.runs.loaded import load_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


ROOT = Path(__file__).parents[2]
DIGITS = {"data": {"name": "digits", "val_fraction": 0.2, "seed": 0},
          "model": {"hidden": [32, 16], "activation": "relu"},
          "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 64, "epochs": 3, "seed": 0, "device": "cpu"}}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run folder as `visualizer run` writes it, trained in-process (3 epochs of digits)."""
    out = tmp_path_factory.mktemp("digits_run")
    exp = experiment.from_dict(DIGITS)
    data = load_dataset(exp.data)
    train_to_dir(experiment.resolve(exp, data), out, data)
    return out


def visualizer(*args: str, capsys) -> tuple[int, str, str]:
    """Run a command in-process (as the `visualizer` command runs it): exit status, stdout, stderr."""
    code = cli_parser.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compress_prune_then_quantize_writes_every_file(run_dir, tmp_path, capsys):
    out = tmp_path / "c"
    code, _, err = visualizer("compress", run_dir, "--out", out, "--prune", "l1:50%", "--quantize", "bits:4",
                              "--repeats", "3", capsys=capsys)
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {"compression.json", "model.safetensors", "experiment.toml"}
    report = json.loads((out / "compression.json").read_text())
    assert report["prune"] == {"method": "l1", "amount": 0.5, "shrink": False}
    assert report["quantize"] == {"method": "bits", "parameter": 4, "per_channel": False}
    assert set(report["before"]) == set(report["after"]) == {"loss", "accuracy"}
    assert report["latency_s"]["before"] > 0 and report["latency_s"]["after"] > 0
    assert report["total"]["bytes"] < report["total"]["float_bytes"]
    weights = load_weights(out / "model.safetensors")
    original = load_run(run_dir)
    pruned_masks = masks(prune_model(original.model, "l1", 0.5))
    for layer in report["layers"]:
        w = weights[layer["key"]]
        assert layer["bits"] == 4 and {"sparsity", "bytes", "max_abs_error", "rms_error"} <= set(layer)
        assert (w[pruned_masks[layer["key"]] == 0] == 0).all()  # pruned weights are exactly zero
        assert int((w == 0).sum()) == layer["zeros"] >= round(0.5 * w.numel())
        q = w.double() / layer["step"]
        assert torch.equal(q, q.round()) and q.abs().max() <= 7  # exactly on the 4-bit grid
    # the folder is a run folder again: it loads, and measures what the report says
    again = load_run(out)
    assert scores(again.model, again).metric == pytest.approx(report["after"]["accuracy"])
    assert "files in" in err and err.count("\n") == 1


def test_compress_int8_writes_dequantized_weights(run_dir, tmp_path, capsys):
    out = tmp_path / "int8"
    code, _, err = visualizer("compress", run_dir, "--out", out, "--quantize", "int8", "--per-channel",
                              "--repeats", "3", capsys=capsys)
    assert code == 0, err
    report = json.loads((out / "compression.json").read_text())
    assert report["steps"]["quantize"]["serialized_bytes"]["int8"] < report["steps"]["quantize"]["serialized_bytes"][
        "float32"]
    weights = load_weights(out / "model.safetensors")
    for layer in report["layers"]:
        steps = torch.tensor(layer["steps"], dtype=torch.float64).reshape(-1, 1)
        q = weights[layer["key"]].double() / steps
        # int8 steps are torch's (float64) scales: q·scale rounded to float32 stays within 1e-5 of an integer
        assert (q - q.round()).abs().max() <= 1e-5 and q.abs().max() <= 128


def test_compress_pow2_and_structured_shrink(run_dir, tmp_path, capsys):
    out = tmp_path / "shrunk"
    code, _, err = visualizer("compress", run_dir, "--out", out, "--prune", "structured:0.5", "--shrink",
                              "--quantize", "pow2:-4", "--repeats", "3", capsys=capsys)
    assert code == 0, err
    exp = experiment.load(out / "experiment.toml")
    assert exp.model.hidden == (16, 8)
    weights = load_weights(out / "model.safetensors")
    assert weights["0.weight"].shape == (16, 64) and weights["2.weight"].shape == (8, 16)
    for key in ("0.weight", "2.weight", "4.weight"):
        q = weights[key] * 16  # steps of 1/16 exactly
        assert torch.equal(q, q.round())
    report = json.loads((out / "compression.json").read_text())
    assert report["steps"]["prune"]["shrunk"]["hidden"] == [16, 8]
    again = load_run(out)
    assert scores(again.model, again).metric == pytest.approx(report["after"]["accuracy"])


@pytest.mark.parametrize("request_args", [
    ["--prune", "l1:1.5"], ["--prune", "l1:100%"], ["--prune", "l1:-0.1"], ["--prune", "prune:abc"],
    ["--prune", "l1:abc"], ["--prune", "l1"], ["--quantize", "bits:9"], ["--quantize", "bits:1"],
    ["--quantize", "bits:x"], ["--quantize", "int8:4"], ["--quantize", "pow2:-4", "--per-channel"], [],
    ["--shrink", "--quantize", "int8"], ["--prune", "l1:0.5", "--repeats", "0"],
])
def test_bad_compress_requests_exit_2_with_one_line(run_dir, tmp_path, capsys, request_args):
    out = tmp_path / "never"
    code, stdout, err = visualizer("compress", run_dir, "--out", out, *request_args, capsys=capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not out.exists()


def test_a_run_without_weights_exits_2(run_dir, tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "experiment.toml").write_text((run_dir / "experiment.toml").read_text())
    code, _, err = visualizer("compress", bare, "--out", tmp_path / "o", "--prune", "l1:0.5", capsys=capsys)
    assert code == 2 and err == f"error: {bare} has no model.safetensors: train it with `visualizer run` first\n"
    code, _, err = visualizer("distill", tmp_path / "missing", "--hidden", "4", "--out", tmp_path / "o",
                              capsys=capsys)
    assert code == 2 and "no such run folder" in err and err.count("\n") == 1


def test_out_must_not_be_the_run_folder(run_dir, capsys):
    before = (run_dir / "model.safetensors").read_bytes()
    code, _, err = visualizer("compress", run_dir, "--out", run_dir, "--prune", "l1:0.5", capsys=capsys)
    assert code == 2 and "is the run folder itself" in err
    assert (run_dir / "model.safetensors").read_bytes() == before


def test_distill_writes_the_table_and_the_student(run_dir, tmp_path, capsys):
    out = tmp_path / "student"
    code, _, err = visualizer("distill", run_dir, "--hidden", "8", "--hidden", "4", "--temperature", "4",
                              "--alpha", "0.7", "--epochs", "3", "--out", out, "--quiet", capsys=capsys)
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {"distill.json", "model.safetensors", "experiment.toml", "metrics.csv"}
    table = json.loads((out / "distill.json").read_text())
    assert [r["name"] for r in table["rows"]] == ["teacher", "distilled student", "student from scratch"]
    assert table["rows"][1]["hidden"] == [8, 4] and table["temperature"] == 4.0 and table["alpha"] == 0.7
    assert table["margin"] == pytest.approx(table["rows"][1]["accuracy"] - table["rows"][2]["accuracy"])
    exp = experiment.load(out / "experiment.toml")
    assert exp.model.hidden == (8, 4) and exp.train.epochs == 3
    student = load_run(out)
    assert scores(student.model, student).metric == pytest.approx(table["rows"][1]["accuracy"])
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,train_loss,val_loss") and len(rows) == 1 + 3 * 23 + 1


@pytest.mark.parametrize("request_args", [
    ["--hidden", "0"], ["--hidden", "4", "--alpha", "1.5"], ["--hidden", "4", "--temperature", "-1"],
    ["--hidden", "4", "--epochs", "0"], [], ["--hidden", "x"], ["--hidden", "4", "--activation", "swish"],
])
def test_bad_distill_requests_exit_2_with_one_line(run_dir, tmp_path, capsys, request_args):
    out = tmp_path / "never"
    code, stdout, err = visualizer("distill", run_dir, "--out", out, "--quiet", *request_args, capsys=capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not out.exists()


def test_add_parsers_sets_a_command_for_each_subcommand():
    parser = argparse.ArgumentParser(prog="visualizer")
    sub = parser.add_subparsers(dest="command")
    cli_compress.add_parser(sub)
    cli_distill.add_parser(sub)
    args = parser.parse_args(["compress", "RUN", "--out", "OUT", "--prune", "l1:0.5"])
    assert args.func is cli_compress.cmd_compress and args.prune == "l1:0.5"
    args = parser.parse_args(["distill", "RUN", "--hidden", "8", "--hidden", "4", "--out", "OUT"])
    assert args.func is cli_distill.cmd_distill and args.hidden == [8, 4]


def test_the_visualizer_command_runs_compress(run_dir, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = tmp_path / "via_cli"
    result = subprocess.run([sys.executable, "-m", "visualizer", "compress", str(run_dir), "--out", str(out),
                             "--prune", "global:0.5", "--repeats", "2"], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (out / "compression.json").exists()
    bad = subprocess.run([sys.executable, "-m", "visualizer", "compress", str(run_dir), "--out", str(out),
                          "--quantize", "bits:9"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
