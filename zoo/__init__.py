"""speech-anim-zoo: TF2/Keras reimplementations of five speech-driven animation methods.

Public API: ``zoo.models()``, ``zoo.load(name_or_path)``, ``zoo.__version__``.
Importing ``zoo`` does not import TensorFlow.
"""
from __future__ import annotations

import os
from pathlib import Path

from ._version import __version__
from .registry import MODELS, ModelInfo

__all__ = ["__version__", "models", "load", "pretrained_presets", "ModelInfo"]


def models() -> list[ModelInfo]:
    """The five methods with their status in this checkout."""
    return list(MODELS)


PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"


def pretrained_presets(model: str) -> list[str]:
    """Names of the pretrained presets of ``model`` in this checkout (``pretrained/<model>/<preset>/``)."""
    folder = PRETRAINED / model
    return sorted(p.name for p in folder.iterdir() if (p / "config.json").is_file()) if folder.is_dir() else []


def load(name_or_path: str | os.PathLike):
    """Load a model.

    * a folder written by ``zoo.export.export`` (SavedModel) → ``zoo.export.ExportedModel``;
    * a model directory (config.json + model.weights.h5 + metadata.json naming the model) or a
      pretrained preset ``"<model>/<preset>"`` (``"<model>"`` takes its first preset) → that
      model's ``Predictor``.

    An unknown model is a ``KeyError``; a model without pretrained presets a ``LookupError``.
    """
    import importlib

    from . import registry

    path = Path(name_or_path)
    if path.exists():
        if (path / "config.json").is_file() and (path / "metadata.json").is_file():
            from .core.modeldir import model_of

            model = model_of(path)  # the Predictor's load verifies the files
            registry.get(str(model))  # KeyError for a folder of an unknown model
            return importlib.import_module(f"zoo.{model}").Predictor.load(path)
        from .export import ExportedModel

        return ExportedModel.load(path)
    name, _, preset = str(name_or_path).partition("/")
    info = registry.get(name)  # KeyError for an unknown name
    presets = pretrained_presets(info.name)
    if not presets:
        raise LookupError(f"{info.name} has no pretrained preset in this checkout (status: {info.status})")
    if preset and preset not in presets:
        raise LookupError(f"{info.name} has no pretrained preset {preset!r}; presets: {presets}")
    return importlib.import_module(f"zoo.{info.name}").Predictor.load(PRETRAINED / info.name / (preset or presets[0]))
