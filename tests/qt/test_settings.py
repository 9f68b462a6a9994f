"""The window opens with any settings: garbage values, wrong types, a FIFO or /dev/zero as the last session, a
file where the settings folder should be; it says what it reset and never loses the user's last session."""

from __future__ import annotations

import os

import pytest

from visualizer.qt.app import settings as settings_module
from visualizer.qt.app.main_window import MainWindow


@pytest.fixture(autouse=True)
def _no_fallback_left(monkeypatch):
    monkeypatch.setattr(settings_module, "_fallback", None)


def open_window(qtbot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.finish_setup()
    qtbot.waitUntil(lambda: w.dataset is not None, timeout=15000)
    return w


def config(tmp_path):
    return tmp_path / "config"


@pytest.mark.parametrize(("ini", "words"), [
    ("[General]\ntheme=garbage\n", "theme ('garbage' is not one of light, dark)"),
    ("[General]\nspeed=ludicrous\nlast_dirty=maybe\n", "speed ('ludicrous' is not one of"),
    ("[General]\nrecent_files=@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x5)\n", "recent_files"),
    ("[General]\ngeometry=12\nwindow_state=true\n", "geometry (expected a saved layout"),
])
def test_bad_values_are_reset_and_said(qtbot, tmp_path, ini, words):
    config(tmp_path).mkdir(parents=True)
    (config(tmp_path) / "settings.ini").write_text(ini)
    w = open_window(qtbot)
    try:
        assert w.theme in ("light", "dark")
        assert "Settings: reset to defaults" in w.message_bar.text() and words in w.message_bar.text()
        assert w.experiment is not None and w.experiment.data.name == "moons"
    finally:
        w.close()


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "folder", "garbage"])
def test_an_unreadable_last_session_is_set_aside_and_the_example_opens(qtbot, tmp_path, kind):
    folder = config(tmp_path)
    folder.mkdir(parents=True)
    last = folder / "last_session.toml"
    if kind == "fifo":
        os.mkfifo(last)
    elif kind == "dev_zero":
        os.symlink("/dev/zero", last)
    elif kind == "folder":
        last.mkdir()
    else:
        last.write_text("[data\nname = ")
    w = open_window(qtbot)
    try:
        assert w.experiment.data.name == "moons"
        assert "the last session could not be opened; it was kept as" in w.message_bar.text()
        kept = [p for p in folder.iterdir() if p.name.startswith("last_session-unreadable-")]
        assert len(kept) == 1
        if kind == "garbage":
            assert kept[0].read_text() == "[data\nname = "  # the user's text is never lost
    finally:
        w.close()


def test_a_file_where_the_settings_folder_should_be(qtbot, tmp_path):
    config(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    config(tmp_path).write_text("not a folder")
    w = open_window(qtbot)
    try:
        assert "the settings folder" in w.message_bar.text() and "nothing is kept" in w.message_bar.text()
        assert w.experiment is not None
    finally:
        w.close()
    assert config(tmp_path).read_text() == "not a folder"
