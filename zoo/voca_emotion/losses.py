"""VOCA's losses (spec §3) over runs of K consecutive frames.

P, G: predicted and true vertices (B, K, V, 3) in metres, B runs of K true neighbours (``zoo.datasets.run_dataset``:
frame 0 is never paired with itself, fixing spec §9.9). With d(A, B) = mean over runs (and frames) and vertices of
Σ_xyz (A − B)² (m²; Σ_xyz |A − B| with ``absolute_reconstruction_loss``):

* position      = d(P, G) over all K frames;
* velocity      = d(P_K − P_{K−1}, G_K − G_{K−1}), the last two frames of each run (weight 10 in VOCA);
* acceleration  = d(P_K − 2P_{K−1} + P_{K−2}, same of G), the last three frames (needs K ≥ 3);
* regulariser   = mean over frames and vertices of Σ_xyz |P − template| (the offsets);
* total         = position + w_v·velocity + w_a·acceleration + w_r·regulariser.
"""
from __future__ import annotations

import tensorflow as tf

from .config import Config


def _distance(a, b, absolute: bool):
    """Per-run distance (B,): mean over the remaining frame and vertex axes of Σ_xyz (a − b)² (or |a − b|)."""
    diff = a - b
    per_vertex = tf.reduce_sum(tf.abs(diff) if absolute else tf.square(diff), axis=-1)
    return tf.reduce_mean(tf.reshape(per_vertex, [tf.shape(per_vertex)[0], -1]), axis=1)


def loss_terms(config: Config, pred, true, template) -> dict:
    """Per-run terms (each (B,)) of ``pred``, ``true`` (B, K, V, 3) and ``template`` (B, V, 3)."""
    absolute = config.absolute_reconstruction_loss
    terms = {"position": _distance(pred, true, absolute)}
    velocity = lambda x: x[:, -1] - x[:, -2]  # noqa: E731
    terms["velocity"] = _distance(velocity(pred), velocity(true), absolute)
    if config.num_consecutive_frames >= 3:
        accel = lambda x: x[:, -1] - 2.0 * x[:, -2] + x[:, -3]  # noqa: E731
        terms["acceleration"] = _distance(accel(pred), accel(true), absolute)
    offsets = pred - template[:, None]
    terms["regulariser"] = tf.reduce_mean(tf.reshape(tf.reduce_sum(tf.abs(offsets), axis=-1),
                                                     [tf.shape(offsets)[0], -1]), axis=1)
    return terms


def total_loss(config: Config, terms: dict):
    """Per-run total (B,): position + w_v·velocity + w_a·acceleration + w_r·regulariser."""
    total = terms["position"] + config.velocity_weight * terms["velocity"]
    if config.acceleration_weight:
        total += config.acceleration_weight * terms["acceleration"]
    if config.verts_regularizer_weight:
        total += config.verts_regularizer_weight * terms["regulariser"]
    return total


__all__ = ["loss_terms", "total_loss"]
