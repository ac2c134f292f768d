"""Per-frame phoneme timelines for EveNet (48 fps, 56 categories) from text or from a recording.

* :func:`text_timeline` — espeak-ng speaks the text; its own phoneme events give the timeline.
* :func:`align_transcript` — a known transcript fitted to a recording by DTW against espeak-ng's reading of it.
* :func:`boundary_error_ms` — alignment quality: mean absolute error of the interior boundaries.

Frame rule: ``num_frames = floor(samples · fps / sample_rate)`` (:func:`zoo.datasets.expected_frames`), and
frame ``i`` takes the phoneme whose ``[start, end)`` holds ``t = i / fps`` (:func:`phoneme_frames`).
The original interactive demo gave each TTS phoneme ``round(duration · 48)`` frames; sampling the timeline at
the frame instants instead keeps the frame count tied to the audio length and never drifts.

NumPy/SciPy only: no TensorFlow, no librosa.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.fft import dct, rfft

from zoo.core.validate import UsageError
from zoo.datasets.audio import resample
from zoo.datasets.clip import expected_frames
from zoo.datasets.evenet import EVENET_FPS, PHONEME_CATEGORIES, phoneme_frames
from zoo.datasets.synthetic.speech import PAUSE, SynthesisError, synthesize

__all__ = ["Timeline", "text_timeline", "align_transcript", "boundary_error_ms", "MIN_AUDIO_SECONDS"]

MIN_AUDIO_SECONDS = 0.1
"""Shortest recording :func:`align_transcript` accepts (s)."""

SILENT_PEAK = 1e-4
"""A recording whose peak |x| is below this (−80 dBFS, full scale 1) is silent."""

# Analysis (at espeak's 22050 Hz): 512-sample (23 ms) Hann frames every 5 ms, 40 mel bands 60–7600 Hz,
# cepstra c0…c12 with ±2-frame deltas, each column normalised to zero mean and unit variance per utterance,
# then c_k (and its delta) weighted by exp(−k / 4): the coarse spectral envelope dominates, which is what
# two different speakers share (measured on espeak voices: with c0…c19 unweighted a female reference
# misaligns male speech by 100–300 ms; with the taper by 4–7 ms).
_HOP_S = 0.005
_N_FFT = 512
_N_MELS = 40
_MEL_RANGE_HZ = (60.0, 7600.0)
_N_CEPS = 13
_CEPS_DECAY = 4.0
_FLOOR_DB = 60.0  # log-mel floor below the loudest band value: digital silence and a noise floor look alike
_SPEECH_DB = 35.0  # frames within this of the loudest frame count as speech (band guide only)
_EDGE_PAUSE_S = 0.2  # silence added to both ends of the reference so leading/trailing silence has a match
_BAND_S = 1.0  # DTW band radius: this many seconds + _BAND_FRACTION of the longer signal
_BAND_FRACTION = 0.1


@dataclass(frozen=True, eq=False)
class Timeline:
    """Audio with its phoneme timeline and the per-frame EveNet categories.

    ``audio``: float32 mono at ``sample_rate`` Hz. ``phonemes``: ``(start_s, end_s, label)`` tiling
    ``[0, seconds]``; labels are espeak IPA, pauses ``"_"``. ``labels``: one of ``PHONEME_CATEGORIES`` per
    frame, ``len(labels) = floor(len(audio) · fps / sample_rate)``, frame ``i`` at ``t = i / fps``.
    """

    audio: np.ndarray
    sample_rate: int
    phonemes: tuple[tuple[float, float, str], ...]
    labels: tuple[str, ...]
    fps: float = EVENET_FPS
    text: str = ""

    def __post_init__(self):
        expected = expected_frames(len(self.audio), self.sample_rate, self.fps)
        if len(self.labels) != expected:
            raise ValueError(f"{len(self.labels)} frame labels but the audio implies {expected} "
                             f"(floor(samples · fps / sample_rate))")
        unknown = sorted(set(self.labels) - set(PHONEME_CATEGORIES))
        if unknown:
            raise ValueError(f"frame labels outside PHONEME_CATEGORIES: {unknown[:5]}")

    @property
    def num_frames(self) -> int:
        """``floor(samples · fps / sample_rate)``."""
        return len(self.labels)

    @property
    def seconds(self) -> float:
        """``len(audio) / sample_rate``."""
        return len(self.audio) / self.sample_rate

    def phoneme_ids(self) -> np.ndarray:
        """int32 (num_frames,): each frame's index in ``PHONEME_CATEGORIES`` (SIL = 47)."""
        index = {name: i for i, name in enumerate(PHONEME_CATEGORIES)}
        return np.fromiter((index[label] for label in self.labels), dtype=np.int32, count=len(self.labels))


def _make_timeline(audio, sample_rate, phonemes, fps, text) -> Timeline:
    n = expected_frames(len(audio), sample_rate, fps)
    phonemes = tuple((float(s), float(e), str(label)) for s, e, label in phonemes)
    return Timeline(audio=audio, sample_rate=int(sample_rate), phonemes=phonemes,
                    labels=tuple(phoneme_frames(phonemes, n, fps)), fps=float(fps), text=text)


def _check_fps(fps) -> float:
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise UsageError("fps", repr(fps), "must be a number") from None
    if not (math.isfinite(value) and value > 0):
        raise UsageError("fps", fps, "must be a positive number")
    return value


def _speak(text, argument: str, voice, emotion: str = "neutral"):
    """espeak-ng's Utterance of ``text``; empty or unspeakable text is a UsageError naming ``argument``."""
    if not isinstance(text, str):
        raise UsageError(argument, None, f"must be a str, got {type(text).__name__}")
    if not text.strip():
        raise UsageError(argument, None, "is empty (nothing to speak)")
    if not any(ch.isalnum() for ch in text):
        raise UsageError(argument, repr(text), "has nothing speakable (no letters or digits)")
    try:
        return synthesize(text, voice, emotion)
    except SynthesisError as exc:
        if "nothing speakable" in exc.cause:
            raise UsageError(argument, repr(text), "has nothing speakable (espeak-ng produced no phonemes)") from None
        raise


def text_timeline(text: str, voice="female_warm", emotion: str = "neutral", fps: float = EVENET_FPS,
                  edge_pause: float = 0.1) -> Timeline:
    """espeak-ng speaks ``text``; its phoneme events (exact sample positions) become the frame labels.

    ``voice``: a name in ``VOICES``; ``emotion``: a RAVDESS emotion (changes rate and prosody).
    ``edge_pause`` seconds of silence are added before and after the speech (merged with espeak's own short
    pauses), so the animation starts and ends at rest: with the default 0.1 s the first and last 4 frames
    at 48 fps are SIL. The audio is 22050 Hz.
    """
    fps = _check_fps(fps)
    try:
        edge_pause = float(edge_pause)
    except (TypeError, ValueError):
        raise UsageError("edge_pause", repr(edge_pause), "must be a number of seconds") from None
    if not (math.isfinite(edge_pause) and edge_pause >= 0):
        raise UsageError("edge_pause", edge_pause, "must be a number of seconds ≥ 0")
    u = _speak(text, "text", voice, emotion)
    pad = int(round(edge_pause * u.sample_rate))
    audio = np.pad(np.asarray(u.audio, dtype=np.float32), (pad, pad))
    phonemes = _with_edge_pauses(u.phonemes, pad / u.sample_rate) if pad else u.phonemes
    return _make_timeline(audio, u.sample_rate, phonemes, fps, text)


# ---------------------------------------------------------------- features


def _mel_filters(rate: int) -> np.ndarray:
    """(bins, mels) triangular filters on the HTK mel scale, ``mel = 2595 · log10(1 + f / 700)``."""
    def to_mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    lo, hi = to_mel(_MEL_RANGE_HZ[0]), to_mel(min(_MEL_RANGE_HZ[1], rate / 2))
    edges = 700.0 * (10.0 ** (np.linspace(lo, hi, _N_MELS + 2) / 2595.0) - 1.0)
    freqs = np.arange(_N_FFT // 2 + 1) * rate / _N_FFT
    left, centre, right = edges[:-2], edges[1:-1], edges[2:]
    rising = (freqs[:, None] - left) / (centre - left)
    falling = (right - freqs[:, None]) / (right - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def _features(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 2·_N_CEPS) normalised, tapered cepstra + deltas, and each frame's log-energy (dB); frame k
    centred at ``k · hop / rate`` s, ``hop = round(0.005 · rate)``."""
    hop = int(round(_HOP_S * rate))
    x = np.asarray(audio, dtype=np.float64)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])  # pre-emphasis
    x = np.pad(x, (_N_FFT // 2, _N_FFT // 2))
    count = 1 + (len(x) - _N_FFT) // hop
    frames = np.lib.stride_tricks.as_strided(x, (count, _N_FFT), (x.strides[0] * hop, x.strides[0]),
                                             writeable=False)
    power = np.abs(rfft(frames * np.hanning(_N_FFT), axis=1)) ** 2
    mel = power @ _mel_filters(rate)
    floor = max(float(mel.max()), 1e-20) * 10.0 ** (-_FLOOR_DB / 10.0)
    log_mel = np.log(np.maximum(mel, floor))
    ceps = dct(log_mel, type=2, norm="ortho", axis=1)[:, :_N_CEPS]
    padded = np.pad(ceps, ((2, 2), (0, 0)), mode="edge")
    delta = (padded[3:-1] - padded[1:-3] + 2.0 * (padded[4:] - padded[:-4])) / 10.0
    feats = np.hstack([ceps, delta])
    feats = (feats - feats.mean(axis=0)) / np.maximum(feats.std(axis=0), 1e-8)
    taper = np.exp(-np.arange(_N_CEPS) / _CEPS_DECAY)
    feats *= np.r_[taper, taper]
    energy_db = 10.0 * np.log10(np.maximum(power.sum(axis=1), 1e-20))
    return feats, energy_db


def _speech_span(energy_db: np.ndarray) -> tuple[int, int]:
    """First and last frame within ``_SPEECH_DB`` of the loudest frame."""
    loud = np.flatnonzero(energy_db >= energy_db.max() - _SPEECH_DB)
    return int(loud[0]), int(loud[-1])


# ---------------------------------------------------------------- DTW


def _band(n: int, m: int, rec_span: tuple[int, int], ref_span: tuple[int, int], radius: int):
    """Per-row column windows ``[lo, hi)``: ``radius`` either side of the piecewise-linear guide through
    (0, 0), the two speech onsets, the two speech offsets and (n−1, m−1)."""
    knots_i = np.array([0, rec_span[0], rec_span[1], n - 1], dtype=np.float64)
    knots_j = np.array([0, ref_span[0], ref_span[1], m - 1], dtype=np.float64)
    knots_i = np.maximum.accumulate(knots_i + np.arange(4) * 1e-6)  # strictly increasing for np.interp
    guide = np.interp(np.arange(n + 1), knots_i, knots_j)
    lo = np.clip(np.floor(guide[:-1]) - radius, 0, m - 1).astype(np.int64)
    hi = np.clip(np.ceil(guide[1:]) + radius + 1, 1, m).astype(np.int64)
    lo[0], hi[-1] = 0, m
    lo = np.minimum(np.maximum.accumulate(lo), np.r_[0, hi[:-1]])  # rows overlap: a path always continues
    return lo, hi


def _dtw_path(rec: np.ndarray, ref: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Minimum-cost monotone path (rows: recording frames, columns: reference frames) from (0, 0) to the
    last cell, within the band. Cost ``c = ‖rec_i − ref_j‖``; recursion (symmetric weights)::

        D[i, j] = min(D[i−1, j−1] + 2c, D[i−1, j] + c, D[i, j−1] + c)

    Each row is vectorised: with ``B = min(D[i−1, j−1] + 2c, D[i−1, j] + c)`` and ``S = cumsum(c)`` along the
    row, ``D[i, j] = S[j] + min_{k ≤ j}(B[k] − S[k])``. Time and memory O(Σ (hi − lo)) ≤ O(n · m).
    Returns (steps, 2) int pairs (i, j).
    """
    n = len(rec)
    ref_sq = np.einsum("ij,ij->i", ref, ref)
    pointers: list[np.ndarray] = []
    prev = np.empty(0)
    prev_lo = 0
    for i in range(n):
        a, b = int(lo[i]), int(hi[i])
        d2 = ref_sq[a:b] - 2.0 * (ref[a:b] @ rec[i]) + rec[i] @ rec[i]
        cost = np.sqrt(np.maximum(d2, 0.0))
        width = b - a
        if i == 0:
            step = np.full(width, np.inf)
            step[0] = cost[0]
            diag_better = np.ones(width, dtype=bool)
        else:
            cols = np.arange(a, b)
            vert = _lookup(prev, prev_lo, cols)
            diag = _lookup(prev, prev_lo, cols - 1)
            diag_cost, vert_cost = diag + 2.0 * cost, vert + cost
            diag_better = diag_cost <= vert_cost
            step = np.where(diag_better, diag_cost, vert_cost)
        total = np.cumsum(cost)
        running = np.minimum.accumulate(step - total)
        row = total + running
        pointer = np.where(diag_better, 0, 1).astype(np.int8)
        pointer[running < step - total] = 2  # came along the row
        pointers.append(pointer)
        prev, prev_lo = row, a
    if not np.isfinite(prev[-1]):
        raise RuntimeError("DTW band admits no path")  # cannot happen: rows overlap by construction
    path = []
    i, j = n - 1, int(hi[-1]) - 1
    while True:
        path.append((i, j))
        if i == 0 and j == 0:
            break
        move = pointers[i][j - int(lo[i])]
        if move == 0:
            i, j = i - 1, j - 1
        elif move == 1:
            i -= 1
        else:
            j -= 1
    return np.array(path[::-1], dtype=np.int64)


def _lookup(values: np.ndarray, start: int, cols: np.ndarray) -> np.ndarray:
    """``values[cols − start]`` where inside, +inf elsewhere."""
    k = cols - start
    inside = (k >= 0) & (k < len(values))
    out = np.full(len(cols), np.inf)
    out[inside] = values[k[inside]]
    return out


# ---------------------------------------------------------------- alignment


def _with_edge_pauses(phonemes, pad: float) -> list[list]:
    """Phonemes shifted by ``pad`` s with a pause covering ``[0, pad)`` and one after the end (merged with
    espeak's own leading/trailing pauses)."""
    out = [[s + pad, e + pad, label] for s, e, label in phonemes]
    if out[0][2] == PAUSE:
        out[0][0] = 0.0
    else:
        out.insert(0, [0.0, pad, PAUSE])
    if out[-1][2] == PAUSE:
        out[-1][1] += pad
    else:
        out.append([out[-1][1], out[-1][1] + pad, PAUSE])
    return out


def _fit_durations(bounds: np.ndarray, minima: np.ndarray, total: float) -> np.ndarray:
    """Boundaries ``b_0 = 0 ≤ … ≤ b_n = total`` nearest to ``bounds`` with ``b_{k+1} − b_k ≥ minima[k]``
    (minima scaled down when they cannot all fit): a forward then a backward pass."""
    minima = np.asarray(minima, dtype=np.float64)
    if minima.sum() > total:
        minima = minima * (total / minima.sum())
    before = np.r_[0.0, np.cumsum(minima)]  # least time needed before boundary k
    after = before[-1] - before  # least time needed after boundary k
    b = np.clip(np.asarray(bounds, dtype=np.float64), 0.0, total)
    b[0], b[-1] = 0.0, total
    b = before + np.maximum.accumulate(b - before)  # b_k ≥ b_j + (least time between j and k), j < k
    b = (total - after) - np.maximum.accumulate(((total - after) - b)[::-1])[::-1]  # and from the end
    b[0], b[-1] = 0.0, total
    return b


def align_transcript(audio, sample_rate: int, transcript: str, voice="female_warm",
                     fps: float = EVENET_FPS) -> Timeline:
    """Fit espeak-ng's phoneme sequence of ``transcript`` to a recording of it.

    espeak-ng reads the transcript (``voice``) as a reference whose phoneme boundaries are exact. Both
    signals (the recording resampled to 22050 Hz) become 5-ms frames of normalised mel cepstra + deltas;
    DTW within a band (see :func:`_dtw_path`) pairs recording and reference frames, and each reference
    boundary at fractional frame r is mapped to the recording at ``interp(r, j, mean of the recording
    frames paired with j)``. The reference gets 0.2 s of pause at both ends, so the recording's leading and
    trailing silence map to pauses. Order is kept; speech phonemes last at least one frame (``1 / fps``, so
    each holds a frame instant); pauses the recording does not have shrink to nothing and are dropped.

    Cost: O(n · w) time, and bytes of DTW memory, for n recording frames (200 per second) and a band
    w ≈ 2 · (1 s + 10 % of the longer signal) wide, i.e. ≤ O(n · m); measured ≈ 40 ms for a 3 s utterance and
    ≈ 1 s for 42 s (the band admits tempo deviations of up to its radius from the straight guide line).
    ``voice``: the espeak voice of the reference (a name in ``VOICES``).

    Returns a Timeline of the recording (its own samples and rate) whose ``phonemes`` tile
    ``[0, len(audio) / sample_rate]``. Raises UsageError for an empty or unspeakable transcript and for
    audio that is not 1-D, non-finite, shorter than 0.1 s or silent.
    """
    fps = _check_fps(fps)
    audio, sample_rate = _check_recording(audio, sample_rate)
    reference = _speak(transcript, "transcript", voice)
    rate = reference.sample_rate
    recording = resample(audio, sample_rate, rate)
    pad = int(round(_EDGE_PAUSE_S * rate))
    ref_audio = np.pad(np.asarray(reference.audio, dtype=np.float32), (pad, pad))
    ref_phonemes = _with_edge_pauses(reference.phonemes, pad / rate)

    rec_feats, rec_energy = _features(recording, rate)
    ref_feats, ref_energy = _features(ref_audio, rate)
    n, m = len(rec_feats), len(ref_feats)
    radius = int(round((_BAND_S + _BAND_FRACTION * max(n, m) * _HOP_S) / _HOP_S))
    lo, hi = _band(n, m, _speech_span(rec_energy), _speech_span(ref_energy), radius)
    path = _dtw_path(rec_feats, ref_feats, lo, hi)

    # reference frame j → mean recording frame paired with it; boundaries through that map
    sums = np.bincount(path[:, 1], weights=path[:, 0], minlength=m)
    counts = np.bincount(path[:, 1], minlength=m)
    partner = sums / counts
    hop = int(round(_HOP_S * rate))
    starts = np.array([s for s, _, _ in ref_phonemes[1:]])
    mapped = np.interp(starts * rate / hop, np.arange(m), partner) * hop / rate

    total = len(audio) / sample_rate
    labels = [label for _, _, label in ref_phonemes]
    minima = np.array([0.0 if label == PAUSE else 1.0 / fps + 1e-6 for label in labels])  # 1 µs: float safety
    bounds = _fit_durations(np.r_[0.0, mapped, total], minima, total)
    phonemes = [(float(bounds[k]), float(bounds[k + 1]), label) for k, label in enumerate(labels)
                if bounds[k + 1] > bounds[k] or label != PAUSE]
    return _make_timeline(audio, sample_rate, phonemes, fps, transcript)


def _check_recording(audio, sample_rate) -> tuple[np.ndarray, int]:
    """float32 mono samples (integer PCM scaled by 1 / 2^(bits−1)) and the rate as int; else UsageError."""
    if isinstance(sample_rate, (float, np.floating)) and float(sample_rate).is_integer():
        sample_rate = int(sample_rate)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise UsageError("sample_rate", repr(sample_rate), "must be a positive integer (Hz)")
    x = np.asarray(audio)
    if x.ndim != 1:
        raise UsageError("audio", None, f"must be mono, shape (samples,), got shape {x.shape}")
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float64) / float(2 ** (8 * x.dtype.itemsize - 1))
    elif not np.issubdtype(x.dtype, np.floating):
        raise UsageError("audio", None, f"must be numeric samples, got dtype {x.dtype}")
    x = x.astype(np.float32)
    seconds = len(x) / sample_rate
    if seconds < MIN_AUDIO_SECONDS:
        raise UsageError("audio", None, f"too short: {seconds:.3f} s (at least {MIN_AUDIO_SECONDS} s needed)")
    if not np.isfinite(x).all():
        raise UsageError("audio", None, f"non-finite samples (NaN or Inf), first at sample "
                                        f"{int(np.flatnonzero(~np.isfinite(x))[0])}")
    peak = float(np.abs(x).max())
    if peak < SILENT_PEAK:
        level = "every sample is zero" if peak == 0.0 else f"peak {20 * math.log10(peak):.0f} dBFS"
        raise UsageError("audio", None, f"is silent ({level}); nothing to align")
    return x, int(sample_rate)


# ---------------------------------------------------------------- quality


def boundary_error_ms(predicted_phonemes: Sequence[tuple[float, float, str]],
                      reference_phonemes: Sequence[tuple[float, float, str]]) -> float:
    """Mean absolute error (ms) of the interior boundaries of two timelines of the same phoneme sequence.

    With ``(s_k, e_k)`` predicted and ``(s'_k, e'_k)`` reference, k = 0…n−1 (n ≥ 2)::

        error = 1000 / (n − 1) · Σ_{k=1}^{n−1} (|s_k − s'_k| + |e_{k−1} − e'_{k−1}|) / 2

    For tilings (``e_{k−1} = s_k``) this is the mean |Δ start| over phonemes 1…n−1. The outer edges (first
    start, last end) are not counted. Raises ValueError when the label sequences differ or n < 2.
    """
    pred, ref = list(predicted_phonemes), list(reference_phonemes)
    pred_labels, ref_labels = [p[2] for p in pred], [p[2] for p in ref]
    if pred_labels != ref_labels:
        where = next((k for k, (a, b) in enumerate(zip(pred_labels, ref_labels)) if a != b),
                     min(len(pred_labels), len(ref_labels)))
        raise ValueError(f"phoneme sequences differ ({len(pred_labels)} vs {len(ref_labels)} phonemes, "
                         f"first difference at index {where})")
    if len(pred) < 2:
        raise ValueError(f"need at least 2 phonemes for an interior boundary, got {len(pred)}")
    p = np.array([(s, e) for s, e, _ in pred], dtype=np.float64)
    r = np.array([(s, e) for s, e, _ in ref], dtype=np.float64)
    errors = (np.abs(p[1:, 0] - r[1:, 0]) + np.abs(p[:-1, 1] - r[:-1, 1])) / 2.0
    return float(1000.0 * errors.mean())
