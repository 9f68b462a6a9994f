"""The screenshot suite: every scene (tests/screenshots/scenes*.py) played in a fresh application on an Xvfb screen
of 1366x768 and of 1920x1080, each state grabbed from the screen into a folder a person browses (index.html), and
each picture checked: the screen's size, the colours of a real window, its window painted wherever it stands.

Marked ``screenshots`` (about 10 minutes on 2 cores): the default run leaves it out; ``python -m pytest -m
screenshots`` runs it (``.ci/run`` does), into $SCREENSHOTS_DIR or out/screenshots/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.screenshots.figures import make_figures
from tests.screenshots.pictures import ROOT, check_picture, gallery_dir, load, write_index
from tests.screenshots.scenes import SCENES

pytestmark = pytest.mark.screenshots

SIZES = ("1366x768", "1920x1080")
#: scenes taken at one size only, with what their child process needs in its environment
ONLY = {"scaled": ("1920x1080", {"QT_SCALE_FACTOR": "1.5"})}
#: the longest one scene may take (the suite's timeout per test is 300 s)
SCENE_TIMEOUT_S = 280

CASES = [pytest.param(scene, size, id=f"{scene}@{size}")
         for scene in SCENES for size in SIZES if scene not in ONLY or ONLY[scene][0] == size]


def _child_env(display: str, work: Path, extra: dict) -> dict:
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", VISUALIZER_CONFIG_DIR=str(work / "config"),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p), **extra)
    for name in ("WAYLAND_DISPLAY", "QT_SCALE_FACTOR", "QT_SCREEN_SCALE_FACTORS", "QT_AUTO_SCREEN_SCALE_FACTOR"):
        if name not in extra:
            env.pop(name, None)
    return env


@pytest.mark.parametrize(("scene", "display"), CASES, indirect=["display"])
def test_scene(scene, display, tmp_path, request):
    size = request.node.callspec.params["display"]
    folder = gallery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / f"{scene}@{size}.json"
    manifest_path.unlink(missing_ok=True)  # a child that dies before writing one must not pass on an old one
    extra = ONLY.get(scene, ("", {}))[1]
    done = subprocess.run([sys.executable, "-m", "tests.screenshots.stage", scene, str(folder), str(tmp_path)],
                          cwd=ROOT, env=_child_env(display, tmp_path, extra), capture_output=True, text=True,
                          timeout=SCENE_TIMEOUT_S)
    write_index(folder)
    assert manifest_path.exists(), f"the scene wrote no manifest (exit {done.returncode}):\n{done.stderr[-3000:]}"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert done.returncode == 0 and not manifest["error"], manifest["error"] or done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]  # an exception in a slot is printed, not raised
    assert manifest["size"] == size and manifest["pictures"]
    names = [entry["name"] for entry in manifest["pictures"]]
    assert len(set(names)) == len(names), names
    bare = load(Path(manifest["root"]))
    problems = [f"{v.file}: {'; '.join(v.problems)}" for v in
                (check_picture(entry, folder, bare) for entry in manifest["pictures"]) if v.problems]
    assert not problems, "\n".join(problems)


def test_figures(tmp_path):
    """The command line's figures that the README shows (`visualizer run`, `landscape`, `export`), drawn offscreen
    into the same folder's figures/."""
    folder = gallery_dir()
    written = make_figures(tmp_path, folder / "figures")
    write_index(folder)
    assert written
    for path in written:
        assert path.stat().st_size > 10_000, path
