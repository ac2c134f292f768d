"""Aud2Repr2Pose losses: the DAE loss in original units plus TF-l2_loss decay, SpeechE's MSE, the stop rule."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.gesture_ae.config import PRESETS
from zoo.gesture_ae.losses import (
    dae_loss,
    dae_reconstruction_loss,
    dae_should_stop,
    dae_weight_decay,
    speech_loss,
)
from zoo.gesture_ae.model import build_dae, dae_statistics


def poses(frames: int, dims: int = 384, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(frames, dims)) * 3 + 20).astype(np.float32)


def test_reconstruction_loss_is_the_mse_in_original_units():
    y = poses(10)
    dae = build_dae(PRESETS["tiny"], dae_statistics(y))
    mean, max_abs = dae.normalization.mean.numpy(), dae.normalization.max_abs.numpy()
    target = (y - mean) / (max_abs + 1e-8)
    x_hat = dae(y, training=False).numpy()
    expected = np.mean(((x_hat - target) * max_abs) ** 2)
    assert float(dae_reconstruction_loss(dae, y, training=False)) == pytest.approx(expected, rel=1e-5)
    # the clean target, not the noisy input: with dropout and noise off, training gives the same number
    quiet = build_dae(PRESETS["tiny"].replace(dae_keep_prob=1.0, dae_noise=0.0), dae_statistics(y))
    assert float(dae_reconstruction_loss(quiet, y, training=True)) == pytest.approx(
        float(dae_reconstruction_loss(quiet, y, training=False)), rel=1e-6)


def test_weight_decay_is_half_tf_l2_loss_of_both_kernels():
    dae = build_dae(PRESETS["tiny"])
    w1, w2 = (k.numpy().astype(np.float64) for k in dae.kernels)
    assert float(dae_weight_decay(dae)) == pytest.approx(0.5 * (0.5 * (w1 ** 2).sum() + 0.5 * (w2 ** 2).sum()),
                                                         rel=1e-5)
    y = poses(4)
    dae.set_statistics(*dae_statistics(y))
    assert float(dae_loss(dae, y, training=False)) == pytest.approx(
        float(dae_reconstruction_loss(dae, y, training=False)) + float(dae_weight_decay(dae)), rel=1e-6)
    assert float(dae_weight_decay(build_dae(PRESETS["genea2020"]))) == 0.0  # the branch has no decay


def test_weight_decay_at_initialisation_is_about_700():
    config = PRESETS["proposed"]
    a, n = config.dae_init_limit, 384 * 325
    expected = 0.5 * 0.5 * 2 * n * a ** 2 / 3  # E[Σ W²] = n·a²/3 per kernel of U(−a, a)
    assert expected == pytest.approx(704.1, abs=0.1)
    assert float(dae_weight_decay(build_dae(config))) == pytest.approx(expected, rel=0.01)  # σ of the draw ≈ 0.2 %


def test_dae_loss_has_gradients_for_the_weights_only():
    y = poses(8)
    dae = build_dae(PRESETS["tiny"], dae_statistics(y))
    with tf.GradientTape() as tape:
        loss = dae_loss(dae, y, training=True)
    grads = tape.gradient(loss, dae.trainable_weights)
    assert len(grads) == 4 and all(g is not None and float(tf.norm(g)) > 0 for g in grads)
    assert {w.path.split("/")[-1] for w in dae.non_trainable_weights} == {"mean", "max_abs", "std"}


def test_speech_loss_is_the_mse():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=(5, 7)).astype(np.float32), rng.normal(size=(5, 7)).astype(np.float32)
    assert float(speech_loss(y_true, y_pred)) == pytest.approx(np.mean((y_pred - y_true) ** 2), rel=1e-6)
    assert float(speech_loss(y_true, y_pred)) == pytest.approx(float(keras.losses.MeanSquaredError()(y_true, y_pred)),
                                                               rel=1e-6)


@pytest.mark.parametrize("history, stop", [
    ([], False),
    ([1.0], False),
    ([1.0, 1.6], True),  # (1.6 − 1)/1 = 0.6 > 0.5
    ([1.0, 1.5], False),  # exactly 0.5 is not above it
    ([1.0, 0.5, 0.74], False),  # best so far 0.5: 0.48
    ([1.0, 0.5, 0.76], True),  # 0.52
    ([3.0, 2.0, 1.0], False),  # improving
    ([1.0, 0.5, 2.0, 0.6], False),  # compared with the best, not the previous epoch
])
def test_dae_should_stop_follows_the_original_rule(history, stop):
    assert dae_should_stop(history) is stop


def test_dae_should_stop_threshold_and_zero_best():
    assert dae_should_stop([1.0, 1.2], threshold=0.1) and not dae_should_stop([1.0, 1.2], threshold=0.3)
    assert dae_should_stop([0.0, 1e-9]) and not dae_should_stop([0.0, 0.0])
