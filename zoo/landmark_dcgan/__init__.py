"""Speech → 68 facial landmarks (CNN) → face images (conditional DCGAN) (Li, Tang, Tao, Xu 2017, "Speech-Driven
Facial Animation by CNN-RNN-GAN Model"; specs/landmark_dcgan.md), chained end to end into a talking-face video.

A 60 ms window of 48 kHz audio every 30 ms as 23 chunks × 128 FFT magnitudes → a CNN (8 convolutions, 3 dense
layers; 276,104 parameters) → 68 (x, y) points min–max normalised to [0, 1]; a conditional DCGAN G(z, landmarks)
→ an S×S face (256² faithful: G 9,250,779 and D 9,660,388 parameters; 128², 64² for CPUs). The model contract
(DESIGN §3):

* ``Config``, ``PRESETS``, ``GOLDEN_PARAMS``, ``preset(name, **overrides)``: ``original``, ``report`` (with the GRU
  the original never applied), ``gan128``, ``gan64``, ``tiny``; golden parameter counts;
* ``build_model(config)``: the landmark CNN (Keras);
* ``train(config, data_dir, workdir)``: landmarks extracted from the videos of a RAVDESS-layout folder (dlib), the
  CNN then the GAN, split by actor (``zoo.core`` trainer);
* ``Predictor.load(model_dir)``: audio → landmarks at 100/3 fps (``zoo.core.Animation``), landmarks → faces, and the
  talking-face video with the audio muxed;
* ``evaluate(model_dir, data_dir, stems)``: landmark MSE/LMD/mouth-opening r beside the mean-landmark baseline and a
  shuffled-audio control; PSNR/SSIM and dlib's consistency of the generated faces;
* ``export_model(model_dir, dest)``: SavedModel (TF-Serving) with feature, raw-audio and generator signatures +
  TFLite.

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
    raise AttributeError(f"module 'zoo.landmark_dcgan' has no attribute {name!r}")
