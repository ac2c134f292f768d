"""The serving module of VOCA: two signatures exported through ``zoo.export``.

* ``serving_default``: ``windows`` (B, 16, F) float32 feature windows, ``subject`` (B,) int32 0-based training
  subject, ``template`` (B, V, 3) float32 metres → ``vertices`` (B, V, 3). Batch-dynamic; converted to TFLite.
* ``audio``: ``audio`` (B, S) float32 mono 16 kHz in [-1, 1], ``subject`` (B,), ``template`` (B, V, 3) →
  ``vertices`` (B, N, V, 3) at 60 fps with N = round(S · 60 / 16000): the features are computed inside the graph
  (``features_tf.windows_tf``); checked against the NumPy features + Keras. Not for the ``phones`` front end
  (pocketsphinx decoding has no TF version).

Every signature checks its inputs inside the graph (``zoo.export``, "Input checks"); the subject index must lie in
0 … S − 1 (a one-hot of an index outside would silently be all zeros).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import features as feats
from .predict import Predictor, feature_windows, metadata_of

TF_FEATURES = feats.KINDS  # the front ends with a TF version (features_tf): they get the raw-audio signature
MIN_AUDIO_SAMPLES = -(-feats.SAMPLE_RATE // (2 * feats.FPS))  # 134: the shortest audio with one frame (round)


def endpoints(predictor: Predictor, audio16k: np.ndarray, batch: int = 48):
    """``zoo.export.Endpoint``s of the two signatures, with parity inputs cut from ``audio16k``; ``audio`` is
    checked against the NumPy feature pipeline + the Keras model."""
    import tensorflow as tf

    from zoo.export import Endpoint

    from .features_tf import windows_tf

    config, model = predictor.config, predictor.model
    s, v, f = config.num_subjects, config.num_vertices, config.num_audio_features
    windows = feature_windows(audio16k, feats.SAMPLE_RATE, config.audio_feature)
    n = len(windows)
    if n < 2:
        raise ValueError("parity audio must be at least two frames long")
    take = np.linspace(0, n - 1, min(batch, n)).astype(int)
    subjects = (np.arange(len(take)) % s).astype(np.int32)
    templates = predictor.templates[subjects]

    def net(windows, subject, template):
        return model([windows, tf.one_hot(subject, s), template], training=False)

    def serve(windows, subject, template):
        return {"vertices": net(windows, subject, template)}

    def from_audio(audio, subject, template):
        w = windows_tf(audio, config.audio_feature)  # (B, N, 16, F)
        shape = tf.shape(w)
        flat = tf.reshape(w, [-1, config.audio_window, f])
        out = net(flat, tf.repeat(subject, shape[1]), tf.repeat(template, shape[1], axis=0))
        return {"vertices": tf.reshape(out, tf.stack([shape[0], shape[1], v, 3]))}

    def subject_ok(subject, **_):
        return tf.reduce_all(tf.logical_and(subject >= 0, subject < s))

    subject_check = (f"subject must be a 0-based training subject index in 0…{s - 1}", subject_ok)
    signature = {"subject": tf.TensorSpec([None], tf.int32, name="subject"),
                 "template": tf.TensorSpec([None, v, 3], tf.float32, name="template")}
    out = {"serving_default": Endpoint(
        serve, {"windows": tf.TensorSpec([None, config.audio_window, f], tf.float32, name="windows"), **signature},
        {"windows": windows[take], "subject": subjects, "template": templates}, checks=[subject_check])}
    if config.audio_feature not in TF_FEATURES:  # pocketsphinx phones: no TF ops, no raw-audio signature
        return out
    seconds = min(len(audio16k), feats.SAMPLE_RATE)
    raw = np.stack([audio16k[:seconds], audio16k[-seconds:]]).astype(np.float32)
    raw_subjects = np.array([0, s - 1], np.int32)
    raw_templates = predictor.templates[raw_subjects]
    expected = np.stack([predictor.run(feature_windows(row, feats.SAMPLE_RATE, config.audio_feature), k, tpl)
                         for row, k, tpl in zip(raw, raw_subjects, raw_templates)])
    out["audio"] = Endpoint(
        from_audio, {"audio": tf.TensorSpec([None, None], tf.float32, name="audio"), **signature},
        {"audio": raw, "subject": raw_subjects, "template": raw_templates}, expected={"vertices": expected},
        checks=[subject_check,
                (f"input audio must hold at least {MIN_AUDIO_SAMPLES} samples (one frame at {feats.SAMPLE_RATE} "
                 f"Hz, {feats.FPS} fps)", lambda audio, **_: tf.shape(audio)[1] >= MIN_AUDIO_SAMPLES)])
    return out

def export_model(model_dir: str | os.PathLike, dest: str | os.PathLike, *, audio=None, sample_rate: int | None = None,
                 name: str = "voca_emotion", version: int = 1, tflite: bool = True, overwrite: bool = False,
                 tolerance: float = 1e-4, int8: bool = False, int8_tolerance: float = 1e-3):
    """Export a trained model directory to ``dest`` (SavedModel in TF-Serving layout + TFLite of
    ``serving_default``). ``audio`` (a path, or an array at ``sample_rate``; default ``zoo.core.parity_speech()``)
    gives the real parity inputs. ``tolerance`` (metres) bounds every parity check: ``serving_default`` (SavedModel
    and TFLite) against Keras on the same windows, ``audio`` (float32 TF features in the graph) against the float64
    NumPy features + Keras. ``int8``: also a dynamic-range int8 TFLite, held to ``int8_tolerance`` (metres).
    Returns ``zoo.export.ExportResult``."""
    from zoo.core import parity_audio
    from zoo.export import export

    predictor = Predictor.load(model_dir)
    audio16k = parity_audio(audio, sample_rate, rate=feats.SAMPLE_RATE)
    config = predictor.config
    metadata = {**metadata_of(config), "config": config.to_dict(),
                "trained_on": {k: predictor.metadata.get(k) for k in ("train_sequences", "epochs_trained")}}
    return export(predictor.model, Path(dest), name=name, output_names=["vertices"], metadata=metadata,
                  endpoints=endpoints(predictor, audio16k), version=version, tflite=tflite,
                  tflite_signature="serving_default", tolerance=tolerance, overwrite=overwrite,
                  tflite_int8=int8, int8_tolerance=int8_tolerance)


__all__ = ["endpoints", "export_model", "MIN_AUDIO_SAMPLES"]
