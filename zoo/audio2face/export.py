"""The serving module of Audio2Face: three signatures exported through ``zoo.export``.

* ``serving_default``: ``features`` (B, 32, 64, 1) float32 [+ ``emotion`` (B, E)] →
  ``blendshapes`` (B, N). Batch-dynamic; this is the signature converted to TFLite (and, with
  ``int8=True``, to a dynamic-range int8 TFLite: ``Predictor.load(model_dir, tflite=...)`` runs either).
* ``audio``: ``audio`` (B, S) float32 mono 16 kHz in [-1, 1] [+ ``emotion`` (B, E)] →
  ``blendshapes`` (B, F, N) with F = floor(S · 30 / 16000): the features are computed inside the
  graph (``features_tf.frame_features_tf``: each distinct subframe once, float64 LPC).
* ``stream_step``: ``state`` (B, 8320) the last 8320 samples (start from zeros), ``chunk`` (B, C)
  the next samples [+ ``emotion``] → ``state`` (the last 8320 samples after the chunk) and
  ``blendshapes`` (B, N) of the window that ends with the chunk. Feeding 4160 samples first and then
  the differences of the frame anchors floor(i·16000/30) (533 or 534 samples) yields frame i
  after the i-th call: 260 ms of algorithmic lookahead.

Every signature checks its inputs inside the graph (``zoo.export``, "Input checks"): rank, the static dimensions
(32 × 64 × 1 features, 8320 state samples, E emotion values), one batch size for all inputs and, for ``audio``,
at least ``MIN_AUDIO_SAMPLES`` = 534 samples (one frame); a wrong input is an ``InvalidArgumentError`` naming the
signature and the input.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from zoo.datasets import expected_frames

from . import features as feats
from .predict import Predictor, metadata_of

MIN_AUDIO_SAMPLES = -(-feats.SAMPLE_RATE // feats.FPS)  # 534: the shortest audio with one frame at 30 fps


def endpoints(predictor: Predictor, audio16k: np.ndarray, emotion: np.ndarray | None = None, batch: int = 64):
    """``zoo.export.Endpoint``s of the three signatures, with parity inputs cut from ``audio16k``; ``audio`` and
    ``stream_step`` are checked against the NumPy pipeline (``features`` bit-exact to the C routine, then the
    Keras model), not against their own TF feature graph."""
    import tensorflow as tf

    from zoo.export import Endpoint

    from .features_tf import FEATURES_TF, frame_features_tf

    config, model = predictor.config, predictor.model
    window_features = FEATURES_TF[config.feature]
    dim = config.emotion_dim
    with_emotion = config.has_emotion_input
    n = expected_frames(len(audio16k), feats.SAMPLE_RATE, feats.FPS)
    if n < 2:
        raise ValueError("parity audio must be at least two frames long")
    if emotion is None:
        emotion = predictor.emotion_vectors(None, 1)[0] if with_emotion else None
    take = np.linspace(0, n - 1, min(batch, n)).astype(int)
    features = predictor.features(audio16k, n)[take]

    def net(x, e=None):
        return model([x, e], training=False) if with_emotion else model(x, training=False)

    def emo_spec(shape):
        return {"emotion": tf.TensorSpec(shape, tf.float32, name="emotion")} if with_emotion else {}

    def emotion_rows(rows):  # (rows, E) copies of the parity emotion; (rows, 0) without an emotion input
        if not with_emotion:
            return np.zeros((rows, 0), np.float32)
        return np.repeat(emotion[None].astype(np.float32), rows, axis=0)

    def emo_input(rows):
        return {"emotion": emotion_rows(rows)} if with_emotion else {}

    def serve(features, emotion=None):
        return {"blendshapes": net(features, emotion)}

    def from_audio(audio, emotion=None):
        features = frame_features_tf(audio, config.feature)  # (B, F, 32, 64, 1)
        shape = tf.shape(features)
        flat = tf.reshape(features, [-1, *feats.FEATURE_SHAPE])
        e = None
        if with_emotion:
            e = tf.reshape(tf.repeat(emotion[:, None, :], shape[1], axis=1), [-1, dim])
        out = net(flat, e)
        return {"blendshapes": tf.reshape(out, [shape[0], shape[1], len(predictor.names)])}

    def stream_step(state, chunk, emotion=None):
        joined = tf.concat([state, chunk], axis=1)
        window = joined[:, -feats.WINDOW:]
        return {"state": window, "blendshapes": net(window_features(window), emotion)}

    seconds = min(len(audio16k), 2 * feats.SAMPLE_RATE)
    raw = np.stack([audio16k[:seconds], audio16k[-seconds:]]).astype(np.float32)
    state = np.zeros((2, feats.WINDOW), np.float32)
    windows = feats.clip_windows(audio16k, n)
    state[0], state[1] = windows[n // 2], windows[n - 2]
    hop = feats.SAMPLE_RATE // feats.FPS  # samples between frame anchors (533 or 534 at 16 kHz, 30 fps)
    chunk = np.stack([audio16k[:hop], audio16k[-hop:]]).astype(np.float32)
    frames = expected_frames(raw.shape[1], feats.SAMPLE_RATE, feats.FPS)
    audio_expected = np.stack([predictor.values(row, frames, emotion_rows(frames)) for row in raw])
    stepped = np.concatenate([state, chunk], axis=1)[:, -feats.WINDOW:]
    step_expected = predictor.run(feats.FEATURES[config.feature](stepped).astype(np.float32), emotion_rows(2))
    return {
        "serving_default": Endpoint(
            serve, {"features": tf.TensorSpec([None, *feats.FEATURE_SHAPE], tf.float32, name="features"),
                    **emo_spec([None, dim])},
            {"features": features, **emo_input(len(features))}),
        "audio": Endpoint(
            from_audio, {"audio": tf.TensorSpec([None, None], tf.float32, name="audio"), **emo_spec([None, dim])},
            {"audio": raw, **emo_input(2)}, expected={"blendshapes": audio_expected},
            checks=[(f"input audio must hold at least {MIN_AUDIO_SAMPLES} samples (one frame at "
                     f"{feats.SAMPLE_RATE} Hz, {feats.FPS} fps)",
                     lambda audio, emotion=None: tf.shape(audio)[1] >= MIN_AUDIO_SAMPLES)]),
        "stream_step": Endpoint(
            stream_step, {"state": tf.TensorSpec([None, feats.WINDOW], tf.float32, name="state"),
                          "chunk": tf.TensorSpec([None, None], tf.float32, name="chunk"), **emo_spec([None, dim])},
            {"state": state, "chunk": chunk, **emo_input(2)},
            expected={"state": stepped, "blendshapes": step_expected}),
    }


def export_model(model_dir: str | os.PathLike, dest: str | os.PathLike, *, audio=None, sample_rate: int | None = None,
                 name: str = "audio2face", version: int = 1, tflite: bool = True, overwrite: bool = False,
                 tolerance: float = 1e-4, int8: bool = False, int8_tolerance: float = 0.02):
    """Export a trained model directory to ``dest`` (SavedModel in TF-Serving layout + TFLite).

    ``audio`` (a path, or an array at ``sample_rate``) provides the real parity inputs; by default
    the shipped sentence ``zoo.core.parity_speech()``. ``tolerance`` bounds every parity check (max |Δ|
    of the blendshape weights): ``serving_default`` against Keras on the same features, ``audio`` and
    ``stream_step`` (TF float64 features in the graph) against the NumPy features + Keras.
    ``int8``: also write ``<name>-v<version>.int8.tflite`` (dynamic-range quantisation of
    ``serving_default``: int8 weights, float32 between ops), held to max |Δ| ≤ ``int8_tolerance``.
    Returns ``zoo.export.ExportResult``.
    """
    from zoo.core import parity_speech
    from zoo.export import export

    predictor = Predictor.load(model_dir, engine="keras")  # the network exported is the Keras one
    if audio is None:
        audio, sample_rate = parity_speech()
    audio16k = Predictor.audio16k(audio, sample_rate)
    config = predictor.config
    metadata = {
        **metadata_of(config), "config": config.to_dict(),
        "stream_first_chunk": feats.LOOKAHEAD, "stream_state_samples": feats.WINDOW,
        "emotion_input": config.has_emotion_input, "emotion_dim": config.emotion_dim,
        "trained_on": {k: predictor.metadata.get(k) for k in ("train_clips", "val_clips", "epochs_trained")},
    }
    if config.has_emotion_input and predictor.database is not None:
        metadata["emotion_default"] = predictor.database.mean(axis=0).round(7).tolist()
    return export(predictor.model, Path(dest), name=name, output_names=list(predictor.names), metadata=metadata,
                  endpoints=endpoints(predictor, audio16k), version=version, tflite=tflite,
                  tflite_signature="serving_default", tolerance=tolerance, overwrite=overwrite,
                  tflite_int8=int8, int8_tolerance=int8_tolerance)
