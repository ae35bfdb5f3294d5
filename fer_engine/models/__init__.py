"""Backbones: the `BACKBONES` registry and `create_model` -> `FerModel`."""
from .backbones import BACKBONES, DEFAULT_REASONS, default_backbone
from .factory import create_model
from .fer_model import FerModel
from .spec import BackboneSpec
from .weights import UnsafeCheckpointError, load_checkpoint_file, load_state_dict_file

__all__ = ["BACKBONES", "DEFAULT_REASONS", "BackboneSpec", "FerModel", "UnsafeCheckpointError", "create_model",
           "default_backbone", "load_checkpoint_file", "load_state_dict_file"]
