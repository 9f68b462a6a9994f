"""Where the bundled resources are: the repository's (or the packaged program's) resources/ folder."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The resources/ folder beside the package: presets, lessons, sample data, screenshots."""
    return Path(__file__).resolve().parents[2] / "resources"
