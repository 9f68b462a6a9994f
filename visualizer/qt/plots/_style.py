"""Colours, fonts and axis styling shared by the plot classes: the one source of the plots' look.

A plot's ``set_theme`` restyles every item it has made (axes, titles, legends, text items, colour bars) from the
theme and from the scale set here, so switching theme or entering and leaving presentation mode mid-run changes
them all, and restoring the theme and scale restores them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem
from shiboken6 import isValid

LABEL_PT = 11
TICK_PT = 9
TITLE_PT = 12
MIN_LEGEND_PT = 7  # a legend's text shrinks down to this size to fit a small view
MIN_AXIS_TITLE_PT = 7  # an axis title shrinks down to this size to fit a short axis

#: presentation mode scales every plot's fonts and lines (set_presentation_scale); 1 on the desktop
_SCALE = {"font": 1.0, "line": 1.0}


def set_presentation_scale(font_scale: float = 1.0, line_scale: float = 1.0) -> None:
    """Scale the fonts and line widths of plots styled from now on (presentation mode); (1, 1) restores them."""
    _SCALE["font"], _SCALE["line"] = float(font_scale), float(line_scale)


def line(width: float) -> float:
    """A line width in the current scale (thicker in presentation mode)."""
    return width * _SCALE["line"]


def pt(size: float) -> int:
    """A font size in points in the current scale."""
    return max(1, round(size * _SCALE["font"]))


def px(size: float) -> int:
    """A size in pixels that grows with the text (an axis's width for its tick labels, a marker), in the current
    scale."""
    return max(1, round(size * _SCALE["font"]))


@dataclass(frozen=True)
class Theme:
    """The colours a plot needs that depend on the background."""

    name: str
    background: str
    foreground: str
    grid_alpha: float
    legend_fill: str
    readout_fill: str
    train: str
    train_raw: str
    validation: str
    histogram: str
    gradient: str
    model_curve: str


THEMES: dict[str, Theme] = {
    "light": Theme(
        name="light",
        background="#ffffff",
        foreground="#202124",
        grid_alpha=0.18,
        legend_fill="#ffffffd8",
        readout_fill="#ffffffe6",
        train="#1f6fb4",
        train_raw="#1f6fb440",
        validation="#e8710a",
        histogram="#1f6fb4",
        gradient="#c2410c",
        model_curve="#202124",
    ),
    "dark": Theme(
        name="dark",
        background="#1e1f22",
        foreground="#e3e3e3",
        grid_alpha=0.22,
        legend_fill="#2b2d30d8",
        readout_fill="#2b2d30e6",
        train="#5aa9ef",
        train_raw="#5aa9ef48",
        validation="#ffa03a",
        histogram="#5aa9ef",
        gradient="#ff8a4c",
        model_curve="#f2f2f2",
    ),
    # presentation mode: black and white with saturated curves that survive a projector and screen sharing
    "contrast": Theme(
        name="contrast",
        background="#000000",
        foreground="#ffffff",
        grid_alpha=0.35,
        legend_fill="#000000e0",
        readout_fill="#000000f0",
        train="#ffd60a",
        train_raw="#ffd60a55",
        validation="#00e5ff",
        histogram="#ffd60a",
        gradient="#ff5c8a",
        model_curve="#ffffff",
    ),
}

# Qualitative class colours: the first two are TensorFlow Playground's orange and blue, the rest
# are distinguishable on white and on dark backgrounds (Tableau/Glasbey-like).
CLASS_COLORS: tuple[str, ...] = (
    "#f59322",  # orange
    "#0877bd",  # blue
    "#2ca02c",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#17becf",  # cyan
    "#bcbd22",  # olive
    "#7f7f7f",  # grey
    "#393b79",  # indigo
    "#e7ba52",  # sand
)


def get_theme(name: str) -> Theme:
    """Return the theme called `name` ("light", "dark" or "contrast")."""
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r}; expected one of {sorted(THEMES)}") from None


def class_color(index: int) -> QColor:
    """Colour of class `index` (the palette repeats after 12 classes)."""
    return QColor(CLASS_COLORS[index % len(CLASS_COLORS)])


def readable_on(background: QColor, candidates: tuple[str, ...] = ("#000000", "#ffffff")) -> str:
    """Of ``candidates``, the text colour with the most contrast (WCAG relative luminance) on ``background``."""

    def luminance(c: QColor) -> float:
        lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in (c.redF(), c.greenF(), c.blueF())]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    back = luminance(QColor(background))
    ratio = lambda c: (max(back, luminance(QColor(c))) + 0.05) / (min(back, luminance(QColor(c))) + 0.05)
    return max(candidates, key=ratio)


def font(point_size: int, bold: bool = False) -> QFont:
    """A QFont of the application's family at `point_size`."""
    f = QFont()
    f.setPointSize(pt(point_size))
    f.setBold(bold)
    return f


def style_plot(
    plot: pg.PlotItem,
    theme: Theme,
    *,
    title: str | None = None,
    bottom: str | None = None,
    left: str | None = None,
    grid: bool = True,
) -> None:
    """Apply theme colours, fonts, axis titles and an optional plot title to `plot`."""
    fg = theme.foreground
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        if not hasattr(axis, "base_width"):  # a width the plot fixed for its tick labels grows with their font
            axis.base_width = axis.fixedWidth
        if axis.base_width is not None:
            axis.setWidth(px(axis.base_width))
        axis.setPen(pg.mkPen(fg, width=line(1)))
        axis.setTextPen(pg.mkPen(fg))
        axis.setStyle(tickFont=font(TICK_PT), tickTextOffset=4, maxTickLevel=1)
        axis.enableAutoSIPrefix(False)  # "(x0.001)" after a unitless title only confuses
        # drawn once into a pixmap kept until its range, size or style changes (the axis asks for that itself):
        # replaying its tick labels was ~40 % of a live plot's paint, for axes that had not changed
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # ... and when that is called while a range within ±1 is shown, pyqtgraph keeps the scale it had chosen
        # (1000) and labels weights of ±0.2 as ±200 without saying so: undo it
        if axis.autoSIPrefixScale != 1.0:
            axis.autoSIPrefixScale = 1.0
            axis.labelUnitPrefix = ""
            axis._updateLabel()
    label_style = {"color": fg, "font-size": f"{pt(LABEL_PT)}pt"}
    if bottom is not None:
        plot.setLabel("bottom", bottom, **label_style)
    else:
        axis = plot.getAxis("bottom")
        axis.setLabel(axis.labelText or None, **label_style)
    if left is not None:
        plot.setLabel("left", left, **label_style)
    else:
        axis = plot.getAxis("left")
        axis.setLabel(axis.labelText or None, **label_style)
    if title is not None:
        plot.setTitle(title, color=fg, size=f"{pt(TITLE_PT)}pt")
    elif plot.titleLabel.isVisible() and plot.titleLabel.text:
        plot.setTitle(plot.titleLabel.text, color=fg, size=f"{pt(TITLE_PT)}pt")
    plot.showGrid(x=grid, y=grid, alpha=theme.grid_alpha)
    for name in ("left", "bottom", "right", "top"):
        keep_axis_title_inside(plot.getAxis(name), pt(LABEL_PT))


def keep_axis_title_inside(axis: pg.AxisItem, size_pt: int) -> None:
    """Draw an axis's title at ``size_pt``, or smaller (down to MIN_AXIS_TITLE_PT) while it is longer than the axis,
    now and whenever the axis is resized (a short plot, large presentation fonts)."""
    axis.wanted_pt = size_pt
    if not getattr(axis, "follows_size", False):
        axis.geometryChanged.connect(lambda: _fit_axis_title(axis))
        axis.follows_size = True
    _fit_axis_title(axis)


def _fit_axis_title(axis: pg.AxisItem) -> None:
    if not isValid(axis) or axis.label is None or not axis.labelText or getattr(axis, "fitting", False):
        return  # (an axis being deleted still reports its geometry)
    along = axis.size().width() if axis.orientation in ("top", "bottom") else axis.size().height()
    text = axis.label.toPlainText().strip() or axis.labelText
    size = axis.wanted_pt
    if along > 0:
        title_font = QFont()
        while size > MIN_AXIS_TITLE_PT:
            title_font.setPointSize(size)
            if QFontMetricsF(title_font).horizontalAdvance(text) <= along - 4:
                break
            size -= 1
    if axis.labelStyle.get("font-size") == f"{size}pt":
        return
    axis.fitting = True
    try:
        axis.labelStyle["font-size"] = f"{size}pt"
        axis._updateLabel()
        axis.resizeEvent()  # re-centres the title along the axis
    finally:
        axis.fitting = False


def style_legend(legend: pg.LegendItem, theme: Theme) -> None:
    """Theme a legend: translucent box, readable labels. The labels it has already are redrawn (pyqtgraph's
    setLabelTextColor/Size only reach labels added later). A legend floating over a view box is kept inside it: its
    text is made smaller, down to MIN_LEGEND_PT, while it would stick out, whenever the view is resized or an entry
    is added."""
    legend.setBrush(pg.mkBrush(theme.legend_fill))
    legend.setPen(pg.mkPen(theme.foreground, width=0.5))
    legend.setLabelTextColor(theme.foreground)
    legend.wanted_pt = pt(TICK_PT + 1)
    view = legend.parentItem()
    floating = legend.parentLayoutItem() is None and view is not None and hasattr(view, "sigResized")
    if floating and not getattr(legend, "follows_view", False):
        view.sigResized.connect(lambda *_: fit_legend(legend))
        legend.geometryChanged.connect(lambda: fit_legend(legend))  # an entry added or removed
        legend.follows_view = True
    fit_legend(legend, force=True)


def fit_legend(legend: pg.LegendItem, force: bool = False) -> None:
    """Redraw a legend's labels at its theme's text size, or (a floating legend that would not fit inside its view) in
    fewer columns, or smaller, and size its box to them now (not at the next layout pass). Does nothing when neither
    the view's size nor the entries changed since the last time (unless ``force``d): moving the box must not redraw
    it."""
    if not isValid(legend) or getattr(legend, "fitting", False):
        return  # (a legend being deleted still reports its geometry)
    view = legend.parentItem()
    offset = legend.opts.get("offset") or (0, 0)
    floating = legend.parentLayoutItem() is None and view is not None and hasattr(view, "sigResized")
    room = view.boundingRect().adjusted(0, 0, -abs(offset[0]) - 2, -abs(offset[1]) - 2) if floating else None
    wanted = getattr(legend, "wanted_pt", pt(TICK_PT + 1))
    key = (room.width(), room.height()) if room is not None else None, len(legend.items), wanted
    if not force and key == getattr(legend, "fitted_for", None):
        return
    legend.fitting = True
    try:
        columns = getattr(legend, "wanted_columns", legend.columnCount)
        legend.wanted_columns = columns
        tries = [(size, cols) for size in range(wanted, MIN_LEGEND_PT - 1, -1) for cols in range(columns, 0, -1)]
        for size, cols in tries if floating else [(wanted, columns)]:
            legend.setLabelTextSize(f"{size}pt")
            for _sample, label in legend.items:
                label.setText(label.text)
            if not floating:  # laid out by its layout: pyqtgraph sizes it
                legend.updateSize()
                break
            legend.setColumnCount(cols)
            layout = legend.layout
            layout.invalidate()
            hint = layout.effectiveSizeHint(Qt.SizeHint.PreferredSize)
            layout.setGeometry(QRectF(0, 0, hint.width(), hint.height()))  # lays the entries out at their sizes
            legend.updateSize()
            if room.width() <= 0 or (legend.width() <= room.width() and legend.height() <= room.height()):
                break
        legend.fitted_for = key
    finally:
        legend.fitting = False


def style_text(item: pg.TextItem, theme: Theme, size: int = TICK_PT, bold: bool = False,
               color: str | None = None) -> None:
    """Theme a text item drawn in a plot: its colour (the theme's text colour unless given) and scaled font."""
    item.setColor(color or theme.foreground)
    item.setFont(font(size, bold))
