"""Dataset formats, detected automatically or chosen with `data.format` (see `registry`).

Import order is detection order: formats with label files first, plain folders and the
FER2013 CSV last.
"""
from . import affectnet, ckplus, expw, ferplus, jaffe, rafdb  # noqa: F401 - registration
from . import folders  # noqa: F401 - registered last: the fallback layouts
from .registry import FORMATS, DatasetFormat, detect_format

__all__ = ["FORMATS", "DatasetFormat", "detect_format"]
