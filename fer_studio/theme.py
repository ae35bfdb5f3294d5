"""Light and dark themes: a Fusion palette for Qt widgets and matching pyqtgraph colours."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

_COLOURS = {
    "light": {"window": "#f4f4f6", "base": "#ffffff", "text": "#1e1e24", "button": "#e8e8ec",
              "highlight": "#2f6fde", "plot_bg": "#ffffff", "plot_fg": "#303038", "muted": "#8a8a96",
              "frame": "#a0a0aa"},
    "dark": {"window": "#26262b", "base": "#1c1c20", "text": "#e6e6ea", "button": "#34343a",
             "highlight": "#4f8ff7", "plot_bg": "#1c1c20", "plot_fg": "#d0d0d8", "muted": "#8c8c98",
             "frame": "#8c8c98"},
}

#: Distinct, colour-blind-friendly series colours (Okabe-Ito, with blue first).
SERIES = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999"]

_current = "light"


def current() -> str:
    return _current


def colour(role: str) -> str:
    return _COLOURS[_current][role]


def series_colour(i: int) -> str:
    return SERIES[i % len(SERIES)]


class _Style(QProxyStyle):
    """Fusion, with check boxes framed in the palette's Mid colour (the theme's "frame"): Fusion
    outlines them in the window colour darkened, which vanishes on a dark base (the Studies
    page's trick list showed no boxes at all in the dark theme)."""

    def __init__(self):
        super().__init__("Fusion")

    def drawPrimitive(self, element, option, painter, widget=None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element == QStyle.PE_IndicatorCheckBox:
            painter.save()
            painter.setPen(option.palette.color(QPalette.Mid))
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()


def apply_theme(app: QApplication, name: str) -> None:
    """Switch the app (and every existing plot) to the light or dark theme."""
    global _current
    _current = name if name in _COLOURS else "light"
    c = _COLOURS[_current]
    if not isinstance(app.style(), _Style):
        app.setStyle(_Style())  # the application owns it
    pal = QPalette()
    for role, key in ((QPalette.Window, "window"), (QPalette.Base, "base"),
                      (QPalette.AlternateBase, "window"), (QPalette.Button, "button"),
                      (QPalette.Highlight, "highlight"), (QPalette.ToolTipBase, "base")):
        pal.setColor(role, QColor(c[key]))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText, QPalette.ToolTipText):
        pal.setColor(role, QColor(c["text"]))
    for role in (QPalette.Mid, QPalette.Dark, QPalette.Shadow):  # frame outlines (check boxes: _Style)
        pal.setColor(role, QColor(c["frame"]))
    pal.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.PlaceholderText, QColor(c["muted"]))
    pal.setColor(QPalette.Disabled, QPalette.Text, QColor(c["muted"]))
    pal.setColor(QPalette.Disabled, QPalette.ButtonText, QColor(c["muted"]))
    pal.setColor(QPalette.Disabled, QPalette.WindowText, QColor(c["muted"]))
    app.setPalette(pal)
    # no antialiasing: live plots repaint often and must stay cheap on the GUI thread
    pg.setConfigOptions(background=c["plot_bg"], foreground=c["plot_fg"], antialias=False)
    for w in app.allWidgets():
        if isinstance(w, pg.PlotWidget):
            style_plot(w)
        elif w.styleSheet():  # a widget with its own style sheet keeps the old palette until re-polished
            w.style().unpolish(w)
            w.style().polish(w)
            w.update()


def style_plot(plot: pg.PlotWidget) -> None:
    """Give a plot the current theme's background and axis colours."""
    c = _COLOURS[_current]
    plot.setBackground(c["plot_bg"])
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.enableAutoSIPrefix(False)  # "accuracy (x0.001)" over 150 ... reads wrong
        # pyqtgraph's update ignores the flag and rescales a visible label's axis (accuracy 200-900)
        axis.autoSIPrefixScale, axis.labelUnitPrefix = 1.0, ""
        axis.setStyle(maxTickLevel=1)  # major and minor ticks: a lighter grid, faster to paint
        axis.setPen(pg.mkPen(c["plot_fg"]))
        axis.setTextPen(pg.mkPen(c["plot_fg"]))
        axis.picture = None  # repaint the tick labels at the restored scale
        axis.update()
    item.titleLabel.setAttr("color", c["plot_fg"])
    if item.titleLabel.isVisible() and item.titleLabel.text:
        item.titleLabel.setText(item.titleLabel.text, color=c["plot_fg"])  # re-render in the new colour
    if item.legend is not None:
        item.legend.setLabelTextColor(c["plot_fg"])
        for _, label in item.legend.items:
            label.setText(label.text)  # re-render in the new colour
        fill = QColor(c["plot_bg"])
        fill.setAlpha(200)
        item.legend.setBrush(pg.mkBrush(fill))

THEMES = tuple(_COLOURS)
