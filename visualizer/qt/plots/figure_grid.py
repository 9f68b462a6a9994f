"""Several figures as one: a dashboard or an animation frame is its plots laid out in a grid, each drawn as a figure
at its cell's size (never a grab of the widgets on screen), with an optional caption above them."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from visualizer.qt.plots.export import figure_image, figure_svg, is_figure

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
GAP = 4  # pixels between cells


def _text_colour(background: QColor) -> QColor:
    return QColor("#202124") if background.lightness() >= 128 else QColor("#e3e3e3")


class FigureGrid:
    """Figures (plot widgets, figure objects) or notes (str: a line saying why a part is missing) in ``columns``
    columns, drawn into one image or SVG of any size; ``caption`` is a line of text above them."""

    def __init__(self, cells: list, columns: int = 2, caption: str = "", background: str = "#ffffff") -> None:
        bad = [type(c).__name__ for c in cells if not (isinstance(c, str) or is_figure(c))]
        if bad:
            raise TypeError(f"a figure grid holds figures and notes, not {', '.join(bad)}")
        if columns < 1:
            raise ValueError(f"columns must be at least 1, got {columns}")
        self.cells = list(cells)
        self.columns = min(columns, max(len(self.cells), 1))
        self.caption = caption
        self.background = QColor(background)

    @property
    def figures(self) -> list:
        """The figures drawn (not the notes)."""
        return [c for c in self.cells if not isinstance(c, str)]

    def caption_font(self, height: int) -> QFont:
        font = QFont()
        font.setPointSizeF(max(9.0, min(16.0, height / 55)))
        return font

    def layout(self, width: int, height: int) -> tuple[QRect | None, list[QRect]]:
        """The caption's rectangle (None without one) and each cell's, filling width x height."""
        top = 0
        caption = None
        if self.caption:
            top = QFontMetrics(self.caption_font(height)).height() + 2 * GAP
            caption = QRect(0, 0, width, top)
        rows = max(math.ceil(len(self.cells) / self.columns), 1)
        xs = [round(k * (width + GAP) / self.columns) for k in range(self.columns + 1)]
        ys = [top + round(k * (height - top + GAP) / rows) for k in range(rows + 1)]
        rects = []
        for i in range(len(self.cells)):
            r, c = divmod(i, self.columns)
            rects.append(QRect(xs[c], ys[r], max(xs[c + 1] - xs[c] - GAP, 1), max(ys[r + 1] - ys[r] - GAP, 1)))
        return caption, rects

    def figure_image(self, width: int, height: int) -> QImage:
        """Every cell drawn at its size into one image of width x height."""
        image = QImage(width, height, QImage.Format.Format_ARGB32)
        image.fill(self.background)
        caption, rects = self.layout(width, height)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.setPen(_text_colour(self.background))
            if caption is not None:
                painter.setFont(self.caption_font(height))
                painter.drawText(caption, Qt.AlignmentFlag.AlignCenter, self.caption)
            painter.setFont(QFont())
            for cell, rect in zip(self.cells, rects):
                if isinstance(cell, str):
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, cell)
                else:
                    painter.drawImage(rect.topLeft(), figure_image(cell, rect.width(), rect.height()))
        finally:
            painter.end()
        return image

    def figure_svg(self, width: int, height: int) -> bytes:
        """Every cell as vector graphics: each plot's own SVG nested at its place, notes and caption as text."""
        ET.register_namespace("", SVG)
        ET.register_namespace("xlink", XLINK)
        root = ET.Element(f"{{{SVG}}}svg", {"width": str(width), "height": str(height), "version": "1.1",
                                             "viewBox": f"0 0 {width} {height}"})
        ET.SubElement(root, f"{{{SVG}}}rect", {"width": "100%", "height": "100%", "fill": self.background.name()})
        colour = _text_colour(self.background).name()
        caption, rects = self.layout(width, height)
        if caption is not None:
            self._text(root, caption, self.caption, colour, self.caption_font(height).pointSizeF())
        for cell, rect in zip(self.cells, rects):
            if isinstance(cell, str):
                self._text(root, rect, cell, colour, QFont().pointSizeF())
                continue
            child = ET.fromstring(figure_svg(cell, rect.width(), rect.height()))
            child.attrib.update({"x": str(rect.x()), "y": str(rect.y()), "width": str(rect.width()),
                                 "height": str(rect.height())})
            child.attrib.setdefault("viewBox", f"0 0 {rect.width()} {rect.height()}")
            root.append(child)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")

    @staticmethod
    def _text(root: ET.Element, rect: QRect, text: str, colour: str, size_pt: float) -> None:
        node = ET.SubElement(root, f"{{{SVG}}}text", {
            "x": str(rect.center().x()), "y": str(rect.center().y()), "fill": colour, "text-anchor": "middle",
            "dominant-baseline": "middle", "font-size": f"{size_pt:g}pt", "font-family": "sans-serif"})
        node.text = text  # (ElementTree escapes it)
