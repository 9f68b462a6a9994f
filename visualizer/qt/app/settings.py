"""Where the window keeps what it remembers: layout, theme, recent files, the last session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 8


def config_dir() -> Path:
    """$VISUALIZER_CONFIG_DIR, or the platform's per-user configuration folder."""
    override = os.environ.get("VISUALIZER_CONFIG_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "optimization-visualizer"


def open_settings() -> QSettings:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)


def last_session_path() -> Path:
    """The experiment the window saves on close and opens on the next start."""
    return config_dir() / "last_session.toml"


def recent_files(settings: QSettings) -> list[str]:
    value = settings.value("recent_files", [])
    if isinstance(value, str):
        value = [value]
    return [v for v in (value or []) if v]


def add_recent_file(settings: QSettings, path: str) -> list[str]:
    files = [path] + [f for f in recent_files(settings) if f != path]
    settings.setValue("recent_files", files[:MAX_RECENT])
    return files[:MAX_RECENT]


def visualizer_command() -> list[str]:
    """How to run the `visualizer` command from here: the packaged program itself, or this Python with -m."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "visualizer"]
