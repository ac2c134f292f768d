"""Audio features for Audio2Face (Karras et al. 2017; FACEGOOD): 520 ms windows → (32, 64, 1) maps.

Units and framing (spec §1):

* audio is mono float at ``SAMPLE_RATE`` = 16 000 Hz; animation frames run at ``FPS`` = 30;
* a clip of ``S`` samples has ``N = floor(S · 30 / 16000)`` frames (exact integer arithmetic);
* frame ``i`` is anchored at sample ``c_i = floor(i · 16000 / 30)``; its window is the ``WINDOW`` = 8320
  samples (520 ms) ``[c_i − 4160, c_i + 4160)``, zeros outside the clip (``LOOKAHEAD`` = 4160 = 260 ms);
* the window holds ``SUBFRAMES`` = 64 subframes of ``SUBFRAME`` = 256 samples (16 ms); subframe ``k``
  covers samples ``[128·k, 128·k + 256)`` (``HOP`` = 128 = 8 ms); ``w[n]`` is ``np.hanning(256)``
  (symmetric Hann, zero at both ends);
* every feature is laid out ``(N, 32 coefficient, 64 time, 1)`` (the per-window 64 × 32 result transposed).

Features (``x[n]`` = one subframe, ``n = 0 … 255``):

``lpc_facegood`` (FACEGOOD's ``LPC.dll``, bit-compatible, float64):
    ``s[n] = x[n] · w[n]`` (no DC removal, no pre-emphasis, no normalisation);
    ``R[j] = Σ_{n=0}^{255−j} s[n] · s[n+j]`` for ``j = 0 … 31``, summed sequentially in ``n``;
    ``R[0] ← R[0] · (1 + 1e-9)``; Levinson–Durbin of order 31 for ``A(z) = 1 + Σ_j a_j z^−j``:
    ``k_m = −(R[m] + Σ_{j=1}^{m−1} a_j R[m−j]) / E_{m−1}`` (the sum accumulated from 0 in ``j`` order, then
    added to ``R[m]``), ``a_j ← a_j + k_m a_{m−j}``, ``a_m = k_m``, ``E_m = E_{m−1} (1 − k_m²)``, ``E_0 = R[0]``;
    output ``[1, a_1, …, a_31]`` (dimensionless, scale invariant). If ``R[0] ≤ 0`` the output is
    ``[1, 0, …, 0]``; if ``|k_m| ≥ 1`` (or ``k_m`` is not finite) ``a_m … a_31`` are 0 and the recursion stops.

``autocorr_paper`` (Karras 2017 / NVIDIA's ``AutoCorr`` layer, float64):
    ``s[n] = (x[n] − mean(x)) · w[n]``; ``R[j] = Σ_{n=0}^{255−j} s[n] · s[n+j] / 256`` for ``j = 0 … 31``
    (units: input amplitude squared).

TensorFlow versions (``lpc_facegood_tf``, ``autocorr_paper_tf``) take ``(B, 8320)`` float32 windows (B dynamic) and
use only float32 TFLite builtin ops (strided slices, reshape, concat, mul/add/sub/div, sum/max, select); the 32
lags and the 31 Levinson steps are unrolled at trace time, so they work in a SavedModel and convert to TFLite.

Precision of ``lpc_facegood_tf`` (measured against the float64 ``lpc_facegood``; ``TF_LPC_DEVIATION``): an order-31
Levinson on Hann-windowed 16-bit speech is ill-conditioned (spectral valleys ~100 dB down; a relative error of 1e-9
in R already moves coefficients by up to 0.26). Plain float32 (``precision="float32"``, each subframe rescaled
exactly by a power of two, which fixes range but not conditioning) deviates on FACEGOOD 1114_2_01 (3295 windows)
by max 88, mean 0.093, with 28.5 % of values off by > 1e-3. The default ``precision="double_float"`` carries every
quantity as a float32 pair (~48-bit significand): the Hann product via TwoProd, the autocorrelation via TwoProd plus
summation on exact fixed grids, Levinson in pair arithmetic. Measured: speech max 2.3e-6, mean 1.4e-8, no value
off by > 1e-3 (0.005 % > 1e-6: float32 output rounding); digital silence exact; ±1 LSB dither, 2 LSB Gaussian,
1e-7 float and int16-scale noise max 1.5e-8; 50 Hz hum at −60 dBFS + 1 LSB max 2.9e-8; a tone burst after
silence max 2.0e-6; a pure 1 kHz sine max 2.3e-5 and DC max 1.6e-5 (these two have condition ~1e9 through the
1e-9 correction; plain float32 there: 4.1 and 1.0). TFLite (with XNNPACK) gives the same numbers. Cost: ~30
float32 ops per (lag, sample): about 6–11 s per 60 s of audio on 2 busy cores in TF or TFLite (float32 path ~1.3 s;
the float64 path and the NumPy functions: ``benchmarks/results.md``).
Synthetic formant "speech" (pure resonators, harsher than real speech): max ≤ 7.9e-6. The double-float path
expects |x| < 1e17 (int16-scale or [-1, 1] audio). Its pair arithmetic avoids the patterns that Grappler and the
TFLite converter rewrite (see the comment above ``_two_sum``); the tests check it traced and converted.

The ``"float64"`` precision computes R as ``irfft(|rfft(s, 512)|²)`` and runs the recursion coefficient-major
(~8× faster than the unrolled per-lag sums it replaced), max 8.8e-7 (float32 output rounding) and mean 1.3e-8 from
the C routine on 1114_2_01. Speeds of every path: ``benchmarks/results.md``.

``frame_features`` (the clip path used for training and inference) computes each distinct subframe once: frame
anchors repeat their place on the 128-sample grid every 6 frames, so a clip needs 25 subframes per 6 frames, not
384. Bit-identical to the per-window functions.

``autocorr_paper_tf`` is plain float32: max |error| 2.5e-7 · R[0] on the same clip.
"""
from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np

from zoo.datasets.audio import resample
from zoo.datasets.windows import WindowSpec, frame_anchors, frame_windows

SAMPLE_RATE = 16000  # Hz
FPS = 30  # animation frames per second
WINDOW = 8320  # samples per window (520 ms at 16 kHz)
LOOKAHEAD = 4160  # samples after the frame anchor (260 ms)
SUBFRAMES = 64  # subframes per window
SUBFRAME = 256  # samples per subframe (16 ms)
HOP = 128  # samples between subframe starts (8 ms)
ORDER = 32  # outputs per subframe: [1, a_1 … a_31] (Levinson order 31) or 32 autocorrelation lags
FEATURE_SHAPE = (ORDER, SUBFRAMES, 1)  # (coefficient, time, channel)
WINDOW_SPEC = WindowSpec(window_seconds=WINDOW / SAMPLE_RATE, lookahead_seconds=LOOKAHEAD / SAMPLE_RATE)
WHITE_NOISE_CORRECTION = 1e-9  # R[0] ← R[0] · (1 + 1e-9)
BLOCK = 128  # windows per NumPy block (bounds the working memory to ~60 MB)
# Frame anchors return to the same position on the 128-sample subframe grid every 6 frames:
# 6 · 16000 / 30 = 3200 samples = 25 hops, so frame i + 6 reuses subframes 25 … 63 of frame i.
PERIOD_FRAMES = 6
PERIOD_HOPS = 25

# Measured |lpc_facegood_tf − lpc_facegood| on FACEGOOD 1114_2_01 (all 3295 windows): max, mean, and the fraction
# of values off by more than 1e-3. The tests assert bounds a little above these.
TF_LPC_DEVIATION = {
    "double_float": {"max": 2.34e-6, "mean": 1.35e-8, "frac_gt_1e-3": 0.0},
    "float32": {"max": 87.8, "mean": 0.0933, "frac_gt_1e-3": 0.285},
}

_HANN = np.hanning(SUBFRAME)  # float64, symmetric


# --------------------------------------------------------------------------------------------- audio and framing
def prepare_audio(audio, sample_rate: int) -> np.ndarray:
    """Audio as float32 mono at 16 kHz.

    ``audio`` is ``(samples,)`` or ``(samples, channels)``. Signed integer PCM is scaled by ``2^−(bits−1)``
    (int16: 1/32768), uint8 as ``(x − 128) / 128``; float is taken as is. Channels are averaged in float64;
    other rates are resampled with ``zoo.datasets.resample`` (soxr VHQ; float audio peaking above 1 is
    resampled at unit peak and scaled back, so it is not clipped).
    """
    a = np.asarray(audio)
    if a.ndim == 0 or a.ndim > 2:
        raise ValueError(f"audio must be (samples,) or (samples, channels); got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"audio is empty (shape {a.shape})")
    if a.ndim == 2 and a.shape[1] > a.shape[0]:
        raise ValueError(f"audio of shape {a.shape} looks like (channels, samples); pass (samples, channels)")
    rate = int(sample_rate)
    if rate != sample_rate or rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer in Hz; got {sample_rate!r}")
    if a.dtype == np.uint8:
        x = (a.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(a.dtype, np.signedinteger):
        x = a.astype(np.float64) * 2.0 ** -(8 * a.dtype.itemsize - 1)
    elif np.issubdtype(a.dtype, np.floating):
        x = a.astype(np.float64, copy=False)
        if not np.isfinite(x).all():
            first = int(np.argwhere(~np.isfinite(x))[0][0])
            raise ValueError(f"audio has non-finite samples (NaN or Inf), first at sample {first}")
    else:
        raise ValueError(f"audio must be integer PCM or float; got dtype {a.dtype}")
    mono = x.mean(axis=1) if x.ndim == 2 else x
    if rate != SAMPLE_RATE:
        peak = float(np.abs(mono).max())
        if peak > 1.0:  # resample() clips to [-1, 1]: resample int16-valued float audio at unit peak instead
            return (resample(mono / peak, rate, SAMPLE_RATE) * np.float32(peak)).astype(np.float32)
        return resample(mono, rate, SAMPLE_RATE)
    return mono.astype(np.float32)


def num_frames(num_samples: int, sample_rate: int = SAMPLE_RATE, fps: float = FPS) -> int:
    """Frames in a clip: ``floor(num_samples / sample_rate · fps)``, exact (integer/rational arithmetic)."""
    if num_samples < 0 or sample_rate <= 0 or fps <= 0:
        raise ValueError(f"need num_samples >= 0, sample_rate > 0, fps > 0; got {num_samples}, {sample_rate}, {fps}")
    f = Fraction(repr(float(fps))) if not isinstance(fps, int) else Fraction(fps)
    return int(int(num_samples) * f.numerator // (int(sample_rate) * f.denominator))


def clip_windows(audio16k: np.ndarray, n_frames: int | None = None) -> np.ndarray:
    """The ``(N, 8320)`` float32 windows of 16 kHz mono audio, one per 30 fps frame (N defaults to num_frames)."""
    audio16k = np.asarray(audio16k)
    if audio16k.ndim != 1:
        raise ValueError(f"clip_windows needs mono (samples,) audio; got shape {audio16k.shape}")
    n = num_frames(audio16k.shape[0]) if n_frames is None else int(n_frames)
    if n < 0:
        raise ValueError(f"n_frames must be >= 0; got {n_frames}")
    return frame_windows(audio16k, SAMPLE_RATE, FPS, n, WINDOW_SPEC)


def _check_windows(windows) -> np.ndarray:
    w = np.asarray(windows)
    if w.ndim != 2 or w.shape[1] != WINDOW:
        raise ValueError(f"windows must be (N, {WINDOW}); got shape {w.shape}")
    if not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)):
        raise ValueError(f"windows must be real numbers; got dtype {w.dtype}")
    if not np.isfinite(w).all():
        raise ValueError("windows contain non-finite samples (NaN or Inf)")
    return w


def _subframes(windows: np.ndarray) -> np.ndarray:
    """(N, 8320) → (N·64, 256) subframes (a copy in the windows' dtype), subframe k = samples [128k, 128k+256)."""
    view = np.lib.stride_tricks.sliding_window_view(windows, SUBFRAME, axis=1)[:, ::HOP]
    return view.reshape(-1, SUBFRAME)


def _to_layout(per_subframe: np.ndarray, n_windows: int) -> np.ndarray:
    """(32, N·64) coefficient-major → (N, 32, 64, 1)."""
    return np.ascontiguousarray(per_subframe.reshape(ORDER, n_windows, SUBFRAMES).transpose(1, 0, 2))[..., None]


# --------------------------------------------------------------------------------------------- NumPy features
def _autocorr_loops(x, weights, out):  # compiled by _kernels()
    s = np.empty(SUBFRAME)
    acc = np.empty(ORDER)
    for m in range(x.shape[0]):
        for n in range(SUBFRAME):
            s[n] = np.float64(x[m, n]) * weights[n]
        acc[:] = 0.0
        for n in range(SUBFRAME):  # the C order per lag: n ascending; the 32 lags are independent sums
            sn = s[n]
            for j in range(min(ORDER, SUBFRAME - n)):
                acc[j] += sn * s[n + j]
        out[:, m] = acc


def _levinson_loops(r, out):  # compiled by _kernels()
    a = np.empty(ORDER)
    rm = np.empty(ORDER)
    for m in range(r.shape[1]):
        rm[:] = r[:, m]
        a[:] = 0.0
        a[0] = 1.0
        err = rm[0] * (1.0 + WHITE_NOISE_CORRECTION)
        if err > 0.0:
            for i in range(1, ORDER):
                acc = 0.0
                for j in range(1, i):  # Σ_{j=1}^{i−1} a_j R[i−j], accumulated from 0 in j order
                    acc += a[j] * rm[i - j]
                k = -(rm[i] + acc) / err
                if not abs(k) < 1.0:  # |k| ≥ 1 (or NaN): a_i … a_31 stay 0, the recursion stops
                    break
                for j in range(1, i // 2 + 1):  # a_j ← a_j + k·a_{i−j}, a_{i−j} ← a_{i−j} + k·a_j (old values)
                    lo, hi = a[j], a[i - j]
                    a[j] = lo + k * hi
                    if j != i - j:
                        a[i - j] = hi + k * lo
                a[i] = k
                err = err * (1.0 - k * k)
        out[:, m] = a


@functools.cache
def _kernels():
    """The two loops compiled by numba on first use (IEEE arithmetic, no contraction; cached on disk), so importing
    this module does not load LLVM."""
    import numba

    compile_ = numba.njit(cache=True, nogil=True)
    return compile_(_autocorr_loops), compile_(_levinson_loops)


def _autocorr_sequential(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """R[j, m] = Σ_{n=0}^{255−j} s[m, n]·s[m, n+j], j < 32, s = float64(x)·weights (default 1), summed in n order
    (the C order): (M, 256) of any float dtype, rows may be strided views → (32, M) float64.

    A compiled loop (numba, IEEE arithmetic without contraction): per subframe the 32 lags accumulate side by
    side, each sequentially in n, so the sums are the C routine's bit for bit.
    """
    out = np.empty((ORDER, x.shape[0]))
    _kernels()[0](x, np.ones(SUBFRAME) if weights is None else weights, out)
    return out


def _levinson(r: np.ndarray) -> np.ndarray:
    """FACEGOOD's Levinson–Durbin (order 31) on R (32, M) float64 → [1, a_1 … a_31] (32, M), C arithmetic order.

    E_0 = R[0]·(1 + 1e-9); k_i = −(R[i] + Σ_{j<i} a_j R[i−j]) / E_{i−1}; a_j ← a_j + k_i a_{i−j}; a_i = k_i;
    E_i = E_{i−1}(1 − k_i²). R[0] ≤ 0 gives [1, 0, …, 0]; |k_i| ≥ 1 leaves a_i … a_31 at 0.
    """
    out = np.empty((ORDER, r.shape[1]))
    _kernels()[1](np.ascontiguousarray(r, dtype=np.float64), out)
    return out


def _lpc_subframes(sub: np.ndarray) -> np.ndarray:
    """FACEGOOD LPC of raw subframes (M, 256), any real dtype → (32, M) float64."""
    return _levinson(_autocorr_sequential(sub, _HANN))


def _autocorr_paper_subframes(sub: np.ndarray) -> np.ndarray:
    """Karras autocorrelation of raw subframes (M, 256), any real dtype → (32, M) float64."""
    sub = np.asarray(sub, np.float64)
    return _autocorr_sequential(sub - sub.mean(axis=1, keepdims=True), _HANN) / SUBFRAME


_PER_SUBFRAME = {"lpc_facegood": _lpc_subframes, "autocorr_paper": _autocorr_paper_subframes}


def subframe_features(subframes: np.ndarray, feature: str = "lpc_facegood") -> np.ndarray:
    """The feature of raw 256-sample subframes (M, 256), any real dtype → (32, M) float64, each column independent
    of the others (so any grouping of subframes gives the same bits as the window functions)."""
    if feature not in _PER_SUBFRAME:
        raise ValueError(f"unknown feature {feature!r}; choose one of {sorted(_PER_SUBFRAME)}")
    sub = np.asarray(subframes)
    if sub.ndim != 2 or sub.shape[1] != SUBFRAME:
        raise ValueError(f"subframes must be (M, {SUBFRAME}); got shape {sub.shape}")
    return _PER_SUBFRAME[feature](sub)


def _window_features(windows, per_subframe) -> np.ndarray:
    w = _check_windows(windows)
    out = np.empty((w.shape[0], *FEATURE_SHAPE))
    for start in range(0, w.shape[0], BLOCK):
        block = w[start:start + BLOCK]
        out[start:start + block.shape[0]] = _to_layout(per_subframe(_subframes(block)), block.shape[0])
    return out


def lpc_facegood(windows: np.ndarray) -> np.ndarray:
    """FACEGOOD's LPC feature, bit-compatible with ``LPC.dll``: (N, 8320) windows → (N, 32, 64, 1) float64.

    Per subframe: Hann-windowed, sequential autocorrelation R[0..31], R[0]·(1+1e-9), Levinson order 31,
    ``[1, a_1 … a_31]``; row 0 is exactly 1. Scale invariant (int16 or int16/32768 input give identical output).
    """
    return _window_features(windows, _lpc_subframes)


def autocorr_paper(windows: np.ndarray) -> np.ndarray:
    """Karras 2017 input: per subframe (x − mean)·Hann, R[j] = Σ s[n]s[n+j] / 256, j < 32 → (N, 32, 64, 1) float64."""
    return _window_features(windows, _autocorr_paper_subframes)


def frame_features(audio16k: np.ndarray, n_frames: int | None = None, feature: str = "lpc_facegood", *,
                   first_frame: int = 0) -> np.ndarray:
    """``FEATURES[feature](clip_windows(audio16k, …)[first_frame:first_frame + n_frames])``, bit for bit, computing
    each distinct subframe once. ``n_frames`` defaults to the clip's frames from ``first_frame`` on.

    Frame ``f + 6q + p`` (``f = first_frame``) uses subframes ``25q … 25q + 63`` of phase ``p``'s 128-sample grid,
    which starts at the window of frame ``f + p`` (anchors advance by exactly 3200 samples = 25 hops every 6
    frames: ``PERIOD_FRAMES``, ``PERIOD_HOPS``): ~25/6 ≈ 4.2 subframes per frame instead of 64 (2.56× less work
    than per-window features). Only the audio under the requested windows is read, so a long clip can be done in
    chunks of frames with bounded memory. (N, 32, 64, 1) float64.
    """
    if feature not in _PER_SUBFRAME:
        raise ValueError(f"unknown feature {feature!r}; choose one of {sorted(_PER_SUBFRAME)}")
    audio = np.asarray(audio16k)
    if audio.ndim != 1:
        raise ValueError(f"frame_features needs mono (samples,) audio; got shape {audio.shape}")
    first = int(first_frame)
    n = max(num_frames(audio.shape[0]) - first, 0) if n_frames is None else int(n_frames)
    if n < 0 or first < 0:
        raise ValueError(f"n_frames and first_frame must be >= 0; got {n_frames}, {first_frame}")
    if n == 0:
        return np.zeros((0, *FEATURE_SHAPE))
    per_subframe = _PER_SUBFRAME[feature]
    # window starts in audio padded by WINDOW − LOOKAHEAD zeros; the segment [lo, hi) of that padded audio
    anchors = frame_anchors(first + n, SAMPLE_RATE, FPS)[first:]
    lo, hi = int(anchors[0]), int(anchors[-1]) + WINDOW
    segment = np.zeros(hi - lo, np.float32)
    a, b = max(lo - (WINDOW - LOOKAHEAD), 0), min(hi - (WINDOW - LOOKAHEAD), audio.shape[0])
    if b > a:
        piece = audio[a:b]
        if not np.isfinite(piece).all():
            raise ValueError("audio contains non-finite samples (NaN or Inf)")
        segment[a + WINDOW - LOOKAHEAD - lo:b + WINDOW - LOOKAHEAD - lo] = piece
    grid = np.lib.stride_tricks.sliding_window_view(segment, SUBFRAME)
    columns, index = [], np.empty((n, SUBFRAMES), np.int64)
    offset = 0
    for phase in range(min(PERIOD_FRAMES, n)):
        frames = np.arange(phase, n, PERIOD_FRAMES)
        q = np.arange(len(frames))
        count = PERIOD_HOPS * (len(frames) - 1) + SUBFRAMES
        start = int(anchors[phase]) - lo
        subframes = grid[start:start + HOP * count:HOP]
        for block in range(0, count, BLOCK * SUBFRAMES):
            columns.append(per_subframe(subframes[block:block + BLOCK * SUBFRAMES]))
        index[frames] = offset + PERIOD_HOPS * q[:, None] + np.arange(SUBFRAMES)
        offset += count
    per = np.concatenate(columns, axis=1)
    return np.ascontiguousarray(per[:, index].transpose(1, 0, 2))[..., None]


# --------------------------------------------------------------------------------------------- TensorFlow features
# Double-float ("df") arithmetic: a value is an unevaluated float32 pair (hi, lo), |lo| ≤ ulp(hi)/2, ~48 bits.
# Error-free transformations (Knuth TwoSum, Dekker/Veltkamp split and TwoProd) need only IEEE round-to-nearest
# float32 add/sub/mul, which every TF and TFLite kernel provides. They must survive graph rewriting, so:
# (1) no `(x + c) − c` with a constant c (Grappler's constant push-down folds it to x): the extraction grids are
# data-dependent powers of two; (2) no chains of single-use Adds where order matters (Grappler's AddOpsRewrite
# turns them into a reordered AddN): TwoProd is written with subtractions only.
_SPLITTER = 4097.0  # 2^12 + 1: Veltkamp split of a float32 into two 12-bit halves
_POW2_SPLITTER = 8388609.0  # 2^23 + 1: the split keeps 1 significant bit, i.e. rounds to a power of two
_GRID1 = 512.0  # (p + 2^9·P²) − 2^9·P² rounds |p| ≤ P² to the grid 2^-15·P²: 256 such terms sum exactly
_GRID2 = 2.0 ** -6  # (r + 2^-6·P²) − 2^-6·P² rounds |r| ≤ 2^-15·P² to the grid 2^-30·P²: also exact sums


def _two_sum(a, b):
    """a + b = s + e exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):
    """a + b = s + e exactly when |a| ≥ |b| or a = 0 (Dekker)."""
    s = a + b
    return s, b - (s - a)


def _split(a):
    """a = hi + lo, each with ≤ 12 significant bits (Veltkamp)."""
    t = a * _SPLITTER
    hi = t - (t - a)
    return hi, a - hi


def _two_prod(a, b, a_split=None, b_split=None):
    """a·b = p + e exactly (Dekker); the splits may be passed in precomputed."""
    ah, al = _split(a) if a_split is None else a_split
    bh, bl = _split(b) if b_split is None else b_split
    p = a * b
    return p, al * bl - (((p - ah * bh) - ah * bl) - al * bh)  # = Dekker's ((ah·bh − p) + ah·bl + al·bh) + al·bl


def _df_add(x, y):
    """Accurate double-float x + y (IEEE-style, two TwoSums)."""
    s, e = _two_sum(x[0], y[0])
    t, f = _two_sum(x[1], y[1])
    s, e = _fast_two_sum(s, e + t)
    return _fast_two_sum(s, e + f)


def _df_mul(x, y):
    """Double-float x·y."""
    p, e = _two_prod(x[0], y[0])
    return _fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def _df_div(x, y):
    """Double-float x / y (one Newton-style correction of the float32 quotient)."""
    q1 = x[0] / y[0]
    p, e = _two_prod(q1, y[0])
    r = (((x[0] - p) - e) + x[1]) - q1 * y[1]
    return _fast_two_sum(q1, r / y[0])


def _df_sum_last(hi, lo):
    """Double-float sum over the last axis (static length) by a TwoSum tree."""
    import tensorflow as tf

    n = hi.shape[-1]
    size = 1 << (n - 1).bit_length()
    if size > n:
        pad = tf.zeros_like(hi[..., :1])
        hi = tf.concat([hi] + [pad] * (size - n), axis=-1)
        lo = tf.concat([lo] + [pad] * (size - n), axis=-1)
    while size > 1:
        size //= 2
        s, e = _two_sum(hi[..., :size], hi[..., size:])
        lo = (lo[..., :size] + lo[..., size:]) + e
        hi = s
    return _two_sum(hi[..., 0], lo[..., 0])


def _tf_subframes(windows):
    """(B, 8320) → (B, 64, 256) float32 via reshape into 65 hops and concat of neighbours (TFLite builtins)."""
    import tensorflow as tf

    w = tf.convert_to_tensor(windows, dtype=tf.float32)
    hops = tf.reshape(w, [-1, SUBFRAMES + 1, HOP])
    return tf.concat([hops[:, :-1], hops[:, 1:]], axis=-1)


def _tf_lags(s):
    """R[..., j] = Σ_n s[..., n]·s[..., n+j], j < 32, plain float32, unrolled → (..., 32)."""
    import tensorflow as tf

    return tf.stack([tf.reduce_sum(s[..., :SUBFRAME - j] * s[..., j:], axis=-1) for j in range(ORDER)], axis=-1)


def _tf_layout(r):
    """(B, 64, 32) → (B, 32, 64, 1)."""
    import tensorflow as tf

    return tf.expand_dims(tf.transpose(r, [0, 2, 1]), -1)


def _tf_hann_df(x):
    """s = x·hann as a double-float pair, and P² per subframe, P a power of two in [max|s|, 4·max|s|] (…, 1)."""
    import tensorflow as tf

    h_hi = _HANN.astype(np.float32)
    h_lo = (_HANN - h_hi).astype(np.float32)
    p, e = _two_prod(x, tf.constant(h_hi))
    s_hi, s_lo = _fast_two_sum(p, e + x * tf.constant(h_lo))
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
    import tensorflow as tf

    grid1 = p2 * _GRID1
    grid2 = p2 * _GRID2
    pad = tf.zeros_like(s_hi[..., :ORDER - 1])
    sh = tf.concat([s_hi, pad], axis=-1)
    sl = tf.concat([s_lo, pad], axis=-1)
    bh_all, bl_all = _split(sh)
    a_split = (bh_all[..., :SUBFRAME], bl_all[..., :SUBFRAME])
    his, los = [], []
    for j in range(ORDER):
        # one lag at a time (control dependency): running all 32 lags concurrently multiplies peak memory
        with tf.control_dependencies(los[-1:]):
            b = sh[..., j:j + SUBFRAME]
            p, e = _two_prod(s_hi, b, a_split, (bh_all[..., j:j + SUBFRAME], bl_all[..., j:j + SUBFRAME]))
            small = e + (s_hi * sl[..., j:j + SUBFRAME] + s_lo * b)  # |small| ≤ 3·2^-24·P²
            q1 = (p + grid1) - grid1
            r1 = p - q1
            q2 = (r1 + grid2) - grid2
            q3 = (small + grid2) - grid2
            rest = (r1 - q2) + (small - q3)
            h, l_ = _two_sum(tf.reduce_sum(q1, axis=-1), tf.reduce_sum(q2 + q3, axis=-1))  # both sums exact
            h, l_ = _fast_two_sum(h, l_ + tf.reduce_sum(rest, axis=-1))
        his.append(h)
        los.append(l_)
    return tf.stack(his, axis=-1), tf.stack(los, axis=-1)


def _tf_levinson_df(r_hi, r_lo):
    """FACEGOOD's Levinson–Durbin (order 31) in double-float; (…, 32) pairs → [1, a_1 … a_31] float32 (…, 32)."""
    import tensorflow as tf

    zero = tf.zeros_like(r_hi[..., 0])
    r0 = _fast_two_sum(r_hi[..., 0], r_lo[..., 0] + r_hi[..., 0] * WHITE_NOISE_CORRECTION)
    alive = r0[0] > 0
    err = (tf.where(alive, r0[0], tf.ones_like(zero)), tf.where(alive, r0[1], zero))
    a_hi = tf.concat([tf.ones_like(r_hi[..., :1]), tf.zeros_like(r_hi[..., 1:])], axis=-1)
    a_lo = tf.zeros_like(r_hi)
    for m in range(1, ORDER):
        num = (r_hi[..., m], r_lo[..., m])
        if m > 1:  # Σ_{j=1}^{m-1} a_j R[m−j]
            ah, al = a_hi[..., 1:m], a_lo[..., 1:m]
            rh, rl = tf.reverse(r_hi[..., 1:m], axis=[-1]), tf.reverse(r_lo[..., 1:m], axis=[-1])
            p, e = _two_prod(ah, rh)
            num = _df_add(num, _df_sum_last(p, e + (ah * rl + al * rh)))
        k_hi, k_lo = _df_div(num, err)
        k_hi, k_lo = -k_hi, -k_lo
        mag = tf.abs(k_hi)
        ge1 = tf.logical_or(mag > 1.0, tf.logical_and(mag >= 1.0, k_lo * k_hi >= 0.0))
        alive = tf.logical_and(alive, tf.logical_not(ge1))  # |k| ≥ 1: a_m … a_31 stay 0, the recursion stops
        k = (tf.where(alive, k_hi, zero), tf.where(alive, k_lo, zero))
        cur = (a_hi[..., 1:m + 1], a_lo[..., 1:m + 1])  # a_1 … a_m (a_m = 0)
        rev = (tf.reverse(a_hi[..., :m], axis=[-1]), tf.reverse(a_lo[..., :m], axis=[-1]))  # a_{m−1} … a_0
        new = _df_add(cur, _df_mul((k[0][..., None], k[1][..., None]), rev))  # a_j + k·a_{m−j}; a_m = k
        a_hi = tf.concat([a_hi[..., :1], new[0], a_hi[..., m + 1:]], axis=-1)
        a_lo = tf.concat([a_lo[..., :1], new[1], a_lo[..., m + 1:]], axis=-1)
        ek = _df_mul(_df_mul(err, k), k)  # E·(1 − k²) as E − (E·k)·k: no constant 1 for the optimiser to fold
        shrunk = _df_add(err, (-ek[0], -ek[1]))
        err = (tf.where(alive, shrunk[0], err[0]), tf.where(alive, shrunk[1], err[1]))
    return a_hi + a_lo


def _tf_levinson_f32(r):
    """The same recursion in the dtype of ``r`` (float32: fast, but ill-conditioned subframes deviate strongly;
    float64: within ~1e-8 of the C routine). ``r`` (…, 32) → (…, 32); the recursion runs coefficient-major
    ((32, …) with the subframes contiguous), so every step is a few wide elementwise ops."""
    import tensorflow as tf

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
    import tensorflow as tf

    spectrum = tf.signal.rfft(s, fft_length=[2 * SUBFRAME])
    power = tf.math.real(spectrum) ** 2 + tf.math.imag(spectrum) ** 2
    return tf.signal.irfft(tf.complex(power, tf.zeros_like(power)), fft_length=[2 * SUBFRAME])[..., :ORDER]


def lpc_facegood_tf(windows, precision: str = "float64"):
    """TF version of ``lpc_facegood``: (B, 8320) float32 → (B, 32, 64, 1) float32.

    ``precision``:

    * ``"float64"`` (default): the same recursion in TF float64 ops, cast to float32 at the end.
      Fast and within ~1e-8 of the NumPy/C result; for SavedModels (TFLite has no float64 kernels).
    * ``"double_float"``: builtin float32 ops only (TFLite), every quantity a pair of float32
      (~48-bit significand): close to the float64 result (see ``TF_LPC_DEVIATION``). The graph has ~7000
      ops: tracing takes ~8 s, TFLite conversion ~25 s (a 1.4 MB model).
    * ``"float32"``: plain float32, ~5× faster than double-float but off by O(1) on ill-conditioned subframes.

    Same rules: R[0] ≤ 0 → [1, 0 … 0]; |k_m| ≥ 1 → a_m … a_31 = 0 (masks via ``tf.where``).
    """
    import tensorflow as tf

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
    """float32 TF version of ``autocorr_paper``: (B, 8320) → (B, 32, 64, 1), (x − mean)·Hann, lags / 256."""
    return _tf_layout(_tf_autocorr_paper_subframes(_tf_subframes(windows)))


def _tf_lpc_subframes(sub):
    """float64 FACEGOOD LPC of raw subframes (…, 256) float32 → (…, 32) float32: FFT autocorrelation, Levinson."""
    import tensorflow as tf

    s = tf.cast(sub, tf.float64) * tf.constant(_HANN, tf.float64)
    r = _tf_autocorr_fft(s)
    r = tf.concat([r[..., :1] * (1.0 + WHITE_NOISE_CORRECTION), r[..., 1:]], axis=-1)
    return tf.cast(_tf_levinson_f32(r), tf.float32)


def _tf_autocorr_paper_subframes(sub):
    """float32 Karras autocorrelation of raw subframes (…, 256) → (…, 32)."""
    import tensorflow as tf

    s = (sub - tf.reduce_mean(sub, axis=-1, keepdims=True)) * tf.constant(_HANN, tf.float32)
    return _tf_lags(s) / float(SUBFRAME)


_PER_SUBFRAME_TF = {"lpc_facegood": _tf_lpc_subframes, "autocorr_paper": _tf_autocorr_paper_subframes}


def frame_features_tf(audio, feature: str = "lpc_facegood"):
    """TF version of ``frame_features`` for a batch of clips: (B, S) float32 16 kHz → (B, F, 32, 64, 1) float32,
    F = floor(S · 30 / 16000), with ``lpc_facegood_tf``'s float64 LPC (or ``autocorr_paper_tf``).

    Every phase p < 6 of the frame anchors gets its own 128-sample subframe grid starting at frame p's window;
    frame 6q + p takes subframes 25q … 25q + 63 of it, so each distinct subframe is computed once (all phases
    are computed for ceil(F / 6) frames and the surplus is cut).
    """
    import tensorflow as tf

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


# --------------------------------------------------------------------------------------------- registry and clips
FEATURES = {"lpc_facegood": lpc_facegood, "autocorr_paper": autocorr_paper}
FEATURES_TF = {"lpc_facegood": lpc_facegood_tf, "autocorr_paper": autocorr_paper_tf}


def clip_features(audio, sample_rate: int, feature: str = "lpc_facegood") -> np.ndarray:
    """prepare_audio → ``frame_features``: (N, 32, 64, 1) float64, N = floor(seconds · 30)."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; choose one of {sorted(FEATURES)}")
    mono = prepare_audio(audio, sample_rate)
    if num_frames(mono.shape[0]) == 0:
        raise ValueError(
            f"audio of {mono.shape[0] / SAMPLE_RATE:.3g} s is shorter than one {FPS} fps frame "
            f"({1000 / FPS:.1f} ms); no feature window can be made"
        )
    return frame_features(mono, feature=feature)
