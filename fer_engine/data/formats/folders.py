"""The plain layouts: class folders, split folders, Kaggle FER2013 folders (see `layouts`), and
the FER2013 CSV file (read whole by `fer_csv`)."""
from __future__ import annotations

from pathlib import Path

from ...config import DataConfig
from ..layouts import Listing, scan_folder
from .registry import DatasetFormat, register


def _scan(root: Path, cfg: DataConfig) -> Listing:
    return scan_folder(root, cfg.label_map)


def _is_csv(source: Path) -> bool:
    return source.is_file()


def _is_folder(source: Path) -> bool:
    return source.is_dir()


register(DatasetFormat("fer2013_csv", "FER2013 CSV", _is_csv, None, "fer2013",
                       "emotion,pixels[,Usage] rows of 48x48 gray pixels"))
register(DatasetFormat("folders", "Class folders", _is_folder, _scan, "",
                       "class folders, train/val/test split folders or Kaggle FER2013 folders; "
                       "digit-named class folders need data.label_map"))
