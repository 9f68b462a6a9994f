"""Colours, fonts and axis styling shared by the plot classes (light and dark themes)."""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

LABEL_PT = 11
TICK_PT = 9
TITLE_PT = 12

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
        axis.setPen(pg.mkPen(fg, width=line(1)))
        axis.setTextPen(pg.mkPen(fg))
        axis.setStyle(tickFont=font(TICK_PT), tickTextOffset=4, maxTickLevel=1)
        axis.enableAutoSIPrefix(False)  # "(x0.001)" after a unitless title only confuses
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


def style_legend(legend: pg.LegendItem, theme: Theme) -> None:
    """Theme a legend: translucent box, readable labels."""
    legend.setBrush(pg.mkBrush(theme.legend_fill))
    legend.setPen(pg.mkPen(theme.foreground, width=0.5))
    legend.setLabelTextColor(theme.foreground)
    legend.setLabelTextSize(f"{pt(TICK_PT + 1)}pt")
