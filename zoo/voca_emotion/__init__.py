"""VOCA + emotion (Cudeiro et al. 2019; specs/voca.md): speech → per-vertex offsets of a face mesh, conditioned on a
training subject's speaking style, without DeepSpeech.

Speech features (29 MFCC or log-mel coefficients at 16 kHz, resampled to 60 fps and cut into 16-frame windows)
→ the released network's encoder (one-scalar input BatchNorm, subject one-hot before conv1 and fc1, four stride-2
convs, fc 128 tanh, fc E) → a PCA-initialised linear decoder → offsets added to a template. The model contract
(DESIGN §3):

* ``Config``, ``PRESETS``, ``GOLDEN_PARAMS``, ``preset(name, **overrides)``: ``voca``, ``ravdess``, ``synthetic``,
  ``tiny``; golden parameter counts;
* ``build_model(config)``: the Keras network;
* ``train(config, data_dir, workdir)``: training on a VOCASET-layout folder (``zoo.core`` trainer);
* ``Predictor.load(model_dir)``: audio → vertices at 60 fps (``zoo.core.Animation`` of the flattened meshes);
* ``evaluate(model_dir, data_dir)``: LVE, FDD, mean vertex error and lip-opening r beside the static template;
* ``export_model(model_dir, dest)``: SavedModel (TF-Serving) + TFLite with parity.

Subjects are 0-based everywhere. Importing this package does not import TensorFlow; the names above that need it
load it on use.
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
    raise AttributeError(f"module 'zoo.voca_emotion' has no attribute {name!r}")
