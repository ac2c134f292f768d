"""VOCA's losses over K-frame runs (spec §3), checked against numbers computed by hand."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from zoo.voca_emotion import preset
from zoo.voca_emotion.losses import loss_terms, total_loss


def _terms(config, pred, true, tpl):
    return {k: v.numpy() for k, v in loss_terms(config, tf.constant(pred), tf.constant(true), tf.constant(tpl)).items()}


def test_position_and_velocity_by_hand():
    config = preset("tiny")  # K = 2, velocity weight 10
    true = np.zeros((1, 2, 2, 3), np.float32)
    pred = np.zeros((1, 2, 2, 3), np.float32)
    pred[0, 1, 0] = [0.3, 0.4, 0.0]  # frame 1, vertex 0 off by 0.5 (squared 0.25)
    terms = _terms(config, pred, true, np.zeros((1, 2, 3), np.float32))
    assert terms["position"] == pytest.approx([0.25 / 4])  # mean over 2 frames × 2 vertices of Σ_xyz d²
    assert terms["velocity"] == pytest.approx([0.25 / 2])  # (P1 − P0) − (G1 − G0) on vertex 0, mean over 2 vertices
    assert terms["regulariser"] == pytest.approx([0.7 / 4])  # mean |offset| summed over xyz
    assert "acceleration" not in terms
    total = total_loss(config, {k: tf.constant(v) for k, v in terms.items()}).numpy()
    assert total == pytest.approx(terms["position"] + 10 * terms["velocity"])


def test_acceleration_uses_the_last_three_frames_and_absolute_variant():
    config = preset("tiny", num_consecutive_frames=4, acceleration_weight=0.5, verts_regularizer_weight=2.0)
    true = np.zeros((2, 4, 1, 3), np.float32)
    pred = np.zeros((2, 4, 1, 3), np.float32)
    pred[0, 0, 0, 0] = 9.0  # frame 0 of run 0: outside the last three frames, so no acceleration
    pred[1, 2, 0, 1] = 1.0  # P3 − 2P2 + P1 = −2 in y for run 1
    terms = _terms(config, pred, true, np.zeros((2, 1, 3), np.float32))
    assert terms["acceleration"] == pytest.approx([0.0, 4.0])
    assert terms["velocity"] == pytest.approx([0.0, 1.0])  # P3 − P2 = −1
    assert terms["position"] == pytest.approx([81 / 4, 1 / 4])
    total = total_loss(config, {k: tf.constant(v) for k, v in terms.items()}).numpy()
    expected = terms["position"] + 10 * terms["velocity"] + 0.5 * terms["acceleration"] + 2 * terms["regulariser"]
    np.testing.assert_allclose(total, expected, rtol=1e-6)
    absolute = _terms(config.replace(absolute_reconstruction_loss=True), pred, true,
                      np.zeros((2, 1, 3), np.float32))
    assert absolute["position"] == pytest.approx([9 / 4, 1 / 4]) and absolute["acceleration"] == pytest.approx([0, 2])
