"""Start the window: paint first (Qt and the plots load in ~0.5 s), then import torch and build the panels."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication


class _FirstPaint(QObject):
    """Calls back once, when the window has been painted for the first time."""

    def __init__(self, callback) -> None:
        super().__init__()
        self.callback = callback

    def eventFilter(self, obj, event) -> bool:  # Qt override
        if event.type() == QEvent.Type.Paint and self.callback is not None:
            callback, self.callback = self.callback, None
            QTimer.singleShot(0, callback)
        return False


def create_app(argv: list[str] | None = None) -> QApplication:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # the training worker holds the GIL for most of a small model's step: hand it to the GUI thread within 0.3 ms
    # (CPython waits 5 ms by default) so that timers and input are served on time
    sys.setswitchinterval(0.0003)
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Optimization Visualizer")
    app.setOrganizationName("optimization-visualizer")
    from PySide6.QtGui import QIcon

    from visualizer.core.resources import resources_dir

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "optimization-visualizer.png")))
    return app


def _check_start(app: QApplication, window, timeout_s: float = 60.0) -> None:
    """The start check of a packaged build: train the example for a moment, print what was shown, quit (exit
    status 0 when the window showed and trained, 1 otherwise)."""
    from PySide6.QtCore import QTimer

    t0 = time.monotonic()
    window._on_train()

    def poll() -> None:
        steps = len(window.history)
        done = steps >= 50 or window.run_state == "finished"
        if done or time.monotonic() - t0 > timeout_s:
            ok = window.isVisible() and steps > 0
            print(f"check-start {'ok' if ok else 'FAILED'}: window '{window.windowTitle()}' "
                  f"{window.width()}x{window.height()} on {app.platformName()}, {steps} steps trained on "
                  f"{window._started.device if window._started else '?'}", flush=True)
            window.close()
            app.exit(0 if ok else 1)
            return
        QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)


def main(path: str | None = None, first_paint_probe: bool = False, check_start: bool = False) -> int:
    """Open the window on ``path`` (or the last session, or the built-in example) and run the event loop.

    With ``first_paint_probe`` it prints the seconds since the epoch at the first paint and quits: the
    benchmark measures the time from process start to a painted window with it.
    """
    app = create_app()
    from visualizer.qt.app.main_window import MainWindow
    from visualizer.qt.app.theme import apply_theme

    window = MainWindow()
    apply_theme(app, window.theme)
    window.set_theme(window.theme)

    def painted() -> None:
        if first_paint_probe:
            print(f"first_paint {time.time():.6f}", flush=True)
            app.quit()
            return
        window.finish_setup(path)
        if check_start:
            _check_start(app, window)

    probe = _FirstPaint(painted)
    window.installEventFilter(probe)
    window.show()
    return app.exec()
