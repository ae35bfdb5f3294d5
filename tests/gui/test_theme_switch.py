"""View -> Dark theme and back: plots keep their scale and every label follows the theme (issue #20, item 6)."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from fer_studio import theme
from fer_studio.app import create_window
from fer_studio.run_curves import RunCurves
from fer_studio.settings import Settings


def _lightness(widget) -> int:
    return widget.grab().toImage().pixelColor(5, widget.height() - 5).lightness()


def test_theme_round_trip_keeps_axes_unscaled_and_text_in_the_theme_colour(qtbot):
    window = create_window(Settings.load())
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    plots = window.pages["training"].plots
    c = RunCurves(run_id="r", name="run r")
    c.epoch_x["val_acc"] = [1.0, 2.0, 3.0]
    c.epoch_y["val_acc"] = [0.2, 0.5, 0.9]
    c.epoch_x["val_f1"] = [1.0, 2.0, 3.0]
    c.epoch_y["val_f1"] = [0.2, 0.5, 0.9]
    c.step_x, c.step_lr = [0.5, 1.0, 2.0], [0.002, 0.0015, 0.0001]
    plots.set_runs([(c, "run r")])
    for p in plots.plots.values():
        p.autoRange()
    qtbot.wait(50)
    light_sidebar = _lightness(window.sidebar)
    try:
        for name in ("dark", "light", "dark"):
            window.set_theme(name)
            qtbot.wait(50)
            fg = theme.colour("plot_fg")
            for key, p in plots.plots.items():
                item = p.getPlotItem()
                for side in ("left", "bottom"):
                    axis = item.getAxis(side)
                    assert axis.autoSIPrefixScale == 1.0 and axis.labelUnitPrefix == "", (key, side, name)
                assert fg.lower() in item.titleLabel.item.toHtml().lower(), (key, name)
                for _, label in item.legend.items:
                    assert fg.lower() in label.item.toHtml().lower(), (key, name)
            base = window.sidebar.palette().color(QPalette.Base).lightness()
            assert (base < 100) == (name == "dark"), name
            shot = _lightness(window.sidebar)
            assert (shot < 100) == (name == "dark"), (name, shot)
        assert light_sidebar > 150
    finally:
        theme.apply_theme(QApplication.instance(), "light")
        for page in window.pages.values():
            getattr(page, "shutdown", lambda: None)()


def test_check_boxes_are_framed_visibly_in_both_themes(qtbot):
    """Fusion outlines check boxes in the window colour darkened: on the dark base the Studies
    page's trick list showed no boxes at all."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QListWidget, QListWidgetItem

    tricks = QListWidget()
    qtbot.addWidget(tricks)
    item = QListWidgetItem("Horizontal flip  (hflip)")
    item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
    item.setCheckState(Qt.Unchecked)
    tricks.addItem(item)
    tricks.resize(300, 80)
    tricks.show()
    qtbot.waitExposed(tricks)
    try:
        for name in ("dark", "light"):
            theme.apply_theme(QApplication.instance(), name)
            qtbot.wait(20)
            row = tricks.visualItemRect(item)
            image = tricks.viewport().grab().toImage()
            base = QColor(theme.colour("base")).lightness()
            contrast = max(abs(image.pixelColor(x, y).lightness() - base)
                           for x in range(row.left(), row.left() + 24) for y in range(row.top(), row.bottom()))
            assert contrast > 60, (name, contrast)
    finally:
        theme.apply_theme(QApplication.instance(), "light")
