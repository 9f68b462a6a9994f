"""The live landscape's requests to its worker and the results that come back (a mixin of LandscapeView): a surface
at most every REQUEST_INTERVAL_S and a probe of the true loss at most every PROBE_INTERVAL_S, sent only while the
view is visible; coarse first, then at the chosen resolution."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop

from visualizer.core.landscape.live import Failure, ProbeRequest, ProbeResult, SurfaceRequest, SurfaceResult
from visualizer.core.landscape.plane import project
from visualizer.core.landscape.planes import DIRECTIONS
from visualizer.qt.landscape.controls import SPANS

REQUEST_INTERVAL_S = 1.5
PROBE_INTERVAL_S = 0.3


class SurfaceRequests:
    """Decides when a new surface or probe is due, sends it to ``self.worker`` and shows what comes back."""

    def _configure(self) -> None:
        if self._experiment is not None and self._dataset is not None:
            self.worker.configure(self._experiment, self._dataset)

    def _request(self, force: bool = False, coarse: bool = True) -> None:
        """Note that the surface and the probe are due; send them when the view is visible and their time comes."""
        if not self._params:
            return
        if self._experiment is None:
            self._say("The landscape needs the run's experiment (TrainingViews.set_experiment).")
            return
        self._probe_due = True
        self._surface_due = (self._surface_due or "coarse") if coarse else "fine"
        if force:
            self._last_request = self._last_probe = -1e9
        self._dispatch()

    def has_path(self) -> bool:
        """Whether there is a path to draw a surface around (a snapshot at least)."""
        return bool(self._params)

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """For an export of a tab never shown: compute the surface of the path so far now (hidden or not), keeping the
        window's events flowing, until it is drawn; False when there is no path yet or it took over ``timeout_s``."""
        if self.surface is not None or not self._params:
            return self.surface is not None
        self._export_wanted = True
        try:
            self._request(force=True, coarse=False)
            deadline = time.monotonic() + timeout_s
            while self.surface is None and time.monotonic() < deadline:
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
                time.sleep(0.01)
        finally:
            self._export_wanted = False
        return self.surface is not None

    def _dispatch(self) -> None:
        if not self.isVisible() and not getattr(self, "_export_wanted", False):
            self._stale = self._surface_due is not None
            return
        now = time.monotonic()
        if self._probe_due and now - self._last_probe >= PROBE_INTERVAL_S:
            self._last_probe, self._probe_due = now, False
            self._submit_probe()
        if self._surface_due is not None and now - self._last_request >= REQUEST_INTERVAL_S:
            self._submit_surface(self._surface_due == "coarse")
        if self._probe_due or self._surface_due is not None:
            self.poll_timer.start()

    def _submit_surface(self, coarse: bool) -> None:
        info = self._direction()
        self._last_request, self._stale, self._surface_due = time.monotonic(), False, None
        if len(self._params) < info.needs_path:  # too short a path yet: random directions until it is long enough
            info = DIRECTIONS["random"]
        n = len(self._params[-1])
        for spin in self.weight_spins:
            spin.setMaximum(n - 1)
        weights = tuple(spin.value() for spin in self.weight_spins)
        if "weights" in info.options and weights[0] == weights[1]:
            self.status.setText("Choose two different weights for the axes.")
            return
        span = SPANS[self.span_combo.currentText()]
        trajectory = None
        if info.needs_path or span is None:  # the plane or its automatic extent comes from the path
            trajectory = self._params[-500:]  # a view: no copy on the GUI thread
        self._next_id += 1
        sent = self.worker.submit(SurfaceRequest(
            self._next_id, self._params[-1], info.name, int(self.resolution_combo.currentText()), span,
            self._split(), start=self._params[0], trajectory=trajectory, coarse=coarse, weights=weights,
            include_bias=self.bias_check.isChecked(), path=self._params.rows()))
        self._path_sent = {k: v for k, v in self._path_sent.items() if k > self._next_id - 16}  # bounded
        self._path_sent[self._next_id] = self._path_version  # the rows it projects, unless thinned meanwhile
        if not sent:  # the worker is still finishing a long step of the last run: try again later
            self._surface_due = "coarse" if coarse else "fine"
            self.status.setText("Waiting for the landscape worker to finish its last surface…")
        else:
            self.status.setText(f"Computing the surface around the weights at step {self._steps[-1]:,}…"
                                f"{self._stand_in_note(info.name)}")
        self.poll_timer.start()

    def _submit_probe(self) -> None:
        self._next_id += 1
        self._probe_steps[self._next_id] = self._steps[-1]
        if not self.worker.submit(ProbeRequest(self._next_id, {"current": self._params[-1],
                                                               "start": self._params[0]}, self._split())):
            self._probe_due = True
        self.poll_timer.start()

    def poll(self) -> None:
        """Send what has come due (the GUI thread's timer calls it while something is due)."""
        self._dispatch()
        if not self._probe_due and self._surface_due is None:
            self.poll_timer.stop()

    def _on_results(self, items: list) -> None:
        """The worker's results of one frame."""
        for item in items:
            if isinstance(item, SurfaceResult):
                if self._result is None or item.request_id >= self._result.request_id:
                    self._show_result(item)
            elif isinstance(item, ProbeResult):
                step = self._probe_steps.pop(item.request_id, None)
                self._probe = {k: (step if k == "current" else self._steps[0] if self._steps else None, v)
                               for k, v in item.loss.items()}
                self._show_honesty()
            elif isinstance(item, Failure):
                self._say(f"The landscape could not be computed: {item.message}")

    def _show_result(self, r: SurfaceResult) -> None:
        self._result = r
        self.message.hide()
        if self._params:
            done = r.path_projection
            if done is None or self._path_sent.get(r.request_id) != self._path_version or len(done) > len(
                    self._params):
                done = np.zeros((0, 3))  # the path was thinned since: project it here
            rest = self._params.rows()[len(done):]  # snapshots that came after the request
            if len(rest):
                done = np.vstack([done, np.column_stack(project(rest, r.center, r.d1, r.d2))])
            self._proj, self._dist = done[:, :2].copy(), done[:, 2].copy()
        n = len(r.alphas)
        what = "final" if r.fine else "coarse"
        self.status.setText(f"{what.capitalize()} {n} × {n} surface around the weights at step "
                            f"{self._steps[-1] if self._steps else 0:,} ({r.seconds:.2f} s)."
                            f"{self._stand_in_note(r.directions)}")
        self._redraw()

    def _stand_in_note(self, drawn: str) -> str:
        """What the status adds when the plane drawn stands in for the chosen one (a path still too short)."""
        chosen = self._direction()
        if drawn == chosen.name:
            return ""
        return f" ({chosen.label} once the path has {chosen.needs_path} snapshots; random directions until then)"
