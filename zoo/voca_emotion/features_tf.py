"""The audio front end of ``features`` in TensorFlow ops, for the "raw audio" SavedModel signature and TFLite.

``windows_tf(audio16k, kind)``: (B, S) float32 at 16 kHz, B and S dynamic → (B, N, 16, 29) float32 with
N = round(S · 60 / 16000), ties to even (integer arithmetic: N = round(3S / 800)). Every row of the batch is
one utterance of S samples (its standardisation statistics are its own). Steps, as in ``features``:

1. framing: 200 zeros before, 160·K + 120 − S after, reshape into K + 2 hops of 160 samples; frame k = hops k,
   k + 1 and the first 80 samples of hop k + 2 (= samples [160k − 200, 160k + 200)), K = ceil(S / 160);
2. power spectrum as one matmul with a constant (400, 514) matrix [w·cos | −w·sin] (periodic Hann w folded in,
   512-point DFT frequencies), P = re² + im²; no FFT op, so TFLite needs only builtins (FULLY_CONNECTED);
3. ln(max(P @ mel, 1e-10)) [@ DCT] with the float64 NumPy matrices of ``features.feature_matrices`` cast to
   float32 constants;
4. standardisation over time per row and coefficient, (x − mean) / max(std, 1e-5);
5. 100 → 60 fps: output j reads input position 5j/3 = i0 + r/3 (integers, exact), y = (1 − r/3)·x[i0] +
   (r/3)·x[i0 + 1], indices clamped to K − 1 (``np.interp`` semantics);
6. 8 zero rows before and after, window j = padded rows [j, j + 16) (one gather).

All in float32; against the float64 NumPy path the standardised features differ by ≤ ``TF_TOLERANCE`` (max |Δ|
on real speech, asserted by the tests). Works eagerly and inside ``tf.function`` with input signature
[None, None]; converts to TFLite with builtin ops only (tests/voca_emotion/test_features_tf.py checks it).
"""
from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from .features import (
    DEFAULT_KIND,
    ENERGY_FLOOR,
    FEATURE_FPS,
    FPS,
    HANN,
    HOP,
    N_BINS,
    N_FFT,
    NUM_FEATURES,
    PAD_ROWS,
    SAMPLE_RATE,
    STD_FLOOR,
    WIN,
    WINDOW_FRAMES,
    feature_matrices,
)

# max |TF − NumPy| bound on standardised features of real speech that the tests assert, per kind.
TF_TOLERANCE = {"mfcc": 1e-3, "logmel": 1e-3}
_STEP_NUM, _STEP_DEN = 5, 3  # FEATURE_FPS / FPS = 100 / 60
assert FEATURE_FPS * _STEP_DEN == FPS * _STEP_NUM and SAMPLE_RATE * 3 == 800 * FPS  # ratios used below


@functools.cache
def dft_matrix() -> np.ndarray:
    """(400, 514) float32: columns 0…256 = w[n]·cos(2π·f·n/512), 257…513 = −w[n]·sin(2π·f·n/512), w = Hann,
    so frame (…, 400) @ D = [Re, Im] of the 512-point rfft of the windowed frame."""
    n = np.arange(WIN)[:, None]
    f = np.arange(N_BINS)[None, :]
    angle = 2.0 * np.pi * ((n * f) % N_FFT) / N_FFT  # reduced mod 512 before scaling: exact angles
    matrix = np.concatenate([HANN[:, None] * np.cos(angle), -HANN[:, None] * np.sin(angle)], axis=1)
    matrix = matrix.astype(np.float32)
    matrix.setflags(write=False)  # cached: shared by every caller
    return matrix


@functools.cache
def _matrices(kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    out = tuple(None if m is None else m.astype(np.float32) for m in feature_matrices(kind))
    for m in out:
        if m is not None:
            m.setflags(write=False)  # cached: shared by every caller
    return out


def num_frames_tf(num_samples):
    """N = round(S · 60 / 16000) with ties to even, int32 scalar tensor, exact in integers: with t = 3S,
    q = t // 800, r = t mod 800: N = q + [r > 400] + [r = 400 and q odd]."""
    t = 3 * tf.cast(num_samples, tf.int32)  # 60 / 16000 = 3 / 800
    q = t // 800
    r = t - 800 * q
    up = tf.logical_or(r > 400, tf.logical_and(tf.equal(r, 400), tf.equal(q % 2, 1)))
    return q + tf.cast(up, tf.int32)


def frame_features_tf(audio16k, kind: str = DEFAULT_KIND):
    """(B, S) float32 at 16 kHz → (B, K, 29) float32 standardised features at 100 fps, K = ceil(S / 160)."""
    mel, dct = _matrices(kind)
    audio16k = tf.convert_to_tensor(audio16k, tf.float32)
    batch, samples = tf.shape(audio16k)[0], tf.shape(audio16k)[1]
    k = (samples + HOP - 1) // HOP
    after = HOP * k + (2 * HOP - WIN // 2) - samples  # total length 200 + S + after = 160·(K + 2)
    padded = tf.pad(audio16k, tf.stack([[0, 0], tf.stack([WIN // 2, after])]))
    hops = tf.reshape(padded, tf.stack([batch, k + 2, HOP]))
    frames = tf.concat([hops[:, :k], hops[:, 1:k + 1], hops[:, 2:k + 2, : WIN - 2 * HOP]], axis=2)  # (B, K, 400)
    spec = tf.matmul(tf.reshape(frames, [-1, WIN]), tf.constant(dft_matrix()))
    power = tf.square(spec[:, :N_BINS]) + tf.square(spec[:, N_BINS:])
    feats = tf.math.log(tf.maximum(tf.matmul(power, tf.constant(mel)), ENERGY_FLOOR))
    if dct is not None:
        feats = tf.matmul(feats, tf.constant(dct))
    feats = tf.reshape(feats, tf.stack([batch, k, NUM_FEATURES]))
    mean = tf.reduce_mean(feats, axis=1, keepdims=True)
    centred = feats - mean
    std = tf.sqrt(tf.reduce_mean(tf.square(centred), axis=1, keepdims=True))
    return centred / tf.maximum(std, STD_FLOOR)


def to_60fps_tf(x100, n):
    """(B, K, F) at i/100 s → (B, n, F) at j/60 s, linear, clamped at the ends (``np.interp`` per column).
    Position of output j in input frames: 5j/3 = i0 + r/3 exactly; indices clamped to K − 1."""
    x100 = tf.convert_to_tensor(x100, tf.float32)
    last = tf.shape(x100)[1] - 1
    pos = tf.range(n) * _STEP_NUM  # 5j: output j sits at input frame 5j / 3
    i0 = pos // _STEP_DEN
    frac = tf.cast(pos - i0 * _STEP_DEN, tf.float32) / float(_STEP_DEN)
    lo = tf.gather(x100, tf.minimum(i0, last), axis=1)
    hi = tf.gather(x100, tf.minimum(i0 + 1, last), axis=1)
    frac = frac[None, :, None]
    return lo + frac * (hi - lo)


def stack_windows_tf(frames):
    """(B, N, F) → (B, N, 16, F): 8 zero rows before and after, window j = padded rows [j, j + 16)."""
    frames = tf.convert_to_tensor(frames, tf.float32)
    n = tf.shape(frames)[1]
    padded = tf.pad(frames, [[0, 0], [PAD_ROWS, PAD_ROWS], [0, 0]])
    index = tf.range(n)[:, None] + tf.range(WINDOW_FRAMES)[None, :]
    return tf.gather(padded, index, axis=1)


def windows_tf(audio16k, kind: str = DEFAULT_KIND):
    """(B, S) float32 audio at 16 kHz → (B, N, 16, 29) float32 windows, N = round(S · 60 / 16000)."""
    audio16k = tf.convert_to_tensor(audio16k, tf.float32)
    n = num_frames_tf(tf.shape(audio16k)[1])
    return stack_windows_tf(to_60fps_tf(frame_features_tf(audio16k, kind), n))


def clip_windows_tf(audio16k, kind: str = DEFAULT_KIND):
    """One utterance: (S,) float32 at 16 kHz → (N, 16, 29) float32 (``windows_tf`` on a batch of one)."""
    return windows_tf(tf.convert_to_tensor(audio16k, tf.float32)[None], kind)[0]



__all__ = [
    "TF_TOLERANCE", "dft_matrix", "num_frames_tf", "frame_features_tf", "to_60fps_tf", "stack_windows_tf",
    "windows_tf", "clip_windows_tf",
]
