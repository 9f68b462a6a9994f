"""The command line's figures the README shows, made as the README says to make them (`visualizer run`, `landscape`
and `export`, offscreen), under the README's names, in the screenshot folder's figures/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.screenshots.pictures import ROOT

EXPERIMENTS = ROOT / "resources" / "experiments"
#: the longest one command may take
COMMAND_TIMEOUT_S = 120


def _visualizer(*args: str, work: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", VISUALIZER_CONFIG_DIR=str(work / "config"),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    done = subprocess.run([sys.executable, "-m", "visualizer", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=COMMAND_TIMEOUT_S)
    if done.returncode != 0:
        raise AssertionError(f"visualizer {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def make_figures(work: Path, folder: Path) -> list[Path]:
    """Train moons, digits and sine, draw moons' landscape on the PCA plane and its animation; copy the figures the
    README shows into ``folder`` under the README's names. Returns the files written."""
    for name in ("moons", "digits", "sine"):
        _visualizer("run", str(EXPERIMENTS / f"{name}.toml"), "--out", str(work / name), "--quiet", work=work)
    _visualizer("landscape", str(work / "moons"), "--out", str(work / "landscape"), "--directions", "pca",
                "--quiet", work=work)
    _visualizer("export", str(work / "moons"), "--out", str(work / "animation"), "--views", "landscape",
                "--formats", "gif", "--frames", "60", "--width", "960", "--height", "440", work=work)
    sources = {
        "moons_boundary.png": work / "moons" / "decision_boundary.png",
        "moons_loss.png": work / "moons" / "loss.png",
        "digits_histograms.png": work / "digits" / "histograms.png",
        "digits_confusion.png": work / "digits" / "confusion_matrix.png",
        "sine_fit.png": work / "sine" / "fit.png",
        "landscape_pca.png": work / "landscape" / "landscape.png",
        "moons_landscape.gif": work / "animation" / "landscape.gif",
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in sources.items():
        if not source.exists():
            raise AssertionError(f"{source.relative_to(work)} was not written (for {name})")
        written.append(Path(shutil.copyfile(source, folder / name)))
    return written
