"""Audio2Face: Karras et al. 2017 as done by FACEGOOD (specs/audio2face.md).

LPC (or autocorrelation) features of 520 ms windows at 30 fps → formant and articulation
convolutions with an emotion vector → named blendshape weights. Entry points:

* ``Config``, ``PRESETS``, ``preset(name)``: hyperparameters (paper, facegood_tf2, facegood_tfv1, tiny);
* ``build_model(config)``: the Keras network;
* ``train(config, data_dir, workdir)``: training on a FACEGOOD-layout folder;
* ``Predictor.load(model_dir)`` / ``predict(model_dir, audio)``: audio → ``Animation`` at 30 fps;
* ``evaluate(model_dir, data_dir)``: held-out metrics against the mean pose;
* ``export_model(model_dir, dest)``: SavedModel (TF-Serving) + TFLite with parity.

Importing this package does not import TensorFlow; the names above that need it load it on use.
"""
from __future__ import annotations

from .config import GOLDEN_PARAMS, PRESETS, Config, preset
from .export import export_model
from .predict import Animation, Predictor, Streamer, evaluate, predict
from .train import train

__all__ = ["Config", "PRESETS", "GOLDEN_PARAMS", "preset", "build_model", "Audio2Face", "train", "Predictor",
           "Animation", "Streamer", "predict", "evaluate", "export_model"]


def __getattr__(name):
    if name in ("build_model", "Audio2Face"):  # Keras: loaded on first use
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'zoo.audio2face' has no attribute {name!r}")
