"""evaluate_curves: MSE vs the mean pose, motion MSE, Pearson r, declared channel subsets."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.core.evaluation import evaluate_curves, pearson_r


def test_numbers_by_hand():
    y = [np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]), np.array([[1.0, 1.0], [3.0, 1.0]])]
    p = [np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [3.0, 1.0]])]
    ev = evaluate_curves(p, y, ["jaw", "brow"], mean_pose=np.array([1.0, 1.0]), subsets={"mouth": ["jaw"]})
    assert ev.frames == 5
    assert ev.mse == pytest.approx(1 / 10)  # one error of 1 over 5 frames × 2 channels
    assert ev.mse_mean_pose == pytest.approx((1 + 0 + 1 + 0 + 4) / 10)
    # motion: diffs of clip 1 (1, 1) vs (1, 0); clip 2 (2) vs (2): one error of 1 over 3 × 2
    assert ev.motion_mse == pytest.approx(1 / 6) and ev.motion_mse_mean_pose == pytest.approx((1 + 1 + 4) / 6)
    assert np.isnan(ev.per_channel_r["brow"])  # constant reference
    assert ev.subsets["mouth"].mse == pytest.approx(1 / 5) and ev.subsets["mouth"].r == ev.per_channel_r["jaw"]
    flat = ev.summary()
    assert flat["mouth_mse"] == pytest.approx(1 / 5) and flat["mse_ratio"] == pytest.approx(1 / 6)
    assert ev.to_dict()["mouth_channels"] == ["jaw"]


def test_pearson_matches_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=200)
    assert pearson_r(a, a + 0.5 * b) == pytest.approx(np.corrcoef(a, a + 0.5 * b)[0, 1], rel=1e-12)
    assert np.isnan(pearson_r(a, np.ones(200)))


def test_bad_shapes_and_unknown_subset_channels():
    y = [np.zeros((4, 2))]
    with pytest.raises(ValueError, match="for 2 channels"):
        evaluate_curves([np.zeros((3, 2))], y, ["a", "b"], np.zeros(2))
    with pytest.raises(ValueError, match="subset 'mouth' names channels the model lacks: \\['jaw'\\]"):
        evaluate_curves(y, y, ["a", "b"], np.zeros(2), {"mouth": ["jaw"]})
    with pytest.raises(ValueError, match="mean pose"):
        evaluate_curves(y, y, ["a", "b"], np.zeros(3))


def test_a_constant_prediction_scores_r_zero_and_a_constant_reference_is_not_scored():
    rng = np.random.default_rng(3)
    y = [np.stack([rng.random(30), rng.random(30), np.zeros(30)], axis=1)]
    p = [np.stack([y[0][:, 0], np.full(30, 0.5), rng.random(30)], axis=1)]
    ev = evaluate_curves(p, y, ["jaw", "lip", "tongue"], np.zeros(3), {"mouth": ["jaw", "lip", "tongue"]})
    assert ev.per_channel_r["lip"] == 0.0 and np.isnan(ev.per_channel_r["tongue"])
    assert ev.subsets["mouth"].r == pytest.approx(0.5)  # (1 + 0) / 2: the unmoved channel counts, the flat one not
    assert ev.summary()["mean_r"] == pytest.approx(0.5)
