"""Where a run is: the run file given as itself or as the folder holding it (every command that takes a run)."""

from __future__ import annotations

from pathlib import Path

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.schema import RUN_FILE, SUFFIX


def _run_number(path: Path) -> int:
    """1 for run.sqlite, N for run-N.sqlite (the order `visualizer run` numbers them in), 0 otherwise."""
    stem = path.stem
    if stem == "run":
        return 1
    tail = stem[4:] if stem.startswith("run-") else ""
    return int(tail) if tail.isdigit() else 0


def run_file_of(path: str | Path) -> Path:
    """The run file given as itself, or as the folder holding it (its newest ``run*.sqlite``: `visualizer run`
    adds run-2.sqlite when rerun into the folder). A clear message names both options otherwise."""
    path = Path(path)
    try:
        return _run_file_of(path)
    except (OSError, ValueError) as exc:  # a name too long for the system, a NUL character in it
        why = getattr(exc, "strerror", None) or exc
        raise VisualizerError(f"{str(path)[:200]!r}: cannot be opened as a run ({why})") from None


def _run_file_of(path: Path) -> Path:
    if path.is_dir():
        found = [p for p in path.glob(f"run*{SUFFIX}") if p.is_file()]
        if found:
            return max(found, key=lambda p: (p.stat().st_mtime, _run_number(p), p.name))
        others = sorted(p.name for p in path.glob(f"*{SUFFIX}") if p.is_file() and not p.name.startswith("."))
        hint = f" (it holds {len(others)} other run file(s), e.g. {others[0]}: give one of them)" if others else ""
        raise VisualizerError(f"{path} has no {RUN_FILE}{hint}: give a run file (.sqlite) or the folder holding "
                              "one (what `visualizer run` writes)")
    if not path.exists():
        raise VisualizerError(f"{path}: no such run folder or run file")
    return path
