"""The scenes of the screenshot suite: each drives one application through the states a person sees and grabs each
(run in a child process on its own Xvfb screen by tests/screenshots/stage.py). The tool windows' scenes are in
scenes_tools.py."""

from __future__ import annotations

from tests.screenshots.scenes_tools import TOOL_SCENES

#: epochs of each example's run in the suite: short enough for the suite's time, long enough for the picture's point
EPOCHS = {"moons": 60, "spiral": 100, "digits": 15, "sine": 150}


def main_window_scene(name: str):
    """Idle, mid-run and finished for one example experiment; for moons also the landscape in 2-D and 3-D."""

    def scene(stage) -> None:
        w = stage.main_window(name, epochs=EPOCHS[name])
        stage.shot("idle", f"{w.experiment.title}: idle, before Train", w, fills=True)
        if name == "moons":
            w.acts.shortcuts.trigger()
            stage.shot("shortcuts", "Help > Keyboard shortcuts (F1)", stage.place(w._shortcuts_box))
            w._shortcuts_box.close()
        stage.run_to_middle(w)
        stage.shot("mid-run", f"{w.experiment.title}: mid-run", w, fills=True)
        if name == "moons":
            stage.show_landscape(w, "2-D")
            stage.shot("landscape-2d-mid-run", "Loss landscape tab, 2-D, mid-run", w, fills=True)
            w.views.right_tabs.setCurrentIndex(0)
        stage.run_to_end(w)
        stage.shot("finished", f"{w.experiment.title}: finished", w, fills=True)
        if name == "moons":
            stage.show_landscape(w, "2-D", final=True)
            stage.shot("landscape-2d", "Loss landscape tab, 2-D, finished (the final surface)", w, fills=True)
            stage.show_landscape(w, "3-D", final=True)
            stage.shot("landscape-3d", "Loss landscape tab, 3-D (OpenGL), finished", w, fills=True)

    return scene


def presentation_scene(stage) -> None:
    """Presentation mode (F11) entered mid-run, without and with the panels (Ctrl+H), then left mid-run."""
    w = stage.main_window("moons", epochs=EPOCHS["moons"])
    stage.run_to_middle(w, share=0.4, slow="30 steps/s")
    w.acts.presentation.trigger()
    stage.settle(1500)
    stage.shot("presentation", "presentation mode (F11), mid-run, panels hidden", w, fills=True)
    w.acts.hide_panels.trigger()
    stage.settle(1000)
    stage.shot("presentation-panels", "presentation mode with the panels shown (Ctrl+H), mid-run", w, fills=True)
    w.acts.presentation.trigger()
    stage.settle(1000)
    stage.shot("after-presentation", "presentation mode left mid-run (F11 again): the window as before", w,
               fills=True)


def themes_scene(stage) -> None:
    """Dark and light switched mid-run (Ctrl+T), on the spiral, prediction and landscape tabs."""
    w = stage.main_window("spiral", epochs=EPOCHS["spiral"])
    stage.run_to_middle(w, share=0.4, slow="30 steps/s")
    w.acts.dark.trigger()
    stage.settle(1000)
    stage.shot("dark", "dark theme, switched mid-run (Ctrl+T)", w, fills=True)
    stage.show_landscape(w, "2-D")
    stage.shot("dark-landscape", "dark theme, switched mid-run: the landscape tab", w, fills=True)
    w.acts.dark.trigger()
    stage.settle(1000)
    stage.shot("light-landscape", "light theme, switched back mid-run: the landscape tab", w, fills=True)
    w.views.right_tabs.setCurrentIndex(0)
    stage.shot("light", "light theme, switched back mid-run (Ctrl+T again)", w, fills=True)


def scaled_scene(stage) -> None:
    """The window at 150 % scaling (QT_SCALE_FACTOR=1.5, set by the test), moons mid-run."""
    w = stage.main_window("moons", epochs=EPOCHS["moons"])
    stage.run_to_middle(w)
    stage.shot("mid-run", "150 % scaling (QT_SCALE_FACTOR=1.5), moons mid-run", w, fills=True)


SCENES = {
    **{f"main-{name}": main_window_scene(name) for name in EPOCHS},
    "presentation": presentation_scene,
    "themes": themes_scene,
    "scaled": scaled_scene,
    **TOOL_SCENES,
}
