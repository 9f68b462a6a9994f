"""`visualizer sharpness` and `visualizer spectrum` on a recorded run, against the dense Hessian of the run's
weights (an independent reference), and their messages for bad options."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from visualizer.cli.parser import main
from visualizer.core import experiment
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.lab.hessian import dense_hessian
from visualizer.core.runs.loaded import LoadedRun
from visualizer.core.runs.reader import RunReader

EXP = Experiment(data=DataSpec(name="sine", samples=120, noise=0.1, seed=0),
                 model=ModelSpec(hidden=(6,), activation=("tanh",)),
                 train=TrainSpec(optimizer="gd", lr=0.05, batch_size=0, epochs=60, loss="mse"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    experiment.save(EXP, folder / "exp.toml")
    assert main(["run", str(folder / "exp.toml"), "--out", str(folder / "run"), "--no-plots", "--quiet"]) == 0
    return folder / "run"


def _dense_eigenvalues(run_dir, step=None):
    with RunReader(run_dir / "run.sqlite") as reader:
        run = LoadedRun.from_reader(reader)
        if step is not None:
            torch.nn.utils.vector_to_parameters(torch.as_tensor(reader.snapshot_at(step).params),
                                                list(run.model.parameters()))
        X, y = run.tensors("training")
        return np.sort(np.linalg.eigvalsh(dense_hessian(run.model, run.loss_info, X, y)))[::-1]


def test_sharpness_at_the_snapshots_matches_the_dense_hessian(run_dir, tmp_path, capsys):
    assert main(["sharpness", str(run_dir), "--every", "20", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "step,sharpness,threshold"
    rows = [line.split(",") for line in lines[1:]]
    steps = [int(r[0]) for r in rows]
    assert steps[0] == 0 and all(b - a >= 20 for a, b in zip(steps, steps[1:]))
    assert all(float(r[2]) == pytest.approx(40.0) for r in rows)  # 2/η
    for step, value in ((steps[0], float(rows[0][1])), (steps[-1], float(rows[-1][1]))):
        reference = _dense_eigenvalues(run_dir, step)[0]
        assert abs(value - reference) <= 1e-4 * abs(reference) + 1e-6  # printed with 6 significant digits
    saved = list(csv.reader((tmp_path / "sharpness.csv").read_text().splitlines()))
    assert [int(r[0]) for r in saved[1:]] == steps
    assert (tmp_path / "sharpness.png").stat().st_size > 1000


def test_spectrum_prints_the_top_eigenvalues_and_writes_a_density_that_integrates_to_one(run_dir, tmp_path, capsys):
    assert main(["spectrum", str(run_dir), "--top", "3", "--lanczos-steps", "30", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "step 60: top 3 eigenvalues of the Hessian"
    printed = [float(line.split("=")[1]) for line in out[1:4]]
    np.testing.assert_allclose(printed, _dense_eigenvalues(run_dir)[:3], rtol=1e-4, atol=1e-6)
    rows = np.array([[float(v) for v in r] for r in csv.reader((tmp_path / "spectrum.csv").read_text()
                                                                .splitlines()[1:])])
    assert abs(np.trapezoid(rows[:, 1], rows[:, 0]) - 1.0) < 1e-3
    assert (tmp_path / "spectrum.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["sharpness", "RUN", "--every", "0"], "--every: 0 is out of range"),
    (["spectrum", "RUN", "--top", "0"], "--top: 0 is out of range"),
    (["spectrum", "RUN", "--step", "-5"], "--step -5: the run has no snapshot"),
])
def test_bad_options_are_one_message(run_dir, argv, message, capsys):
    assert main([a if a != "RUN" else str(run_dir) for a in argv]) == 2
    assert message in capsys.readouterr().err


def test_export_writes_the_lab_views_of_a_run_that_measured_them_and_skips_them_otherwise(run_dir, tmp_path, capsys):
    from dataclasses import replace

    from visualizer.core.experiment import LabSpec

    experiment.save(replace(EXP, lab=LabSpec(sharpness_every=10, health_every=10)), tmp_path / "lab.toml")
    assert main(["run", str(tmp_path / "lab.toml"), "--out", str(tmp_path / "lab"), "--no-plots", "--quiet"]) == 0
    out = tmp_path / "exported"
    assert main(["export", str(tmp_path / "lab"), "--out", str(out), "--views", "sharpness,health",
                 "--formats", "png,svg,csv"]) == 0
    for name in ("sharpness.png", "sharpness.svg", "sharpness.csv", "health.png", "health.svg", "health.csv"):
        assert (out / name).stat().st_size > 100, name
    rows = list(csv.reader((out / "sharpness.csv").read_text().splitlines()))
    measured = list(csv.reader((tmp_path / "lab" / "measures.csv").read_text().splitlines()))
    sharp = [(r[0], r[3]) for r in measured if r[1] == "sharpness"]
    assert rows[0] == ["step", "sharpness", "threshold"]
    assert [(r[0], r[1]) for r in rows[1:]] == sharp and all(float(r[2]) == pytest.approx(40.0) for r in rows[1:])
    health = list(csv.reader((out / "health.csv").read_text().splitlines()))
    assert len(health) - 1 == sum(1 for r in measured[1:] if r[1] not in ("sharpness", "sharpness_threshold"))
    capsys.readouterr()
    assert main(["export", str(run_dir), "--out", str(tmp_path / "none"), "--views", "loss,sharpness,health",
                 "--formats", "csv"]) == 0
    err = capsys.readouterr().err
    assert "sharpness: the run measured no sharpness ([lab] sharpness_every); skipped" in err
    assert "health: the run measured no training health ([lab] health_every); skipped" in err
    assert (tmp_path / "none" / "loss.csv").exists() and not (tmp_path / "none" / "sharpness.csv").exists()
