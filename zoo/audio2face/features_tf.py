"""TensorFlow versions of the Audio2Face features (``features``), for SavedModels and TFLite.

``lpc_facegood_tf`` and ``autocorr_paper_tf`` take ``(B, 8320)`` float32 windows (B dynamic) and return
``(B, 32, 64, 1)`` float32; ``frame_features_tf`` takes a batch of clips ``(B, S)`` float32 at 16 kHz and returns
``(B, F, 32, 64, 1)``, ``F = floor(S · 30 / 16000)``. ``FEATURES_TF`` maps a feature name to its windows function.
The 32 lags and the 31 Levinson steps are unrolled at trace time.

Precision of ``lpc_facegood_tf`` (``precision``, default ``"float64"``) against the float64
``features.lpc_facegood``: ``python -m zoo.audio2face.features_tf WAV`` measures max, mean and the fraction of
values off by > 1e-3 for each precision on a recording (``TF_LPC_TOLERANCE`` holds the bounds the tests assert):

* ``"float64"``: ``R = irfft(|rfft(s, 512)|²)``, the recursion coefficient-major in float64, float32 output
  (the float32 output rounding is the error). For SavedModels: TFLite has no float64 kernels.
* ``"double_float"``: float32 TFLite builtin ops only (strided slices, reshape, concat, mul/add/sub/div,
  sum/max, select), every quantity a float32 pair (``double_float``, ~48-bit significand): the Hann product
  by TwoProd, the autocorrelation by TwoProd plus exact sums on fixed grids, Levinson in pair arithmetic.
  Digital silence is exact; the tests bound dither, hum, noise, tone bursts, pure sines and DC (a pure sine
  or DC is the worst case: condition ~1e9 through the 1e-9 correction). TFLite (XNNPACK) gives the same
  numbers (the tests check it traced by Grappler and converted). Expects |x| < 1e17 (int16-scale or [-1, 1]
  audio). ~30 float32 ops per (lag, sample): several times slower than the float64 path.
* ``"float32"``: plain float32, each subframe rescaled exactly by a power of two (fixes range, not
  conditioning): far off (the command above shows it). An order-31 Levinson on Hann-windowed 16-bit speech is
  ill-conditioned (spectral valleys ~100 dB down), so a relative error of 1e-9 in R moves coefficients a lot.

``autocorr_paper_tf`` is plain float32 (bounded relative to R[0] in the tests). Speeds of every path:
``benchmarks/results.md``.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .double_float import df_add, df_div, df_mul, df_sum_last, fast_two_sum, split, two_prod, two_sum
from .features import (
    FPS,
    HANN,
    HOP,
    LOOKAHEAD,
    ORDER,
    PERIOD_FRAMES,
    PERIOD_HOPS,
    SAMPLE_RATE,
    SUBFRAME,
    SUBFRAMES,
    WHITE_NOISE_CORRECTION,
    WINDOW,
)

# The bounds the tests assert for |lpc_facegood_tf − lpc_facegood| on real speech: 4 × the max and mean measured
# on FACEGOOD 1114_2_01 (2.34e-6, 1.35e-8) by ``python -m zoo.audio2face.features_tf WAV``.
TF_LPC_TOLERANCE = {"double_float": {"max": 4 * 2.34e-6, "mean": 4 * 1.35e-8}}

_POW2_SPLITTER = 8388609.0  # 2^23 + 1: the Veltkamp split keeps 1 significant bit, i.e. rounds to a power of two
# Extraction grids, data-dependent (× P², P a power of two ≥ max|s|) so that no graph rewrite can fold them:
_GRID1 = 512.0  # (p + 2^9·P²) − 2^9·P² rounds |p| ≤ P² to the grid 2^-15·P²: 256 such terms sum exactly
_GRID2 = 2.0 ** -6  # (r + 2^-6·P²) − 2^-6·P² rounds |r| ≤ 2^-15·P² to the grid 2^-30·P²: also exact sums


def _tf_subframes(windows):
    """(B, 8320) → (B, 64, 256) float32 via reshape into 65 hops and concat of neighbours (TFLite builtins)."""
    w = tf.convert_to_tensor(windows, dtype=tf.float32)
    hops = tf.reshape(w, [-1, SUBFRAMES + 1, HOP])
    return tf.concat([hops[:, :-1], hops[:, 1:]], axis=-1)


def _tf_lags(s):
    """R[..., j] = Σ_n s[..., n]·s[..., n+j], j < 32, plain float32, unrolled → (..., 32)."""
    return tf.stack([tf.reduce_sum(s[..., :SUBFRAME - j] * s[..., j:], axis=-1) for j in range(ORDER)], axis=-1)


def _tf_layout(r):
    """(B, 64, 32) → (B, 32, 64, 1)."""
    return tf.expand_dims(tf.transpose(r, [0, 2, 1]), -1)


def _tf_hann_df(x):
    """s = x·hann as a double-float pair, and P² per subframe, P a power of two in [max|s|, 4·max|s|] (…, 1)."""
    h_hi = HANN.astype(np.float32)
    h_lo = (HANN - h_hi).astype(np.float32)
    p, e = two_prod(x, tf.constant(h_hi))
    s_hi, s_lo = fast_two_sum(p, e + x * tf.constant(h_lo))
    peak = tf.reduce_max(tf.abs(s_hi), axis=-1, keepdims=True)
    t = peak * _POW2_SPLITTER
    pow2 = 2.0 * (t - (t - peak))  # peak rounded to 1 significant bit, doubled: a power of two ≥ peak
    return s_hi, s_lo, pow2 * pow2


def _tf_autocorr_df(s_hi, s_lo, p2):
    """Double-float R[j] = Σ_n s[n]·s[n+j], j < 32: (…, 256) pairs, P² (…, 1) → (…, 32) pairs.

    Each product is split exactly (TwoProd, p + e); p is cut on the grids 2^-15·P² and 2^-30·P² (and e plus the
    lo·hi cross terms on 2^-30·P²), whose pieces sum exactly in float32 in any order; only the < 2^-30·P²
    remainders are summed with rounding, so |error| ≲ 2^-44·P² ≤ 2^-40·R[0].
    """
    grid1 = p2 * _GRID1
    grid2 = p2 * _GRID2
    pad = tf.zeros_like(s_hi[..., :ORDER - 1])
    sh = tf.concat([s_hi, pad], axis=-1)
    sl = tf.concat([s_lo, pad], axis=-1)
    bh_all, bl_all = split(sh)
    a_split = (bh_all[..., :SUBFRAME], bl_all[..., :SUBFRAME])
    his, los = [], []
    for j in range(ORDER):
        # one lag at a time (control dependency): running all 32 lags concurrently multiplies peak memory
        with tf.control_dependencies(los[-1:]):
            b = sh[..., j:j + SUBFRAME]
            p, e = two_prod(s_hi, b, a_split, (bh_all[..., j:j + SUBFRAME], bl_all[..., j:j + SUBFRAME]))
            small = e + (s_hi * sl[..., j:j + SUBFRAME] + s_lo * b)  # |small| ≤ 3·2^-24·P²
            q1 = (p + grid1) - grid1
            r1 = p - q1
            q2 = (r1 + grid2) - grid2
            q3 = (small + grid2) - grid2
            rest = (r1 - q2) + (small - q3)
            h, l_ = two_sum(tf.reduce_sum(q1, axis=-1), tf.reduce_sum(q2 + q3, axis=-1))  # both sums exact
            h, l_ = fast_two_sum(h, l_ + tf.reduce_sum(rest, axis=-1))
        his.append(h)
        los.append(l_)
    return tf.stack(his, axis=-1), tf.stack(los, axis=-1)


def _tf_levinson_df(r_hi, r_lo):
    """FACEGOOD's Levinson–Durbin (order 31) in double-float; (…, 32) pairs → [1, a_1 … a_31] float32 (…, 32)."""
    zero = tf.zeros_like(r_hi[..., 0])
    r0 = fast_two_sum(r_hi[..., 0], r_lo[..., 0] + r_hi[..., 0] * WHITE_NOISE_CORRECTION)
    alive = r0[0] > 0
    err = (tf.where(alive, r0[0], tf.ones_like(zero)), tf.where(alive, r0[1], zero))
    a_hi = tf.concat([tf.ones_like(r_hi[..., :1]), tf.zeros_like(r_hi[..., 1:])], axis=-1)
    a_lo = tf.zeros_like(r_hi)
    for m in range(1, ORDER):
        num = (r_hi[..., m], r_lo[..., m])
        if m > 1:  # Σ_{j=1}^{m-1} a_j R[m−j]
            ah, al = a_hi[..., 1:m], a_lo[..., 1:m]
            rh, rl = tf.reverse(r_hi[..., 1:m], axis=[-1]), tf.reverse(r_lo[..., 1:m], axis=[-1])
            p, e = two_prod(ah, rh)
            num = df_add(num, df_sum_last(p, e + (ah * rl + al * rh)))
        k_hi, k_lo = df_div(num, err)
        k_hi, k_lo = -k_hi, -k_lo
        mag = tf.abs(k_hi)
        ge1 = tf.logical_or(mag > 1.0, tf.logical_and(mag >= 1.0, k_lo * k_hi >= 0.0))
        alive = tf.logical_and(alive, tf.logical_not(ge1))  # |k| ≥ 1: a_m … a_31 stay 0, the recursion stops
        k = (tf.where(alive, k_hi, zero), tf.where(alive, k_lo, zero))
        cur = (a_hi[..., 1:m + 1], a_lo[..., 1:m + 1])  # a_1 … a_m (a_m = 0)
        rev = (tf.reverse(a_hi[..., :m], axis=[-1]), tf.reverse(a_lo[..., :m], axis=[-1]))  # a_{m−1} … a_0
        new = df_add(cur, df_mul((k[0][..., None], k[1][..., None]), rev))  # a_j + k·a_{m−j}; a_m = k
        a_hi = tf.concat([a_hi[..., :1], new[0], a_hi[..., m + 1:]], axis=-1)
        a_lo = tf.concat([a_lo[..., :1], new[1], a_lo[..., m + 1:]], axis=-1)
        ek = df_mul(df_mul(err, k), k)  # E·(1 − k²) as E − (E·k)·k: no constant 1 for the optimiser to fold
        shrunk = df_add(err, (-ek[0], -ek[1]))
        err = (tf.where(alive, shrunk[0], err[0]), tf.where(alive, shrunk[1], err[1]))
    return a_hi + a_lo


def _tf_levinson_f32(r):
    """The same recursion in the dtype of ``r`` (float32: fast, but ill-conditioned subframes deviate strongly;
    float64: within ~1e-8 of the C routine). ``r`` (…, 32) → (…, 32); the recursion runs coefficient-major
    ((32, …) with the subframes contiguous), so every step is a few wide elementwise ops."""
    rank = len(r.shape)
    rt = tf.transpose(r, [rank - 1, *range(rank - 1)])
    r0 = rt[0]
    alive = r0 > 0
    err = tf.where(alive, r0, tf.ones_like(r0))
    a = tf.ones_like(rt[:1])  # [a_0 … a_{m−1}], grows by one row per step
    zero = tf.zeros_like(r0)
    for m in range(1, ORDER):
        acc = tf.reduce_sum(a[1:] * rt[m - 1:0:-1], axis=0) if m > 1 else zero
        k = -(rt[m] + acc) / err
        alive = tf.logical_and(alive, tf.abs(k) < 1.0)
        k = tf.where(alive, k, zero)
        ext = tf.concat([a, zero[None]], axis=0)  # [a_0 … a_{m−1}, 0]
        a = ext + k[None] * tf.reverse(ext, axis=[0])  # a_j + k a_{m−j}; a_0 stays 1, a_m = k
        err = tf.where(alive, err * (1.0 - k * k), err)
    return tf.transpose(a, [*range(1, rank), 0])


def _tf_autocorr_fft(s):
    """R[..., j] = Σ_n s[..., n]·s[..., n+j], j < 32, as irfft(|rfft(s, 512)|²) (float64; no wrap-around)."""
    spectrum = tf.signal.rfft(s, fft_length=[2 * SUBFRAME])
    power = tf.math.real(spectrum) ** 2 + tf.math.imag(spectrum) ** 2
    return tf.signal.irfft(tf.complex(power, tf.zeros_like(power)), fft_length=[2 * SUBFRAME])[..., :ORDER]


def _tf_lpc_subframes(sub):
    """float64 FACEGOOD LPC of raw subframes (…, 256) float32 → (…, 32) float32: FFT autocorrelation, Levinson."""
    s = tf.cast(sub, tf.float64) * tf.constant(HANN, tf.float64)
    r = _tf_autocorr_fft(s)
    r = tf.concat([r[..., :1] * (1.0 + WHITE_NOISE_CORRECTION), r[..., 1:]], axis=-1)
    return tf.cast(_tf_levinson_f32(r), tf.float32)


def _tf_autocorr_paper_subframes(sub):
    """float32 Karras autocorrelation of raw subframes (…, 256) → (…, 32)."""
    s = (sub - tf.reduce_mean(sub, axis=-1, keepdims=True)) * tf.constant(HANN, tf.float32)
    return _tf_lags(s) / float(SUBFRAME)


def lpc_facegood_tf(windows, precision: str = "float64"):
    """TF version of ``features.lpc_facegood``: (B, 8320) float32 → (B, 32, 64, 1) float32.

    ``precision``:

    * ``"float64"`` (default): the same recursion in TF float64 ops, cast to float32 at the end.
      Fast and within ~1e-8 of the NumPy/C result; for SavedModels (TFLite has no float64 kernels).
    * ``"double_float"``: builtin float32 ops only (TFLite), every quantity a pair of float32
      (~48-bit significand): close to the float64 result (see ``TF_LPC_TOLERANCE``). The graph has ~7000
      ops: tracing takes ~8 s, TFLite conversion ~25 s (a 1.4 MB model).
    * ``"float32"``: plain float32, ~5× faster than double-float but off by O(1) on ill-conditioned subframes.

    Same rules: R[0] ≤ 0 → [1, 0 … 0]; |k_m| ≥ 1 → a_m … a_31 = 0 (masks via ``tf.where``).
    """
    if precision not in ("float64", "double_float", "float32"):
        raise ValueError(f"precision must be 'float64', 'double_float' or 'float32'; got {precision!r}")
    if precision == "float64":
        return _tf_layout(_tf_lpc_subframes(_tf_subframes(windows)))
    sub = _tf_subframes(windows)
    s_hi, s_lo, p2 = _tf_hann_df(sub)
    if precision == "float32":
        scale = tf.sqrt(tf.where(p2 > 0, p2, tf.ones_like(p2)))  # P: exact power of two, 1 for silence
        return _tf_layout(_tf_levinson_f32(_tf_lags(s_hi / scale)))
    return _tf_layout(_tf_levinson_df(*_tf_autocorr_df(s_hi, s_lo, p2)))


def autocorr_paper_tf(windows):
    """float32 TF version of ``features.autocorr_paper``: (B, 8320) → (B, 32, 64, 1), (x − mean)·Hann, lags / 256."""
    return _tf_layout(_tf_autocorr_paper_subframes(_tf_subframes(windows)))


_PER_SUBFRAME_TF = {"lpc_facegood": _tf_lpc_subframes, "autocorr_paper": _tf_autocorr_paper_subframes}


def frame_features_tf(audio, feature: str = "lpc_facegood"):
    """TF version of ``features.frame_features`` for a batch of clips: (B, S) float32 16 kHz → (B, F, 32, 64, 1)
    float32, F = floor(S · 30 / 16000), with ``lpc_facegood_tf``'s float64 LPC (or ``autocorr_paper_tf``).

    Every phase p < 6 of the frame anchors gets its own 128-sample subframe grid starting at frame p's window;
    frame 6q + p takes subframes 25q … 25q + 63 of it, so each distinct subframe is computed once (all phases
    are computed for ceil(F / 6) frames and the surplus is cut).
    """
    if feature not in _PER_SUBFRAME_TF:
        raise ValueError(f"unknown feature {feature!r}; choose one of {sorted(_PER_SUBFRAME_TF)}")
    per_subframe = _PER_SUBFRAME_TF[feature]
    audio = tf.convert_to_tensor(audio, tf.float32)
    batch = tf.shape(audio)[0]
    frames = tf.shape(audio, out_type=tf.int64)[1] * FPS // SAMPLE_RATE
    periods = (frames + PERIOD_FRAMES - 1) // PERIOD_FRAMES
    count = PERIOD_HOPS * periods + (SUBFRAMES - PERIOD_HOPS)  # subframes per phase grid (for `periods` frames)
    # WINDOW − LOOKAHEAD zeros before (window starts = frame anchors); enough after for the surplus frames
    padded = tf.pad(audio, [[0, 0], [WINDOW - LOOKAHEAD, WINDOW + PERIOD_HOPS * HOP + SAMPLE_RATE // FPS]])
    index = PERIOD_HOPS * tf.range(periods)[:, None] + tf.range(SUBFRAMES, dtype=tf.int64)[None, :]  # (Q, 64)
    phases = []
    for phase in range(PERIOD_FRAMES):
        start = phase * SAMPLE_RATE // FPS
        hops = tf.reshape(padded[:, start:start + HOP * (count + 1)], [batch, -1, HOP])
        sub = tf.concat([hops[:, :-1], hops[:, 1:]], axis=-1)  # (B, count, 256)
        phases.append(tf.gather(per_subframe(sub), index, axis=1))  # (B, Q, 64, 32)
    out = tf.reshape(tf.stack(phases, axis=2), [batch, -1, SUBFRAMES, ORDER])[:, :frames]  # frame 6q + p
    return tf.expand_dims(tf.transpose(out, [0, 1, 3, 2]), -1)


FEATURES_TF = {"lpc_facegood": lpc_facegood_tf, "autocorr_paper": autocorr_paper_tf}


def measure_deviation(audio16k: np.ndarray) -> dict:
    """|lpc_facegood_tf − lpc_facegood| over every window of a clip, per precision: max, mean, fraction > 1e-3."""
    from .features import clip_windows, lpc_facegood

    windows = clip_windows(audio16k).astype(np.float32)
    reference = lpc_facegood(windows)
    out = {}
    for precision in ("float64", "double_float", "float32"):
        got = np.concatenate([lpc_facegood_tf(tf.constant(windows[k:k + 256]), precision).numpy()
                              for k in range(0, len(windows), 256)])
        diff = np.abs(got - reference)
        out[precision] = {"max": float(diff.max()), "mean": float(diff.mean()),
                          "frac_gt_1e-3": float((diff > 1e-3).mean())}
    return {"windows": len(windows), **out}


if __name__ == "__main__":
    import json
    import sys

    from zoo.datasets import load_audio

    from .features import prepare_audio

    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m zoo.audio2face.features_tf WAV")
    sys.stdout.write(json.dumps(measure_deviation(prepare_audio(*load_audio(sys.argv[1]))), indent=1) + "\n")
