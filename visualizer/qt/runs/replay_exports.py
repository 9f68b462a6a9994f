"""The replay window's exports: its views as they show the current step (PNG, SVG), and animations of the run over
its snapshots (File > Export animation), offered for the views that apply to the run, in the animation formats of
the export registry, with the landscape drawn on the plane and grid the window's landscape tab shows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from visualizer.core.runs.export_registry import EXPORT_VIEWS, animated_views, formats_of_kind
from visualizer.qt.runs.animation_export import AnimationExport, shown_landscape


class ReplayExports:
    """Mixin of ReplayWindow (its ``run``, ``path``, ``views`` and ``show_message``): File menu entries and the
    export methods; ``_build_exports(file_menu)`` adds the menu entries."""

    def _build_exports(self, file_menu: QMenu) -> None:
        self.animation = AnimationExport(self)
        self.animation.finished.connect(self._on_animation_finished)
        self.animation.progress.connect(lambda view, i, n: self.show_message(
            f"Writing the {view} animation: frame {i} of {n}… (File > Cancel the animation stops it)"))
        png = QAction("&Export views as PNG…", self)
        png.triggered.connect(lambda: self._on_export_chosen("png"))
        svg = QAction("Export views as &SVG…", self)
        svg.triggered.connect(lambda: self._on_export_chosen("svg"))
        file_menu.addActions([png, svg])
        kinds = " and ".join(fmt.label for fmt in formats_of_kind("animation"))
        menu = file_menu.addMenu(f"Export &animation ({kinds})")
        menu.setObjectName("animationMenu")
        self.animation_actions: dict[str, QAction] = {}
        for name in self.animation_views():
            view = EXPORT_VIEWS[name]
            action = menu.addAction(view.label)
            action.setToolTip(view.description)
            action.triggered.connect(lambda _=False, v=name: self._on_animation_chosen(v))
            self.animation_actions[name] = action
        menu.setToolTipsVisible(True)
        self.cancel_animation = menu.addAction("Cancel the animation")
        self.cancel_animation.setObjectName("cancelAnimationAction")
        self.cancel_animation.setEnabled(False)
        self.cancel_animation.triggered.connect(self._on_cancel_animation)

    def animation_views(self) -> list[str]:
        """The views whose animation applies to this run (the boundary only to a 2-D classification), in the
        registry's order; all of them while the run has not said what it is."""
        from visualizer.core.data.features import plane_size

        started = self.run.started
        return [view.name for view in animated_views() if started is None or view.why_not(
            started.task, plane_size(started.n_features, self.run.experiment.data.features)) is None]

    def export_views(self, folder: str | Path, fmt: str = "png") -> list[Path]:
        """Write every view as it shows the current step into ``folder`` (PNG or SVG)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return self.views.export(folder, fmt)

    def _on_export_chosen(self, fmt: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Export the views as {fmt.upper()} into", str(Path.home()))
        if folder:
            written = self.export_views(folder, fmt)
            self.show_message(f"Wrote {len(written)} {fmt.upper()} files into {folder}.")

    def export_animation(self, folder: str | Path, view: str = "landscape", formats=None,
                         frames: int | None = None) -> bool:
        """Write the run's animation of ``view`` into ``folder`` in a child process (`visualizer export`), in
        ``formats`` (default: every animation format), its landscape as the landscape tab shows it; the status
        line says when it is done. False when one is still being written or the view does not apply."""
        if view not in self.animation_views():
            self.show_message(f"This run has no {view} animation.")
            return False
        formats = tuple(formats) if formats is not None else tuple(f.name for f in formats_of_kind("animation"))
        info = EXPORT_VIEWS[view]
        tab = getattr(self.views, "landscape", None)
        landscape = shown_landscape(tab) if tab is not None and "landscape" in (info.panes or (view,)) else None
        if not self.animation.start(self.path, Path(folder), (view,), formats, frames, landscape):
            self.show_message("An animation is still being written; wait for it to finish.")
            return False
        self.show_message(f"Writing the {view} animation into {folder}…")
        self.cancel_animation.setEnabled(True)
        return True

    def _on_animation_finished(self, ok: bool, text: str) -> None:
        self.cancel_animation.setEnabled(False)
        self.show_message(text)

    def _on_cancel_animation(self) -> None:
        self.animation.cancel()  # its end says that it was cancelled

    def _on_animation_chosen(self, view: str) -> None:
        kinds = " and ".join(fmt.label for fmt in formats_of_kind("animation"))
        folder = QFileDialog.getExistingDirectory(self, f"Write the animation ({kinds}) into", str(Path.home()))
        if folder:
            self.export_animation(folder, view)
