"""The same run and seed give the same landscape, to the bit: repeated in one process, on one or two torch threads,
and whatever the alignment of the arrays handed in (one of 33 runs of `visualizer landscape RUN --seed 5
--include-bias-bn --resolution 15` once differed by 1e-5 in its first chunk of grid points)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import train_run
from visualizer.cli.parser import main as cli_main
from visualizer.core.landscape.planes import PlaneInputs, make_plane, plane_grid
from visualizer.core.landscape.surface import loss_surface
from visualizer.core.model.nets import flat_parameters
from visualizer.core.runs.loaded import load_run

BN_RUN = {
    "title": "batch-norm moons",
    "data": {"name": "moons", "samples": 320, "noise": 0.2, "val_fraction": 0.2, "seed": 0},
    "model": {"hidden": [16, 16], "activation": "tanh", "batch_norm": True},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 3, "seed": 0},
}


@pytest.fixture(scope="module")
def bn_run(tmp_path_factory) -> Path:
    return train_run(tmp_path_factory.mktemp("bn") / "run", BN_RUN)


def _landscape(run: Path, out: Path) -> dict[str, np.ndarray]:
    """`visualizer landscape RUN --seed 5 --include-bias-bn --resolution 15`, in this process."""
    code = cli_main(["landscape", str(run), "--out", str(out), "--seed", "5", "--include-bias-bn",
                     "--resolution", "15", "--no-plots", "--quiet"])
    assert code == 0
    with np.load(out / "landscape.npz") as npz:
        return {k: npz[k] for k in ("loss", "accuracy", "alphas", "betas", "d1", "d2")}


def test_the_same_run_and_seed_give_the_same_landscape_on_one_and_two_threads(bn_run, tmp_path):
    threads = torch.get_num_threads()
    results = []
    try:
        for n_threads in (2, 1, 2, 1, threads):
            torch.set_num_threads(n_threads)
            results.append(_landscape(bn_run, tmp_path / f"out{len(results)}"))
    finally:
        torch.set_num_threads(threads)
    first = results[0]
    for other in results[1:]:
        for key, values in first.items():
            np.testing.assert_array_equal(other[key], values, err_msg=key)


def _misaligned(values, offset: int) -> np.ndarray:
    """``values`` as float32 in a buffer starting ``offset`` floats past an allocation (not 64-byte aligned)."""
    values = np.asarray(values, np.float32)
    buffer = np.empty(values.size + 16, np.float32)
    out = buffer[offset:offset + values.size].reshape(values.shape)
    out[...] = values
    return out


def test_the_surface_does_not_depend_on_where_its_inputs_lie_in_memory(bn_run):
    """Math libraries may take another code path for other alignments (Intel MKL documents it): the surface copies
    what it is given into memory of its own."""
    run = load_run(bn_run)
    model, loss = run.model, run.loss_info
    X, y = run.tensors("training")
    center = flat_parameters(model).numpy()
    plane = make_plane("random", PlaneInputs(model, center, None, loss, X, y, 5, True, (0, 1)))
    alphas, betas = plane_grid(plane, np.zeros((0, 2)), None, 15)
    reference = loss_surface(model, loss, X, y, center, plane.d1, plane.d2, alphas, betas, metric=True)
    for offset in (1, 2, 3, 5, 8):
        surface = loss_surface(model, loss, _misaligned(X.numpy(), offset), y, _misaligned(center, offset),
                               _misaligned(plane.d1, (offset + 3) % 16), _misaligned(plane.d2, (offset + 7) % 16),
                               alphas, betas, metric=True)
        np.testing.assert_array_equal(surface.loss, reference.loss)
        np.testing.assert_array_equal(surface.accuracy, reference.accuracy)
