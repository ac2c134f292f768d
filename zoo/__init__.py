"""speech-anim-zoo: TF2/Keras reimplementations of five speech-driven animation methods.

Public API: ``zoo.models()``, ``zoo.load(name_or_path)``, ``zoo.__version__``.
Importing ``zoo`` does not import TensorFlow.
"""
from __future__ import annotations

import os
from pathlib import Path

from ._version import __version__
from .registry import MODELS, ModelInfo

__all__ = ["__version__", "models", "load", "ModelInfo"]


def models() -> list[ModelInfo]:
    """The five methods with their status in this checkout."""
    return list(MODELS)


def load(name_or_path: str | os.PathLike):
    """Load an exported model (a folder written by ``zoo.export.export``).

    Returns ``zoo.export.ExportedModel``: the SavedModel's signatures plus its output
    names and metadata. Pretrained presets by model name arrive with the models; asking
    for one that has none raises ``LookupError``.
    """
    from . import registry

    path = Path(name_or_path)
    if path.exists():
        from .export import ExportedModel

        return ExportedModel.load(path)
    info = registry.get(str(name_or_path))  # KeyError for an unknown name
    raise LookupError(f"{info.name} has no pretrained preset in this checkout (status: {info.status})")
