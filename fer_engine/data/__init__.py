"""Datasets: folder layouts and the FER2013 CSV decoded once into cached uint8 arrays.

`load_dataset(cfg, progress, should_stop)` is what training and evaluation call;
`decode_image` is the one image conversion shared with analysis and the live page;
`load_face(source, size, channels)` reads one face by its `sources` entry (file or CSV row);
`dataset_report` (in `report`) checks a dataset for duplicates, conflicts and blanks.
Progress and stop follow `fer_engine.progress` (a stop raises `progress.Cancelled`).
"""
from .arrays import DatasetArrays
from .errors import DatasetError
from .images import IMAGE_SUFFIXES, ImageDecodeError, decode_image
from .loader import load_dataset
from .sources import load_face

__all__ = ["DatasetArrays", "DatasetError", "IMAGE_SUFFIXES", "ImageDecodeError",
           "decode_image", "load_dataset", "load_face"]
