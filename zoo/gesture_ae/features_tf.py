"""TensorFlow versions of the Aud2Repr2Pose features (``features``), for raw-audio SavedModel and TFLite signatures.

``mfcc_tf(audio, sample_rate)``: (B, S) float32 audio in [-1, 1] (B and S dynamic; ``sample_rate`` a Python int
fixed at trace time) → (B, T, 26) float32 at 20 fps, the pipeline of ``features.mfcc`` in float32 TFLite builtin
ops only (no FFT op): ×32768, pre-emphasis, psf's framing (frames gathered by index), the ``nfft``-point real DFT
of each frame's first ``min(frame_len, nfft)`` samples as two matmuls with constant cos/sin bases, the mel
filterbank, DCT-II (ortho) and lifter as constant matrices (built by ``features`` in float64, cast to float32), the
same eps floor for exact zeros, blocks of 5 frames averaged. ``context_windows_tf`` cuts the 61-frame windows.

Precision (``TF_TOLERANCE``): an a-priori float32 error model, u = 2⁻²⁴ (unit roundoff), n = 512 DFT rows.

* DFT: |δX_k| ≤ u·(2√n·‖y‖ + 2‖x‖) per bin: rounding of the basis and of the accumulation (random signs, √n) on
  the pre-emphasised frame y, plus the float32 pre-emphasis (0.97 and the subtraction) on the frame x.
* Band b: Parseval gives mean_k |X_k|² = ‖y‖², so a band whose mean bin power is a fraction ρ_b of the frame's
  mean (depth −10·log10 ρ_b dB) gets |δ ln E_b| ≤ 2|δX|/(√ρ_b‖y‖) + u·|ln E_b|; with ‖x‖ ≤ √n‖y‖ (the pre-emphasis
  term at most the DFT term) that is ``band_relative``·10^(depth/20) + u·L, ``band_relative`` = 8u√n = 1.1e-5,
  L = 40 ≥ |ln E| (ln eps = −36; int16 full scale gives ln P ≤ 36).
* Cepstra: the DCT rows are orthonormal and the lifter is ≤ 12, and the float32 matmul with the rounded
  DCT·lifter matrix adds (26 + 1)·u·Σ_b |D_kb|·|ln E_b|, so |δc_k| ≤ |lift_k|·√(2/26)·(Σ_b |δ ln E_b| + 27·u·26·L).
* c_0 = ln Σ_k P_k: relative error ≤ 8u√n (the mean of |X_k| is at most ‖y‖), plus u·L for the log.
* Averaging 5 frames adds 5u·|c| (|c_0| ≤ L; |c_k| ≤ 12·√(2/26)·26·L).

The cepstral bound grows as 10^(depth/20) with the deepest band, which no constant holds for every signal (a band of
near-silence is arbitrarily deep); ``TF_TOLERANCE["cepstra"]`` = 0.94 is the bound for frames whose 26 bands all lie
within ``depth_db`` = 60 dB of the frame's mean bin power (speech with a noise floor); the tests also check every
frame against its own bound. The bound is worst case (all 26 band errors aligned with the cosine signs); typical
errors are far smaller (~1e-4 on int16 speech-like audio).
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from .features import (
    CONTEXT,
    FLOOR,
    INT16_SCALE,
    MFCC_BLOCK,
    MFCC_WINLEN,
    MFCC_WINSTEP,
    NFFT,
    NFILT,
    NUMCEP,
    PREEMPH,
    WINDOW_FRAMES,
    dct_matrix,
    lifter_weights,
    mel_filterbank,
    round_half_up,
)

_U = 2.0 ** -24  # float32 unit roundoff
_LOG_MAX = 40.0  # ≥ |ln E| for every band and frame energy (ln eps = −36.04; full-scale int16 gives ≤ 36)
_BAND_RELATIVE = 8 * _U * math.sqrt(NFFT)  # relative band error at the frame's mean bin power (ρ = 1)
_DEPTH_DB = 60.0


def _cepstra_bound(depth_db: float) -> float:
    """|δc_k| bound when every band is at most ``depth_db`` below the frame's mean bin power (see the module doc)."""
    per_band = _BAND_RELATIVE * 10 ** (depth_db / 20) + _U * _LOG_MAX
    dct_rounding = (NFILT + 1) * _U * NFILT * _LOG_MAX
    lift = np.abs(lifter_weights()).max() * math.sqrt(2 / NFILT)
    return float(lift * (NFILT * per_band + dct_rounding) + MFCC_BLOCK * _U * lift * NFILT * _LOG_MAX)


TF_TOLERANCE = {
    "depth_db": _DEPTH_DB,
    "band_relative": _BAND_RELATIVE,
    "log_max": _LOG_MAX,
    "c0": _BAND_RELATIVE + _U * _LOG_MAX + MFCC_BLOCK * _U * _LOG_MAX,
    "cepstra": _cepstra_bound(_DEPTH_DB),
}


def dft_bases(frame_samples: int, nfft: int = NFFT) -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin) bases of the ``nfft``-point real DFT of a frame's first ``frame_samples`` samples (zero-padded),
    each (frame_samples, nfft/2 + 1) float64: ``X_k = Σ_n y_n (cos(2πkn/nfft) − i·sin(2πkn/nfft))``."""
    n = np.arange(frame_samples)[:, None]
    k = np.arange(nfft // 2 + 1)[None, :]
    angle = 2 * np.pi * ((n * k) % nfft) / nfft  # reduced mod nfft: exact arguments for large n·k
    return np.cos(angle), np.sin(angle)


def frame_cepstra_tf(framed: tf.Tensor, sample_rate: int, nfft: int = NFFT) -> tf.Tensor:
    """psf's cepstra of pre-emphasised int16-scale frames: (..., F, used) float32 → (..., F, 26): the power
    spectrum |DFT|²/nfft as one matmul (``dft_bases``), the mel bands and the frame energy floored at psf's eps,
    ln, DCT-II with the lifter, c0 replaced by ln(energy)."""
    cos, sin = (tf.constant(b, tf.float32) for b in dft_bases(int(framed.shape[-1]), nfft))
    mel = tf.constant(mel_filterbank(int(sample_rate), nfft, NFILT).T, tf.float32)  # (bins, 26)
    dct = tf.constant((dct_matrix(NFILT, NUMCEP) * lifter_weights()[:, None]).T, tf.float32)  # (26 bands, 26)
    re = tf.matmul(framed, cos)
    im = tf.matmul(framed, sin)
    power = (tf.square(re) + tf.square(im)) * (1.0 / nfft)
    energy = tf.reduce_sum(power, axis=-1)
    energy = tf.where(tf.equal(energy, 0.0), FLOOR, energy)
    bands = tf.matmul(power, mel)
    bands = tf.where(tf.equal(bands, 0.0), FLOOR, bands)
    ceps = tf.matmul(tf.math.log(bands), dct)
    return tf.concat([tf.expand_dims(tf.math.log(energy), -1), ceps[..., 1:]], axis=-1)


def mfcc_tf(audio: tf.Tensor, sample_rate: int, *, nfft: int = NFFT) -> tf.Tensor:
    """MFCC at 20 fps of a batch of clips: (B, S) float32 in [-1, 1] → (B, T, 26) float32, ``T = T100 // 5`` with
    ``T100`` psf's frame count (``features.mfcc_framing``). Equal to ``features.mfcc`` within ``TF_TOLERANCE``."""
    rate = int(sample_rate)
    frame_len = round_half_up(MFCC_WINLEN * rate)
    frame_step = round_half_up(MFCC_WINSTEP * rate)
    used = min(frame_len, nfft)

    x = tf.convert_to_tensor(audio, tf.float32) * INT16_SCALE
    y = tf.concat([x[:, :1], x[:, 1:] - PREEMPH * x[:, :-1]], axis=1)
    samples = tf.shape(y)[1]
    frames100 = tf.where(samples <= frame_len, 1, 1 + (samples - frame_len + frame_step - 1) // frame_step)
    frames20 = frames100 // MFCC_BLOCK
    frames = frames20 * MFCC_BLOCK  # only the frames that enter a 20 fps block
    need = (frames - 1) * frame_step + used
    y = tf.pad(y, [[0, 0], [0, tf.maximum(need - samples, 0)]])
    index = tf.reshape(tf.range(frames) * frame_step, [-1, 1]) + tf.reshape(tf.range(used), [1, -1])
    ceps = frame_cepstra_tf(tf.gather(y, index, axis=1), rate, nfft)  # (B, frames, used) → (B, frames, 26)
    blocks = tf.reshape(ceps, [tf.shape(ceps)[0], frames20, MFCC_BLOCK, NUMCEP])
    return tf.reduce_mean(blocks, axis=2)


def context_windows_tf(feats: tf.Tensor, pad: tf.Tensor | np.ndarray) -> tf.Tensor:
    """61-frame windows of a batch of feature sequences: (B, T, D) float32 and the padding row (D,) → (B, T, 61, D),
    window i = rows i − 30 … i + 30 of the sequence with ``CONTEXT`` = 30 copies of ``pad`` before and after."""
    feats = tf.convert_to_tensor(feats, tf.float32)
    pad = tf.convert_to_tensor(pad, tf.float32)
    batch, length = tf.shape(feats)[0], tf.shape(feats)[1]
    rows = tf.tile(tf.reshape(pad, [1, 1, -1]), tf.stack([batch, CONTEXT, 1]))
    padded = tf.concat([rows, feats, rows], axis=1)
    index = tf.reshape(tf.range(length), [-1, 1]) + tf.reshape(tf.range(WINDOW_FRAMES), [1, -1])
    return tf.gather(padded, index, axis=1)
