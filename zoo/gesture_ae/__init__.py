"""Aud2Repr2Pose (Kucherenko et al. 2019; specs/gesture_ae.md): speech → a motion code of a denoising autoencoder →
3D joints of a 64-node skeleton at 20 fps, with BVH in and out.

61 frames of 26 MFCCs at 20 fps (±1.5 s around each frame; python_speech_features 0.6 bit for bit) → SpeechE
(3 × dense 256, a GRU 256, dense) → the pose (``baseline``: 64 nodes × position and velocity, 384 values) or the
325-dimensional code of a denoising autoencoder trained on the poses first (``proposed``), decoded frame by frame.
The model contract (DESIGN §3):

* ``Config``, ``PRESETS``, ``GOLDEN_PARAMS``, ``preset(name, **overrides)``: ``baseline``, ``proposed``,
  ``genea2020``, ``tiny``; golden parameter counts;
* ``build_model(config)``: SpeechE (Keras);
* ``train(config, data_dir, workdir)``: the DAE then SpeechE on a gesture-layout folder (speech/audio{id}.wav +
  motion/gesture{id}.bvh), split by file (``zoo.core`` trainer);
* ``Predictor.load(model_dir)``: audio alone → positions at 20 fps (``zoo.core.Animation``), BVH/txt/npy writers;
* ``evaluate(model_dir, data_dir, ids)``: APE, MAE, AJ, AA, speed-histogram Hellinger beside the mean pose;
* ``export_model(model_dir, dest)``: SavedModel (TF-Serving) with batch, raw-audio and streaming signatures + TFLite.

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
        from .model import build_model

        return build_model
    raise AttributeError(f"module 'zoo.gesture_ae' has no attribute {name!r}")
