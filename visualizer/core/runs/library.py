"""The run library: the run files of a folder listed for a person (newest first, damaged ones with their error),
renamed without ever overwriting, deleted with their write-ahead files."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.schema import SUFFIX, RunFileExists


@dataclass(frozen=True)
class RunListing:
    """One file of a run folder: its summary, or why it cannot be read (``error``)."""

    path: Path
    modified: float
    summary: dict | None = None
    error: str = ""


def run_files(folder: str | Path) -> list[Path]:
    """The run files in ``folder`` (``*.sqlite``, not the temporary files of a writer), newest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob(f"*{SUFFIX}") if p.is_file() and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def list_runs(folder: str | Path) -> list[RunListing]:
    """Every run file in ``folder``, newest first; a damaged file is listed with its error, never raised."""
    out = []
    for path in run_files(folder):
        try:
            modified = path.stat().st_mtime
        except OSError:  # deleted meanwhile
            continue
        try:
            with RunReader(path) as run:
                out.append(RunListing(path, modified, run.summary()))
        except (VisualizerError, sqlite3.Error, OSError) as exc:
            out.append(RunListing(path, modified, None, str(exc)))
        except Exception as exc:  # noqa: BLE001  (the reader raises VisualizerError only; one file must never hide
            # the others, so whatever still slips through is listed as that file's problem)
            out.append(RunListing(path, modified, None, f"{path} cannot be read ({type(exc).__name__}: {exc})"))
    return out


_SIDECARS = ("-wal", "-shm", "-journal")


def rename_run(path: str | Path, name: str) -> Path:
    """Rename a run file (and its -wal/-shm files) to ``name`` in the same folder; never overwrites a file."""
    path = Path(path)
    stem = name.strip()
    stem = stem[: -len(SUFFIX)] if stem.endswith(SUFFIX) else stem
    if not stem or stem in (".", "..") or any(c in stem for c in "/\\\0") or stem.startswith("."):
        raise VisualizerError(f"'{name}' is not a valid run name (no slashes, not empty, not starting with '.')")
    new = path.with_name(stem + SUFFIX)
    if new == path:
        return path
    for suffix in ("", *_SIDECARS):
        if Path(f"{new}{suffix}").exists():
            raise RunFileExists(f"{new.name} already exists in {new.parent}; choose another name")
    if not path.exists():
        raise VisualizerError(f"{path}: no such run file")
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in ("", *_SIDECARS):
            old, dst = Path(f"{path}{suffix}"), Path(f"{new}{suffix}")
            if old.exists():
                _move_no_overwrite(old, dst)
                moved.append((old, dst))
    except BaseException:
        for old, dst in reversed(moved):  # put back what was moved
            _move_no_overwrite(dst, old)
        raise
    return new


def _move_no_overwrite(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)  # fails when dst exists, unlike rename
    except FileExistsError:
        raise RunFileExists(f"{dst.name} already exists in {dst.parent}; choose another name") from None
    except OSError:  # no hard links here
        if dst.exists():
            raise RunFileExists(f"{dst.name} already exists in {dst.parent}; choose another name") from None
        os.rename(src, dst)
        return
    os.unlink(src)


def delete_run(path: str | Path) -> None:
    """Delete a run file and its -wal/-shm files."""
    path = Path(path)
    for suffix in ("", *_SIDECARS):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
