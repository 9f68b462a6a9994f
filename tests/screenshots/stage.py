"""The child side of the screenshot suite: a real application on an Xvfb screen (the xcb platform, OpenGL through
Mesa), driven the way a person drives it, each state grabbed from the screen with ``grabWindow(0)``.

``python -m tests.screenshots.stage SCENE OUT_DIR WORK_DIR`` plays one scene (tests/screenshots/scenes*.py) and
writes its pictures into OUT_DIR/<width>x<height>/ and what they show into OUT_DIR/<scene>@<size>.json; the test
that started it checks the pictures (tests/screenshots/pictures.py)."""

from __future__ import annotations

import json
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).parents[2]
EXPERIMENTS = ROOT / "resources" / "experiments"
#: how long a child may wait for any one thing (a run, a surface, a sweep) before it gives up with a message
WAIT_S = 120.0


class StageError(RuntimeError):
    """Something the scene waited for did not happen."""


class Stage:
    """One application on one screen; ``shot`` grabs the screen and records what the picture should show."""

    def __init__(self, scene: str, out_dir: Path, work_dir: Path) -> None:
        from visualizer.qt.app.start import create_app

        self.app = create_app()
        screen = self.app.primaryScreen()
        self.scene, self.out_dir, self.work_dir = scene, Path(out_dir), Path(work_dir)
        physical = screen.geometry().size() * screen.devicePixelRatio()
        self.size = f"{round(physical.width())}x{round(physical.height())}"
        (self.out_dir / self.size).mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.root_picture = self.work_dir / f"root-{self.size}.png"
        screen.grabWindow(0).save(str(self.root_picture))  # the bare screen: what shows where no window paints
        self.pictures: list[dict] = []
        self.windows: list = []

    # -- time ------------------------------------------------------------------------------------------
    def settle(self, ms: int = 400) -> None:
        """Let events, timers, layouts and paints run for ``ms`` milliseconds."""
        from PySide6.QtTest import QTest

        QTest.qWait(ms)

    def wait_until(self, predicate, what: str, timeout_s: float = WAIT_S) -> None:
        from PySide6.QtTest import QTest

        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise StageError(f"{self.scene}: waited {timeout_s:g} s for {what}")
            QTest.qWait(20)

    # -- windows ---------------------------------------------------------------------------------------
    def main_window(self, name: str = "moons", epochs: int | None = None, theme: str = "light"):
        """The main window as `visualizer gui resources/experiments/NAME.toml` opens it, filling the screen (the
        window manager's maximise: Xvfb has none), its data loaded, at full speed; ``epochs`` shortens the run."""
        from visualizer.qt.app.main_window import MainWindow
        from visualizer.qt.app.theme import apply_theme

        w = MainWindow()
        self.windows.append(w)
        w.theme = theme
        apply_theme(self.app, theme)
        w.set_theme(theme)
        w.show()
        self.settle(100)
        w.finish_setup(EXPERIMENTS / f"{name}.toml")
        self.wait_until(lambda: w.dataset is not None, f"the {name} data set to load")
        if epochs is not None:
            w.experiment = replace(w.experiment, train=replace(w.experiment.train, epochs=epochs))
        w.acts.speed.setCurrentText("Full speed")
        w.setGeometry(self.app.primaryScreen().availableGeometry())
        self.settle()
        return w

    def place(self, window):
        """Show a tool window as a window manager would: its own size where the screen holds it, else the screen's
        size (as far as its minimum size allows), centred on the screen."""
        if window not in self.windows:
            self.windows.append(window)
        window.show()
        self.settle(100)
        screen = self.app.primaryScreen().availableGeometry()
        size = window.size().boundedTo(screen.size()).expandedTo(window.minimumSize())
        window.resize(size)
        window.move(screen.x() + max(0, (screen.width() - size.width()) // 2),
                    screen.y() + max(0, (screen.height() - size.height()) // 2))
        window.raise_()
        window.activateWindow()
        self.settle()
        return window

    # -- a run -----------------------------------------------------------------------------------------
    def run_to_middle(self, w, share: float = 0.5, slow: str = "10 steps/s") -> None:
        """Train at full speed until ``share`` of the run's steps are done, then slow it down so that it is still
        running (with its snapshot views caught up) when the picture is taken."""
        w.acts.speed.setCurrentText("Full speed")
        w.acts.train.trigger()
        self.wait_until(lambda: w.session.started is not None, "the run to start")
        total = w.session.started.total_steps
        self.wait_until(lambda: len(w.history) >= share * total or w.run_state == "finished",
                        f"{share:.0%} of {total} steps")
        w.acts.speed.setCurrentText(slow)
        if w.run_state == "finished":
            raise StageError(f"{self.scene}: the run finished before it could be pictured mid-run")
        self.settle(1200)  # a snapshot every 0.5 s at a slow speed: the views show the latest

    def run_to_end(self, w) -> None:
        """Let the run finish at full speed (from idle, mid-run or paused)."""
        w.acts.speed.setCurrentText("Full speed")
        if w.run_state in ("idle", "paused"):
            w.acts.train.trigger()
        self.wait_until(lambda: w.run_state == "finished", "the run to finish")
        self.settle(600)

    def show_landscape(self, w, view: str = "2-D", final: bool = False) -> None:
        """The Loss landscape tab in the given view, with a surface drawn (the final one when ``final``)."""
        views = w.views
        views.right_tabs.setCurrentWidget(views.landscape)
        landscape = views.landscape
        landscape.view_combo.setCurrentText(view)
        def drawn() -> bool:  # final: the fine surface of the last request sent, nothing more due
            result = landscape._result
            if landscape.surface is None or result is None:
                return False
            return not final or (result.fine and landscape._surface_due is None
                                 and result.request_id == landscape._next_id)

        self.wait_until(drawn, "the landscape's surface")
        self.settle(800)

    # -- pictures --------------------------------------------------------------------------------------
    def shot(self, name: str, state: str, window, fills: bool = False, theme: str | None = None) -> Path:
        """Grab the whole screen as ``<scene>-<name>.png``; ``window`` is the window the picture is about (``fills``:
        it should cover the whole screen)."""
        self.settle()
        screen = self.app.primaryScreen()
        picture = screen.grabWindow(0)
        rel = Path(self.size) / f"{self.scene}-{name}.png"
        if not picture.save(str(self.out_dir / rel)):
            raise StageError(f"could not write {rel}")
        ratio = screen.devicePixelRatio()
        frame = window.frameGeometry()
        self.pictures.append({
            "file": rel.as_posix(), "name": f"{self.scene}-{name}", "state": state,
            "theme": theme or getattr(window, "theme", None) or self._main_theme(), "size": self.size,
            "title": window.windowTitle(), "fills": fills,
            "window": [round(v * ratio) for v in (frame.x(), frame.y(), frame.width(), frame.height())],
            "scale": ratio,
        })
        return self.out_dir / rel

    def _main_theme(self) -> str:
        mains = [w for w in self.windows if hasattr(w, "presentation")]
        return mains[0].theme if mains else "light"

    def write_manifest(self, error: str = "") -> Path:
        path = self.out_dir / f"{self.scene}@{self.size}.json"
        path.write_text(json.dumps({"scene": self.scene, "size": self.size, "root": str(self.root_picture),
                                    "pictures": self.pictures, "error": error}, indent=1), encoding="utf-8")
        return path

    def close(self) -> None:
        """Close every window (the main window last: it closes its tool windows and joins its workers)."""
        for window in reversed(self.windows):
            if window.isVisible():
                window.close()
        self.settle(100)


def main(argv: list[str]) -> int:
    from tests.screenshots.scenes import SCENES

    scene, out_dir, work_dir = argv[0], Path(argv[1]), Path(argv[2])
    stage = Stage(scene, out_dir, work_dir)
    error = ""
    try:
        SCENES[scene](stage)
    except Exception:  # the pictures taken so far are kept and listed; the test reports the error
        error = traceback.format_exc()
        print(error, file=sys.stderr, flush=True)
    finally:
        stage.write_manifest(error)
        stage.close()
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
