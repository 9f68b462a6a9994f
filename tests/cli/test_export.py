"""`visualizer export`: PNG size and DPI, SVG, CSV equal to the run, GIF/MP4 frames, dashboard, exit 2 on bad input."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import torch

from visualizer.cli import parser as cli
from visualizer.cli.common import EXIT_BAD_INPUT
from visualizer.core import experiment
from visualizer.core.runs.export import LANDSCAPE_RESOLUTION
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.writer import record
from visualizer.core.training.session import TrainingSession

MOONS = {"title": "tiny moons", "data": {"name": "moons", "samples": 200, "seed": 0},
         "model": {"hidden": [8], "activation": "tanh"},
         "train": {"optimizer": "adam", "lr": 0.05, "batch_size": 32, "epochs": 4, "loss": "cross_entropy",
                   "seed": 0}}
SINE = {"title": "tiny sine", "data": {"name": "sine", "samples": 100, "seed": 0},
        "model": {"hidden": [4], "activation": "tanh"},
        "train": {"optimizer": "adam", "lr": 0.05, "batch_size": 32, "epochs": 2, "loss": "mse", "seed": 0}}


def export(*argv: str) -> int:
    """`visualizer export ARGV` in this process."""
    return cli.main(["export", *argv])


def _record(folder, raw: dict, every: int):
    folder.mkdir(parents=True)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        session = TrainingSession(experiment.from_dict(raw), folder, snapshot_every_steps=every,
                                  snapshot_interval_s=0.0)
        record(session, folder / "run.sqlite").close()
    finally:
        torch.set_num_threads(before)
    return folder


@pytest.fixture(scope="module")
def moons(tmp_path_factory):
    """A 20-step moons run with a snapshot every 4 steps, recorded as the window records it (no boundaries)."""
    return _record(tmp_path_factory.mktemp("export") / "moons", MOONS, 4)


@pytest.fixture(scope="module")
def static(moons, tmp_path_factory):
    out = tmp_path_factory.mktemp("static")
    assert export(str(moons), "--out", str(out), "--width", "640", "--height", "480", "--dpi", "150") == 0
    return out


def _rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_pngs_have_the_requested_size_and_dpi(static):
    from PySide6.QtGui import QImage

    for view in ("loss", "landscape", "histograms", "boundary"):
        image = QImage(str(static / f"{view}.png"))
        assert (image.width(), image.height()) == (640, 480), view
        assert round(image.dotsPerMeterX() * 0.0254) == round(image.dotsPerMeterY() * 0.0254) == 150
        assert iio.imread(static / f"{view}.png").std() > 10  # drawn, not blank
    dashboard = QImage(str(static / "dashboard.png"))
    assert (dashboard.width(), dashboard.height()) == (640, 480)
    assert round(dashboard.dotsPerMeterX() * 0.0254) == 150


def test_svgs_are_xml_of_the_requested_size(static):
    for view in ("loss", "landscape", "histograms", "boundary"):
        root = ET.parse(static / f"{view}.svg").getroot()
        assert root.tag.endswith("svg")
        assert [float(v) for v in root.get("viewBox").split()] == [0, 0, 640, 480]
    assert not (static / "dashboard.svg").exists()  # the dashboard is PNG only


def test_csv_rows_equal_the_run(moons, static):
    with RunReader(moons / "run.sqlite") as reader:
        history = reader.history()
        steps = sorted(set(reader.snapshot_steps()))
        last = reader.snapshot_at(steps[-1])
    loss = _rows(static / "loss.csv")
    assert [int(r["step"]) for r in loss] == history.steps.astype(int).tolist()
    np.testing.assert_allclose([float(r["train_loss"]) for r in loss], history.train_loss)
    hist = _rows(static / "histograms.csv")
    assert list(hist[0]) == ["layer", "bin_left", "bin_right", "count"]
    for layer in last.layers:
        mine = [r for r in hist if r["layer"] == layer.name]
        assert [int(r["count"]) for r in mine] == layer.weight_counts.astype(int).tolist()
        np.testing.assert_allclose([float(r["bin_left"]) for r in mine], layer.weight_edges[:-1])
    boundary = _rows(static / "boundary.csv")
    assert list(boundary[0])[:2] == ["x", "y"] and len(boundary[0]) == 4  # two classes
    probs = np.array([[float(v) for k, v in r.items() if k.startswith("p_")] for r in boundary])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    surface = _rows(static / "landscape.csv")
    assert len(surface) == LANDSCAPE_RESOLUTION ** 2 and all(float(r["loss"]) > 0 for r in surface)
    path = _rows(static / "landscape_trajectory.csv")
    assert [int(r["step"]) for r in path] == steps
    assert abs(float(path[-1]["alpha"])) < 1e-4 and abs(float(path[-1]["beta"])) < 1e-4  # ends at the centre


def test_gif_and_mp4_have_the_frames_and_size_asked_for(moons, tmp_path):
    out = tmp_path / "anim"
    assert export(str(moons), "--out", str(out), "--views", "landscape,histograms", "--formats", "gif,mp4",
                  "--frames", "3", "--fps", "5", "--width", "321", "--height", "241") == 0
    for view in ("landscape", "histograms"):
        frames = iio.imread(out / f"{view}.gif")
        assert frames.shape == (3, 241, 321, 3)
        assert not np.array_equal(frames[0], frames[-1])  # it moves
        n, _secs = imageio_ffmpeg.count_frames_and_secs(str(out / f"{view}.mp4"))
        assert n == 3
        reader = imageio_ffmpeg.read_frames(str(out / f"{view}.mp4"))
        assert next(reader)["size"] == (322, 242)  # padded to even for libx264/yuv420p
        reader.close()
    assert iio.immeta(out / "landscape.gif")["duration"] == 200


def test_default_frames_are_one_per_snapshot(moons, tmp_path):
    with RunReader(moons / "run.sqlite") as reader:
        n = len(set(reader.snapshot_steps()))
    assert export(str(moons / "run.sqlite"), "--out", str(tmp_path), "--views", "loss", "--formats", "gif",
                  "--width", "200", "--height", "160") == 0
    assert iio.imread(tmp_path / "loss.gif").shape == (n, 160, 200, 3)


def test_boundary_is_skipped_in_one_line_for_regression(tmp_path, capsys):
    run = _record(tmp_path / "sine", SINE, 5)
    capsys.readouterr()
    assert export(str(run), "--out", str(tmp_path / "o"), "--views", "loss,boundary", "--formats", "csv") == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("boundary:")] == [
        "boundary: the run is not a 2-D classification (no decision boundary); skipped"]
    assert (tmp_path / "o" / "loss.csv").exists() and not (tmp_path / "o" / "boundary.csv").exists()


@pytest.mark.parametrize("argv,word", [
    (["--views", "loss,sideways"], "--views"),
    (["--formats", "bmp"], "--formats"),
    (["--frames", "0"], "--frames"),
    (["--frames", "121"], "--frames"),
    (["--fps", "0"], "--fps"),
    (["--fps", "nan"], "--fps"),
    (["--width", "10"], "--width"),
    (["--height", "9000"], "--height"),
    (["--dpi", "0"], "--dpi"),
    (["--frames", "many"], "--frames"),
])
def test_bad_options_exit_2_with_one_line(moons, tmp_path, capsys, argv, word):
    capsys.readouterr()
    assert export(str(moons), "--out", str(tmp_path / "o"), *argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert word in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_truncated_run_file_gives_a_clear_message(moons, tmp_path, capsys):
    data = (moons / "run.sqlite").read_bytes()
    (tmp_path / "cut.sqlite").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 10)
    capsys.readouterr()
    assert export(str(tmp_path / "cut.sqlite"), "--out", str(tmp_path / "o")) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert "truncated" in err and len(err.splitlines()) == 1
    assert export(str(tmp_path / "junk.sqlite"), "--out", str(tmp_path / "o")) == EXIT_BAD_INPUT
    assert "not a run file" in capsys.readouterr().err
    assert export(str(tmp_path), "--out", str(tmp_path / "o")) == EXIT_BAD_INPUT
    assert "has no run.sqlite" in capsys.readouterr().err


def test_without_stored_weights_the_last_snapshot_is_the_network(moons, tmp_path):
    import sqlite3

    (tmp_path / "run").mkdir()
    copy = tmp_path / "run" / "run.sqlite"
    copy.write_bytes((moons / "run.sqlite").read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("DELETE FROM weights")
    db.close()
    assert export(str(copy), "--out", str(tmp_path / "o"), "--views", "landscape", "--formats", "csv") == 0
    path = _rows(tmp_path / "o" / "landscape_trajectory.csv")
    assert abs(float(path[-1]["alpha"])) < 1e-4 and abs(float(path[-1]["distance"])) < 1e-4


def test_fewer_than_three_snapshots_use_a_random_plane(tmp_path):
    from visualizer.core.landscape.planes import DIRECTIONS
    from visualizer.core.runs.export import RunExport

    run = RunExport(_record(tmp_path / "two", MOONS, 1000))  # snapshots at the first and the last step only
    try:
        land = run.landscape
        assert land.plane.directions == "random" and len(land.steps) == 2
        # the axis titles are the directions registry's (they were the export's own "α (direction 1)")
        assert land.axis_labels == DIRECTIONS["random"].titles(land.plane)
        assert land.axis_labels[0].startswith("α (random direction 1)")
        assert land.alphas[0] <= land.points[:, 0].min() and land.points[:, 0].max() <= land.alphas[-1]
    finally:
        run.close()
