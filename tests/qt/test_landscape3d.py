"""The 3-D landscape draws a surface with OpenGL: rendered under Xvfb, in a subprocess with its own display."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

SCRIPT = r"""
import sys
import numpy as np
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
from visualizer.qt.plots.landscape_plot import opengl_unavailable
assert opengl_unavailable() == "", opengl_unavailable()
from visualizer.qt.plots.landscape3d import Landscape3DPlot
from visualizer.qt.landscape.view import LandscapeView

a = np.linspace(-1, 1, 31)
b = np.linspace(-1, 1, 25)
A, B = np.meshgrid(a, b)
plot = Landscape3DPlot()
plot.resize(400, 300)
plot.show()
app.processEvents()
plot.set_surface(a, b, A ** 2 + 3 * B ** 2 + 0.1)
plot.set_trajectory(np.array([[0.8, 0.6], [0.4, 0.2], [0.0, 0.0]]))
assert plot.surface._colors.shape == (31 * 25, 4)
rgba = plot.render_image(400, 300)
colours = len(np.unique(rgba.reshape(-1, 4), axis=0))
assert rgba[..., :3].std() > 10 and colours > 50, (rgba[..., :3].std(), colours)
path = plot.path_positions
assert path.shape == (3, 3) and abs(path[-1, 2] - path[:, 2].min()) < 1e-6  # the minimum lies lowest

# as a figure (an export): the title, the α and β axis titles and the loss's title drawn around the render
titles = ("α (PC 1, 86.3% of variance)", "β (PC 2, 10.8% of variance)")
plot.set_surface(a, b, A ** 2 + 3 * B ** 2 + 0.1, axis_labels=titles)
image = plot.figure_image(640, 480)
assert (image.width(), image.height()) == (640, 480)
drawn = dict(plot.figure_labels)
assert set(drawn) == {*titles, "loss", "loss (colour bar)"}, drawn
grey = image.convertToFormat(image.Format.Format_Grayscale8)
for text, rect in drawn.items():
    assert 0 <= rect.left() and rect.right() <= 640 and 0 <= rect.top() and rect.bottom() <= 480, (text, rect)
    values = [grey.pixelColor(int(x), int(y)).value() for x in range(int(rect.left()), int(rect.right()))
              for y in range(int(rect.top()), int(rect.bottom()))]
    assert min(values) < 90 and max(values) > 160, (text, min(values), max(values))  # dark text on a light box
# by their edges of the floor: the camera looks from the (α max, β min) corner, so α's edge runs along the front
# left and β's along the front right, both below the middle
alpha_at, beta_at = drawn[titles[0]].center(), drawn[titles[1]].center()
assert alpha_at.x() < beta_at.x() and min(alpha_at.y(), beta_at.y()) > 240, (alpha_at, beta_at)

view = LandscapeView()
view.show()
view.view_combo.setCurrentText("3-D")
assert view.plot3d is not None and view.stack.currentWidget() is view.plot3d and view.message.isHidden()
view.shutdown()
print("OK", colours)
"""


@pytest.fixture(scope="module")
def display():
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed")
    number = 150 + os.getpid() % 500
    proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 10
    while not socket.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not socket.exists():
        proc.kill()
        proc.wait()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


def _env(display: str, tmp_path: Path) -> dict:
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", VISUALIZER_CONFIG_DIR=str(tmp_path / "config"))
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_the_surface_renders_under_xvfb(display, tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=_env(display, tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "OK" in done.stdout, done.stdout + done.stderr


def test_the_cli_writes_landscape3d_png_where_opengl_works(display, tmp_path):
    from PySide6.QtGui import QImage

    exp = tmp_path / "tiny.toml"
    exp.write_text('[data]\nname = "moons"\nsamples = 200\n[model]\nhidden = [6]\n[train]\nepochs = 3\n'
                   'loss = "cross_entropy"\n')
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "visualizer", "landscape", str(exp), "--out", str(out), "--quiet",
                           "--resolution", "21"], cwd=ROOT, env=_env(display, tmp_path), capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    image = QImage(str(out / "landscape3d.png"))
    assert image.width() == 1000 and image.height() == 800
    assert len({image.pixel(x, y) for x in range(0, 1000, 20) for y in range(0, 800, 20)}) > 20
    # a figure, not a bare render: its title in the band above the surface, a colour bar at the right
    title_band = [image.pixelColor(x, y).value() for x in range(300, 700) for y in range(0, 30)]
    assert min(title_band) < 100 and max(title_band) > 200
    bar = [image.pixelColor(x, y) for x in range(900, 1000, 2) for y in range(0, 800, 4)]
    assert any(c.red() > 200 and c.green() > 200 and c.blue() < 100 for c in bar)  # viridis's yellow top
    assert any(c.red() < 100 and c.green() < 60 and c.blue() > 60 for c in bar)  # and its purple bottom
