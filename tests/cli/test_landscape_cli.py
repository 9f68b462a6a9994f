"""`visualizer landscape`: files written, one point recomputed from landscape.npz alone, exit 2 on bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from tests.helpers import one_torch_thread  # noqa: F401  (fixture)
from visualizer.cli import parser as cli
from visualizer.cli.common import EXIT_BAD_INPUT
from visualizer.cli.landscape import check_options
from visualizer.core.errors import VisualizerError
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import MLP
from visualizer.core.runs.reader import RunReader

EXPERIMENT = """
title = "tiny moons"
[data]
name = "moons"
samples = 200
seed = 0
[model]
hidden = [8]
activation = "tanh"
[train]
optimizer = "adam"
lr = 0.05
batch_size = 32
epochs = 6
loss = "cross_entropy"
seed = 0
"""


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def landscape(*argv: str) -> int:
    """`visualizer landscape ARGV` in this process."""
    return cli.main(["landscape", *argv])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An experiment trained by `visualizer landscape` with random directions."""
    root = tmp_path_factory.mktemp("landscape")
    (root / "tiny.toml").write_text(EXPERIMENT)
    out = root / "out"
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = landscape(str(root / "tiny.toml"), "--out", str(out), "--resolution", "7", "--quiet")
    finally:
        torch.set_num_threads(before)
    assert code == 0
    return out


def _recompute(npz, i: int, j: int) -> float:
    """loss at betas[i], alphas[j] from the arrays of landscape.npz alone."""
    model = MLP(2, (8,), ("tanh",), 2).eval()
    theta = npz["center"] + float(npz["alphas"][j]) * npz["d1"] + float(npz["betas"][i]) * npz["d2"]
    torch.nn.utils.vector_to_parameters(torch.as_tensor(theta, dtype=torch.float32), model.parameters())
    with torch.no_grad():
        out = model(torch.as_tensor(npz["X"]))
    return float(LOSSES["cross_entropy"](out, torch.as_tensor(npz["y"]), "classification"))


def test_an_experiment_is_trained_and_its_landscape_written(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"metrics.csv", "summary.json", "experiment.toml", "model.safetensors", "run.sqlite",
            "landscape.npz"} <= names and "trajectory.npz" not in names  # the run file holds the trajectory
    assert json.loads((trained / "summary.json").read_text())["status"] == "completed"
    with np.load(trained / "landscape.npz") as f:
        npz = {k: f[k] for k in f.files}
    n_params = 2 * 8 + 8 + 8 * 2 + 2
    assert npz["alphas"].shape == npz["betas"].shape == (7,)
    assert npz["loss"].shape == npz["accuracy"].shape == (7, 7)
    assert npz["center"].shape == npz["d1"].shape == npz["d2"].shape == (n_params,)
    assert npz["X"].shape == (160, 2) and npz["y"].shape == (160,)
    with RunReader(trained / "run.sqlite") as run:
        T = len(run.trajectory())
    assert 20 <= T <= 400 and npz["trajectory"].shape == (T, 2) and npz["distance"].shape == (T,)
    assert abs(_recompute(npz, 5, 2) - npz["loss"][5, 2]) <= 1e-5 * npz["loss"][5, 2]
    assert abs(_recompute(npz, 3, 3) - npz["loss"][3, 3]) <= 1e-5 * npz["loss"][3, 3]  # the centre: θ*


def test_pca_and_hessian_from_a_run_folder(trained, tmp_path):
    assert landscape(str(trained), "--out", str(tmp_path / "pca"), "--directions", "pca", "--resolution", "5") == 0
    with np.load(tmp_path / "pca" / "landscape.npz") as f:
        npz = {k: f[k] for k in f.files}
    assert npz["explained_variance"].shape == (2,) and npz["explained_variance"].sum() <= 1 + 1e-9
    np.testing.assert_allclose(npz["trajectory"][-1], 0.0, atol=1e-5)  # the last snapshot is the centre
    assert abs(npz["alphas"]).max() >= abs(npz["trajectory"]).max()  # the default span covers the path
    assert abs(_recompute(npz, 4, 0) - npz["loss"][4, 0]) <= 1e-5 * npz["loss"][4, 0]
    assert landscape(str(trained), "--out", str(tmp_path / "h"), "--directions", "hessian", "--resolution", "5") == 0
    with np.load(tmp_path / "h" / "landscape.npz") as f:
        assert f["eigenvalues"].shape == (2,) and f["loss"].shape == (5, 5)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """The folder of a `visualizer run` of the tiny experiment (the run file and its files)."""
    root = tmp_path_factory.mktemp("run")
    (root / "tiny.toml").write_text(EXPERIMENT)
    assert cli.main(["run", str(root / "tiny.toml"), "--out", str(root / "out"), "--no-plots", "--quiet"]) == 0
    return root / "out"


def _npz(path) -> dict:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def test_pca_works_on_the_folder_and_on_the_run_file_of_a_visualizer_run(run_folder, tmp_path):
    from sklearn.decomposition import PCA

    for name, source in (("folder", run_folder), ("file", run_folder / "run.sqlite")):
        assert landscape(str(source), "--out", str(tmp_path / name), "--directions", "pca", "--resolution", "5",
                         "--no-plots") == 0
    by_folder, by_file = _npz(tmp_path / "folder" / "landscape.npz"), _npz(tmp_path / "file" / "landscape.npz")
    assert by_folder.keys() == by_file.keys()
    assert all(np.array_equal(by_folder[k], by_file[k]) for k in by_folder)
    # the path is the run file's snapshots (one per step), projected on the plane of their principal axes
    with RunReader(run_folder / "run.sqlite") as run:
        params = run.trajectory().params.astype(np.float64)
        steps = run.snapshot_steps()
    npz = by_file
    assert len(params) == len(set(steps)) == len(npz["trajectory"]) >= 20
    np.testing.assert_allclose(npz["center"], params[-1], rtol=0, atol=1e-6)  # the run ends at its last snapshot
    reference = PCA(n_components=2).fit(params)  # scikit-learn, as Li et al. use it
    np.testing.assert_allclose(npz["explained_variance"], reference.explained_variance_ratio_, rtol=1e-4)
    for axis, d in zip(reference.components_, (npz["d1"], npz["d2"])):
        np.testing.assert_allclose(np.abs(d), np.abs(axis), atol=1e-5)
    np.testing.assert_allclose(npz["trajectory"], (params - npz["center"]) @ np.stack([npz["d1"], npz["d2"]]).T,
                               atol=1e-5)
    assert abs(_recompute(npz, 4, 1) - npz["loss"][4, 1]) <= 1e-5 * npz["loss"][4, 1]


def test_an_older_folder_with_trajectory_npz_is_still_read(run_folder, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(run_folder, old)
    with RunReader(old / "run.sqlite") as run:
        path = run.trajectory()
    (old / "run.sqlite").unlink()
    np.savez(old / "trajectory.npz", steps=path.steps, params=path.params)
    assert landscape(str(old), "--out", str(tmp_path / "o"), "--directions", "pca", "--resolution", "5",
                     "--no-plots") == 0
    assert landscape(str(run_folder), "--out", str(tmp_path / "new"), "--directions", "pca", "--resolution", "5",
                     "--no-plots") == 0
    a, b = _npz(tmp_path / "o" / "landscape.npz"), _npz(tmp_path / "new" / "landscape.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_random_directions_zero_the_biases_unless_asked(trained, tmp_path):
    bias = np.r_[np.arange(16, 24), np.arange(40, 42)]  # the flat indices of the two layers' biases (2-8-2)
    with np.load(trained / "landscape.npz") as f:
        assert not f["d1"][bias].any() and not f["d2"][bias].any()
    out = tmp_path / "bias"
    assert landscape(str(trained), "--out", str(out), "--resolution", "5", "--include-bias-bn", "--no-plots") == 0
    with np.load(out / "landscape.npz") as f:
        center, d1 = f["center"], f["d1"]
        np.testing.assert_allclose(np.abs(d1[bias]), np.abs(center[bias]), rtol=1e-6)
        assert abs(_recompute({k: f[k] for k in f.files}, 1, 3) - f["loss"][1, 3]) <= 1e-5 * f["loss"][1, 3]


def test_pca_without_a_trajectory_is_refused_in_one_line(trained, tmp_path, capsys):
    run = tmp_path / "run"  # a run folder of an older version: no run file, no trajectory.npz
    shutil.copytree(trained, run)
    (run / "run.sqlite").unlink()
    capsys.readouterr()
    assert landscape(str(run), "--out", str(tmp_path / "o"), "--directions", "pca") == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "trajectory" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "landscape.npz").exists()


@pytest.mark.parametrize("argv,word", [
    (["--resolution", "4"], "--resolution"),
    (["--resolution", "302"], "--resolution"),
    (["--span", "0"], "--span"),
    (["--span", "-1"], "--span"),
    (["--directions", "sideways"], "--directions"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, argv, word):
    (tmp_path / "tiny.toml").write_text(EXPERIMENT)
    capsys.readouterr()
    assert landscape(str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "o"), *argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert word in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()  # refused before training


def test_a_missing_source_exits_2(tmp_path, capsys):
    assert landscape(str(tmp_path / "nothing.toml"), "--out", str(tmp_path / "o")) == EXIT_BAD_INPUT
    assert "nothing.toml" in capsys.readouterr().err


def test_check_options_accepts_the_edges():
    check_options("random", 5, None)
    check_options("hessian", 301, 0.5)
    with pytest.raises(VisualizerError):
        check_options("pca", 51, float("nan"))


def test_the_3d_png_is_skipped_in_one_line_without_opengl(trained, tmp_path, capsys):
    from visualizer.cli.landscape import write_landscape_plots
    from visualizer.qt.plots import ensure_app

    if ensure_app().platformName() != "offscreen":
        pytest.skip("this process has a display: tests/qt/test_landscape3d.py covers the 3-D PNG")
    written = write_landscape_plots(tmp_path, trained / "landscape.npz")
    assert [p.name for p in written] == ["landscape.png"] and not (tmp_path / "landscape3d.png").exists()
    assert capsys.readouterr().err.strip().splitlines() == [
        "landscape3d.png skipped: no OpenGL here (the 'offscreen' Qt platform has no OpenGL)"]
