"""What a recorded run can be exported as: the registry of its views (loss, landscape, histograms, boundary,
dashboard) and the registry of file formats (PNG, SVG, CSV, GIF, MP4).

`visualizer export`, the window's File > Export… dialog and the replay window's File > Export animation build their
choices from here, so that a new view or format is one entry. Importing this module needs neither Qt nor torch (the
command line lists the choices in its help); the functions that draw and write are named as "module:function"
strings (or given as callables) and imported when first called (``writer_of``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

#: the kinds of format: an image of a view, the data a view shows, a moving picture of the view over the snapshots
KINDS = ("still", "data", "animation")


@dataclass(frozen=True)
class ExportFormat:
    """A file format. ``writer`` by kind: a still writes a widget, ``(widget, path, width, height, dpi) -> Path``;
    data writes the data a widget shows, ``(widget, path) -> Path`` (a run's views have their own data writers,
    ``ExportView.data``); an animation is a class ``(path, fps, samples)`` with ``add(frame)`` and
    ``close() -> Path`` (frames are (H, W, 3) uint8 arrays; ``samples`` a few of them, e.g. for a palette).
    ``raster``: an image of pixels (the DPI applies); ``default``: written by `visualizer export` unless
    --formats says otherwise."""

    name: str
    label: str
    kind: str
    suffix: str
    description: str
    writer: str | Callable
    raster: bool = False
    default: bool = False

    @property
    def sized(self) -> bool:
        """Whether a width and height in pixels apply."""
        return self.kind in ("still", "animation")


@dataclass(frozen=True)
class ExportView:
    """A view of a recorded run. ``widget(run, step=None, plot=None)`` draws it at a snapshot step (None: the
    end), reusing ``plot`` when given (animations); ``render(run, path, width, height, dpi)`` replaces it for a view
    that is a composite of several (the dashboard, raster stills only). ``data`` maps a data format's name to the
    view's writer ``(run, folder) -> list[Path]``. ``kinds`` are the kinds of format it can be written in;
    ``panes`` the views side by side in its animation frames. It applies to a run when the run has snapshots (if
    ``needs_snapshots``) and its task gets the prediction picture ``prediction`` (if set); ``not_applicable``
    says why not in words."""

    name: str
    label: str
    description: str
    kinds: frozenset[str]
    widget: str | Callable | None = None
    render: str | Callable | None = None
    data: dict[str, str | Callable] | None = None
    panes: tuple[str, ...] = ()
    needs_snapshots: bool = False
    measures: tuple[str, ...] = ()  # the lab's measures it draws: it applies when the run recorded one of them
    prediction: str | None = None
    not_applicable: str = ""
    size: tuple[int, int] = (1000, 700)

    def allows(self, fmt: ExportFormat) -> bool:
        """Whether the view can be written in ``fmt``."""
        if fmt.kind not in self.kinds:
            return False
        if fmt.kind == "data":
            return fmt.name in (self.data or {})
        if fmt.kind == "still" and self.render is not None:
            return fmt.raster
        return True

    def why_not(self, task: str | None, n_features: int | None, snapshots: int | None = None,
                measured: set[str] | None = None) -> str | None:
        """Why the view does not apply to a run of ``task`` on ``n_features`` features with ``snapshots`` snapshots
        whose lab recorded the measures ``measured`` (None: not known, not checked), or None when it applies."""
        if self.needs_snapshots and snapshots == 0:
            return "the run recorded no snapshots"
        if self.measures and measured is not None and not measured & set(self.measures):
            return self.not_applicable or "the run did not measure it"
        if self.prediction is not None and task is not None and n_features is not None:
            from visualizer.core.model.predict import prediction_view

            view = prediction_view(task, n_features)
            if view is None or view.name != self.prediction:
                return self.not_applicable or f"the run's task has no {self.prediction} picture"
        return None


_FILES = "visualizer.qt.runs.export_files"
_ANIMATION = "visualizer.qt.runs.animation"
_WIDGETS = "visualizer.qt.runs.export"
_CSV = "visualizer.core.runs.export_csv"
_LAB = "visualizer.qt.lab.export"
_LAB_CSV = "visualizer.core.lab.export_csv"

EXPORT_FORMATS: dict[str, ExportFormat] = {fmt.name: fmt for fmt in (
    ExportFormat("png", "PNG", "still", ".png", "an image of the size chosen, with the DPI in its metadata",
                 f"{_FILES}:write_image", raster=True, default=True),
    ExportFormat("svg", "SVG", "still", ".svg", "vector graphics (a single plot)", f"{_FILES}:write_svg",
                 default=True),
    ExportFormat("csv", "CSV", "data", ".csv", "the data shown, as comma-separated values",
                 f"{_FILES}:plot_csv", default=True),
    ExportFormat("gif", "GIF", "animation", ".gif", "an animation over the snapshots, looping",
                 f"{_ANIMATION}:GifWriter", raster=True),
    ExportFormat("mp4", "MP4", "animation", ".mp4", "an animation over the snapshots as H.264 video",
                 f"{_ANIMATION}:Mp4Writer", raster=True),
)}

_ALL = frozenset(KINDS)

EXPORT_VIEWS: dict[str, ExportView] = {view.name: view for view in (
    ExportView("loss", "Loss curves", "the loss and metric curves (CSV: one row per step)", _ALL,
               widget=f"{_WIDGETS}:loss_widget", data={"csv": f"{_CSV}:loss_csv"}),
    ExportView("landscape", "Loss landscape",
               "the loss surface on a plane through the weights with the path projected (CSV: alpha,beta,loss and "
               "landscape_trajectory.csv step,alpha,beta,distance); animated beside the loss curve", _ALL,
               widget=f"{_WIDGETS}:landscape_widget", data={"csv": f"{_CSV}:landscape_csv"},
               panes=("landscape", "loss")),
    ExportView("histograms", "Weight histograms",
               "the last snapshot's weight histograms (CSV: layer,bin_left,bin_right,count)", _ALL,
               widget=f"{_WIDGETS}:histogram_widget", data={"csv": f"{_CSV}:histograms_csv"}, needs_snapshots=True),
    ExportView("boundary", "Decision boundary",
               "the class probabilities over the two features with the data (2-D classification; CSV: "
               "x,y,p_CLASS...)", _ALL, widget=f"{_WIDGETS}:boundary_widget",
               data={"csv": f"{_CSV}:boundary_csv"}, prediction="boundary",
               not_applicable="the run is not a 2-D classification (no decision boundary)"),
    ExportView("sharpness", "Sharpness",
               "the sharpness against step with its threshold, 2/η or Adam's 38/η (CSV: step,sharpness,threshold); "
               "runs that measured it", frozenset({"still", "data"}), widget=f"{_LAB}:sharpness_widget",
               data={"csv": f"{_LAB_CSV}:sharpness_csv"}, measures=("sharpness", "preconditioned_sharpness"),
               not_applicable="the run measured no sharpness ([lab] sharpness_every)", size=(1000, 600)),
    ExportView("health", "Training health",
               "each layer's gradient norm, update ratio, weight norm and dead or saturated units against step "
               "(CSV: name,layer,step,value); runs that measured it", frozenset({"still", "data"}),
               widget=f"{_LAB}:health_widget", data={"csv": f"{_LAB_CSV}:health_csv"},
               measures=("grad_norm", "weight_norm"),
               not_applicable="the run measured no training health ([lab] health_every)", size=(1100, 700)),
    ExportView("dashboard", "Dashboard", "loss, prediction, histograms and landscape in one image",
               frozenset({"still"}), render=f"{_FILES}:write_dashboard", size=(1600, 1100)),
)}


def writer_of(ref: str | Callable) -> Callable:
    """The function (or class) a registry entry names as "module:function", imported now; a callable as it is."""
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def formats_of_kind(*kinds: str) -> list[ExportFormat]:
    """The registered formats of the given kinds, in registry order."""
    return [fmt for fmt in EXPORT_FORMATS.values() if fmt.kind in kinds]


def animated_views() -> list[ExportView]:
    """The views that can be animated, in registry order."""
    return [view for view in EXPORT_VIEWS.values() if "animation" in view.kinds]


def view_formats(view: ExportView) -> list[str]:
    """The names of the formats ``view`` can be written in."""
    return [fmt.name for fmt in EXPORT_FORMATS.values() if view.allows(fmt)]
