"""Where the window keeps what it remembers: layout, theme, recent files, the last session."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

MAX_RECENT = 8


def config_dir() -> Path:
    """$VISUALIZER_CONFIG_DIR, or the platform's per-user configuration folder."""
    override = os.environ.get("VISUALIZER_CONFIG_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "optimization-visualizer"


#: the folder used this session when the configuration folder cannot be (it is a file, it cannot be created)
_fallback: Path | None = None


def settings_dir() -> Path:
    """The folder the window keeps its files in this session: ``config_dir()``, or a temporary folder when that
    cannot be used (then nothing is kept for the next start, and the window says so)."""
    return _fallback or config_dir()


@dataclass(frozen=True)
class Setting:
    """One remembered value: its key, its default, and a check that returns the value to use or raises ValueError."""

    key: str
    default: object
    check: Callable[[object], object]


def _one_of(*allowed: str) -> Callable[[object], str]:
    def check(value):
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return value
    return check


def _text(value):
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value


def _bytes(value):
    if not isinstance(value, QByteArray):
        raise ValueError(f"expected a saved layout, got {type(value).__name__}")
    return value


def _files(value):
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of file names")
    return [v for v in value if v][:MAX_RECENT]


def _speed(value):
    from visualizer.qt.app.actions import SPEEDS

    return _one_of(*SPEEDS)(value)


#: every value the main window remembers (tool windows declare their own beside them)
SETTINGS = (Setting("theme", "light", _one_of("light", "dark")), Setting("speed", "Full speed", _speed),
            Setting("geometry", None, _bytes), Setting("window_state", None, _bytes),
            Setting("recent_files", [], _files), Setting("last_path", "", _text),
            Setting("last_dirty", "false", _one_of("true", "false")))


def sanitize(settings: QSettings, declared=SETTINGS) -> list[str]:
    """Check every declared value; a bad one is removed (its default is used) and described in the list returned."""
    problems = []
    for setting in declared:
        if not settings.contains(setting.key):
            continue
        try:
            setting.check(settings.value(setting.key))
        except ValueError as exc:
            settings.remove(setting.key)
            problems.append(f"{setting.key} ({exc})")
    return problems


def open_settings() -> tuple[QSettings, list[str]]:
    """The window's settings, every value checked, and what had to be reset (a sentence each)."""
    global _fallback
    problems = []
    try:
        config_dir().mkdir(parents=True, exist_ok=True)
        if not os.access(config_dir(), os.W_OK):
            raise PermissionError("not writable")
    except OSError as exc:
        if _fallback is None:
            _fallback = Path(tempfile.mkdtemp(prefix="optimization-visualizer-"))
        problems.append(f"the settings folder {config_dir()} cannot be used ({exc.strerror or exc}); nothing is kept "
                        "for the next start")
    path = settings_dir() / "settings.ini"
    if path.exists() and not path.is_file():
        path = Path(tempfile.mkdtemp(prefix="optimization-visualizer-")) / "settings.ini"
        problems.append(f"{settings_dir() / 'settings.ini'} is not a file")
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    if settings.status() != QSettings.Status.NoError:
        settings.clear()
        problems.append(f"{path} could not be read")
    bad = sanitize(settings)
    if bad:
        problems.append("reset to defaults: " + "; ".join(bad))
    return settings, problems


def last_session_path() -> Path:
    """The experiment the window saves on close and opens on the next start."""
    return settings_dir() / "last_session.toml"


def recent_files(settings: QSettings) -> list[str]:
    try:
        return _files(settings.value("recent_files", []) or [])
    except ValueError:
        return []


def add_recent_file(settings: QSettings, path: str) -> list[str]:
    files = [path] + [f for f in recent_files(settings) if f != path]
    settings.setValue("recent_files", files[:MAX_RECENT])
    return files[:MAX_RECENT]


def visualizer_command() -> list[str]:
    """How to run the `visualizer` command from here: the packaged program itself, or this Python with -m."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "visualizer"]


def set_aside(path: Path) -> str:
    """Move an unreadable file out of the way (never deleted: it may hold someone's work); says where it went."""
    import time

    target = path.with_name(f"{path.stem}-unreadable-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
    try:
        os.replace(path, target)
    except OSError as exc:
        return f"it stays as {path} ({exc.strerror or exc})"
    return f"it was kept as {target}"


def runs_dir() -> Path:
    """Where the window records every run it trains (the run library's folder)."""
    return settings_dir() / "runs"
