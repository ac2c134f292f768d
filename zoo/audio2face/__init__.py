"""Audio2Face: Karras et al. 2017 as done by FACEGOOD (specs/audio2face.md).

LPC (or autocorrelation) features of 520 ms windows at 30 fps → formant and articulation
convolutions with an emotion vector → named blendshape weights. The model contract (DESIGN §3):

* ``Config``, ``PRESETS``, ``GOLDEN_PARAMS``, ``preset(name, **overrides)``: hyperparameters (paper,
  facegood_tf2, facegood_tfv1, tiny) and golden parameter counts;
* ``build_model(config)``: the Keras network;
* ``train(config, data_dir, workdir)``: training on a FACEGOOD-layout folder (``zoo.core`` trainer);
* ``Predictor.load(model_dir)``: audio → ``zoo.core.Animation`` at 30 fps; ``Predictor.streamer()``: streaming;
* ``evaluate(model_dir, data_dir)``: held-out metrics against the mean pose;
* ``export_model(model_dir, dest)``: SavedModel (TF-Serving) + TFLite with parity.

Importing this package does not import TensorFlow; the names above that need it load it on use.
"""
from __future__ import annotations

from .config import GOLDEN_PARAMS, PRESETS, Config, preset
from .export import export_model
from .predict import Predictor, evaluate
from .train import train

__all__ = ["Config", "PRESETS", "GOLDEN_PARAMS", "preset", "build_model", "train", "Predictor", "evaluate",
           "export_model"]


def __getattr__(name):
    if name == "build_model":  # Keras: loaded on first use
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'zoo.audio2face' has no attribute {name!r}")
