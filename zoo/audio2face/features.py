"""Audio features for Audio2Face (Karras et al. 2017; FACEGOOD), NumPy: 520 ms windows → (32, 64, 1) maps.

Units and framing (spec §1):

* audio is mono float at ``SAMPLE_RATE`` = 16 000 Hz; animation frames run at ``FPS`` = 30;
* a clip of ``S`` samples has ``N = floor(S · 30 / 16000)`` frames (``zoo.datasets.expected_frames``, exact);
* frame ``i`` is anchored at sample ``c_i = floor(i · 16000 / 30)``; its window is the ``WINDOW`` = 8320
  samples (520 ms) ``[c_i − 4160, c_i + 4160)``, zeros outside the clip (``LOOKAHEAD`` = 4160 = 260 ms);
* the window holds ``SUBFRAMES`` = 64 subframes of ``SUBFRAME`` = 256 samples (16 ms); subframe ``k``
  covers samples ``[128·k, 128·k + 256)`` (``HOP`` = 128 = 8 ms); ``w[n]`` = ``HANN`` = ``np.hanning(256)``
  (symmetric Hann, zero at both ends);
* every feature is laid out ``(N, 32 coefficient, 64 time, 1)`` (the per-window 64 × 32 result transposed).

Features (``x[n]`` = one subframe, ``n = 0 … 255``), float64:

``lpc_facegood`` (FACEGOOD's ``LPC.dll``, bit-compatible):
    ``s[n] = x[n] · w[n]`` (no DC removal, no pre-emphasis, no normalisation);
    ``R[j] = Σ_{n=0}^{255−j} s[n] · s[n+j]`` for ``j = 0 … 31``, summed sequentially in ``n``;
    ``R[0] ← R[0] · (1 + 1e-9)``; Levinson–Durbin of order 31 for ``A(z) = 1 + Σ_j a_j z^−j``:
    ``k_m = −(R[m] + Σ_{j=1}^{m−1} a_j R[m−j]) / E_{m−1}`` (the sum accumulated from 0 in ``j`` order, then
    added to ``R[m]``), ``a_j ← a_j + k_m a_{m−j}``, ``a_m = k_m``, ``E_m = E_{m−1} (1 − k_m²)``, ``E_0 = R[0]``;
    output ``[1, a_1, …, a_31]`` (dimensionless, scale invariant). If ``R[0] ≤ 0`` the output is
    ``[1, 0, …, 0]``; if ``|k_m| ≥ 1`` (or ``k_m`` is not finite) ``a_m … a_31`` are 0 and the recursion stops.

``autocorr_paper`` (Karras 2017 / NVIDIA's ``AutoCorr`` layer):
    ``s[n] = (x[n] − mean(x)) · w[n]``; ``R[j] = Σ_{n=0}^{255−j} s[n] · s[n+j] / 256`` for ``j = 0 … 31``
    (units: input amplitude squared).

``frame_features`` (the clip path used for training and inference) computes each distinct subframe once: frame
anchors repeat their place on the 128-sample grid every 6 frames, so a clip needs 25 subframes per 6 frames, not
384. Bit-identical to the per-window functions. ``audio_features`` = ``prepare_audio`` → ``frame_features``.
Speeds: ``benchmarks/results.md``. TensorFlow versions: ``features_tf``.
"""
from __future__ import annotations

import functools

import numpy as np

from zoo.datasets.audio import resample
from zoo.datasets.cache import FeatureCache
from zoo.datasets.clip import expected_frames
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

HANN = np.hanning(SUBFRAME)  # w[n], float64, symmetric


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


def clip_windows(audio16k: np.ndarray, n_frames: int | None = None) -> np.ndarray:
    """The ``(N, 8320)`` float32 windows of 16 kHz mono audio, one per 30 fps frame (N defaults to all frames,
    ``expected_frames(samples, 16000, 30)``)."""
    audio16k = np.asarray(audio16k)
    if audio16k.ndim != 1:
        raise ValueError(f"clip_windows needs mono (samples,) audio; got shape {audio16k.shape}")
    n = expected_frames(audio16k.shape[0], SAMPLE_RATE, FPS) if n_frames is None else int(n_frames)
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
    return _levinson(_autocorr_sequential(sub, HANN))


def _autocorr_paper_subframes(sub: np.ndarray) -> np.ndarray:
    """Karras autocorrelation of raw subframes (M, 256), any real dtype → (32, M) float64."""
    sub = np.asarray(sub, np.float64)
    return _autocorr_sequential(sub - sub.mean(axis=1, keepdims=True), HANN) / SUBFRAME


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
    n = max(expected_frames(audio.shape[0], SAMPLE_RATE, FPS) - first, 0) if n_frames is None else int(n_frames)
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


# --------------------------------------------------------------------------------------------- registry and clips
FEATURES = {"lpc_facegood": lpc_facegood, "autocorr_paper": autocorr_paper}


def audio_features(audio, sample_rate: int, feature: str = "lpc_facegood") -> np.ndarray:
    """Features of a whole clip at any rate, PCM or float: ``prepare_audio`` → ``frame_features``,
    (N, 32, 64, 1) float64, N = floor(seconds · 30) ≥ 1."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; choose one of {sorted(FEATURES)}")
    mono = prepare_audio(audio, sample_rate)
    if expected_frames(mono.shape[0], SAMPLE_RATE, FPS) == 0:
        raise ValueError(
            f"audio of {mono.shape[0] / SAMPLE_RATE:.3g} s is shorter than one {FPS} fps frame "
            f"({1000 / FPS:.1f} ms); no feature window can be made"
        )
    return frame_features(mono, feature=feature)


FEATURE_VERSION = 1  # bump when the feature code changes its numbers: cached features are keyed by it


def clip_features(clip, feature: str = "lpc_facegood", cache_dir=None) -> np.ndarray:
    """(frames, 32, 64, 1) float32 features of a ``zoo.datasets.Clip``, one row per target frame; cached under
    ``cache_dir`` (``zoo.datasets.FeatureCache``, keyed by the feature, ``FEATURE_VERSION`` and the framing)."""
    def compute(c) -> np.ndarray:
        return frame_features(prepare_audio(c.audio, c.sample_rate), c.num_frames, feature).astype(np.float32)

    if cache_dir is None:
        return compute(clip)
    key = {"model": "audio2face", "feature": feature, "version": FEATURE_VERSION, "sample_rate": SAMPLE_RATE,
           "fps": FPS, "window": WINDOW}
    return FeatureCache(cache_dir, key).get_or_compute(clip, compute)
