"""The serving module of EveNet: two signatures exported through ``zoo.export``.

* ``serving_default``: ``frames`` (B, T, D) float32 shape-key values, ``emotion`` and ``phoneme`` (B, T) int32
  ids of the same frames → ``predictions`` (B, T, D): frame t predicted from the frames before it (frame 0
  from nothing: ``frames`` start a take, or hold at least the receptive field). The next frame after a
  window: append its labels and any placeholder frame; the last prediction does not read it. (Legacy models
  read frame t itself, as master trained.) This is the teacher-forced pass of training and evaluation.
* ``step``: the fast generator as a graph. ``state`` (B, S) the cached layer inputs (zeros to start),
  ``x`` (B, C) the newest input step (zeros to start: the "go" step), ``emotion`` and ``phoneme`` (B,) the
  labels of the step to predict → ``value`` (B, D) the next frame (lineage C: (B, 1), the next key),
  ``x`` the next input step (``value`` encoded; feed it back) and ``state``. Converted to TFLite: a phone
  generates frame by frame with it, and the tests check that stepping the TFLite file equals the full pass.

Every signature checks its inputs in the graph (``zoo.export``): ranks, D, C, S and one batch size.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .predict import Predictor, metadata_of

PARITY_TEXT = "The quick brown fox jumps over the lazy dog."


def teacher_forced_tf(model, frames, emotion, phoneme):
    """The ``serving_default`` computation in TF ops (module docstring); (B, T, D) predictions."""
    import tensorflow as tf

    from .features_tf import encode_tf, step_values_tf

    c = model.config
    batch, steps_t = tf.shape(frames)[0], tf.shape(frames)[1]
    if c.lineage == "regression":
        steps = frames
    elif c.lineage == "frames_softmax":
        steps = tf.reshape(encode_tf(frames), [batch, steps_t, c.step_channels])
    else:
        steps = encode_tf(tf.reshape(frames, [batch, -1]))
        emotion, phoneme = (tf.repeat(ids, c.data_dim, axis=1) for ids in (emotion, phoneme))
    if not c.legacy_same_padding:
        steps = tf.concat([tf.zeros_like(steps[:, :1]), steps[:, :-1]], axis=1)
    out = model({"steps": steps, "emotion": emotion, "phoneme": phoneme}, training=False)
    values = step_values_tf(c, out)
    return tf.reshape(values, [batch, steps_t, c.data_dim])


def endpoints(predictor: Predictor, frames: np.ndarray, emotion: np.ndarray, phoneme: np.ndarray):
    """``zoo.export.Endpoint``s of both signatures with parity inputs from a generated take (frames and their
    labels); ``serving_default`` is checked against the NumPy sequence + Keras pass (``train``), ``step``
    against ``Generator``'s own step run eagerly."""
    import tensorflow as tf

    from zoo.export import Endpoint

    from .generate import frame_label_steps
    from .train import predict_teacher_forced, take_sequence

    model, config, g = predictor.model, predictor.config, predictor.generator
    d, c, size = config.data_dim, config.step_channels, g.graph.size
    frames = np.asarray(frames, np.float32)
    rows = [frames, frames[::-1].copy()]  # two takes of one length (a batch of 2)
    ids = [(emotion, phoneme), (emotion[::-1].copy(), phoneme[::-1].copy())]
    expected = np.stack([predict_teacher_forced(model, config, take_sequence(config, "parity", f, *i))
                         for f, i in zip(rows, ids)])
    # step parity: the states after priming on the take, then one step with the next labels
    steps_e, steps_p = frame_label_steps(config, emotion[None]), frame_label_steps(config, phoneme[None])
    history = take_sequence(config, "parity", frames, emotion, phoneme).inputs[None]
    known = history.shape[1] - 1
    state = g._prime(g.graph.zero_state(1), history[:, :-1], steps_e[:, :known], steps_p[:, :known]).numpy()
    state = np.concatenate([state, np.zeros_like(state)])
    x = np.concatenate([history[:, -1], np.zeros((1, c), np.float32)])
    step_e = np.array([steps_e[0, known], emotion[0]], np.int32)
    step_p = np.array([steps_p[0, known], phoneme[0]], np.int32)
    value, next_x, next_state = g._one(state, x, step_e, step_p)

    def serve(frames, emotion, phoneme):
        return {"predictions": teacher_forced_tf(model, frames, emotion, phoneme)}

    def step(state, x, emotion, phoneme):
        value, x, state = g._one_graph(state, x, emotion, phoneme)
        return {"value": tf.reshape(value, [tf.shape(x)[0], -1]), "x": x, "state": state}

    ints = lambda shape, name: tf.TensorSpec(shape, tf.int32, name=name)  # noqa: E731
    return {
        "serving_default": Endpoint(
            serve, {"frames": tf.TensorSpec([None, None, d], tf.float32, name="frames"),
                    "emotion": ints([None, None], "emotion"), "phoneme": ints([None, None], "phoneme")},
            {"frames": np.stack(rows), "emotion": np.stack([i[0] for i in ids]).astype(np.int32),
             "phoneme": np.stack([i[1] for i in ids]).astype(np.int32)},
            expected={"predictions": expected.astype(np.float32)},
            checks=[("emotion and phoneme must have one label per frame (the frames' T)",
                     lambda frames, emotion, phoneme: tf.logical_and(
                         tf.equal(tf.shape(emotion)[1], tf.shape(frames)[1]),
                         tf.equal(tf.shape(phoneme)[1], tf.shape(frames)[1])))]),
        "step": Endpoint(
            step, {"state": tf.TensorSpec([None, size], tf.float32, name="state"),
                   "x": tf.TensorSpec([None, c], tf.float32, name="x"), "emotion": ints([None], "emotion"),
                   "phoneme": ints([None], "phoneme")},
            {"state": state, "x": x, "emotion": step_e, "phoneme": step_p},
            expected={"value": np.reshape(value.numpy(), (2, -1)), "x": next_x.numpy(), "state": next_state.numpy()}),
    }


def parity_take(predictor: Predictor, text: str = PARITY_TEXT, emotion=None):
    """(frames, emotion ids, phoneme ids) of a real schedule: ``text`` spoken by espeak-ng, generated by the model."""
    from .timeline import text_timeline

    timeline = text_timeline(text, fps=predictor.config.fps)
    phonemes = timeline.phoneme_ids()
    emotions = predictor.emotion_schedule(emotion, len(phonemes))
    frames = predictor.generator.fast(emotions, phonemes)
    return frames, emotions, phonemes


def export_model(model_dir: str | os.PathLike, dest: str | os.PathLike, *, name: str = "evenet", version: int = 1,
                 tflite: bool = True, overwrite: bool = False, tolerance: float = 1e-5, int8: bool = False,
                 int8_tolerance: float = 0.02):
    """Export a trained model directory to ``dest`` (SavedModel in TF-Serving layout + the ``step`` signature as
    TFLite) with parity checks on a generated take of ``PARITY_TEXT``. Returns ``zoo.export.ExportResult``."""
    from zoo.export import export

    predictor = Predictor.load(model_dir)
    config = predictor.config
    frames, emotions, phonemes = parity_take(predictor)
    metadata = {**metadata_of(config), "config": config.to_dict(), "state_size": predictor.generator.graph.size,
                "step_channels": config.step_channels, "steps_per_frame": config.steps_per_frame,
                "phoneme_categories_from": "zoo.datasets.evenet.PHONEME_CATEGORIES"}
    return export(predictor.model, Path(dest), name=name, output_names=list(config.names), metadata=metadata,
                  endpoints=endpoints(predictor, frames, emotions, phonemes), version=version, tflite=tflite,
                  tflite_signature="step", tolerance=tolerance, overwrite=overwrite, tflite_int8=int8,
                  int8_tolerance=int8_tolerance)
