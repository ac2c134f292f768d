"""Autoregressive generation of shape-key frames from a phoneme/emotion schedule: naive and fast.

The network's input sequence U starts with one zero "go" step, then the frames (lineage C: their keys,
one step each) in order; the output at step i is the distribution (B, C) or the values (A) of step i + 1
of the animation. Labels: by default the input at step i carries the labels of the step it predicts;
with ``legacy_same_padding`` (master's training) the labels of its own frame, i.e. one step late
(spec §8.2). Feedback: the output's values (A), or the expectation of its 11 classes re-encoded as a
two-hot label (B, C: spec §3, "generation outputs the expectation"), become the next input step.

* ``naive``: the original's loop: every step runs the full network over the last ``config.context``
  input steps and keeps the last output. O(context) per step.
* ``fast``: ``StepGraph``'s cached layer inputs: O(layers) per step, any filter width, the whole schedule
  in one ``tf.while_loop``. Lineage C generates key by key: D steps per frame.
* ``stream()``: a ``Stream`` that makes one frame per call with the labels of that call (the live
  controller, ``zoo.evenet.live``).

A seed (frames with their labels) is run through first with teacher forcing (the original's
``--dat_seed``); without one, generation starts from nothing (the zero state = the full pass's zero padding).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import features
from .config import Config
from .features_tf import encode_tf, step_values_tf
from .model import StepGraph, WaveNet


def frame_label_steps(config: Config, frame_ids: np.ndarray) -> np.ndarray:
    """Per-frame ids (B, N) → the ids carried by the input steps predicting them (B, N·steps_per_frame):
    repeated per key (C) and, for legacy, shifted one step late (the first repeated)."""
    ids = features.step_labels(np.asarray(frame_ids, np.int32), config)
    if config.legacy_same_padding:
        ids = np.concatenate([ids[..., :1], ids[..., :-1]], axis=-1)
    return ids


def _as_batch(ids) -> np.ndarray:
    ids = np.asarray(ids, np.int32)
    return ids[None] if ids.ndim == 1 else ids


class Generator:
    """Naive and fast generation for one ``WaveNet`` (module docstring)."""

    def __init__(self, model: WaveNet):
        self.model = model
        self.config = model.config
        self.graph = StepGraph(model)
        c = self.config
        spec_state = tf.TensorSpec([None, self.graph.size], tf.float32)
        spec_x = tf.TensorSpec([None, c.step_channels], tf.float32)
        spec_ids = tf.TensorSpec([None, None], tf.int32)
        self._loop = tf.function(self._loop_graph, input_signature=[spec_state, spec_x, spec_ids, spec_ids],
                                 reduce_retracing=True)
        self._prime = tf.function(self._prime_graph, reduce_retracing=True, input_signature=[
            spec_state, tf.TensorSpec([None, None, c.step_channels], tf.float32), spec_ids, spec_ids])
        self._one = tf.function(self._one_graph, input_signature=[spec_state, spec_x, tf.TensorSpec([None], tf.int32),
                                                                   tf.TensorSpec([None], tf.int32)])
        self._full = tf.function(lambda steps, emotion, phoneme: model(
            {"steps": steps, "emotion": emotion, "phoneme": phoneme}, training=False)[:, -1],
            input_signature=[tf.TensorSpec([None, None, c.step_channels], tf.float32), spec_ids, spec_ids])

    # ------------------------------------------------------------------ output ↔ next input, in TF
    def values_tf(self, y):
        """A step's output → its shape-key values: (B, D) for A and B, (B,) for C."""
        return step_values_tf(self.config, y)

    def input_tf(self, values):
        """Values of one step → the next input step (B, C)."""
        c = self.config
        if c.lineage == "regression":
            return values
        if c.lineage == "frames_softmax":
            return tf.reshape(encode_tf(values), [-1, c.step_channels])
        return encode_tf(values)

    def _one_graph(self, state, x, emotion, phoneme):
        y, state = self.graph.step(x, emotion, phoneme, state)
        v = self.values_tf(y)
        return v, self.input_tf(v), state

    def _loop_graph(self, state, x, emotion, phoneme):
        steps = tf.shape(emotion)[1]
        out = tf.TensorArray(tf.float32, size=steps)

        def body(i, state, x, out):
            v, x, state = self._one_graph(state, x, emotion[:, i], phoneme[:, i])
            return i + 1, state, x, out.write(i, tf.reshape(v, [tf.shape(x)[0], -1]))

        _, state, x, out = tf.while_loop(lambda i, *_: i < steps, body, [0, state, x, out])
        return tf.transpose(out.stack(), [1, 0, 2]), state, x

    def _prime_graph(self, state, inputs, emotion, phoneme):
        def body(i, state):
            _, state = self.graph.step(inputs[:, i], emotion[:, i], phoneme[:, i], state)
            return i + 1, state

        return tf.while_loop(lambda i, _: i < tf.shape(inputs)[1], body, [0, state])[1]

    # ------------------------------------------------------------------ the input sequence
    def _history(self, emotion_ids: np.ndarray, phoneme_ids: np.ndarray, seed):
        """(input steps U (B, m·k + 1, C) with the go step, their ids (B, m·k + N·k) for U and the N frames to
        come) for a seed of m frames (k = steps a frame)."""
        c = self.config
        e, p = _as_batch(emotion_ids), _as_batch(phoneme_ids)
        batch = len(e)
        go = np.zeros((batch, 1, c.step_channels), np.float32)
        if seed is None:
            return go, frame_label_steps(c, e), frame_label_steps(c, p)
        frames, seed_e, seed_p = seed
        frames = np.asarray(frames, np.float32)
        frames = np.broadcast_to(frames, (batch, *frames.shape[-2:]))
        steps = np.stack([features.step_inputs(f, c) for f in frames])
        ids = [frame_label_steps(c, np.concatenate([np.broadcast_to(_as_batch(s), (batch, len(frames[0]))), x], 1))
               for s, x in ((seed_e, e), (seed_p, p))]
        return np.concatenate([go, steps], axis=1), ids[0], ids[1]

    def _frames(self, values: np.ndarray, batch: int) -> np.ndarray:
        return values.reshape(batch, -1, self.config.data_dim)

    # ------------------------------------------------------------------ generation
    def fast(self, emotion_ids, phoneme_ids, seed=None) -> np.ndarray:
        """Frames (N, D) (or (B, N, D) for (B, N) ids) for the per-frame label schedule, with cached states."""
        steps, e, p = self._history(emotion_ids, phoneme_ids, seed)
        batch, known = len(e), steps.shape[1] - 1
        state = self.graph.zero_state(batch)
        if known:
            state = self._prime(state, steps[:, :-1], e[:, :known], p[:, :known])
        values, _, _ = self._loop(state, steps[:, -1], e[:, known:], p[:, known:])
        out = self._frames(values.numpy(), batch)
        return out[0] if np.ndim(emotion_ids) == 1 else out

    def naive(self, emotion_ids, phoneme_ids, seed=None, window: int | None = None) -> np.ndarray:
        """The same frames by the original's loop: the full network over the last ``window`` (default
        ``config.context``) input steps for every step."""
        steps, e, p = self._history(emotion_ids, phoneme_ids, seed)
        batch, window = len(e), window or self.config.context
        history = list(np.moveaxis(steps, 1, 0))
        values = []
        for _ in range(e.shape[1] - (steps.shape[1] - 1)):
            start = max(0, len(history) - window)
            window_steps = np.stack(history[start:], axis=1)
            y = self._full(window_steps, e[:, start:len(history)], p[:, start:len(history)])
            v = self.values_tf(y)
            history.append(self.input_tf(v).numpy())
            values.append(np.reshape(v.numpy(), (batch, -1)))
        out = self._frames(np.concatenate(values, axis=1), batch)
        return out[0] if np.ndim(emotion_ids) == 1 else out

    def stream(self, seed=None) -> Stream:
        """A ``Stream`` that starts after ``seed`` (frames, emotion ids, phoneme ids) or from nothing."""
        return Stream(self, seed)


class Stream:
    """Live generation: ``next(emotion_id, phoneme_id)`` → the next frame (D,), one ``StepGraph`` step per
    sequence step (D steps for lineage C). Legacy models feed each frame's labels one step late, as
    ``Generator``."""

    def __init__(self, generator: Generator, seed=None):
        self.generator = generator
        c = generator.config
        self.state = generator.graph.zero_state(1)
        self.x = tf.zeros([1, c.step_channels], tf.float32)
        self.previous: tuple[int, int] | None = None  # the last step's labels (legacy)
        if seed is not None:
            frames, seed_e, seed_p = seed
            steps, e, p = generator._history(np.asarray(seed_e)[-1:], np.asarray(seed_p)[-1:], seed)
            known = steps.shape[1] - 1
            self.state = generator._prime(self.state, steps[:, :-1], e[:, :known], p[:, :known])
            self.x = tf.constant(steps[:, -1])
            self.previous = (int(np.asarray(seed_e)[-1]), int(np.asarray(seed_p)[-1]))

    def next(self, emotion_id: int, phoneme_id: int) -> np.ndarray:
        c, g = self.generator.config, self.generator
        values = []
        for _ in range(c.steps_per_frame):
            used = self.previous if c.legacy_same_padding and self.previous is not None else (emotion_id, phoneme_id)
            v, self.x, self.state = g._one(self.state, self.x, tf.constant([used[0]], tf.int32),
                                           tf.constant([used[1]], tf.int32))
            self.previous = (emotion_id, phoneme_id)
            values.append(np.reshape(v.numpy(), -1))
        return np.concatenate(values)


__all__ = ["Generator", "Stream", "frame_label_steps"]
