"""EveNet (hansonrobotics/EveNet, specs/evenet.md): an autoregressive WaveNet over facial shape-key frames.

Conditioned per frame on a phoneme category (56, SIL = 47) and an emotion category, it generates shape keys at
48 fps from a label schedule; this project drives it from text (espeak-ng) or from speech with its transcript
(aligned). The model contract (DESIGN §3):

* ``Config``, ``PRESETS``, ``GOLDEN_PARAMS``, ``preset(name, **overrides)``: lineages A (``master``), B
  (``softmax``), C (``keysampling``) and ``tiny``; golden receptive fields and parameter counts;
* ``build_model(config)``: the Keras WaveNet;
* ``train(config, data_dir, workdir)``: training on an EveNet-layout folder (``zoo.core`` trainer);
* ``Predictor.load(model_dir)``: text or speech + transcript → ``zoo.core.Animation`` at 48 fps;
  ``Predictor.streamer()``: live generation, one frame a call;
* ``evaluate(model_dir, data_dir)``: held-out teacher-forced and free-running measures;
* ``export_model(model_dir, dest)``: SavedModel (TF-Serving) + the ``step`` signature as TFLite, with parity.

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
    raise AttributeError(f"module 'zoo.evenet' has no attribute {name!r}")
