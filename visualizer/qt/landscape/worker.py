"""A background thread that evaluates loss surfaces around the current weights for the live landscape view.

Only the latest request is kept: a newer one supersedes a pending one, and a fine surface in progress stops at its
next block of rows. Results go back through a thread-safe queue that the GUI drains on its own timer. The thread
starts on the first request and ends by itself after a few idle seconds; ``shutdown`` stops and joins it.
"""

from __future__ import annotations

import queue
import threading
import time

from visualizer.core.landscape.live import (  # noqa: F401  (the requests and results the view exchanges)
    Failure,
    ProbeRequest,
    ProbeResult,
    SurfaceRequest,
    SurfaceResult,
)

THREAD_NAME = "landscape-worker"
#: the thread ends by itself after this long without a request
IDLE_EXIT_S = 5.0


class LandscapeWorker:
    """Evaluates SurfaceRequests and ProbeRequests on its own thread; ``results`` holds what came out."""

    def __init__(self) -> None:
        self.results: queue.Queue = queue.Queue()
        self._cond = threading.Condition()
        self._surface: SurfaceRequest | None = None
        self._probe: ProbeRequest | None = None
        self._stopped = False
        self._busy = False
        self._thread: threading.Thread | None = None
        self._last_thread: threading.Thread | None = None  # joined by shutdown even after an idle exit
        self._spec = None  # (experiment, dataset) of the current run
        self._evaluator = None  # a core LandscapeEvaluator for the current run
        self.completed: list[int] = []  # request ids whose fine surface finished (for tests and diagnostics)

    # -- GUI side ---------------------------------------------------------------------------------------------
    def configure(self, experiment, dataset) -> None:
        """The run whose network and data the next requests use."""
        with self._cond:
            self._spec = (experiment, dataset)
            self._surface = self._probe = None

    def submit(self, request: SurfaceRequest | ProbeRequest) -> None:
        """Queue a request; it replaces a pending request of its kind."""
        with self._cond:
            if self._spec is None:
                return
            self._stopped = False
            if isinstance(request, ProbeRequest):
                self._probe = request
            else:
                self._surface = request
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=False)
                self._last_thread = self._thread
                self._thread.start()
            self._cond.notify_all()

    def busy(self) -> bool:
        """True while a request is pending or being evaluated."""
        with self._cond:
            return self._busy or self._surface is not None or self._probe is not None

    def is_alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Drop pending requests, stop the thread at its next check and join it; True when it has ended."""
        with self._cond:
            self._stopped = True
            self._surface = self._probe = None
            thread = self._last_thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    # -- worker side ------------------------------------------------------------------------------------------
    def _superseded(self, request_id: int) -> bool:
        with self._cond:
            return self._stopped or (self._surface is not None and self._surface.request_id != request_id)

    def _take(self):
        with self._cond:
            deadline = time.monotonic() + IDLE_EXIT_S
            while not self._stopped and self._surface is None and self._probe is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._stopped or (self._surface is None and self._probe is None):
                self._thread = None  # a later submit starts a new thread
                self._busy = False
                return None, None
            if self._probe is not None:
                request, self._probe = self._probe, None
            else:
                request, self._surface = self._surface, None
            self._busy = True
            return request, self._spec

    def _work(self) -> None:
        import torch

        from visualizer.core.errors import VisualizerError
        from visualizer.core.landscape.live import LandscapeEvaluator

        torch.set_num_threads(1)
        built_for = None
        while True:
            request, spec = self._take()
            if request is None:
                return
            try:
                if built_for is not spec:
                    self._evaluator, built_for = LandscapeEvaluator(*spec), spec
                if isinstance(request, ProbeRequest):
                    self.results.put(self._evaluator.probe(request))
                else:
                    for result in self._evaluator.surfaces(request, lambda r=request: self._superseded(r.request_id)):
                        self.results.put(result)
                        if result.fine:
                            self.completed.append(request.request_id)
            except Exception as exc:  # a failure becomes a message in the view, never a dead thread
                text = str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}"
                self.results.put(Failure(request.request_id, text))
            finally:
                with self._cond:
                    self._busy = False
