"""The widgets' themes: light, dark and the high-contrast theme of presentation mode (the plots take their colours
from visualizer.qt.plots._style, under the same names, through each window's set_theme)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory

THEMES = ("light", "dark", "contrast")

_DARK = {
    QPalette.ColorRole.Window: "#2b2d31",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1f2023",
    QPalette.ColorRole.AlternateBase: "#2f3136",
    QPalette.ColorRole.ToolTipBase: "#3a3c42",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#35373c",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#3d7cc9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6aa9ff",
    QPalette.ColorRole.PlaceholderText: "#8a8d93",
}

#: presentation mode: black and white, yellow selection, for projectors and shared screens
_CONTRAST = {
    QPalette.ColorRole.Window: "#000000",
    QPalette.ColorRole.WindowText: "#ffffff",
    QPalette.ColorRole.Base: "#000000",
    QPalette.ColorRole.AlternateBase: "#1a1a1a",
    QPalette.ColorRole.ToolTipBase: "#000000",
    QPalette.ColorRole.ToolTipText: "#ffffff",
    QPalette.ColorRole.Text: "#ffffff",
    QPalette.ColorRole.Button: "#1a1a1a",
    QPalette.ColorRole.ButtonText: "#ffffff",
    QPalette.ColorRole.BrightText: "#ffd60a",
    QPalette.ColorRole.Highlight: "#ffd60a",
    QPalette.ColorRole.HighlightedText: "#000000",
    QPalette.ColorRole.Link: "#00e5ff",
    QPalette.ColorRole.PlaceholderText: "#bfbfbf",
}


class _OutlinedIndicators(QProxyStyle):
    """Fusion, with check boxes and radio buttons outlined in the text colour: Fusion outlines them in a darker shade
    of the window colour, which on the black of the contrast theme leaves an unchecked box invisible."""

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # Qt override
        super().drawPrimitive(element, option, painter, widget)
        if element not in (QStyle.PrimitiveElement.PE_IndicatorCheckBox,
                           QStyle.PrimitiveElement.PE_IndicatorRadioButton):
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(option.palette.color(QPalette.ColorRole.WindowText), 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(1, 1, -1, -1)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRect(rect)
        painter.restore()


def apply_theme(app: QApplication, name: str) -> None:
    """Fusion style with the standard light palette, a dark palette with readable disabled text, or the
    high-contrast palette of presentation mode."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    fusion = QStyleFactory.create("Fusion")
    if name in ("dark", "contrast"):
        palette = QPalette()
        for role, colour in (_DARK if name == "dark" else _CONTRAST).items():
            palette.setColor(role, QColor(colour))
        for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7d8087"))
    else:
        palette = fusion.standardPalette()
    # the palette first, then the style: a new style polishes every widget again, and a widget with a style sheet
    # (the idle hint's frame, the tool windows' status lines) takes its colours at that polish; polished before the
    # palette changed, the idle hint kept the light theme's black text on presentation mode's black
    app.setPalette(palette)
    app.setStyle(_OutlinedIndicators(fusion) if name == "contrast" else fusion)
