"""The 2-D landscape view draws exactly the surface and the path it is given; the CLI hook writes its PNG."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage

from visualizer.cli.landscape import write_landscape_plots
from visualizer.qt.plots import LandscapePlot


def _bowl(n: int = 21, span: float = 1.0, scale: float = 1.0):
    alphas = np.linspace(-span, span, n)
    betas = np.linspace(-span, span, n + 4) * 0.5  # a different size and spacing on each axis
    A, B = np.meshgrid(alphas, betas)  # (len(betas), len(alphas)): row i = betas[i]
    loss = scale * (A**2 + 3 * B**2) + 0.1
    return alphas, betas, loss


@pytest.fixture
def plot(qtbot):
    widget = LandscapePlot()
    qtbot.addWidget(widget)
    return widget


def test_image_holds_the_loss_on_the_grid(plot):
    alphas, betas, loss = _bowl()
    plot.set_surface(alphas, betas, loss)
    assert plot.objectName() == "landscapePlot"
    np.testing.assert_allclose(plot.image.image, loss)
    rect = plot.image.mapRectToParent(plot.image.boundingRect())
    da, db = alphas[1] - alphas[0], betas[1] - betas[0]
    assert rect.left() == pytest.approx(alphas[0] - da / 2)
    assert rect.right() == pytest.approx(alphas[-1] + da / 2)
    assert rect.top() == pytest.approx(betas[0] - db / 2)
    assert rect.bottom() == pytest.approx(betas[-1] + db / 2)
    # pixel (row i, column j) is centred on (alphas[j], betas[i])
    centre = plot.image.mapToParent(plot.image.boundingRect().topLeft() + QPointF(0.5, 0.5))
    assert (centre.x(), centre.y()) == (pytest.approx(alphas[0]), pytest.approx(betas[0]))
    assert plot.colorbar.axis.labelText == "loss"
    assert tuple(plot.colorbar.levels()) == (pytest.approx(loss.min()), pytest.approx(loss.max()))
    assert plot.plot.titleLabel.text == "Loss landscape"
    assert plot.plot.getAxis("bottom").labelText == "α (direction 1)"


def test_log_scale_shows_log10_loss(plot):
    alphas, betas, loss = _bowl(scale=1e4)
    plot.set_surface(alphas, betas, loss, log_scale=True, axis_labels=("PC 1", "PC 2"))
    np.testing.assert_allclose(plot.image.image, np.log10(loss))
    assert plot.log_scale
    assert plot.colorbar.axis.labelText == "log₁₀ loss"
    assert plot.plot.getAxis("left").labelText == "PC 2"


def test_contours_lie_on_their_levels(plot):
    alphas, betas, loss = _bowl()
    plot.set_surface(alphas, betas, loss)
    levels = plot.levels
    assert len(levels) == 12
    assert loss.min() < levels.min() and levels.max() < loss.max()
    shown = [c for c in plot.contours if c.isVisible()]
    assert [c.level for c in shown] == pytest.approx(list(levels))
    for curve in shown:
        curve.generatePath()  # drawn lazily, at the first paint
        path = curve.mapToItem(plot.plot.getViewBox().childGroup, curve.path)
        assert path.elementCount() > 0
        # points on the bowl's contour satisfy a^2 + 3 b^2 + 0.1 = level (to within a cell's interpolation error)
        pts = np.array([(path.elementAt(k).x, path.elementAt(k).y) for k in range(path.elementCount())])
        inside = (np.abs(pts[:, 0]) < alphas[-1] - 0.1) & (np.abs(pts[:, 1]) < betas[-1] - 0.1)
        values = pts[inside, 0] ** 2 + 3 * pts[inside, 1] ** 2 + 0.1
        np.testing.assert_allclose(values, curve.level, atol=0.05)


def test_contours_are_reused(plot):
    alphas, betas, loss = _bowl()
    plot.set_surface(alphas, betas, loss)
    pool = list(plot.contours)
    plot.set_surface(alphas, betas, loss * 2)
    assert plot.contours == pool
    flat = np.ones_like(loss)
    plot.set_surface(alphas, betas, flat)
    assert plot.contours == pool
    assert not any(c.isVisible() for c in plot.contours)


def test_trajectory_and_markers(plot):
    alphas, betas, loss = _bowl()
    plot.set_surface(alphas, betas, loss)
    t = np.linspace(0, 1, 30)
    points = np.stack([0.8 * (1 - t) * np.cos(6 * t), 0.4 * (1 - t) * np.sin(6 * t)], axis=1)
    plot.set_trajectory(points)
    x, y = plot.path.getData()
    np.testing.assert_allclose(np.stack([x, y], axis=1), points)
    start = plot.start_marker.getData()
    end = plot.end_marker.getData()
    assert (start[0][0], start[1][0]) == (pytest.approx(points[0, 0]), pytest.approx(points[0, 1]))
    assert (end[0][0], end[1][0]) == (pytest.approx(points[-1, 0]), pytest.approx(points[-1, 1]))
    assert plot.start_marker.opts["symbol"] == "o" and plot.end_marker.opts["symbol"] == "s"
    assert plot.current == len(points) - 1
    plot.set_current(5)
    cur = plot.current_marker.getData()
    assert (cur[0][0], cur[1][0]) == (pytest.approx(points[5, 0]), pytest.approx(points[5, 1]))
    plot.set_current(10_000)
    assert plot.current == len(points) - 1
    names = [label.text for _sample, label in plot.legend.items]
    assert names == ["trajectory", "start", "current", "end"]
    assert plot.legend.isVisible()
    assert all(label.item.toPlainText() == label.text for _sample, label in plot.legend.items)
    plot.set_trajectory(np.zeros((0, 2)))
    assert plot.current is None and not plot.legend.isVisible()


LONG = "pruned 50.0 % (preview), 2.07 off the plane"


@pytest.mark.parametrize("where", [(-1.0, 0.0), (1.0, 0.5), (0.0, 0.5), (-1.0, -0.5), (1.6, 0.0)])
def test_marker_labels_stay_inside_the_view(qtbot, plot, where):
    """The pruned network's label ran off the plot when its marker sat near an edge (or off the grid)."""
    from tests.qt.readability import clipped

    alphas, betas, loss = _bowl()
    plot.resize(460, 380)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_surface(alphas, betas, loss)
    plot.set_trajectory(np.array([[0.8, 0.4], [0.1, 0.0]]))
    plot.set_marks([(LONG, *where, "#ff2d55")])
    plot.set_compare_path(np.array([[0.0, 0.0], [-1.0, 0.5]]), "the other run, with a long name")
    plot.grab()  # painted: text items take their place in the scene when drawn
    room = plot.plot.vb.sceneBoundingRect()
    dot, text = plot.marks[0]
    assert room.contains(dot.sceneBoundingRect().center())  # a marker off the grid widens the view to show it
    for label in (text, plot.compare_label):
        assert room.contains(label.sceneBoundingRect()), (label.textItem.toPlainText(), label.sceneBoundingRect())
    assert clipped(plot) == []
    plot.resize(700, 500)  # and again after a resize
    qtbot.wait(20)
    plot.grab()
    room = plot.plot.vb.sceneBoundingRect()
    assert room.contains(text.sceneBoundingRect()) and room.contains(plot.compare_label.sceneBoundingRect())
    # the label stays by its marker: it touches the marker's column or row
    box, at = text.sceneBoundingRect(), dot.sceneBoundingRect().center()
    assert box.left() - 1 <= at.x() <= box.right() + 1
    assert min(abs(box.top() - at.y()), abs(box.bottom() - at.y())) < 0.6 * box.height() + 12


def test_bad_shapes_are_refused(plot):
    alphas, betas, loss = _bowl()
    with pytest.raises(ValueError, match="shape"):
        plot.set_surface(alphas, betas, loss.T)
    with pytest.raises(ValueError, match="T, 2"):
        plot.set_trajectory(np.zeros((4, 3)))


def test_theme_switch_keeps_the_data(plot):
    alphas, betas, loss = _bowl()
    plot.set_surface(alphas, betas, loss)
    plot.set_theme("dark")
    assert plot.theme == "dark"
    np.testing.assert_allclose(plot.image.image, loss)


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_write_landscape_plots_writes_the_png(qtbot, tmp_path, scale):
    alphas, betas, loss = _bowl(n=31, scale=scale)
    t = np.linspace(0, 1, 20)
    trajectory = np.stack([0.9 * (1 - t), 0.4 * (1 - t) ** 2], axis=1)
    npz = tmp_path / "landscape.npz"
    np.savez(npz, alphas=alphas, betas=betas, loss=loss, trajectory=trajectory, distance=np.zeros(20),
             explained_variance=np.array([0.9, 0.08]))
    written = write_landscape_plots(tmp_path, npz)
    assert written == [tmp_path / "landscape.png"]
    image = QImage(str(written[0]))
    assert (image.width(), image.height()) == (1000, 800)
    colours = {image.pixel(x, y) for x in range(0, 1000, 25) for y in range(0, 800, 25)}
    assert len(colours) > 20  # not blank: a heatmap, axes, text
