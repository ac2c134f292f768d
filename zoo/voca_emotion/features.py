"""VOCA's default audio front end without DeepSpeech (specs/voca.md §1.2 option A), in NumPy only.

Audio (float32 mono, any rate) → 16 kHz → 29 features per 10 ms frame (100 fps) → standardised per utterance
and per coefficient → linearly interpolated to 60 fps → one (16, 29) window per 60-fps animation frame. The last
two steps are the original's (§1.1 steps 5–6) unchanged; only the 29 DeepSpeech logits are replaced.

Framing rule (16 kHz): frame k, k = 0 … K−1 with ``K = ceil(S / 160)`` for S samples, is centred at sample
160·k (time k/100 s) and covers samples [160·k − 200, 160·k + 200), samples outside the audio being zero (200
zeros before, 160·K + 40 − S ∈ [40, 200) after). So every frame centre lies inside the audio and frame k's
timestamp is exactly the i/100 s the 100 → 60 fps interpolation uses (the original's frames started at sample 0,
so its timestamps ran 12.5 ms early). Each frame is multiplied by a periodic Hann window
w[n] = 0.5 − 0.5·cos(2πn/400), n = 0 … 399, and zero-padded to a 512-point DFT:
P[k, f] = |Σ_n w[n]·x_k[n]·exp(−2πi·f·n/512)|², f = 0 … 256 (bin f at f·31.25 Hz; audio in [−1, 1], no scaling).

Feature kinds (``KINDS``; 29 = ``NUM_FEATURES`` columns either way):

* ``"logmel"``: ln(max(P·M29, 1e-10)), M29 = 29 triangular HTK-mel filters between 0 Hz and 8 kHz (peak 1).
* ``"mfcc"`` (default): the first 29 coefficients of the orthonormal DCT-II of ln(max(P·M40, 1e-10)), a
  40-band filterbank of the same construction (c0 included, no lifter, no pre-emphasis).

Standardisation, per utterance and per coefficient over its K frames: (x − mean) / max(std, 1e-5) (population
std), so digital silence gives zeros rather than a division by zero.

Frame count at 60 fps: N = round(S_orig · 60 / rate_orig) from the *original* length and rate, evaluated
exactly (rationally) with Python 3's round, i.e. ties to even (1200 samples at 16 kHz: 4.5 → 4). The original
computed ``int(round(len / sr * 60))`` on floats, which agrees except on exact ties, where float rounding of
len/sr decides (16 400 samples at 16 kHz: 61.5 → 61 there, 62 here); ``num_frames(..., legacy=True)`` gives it.

The TensorFlow version (``features_tf``) implements the same steps in TF ops and agrees within its tested bound.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

SAMPLE_RATE = 16000  # Hz, the rate features are computed at
FEATURE_FPS = 100  # frames per second before the 60-fps interpolation
HOP = SAMPLE_RATE // FEATURE_FPS  # 160 samples = 10 ms
WIN = 400  # samples = 25 ms
N_FFT = 512
N_BINS = N_FFT // 2 + 1  # 257 rfft bins, bin f at f · 31.25 Hz
F_MIN, F_MAX = 0.0, SAMPLE_RATE / 2  # Hz, filterbank range
FPS = 60  # animation frames per second
WINDOW_FRAMES = 16  # 60-fps frames per model input window
PAD_ROWS = 8  # zero rows before and after the 60-fps feature matrix
NUM_FEATURES = 29
MFCC_BANDS = 40  # mel bands under the MFCC
ENERGY_FLOOR = 1e-10  # floor of mel energies before the log
STD_FLOOR = 1e-5  # floor of the standardisation's std
KINDS = ("mfcc", "logmel")
DEFAULT_KIND = "mfcc"
BANDS = {"mfcc": MFCC_BANDS, "logmel": NUM_FEATURES}  # mel bands behind each kind

HANN = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WIN) / WIN)  # periodic Hann, float64 (400,)


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; expected one of {KINDS}")
    return kind


def hz_to_mel(hz):
    """HTK mel scale: m = 2595 · log10(1 + f / 700), f in Hz."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    """Inverse of ``hz_to_mel``: f = 700 · (10^(m / 2595) − 1) Hz."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def band_edges(n_mels: int) -> np.ndarray:
    """(n_mels + 2,) Hz: equally spaced on the HTK mel scale from ``F_MIN`` to ``F_MAX``; band b has lower edge
    [b], centre [b + 1] and upper edge [b + 2]."""
    return mel_to_hz(np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), n_mels + 2))


def mel_filterbank(n_mels: int) -> np.ndarray:
    """(257, n_mels) float64: triangular filters on the 512-point rfft bins at 16 kHz (bin f at f·31.25 Hz).

    Band b rises linearly from 0 at its lower edge to 1 at its centre and falls to 0 at its upper edge
    (``band_edges``); weight = max(0, min((f − lo)/(c − lo), (hi − f)/(hi − c))). No area normalisation.
    """
    edges = band_edges(n_mels)
    freqs = np.arange(N_BINS) * (SAMPLE_RATE / N_FFT)
    lo, centre, hi = edges[:-2], edges[1:-1], edges[2:]
    rising = (freqs[:, None] - lo) / (centre - lo)
    falling = (hi - freqs[:, None]) / (hi - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_in, n_out) float64 orthonormal DCT-II, so that ``c = x @ D`` for x (…, n_in):
    c_q = s_q · Σ_m x_m · cos(π · q · (2m + 1) / (2 · n_in)), s_0 = √(1/n_in), s_q = √(2/n_in) for q > 0."""
    m = np.arange(n_in)[:, None]
    q = np.arange(n_out)[None, :]
    scale = np.where(q == 0, math.sqrt(1.0 / n_in), math.sqrt(2.0 / n_in))
    return scale * np.cos(np.pi * q * (2 * m + 1) / (2 * n_in))


def feature_matrices(kind: str = DEFAULT_KIND) -> tuple[np.ndarray, np.ndarray | None]:
    """(mel filterbank (257, bands), DCT (bands, 29) or None for ``"logmel"``), float64: features =
    ln(max(P @ mel, 1e-10)) [@ DCT]."""
    bands = BANDS[_check_kind(kind)]
    return mel_filterbank(bands), (dct_matrix(bands, NUM_FEATURES) if kind == "mfcc" else None)


def num_feature_frames(num_samples: int) -> int:
    """K = ceil(S / 160): the 100-fps frames of S samples at 16 kHz (frame k centred at sample 160·k)."""
    return -(-int(num_samples) // HOP)


def frame_signal(audio16k: np.ndarray) -> np.ndarray:
    """(K, 400) float64: frame k = samples [160·k − 200, 160·k + 200) of the 16 kHz audio, zeros outside it."""
    x = np.asarray(audio16k, dtype=np.float64)
    k = num_feature_frames(len(x))
    padded = np.concatenate([np.zeros(WIN // 2), x, np.zeros(HOP * (k - 1) + WIN - WIN // 2 - len(x))])
    starts = HOP * np.arange(k)
    return padded[starts[:, None] + np.arange(WIN)[None, :]]


def power_spectrum(audio16k: np.ndarray) -> np.ndarray:
    """(K, 257) float64: P[k, f] = |rfft(Hann · frame k, 512)[f]|² (audio in [−1, 1], unscaled)."""
    spec = np.fft.rfft(frame_signal(audio16k) * HANN, n=N_FFT, axis=1)
    return spec.real**2 + spec.imag**2


def log_mel(audio16k: np.ndarray, n_mels: int = NUM_FEATURES) -> np.ndarray:
    """(K, n_mels) float64: ln(max(P @ mel_filterbank(n_mels), 1e-10)), natural log of band energies."""
    return np.log(np.maximum(power_spectrum(audio16k) @ mel_filterbank(n_mels), ENERGY_FLOOR))


def mfcc(audio16k: np.ndarray) -> np.ndarray:
    """(K, 29) float64: the first 29 orthonormal DCT-II coefficients of the 40-band log-mel energies."""
    return log_mel(audio16k, MFCC_BANDS) @ dct_matrix(MFCC_BANDS, NUM_FEATURES)


def standardise(x: np.ndarray) -> np.ndarray:
    """Per column over rows: (x − mean) / max(std, 1e-5), population std; float64 (K, F) → (K, F)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return x.copy()
    mean = x.mean(axis=0)
    std = np.sqrt(((x - mean) ** 2).mean(axis=0))
    return (x - mean) / np.maximum(std, STD_FLOOR)


def frame_features(audio16k: np.ndarray, kind: str = DEFAULT_KIND) -> np.ndarray:
    """(K, 29) float32 at 100 fps: ``kind`` features of 16 kHz audio (S,), standardised per coefficient."""
    raw = mfcc(audio16k) if _check_kind(kind) == "mfcc" else log_mel(audio16k, NUM_FEATURES)
    return standardise(raw).astype(np.float32)


def num_frames(num_samples: int, sample_rate: int, legacy: bool = False) -> int:
    """N = round(num_samples · 60 / sample_rate): 60-fps frames of an audio clip at its original rate.

    Exact rational value, ties to even (Python 3 ``round``). ``legacy=True``: the original's float expression
    ``int(round(num_samples / sample_rate * 60))`` (differs only on exact ties, e.g. 16 400 samples at 16 kHz).
    """
    if legacy:
        return int(round(float(num_samples) / sample_rate * FPS))
    return round(Fraction(int(num_samples) * FPS, int(sample_rate)))


def to_60fps(x100: np.ndarray, n: int) -> np.ndarray:
    """(n, F) float64: per column, linear interpolation of x100 (K, F) sampled at i/100 s onto j/60 s,
    j = 0 … n−1, clamped to the first/last row outside [0, (K−1)/100] (``np.interp``, as the original)."""
    x = np.asarray(x100, dtype=np.float64)
    if n == 0:
        return np.zeros((0, x.shape[1]))
    if len(x) == 0:
        raise ValueError("cannot interpolate from zero frames")
    t_in = np.arange(len(x)) / float(FEATURE_FPS)
    t_out = np.arange(n) / float(FPS)
    return np.stack([np.interp(t_out, t_in, x[:, d]) for d in range(x.shape[1])], axis=1).reshape(n, x.shape[1])


def stack_windows(frames: np.ndarray) -> np.ndarray:
    """(N, 16, F) float32 from 60-fps frames (N, F): with 8 zero rows before and after, window j = padded rows
    [j, j + 16), i.e. frames j − 8 … j + 7, zeros where those fall outside 0 … N−1."""
    x = np.asarray(frames, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"frames must be (N, F), got shape {x.shape}")
    n, f = x.shape
    padded = np.concatenate([np.zeros((PAD_ROWS, f), np.float32), x, np.zeros((PAD_ROWS, f), np.float32)])
    return padded[np.arange(n)[:, None] + np.arange(WINDOW_FRAMES)[None, :]].reshape(n, WINDOW_FRAMES, f)


def clip_windows(audio: np.ndarray, sample_rate: int, kind: str = DEFAULT_KIND) -> np.ndarray:
    """(N, 16, 29) float32 model input windows of float mono audio (S,) in [−1, 1] at ``sample_rate`` Hz.

    Resampled to 16 kHz (``zoo.datasets.resample``, soxr) unless already there; N = ``num_frames(S,
    sample_rate)`` from the original length; features → ``to_60fps`` → ``stack_windows``. Read files with
    ``zoo.datasets.load_audio`` (any format, channel count and sample type).
    """
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono (samples,), got shape {audio.shape}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise TypeError(f"audio must be float in [-1, 1], got {audio.dtype} (read files with zoo.datasets.load_audio)")
    _check_kind(kind)
    n = num_frames(len(audio), sample_rate)
    if n == 0:
        return np.zeros((0, WINDOW_FRAMES, NUM_FEATURES), np.float32)
    if int(sample_rate) != SAMPLE_RATE:
        from zoo.datasets import resample

        audio = resample(audio, int(sample_rate), SAMPLE_RATE)
    return stack_windows(to_60fps(frame_features(audio, kind), n))


__all__ = [
    "SAMPLE_RATE", "FEATURE_FPS", "HOP", "WIN", "N_FFT", "FPS", "WINDOW_FRAMES", "PAD_ROWS", "NUM_FEATURES",
    "MFCC_BANDS", "ENERGY_FLOOR", "STD_FLOOR", "KINDS", "DEFAULT_KIND", "BANDS", "HANN",
    "hz_to_mel", "mel_to_hz", "band_edges", "mel_filterbank", "dct_matrix", "feature_matrices",
    "num_feature_frames", "frame_signal", "power_spectrum", "log_mel", "mfcc", "standardise", "frame_features",
    "num_frames", "to_60fps", "stack_windows", "clip_windows",
]
