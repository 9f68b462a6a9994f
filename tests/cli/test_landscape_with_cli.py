"""`visualizer landscape RUN_A --directions three-point --with RUN_B`: the plane through θ₀, θ_A and θ_B holds the
three (rebuilt from landscape.npz alone), run B's path is projected, and the refusals name the option or field."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import one_torch_thread, train_run  # noqa: F401  (fixture)
from visualizer.cli import parser as cli
from visualizer.cli.common import EXIT_BAD_INPUT
from visualizer.core.model.nets import flat_parameters
from visualizer.core.runs.loaded import load_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def circles(seed: int, hidden=(8,)) -> dict:
    return {"data": {"name": "circles", "samples": 300, "noise": 0.1, "seed": 0},
            "model": {"hidden": list(hidden), "activation": "tanh"},
            "train": {"optimizer": "adam", "lr": 0.02, "batch_size": 32, "epochs": 10, "seed": seed}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("three_point")
    return {name: train_run(root / name, raw) for name, raw in
            (("a", circles(0)), ("b", circles(1)), ("wide", circles(0, hidden=(12,))))}


def test_the_three_point_plane_holds_the_three_points_and_both_paths(runs, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["landscape", str(runs["a"]), "--with", str(runs["b"]), "--directions", "three-point",
                     "--resolution", "9", "--out", str(out), "--quiet"]) == 0
    with np.load(out / "landscape.npz") as f:
        npz = {k: f[k] for k in f.files}
    a, b = load_run(runs["a"]), load_run(runs["b"])
    truth = [a.trajectory().params[0], flat_parameters(a.model).numpy(), flat_parameters(b.model).numpy()]
    center, d1, d2 = (npz[k].astype(np.float64) for k in ("center", "d1", "d2"))
    assert npz["points"].shape == (3, 2) and str(npz["directions"]) == "three-point"
    for (alpha, beta), theta in zip(npz["points"], truth):
        rebuilt = center + alpha * d1 + beta * d2
        assert np.linalg.norm(rebuilt - theta) <= 1e-5 * np.linalg.norm(theta)
    assert npz["trajectory_b"].shape == (len(b.trajectory()), 2) and npz["distance_b"].shape[0] > 2
    assert np.allclose(npz["trajectory_b"][-1], npz["points"][2], atol=1e-5)  # B's path ends at θ_B
    assert npz["distance_b"][-1] <= 1e-5 * np.linalg.norm(truth[2])
    lo = np.array([npz["alphas"][0], npz["betas"][0]])
    hi = np.array([npz["alphas"][-1], npz["betas"][-1]])
    assert np.all(npz["points"] >= lo) and np.all(npz["points"] <= hi)  # the grid holds all three
    assert (out / "landscape.png").stat().st_size > 10000


def test_three_point_without_a_second_run_names_the_option(runs, tmp_path, capsys):
    assert cli.main(["landscape", str(runs["a"]), "--directions", "three-point", "--out", str(tmp_path),
                     "--no-plots"]) == EXIT_BAD_INPUT
    assert "--with RUN_B" in capsys.readouterr().err


def test_a_second_run_of_another_network_is_refused_naming_the_field(runs, tmp_path, capsys):
    assert cli.main(["landscape", str(runs["a"]), "--with", str(runs["wide"]), "--directions", "three-point",
                     "--out", str(tmp_path), "--no-plots"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "model.hidden" in err and "--with" in err
