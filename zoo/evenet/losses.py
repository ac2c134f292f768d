"""EveNet's losses over masked chunk positions (spec §5, §3).

* ``rmse`` (A; B and C on the decoded expectations, the original's loss): √(Σ m·(ŷ − y)² / Σ m), the sum
  over positions (m = 1 where the step is a training target, 0 for context and padding) and keys;
* ``ce``: the soft-label cross entropy −Σ_k t_k·log p_k of the two-hot target, averaged over target keys
  (computed but unused in the original; here an option);
* ``ce_rmse``: their sum (the ``frame-level-sampling`` branch);
* ``l2``: strength · Σ ½‖v‖² over the trainable kernels (biases excluded, as the original intended).
"""
from __future__ import annotations

import tensorflow as tf

from .config import Config
from .features_tf import encode_tf, step_values_tf


def _per_key(mask, like):
    """The position mask (B, T) broadcast to ``like`` (B, T[, D])."""
    mask = tf.cast(mask, tf.float32)
    return tf.broadcast_to(tf.reshape(mask, tf.concat([tf.shape(mask), tf.ones([tf.rank(like) - 2], tf.int32)], 0)),
                           tf.shape(like))


def rmse(config: Config, outputs, targets, mask):
    values = step_values_tf(config, outputs)
    m = _per_key(mask, values)
    return tf.sqrt(tf.reduce_sum(m * tf.square(values - targets)) / tf.maximum(tf.reduce_sum(m), 1.0))


def cross_entropy(outputs, targets, mask):
    """−Σ t·log p per key, mean over the target keys (B and C only)."""
    per_key = -tf.reduce_sum(encode_tf(targets) * tf.math.log(tf.maximum(outputs, 1e-7)), axis=-1)
    m = _per_key(mask, per_key)
    return tf.reduce_sum(m * per_key) / tf.maximum(tf.reduce_sum(m), 1.0)


def l2_penalty(config: Config, variables):
    if not config.l2:
        return 0.0
    return config.l2 * tf.add_n([tf.nn.l2_loss(v) for v in variables if "bias" not in v.path])


def loss_terms(config: Config, outputs, targets, mask) -> dict:
    """{"loss": the configured loss, "rmse": always, "ce": for B and C}."""
    terms = {"rmse": rmse(config, outputs, targets, mask)}
    if config.lineage != "regression":
        terms["ce"] = cross_entropy(outputs, targets, mask)
    terms["loss"] = {"rmse": terms["rmse"], "ce": terms.get("ce"),
                     "ce_rmse": terms["rmse"] + terms.get("ce", 0.0)}[config.loss]
    return terms
