"""landmark_dcgan losses: the CNN's MSE equals NumPy's, the GAN's sigmoid cross-entropies have their known values
(logits 0 → ln 2 per term), are averaged over the batch and the 100 logits, stay finite for large logits, and
equal TensorFlow's sigmoid_cross_entropy_with_logits (the original's op)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from zoo.landmark_dcgan import metrics
from zoo.landmark_dcgan.losses import (
    discriminator_loss,
    generator_loss,
    landmark_loss,
    mouth_opening,
    opening_loss,
    reconstruction_loss,
)

LN2 = math.log(2.0)


def logits(shape, scale: float = 3.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, scale, shape).astype(np.float32)


@pytest.mark.parametrize("shape", [(5, 136), (2, 7, 136)])
def test_landmark_loss_is_numpys_mean_squared_error(shape):
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.uniform(0, 1, shape), rng.uniform(0, 1, shape).astype(np.float32)
    expected = np.mean((y_pred.astype(np.float64) - y_true) ** 2)
    assert float(landmark_loss(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)
    assert float(landmark_loss(y_pred, y_true)) == pytest.approx(expected, rel=1e-5)  # symmetric
    assert float(landmark_loss(y_pred, y_pred)) == 0.0
    assert float(landmark_loss(y_pred, y_pred + 0.1)) == pytest.approx(0.01, rel=1e-4)  # a constant 0.1 error


def test_landmark_loss_weights_the_mouth_coordinates():
    y = np.zeros((3, 136), np.float32)
    mouth, other = y.copy(), y.copy()
    mouth[:, 96:] = 0.1  # x and y of points 48…67 (the 20 mouth points) off by 0.1
    other[:, :96] = 0.1
    # weight 10: Σ w = 96 + 40·10 = 496; the mouth's error counts 400/496 of a uniform error, the rest's 96/496
    assert float(landmark_loss(y, mouth, 10.0)) == pytest.approx(0.01 * 400 / 496, rel=1e-5)
    assert float(landmark_loss(y, other, 10.0)) == pytest.approx(0.01 * 96 / 496, rel=1e-5)
    assert float(landmark_loss(y, mouth + other, 10.0)) == pytest.approx(0.01, rel=1e-5)  # a uniform error: the MSE
    assert float(landmark_loss(y, mouth, 1.0)) == pytest.approx(0.01 * 40 / 136, rel=1e-5)  # the original's mean
    sequence = np.zeros((2, 5, 136), np.float32)
    sequence[..., 96:] = 0.1  # the GRU variant's (B, T, 136)
    assert float(landmark_loss(np.zeros_like(sequence), sequence, 10.0)) == pytest.approx(0.01 * 400 / 496, rel=1e-5)


def test_zero_logits_cost_ln2_per_term():
    zeros = np.zeros((32, 100), np.float32)
    assert float(generator_loss(zeros)) == pytest.approx(LN2, rel=1e-6)
    assert float(discriminator_loss(zeros, zeros)) == pytest.approx(2 * LN2, rel=1e-6)


def test_known_values_and_numpy_reference():
    real, fake = logits((4, 100), seed=2), logits((4, 100), seed=3)
    r, f = real.astype(np.float64), fake.astype(np.float64)
    expected_d = np.mean(np.log1p(np.exp(-r))) + np.mean(np.log1p(np.exp(f)))  # −log σ(r), −log(1 − σ(f))
    expected_g = np.mean(np.log1p(np.exp(-f)))
    assert float(discriminator_loss(real, fake)) == pytest.approx(expected_d, rel=1e-5)
    assert float(generator_loss(fake)) == pytest.approx(expected_g, rel=1e-5)
    # one logit: BCE(x, 1) = ln(1 + e^−x); e.g. x = ln 3 → σ = 3/4 → −ln(3/4)
    assert float(generator_loss(np.full((1, 1), math.log(3.0), np.float32))) == pytest.approx(-math.log(0.75),
                                                                                               rel=1e-6)


def test_label_smoothing_targets_the_real_label_and_l1_is_the_mean_absolute_error():
    real, fake = logits((4, 100), seed=8), logits((4, 100), seed=9)
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    expected = tf.reduce_mean(bce(tf.fill(real.shape, 0.9), real)) + tf.reduce_mean(bce(tf.zeros_like(fake), fake))
    assert float(discriminator_loss(real, fake, real_label=0.9)) == pytest.approx(float(expected), rel=1e-6)
    assert float(discriminator_loss(real, fake, real_label=1.0)) == pytest.approx(float(discriminator_loss(real, fake)))
    # BCE(x, t) is least at σ(x) = t: a smoothed real target no longer rewards D for ever larger real logits
    x = np.full((1, 1), math.log(9.0), np.float32)  # σ = 0.9
    zero = np.full((1, 1), -50.0, np.float32)
    assert float(discriminator_loss(x, zero, 0.9)) < float(discriminator_loss(x + 2, zero, 0.9))
    a, b = np.zeros((2, 4, 4, 3), np.float32), np.full((2, 4, 4, 3), 0.25, np.float32)
    b[0, 0, 0, 0] = -0.75  # |−0.75| once among 96 values of 0.25
    assert float(reconstruction_loss(a, b)) == pytest.approx((95 * 0.25 + 0.75) / 96, rel=1e-6)
    # rows weighted 3 in the lower half: an error there counts 3/(1 + 3) · 2 = 1.5×, one above 0.5×
    lower, upper = np.zeros((1, 4, 4, 3), np.float32), np.zeros((1, 4, 4, 3), np.float32)
    lower[:, 2:], upper[:, :2] = 0.5, 0.5
    assert float(reconstruction_loss(a[:1], lower, lower_weight=3.0)) == pytest.approx(0.5 * 0.5 * 1.5, rel=1e-6)
    assert float(reconstruction_loss(a[:1], upper, lower_weight=3.0)) == pytest.approx(0.5 * 0.5 * 0.5, rel=1e-6)
    assert float(reconstruction_loss(a[:1], lower + upper, lower_weight=3.0)) == pytest.approx(0.5, rel=1e-6)


def test_the_original_tensorflow_op_agrees():
    real, fake = logits((6, 100), seed=4), logits((6, 100), seed=5)
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    expected_d = tf.reduce_mean(bce(tf.ones_like(real), real)) + tf.reduce_mean(bce(tf.zeros_like(fake), fake))
    expected_g = tf.reduce_mean(bce(tf.ones_like(fake), fake))
    assert float(discriminator_loss(real, fake)) == pytest.approx(float(expected_d), rel=1e-6)
    assert float(generator_loss(fake)) == pytest.approx(float(expected_g), rel=1e-6)


def test_symmetries_and_means_over_batch_and_logits():
    real, fake = logits((8, 100), seed=6), logits((8, 100), seed=7)
    d = float(discriminator_loss(real, fake))
    assert float(discriminator_loss(-fake, -real)) == pytest.approx(d, rel=1e-6)  # swap real/fake and flip signs
    assert float(discriminator_loss(real, -real)) == pytest.approx(2 * float(generator_loss(real)), rel=1e-6)
    assert float(discriminator_loss(real.ravel(), fake.ravel())) == pytest.approx(d, rel=1e-6)  # a mean, any shape
    doubled = float(discriminator_loss(np.concatenate([real, real]), np.concatenate([fake, fake])))
    assert doubled == pytest.approx(d, rel=1e-6)  # mean, not sum, over the batch
    per_logit = np.mean([float(generator_loss(fake[:, k:k + 1])) for k in range(100)])
    assert float(generator_loss(fake)) == pytest.approx(per_logit, rel=1e-5)  # and over the 100 logits


def test_large_logits_stay_finite_and_exact():
    big = np.full((2, 100), 100.0, np.float32)
    assert float(discriminator_loss(big, -big)) == pytest.approx(0.0, abs=1e-30)  # a perfect D: e^−100 ≈ 0
    assert float(generator_loss(-big)) == pytest.approx(100.0, rel=1e-6)  # softplus(100) = 100, no overflow
    assert float(discriminator_loss(-big, big)) == pytest.approx(200.0, rel=1e-6)


def test_gradients_are_the_sigmoid_residuals():
    """∂L_G/∂x = (σ(x) − 1)/N; ∂L_D/∂r = (σ(r) − 1)/N, ∂L_D/∂f = σ(f)/N; N = batch × logits."""
    real, fake = tf.Variable(logits((3, 100), seed=8)), tf.Variable(logits((3, 100), seed=9))
    with tf.GradientTape(persistent=True) as tape:
        d, g = discriminator_loss(real, fake), generator_loss(fake)
    n = 300
    np.testing.assert_allclose(tape.gradient(g, fake).numpy(), (tf.sigmoid(fake).numpy() - 1) / n, atol=1e-7)
    grad_real, grad_fake = tape.gradient(d, [real, fake])
    np.testing.assert_allclose(grad_real.numpy(), (tf.sigmoid(real).numpy() - 1) / n, atol=1e-7)
    np.testing.assert_allclose(grad_fake.numpy(), tf.sigmoid(fake).numpy() / n, atol=1e-7)


def test_opening_loss_is_the_squared_error_of_standardised_inner_lip_openings():
    y = np.random.default_rng(3).random((5, 136)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(mouth_opening(y)), metrics.mouth_opening(y), rtol=1e-6)
    # a face whose three inner-lip pairs are 0.02, 0.04, 0.06 apart opens 0.04
    face = np.full((1, 136), 0.5, np.float32)
    for (_, lower), gap in zip(metrics.INNER_LIP_PAIRS, (0.02, 0.04, 0.06)):
        face[0, 2 * lower + 1] = 0.5 + gap
    assert float(mouth_opening(face)[0]) == pytest.approx(0.04, abs=1e-7)
    # target (0.04 − 0.03)/0.005 = 2: a prediction of 2.5 costs 0.25, one of 2 nothing
    assert float(opening_loss(np.array([[2.5]], np.float32), face, 0.03, 0.005)) == pytest.approx(0.25, rel=1e-5)
    assert float(opening_loss(np.array([2.0], np.float32), face, 0.03, 0.005)) == pytest.approx(0.0, abs=1e-9)
