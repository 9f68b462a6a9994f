"""The window and its views (PySide6, pyqtgraph). Nothing here is imported by ``visualizer.core``."""

from __future__ import annotations


def _skip_pyside_source_scan() -> None:
    """PySide6 reads and tokenizes the source of every module imported after it (inspect.getsource) to learn
    whether the module uses PySide, for its opt-in ``from __feature__ import ...`` switches; this app selects no
    feature, so every module may count as using PySide with none selected (id 0, Qt's own default behaviour).
    Saves ~15 % of the window's imports before its first paint (0.95 -> 0.79 s on a busy 2-core machine). A
    PySide6 without this internal is left as it is."""
    import sys

    import PySide6.QtCore  # noqa: F401  (loads the feature module)

    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        feature._mod_uses_pyside = lambda module: True


_skip_pyside_source_scan()
