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


NO_DISPLAY = ("no display: the window needs a screen, and neither DISPLAY nor WAYLAND_DISPLAY is set. Without a "
              "screen, train with `visualizer run EXPERIMENT --out DIR` (see `visualizer --help`), or start the "
              "window on a virtual screen: `xvfb-run visualizer`")


def no_display() -> str:
    """Why the window cannot be shown here (a Linux or BSD session without X11 or Wayland), or ''. A platform set
    in QT_QPA_PLATFORM (offscreen for tests and benchmarks, vnc, eglfs...) is the user's choice and is respected."""
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("darwin", "win32", "cygwin"):
        return ""
    return "" if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") else NO_DISPLAY


def stop_on_signals(app: QApplication, window) -> QTimer:
    """Ctrl+C (SIGINT) and SIGTERM close the window as its Quit action does (the run stopped and joined, the session
    saved). Python only runs signal handlers between bytecodes, so a timer lets it in while Qt's loop waits."""
    import signal

    def close(*_args) -> None:
        QTimer.singleShot(0, window.close)
        QTimer.singleShot(0, app.quit)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, close)
    ticker = QTimer(window)
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    return ticker


def create_app(argv: list[str] | None = None) -> QApplication:
    # the training worker holds the GIL for most of a small model's step: hand it to the GUI thread within 0.3 ms
    # (CPython waits 5 ms by default) so that timers and input are served on time
    sys.setswitchinterval(0.0003)
    from visualizer.core.threads import one_blas_thread

    one_blas_thread()
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Optimization Visualizer")
    app.setOrganizationName("optimization-visualizer")
    from PySide6.QtGui import QIcon

    from visualizer.core.resources import resources_dir

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "optimization-visualizer.png")))
    from visualizer.qt.jobs.gc_policy import collect_on_gui_thread

    collect_on_gui_thread()  # never on a worker thread: a Qt object freed there can hang the window
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
                  f"{window.session.started.device if window.session.started else '?'}", flush=True)
            window.close()
            app.exit(0 if ok else 1)
            return
        QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)


#: after the views are built, the window paints them before finish_setup holds the GUI thread for a second or two
#: (torch, the panels, the data set): a timer this long lets that paint come first
VIEWS_PAINT_MS = 30


def main(path: str | None = None, first_paint_probe: bool = False, check_start: bool = False) -> int:
    """Open the window on ``path`` (or the last session, or the built-in example) and run the event loop.

    With ``first_paint_probe`` it prints the seconds since the epoch at the first paint and quits: the
    benchmark measures the time from process start to a painted window with it.
    """
    reason = no_display()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    app = create_app()
    from visualizer.qt.app.main_window import MainWindow
    from visualizer.qt.app.theme import apply_theme
    from visualizer.qt.jobs.gc_policy import freeze_startup

    window = MainWindow(defer_views=True)
    apply_theme(app, window.theme)
    window.set_theme(window.theme)

    def painted() -> None:
        if first_paint_probe:
            print(f"first_paint {time.time():.6f}", flush=True)
            app.quit()
            return
        window.attach_views()  # the plots, painted (empty) while the engine loads: VIEWS_PAINT_MS
        QTimer.singleShot(VIEWS_PAINT_MS, set_up)

    def set_up() -> None:
        window.finish_setup(path)
        settled = time.monotonic() + 30

        def freeze_once_loaded() -> None:  # (qt.jobs.gc_policy: a full collection no longer stalls the window)
            if window.dataset is None and time.monotonic() < settled:  # its modules (scikit-learn's) come too
                QTimer.singleShot(100, freeze_once_loaded)
                return
            frozen = freeze_startup()
            if check_start:
                print(f"gc-freeze: {frozen} objects alive at the start left out of garbage collection", flush=True)

        freeze_once_loaded()
        if check_start:
            _check_start(app, window)

    probe = _FirstPaint(painted)
    window.installEventFilter(probe)
    window.show()
    stop_on_signals(app, window)
    code = app.exec()
    # Everything is kept by now (closeEvent recorded the run, ended the training process and synced the settings).
    # Leave without Python's teardown of the Qt objects: PySide6 6.11 can crash there after the window has closed
    # (SIGSEGV with no Python frame in 1 of 6 start checks), which a user would see as a crash on Quit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
