"""Readability checks on a live window, computed from the colours and sizes actually drawn: WCAG contrast of every
text (plot titles, axis titles and ticks, legend labels, text items, Qt labels) against what is behind it, and
whether a plot's text fits inside its view. Shared by the theme and presentation tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPalette
from PySide6.QtWidgets import QAbstractButton, QGraphicsTextItem, QLabel, QWidget

WCAG_AA = 4.5
_WORDS = re.compile(r"\w")  # a fragment with no letter or digit ("━", "●") is a colour swatch, not text


def relative_luminance(colour: QColor) -> float:
    """WCAG 2.x relative luminance of an opaque sRGB colour."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF()) + 0.0722 * linear(colour.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio (1 to 21) of two opaque colours."""
    return luminance_contrast(relative_luminance(a), relative_luminance(b))


def luminance_contrast(a, b):
    """WCAG contrast ratio of two relative luminances (floats or arrays, elementwise)."""
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


@dataclass
class Text:
    """One text drawn: where (for messages), its colour and the opaque colours behind it ((n, 3) floats in [0, 1])."""

    where: str
    text: str
    colour: QColor
    behind: np.ndarray

    def contrast(self) -> float:
        """The contrast the text has on the background behind most of it: the 5th percentile over the pixels
        behind it (a grid line or a curve's edge under a legend is not the background)."""
        rgb = np.array([self.colour.redF(), self.colour.greenF(), self.colour.blueF()])
        a = self.colour.alphaF()
        ratio = luminance_contrast(luminance(a * rgb[None, :] + (1 - a) * self.behind), luminance(self.behind))
        return float(np.percentile(ratio, 5))


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of each sRGB colour of an (..., 3) array of floats in [0, 1]."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def _one(colour: QColor) -> np.ndarray:
    return np.array([[colour.redF(), colour.greenF(), colour.blueF()]])


def _fragments(item: QGraphicsTextItem) -> list[tuple[str, QColor]]:
    """(text, colour) of each run of a text item's document (its default colour where a run sets none)."""
    out = []
    block = item.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            brush = fragment.charFormat().foreground()
            colour = brush.color() if brush.style() != Qt.BrushStyle.NoBrush else item.defaultTextColor()
            out.append((fragment.text(), colour))
            it += 1
        block = block.next()
    return out


def _view_background(view: pg.GraphicsView) -> QColor:
    brush = view.backgroundBrush()
    if brush.style() == Qt.BrushStyle.NoBrush:
        return view.palette().color(QPalette.ColorRole.Window)
    return brush.color()


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


def graphics_views(window: QWidget) -> list[pg.GraphicsView]:
    """The plot widgets of ``window`` that are on screen (not in a hidden tab or a collapsed panel)."""
    views = ([window] if isinstance(window, pg.GraphicsView) else []) + window.findChildren(pg.GraphicsView)
    return [v for v in views if _shown(v)]


def _pixels_without_text(view: pg.GraphicsView, texts: list[QGraphicsTextItem]) -> np.ndarray:
    """The view drawn with its text hidden, as an (h, w, 3) array of floats: what is behind each text."""
    for item in texts:
        item.setVisible(False)
    try:
        return pixels(view.viewport())
    finally:
        for item in texts:
            item.setVisible(True)


def pixels(widget: QWidget) -> np.ndarray:
    """``widget`` as drawn, an (h, w, 3) array of floats in [0, 1]."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * height)
    return rows.reshape(height, image.bytesPerLine())[:, : 3 * width].reshape(height, width, 3) / 255.0


def plot_texts(view: pg.GraphicsView) -> list[Text]:
    """Every text a plot widget draws, against the pixels behind it: its text items (titles, axis titles, legend
    labels, text items) by the runs of their documents, and the tick labels of its axes against the background."""
    name = view.objectName() or type(view).__name__
    scene_items = view.scene().items()
    texts = [i for i in scene_items if isinstance(i, QGraphicsTextItem) and i.isVisible() and i.toPlainText().strip()]
    pixels = _pixels_without_text(view, texts)
    out = []
    for item in texts:
        margin = item.document().documentMargin()  # blank space around the words, not behind them
        words = item.mapRectToScene(item.boundingRect().adjusted(margin, margin, -margin, -margin))
        box = view.mapFromScene(words).boundingRect().intersected(view.viewport().rect())
        if box.isEmpty():
            continue
        behind = pixels[box.top(): box.bottom() + 1, box.left(): box.right() + 1].reshape(-1, 3)
        for text, colour in _fragments(item):
            if _WORDS.search(text):
                out.append(Text(f"{name}: {text!r}", text, colour, behind))
    base = _one(_view_background(view))
    for item in scene_items:
        if isinstance(item, pg.AxisItem) and item.isVisible() and item.style["showValues"]:
            out.append(Text(f"{name}: ticks of the {item.orientation} axis", "ticks", item.textPen().color(), base))
    return out


def widget_texts(window: QWidget) -> list[Text]:
    """The enabled labels, check boxes and buttons of ``window`` that show text, against their window colour."""
    out = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, (QLabel, QAbstractButton)) or not _shown(widget) or not widget.isEnabled():
            continue
        text = widget.text()
        if not _WORDS.search(text or ""):
            continue
        palette = widget.palette()
        fg = palette.color(widget.foregroundRole())
        bg = palette.color(widget.backgroundRole())
        out.append(Text(f"{type(widget).__name__} {widget.objectName()!r}: {text!r}", text, fg, _one(bg)))
    return out


def low_contrast(window: QWidget, minimum: float = WCAG_AA) -> list[str]:
    """Every text of ``window`` (plots and Qt labels) whose contrast is below ``minimum``, as messages."""
    texts = [t for v in graphics_views(window) for t in plot_texts(v)] + widget_texts(window)
    return [f"{t.where}: {t.contrast():.2f}:1 ({t.colour.name(QColor.NameFormat.HexArgb)} on "
            f"{QColor.fromRgbF(*np.median(t.behind, axis=0)).name()})" for t in texts if t.contrast() < minimum]


def text_width(item: QGraphicsTextItem) -> float:
    """The width of a text item's words in the fonts its runs are drawn in (not counting the document's margin or
    trailing blanks)."""
    width = 0.0
    block = item.document().begin()
    while block.isValid():
        line, it = 0.0, block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            line += QFontMetricsF(fragment.charFormat().font()).horizontalAdvance(fragment.text())
            it += 1
        trailing = len(block.text()) - len(block.text().rstrip())
        if trailing:
            line -= QFontMetricsF(block.charFormat().font()).horizontalAdvance(" ") * trailing
        width = max(width, line)
        block = block.next()
    return width


def clipped(window: QWidget, slack: float = 1.0) -> list[str]:
    """Plot text that does not fit its view, as messages: an axis title longer than its axis, a plot title wider
    than its plot, a legend sticking out of its view box or a legend label cut by its legend, a text item outside
    its view."""
    problems = []
    for view in graphics_views(window):
        name = view.objectName() or type(view).__name__
        visible = view.mapToScene(view.viewport().rect()).boundingRect().adjusted(-slack, -slack, slack, slack)
        for item in view.scene().items():
            if not item.isVisible():
                continue
            if isinstance(item, pg.AxisItem) and item.label.isVisible() and item.labelText:
                along = item.size().width() if item.orientation in ("top", "bottom") else item.size().height()
                width = text_width(item.label)
                if width > along + slack:
                    problems.append(f"{name}: axis title {item.label.toPlainText()!r} is {width:.0f} px "
                                    f"on a {along:.0f}-px {item.orientation} axis")
            elif isinstance(item, pg.PlotItem) and item.titleLabel.isVisible() and item.titleLabel.text:
                width = text_width(item.titleLabel.item)
                if width > item.size().width() + slack:
                    problems.append(f"{name}: title {item.titleLabel.item.toPlainText()!r} is {width:.0f} px "
                                    f"in a {item.size().width():.0f}-px plot")
            elif isinstance(item, pg.LegendItem) and item.items:
                box = item.sceneBoundingRect()
                area = item.parentItem().sceneBoundingRect() if item.parentItem() is not None else visible
                area = area.adjusted(-slack, -slack, slack, slack).intersected(visible)
                if not area.contains(box):
                    problems.append(f"{name}: legend {[lab.text for _s, lab in item.items]} at {box.getRect()} "
                                    f"leaves its view {area.getRect()}")
                for _sample, label in item.items:
                    text = label.item.sceneBoundingRect()
                    if label.isVisible() and not box.adjusted(-slack, -slack, slack, slack).contains(text):
                        problems.append(f"{name}: legend label {label.item.toPlainText()!r} is cut by its legend")
                    if label.isVisible() and label.size().width() + slack < text_width(label.item):
                        problems.append(f"{name}: legend label {label.item.toPlainText()!r} is "
                                        f"{text_width(label.item):.0f} px in a {label.size().width():.0f}-px slot")
            elif isinstance(item, pg.TextItem) and item.textItem.toPlainText().strip():
                if not visible.contains(item.sceneBoundingRect()):
                    problems.append(f"{name}: text {item.textItem.toPlainText()!r} runs out of its view")
    return problems
