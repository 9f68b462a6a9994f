"""The central views as figures (a mixin of TrainingViews): each plot alone with its titles, axes and legend and none
of the controls around it, the dashboard of them all, and File > Export plots."""

from __future__ import annotations

from pathlib import Path

from visualizer.qt.plots import export_widget

#: the pixel size of each view's file written by File > Export plots as PNG/SVG
EXPORT_SIZES = {"loss": (1000, 700), "prediction": (800, 700), "confusion_matrix": (800, 700),
                "histograms": (1100, 450), "histogram_over_time": (1000, 500), "landscape": (900, 800),
                "sharpness": (1000, 600), "health": (1100, 700)}


class ViewFigures:
    def landscape_figure(self):
        """The landscape as the tab shows it (2-D heatmap, 3-D surface or the line θ₀ → θ): the plot alone."""
        return self.landscape.stack.currentWidget()

    def figures(self) -> dict[str, object]:
        """Each view that has something to show, by the name of its file, as a figure: the plot alone, at any size,
        with its titles, axes and legend and none of the controls around it."""
        self.flush()
        out: dict[str, object] = {"loss": self.loss}
        current = self.prediction.currentWidget()
        if current is self.boundary:
            out["prediction"] = self.boundary
        elif current is self.confusion:
            out["confusion_matrix"] = self.confusion
        if self._snapshot is not None:
            out["histograms"] = self.histograms
            out["histogram_over_time"] = self.hist_time
        if self.landscape.surface is not None or self.landscape.has_path():  # computed at export if never shown
            out["landscape"] = self.landscape_figure()
        out.update(self.lab.figures())  # the lab's Sharpness and Health, when the run measured them
        return out

    def dashboard(self, title: str = ""):
        """Loss, prediction, histograms and landscape as one figure (a grid of the plots, no controls), captioned
        with ``title`` and the step of the pictures."""
        from visualizer.qt.plots.figure_grid import FigureGrid

        figures = self.figures()
        step = f"step {self._snapshot.step:,}" if self._snapshot is not None else ""
        caption = ": ".join(part for part in (title, step) if part)
        cells = [figures[name] for name in ("loss", "prediction", "confusion_matrix", "histograms", "landscape")
                 if name in figures]
        return FigureGrid(cells, columns=2, caption=caption, background=self.loss.backgroundBrush().color().name())

    def export(self, folder: Path, fmt: str = "png", theme: str | None = None) -> list[Path]:
        """Write every view that has something to show as folder/<view>.<fmt>: each a figure at its own size."""
        folder = Path(folder)
        return [export_widget(figure, folder / f"{name}.{fmt}", *EXPORT_SIZES[name], theme=theme)
                for name, figure in self.figures().items()]
