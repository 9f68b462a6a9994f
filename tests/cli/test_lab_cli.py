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
