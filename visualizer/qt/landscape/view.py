"""The live loss landscape: a surface around the current weights, the optimizer's path on it, and how far to trust it.

The path moves every frame (each snapshot's weights projected onto the current plane: cheap numpy); the surface
is recomputed around the current weights by the landscape service (on the job runner), at most every
REQUEST_INTERVAL_S and only while the view is visible, coarse first and then at the chosen resolution.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.landscape.live import SurfaceResult
from visualizer.core.landscape.path_buffer import PathBuffer
from visualizer.core.landscape.plane import project
from visualizer.qt.landscape.controls import VIEWS, LandscapeOptions
from visualizer.qt.landscape.requests import SurfaceRequests
from visualizer.qt.landscape.text import honesty_html, honesty_line, write_surface_csv
from visualizer.qt.landscape.worker import LandscapeService
from visualizer.qt.plots.landscape_line import LandscapeLinePlot
from visualizer.qt.plots.landscape_plot import LandscapePlot, bilinear

#: snapshots of the path kept; beyond it every other one is dropped (the first and the last stay)
MAX_PATH_SNAPSHOTS = 2000
POLL_MS = 100
PANEL_WIDTH = 180
#: the honesty panel is shown beside the plot only while the plot keeps at least this width
MIN_PLOT_WIDTH = 460

class LandscapeView(LandscapeOptions, SurfaceRequests, QWidget):
    """Loss surface (2-D, 3-D or the 1-D line θ₀ → θ) with the path, live, and the honesty panel beside it."""

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("landscapeView")
        self._theme = theme
        self.worker = LandscapeService(self)
        self.worker.results.connect(self._on_results)
        option_rows = self._build_options()
        self.plot2d = LandscapePlot(theme=theme)
        self.plot3d = None  # created on first use, where OpenGL works
        self.line = LandscapeLinePlot(theme=theme)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot2d)
        self.stack.addWidget(self.line)
        self.message = QLabel()
        self.message.setObjectName("landscapeMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.status = QLabel("The surface appears when training starts.")
        self.status.setObjectName("landscapeStatus")
        self.status.setWordWrap(True)
        self.honesty_line = QLabel()  # the panel's gist, under the plot, when the tab is too narrow for the panel
        self.honesty_line.setObjectName("landscapeHonestyLine")
        self.honesty_line.setWordWrap(True)
        self.honesty_line.setToolTip("How far to trust the picture: widen the tab for the details")
        self.honesty = QLabel()
        self.honesty.setObjectName("landscapeHonesty")
        self.honesty.setWordWrap(True)
        self.honesty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.honesty.setTextFormat(Qt.TextFormat.RichText)
        inner = QWidget()
        side = QVBoxLayout(inner)
        side.addWidget(self.honesty)
        side.addStretch(1)
        panel = QScrollArea()  # scrolls where large fonts (presentation mode) make the text longer than the plot
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        panel.setFixedWidth(PANEL_WIDTH)
        panel.setWidgetResizable(True)
        panel.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        panel.setWidget(inner)
        self._panel = panel

        body = QHBoxLayout()
        body.addWidget(self.stack, 1)
        body.addWidget(panel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(option_rows)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)
        layout.addWidget(self.honesty_line)
        layout.addWidget(self.status)

        self._experiment = self._dataset = None
        self._params = PathBuffer()  # the path's weights, a row per snapshot
        self._path_version = 0  # counts the thinnings: a surface's projection of the path is of one version
        self._path_sent: dict[int, int] = {}  # surface request id -> the path version it projects
        self._finished = False  # the run ended: no current marker over the end marker
        self._steps: list[int] = []
        self._proj = np.zeros((0, 2))
        self._dist = np.zeros(0)
        self._result: SurfaceResult | None = None
        self._marks: dict[str, tuple[np.ndarray, str]] = {}
        self._compared: tuple[str, np.ndarray] | None = None  # another run's snapshots (the replay's comparison)
        self._probe: dict = {}  # label -> (step, loss) of the last probe
        self._probe_steps: dict[int, int] = {}  # probe request id -> step of its current weights
        self._next_id = 0
        self._last_request = self._last_probe = -1e9
        self._stale = False
        self._probe_due = False
        self._surface_due: str | None = None  # "coarse" (coarse then fine) or "fine" (the final surface only)
        self._watched = None
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.view_combo.currentTextChanged.connect(self._on_view_changed)
        for combo in (self.directions_combo, self.resolution_combo, self.span_combo, self.split_combo):
            combo.currentIndexChanged.connect(self._on_plane_options_changed)
        for combo in (self.colour_combo, self.value_combo):
            combo.currentIndexChanged.connect(self._redraw)
        self._show_honesty()

    # -- public API ---------------------------------------------------------------------------------------------
    def changeEvent(self, event) -> None:  # Qt override: the side panel widens with the font (presentation mode)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "_panel"):
            self._panel.setFixedWidth(max(PANEL_WIDTH, self.fontMetrics().averageCharWidth() * 26))
            self._fit_panel()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:  # Qt override: the honesty panel only where the plot keeps its room
        super().resizeEvent(event)
        self._fit_panel()

    def _fit_panel(self) -> None:
        """The panel beside the plot when the tab leaves the plot MIN_PLOT_WIDTH; else its gist in one line below."""
        wide = self.width() >= self._panel.width() + MIN_PLOT_WIDTH
        self._panel.setVisible(wide)
        self.honesty_line.setVisible(not wide and bool(self.honesty_line.text()))

    def set_experiment(self, experiment) -> None:
        """The (resolved) experiment of the run: its network is rebuilt in the worker to evaluate surfaces."""
        self._experiment = experiment
        self._configure()

    def set_dataset(self, dataset) -> None:
        """The data set the surfaces are evaluated on (its standardised training or validation arrays)."""
        self._dataset = dataset
        self.value_combo.setEnabled(dataset is None or dataset.task == "classification")
        self.split_combo.setEnabled(dataset is None or len(dataset.X_val) > 0)
        self._configure()

    def set_theme(self, name: str) -> None:
        self._theme = name
        for plot in (self.plot2d, self.line, self.plot3d):
            if plot is not None:
                plot.set_theme(name)

    def clear(self) -> None:
        """Forget the run: stop and join the worker, empty the plots."""
        self.worker.shutdown()
        self.poll_timer.stop()
        self._params.clear()
        self._path_version += 1
        self._path_sent.clear()
        self._steps, self._result, self._probe = [], None, {}
        self._finished = False
        self._proj, self._dist = np.zeros((0, 2)), np.zeros(0)
        self._last_request = self._last_probe = -1e9
        self._stale = self._probe_due = False
        self._surface_due = None
        self.plot2d.clear()
        self.plot2d.set_marks([])
        self.line.clear()
        if self.plot3d is not None:
            self.plot3d.set_trajectory(np.zeros((0, 2)))
        self.status.setText("The surface appears when training starts.")
        self._configure()
        self._show_honesty()

    def shutdown(self) -> None:
        """Stop and join the landscape thread (the window calls it on close)."""
        self.poll_timer.stop()
        self.worker.shutdown()

    def add_snapshots(self, snapshots) -> None:
        """New snapshots of the run: extend the path on the current plane; ask for a new surface when due."""
        if not snapshots:
            return
        self._finished = False
        self._params.extend([s.params for s in snapshots])
        self._steps.extend(int(s.step) for s in snapshots)
        if self._result is not None:
            a, b, d = project(self._params[-len(snapshots):], *self.current_plane())
            self._proj = np.vstack([self._proj, np.stack([a, b], axis=1)])
            self._dist = np.concatenate([self._dist, d])
        if len(self._params) > MAX_PATH_SNAPSHOTS:
            self._thin()
        if self._result is not None:
            self._draw_path()
        self._request()

    def _thin(self) -> None:
        """Keep the first and last snapshots and every other one between: a long run's path stays bounded in
        memory (P floats a snapshot) and in the time each new plane takes to project it."""
        keep = [0, *range(1, len(self._params) - 1, 2), len(self._params) - 1]
        self._params.keep(keep)
        self._path_version += 1
        self._steps = [self._steps[k] for k in keep]
        if len(self._proj) == len(self._dist) > max(keep):
            self._proj, self._dist = self._proj[keep], self._dist[keep]

    def finish(self) -> None:
        """The run ended: one last surface at the chosen resolution around the final weights; the end marker alone
        marks where it stopped (a current marker on top of it would hide it)."""
        self._finished = True
        self._draw_path()
        self._request(force=True, coarse=False)

    @property
    def trajectory(self) -> np.ndarray:
        """The (T, 2) path on the current plane (one point per snapshot received; empty before a surface)."""
        return self._proj.copy()

    @property
    def snapshot_count(self) -> int:
        return len(self._params)

    @property
    def surface(self) -> SurfaceResult | None:
        """The surface drawn, with its plane."""
        return self._result

    def current_plane(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(center, d1, d2) of the plane drawn (flat weights in model.parameters() order), or None."""
        r = self._result
        return None if r is None else (r.center, r.d1, r.d2)

    def mark_points(self, label: str, flat_params: np.ndarray | None, color: str = "#ff2d55") -> None:
        """Draw weights (flattened as the snapshots) projected onto the plane as a labelled marker; None removes."""
        if flat_params is None:
            self._marks.pop(label, None)
        else:
            self._marks[label] = (np.asarray(flat_params, np.float32).ravel(), color)
        self._draw_marks()

    def set_compared_path(self, label: str, params: np.ndarray | None) -> None:
        """Another run's snapshots (T, P), projected onto the plane shown and drawn dashed (None removes it): the
        replay window's comparison. A run of another network (other P) is not drawn."""
        self._compared = None if params is None else (label, np.asarray(params, np.float32))
        self._draw_marks()

    def write_csv(self, path) -> None:
        """The surface shown as CSV (alpha, beta, loss[, accuracy]: the values, not their logarithm) and the path on
        its plane beside it as <stem>_trajectory.csv (step, alpha, beta, distance); the export dialog calls it."""
        write_surface_csv(path, self._result, self._steps, self._params.rows(), self.current_plane())

    def honesty_numbers(self) -> dict:
        """For the current weights θ: alpha, beta, distance, relative_distance (to |θ|), surface_loss (bilinear at
        the projection; NaN off the grid), true_loss (None until measured) and step."""
        if self._result is None or not self._params:
            return {}
        theta = self._params[-1].astype(np.float64)
        a, b, dist = project(theta, *self.current_plane())
        r = self._result
        step, true = self._probe.get("current", (None, None))
        return {"alpha": a, "beta": b, "distance": dist, "relative_distance": dist / max(np.linalg.norm(theta), 1e-12),
                "surface_loss": float(bilinear(r.alphas, r.betas, r.loss, [(a, b)])[0]), "step": self._steps[-1],
                "true_loss": true if step == self._steps[-1] else None}

    # -- drawing ------------------------------------------------------------------------------------------------
    def _show_honesty(self) -> None:
        start = self._probe.get("start", (None, None))[1]
        numbers = self.honesty_numbers()
        self.honesty.setText(honesty_html(numbers, self._result,
                                          float(self._dist[0]) if len(self._dist) else None, start))
        self.honesty_line.setText(honesty_line(numbers))
        self._fit_panel()

    def _values(self) -> tuple[np.ndarray, str, bool]:
        r = self._result
        if self.value_combo.currentIndex() == 1 and r.accuracy is not None:
            return r.accuracy, "accuracy", False
        return r.loss, "loss", self.colour_combo.currentIndex() == 0

    def _redraw(self, *_args) -> None:
        r = self._result
        if r is None:
            return
        values, name, log = self._values()
        self.plot2d.set_surface(r.alphas, r.betas, values, log_scale=log, axis_labels=r.plane.axis_titles(),
                                value_name=name)
        if self.plot3d is not None:
            self.plot3d.set_surface(r.alphas, r.betas, values, log_scale=log, axis_labels=r.plane.axis_titles(),
                                    value_name=name)
        if r.line_loss is not None:
            self.line.set_line(r.line_alphas, r.line_loss)
        self._draw_path()
        self._draw_marks()

    def _draw_path(self) -> None:
        self.plot2d.set_trajectory(self._proj, None if self._finished else -1)
        if self.plot3d is not None:
            self.plot3d.set_trajectory(self._proj)
        self._show_honesty()

    def _draw_marks(self) -> None:
        plane = self.current_plane()
        if plane is None:
            self.plot2d.set_marks([])
            self.plot2d.set_compare_path(None)
            return
        compared = self._compared
        if compared is not None and compared[1].shape[1] == plane[0].size:
            a, b, _ = project(compared[1], *plane)
            self.plot2d.set_compare_path(np.column_stack([a, b]), compared[0])
        else:
            self.plot2d.set_compare_path(None)
        marks = []
        for label, (flat, color) in self._marks.items():
            if flat.size == plane[0].size:
                a, b, dist = project(flat, *plane)
                marks.append((f"{label}, {dist:.3g} off the plane", a, b, color))
        self.plot2d.set_marks(marks)

    def _say(self, text: str) -> None:
        self.message.setText(f"⚠ {text}")
        self.message.show()

    # -- slots ----------------------------------------------------------------------------------------------
    def _on_plane_options_changed(self, *_args) -> None:
        options = self._direction().options
        for spin in self.weight_spins:
            spin.setVisible("weights" in options)
        self.bias_check.setVisible("include_bias" in options)
        self._request(force=True)

    def _on_view_changed(self, text: str) -> None:
        kind = VIEWS[text]
        if kind == "3d" and self.plot3d is None and not self._create_3d():
            self.view_combo.blockSignals(True)
            self.view_combo.setCurrentIndex(0)
            self.view_combo.blockSignals(False)
            kind = "2d"
        else:
            self.message.hide()
        self.stack.setCurrentWidget({"2d": self.plot2d, "3d": self.plot3d, "1d": self.line}[kind])

    def _create_3d(self) -> bool:
        from visualizer.qt.plots.landscape_plot import opengl_unavailable

        reason = opengl_unavailable()
        if not reason:
            try:
                from visualizer.qt.plots.landscape3d import Landscape3DPlot

                self.plot3d = Landscape3DPlot(theme=self._theme)
                self.stack.addWidget(self.plot3d)
                self._redraw()
                return True
            except Exception as exc:  # no GL context, no driver: stay on 2-D and say so
                self.plot3d, reason = None, f"{type(exc).__name__}: {exc}"
        self._say(f"The 3-D view needs OpenGL, which is not available here ({reason}); showing the 2-D view.")
        return False

    def showEvent(self, event) -> None:  # Qt override: catch up on a surface that went stale while hidden
        super().showEvent(event)
        window = self.window()
        if window is not self and window is not self._watched:
            window.installEventFilter(self)  # join the thread when the window closes
            self._watched = window
        if self._stale or self._probe_due:
            self._last_request = self._last_probe = -1e9
            self._dispatch()

    def eventFilter(self, watched, event) -> bool:  # Qt override
        if watched is self._watched and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def closeEvent(self, event) -> None:  # Qt override
        self.shutdown()
        super().closeEvent(event)
