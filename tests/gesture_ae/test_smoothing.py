"""Smoothing over time: the one-euro filter (per-channel state, the original's settings), the centred moving
average shrinking at the ends, Savitzky–Golay preserving a cubic."""
from __future__ import annotations

import math

import numpy as np
import pytest

from zoo.gesture_ae import smoothing


def _one_euro_scalar(xs, freq=20.0, mincutoff=0.1, beta=0.08, dcutoff=1.0):
    """Casiez et al.'s filter on one scalar series, written out step by step (the reference)."""
    def alpha(cutoff):
        return 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff) * freq)

    out, x_prev, dx_prev = [], None, 0.0
    for x in xs:
        if x_prev is None:
            x_prev = x
        else:
            dx = (x - x_prev) * freq
            dx_prev = alpha(dcutoff) * dx + (1 - alpha(dcutoff)) * dx_prev
            a = alpha(mincutoff + beta * abs(dx_prev))
            x_prev = a * x + (1 - a) * x_prev
        out.append(x_prev)
    return np.array(out)


def test_one_euro_matches_the_reference_with_the_originals_settings():
    t = np.arange(60) / 20
    x = np.sin(2 * np.pi * 0.7 * t) * 10 + np.random.default_rng(0).normal(0, 0.5, 60)
    got = smoothing.one_euro(x[:, None])
    np.testing.assert_allclose(got[:, 0], _one_euro_scalar(x), rtol=1e-5, atol=1e-4)
    assert got[0, 0] == pytest.approx(x[0], abs=1e-5)  # the first frame passes as is
    assert np.std(np.diff(got[:, 0])) < np.std(np.diff(x))  # it smooths


def test_one_euro_keeps_one_state_per_channel():
    """Two channels with different signals (a fast sine, a slow ramp at another offset) filter exactly as each
    alone: no state is shared between channels (the original shared one across joints)."""
    t = np.arange(80) / 20
    a, b = 30 * np.sin(2 * np.pi * 1.5 * t), 100 + 2 * t
    both = smoothing.one_euro(np.stack([a, b], axis=1))
    np.testing.assert_array_equal(both[:, 0], smoothing.one_euro(a[:, None])[:, 0])
    np.testing.assert_array_equal(both[:, 1], smoothing.one_euro(b[:, None])[:, 0])
    shared = _one_euro_scalar(np.stack([a, b], axis=1).ravel()).reshape(80, 2)  # one state fed frame by frame
    assert np.abs(shared - both).max() > 10  # which would have mixed the channels


def test_moving_average_is_centred_and_shrinks_at_the_ends():
    x = np.arange(7, dtype=float) ** 2  # 0 1 4 9 16 25 36
    got = smoothing.moving_average(x[:, None], 5)[:, 0]
    expected = [np.mean([0, 1, 4]), np.mean([0, 1, 4, 9]), np.mean([0, 1, 4, 9, 16]), np.mean([1, 4, 9, 16, 25]),
                np.mean([4, 9, 16, 25, 36]), np.mean([9, 16, 25, 36]), np.mean([16, 25, 36])]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="odd"):
        smoothing.moving_average(x[:, None], 4)


def test_savgol_preserves_a_cubic_everywhere_and_smooths_noise():
    t = np.linspace(-2, 3, 40)
    cubic = 0.5 * t**3 - 2 * t**2 + t - 4
    np.testing.assert_allclose(smoothing.savgol(np.stack([cubic, -cubic], 1))[:, 0], cubic, atol=1e-4)
    noise = np.random.default_rng(1).normal(size=(200, 3))
    assert smoothing.savgol(noise).std() < 0.8 * noise.std()
    short = np.arange(6, dtype=float)[:, None] ** 2  # shorter than 9 frames: the longest odd window that fits (5)
    np.testing.assert_allclose(smoothing.savgol(short), short, atol=1e-4)
    np.testing.assert_array_equal(smoothing.savgol(np.ones((3, 1)) * 2), np.ones((3, 1)) * 2)  # no window fits


def test_smooth_dispatches_and_refuses_unknown_filters():
    x = np.random.default_rng(2).normal(size=(30, 4))
    np.testing.assert_array_equal(smoothing.smooth(x, None), x.astype(np.float32))
    np.testing.assert_array_equal(smoothing.smooth(x, "none"), x.astype(np.float32))
    np.testing.assert_array_equal(smoothing.smooth(x, "one_euro"), smoothing.one_euro(x))
    np.testing.assert_array_equal(smoothing.smooth(x, "moving_average"), smoothing.moving_average(x, 5))
    np.testing.assert_array_equal(smoothing.smooth(x, "savgol"), smoothing.savgol(x, 9, 3))
    assert smoothing.smooth(x, "savgol").shape == x.shape
    with pytest.raises(ValueError, match="unknown smoothing 'gauss'"):
        smoothing.smooth(x, "gauss")
