"""Work around pyqtgraph 0.14's SVG exporter failing on closed paths written by Qt >= 6.10.

Qt now ends closed sub-paths with a separate "Z" token, which pyqtgraph's `correctCoordinates`
tries to split as "x,y" (ValueError; pyqtgraph issue #3495, fixed upstream after 0.14.0).
While exporting, we hide the "Z" tokens from it and put them back where they were.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_CLOSE = ("Z", "z")


@contextmanager
def closed_paths_supported() -> Iterator[None]:
    """Within the block, pyqtgraph's SVG export accepts paths containing "Z"."""
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = module.correctCoordinates

    def correct_coordinates(node: Any, defs: Any, item: Any, options: Any) -> None:
        hidden: list[tuple[Any, list[int]]] = []
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            closes = [i for i, token in enumerate(tokens) if token in _CLOSE]
            if closes:
                hidden.append((path, closes))
                path.setAttribute("d", " ".join(t for t in tokens if t not in _CLOSE))
        original(node, defs, item, options)
        for path, closes in hidden:
            tokens = path.getAttribute("d").split()
            for index in closes:  # ascending, so each lands where it was
                tokens.insert(index, "Z")
            path.setAttribute("d", " ".join(tokens))

    module.correctCoordinates = correct_coordinates
    try:
        yield
    finally:
        module.correctCoordinates = original
