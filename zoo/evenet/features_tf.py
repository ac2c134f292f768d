"""The 11-class encoding in TF ops (the same formulas as ``features``; used in the graphs of the generator
and the losses)."""
from __future__ import annotations

import tensorflow as tf

from .config import CLASSES


def encode_tf(values):
    """Two-hot labels (..., 11) of ``values`` (...), clamped to [0, 1]: class ⌊10x⌋ gets 1 − r, the next r."""
    x = tf.clip_by_value(tf.cast(values, tf.float32), 0.0, 1.0) * float(CLASSES - 1)
    low = tf.minimum(tf.floor(x), float(CLASSES - 1))
    frac = (x - low)[..., None]
    high = tf.minimum(low + 1.0, float(CLASSES - 1))
    depth = CLASSES
    return (tf.one_hot(tf.cast(low, tf.int32), depth) * (1.0 - frac)
            + tf.one_hot(tf.cast(high, tf.int32), depth) * frac)


def step_values_tf(config, outputs):
    """The network's outputs → shape-key values: as they are (A), the expectation of the 11 classes (B, C)."""
    return outputs if config.lineage == "regression" else decode_tf(outputs)


def decode_tf(probabilities):
    """Σ_k p_k·k/10 over the last axis."""
    values = tf.range(CLASSES, dtype=probabilities.dtype) / float(CLASSES - 1)
    return tf.reduce_sum(probabilities * values, axis=-1)
