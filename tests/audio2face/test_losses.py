"""Karras 2017 losses on frame pairs, checked against direct NumPy formulas."""
from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from zoo.audio2face.losses import (  # noqa: E402
    LossNormalizer,
    emotion_terms_facegood_tf2,
    emotion_terms_facegood_tfv1,
    emotion_terms_paper,
    motion_terms,
    position_terms,
)

RNG = np.random.default_rng(0)
Y = RNG.random((8, 5)).astype(np.float32)  # rows 0-3 = frames t, rows 4-7 = frames t+1
P = RNG.random((8, 5)).astype(np.float32)


def test_position_and_motion_match_formulas():
    np.testing.assert_allclose(position_terms(Y, P).numpy(), ((Y - P) ** 2).mean(axis=1), rtol=1e-6)
    dy, dp = Y[:4] - Y[4:], P[:4] - P[4:]
    np.testing.assert_allclose(motion_terms(Y, P).numpy(), 2 * ((dy - dp) ** 2).mean(axis=1), rtol=1e-6)
    # a constant offset in the prediction costs position but no motion
    assert np.allclose(motion_terms(Y, Y + 0.3).numpy(), 0.0, atol=1e-6)
    assert position_terms(Y, Y + 0.3).numpy().min() > 0.08


def test_paper_emotion_regulariser_is_scale_free_and_zero_for_constant_pairs():
    e = RNG.standard_normal((8, 16)).astype(np.float32)
    r = emotion_terms_paper(e).numpy()
    expected = 2 * ((e[:4] - e[4:]) ** 2).mean(axis=1) / (e ** 2).mean()
    np.testing.assert_allclose(r, expected, rtol=1e-5)
    np.testing.assert_allclose(emotion_terms_paper(100 * e).numpy(), r, rtol=1e-4)  # eq. 4: e cannot just shrink
    same = np.concatenate([e[:4], e[:4]])
    assert np.allclose(emotion_terms_paper(same).numpy(), 0.0)


def test_facegood_tf2_regulariser_is_zero_on_its_constant_map():
    emap = np.broadcast_to(RNG.standard_normal((1, 1, 64, 16)), (8, 1, 64, 16)).astype(np.float32)
    assert np.allclose(emotion_terms_facegood_tf2(emap).numpy(), 0.0)
    varied = RNG.standard_normal((8, 1, 64, 16)).astype(np.float32)
    r1 = emotion_terms_facegood_tfv1(varied).numpy()
    scale = (varied[:4] ** 2).sum(axis=2).mean()
    expected = (((varied[:4] - varied[4:]) ** 2).sum(axis=1) / scale).mean()
    np.testing.assert_allclose(r1, expected, rtol=1e-5)


def test_running_normaliser_follows_eqs_5_6():
    """v_t = β v + (1 − β) mean(ℓ²), ℓ_n = mean(ℓ) / (√(v_t / (1 − β^t)) + ε)."""
    norm = LossNormalizer(terms=("position",), beta=0.99, epsilon=1e-8)
    v = 0.0
    for t in range(1, 4):
        values = RNG.random(6).astype(np.float32) * t
        got = norm({"position": tf.constant(values)})["position"].numpy()
        v = 0.99 * v + 0.01 * np.mean(values.astype(np.float64) ** 2)
        expected = values.mean() / (np.sqrt(v / (1 - 0.99 ** t)) + 1e-8)
        assert got == pytest.approx(expected, rel=1e-5)
    plain = LossNormalizer(terms=("position",), enabled=False)
    assert plain({"position": tf.constant([1.0, 3.0])})["position"].numpy() == pytest.approx(2.0)
