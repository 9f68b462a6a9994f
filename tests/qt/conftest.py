"""Qt tests run offscreen, with their own settings folder (tests/conftest.py fails any test that leaves a thread
or a child process behind)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _own_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALIZER_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def main_window(qtbot):
    """The main window shown on the built-in example, its data loaded; closed after the test."""
    from visualizer.qt.app.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.finish_setup(MainWindow.example_path())
    qtbot.waitUntil(lambda: w.dataset is not None, timeout=15000)
    yield w
    w.presentation.leave()
    w.close()
