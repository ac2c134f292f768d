"""Karras 2017 losses on batches of consecutive-frame pairs.

A batch of 2B′ rows holds B′ pairs: row j is frame t and row j + B′ is frame t + 1 of the
same clip (``zoo.datasets.pair_dataset``). With y the targets, ŷ the predictions (N channels)
and m[·] the difference between the two frames of a pair:

* position  P = mean over rows and channels of (y − ŷ)²                       (paper eq. 1)
* motion    M = 2 · mean over pairs and channels of (m[y] − m[ŷ])²            (paper eq. 2)
* emotion   R = R′ / ((1/(E·B)) Σ_j ‖e_j‖²) with R′ = (2/E) Σ_i m[e_i]²      (paper eqs. 3, 4)

``normalization="running"`` divides each term by the square root of a bias-corrected running
mean of its per-example square, v_t = β·v_{t−1} + (1 − β)·mean(ℓ²), ℓ_n = ℓ / (√(v_t/(1 − β^t))
+ ε), β = 0.99, ε = 1e-8 (paper eqs. 5, 6). ``"none"`` is FACEGOOD's raw sum P + M + R.
FACEGOOD's R on the emotion *map* e (B, 1, 64, E): TF2 ``2·mean_E(Σ_{h,w} m[e]²) / mean(Σ_w e₀²)``
(≡ 0 there, e being constant); tfv1 ``mean(Σ_h m[e]² / mean(Σ_w e₀²))``.

Under a ``tf.distribute`` strategy with several replicas the batch statistics (R's scale, the running
second moments) are means over the global batch (``zoo.core.trainer.global_mean``); with one replica
the ops are the plain batch means.
"""
from __future__ import annotations

import tensorflow as tf

from zoo.core.trainer import global_mean


def split_pairs(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The (frame t, frame t + 1) halves of a pair batch."""
    return tf.split(x, 2, axis=0)


def position_terms(y, y_hat) -> tf.Tensor:
    """Per-row P: mean over channels of (y − ŷ)², shape (2B′,)."""
    return tf.reduce_mean(tf.square(y - y_hat), axis=-1)


def motion_terms(y, y_hat) -> tf.Tensor:
    """Per-pair M: 2 · mean over channels of (m[y] − m[ŷ])², shape (B′,)."""
    y0, y1 = split_pairs(y)
    p0, p1 = split_pairs(y_hat)
    return 2.0 * tf.reduce_mean(tf.square((y0 - y1) - (p0 - p1)), axis=-1)


def emotion_terms_paper(e) -> tf.Tensor:
    """Per-pair R for emotion vectors e (2B′, E): (2/E)·‖m[e]‖² / ((1/(E·2B′)) Σ_j ‖e_j‖²)."""
    e0, e1 = split_pairs(e)
    change = 2.0 * tf.reduce_mean(tf.square(e0 - e1), axis=-1)
    scale = global_mean(tf.reduce_mean(tf.square(e)))
    return change / (scale + 1e-12)


def emotion_terms_facegood_tf2(e) -> tf.Tensor:
    """FACEGOOD TF2 R on emotion maps (2B′, 1, 64, E), broadcast to one value per pair."""
    e0, e1 = split_pairs(e)
    change = 2.0 * tf.reduce_mean(tf.reduce_sum(tf.square(e0 - e1), axis=[1, 2]))
    scale = global_mean(tf.reduce_mean(tf.reduce_sum(tf.square(e0), axis=2)))
    return tf.fill(tf.shape(e0)[:1], change / (scale + 1e-12))


def emotion_terms_facegood_tfv1(e) -> tf.Tensor:
    """FACEGOOD tfv1 R: mean(Σ_h m[e]² / mean(Σ_w e₀²)), broadcast to one value per pair."""
    e0, e1 = split_pairs(e)
    scale = global_mean(tf.reduce_mean(tf.reduce_sum(tf.square(e0), axis=2)))
    value = tf.reduce_mean(tf.reduce_sum(tf.square(e0 - e1), axis=1) / (scale + 1e-12))
    return tf.fill(tf.shape(e0)[:1], value)


EMOTION_TERMS = {
    "database": emotion_terms_paper,
    "facegood_tf2": emotion_terms_facegood_tf2,
    "facegood_tfv1": emotion_terms_facegood_tfv1,
}


class LossNormalizer(tf.Module):
    """Running RMS of each loss term (paper eqs. 5–6); state is checkpointed with the model."""

    def __init__(self, terms=("position", "motion", "emotion"), beta: float = 0.99, epsilon: float = 1e-8,
                 enabled: bool = True):
        super().__init__(name="loss_normalizer")
        self.terms, self.beta, self.epsilon, self.enabled = tuple(terms), beta, epsilon, enabled
        # every replica assigns the same (globally reduced) value: the first replica's update is kept
        once = {"trainable": False, "aggregation": tf.VariableAggregation.ONLY_FIRST_REPLICA}
        self.step = tf.Variable(0.0, name="step", **once)
        self.second_moment = {t: tf.Variable(0.0, name=f"v_{t}", **once) for t in self.terms}

    def __call__(self, per_example: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Term name → normalised scalar loss (plain mean when disabled); updates the state."""
        if not self.enabled:
            return {k: tf.reduce_mean(v) for k, v in per_example.items()}
        # the new values are computed here and assigned, not read back from the assignment: under a strategy
        # with several replicas, what an assignment returns inside the step is not the updated value
        step = self.step + 1.0
        self.step.assign(step)
        out = {}
        for name, values in per_example.items():
            v = self.beta * self.second_moment[name] + (1 - self.beta) * global_mean(tf.reduce_mean(tf.square(values)))
            self.second_moment[name].assign(v)
            v_hat = v / (1.0 - tf.pow(self.beta, step))
            out[name] = tf.reduce_mean(values) / (tf.sqrt(tf.stop_gradient(v_hat)) + self.epsilon)
        return out


def total_loss(config, terms: dict[str, tf.Tensor]) -> tf.Tensor:
    """w_P·P + w_M·M + w_R·R of already reduced (and possibly normalised) terms."""
    return (config.position_weight * terms["position"] + config.motion_weight * terms["motion"]
            + config.emotion_weight * terms["emotion"])
