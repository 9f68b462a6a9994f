"""`visualizer evaluate --backend local|ray`: the folds in parallel give the fold table of the serial run."""

from __future__ import annotations

import pytest

from visualizer.cli.parser import main

from .conftest import TINY


def _folds(tmp_path, capsys, backend: str) -> str:
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    out = tmp_path / backend
    code = main(["evaluate", str(exp), "--out", str(out), "--k", "3", "--backend", backend, "--no-plots", "--quiet"])
    assert code == 0, capsys.readouterr().err
    return (out / "folds.csv").read_text()


@pytest.mark.slow
def test_local_backend_gives_the_serial_fold_table(tmp_path, capsys):
    serial = _folds(tmp_path, capsys, "serial")
    assert serial.count("\n") == 4  # header and 3 folds
    assert _folds(tmp_path, capsys, "local") == serial


@pytest.mark.ray
def test_ray_backend_gives_the_serial_fold_table(tmp_path, capsys, local_ray):
    assert _folds(tmp_path, capsys, "ray") == _folds(tmp_path, capsys, "serial")
