"""The EveNet WaveNet (spec §2.1) and its one-step form with cached states (fast generation).

Full pass ``WaveNet(config)({"steps", "emotion", "phoneme"})``: ``steps`` (B, T, C) float32 (the step
layout of ``features.step_inputs``), ``emotion`` and ``phoneme`` (B, T) int32 ids (−1: none) → outputs
(B, T, D) sigmoid values (A), (B, T, D, 11) per-key softmax (B) or (B, T, 11) softmax (C).

1. causal layer: width-fw conv C → R, no bias;
2. per dilation d: filter and gate convs (width fw, dilation d, R → Dc, biases) plus the emotion and
   phoneme terms (``config`` docstring); z = tanh(filter)·σ(gate); residual 1×1 Dc → R (+b) added to the
   layer input; skip 1×1 Dc → S (+b);
3. on the sum of skips: act → 1×1 S → S (+b) → act → 1×1 S → C_out (+b) → output activation, with act
   sigmoid (A, as master) or ReLU (B, C); with ``residual_output`` (A) the input step plus that, clipped.

Every conv reads lags {a·d, …, (a + fw − 1)·d} of its input (a = ``config.lag_offset``): left padding by
(fw − 1 + a)·d zeros, a VALID dilated conv, the first T outputs. With a = 0 this is Keras' causal padding.

``StepGraph(model)`` runs one step of the same network from cached layer inputs: layer l keeps its last
n_l = (fw − 1 + a)·d_l inputs (the causal layer d = 1), so a step costs one tap gather and a few matrix
products per layer for any filter width. The states of all layers travel as one flat (B, ``state_size``)
float32 tensor; zeros mean "nothing before" and match the full pass's zero padding, so stepping from zeros
equals the full pass exactly (tests/evenet/test_generate.py).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from .config import CLASSES, Config

INIT = "glorot_uniform"  # the original's Xavier uniform (fans width·in / width·out); biases zero


def layer_dilations(config: Config) -> tuple[int, ...]:
    """The dilation of every conv in order: the causal layer (1), then ``config.dilations``."""
    return (1, *config.dilations)


def state_shapes(config: Config) -> list[tuple[int, int]]:
    """(cached steps n_l, channels) of every conv: n_l = (fw − 1 + a)·d_l; channels C, then R."""
    span = config.filter_width - 1 + config.lag_offset
    channels = [config.step_channels] + [config.residual_channels] * len(config.dilations)
    return [(span * d, c) for d, c in zip(layer_dilations(config), channels)]


def state_size(config: Config) -> int:
    """Floats of one stream's cached state: Σ n_l·channels_l."""
    return int(sum(n * c for n, c in state_shapes(config)))


def _ids_one_hot(ids, depth: int):
    """one_hot(ids, depth) with −1 (and any id outside [0, depth)) the zero vector."""
    return ops.one_hot(ops.cast(ids, "int32"), depth)


@keras.saving.register_keras_serializable(package="zoo.evenet")
class WaveNet(keras.Model):
    """EveNet's WaveNet for one ``Config`` (module docstring)."""

    def __init__(self, config: Config | dict, **kwargs):
        kwargs.setdefault("name", "evenet")
        super().__init__(**kwargs)
        self.config = config if isinstance(config, Config) else Config.from_dict(config)
        c = self.config
        bias = c.use_biases
        self.causal = layers.Conv1D(c.residual_channels, c.filter_width, use_bias=False, kernel_initializer=INIT,
                                    name="causal")
        self.filters, self.gates, self.residuals, self.skips = [], [], [], []
        self.emotion_terms, self.phoneme_terms = [], []
        for i, d in enumerate(c.dilations):
            conv = dict(kernel_size=c.filter_width, dilation_rate=d, use_bias=bias, kernel_initializer=INIT)
            self.filters.append(layers.Conv1D(c.dilation_channels, name=f"filter{i}", **conv))
            self.gates.append(layers.Conv1D(c.dilation_channels, name=f"gate{i}", **conv))
            # the conditioning terms of filter and gate side by side: [E, 2·Dc] (and [P, 2·Dc])
            self.emotion_terms.append(layers.Dense(2 * c.dilation_channels, use_bias=False, kernel_initializer=INIT,
                                                   name=f"emotion{i}"))
            if c.phoneme_channels:
                self.phoneme_terms.append(layers.Dense(2 * c.dilation_channels, use_bias=False,
                                                       kernel_initializer=INIT, name=f"phoneme{i}"))
            self.residuals.append(layers.Dense(c.residual_channels, use_bias=bias, kernel_initializer=INIT,
                                               name=f"residual{i}"))
            self.skips.append(layers.Dense(c.skip_channels, use_bias=bias, kernel_initializer=INIT, name=f"skip{i}"))
        self.embedding = (layers.Embedding(len(c.emotion_categories), c.emotion_channels,
                                           embeddings_initializer=INIT, name="emotion_table")
                          if c.emotion_kind == "embedding" else None)
        self.post1 = layers.Dense(c.skip_channels, use_bias=bias, kernel_initializer=INIT, name="post1")
        self.post2 = layers.Dense(c.step_channels, use_bias=bias, kernel_initializer=INIT, name="post2")

    # ------------------------------------------------------------------ pieces shared by full pass and step
    @property
    def activation(self):
        return ops.sigmoid if self.config.lineage == "regression" else ops.relu

    def emotion_code(self, ids):
        """(…,) ids → (…, E): the one-hot (A) or the embedding row, zero for −1."""
        c = self.config
        if self.embedding is None:
            return _ids_one_hot(ids, c.emotion_channels)
        ids = ops.cast(ids, "int32")
        valid = ops.cast(ids >= 0, "float32")[..., None]
        return self.embedding(ops.maximum(ids, 0)) * valid

    def phoneme_code(self, ids):
        return _ids_one_hot(ids, self.config.phoneme_channels)

    def condition(self, i: int, emotion_code, phoneme_code):
        """Layer i's conditioning term (…, 2·Dc): [filter | gate]."""
        term = self.emotion_terms[i](emotion_code)
        if self.phoneme_terms:
            term = term + self.phoneme_terms[i](phoneme_code)
        return term

    def head(self, skip_sum, steps, training=None):
        """Post-processing of the summed skips → the output distribution or values; ``steps`` the input steps (the
        residual output's base, ``config`` docstring)."""
        c = self.config
        out = self.post2(self.activation(self.post1(self.activation(skip_sum))))
        if c.residual_output:
            values = ops.cast(steps, "float32") + out
            return values if training else ops.clip(values, 0.0, 1.0)
        if c.lineage == "regression":
            return ops.sigmoid(out)
        if c.lineage == "frames_softmax":
            out = tf.reshape(out, tf.concat([tf.shape(out)[:-1], [c.data_dim, CLASSES]], axis=0))
        return ops.softmax(out, axis=-1)

    def gated(self, i: int, filter_gate_sum):
        """z = tanh(filter)·σ(gate) from the [filter | gate] sums; → (residual term, skip term)."""
        dc = self.config.dilation_channels
        z = ops.tanh(filter_gate_sum[..., :dc]) * ops.sigmoid(filter_gate_sum[..., dc:])
        return self.residuals[i](z), self.skips[i](z)

    def _shifted_conv(self, conv, x, d: int):
        """``conv`` over lags {a·d, …, (a + fw − 1)·d} of x (B, T, ch), T outputs."""
        c = self.config
        steps = ops.shape(x)[1]
        padded = ops.pad(x, [[0, 0], [(c.filter_width - 1 + c.lag_offset) * d, 0], [0, 0]])
        return conv(padded)[:, :steps]

    # ------------------------------------------------------------------ full pass
    def call(self, inputs, training=None):
        c = self.config
        e = self.emotion_code(inputs["emotion"])
        p = self.phoneme_code(inputs["phoneme"]) if c.phoneme_channels else None
        h = self._shifted_conv(self.causal, ops.cast(inputs["steps"], "float32"), 1)
        skip_sum = 0.0
        for i, d in enumerate(c.dilations):
            fg = ops.concatenate([self._shifted_conv(self.filters[i], h, d),
                                  self._shifted_conv(self.gates[i], h, d)], axis=-1)
            residual, skip = self.gated(i, fg + self.condition(i, e, p))
            h = h + residual
            skip_sum = skip_sum + skip
        return self.head(skip_sum, inputs["steps"], training)

    def example_inputs(self, batch: int = 1, steps: int = 8) -> dict:
        """Zero inputs of the right dtypes (builds the model)."""
        return {"steps": np.zeros((batch, steps, self.config.step_channels), np.float32),
                "emotion": np.zeros((batch, steps), np.int32), "phoneme": np.zeros((batch, steps), np.int32)}

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        model = cls(**config)
        model(model.example_inputs())  # built: the weights exist, as after the constructor of a functional model
        return model


def build_model(config: Config) -> WaveNet:
    """A built ``WaveNet`` for ``config`` (weights initialised)."""
    model = WaveNet(config)
    model(model.example_inputs())
    return model


class StepGraph:
    """One step of ``model`` from cached layer inputs (module docstring), in TF ops.

    ``step(x, emotion, phoneme, state)``: x (B, C) the newest input step, ids (B,), state (B, state_size) →
    (output of that step: (B, D) / (B, D, 11) / (B, 11), the new state). The weights are the model's own
    variables, so the step follows training.
    """

    def __init__(self, model: WaveNet):
        self.model = model
        self.config = model.config
        self.shapes = state_shapes(self.config)
        self.size = state_size(self.config)

    def _tap(self, buffer, d: int):
        """(B, n + 1, ch) buffer (oldest first, newest last) → (B, fw·ch) of the taps at 0, d, …, (fw − 1)·d."""
        fw = self.config.filter_width
        taps = buffer[:, : (fw - 1) * d + 1 : d]
        return tf.reshape(taps, [-1, fw * buffer.shape[-1]])

    @staticmethod
    def _kernel(conv):
        kernel = conv.kernel  # (fw, in, out)
        return tf.reshape(kernel, [-1, kernel.shape[-1]])

    def _advance(self, state_l, x, n: int, d: int):
        """Append x (B, ch) to a layer's cached inputs; → (taps (B, fw·ch), new cache (B, n, ch))."""
        buffer = tf.concat([state_l, x[:, None, :]], axis=1)
        return self._tap(buffer, d), buffer[:, 1:]

    def split_state(self, state):
        """(B, state_size) → [(B, n_l, ch_l)]."""
        parts = tf.split(state, [n * c for n, c in self.shapes], axis=1)
        return [tf.reshape(p, [-1, n, c]) for p, (n, c) in zip(parts, self.shapes)]

    def step(self, x, emotion, phoneme, state):
        m, c = self.model, self.config
        caches = self.split_state(state)
        new = []
        taps, cache = self._advance(caches[0], tf.cast(x, tf.float32), self.shapes[0][0], 1)
        new.append(cache)
        h = tf.matmul(taps, self._kernel(m.causal))
        e = m.emotion_code(emotion)
        p = m.phoneme_code(phoneme) if c.phoneme_channels else None
        skip_sum = 0.0
        for i, d in enumerate(c.dilations):
            taps, cache = self._advance(caches[i + 1], h, self.shapes[i + 1][0], d)
            new.append(cache)
            fg = tf.concat([tf.matmul(taps, self._kernel(m.filters[i])), tf.matmul(taps, self._kernel(m.gates[i]))],
                           axis=-1)
            if c.use_biases:
                fg = fg + tf.concat([m.filters[i].bias, m.gates[i].bias], axis=0)
            residual, skip = m.gated(i, fg + m.condition(i, e, p))
            h = h + residual
            skip_sum = skip_sum + skip
        flat = tf.concat([tf.reshape(s, [-1, n * ch]) for s, (n, ch) in zip(new, self.shapes)], axis=1)
        return m.head(skip_sum, x), flat

    def zero_state(self, batch: int = 1):
        return tf.zeros([batch, self.size], tf.float32)


__all__ = ["WaveNet", "build_model", "StepGraph", "state_shapes", "state_size", "layer_dilations"]
