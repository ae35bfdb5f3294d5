"""The app's artwork. This folder is installed as the package `fer_studio.assets` (see setup.py)."""
from pathlib import Path

APP_ICON = Path(__file__).with_name("fer-studio.svg")  # window and launcher icon
