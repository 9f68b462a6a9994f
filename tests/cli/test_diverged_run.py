"""A run that diverges: strict JSON, figures that say when they were measured, one message, a readable loss plot;
and every JSON file the commands write is strict."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.test_cli import PRESETS, visualizer
from visualizer.core import strict_json

DIVERGING = ("[data]\nname = 'sine'\nsamples = 200\n[model]\nhidden = [16]\nactivation = 'relu'\n"
             "[train]\noptimizer = 'sgd'\nlr = 10.0\nbatch_size = 16\nepochs = 50\n")


def _refuse(name: str):
    raise ValueError(f"non-finite constant {name} in JSON")


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diverged")
    (folder / "diverge.toml").write_text(DIVERGING)
    result = visualizer("run", str(folder / "diverge.toml"), "--out", str(folder / "o"), "--quiet")
    return folder / "o", result


def test_a_diverged_runs_summary_is_strict_json_that_says_what_is_stale(diverged):
    out, result = diverged
    assert result.returncode == 1
    text = (out / "summary.json").read_text()
    summary = json.loads(text, parse_constant=_refuse)  # no Infinity, no NaN
    final = summary["final"]
    assert summary["status"] == "diverged" and final["last_batch_loss"] is None
    assert summary["non_finite"] == {"final.last_batch_loss": "inf"}
    measured = final["measured_at_step"]
    assert measured["last_batch_loss"] == final["step"] == summary["steps"]
    assert measured["val_loss"] == measured["val_r2"] < final["step"]  # the last evaluation before the end
    assert f"diverged at step {final['step']}" in final["note"] and f"from step {measured['val_loss']}" in final["note"]


def test_a_diverged_run_says_so_once_without_a_meaningless_figure(diverged):
    out, result = diverged
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert sum("smaller learning rate" in line for line in lines) == 1, result.stderr
    assert lines[-1].startswith("error: The training loss became") and str(out) in lines[-1]
    assert not re.search(r"\de\+\d\d|\d{12}", result.stderr)  # no R² of -1.3e28
    assert "Traceback" not in result.stderr
    assert (out / "loss.png").stat().st_size > 1000


def test_a_diverged_run_compresses_to_strict_json(diverged, tmp_path):
    out, _ = diverged
    result = visualizer("compress", str(out), "--prune", "l1:0.5", "--out", str(tmp_path / "c"))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "c" / "compression.json").read_text(), parse_constant=_refuse)
    assert report["after"]["r2"] is None and report["non_finite"]["after.r2"] == "nan"


def test_evaluate_names_settings_its_method_does_not_use(tmp_path):
    exp = tmp_path / "iris.toml"
    exp.write_text((PRESETS / "iris.toml").read_text().replace("epochs = 100", "epochs = 5"))
    result = visualizer("evaluate", str(exp), "--out", str(tmp_path / "cv"), "--method", "holdout", "--k", "7",
                        "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    assert "note: holdout does not use --k; ignored" in result.stderr
    summary = json.loads((tmp_path / "cv" / "summary.json").read_text(), parse_constant=_refuse)
    assert "k" not in summary and "repeats" not in summary and summary["val_fraction"] == pytest.approx(0.3)


def test_strict_json_names_every_non_finite_number():
    import numpy as np

    document = {"a": 1.5, "b": float("nan"), "c": [1, float("inf"), {"d": np.float32("-inf")}], "e": np.int64(3),
                "f": np.array([0.5, np.nan])}
    text = strict_json.dumps(document)
    parsed = strict_json.loads_strict(text)
    assert parsed == {"a": 1.5, "b": None, "c": [1, None, {"d": None}], "e": 3, "f": [0.5, None],
                      "non_finite": {"b": "nan", "c.1": "inf", "c.2.d": "-inf", "f.1": "nan"}}
    assert strict_json.dumps({"x": 1.0}) == '{"x": 1.0}'  # nothing to flag: no flag
    with pytest.raises(ValueError):
        strict_json.loads_strict('{"x": Infinity}')
