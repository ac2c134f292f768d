"""The landmark CNN's audio features (``features.fft_features``) in TensorFlow ops, for the raw-audio signature.

``fft_features_tf(audio (B, S), config, frames=None) → (B, N, chunk, chunks, 1)`` float32 with the rules of
``features``' module doc on the 30 ms grid: frame i's window is samples [i·1440 − 1440, i·1440 + 1440) at 48 kHz,
silence (0, or −1 under ``legacy_scaling``) before sample 0, zeros after the end of the audio (the FFT's padding
and the all-zero chunks: magnitude 0, ln 1e-3 under ``log_magnitude``), 23 chunks of 128 samples, ``|rfft_128|``
with bins 65–127 mirrored from 63–1. ``N = ceil(S / 1440)`` from the dynamic length when ``frames`` is None.

Differences from NumPy: float32 throughout (NumPy computes in float64), and no error for an empty window: a frame
past the end of the audio (only possible with an explicit ``frames``) gives all-zero magnitudes. Ops: pad, concat,
gather, reshape, rfft (TFLite RFFT2D), complex abs, reverse, log, transpose: TFLite builtins only.
"""
from __future__ import annotations

import tensorflow as tf

from .features import LOG_EPS


def fft_features_tf(audio, config, frames: int | None = None) -> tf.Tensor:
    """(B, S) float32 audio in [-1, 1] at ``config.sample_rate`` → (B, N, chunk, chunks, 1) float32 features."""
    x = tf.convert_to_tensor(audio, tf.float32)
    step, width = config.frame_samples, config.window_samples
    half, chunk, chunks = width // 2, config.chunk, config.chunks
    batch, samples = tf.shape(x)[0], tf.shape(x)[1]
    count = (samples + step - 1) // step if frames is None else tf.constant(int(frames), tf.int32)
    if config.legacy_scaling:
        x = x - 1.0
    silence = tf.fill(tf.stack([batch, half]), -1.0 if config.legacy_scaling else 0.0)
    tail = tf.maximum((count - 1) * step + width - half - samples, 0)  # zeros after the end for the last window
    padded = tf.concat([silence, x, tf.zeros(tf.stack([batch, tail]), tf.float32)], axis=1)
    index = tf.reshape(tf.range(count) * step, [-1, 1]) + tf.reshape(tf.range(width), [1, -1])  # (N, width)
    windows = tf.gather(padded, index, axis=1)  # (B, N, width): window i = samples [i·step − half, … + width)
    windows = tf.pad(windows, [[0, 0], [0, 0], [0, chunks * chunk - width]])
    spectrum = tf.signal.rfft(tf.reshape(windows, tf.stack([batch, count, chunks, chunk])), fft_length=[chunk])
    magnitude = tf.abs(spectrum)  # (B, N, chunks, chunk // 2 + 1)
    magnitude = tf.concat([magnitude, tf.reverse(magnitude[..., 1:(chunk + 1) // 2], axis=[-1])], axis=-1)
    if config.log_magnitude:
        magnitude = tf.math.log(magnitude + LOG_EPS)
    return tf.expand_dims(tf.transpose(magnitude, [0, 1, 3, 2]), -1)


__all__ = ["fft_features_tf"]
