"""The main window's tool windows: run library -> replay (and compare), export dialog, race, playground, and the
pruned network's weights on the landscape plane; all close with the main window."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from visualizer.core.landscape.directions import project
from visualizer.core.session_model import FINISHED


@pytest.fixture
def window(main_window):
    return main_window


def train(window, qtbot, epochs: int = 5):
    from dataclasses import replace

    window.experiment = replace(window.experiment, train=replace(window.experiment.train, epochs=epochs))
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)


def test_a_finished_run_is_in_the_library_and_opens_as_a_replay(window, qtbot):
    train(window, qtbot)
    recorded = window.recorded
    assert recorded is not None and recorded.exists()
    window.acts.run_library.trigger()
    library = window.library
    assert library is not None and library.isVisible()
    library.refresh()
    library.select(recorded)
    library.open_selected()
    assert window.replays and window.replays[-1].isVisible()
    replay = window.replays[-1]
    assert replay.last == window.session.ended.step and replay.step == replay.last
    # "Open to compare" overlays on the replay shown
    library.select(recorded)
    library.compare_selected()
    assert replay.views.loss.overlay_name
    window.close()
    assert not replay.isVisible() and not library.isVisible()


def test_a_bad_run_file_is_a_message_not_a_crash(window, tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 10)
    assert window.open_replay(bad) is None
    assert "could not be opened" in window.message_bar.text() and window.message_bar.isVisible()


def test_export_dialog_offers_the_views_and_writes_them(window, qtbot, tmp_path):
    train(window, qtbot, epochs=2)
    window.acts.export_dialog.trigger()
    dialog = window.export_dialog
    offered = {dialog.view_list.item(i).text() for i in range(dialog.view_list.count())}
    assert {"dashboard", "loss", "histograms", "landscape"} <= offered
    dialog.set_selected_views(["loss", "dashboard"])
    dialog.set_options("png", 640, 480, 150, str(tmp_path))
    written = dialog.export()
    assert {p.name for p in written} >= {"loss.png", "dashboard.png"}
    assert all(p.stat().st_size > 1000 for p in written)


def test_race_and_playground_open_from_the_run_menu_and_close_with_the_window(window):
    window.acts.race.trigger()
    window.acts.playground.trigger()
    race, playground = window.race, window.playground
    assert race.isVisible() and playground.isVisible()
    window.close()
    assert not race.isVisible() and not playground.isVisible()
    assert not [t for t in threading.enumerate() if t.name in ("race-worker", "landscape-worker") and t.is_alive()]


def test_the_pruned_network_lands_on_the_landscape_plane(window, qtbot):
    views = window.views
    views.right_tabs.setCurrentWidget(views.landscape)
    train(window, qtbot, epochs=5)
    landscape = views.landscape
    qtbot.waitUntil(lambda: landscape.surface is not None and landscape.surface.fine, timeout=30000)
    window.acts.compress.trigger()
    tab = window.compression.prune_tab
    qtbot.waitUntil(lambda: tab.outcome is not None and tab.outcome.flat is not None, timeout=60000)
    flat = tab.outcome.flat
    assert flat.shape == landscape.current_plane()[0].shape
    assert np.mean(flat == 0) >= tab.outcome.report.sparsity * 0.5  # the masked weights are zero in it
    qtbot.waitUntil(lambda: len(landscape.plot2d._marks) == 1, timeout=5000)
    label, a, b = landscape.plot2d._marks[0]
    ea, eb, dist = project(flat, *landscape.current_plane())
    assert label.startswith("pruned") and (a, b) == pytest.approx((ea, eb), rel=1e-4, abs=1e-6)
    assert label.endswith(f"{dist:.3g} off the plane")  # what the projection leaves out is said


def test_every_control_of_the_tool_windows_has_a_tooltip(window, qtbot):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider

    train(window, qtbot, epochs=1)
    windows = [window.open_playground(), window.open_race(), window.open_run_library(), window.open_export_dialog(),
               window.open_replay(window.recorded)]
    for w in windows:
        w.show()
        missing = [f"{type(c).__name__} {c.objectName() or c.text() if hasattr(c, 'text') else ''}"
                   for cls in (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider, QLineEdit)
                   for c in w.findChildren(cls)
                   if c.isVisibleTo(w) and not c.toolTip() and not c.objectName().startswith("qt_")
                   and not (isinstance(c.parent(), (QAbstractSpinBox, QComboBox)))]  # their line edits
        assert not missing, (w.windowTitle(), missing)


def test_a_tool_window_opened_again_frees_the_one_it_replaces(window, qtbot):
    """A closed Qt window is not freed (the lambdas its signals hold keep it): each reopened tool window (and each
    replay window closed before another opens) is deleted, not kept with its plots for the rest of the session."""
    import shiboken6
    from PySide6.QtCore import QCoreApplication, QEvent

    train(window, qtbot, epochs=2)
    first, first_replay = window.open_race(), window.open_replay(window.recorded)
    first_replay.close()
    second, second_replay = window.open_race(), window.open_replay(window.recorded)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(first) and not shiboken6.isValid(first_replay)
    assert shiboken6.isValid(second) and second.isVisible() and second_replay.isVisible()
    assert window.race is second and window.replays == [second_replay]
