"""The window's actions, menus and toolbar: one place that lists every command and its shortcut."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QToolBar, QToolButton

SPEEDS = {"Full speed": 0.0, "1000 steps/s": 1e-3, "100 steps/s": 1e-2, "30 steps/s": 1 / 30, "10 steps/s": 0.1,
          "3 steps/s": 1 / 3, "1 step/s": 1.0}


@dataclass
class Actions:
    new: QAction
    open: QAction
    save: QAction
    save_as: QAction
    export_png: QAction
    export_svg: QAction
    quit: QAction
    train: QAction
    step: QAction
    reset: QAction
    stop: QAction
    cross_validate: QAction
    sweep: QAction
    compress: QAction
    playground: QAction
    race: QAction
    lr_finder: QAction
    barrier: QAction
    run_library: QAction
    open_run: QAction
    export_dialog: QAction
    presentation: QAction
    hide_panels: QAction
    dark: QAction
    log_scale: QAction
    reset_layout: QAction
    shortcuts: QAction
    about: QAction
    recent_menu: QMenu
    presets_menu: QMenu
    view_menu: QMenu
    toolbar: QToolBar
    speed: QComboBox
    device: QLabel


def _action(window: QMainWindow, text: str, tip: str, shortcut=None, name: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        keys = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        tip = f"{tip} ({keys})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    if name:
        action.setObjectName(name)
    return action


def build_actions(window: QMainWindow) -> Actions:
    """Create the actions, the menu bar and the toolbar of ``window`` (slots are connected by the window)."""
    std = QKeySequence.StandardKey
    a = dict(
        new=_action(window, "&New", "Start a new experiment from the built-in example", std.New),
        open=_action(window, "&Open…", "Open an experiment file (.toml or .json)", std.Open),
        save=_action(window, "&Save", "Save the experiment", std.Save),
        save_as=_action(window, "Save &As…", "Save the experiment under a new name", "Ctrl+Shift+S"),
        export_png=_action(window, "Export plots as &PNG…", "Write every view as a PNG file into a folder", "Ctrl+E"),
        export_svg=_action(window, "Export plots as S&VG…", "Write every view as an SVG file into a folder",
                           "Ctrl+Shift+E"),
        quit=_action(window, "&Quit", "Stop training and close the window", std.Quit),
        train=_action(window, "Train", "Start or resume training; press again to pause", "Space", "trainAction"),
        step=_action(window, "Step", "Train exactly one batch, then pause", "S", "stepAction"),
        reset=_action(window, "Reset", "Stop and forget the run: new initial weights on the next Train", "R",
                      "resetAction"),
        stop=_action(window, "Stop", "End the run here and keep its curves", "Ctrl+.", "stopAction"),
        cross_validate=_action(window, "&Cross-validate…", "Evaluate the experiment fold by fold: hold-out, k-fold, "
                               "stratified, leave-one-out or shuffle, recorded and replayed", "Ctrl+K",
                               "crossValidateAction"),
        sweep=_action(window, "S&weep…", "Train a grid of runs over one or two of the experiment's fields "
                      "(learning rate x momentum, ...) in worker processes and watch the map fill in; click a cell "
                      "to replay its run", "Ctrl+Shift+W", "sweepAction"),
        compress=_action(window, "Com&press…", "Prune, quantize or distill the trained network and measure what "
                         "it costs; works on the finished (or stopped) run", "Ctrl+M", "compressAction"),
        playground=_action(window, "Optimizer &playground…", "Race up to six optimizers on a two-parameter test "
                           "function (Rosenbrock, Beale, …) with its exact surface; click to place the start",
                           "Ctrl+G", "playgroundAction"),
        race=_action(window, "Optimizer &race…", "Train the network with several optimizers from the same initial "
                     "weights and batches; their paths on one shared plane, loss curves overlaid", "Ctrl+Shift+R",
                     "raceAction"),
        lr_finder=_action(window, "LR &finder…", "The learning-rate range test on this experiment: loss against a "
                          "growing learning rate from the initial weights, a suggested rate and a button that sets "
                          "it", "Ctrl+Shift+F", "lrFinderAction"),
        barrier=_action(window, "Loss &between two runs…", "The loss on the straight line between two runs' final "
                        "weights (same network and data) and the barrier on it", "Ctrl+Shift+B", "barrierAction"),
        run_library=_action(window, "Run &library…", "Every recorded run: open to replay, compare, rename, delete",
                            "Ctrl+L", "runLibraryAction"),
        open_run=_action(window, "Open r&un file…", "Replay a run file (.sqlite), e.g. one `visualizer run` wrote",
                         "Ctrl+Shift+O", "openRunAction"),
        export_dialog=_action(window, "E&xport…", "Export chosen views at a chosen size and DPI in any of the "
                              "export formats (images, vector, data), or the whole dashboard as one image",
                              "Ctrl+Shift+X", "exportDialogAction"),
        presentation=_action(window, "&Presentation mode", "Full screen with the views filling it: panels out of "
                             "the way, a compact control strip, larger fonts, thicker lines, high contrast; for "
                             "lectures and screen sharing (Esc leaves)", "F11", "presentationAction"),
        hide_panels=_action(window, "&Hide panels", "Hide the side panels so that the views fill the window (the "
                            "toolbar stays); presentation mode starts with them hidden", "Ctrl+H", "hidePanelsAction"),
        dark=_action(window, "&Dark theme", "Switch between the light and the dark theme", "Ctrl+T"),
        log_scale=_action(window, "&Log-scale loss", "Show the loss on a logarithmic axis", "L"),
        reset_layout=_action(window, "Reset &layout", "Put the panels back where they started"),
        shortcuts=_action(window, "&Keyboard shortcuts", "List every keyboard shortcut", "F1"),
        about=_action(window, "&About", "What this program is"),
    )
    a["dark"].setCheckable(True)
    a["presentation"].setCheckable(True)
    a["hide_panels"].setCheckable(True)
    a["log_scale"].setCheckable(True)
    menu = window.menuBar()
    file_menu = menu.addMenu("&File")
    file_menu.addActions([a["new"], a["open"]])
    recent = file_menu.addMenu("Open &Recent")
    recent.setToolTipsVisible(True)
    presets = menu.addMenu("&Presets")
    presets.setToolTipsVisible(True)
    file_menu.addActions([a["save"], a["save_as"]])
    file_menu.addSeparator()
    file_menu.addActions([a["run_library"], a["open_run"]])
    file_menu.addSeparator()
    file_menu.addActions([a["export_dialog"], a["export_png"], a["export_svg"]])
    file_menu.addSeparator()
    file_menu.addAction(a["quit"])
    run_menu = menu.addMenu("&Run")
    run_menu.addActions([a["train"], a["step"], a["reset"], a["stop"]])
    run_menu.addSeparator()
    run_menu.addActions([a["cross_validate"], a["sweep"], a["compress"], a["race"], a["playground"],
                         a["lr_finder"], a["barrier"]])
    view_menu = menu.addMenu("&View")
    view_menu.addActions([a["presentation"], a["hide_panels"]])
    view_menu.addSeparator()
    view_menu.addActions([a["dark"], a["log_scale"], a["reset_layout"]])
    view_menu.addSeparator()
    help_menu = menu.addMenu("&Help")
    help_menu.addActions([a["shortcuts"], a["about"]])

    toolbar = QToolBar("Training", window)
    toolbar.setObjectName("trainingToolbar")
    toolbar.setMovable(True)
    buttons = {}
    for key, name in (("train", "trainButton"), ("step", "stepButton"), ("reset", "resetButton"),
                      ("stop", "stopButton")):
        toolbar.addAction(a[key])
        button = toolbar.widgetForAction(a[key])
        if isinstance(button, QToolButton):
            button.setObjectName(name)
            buttons[key] = button
    toolbar.addSeparator()
    speed_label = QLabel(" Speed: ")
    speed = QComboBox()
    speed.setObjectName("speedCombo")
    speed.addItems(list(SPEEDS))
    speed.setToolTip("Slow training down to watch each step, or let it run at full speed")
    speed_label.setToolTip(speed.toolTip())
    toolbar.addWidget(speed_label)
    toolbar.addWidget(speed)
    toolbar.addSeparator()
    device = QLabel(" Device: – ")
    device.setObjectName("deviceLabel")
    device.setToolTip("The device the current run trains on")
    toolbar.addWidget(device)
    window.addToolBar(toolbar)
    return Actions(**a, recent_menu=recent, presets_menu=presets, view_menu=view_menu, toolbar=toolbar,
                   speed=speed, device=device)


def shortcut_rows(actions: Actions, *more: QAction) -> list[tuple[str, str]]:
    """(shortcut, what it does) for every action that has a shortcut (the window's, and ``more`` of its views'),
    for the Help menu."""
    rows = []
    for action in (*vars(actions).values(), *more):
        if isinstance(action, QAction) and not action.shortcut().isEmpty():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            tip = action.statusTip().removesuffix(f" ({keys})")  # the keys are in their own column
            rows.append((keys, action.text().replace("&", "").rstrip("…") + " — " + tip))
    return rows
