"""`visualizer export --plane FILE` draws the landscape on exactly the plane and grid of a plane file (the
landscape.npz of `visualizer landscape`, or what the replay window writes); --directions and --resolution choose one
otherwise, with the same names and checks as `visualizer landscape`."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.helpers import one_torch_thread  # noqa: F401  (fixture)
from visualizer.cli import parser as cli
from visualizer.cli.common import EXIT_BAD_INPUT
from visualizer.core.errors import VisualizerError
from visualizer.core.landscape.planes import Plane
from visualizer.core.runs.export import read_plane_file, write_plane_file

EXPERIMENT = """
title = "tiny moons"
[data]
name = "moons"
samples = 160
seed = 0
[model]
hidden = [6]
activation = "tanh"
[train]
optimizer = "adam"
lr = 0.05
batch_size = 32
epochs = 5
loss = "cross_entropy"
seed = 0
"""

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def landscape_run(tmp_path_factory):
    """A run trained by `visualizer landscape` (random directions, seed 3, 7 x 7): its folder holds landscape.npz."""
    root = tmp_path_factory.mktemp("plane")
    (root / "tiny.toml").write_text(EXPERIMENT)
    out = root / "out"
    assert cli.main(["landscape", str(root / "tiny.toml"), "--out", str(out), "--resolution", "7", "--seed", "3",
                     "--quiet", "--no-plots"]) == 0
    return out


def test_the_plane_and_grid_of_a_landscape_npz_are_used_exactly(landscape_run, tmp_path):
    out = tmp_path / "views"
    assert cli.main(["export", str(landscape_run), "--out", str(out), "--views", "landscape", "--formats", "csv",
                     "--plane", str(landscape_run / "landscape.npz")]) == 0
    with np.load(landscape_run / "landscape.npz") as npz:
        stored = {k: npz[k] for k in npz.files}
    surface = _rows(out / "landscape.csv")
    assert sorted({float(r["alpha"]) for r in surface}) == stored["alphas"].tolist()
    assert sorted({float(r["beta"]) for r in surface}) == stored["betas"].tolist()
    loss = np.array([float(r["loss"]) for r in surface]).reshape(7, 7)
    np.testing.assert_allclose(loss, stored["loss"], rtol=1e-5)  # the same surface, computed again
    path = _rows(out / "landscape_trajectory.csv")
    np.testing.assert_allclose([[float(r["alpha"]), float(r["beta"])] for r in path], stored["trajectory"],
                               rtol=1e-5, atol=1e-6)


def test_the_options_choose_the_plane_as_visualizer_landscape_does(landscape_run, tmp_path):
    out = tmp_path / "views"
    assert cli.main(["export", str(landscape_run), "--out", str(out), "--views", "landscape", "--formats", "csv",
                     "--directions", "random", "--seed", "3", "--resolution", "7"]) == 0
    with np.load(landscape_run / "landscape.npz") as npz:
        alphas, loss = npz["alphas"], npz["loss"]
    surface = _rows(out / "landscape.csv")
    np.testing.assert_allclose(sorted({float(r["alpha"]) for r in surface}), alphas)
    np.testing.assert_allclose(np.array([float(r["loss"]) for r in surface]).reshape(7, 7), loss, rtol=1e-5)


def test_a_plane_file_without_a_grid_gets_one_from_the_options(landscape_run, tmp_path):
    with np.load(landscape_run / "landscape.npz") as npz:
        plane = Plane.from_arrays(npz)
    file = write_plane_file(tmp_path / "plane.npz", plane)
    read, alphas, betas = read_plane_file(file)
    assert alphas is None and betas is None and read.directions == "random"
    np.testing.assert_array_equal(read.d1, plane.d1)
    out = tmp_path / "views"
    assert cli.main(["export", str(landscape_run), "--out", str(out), "--views", "landscape", "--formats", "csv",
                     "--plane", str(file), "--resolution", "5", "--span", "0.5"]) == 0
    assert sorted({float(r["alpha"]) for r in _rows(out / "landscape.csv")}) == [-0.5, -0.25, 0.0, 0.25, 0.5]


def test_a_plane_of_another_network_skips_the_landscape_in_one_line(landscape_run, tmp_path, capsys):
    rng = np.random.default_rng(0)
    file = write_plane_file(tmp_path / "other.npz", Plane("random", *rng.normal(size=(3, 10)).astype(np.float32)))
    capsys.readouterr()
    assert cli.main(["export", str(landscape_run), "--out", str(tmp_path / "o"), "--views", "loss,landscape",
                     "--formats", "csv", "--plane", str(file)]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("landscape:")]
    assert len(lines) == 1 and "network of 10 parameters" in lines[0] and lines[0].endswith("skipped")


@pytest.mark.parametrize("argv,word", [
    (["--directions", "sideways"], "--directions"),
    (["--resolution", "4"], "--resolution"),
    (["--span", "0"], "--span"),
    (["--weights", "1"], "--weights"),
    (["--plane", "missing.npz"], "--plane"),
    (["--plane", "BAD"], "--plane"),
    (["--plane", "GOOD", "--directions", "pca"], "--plane and --directions"),
])
def test_bad_plane_options_exit_2_with_one_line(landscape_run, tmp_path, capsys, argv, word):
    (tmp_path / "bad.npz").write_bytes(b"not an npz file at all")
    argv = [str(landscape_run / "landscape.npz") if a == "GOOD" else str(tmp_path / "bad.npz") if a == "BAD"
            else a for a in argv]
    capsys.readouterr()
    assert cli.main(["export", str(landscape_run), "--out", str(tmp_path / "o"), *argv]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert word in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("arrays,word", [
    ({"center": np.zeros(4), "d1": np.ones(4)}, "has no d2"),
    ({"center": np.zeros(4), "d1": np.ones(4), "d2": np.ones(3)}, "one length"),
    ({"center": np.zeros(4), "d1": np.ones(4), "d2": np.full(4, np.nan)}, "not finite"),
    ({"center": np.zeros(4), "d1": np.ones(4), "d2": np.ones(4), "alphas": np.linspace(0, 1, 3)}, "only one"),
    ({"center": np.zeros(4), "d1": np.ones(4), "d2": np.ones(4), "alphas": np.ones(3), "betas": np.ones(3)},
     "increasing"),
])
def test_a_damaged_plane_file_is_a_message(tmp_path, arrays, word):
    np.savez(tmp_path / "p.npz", **arrays)
    with pytest.raises(VisualizerError, match=word):
        read_plane_file(tmp_path / "p.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(VisualizerError, match="not a readable"):
        read_plane_file(tmp_path / "one.npy")
