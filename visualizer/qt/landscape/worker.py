"""The live landscape's background work, served by the one job runner: surfaces and probes of the true loss around
the current weights, computed by the core's LandscapeEvaluator.

Only the latest request of each kind is kept (a newer surface request replaces a pending one, and a surface in
progress stops at its next block of rows); probes go first. Results reach the GUI thread in the runner's per-frame
``batch``. The worker waits for requests while the view lives; ``shutdown`` stops and joins it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from visualizer.core.landscape.live import Failure, ProbeRequest
from visualizer.qt.jobs import JobRunner, Requests

THREAD_NAME = "landscape-worker"
#: torch threads of the landscape worker: one, so that it never fights training and the GUI for the cores
THREADS = 1


class LandscapeService(QObject):
    """Evaluates SurfaceRequests and ProbeRequests for one run at a time; ``results`` (a list of SurfaceResult,
    ProbeResult and Failure records) arrives on the GUI thread once per frame."""

    results = Signal(list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self, THREAD_NAME, threads=THREADS)
        self.runner.batch.connect(self.results.emit)
        self.requests = Requests()
        self.runner.serve("landscape", self._serve, self.requests)
        self._spec = None  # (experiment, dataset) of the current run
        self.completed: list[int] = []  # request ids whose fine surface finished (for tests and diagnostics)

    # -- GUI side ---------------------------------------------------------------------------------------------
    def configure(self, experiment, dataset) -> None:
        """The run whose network and data the next requests use (pending requests of another run are dropped)."""
        self._spec = (experiment, dataset)

    def submit(self, request) -> bool:
        """Queue a request; it replaces a pending request of its kind. False when no run is configured or the
        worker cannot start (``runner.refusal`` says why)."""
        if self._spec is None:
            return False
        key = "probe" if isinstance(request, ProbeRequest) else "surface"
        return self.runner.submit((self._spec, request), key)

    def busy(self) -> bool:
        """True while a request is pending or being evaluated."""
        return self.requests.busy()

    def is_alive(self) -> bool:
        return self.runner.running

    def shutdown(self, timeout: float | None = None) -> bool:
        """Drop pending requests, stop the worker at its next check and join it; True when it has ended."""
        return self.runner.shutdown(timeout)

    # -- worker side ------------------------------------------------------------------------------------------
    def _serve(self, put, control) -> None:
        from visualizer.core.errors import VisualizerError
        from visualizer.core.landscape.live import LandscapeEvaluator

        evaluator, built_for = None, None
        while (item := self.requests.take("probe")) is not None:
            spec, request = item
            try:
                if built_for is not spec:
                    evaluator, built_for = LandscapeEvaluator(*spec), spec
                if isinstance(request, ProbeRequest):
                    put(evaluator.probe(request))
                    continue
                for result in evaluator.surfaces(request, lambda: self.requests.superseded("surface")):
                    put(result)
                    if result.fine:
                        self.completed.append(request.request_id)
            except Exception as exc:  # a failure becomes a message in the view, never a dead worker
                text = str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}"
                put(Failure(request.request_id, text))
            finally:
                self.requests.done()
