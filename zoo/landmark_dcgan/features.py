"""Audio features of the landmark CNN (spec landmark_dcgan §1, §9.2–9.5): 128-bin FFT magnitudes of 128-sample
chunks of a 60 ms window centred on every 30 ms frame, (128, 23, 1) a frame at 48 kHz. NumPy + scipy only.

Input: float mono audio in [-1, 1] already at ``config.sample_rate`` (48 kHz by default). ``load_features`` reads
any file through ``zoo.datasets.load_audio(path, config.sample_rate)``: any rate is resampled (soxr VHQ) and any
channel count averaged to mono, so the original's hard 48 kHz / mono assumption (spec §9.4) is lifted by resampling
and downmixing first; a 16-bit file gives ``a = s / 32768`` exactly (s the int16 sample).

Scaling (spec §9.2): ``x = a`` (= s/32768, the default) or, with ``legacy_scaling``, ``x = a − 1`` (= s/32768 − 1,
the original's ``(s/65536)·2 − 1`` that read int16 as unsigned: range [−2, 0), silence at −1).

Time grid: frame i sits at ``t_i = i · frame_ms`` (30 ms), sample ``c_i = t_i · rate`` (1440 i at 48 kHz); a clip
of n samples has ``frame_count(n) = ceil(n / 1440)`` frames (t_i < duration; predict.py's floor is fixed, spec
§9.5). ``times_s`` (frame centres in seconds ≥ 0, for the video's own frame rate) replaces the grid:
``c_i = floor(t_i · rate + 0.5)``.

Window of frame i (w = ``window_samples`` = 2880, h = w // 2 = 1440): samples ``[c_i − h, c_i − h + w)``.

* Before sample 0 lies silence: the original prepended 30 ms of pydub digital silence to the first frame's audio, so
  the first frame's window starts 30 ms before 0 and its first 1440 samples (11.25 chunks) are silence. Silence is
  the sample value 0 *before* scaling: x = 0 by default, x = −1 under ``legacy_scaling`` (pydub's silent segment went
  through the same scaling), so a silent legacy chunk has bin 0 = 128.
* The window is cut where the audio ends. Its m real samples (silence included) are split into ``ceil(m / 128)``
  consecutive non-overlapping chunks of 128, the last one zero-padded to 128 by the FFT (padding is 0 after
  scaling, also under ``legacy_scaling``), and all-zero 128-vectors (magnitude 0) pad the chunk axis up to
  ``chunks`` = 23. A full window has 2880 = 22·128 + 64 samples: chunk 23 always holds 64 real samples (a legacy
  silent one has bin 0 = 64).
* An empty window (``c_i − h ≥ n``: entirely past the end) is a ValueError naming the frame; the original skipped
  such frames silently and desynchronised features and landmarks (spec §9.7). Callers cut the frames first
  (``frame_count`` frames are never empty).

Per chunk: ``|FFT_128(x_chunk)|`` (rectangular window, no normalisation), all 128 bins kept (two-sided, 375 Hz a bin
at 48 kHz; bins 65–127 mirror 63–1 exactly: ``X[128 − k] = conj X[k]`` for real input), computed in float64 and
returned as float32. ``log_magnitude``: ``ln(|X| + 1e-3)`` instead (padding chunks give ln 1e-3; the per-bin
standardisation lives in the model, its statistics taken from the training frames).

Output: ``(N, chunk, chunks, 1)`` float32 = (frame, frequency bin, time chunk, channel), ``FEATURE_SHAPE(config)`` a
frame. TensorFlow version: ``features_tf.fft_features_tf``.
"""
from __future__ import annotations

import logging
import os

import numpy as np

log = logging.getLogger(__name__)

LOG_EPS = 1e-3  # ln(|X| + LOG_EPS) under log_magnitude
_BLOCK_FRAMES = 2048  # frames an FFT call (bounds the working memory of long clips; one call for a few minutes)


def FEATURE_SHAPE(config) -> tuple[int, int, int]:
    """The features of one frame: (chunk, chunks, 1) = (128 frequency bins, 23 time chunks, 1 channel)."""
    return (config.chunk, config.chunks, 1)


def frame_count(num_samples: int, config) -> int:
    """Frames of a clip of ``num_samples`` samples: ceil(num_samples / frame_samples) (1440 at 48 kHz), i.e. the
    frames with t_i < duration."""
    n = int(num_samples)
    if n != num_samples or n < 0:
        raise ValueError(f"num_samples must be a non-negative integer, got {num_samples!r}")
    return -(-n // config.frame_samples)


def frame_times(frames: int, config) -> np.ndarray:
    """Times of the grid's frames in seconds, t_i = i · frame_ms / 1000, (frames,) float64."""
    return np.arange(int(frames)) * (config.frame_ms / 1000.0)


def _checked_audio(audio) -> np.ndarray:
    a = np.asarray(audio)
    if a.ndim != 1:
        raise ValueError(f"audio must be mono (samples,), got shape {a.shape}; average the channels first "
                         f"(load_features / zoo.datasets.load_audio downmix)")
    if a.size == 0:
        raise ValueError("audio is empty (0 samples)")
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"audio must be float in [-1, 1] (e.g. int16 / 32768), got dtype {a.dtype}")
    finite = np.isfinite(a)
    if not finite.all():
        first = int(np.argmin(finite))
        raise ValueError(f"audio has non-finite samples (NaN or Inf), first at sample {first}")
    return a.astype(np.float64, copy=False)


def _centres(num_samples: int, config, frames, times_s) -> np.ndarray:
    """Centre sample c_i of every frame, (N,) int64."""
    if frames is not None:
        if int(frames) != frames or frames < 0:
            raise ValueError(f"frames must be a non-negative integer, got {frames!r}")
        frames = int(frames)
    if times_s is None:
        count = frame_count(num_samples, config) if frames is None else frames
        return np.arange(count, dtype=np.int64) * config.frame_samples
    t = np.asarray(times_s, np.float64)
    if t.ndim != 1:
        raise ValueError(f"times_s must be a 1-D array of frame centres in seconds, got shape {t.shape}")
    if frames is not None and frames != t.size:
        raise ValueError(f"frames={frames} disagrees with the {t.size} times_s; pass one of them")
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(f"times_s must be finite and ≥ 0 s; frame {first} has t = {float(t[first])!r}")
    return np.floor(t * config.sample_rate + 0.5).astype(np.int64)


def two_sided(half_spectrum: np.ndarray, n: int) -> np.ndarray:
    """The n bins of a real signal's |FFT_n| from its rfft magnitudes (..., n//2 + 1): bins n − k = bins k for
    k = 1 … ceil(n/2) − 1, appended in reverse."""
    return np.concatenate([half_spectrum, half_spectrum[..., 1:(n + 1) // 2][..., ::-1]], axis=-1)


def fft_features(audio, config, frames: int | None = None, times_s=None) -> np.ndarray:
    """|FFT_128| of the 23 chunks of every frame's window, (N, chunk, chunks, 1) float32 (module doc for the rules).

    Args:
        audio: (samples,) float mono in [-1, 1] at ``config.sample_rate``.
        config: a ``Config`` (sample_rate, frame_ms, window_ms, chunk, chunks, legacy_scaling, log_magnitude).
        frames: frames on the 30 ms grid (default ``frame_count(len(audio))``); with ``times_s`` it must equal
            ``len(times_s)``.
        times_s: frame centres in seconds (≥ 0) replacing the grid.

    Raises ValueError for non-mono, empty, non-float or non-finite audio and for a frame whose window lies entirely
    past the end of the audio (naming the frame).
    """
    from scipy import fft as sfft

    x = _checked_audio(audio)
    n = x.size
    centres = _centres(n, config, frames, times_s)
    width, half = config.window_samples, config.window_samples // 2
    chunk, chunks = config.chunk, config.chunks
    starts = centres - half  # ≥ −half: silence before 0
    empty = starts >= n
    if empty.any():
        i = int(np.argmax(empty))
        rate = config.sample_rate
        raise ValueError(f"frame {i} (centre {centres[i] / rate:.4f} s = sample {centres[i]}): its window starts at "
                         f"sample {starts[i]}, at or after the end of the audio ({n} samples = {n / rate:.4f} s); "
                         f"cut the frames first (this audio has {frame_count(n, config)} frames on the grid)")
    silence = -1.0 if config.legacy_scaling else 0.0
    end = int(starts.max()) + width if starts.size else 0
    padded = np.zeros(half + max(n, end))  # silence | scaled audio | zeros (the FFT's padding past the end)
    padded[:half] = silence
    padded[half:half + n] = x - 1.0 if config.legacy_scaling else x
    views = np.lib.stride_tricks.sliding_window_view(padded, width)  # views[j] = window starting at sample j − half
    out = np.empty((centres.size, chunk, chunks, 1), np.float32)
    block = np.zeros((min(_BLOCK_FRAMES, centres.size), chunks * chunk))  # each window + zeros up to 23 chunks
    for first in range(0, centres.size, _BLOCK_FRAMES):
        index = starts[first:first + _BLOCK_FRAMES] + half
        rows = block[:index.size]
        rows[:, :width] = views[index]
        magnitude = two_sided(np.abs(sfft.rfft(rows.reshape(index.size, chunks, chunk), axis=-1)), chunk)
        if config.log_magnitude:
            magnitude = np.log(magnitude + LOG_EPS)
        out[first:first + index.size, :, :, 0] = magnitude.transpose(0, 2, 1)
    return out


def speed_perturbed_features(audio, config, times_s, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Speed perturbation (a training augmentation, ``config.speed_perturbation``): the features of the audio played
    ``factor`` = α times faster, at the same moments of speech.

    y[m] = x(α m / rate) (``scipy.signal.resample_poly`` by q/p, p/q the fraction nearest α with q ≤ 100; clipped
    to [−1, 1]): pitch, formants and speaking rate × α, duration ÷ α. The frame at ``times_s`` t in x sits at t/α
    in y; its features are ``fft_features(y, config, times_s=t/α)``. Returns (features (K, chunk, chunks, 1), kept
    (N,) bool): the frames whose window still starts inside y (a frame near the end can drop by the rounding of
    the length).
    """
    from fractions import Fraction

    from scipy.signal import resample_poly

    alpha = float(factor)
    if not (np.isfinite(alpha) and 0.5 <= alpha <= 2.0):
        raise ValueError(f"speed perturbation factor must be in [0.5, 2], got {factor!r}")
    x = _checked_audio(audio)
    ratio = Fraction(alpha).limit_denominator(100)
    y = np.clip(resample_poly(x, ratio.denominator, ratio.numerator), -1.0, 1.0)
    t = np.asarray(times_s, np.float64) / float(ratio)
    kept = _centres(y.size, config, None, t) - config.window_samples // 2 < y.size
    return fft_features(y, config, times_s=t[kept]), kept


def load_features(path: str | os.PathLike, config, frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, chunk, chunks, 1) float32, audio (samples,) float32) of an audio file.

    The file is read with ``zoo.datasets.load_audio(path, config.sample_rate)``: resampled to the config's rate
    (soxr VHQ) and downmixed to mono (the channel average, in float). Every failure is one ``AudioError`` naming the
    file.
    """
    from zoo.datasets import load_audio
    from zoo.datasets.errors import AudioError

    audio, _ = load_audio(path, config.sample_rate)
    try:
        features = fft_features(audio, config, frames=frames)
    except ValueError as exc:
        raise AudioError(path, str(exc)) from None
    log.debug("%s: %d frames of %s features", path, len(features), FEATURE_SHAPE(config))
    return features, audio


__all__ = ["FEATURE_SHAPE", "LOG_EPS", "frame_count", "frame_times", "two_sided", "fft_features",
           "speed_perturbed_features", "load_features"]
