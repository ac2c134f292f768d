"""An utterance-level audio emotion classifier over the 8 RAVDESS labels (issue item 6), NumPy + SciPy only.

VOCA-emotion takes its emotion from ``--emotion`` or from this classifier, trained here on RAVDESS-format audio
(``zoo.datasets.read_ravdess``). Importing this module does not import TensorFlow.

Features (``FEATURE_NAMES``, one vector per utterance). The audio is resampled to 16 kHz and framed as in
``zoo.voca_emotion.features`` (100 frames/s, frame k centred at sample 160·k, 25 ms periodic Hann window). Unlike
VOCA's front end nothing is standardised per utterance: loudness, spectral tilt and pitch are what carry emotion.

* Frame energy e_k = 10·log10(Σ w²x² / Σ w² + 1e-10) dB re full scale (Hann-weighted mean square of frame k).
  Active frames: e_k ≥ max(e) − 35 dB. Voiced frames: active and pitch strength ≥ 0.5 (below).
* ``energy_{mean,std,p10,p50,p90}_db``: statistics of e over active frames (dB; std in dB).
* ``energy_peak_db``: max(e) (dB re full scale).
* ``centroid_{mean,std}_hz``: spectral centroid Σ f·P / Σ P of the 512-point power spectrum P (0–8 kHz) over
  active frames (Hz).
* ``hf_ratio_db``: mean over active frames of 10·log10(Σ_{f>2 kHz} P / Σ P + 1e-10) (dB).
* ``tilt_db_per_octave``: least-squares slope of the 29-band log-mel spectrum (``features.log_mel``, before any
  standardisation, converted to dB) against log2(band centre / 1 kHz), averaged over active frames (dB/octave).
* ``flux_db``: mean over consecutive active frame pairs of the RMS over bands of the change in log-mel dB (dB per
  10 ms).
* ``f0_std_st``, ``f0_range_st`` (p90 − p10), ``f0_upper_st`` (p90 − p50), ``f0_lower_st`` (p50 − p10): spread
  and shape of the pitch over voiced frames in semitones, s = 12·log2(f0 / 100 Hz) (percentiles: ``np.percentile``,
  linear). The pitch *level* (mean, median) is not a feature: between the corpus voices it spans ≈ 19 st
  (80–240 Hz) against ≤ ±6 st between emotions, so a linear model reads it as the speaker (leave-one-actor-out on
  the validation actors 1–3: 0.44 with the level, 0.51 with the shape instead).
  Pitch range 50–500 Hz (−13.9 to +27.9 st): f0 is the lag of the normalised autocorrelation peak of a 50 ms
  Hann-windowed frame (800 samples, centred on the 100 fps grid), corrected for the window's own autocorrelation
  (Boersma 1993): r(τ) = [r_x(τ)/r_x(0)] / [r_w(τ)/r_w(0)], τ ∈ [32, 320] samples; the smallest-lag local maximum
  within 0.9 × the largest, refined by a parabola; pitch strength = that r (``pitch_track``).
* ``f0_slope_st_per_s``: mean |s_{k+1} − s_k| over consecutive voiced frames × 100 (semitones per second).
* ``voiced_fraction``: voiced frames / active frames.
* ``span_s``: first to last active frame, (k_last − k_first + 1) / 100 (s); the two RAVDESS statements have
  fixed text, so this is a speaking-rate proxy.
* ``syllable_rate_hz``: peaks of the energy envelope (e smoothed by a 5-frame = 50 ms moving average; a peak
  rises ≥ 3 dB above the preceding minimum and falls ≥ 3 dB after it, on an active frame) per second of span (1/s).
* ``voiced_runs_hz``: runs of consecutive voiced frames per second of span (1/s).
* ``pause_fraction``: 1 − active frames / span frames.

Classifier: each feature standardised with the training set's mean and population std (floor 1e-8), then
multinomial logistic regression, p = softmax(W·z + b), fitted by L-BFGS (``scipy.optimize.minimize``) on
mean cross-entropy + (λ/2)·‖W‖² (the bias is not penalised), from W = 0, b = 0: deterministic, no randomness.
λ is chosen from ``L2_GRID`` on validation actors (never the test actor) by ``select_l2``.

Held-out-actor evaluation (``evaluate_held_out``): the test actors are removed first; λ is chosen on validation
actors (given, or else leave-one-actor-out over the remaining actors: each is validation once, trained on the
others, accuracies pooled); the final model is refitted on every non-test actor with that λ and scored once on the
test actors, beside chance (1/8) and the majority-class baseline (the most frequent training label, ties by
``EMOTIONS`` order, predicted for every test clip). On the 4-actor synthetic corpus the VOCA recipe's split is
train Actor_01–02, validation Actor_03, test Actor_04.

Saved form (``EmotionClassifier.save``): ``classifier.json`` (labels, feature names, λ, seed, training facts) and
``weights.npy`` (F, 8), ``bias.npy`` (8,), ``feature_mean.npy`` (F,), ``feature_std.npy`` (F,), float64, read
with ``allow_pickle=False``.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.datasets import EMOTIONS, DataError
from zoo.voca_emotion import features as F

SAMPLE_RATE = F.SAMPLE_RATE  # Hz, the rate features are computed at
FRAME_RATE = F.FEATURE_FPS  # frames per second (10 ms hop)
ACTIVE_DB = 35.0  # dB below the loudest frame that still counts as active
ENERGY_FLOOR = 1e-10  # added to mean squares before the log
SILENCE_PEAK = 1e-4  # |x| peak (−80 dBFS) below which the audio is silence
MIN_SECONDS = 0.3  # shortest audio accepted (s)
MIN_ACTIVE_FRAMES = 10  # 100 ms of active frames
MIN_VOICED_FRAMES = 5  # 50 ms of voiced frames
F0_MIN, F0_MAX = 50.0, 500.0  # Hz, pitch search range
F0_REF = 100.0  # Hz, 0 semitones
PITCH_WIN = 800  # samples (50 ms at 16 kHz)
PITCH_FFT = 2048  # ≥ 2 · PITCH_WIN: no circular wrap in the autocorrelation
VOICING_THRESHOLD = 0.5  # pitch strength needed for a voiced frame
OCTAVE_TOLERANCE = 0.9  # smallest-lag peak within this fraction of the largest wins
HF_SPLIT = 2000.0  # Hz, lower edge of the "high-frequency" energy
SMOOTH_FRAMES = 5  # energy envelope moving average (50 ms)
PEAK_PROMINENCE_DB = 3.0
STD_FLOOR = 1e-8  # floor of the training std in the per-feature standardisation
L2_GRID = (1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
DEFAULT_L2 = 0.1
MAX_ITER = 500  # L-BFGS iterations
CHANCE = 1.0 / len(EMOTIONS)
CONFIG_FILE = "classifier.json"
ARRAY_FILES = ("weights", "bias", "feature_mean", "feature_std")
FORMAT_VERSION = 1

FEATURE_NAMES = (
    "energy_mean_db", "energy_std_db", "energy_p10_db", "energy_p50_db", "energy_p90_db", "energy_peak_db",
    "centroid_mean_hz", "centroid_std_hz", "hf_ratio_db", "tilt_db_per_octave", "flux_db",
    "f0_std_st", "f0_range_st", "f0_upper_st", "f0_lower_st", "f0_slope_st_per_s",
    "voiced_fraction", "span_s", "syllable_rate_hz", "voiced_runs_hz", "pause_fraction",
)

_DB_PER_NEPER = 10.0 / math.log(10.0)  # dB per natural-log unit of power


# ---------------------------------------------------------------- input checks


def _fail(source, cause: str):
    raise DataError(source, cause)


def check_audio(audio, sample_rate, source=None) -> np.ndarray:
    """float64 (S,) mono audio after the checks: 1-D float, finite, a positive integer rate, at least
    ``MIN_SECONDS`` long, peak ≥ ``SILENCE_PEAK``. Raises ``DataError`` (a ValueError) naming ``source`` and the
    cause."""
    x = np.asarray(audio)
    if x.ndim != 1:
        _fail(source, f"audio must be mono (samples,), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        _fail(source, f"audio must be float in [-1, 1], got dtype {x.dtype} (read files with zoo.datasets.load_audio)")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        _fail(source, f"sample_rate must be a positive integer in Hz, got {sample_rate!r}")
    if not np.isfinite(x).all():
        _fail(source, f"audio has non-finite samples (NaN or Inf), first at sample {int(np.argmax(~np.isfinite(x)))}")
    seconds = len(x) / int(sample_rate)
    if seconds < MIN_SECONDS:
        _fail(source, f"audio too short: {seconds:.3f} s ({len(x)} samples at {sample_rate} Hz); "
                      f"need at least {MIN_SECONDS} s")
    peak = float(np.max(np.abs(x)))
    if peak < SILENCE_PEAK:
        _fail(source, f"audio is silent (peak |x| = {peak:.2e} < {SILENCE_PEAK:.0e})")
    return x.astype(np.float64)


# ---------------------------------------------------------------- frame-level measurements


def frame_energy_db(audio16k: np.ndarray) -> np.ndarray:
    """(K,) dB re full scale: e_k = 10·log10(Σ w²x² / Σ w² + 1e-10) over the 25 ms Hann frame k (100 fps)."""
    frames = F.frame_signal(audio16k) * F.HANN
    return 10.0 * np.log10((frames**2).sum(axis=1) / (F.HANN**2).sum() + ENERGY_FLOOR)


def pitch_track(audio16k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f0 Hz (K,), strength (K,)) on the 100 fps grid, search range 50–500 Hz.

    Frame k: samples [160k − 400, 160k + 400) (zeros outside the audio) times a periodic Hann window w of 800
    samples. r(τ) = [r_x(τ)/r_x(0)] / [r_w(τ)/r_w(0)] (autocorrelations by a 2048-point FFT), τ ∈ [32, 320];
    the chosen lag is the smallest local maximum with r ≥ 0.9·max r, refined by a parabola through its
    neighbours; f0 = 16000 / τ*, strength = r at the chosen lag (0 for a frame of zeros).
    """
    x = np.asarray(audio16k, dtype=np.float64)
    k = F.num_feature_frames(len(x))
    half = PITCH_WIN // 2
    padded = np.concatenate([np.zeros(half), x, np.zeros(half + F.HOP)])
    idx = F.HOP * np.arange(k)[:, None] + np.arange(PITCH_WIN)[None, :]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(PITCH_WIN) / PITCH_WIN)
    frames = padded[idx] * window
    r_x = np.fft.irfft(np.abs(np.fft.rfft(frames, PITCH_FFT, axis=1)) ** 2, PITCH_FFT, axis=1)
    r_w = np.fft.irfft(np.abs(np.fft.rfft(window, PITCH_FFT)) ** 2, PITCH_FFT)
    lo, hi = int(math.floor(SAMPLE_RATE / F0_MAX)), int(math.ceil(SAMPLE_RATE / F0_MIN))
    lags = np.arange(lo - 1, hi + 2)  # one extra lag each side for the local-maximum test and the parabola
    energy = r_x[:, 0]
    safe = np.where(energy > 0, energy, 1.0)
    r = (r_x[:, lags] / safe[:, None]) / (r_w[lags] / r_w[0])[None, :]
    r[energy <= 0] = 0.0
    inner = r[:, 1:-1]
    is_peak = (inner >= r[:, :-2]) & (inner > r[:, 2:])
    best = np.where(is_peak, inner, -np.inf).max(axis=1)
    chosen = np.argmax(is_peak & (inner >= OCTAVE_TOLERANCE * best[:, None]), axis=1)  # first qualifying lag
    rows = np.arange(k)
    has_peak = np.isfinite(best) & (best > 0)
    left, mid, right = r[rows, chosen], r[rows, chosen + 1], r[rows, chosen + 2]
    denom = left - 2.0 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1.0, denom), 0.0)
    lag = lags[chosen + 1] + np.clip(shift, -0.5, 0.5)
    f0 = np.where(has_peak, SAMPLE_RATE / lag, 0.0)
    strength = np.where(has_peak, np.minimum(mid, 1.0), 0.0)
    return f0, strength


def _envelope_peaks(energy_db: np.ndarray, active: np.ndarray) -> int:
    """Syllable-like peaks: e smoothed by a 5-frame (50 ms) moving average (edge-padded) and framed by the energy
    floor (−100 dB, the silence outside the audio) on both sides, then peaks picked with 3 dB hysteresis: a
    maximum counts once the curve has risen ≥ 3 dB from the last minimum to it and falls ≥ 3 dB below it, and only
    if it lies on an active frame. (Unlike a prominence rule, equal ripple maxima inside one syllable count once.)"""
    kernel = np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES
    pad = SMOOTH_FRAMES // 2
    smooth = np.convolve(np.pad(energy_db, pad, mode="edge"), kernel, mode="valid")
    floor = 10.0 * math.log10(ENERGY_FLOOR)
    count, rising, ref, at = 0, False, floor, -1
    for k, v in enumerate(np.r_[smooth, floor]):
        if rising:
            if v > ref:
                ref, at = v, k
            elif v <= ref - PEAK_PROMINENCE_DB:
                count += int(active[at])
                rising, ref = False, v
        elif v < ref:
            ref = v
        elif v >= ref + PEAK_PROMINENCE_DB:
            rising, ref, at = True, v, k
    return count


def _runs(mask: np.ndarray) -> int:
    """Number of maximal runs of True in a boolean vector."""
    m = np.asarray(mask, dtype=np.int8)
    return int(np.sum(np.diff(np.concatenate([[0], m])) == 1))


def _tilt_design() -> np.ndarray:
    """(29,) centred log2(centre / 1 kHz) of the 29 log-mel bands, scaled so that slope = Σ d·y."""
    centres = F.band_edges(F.NUM_FEATURES)[1:-1]
    d = np.log2(centres / 1000.0)
    d = d - d.mean()
    return d / (d**2).sum()


# ---------------------------------------------------------------- utterance features


def utterance_features(audio, sample_rate: int, source=None) -> np.ndarray:
    """(len(FEATURE_NAMES),) float64 features of one utterance (see the module docstring for each and its unit).

    Raises ``DataError`` (a ValueError) naming ``source`` for bad audio: not mono float, non-finite, shorter than
    ``MIN_SECONDS``, silent, fewer than 10 active frames, or fewer than 5 voiced frames (no pitch in 50–500 Hz).
    """
    x = check_audio(audio, sample_rate, source)
    if int(sample_rate) != SAMPLE_RATE:
        from zoo.datasets import resample

        x = resample(x, int(sample_rate), SAMPLE_RATE).astype(np.float64)
    energy = frame_energy_db(x)
    active = energy >= energy.max() - ACTIVE_DB
    n_active = int(active.sum())
    if n_active < MIN_ACTIVE_FRAMES:
        _fail(source, f"too little sound: {n_active} active frames (10 ms each) within {ACTIVE_DB:.0f} dB of the "
                      f"loudest; need at least {MIN_ACTIVE_FRAMES}")
    f0, strength = pitch_track(x)
    voiced = active & (strength >= VOICING_THRESHOLD)
    if int(voiced.sum()) < MIN_VOICED_FRAMES:
        _fail(source, f"no speech pitch: {int(voiced.sum())} voiced frames (pitch strength ≥ {VOICING_THRESHOLD} "
                      f"in {F0_MIN:.0f}–{F0_MAX:.0f} Hz); need at least {MIN_VOICED_FRAMES}")

    e = energy[active]
    power_all = F.power_spectrum(x)
    mel_db = _DB_PER_NEPER * np.log(np.maximum(power_all @ F.mel_filterbank(F.NUM_FEATURES), F.ENERGY_FLOOR))
    power = power_all[active]  # mel_db = features.log_mel(x) in dB, without a second FFT
    freqs = np.arange(F.N_BINS) * (SAMPLE_RATE / F.N_FFT)
    total = power.sum(axis=1) + ENERGY_FLOOR
    centroid = (power @ freqs) / total
    hf_ratio = 10.0 * np.log10(power[:, freqs > HF_SPLIT].sum(axis=1) / total + ENERGY_FLOOR)
    tilt = mel_db[active] @ _tilt_design()
    pairs = active[1:] & active[:-1]
    step = np.sqrt(np.mean(np.diff(mel_db, axis=0) ** 2, axis=1))[pairs]
    flux = float(step.mean()) if step.size else 0.0

    st = 12.0 * np.log2(f0[voiced] / F0_REF)
    both = voiced[1:] & voiced[:-1]
    st_all = 12.0 * np.log2(np.where(f0 > 0, f0, F0_REF) / F0_REF)
    slope = float(np.abs(np.diff(st_all))[both].mean() * FRAME_RATE) if both.any() else 0.0
    p10, p50, p90 = np.percentile(st, [10, 50, 90])

    where = np.flatnonzero(active)
    span_frames = int(where[-1] - where[0] + 1)
    span_s = span_frames / FRAME_RATE
    values = {
        "energy_mean_db": e.mean(), "energy_std_db": e.std(),
        "energy_p10_db": np.percentile(e, 10), "energy_p50_db": np.percentile(e, 50),
        "energy_p90_db": np.percentile(e, 90), "energy_peak_db": energy.max(),
        "centroid_mean_hz": centroid.mean(), "centroid_std_hz": centroid.std(),
        "hf_ratio_db": hf_ratio.mean(), "tilt_db_per_octave": tilt.mean(), "flux_db": flux,
        "f0_std_st": st.std(), "f0_range_st": p90 - p10, "f0_upper_st": p90 - p50, "f0_lower_st": p50 - p10,
        "f0_slope_st_per_s": slope,
        "voiced_fraction": voiced.sum() / n_active, "span_s": span_s,
        "syllable_rate_hz": _envelope_peaks(energy, active) / span_s,
        "voiced_runs_hz": _runs(voiced) / span_s, "pause_fraction": 1.0 - n_active / span_frames,
    }
    return np.array([float(values[name]) for name in FEATURE_NAMES])


def _clip_label(clip) -> str:
    if clip.emotion not in EMOTIONS:
        _fail(clip.source or None, f"emotion label {clip.emotion!r} is not one of {EMOTIONS}")
    return clip.emotion


@dataclass(frozen=True)
class FeatureTable:
    """Features of labelled clips, computed once: ``x`` (N, F) float64, ``y`` (N,) indices into ``EMOTIONS``,
    ``subjects`` (N,) actor names. ``evaluate_held_out`` and ``train_classifier`` accept it in place of Clips."""

    x: np.ndarray
    y: np.ndarray
    subjects: np.ndarray


def feature_table(clips: Sequence | FeatureTable) -> FeatureTable:
    """The ``FeatureTable`` of Clips with audio and a RAVDESS ``emotion`` (a FeatureTable is returned as is)."""
    if isinstance(clips, FeatureTable):
        return clips
    rows, labels, subjects = [], [], []
    for clip in clips:
        if clip.audio is None:
            _fail(clip.source or None, "clip has no audio")
        labels.append(EMOTIONS.index(_clip_label(clip)))
        rows.append(utterance_features(clip.audio, clip.sample_rate, clip.source or None))
        subjects.append(str(clip.subject))
    if not rows:
        raise ValueError("no clips given")
    return FeatureTable(np.stack(rows), np.array(labels, dtype=np.int64), np.array(subjects))


# ---------------------------------------------------------------- multinomial logistic regression


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def fit_logistic(z: np.ndarray, y: np.ndarray, l2: float, num_classes: int = len(EMOTIONS)):
    """(W (F, C), b (C,)) minimising mean_i −log softmax(z_i W + b)[y_i] + (λ/2)·‖W‖², by L-BFGS from zeros.

    Gradient: ∂/∂W = zᵀ(P − Y)/N + λW, ∂/∂b = Σ_i (P − Y)_i / N (Y one-hot).
    """
    from scipy.optimize import minimize

    n, d = z.shape
    onehot = np.zeros((n, num_classes))
    onehot[np.arange(n), y] = 1.0

    def loss_grad(theta):
        w, b = theta[: d * num_classes].reshape(d, num_classes), theta[d * num_classes:]
        logits = z @ w + b
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -(onehot * log_p).sum() / n + 0.5 * l2 * (w**2).sum()
        diff = (np.exp(log_p) - onehot) / n
        return loss, np.concatenate([(z.T @ diff + l2 * w).ravel(), diff.sum(axis=0)])

    result = minimize(loss_grad, np.zeros(d * num_classes + num_classes), jac=True, method="L-BFGS-B",
                      options={"maxiter": MAX_ITER})
    theta = result.x
    return theta[: d * num_classes].reshape(d, num_classes), theta[d * num_classes:]


@dataclass
class EmotionClassifier:
    """Standardisation (training mean and std per feature) + multinomial logistic regression over ``EMOTIONS``.

    p(label | audio) = softmax(W·((x − mean) / std) + b), x = ``utterance_features(audio, rate)``.
    """

    weights: np.ndarray  # (F, 8)
    bias: np.ndarray  # (8,)
    feature_mean: np.ndarray  # (F,)
    feature_std: np.ndarray  # (F,), floored at STD_FLOOR
    l2: float
    seed: int = 0
    info: dict = field(default_factory=dict)  # training facts (actors, clip counts, shuffled labels)
    labels: tuple[str, ...] = EMOTIONS
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def probabilities_from_features(self, x: np.ndarray) -> np.ndarray:
        """(N, 8) class probabilities from raw feature rows (N, F) or (F,) → (1, 8)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return _softmax(((x - self.feature_mean) / self.feature_std) @ self.weights + self.bias)

    def predict(self, audio, sample_rate: int, source=None) -> tuple[str, dict[str, float]]:
        """(label, {label: probability}) for float mono audio in [−1, 1] at ``sample_rate`` Hz (any rate)."""
        p = self.probabilities_from_features(utterance_features(audio, sample_rate, source))[0]
        return self.labels[int(np.argmax(p))], {label: float(v) for label, v in zip(self.labels, p)}

    def predict_file(self, path: str | os.PathLike) -> tuple[str, dict[str, float]]:
        """``predict`` on an audio file read by ``zoo.datasets.load_audio`` (errors name the file)."""
        from zoo.datasets import load_audio

        audio, rate = load_audio(path)
        return self.predict(audio, rate, source=path)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``classifier.json`` and the four ``.npy`` arrays into ``folder`` (created); returns the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ARRAY_FILES:
            np.save(folder / f"{name}.npy", np.asarray(getattr(self, name), dtype=np.float64), allow_pickle=False)
        meta = {"format_version": FORMAT_VERSION, "labels": list(self.labels),
                "feature_names": list(self.feature_names), "l2": self.l2, "seed": self.seed, "info": self.info,
                "feature_sample_rate": SAMPLE_RATE}
        (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> EmotionClassifier:
        """Read a folder written by ``save``; a missing, malformed or inconsistent file raises ``DataError``
        naming it."""
        folder = Path(folder)
        config_path = folder / CONFIG_FILE
        if not config_path.is_file():
            _fail(config_path, "classifier config not found")
        try:
            meta = json.loads(config_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            _fail(config_path, f"not valid JSON ({exc})")
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            _fail(config_path, f"not a classifier config of format_version {FORMAT_VERSION}")
        labels, names = tuple(meta.get("labels", ())), tuple(meta.get("feature_names", ()))
        if labels != EMOTIONS:
            _fail(config_path, f"labels {labels} differ from the RAVDESS labels {EMOTIONS}")
        if names != FEATURE_NAMES:
            _fail(config_path, "feature names differ from this version's FEATURE_NAMES (retrain the classifier)")
        shapes = {"weights": (len(names), len(labels)), "bias": (len(labels),), "feature_mean": (len(names),),
                  "feature_std": (len(names),)}
        arrays = {}
        for name, shape in shapes.items():
            path = folder / f"{name}.npy"
            if not path.is_file():
                _fail(path, "classifier array not found")
            try:
                value = np.load(path, allow_pickle=False)
            except ValueError as exc:
                _fail(path, f"not a plain .npy array ({exc})")
            if value.shape != shape or not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
                _fail(path, f"expected finite float array of shape {shape}, got {value.dtype} {value.shape}")
            arrays[name] = value.astype(np.float64)
        if (arrays["feature_std"] <= 0).any():
            _fail(folder / "feature_std.npy", "standard deviations must be positive")
        return cls(l2=float(meta["l2"]), seed=int(meta.get("seed", 0)), info=dict(meta.get("info", {})), **arrays)


def _fit(x: np.ndarray, y: np.ndarray, l2: float, seed: int = 0, shuffle_labels: bool = False,
         info: dict | None = None) -> EmotionClassifier:
    if shuffle_labels:
        y = np.random.default_rng(seed).permutation(y)
    mean = x.mean(axis=0)
    std = np.maximum(x.std(axis=0), STD_FLOOR)
    w, b = fit_logistic((x - mean) / std, y, l2)
    facts = {"num_clips": int(len(y)), "shuffled_labels": bool(shuffle_labels), **(info or {})}
    return EmotionClassifier(weights=w, bias=b, feature_mean=mean, feature_std=std, l2=float(l2), seed=int(seed),
                             info=facts)


def train_classifier(clips: Sequence | FeatureTable, *, l2: float = DEFAULT_L2, seed: int = 0,
                     shuffle_labels: bool = False) -> EmotionClassifier:
    """Fit on every clip given (Clips with audio and a RAVDESS ``emotion``). ``shuffle_labels`` permutes the labels
    with ``numpy.random.default_rng(seed)`` first (the control); otherwise the fit has no randomness."""
    table = feature_table(clips)
    return _fit(table.x, table.y, l2, seed, shuffle_labels, {"subjects": sorted(set(table.subjects.tolist()))})


# ---------------------------------------------------------------- held-out-actor evaluation


def _actor(name) -> str:
    """``"Actor_04"`` from 4, "4", "04" or "Actor_04"."""
    if isinstance(name, (int, np.integer)) or (isinstance(name, str) and name.isdigit()):
        return f"Actor_{int(name):02d}"
    return str(name)


def select_l2(x: np.ndarray, y: np.ndarray, subjects: np.ndarray, val_actors: Iterable | None = None,
              grid: Sequence[float] = L2_GRID) -> tuple[float, dict[float, float]]:
    """(best λ, {λ: validation accuracy}) over ``grid``; ties go to the larger λ (the simpler model).

    With ``val_actors``: train on the other subjects, score on those. Without: leave one actor out over every
    subject present, pooling correct predictions over the folds.
    """
    present = sorted(set(subjects.tolist()))
    folds = [[_actor(a) for a in val_actors]] if val_actors is not None else [[s] for s in present]
    scores = {}
    for l2 in grid:
        correct = total = 0
        for fold in folds:
            val = np.isin(subjects, fold)
            if not val.any() or val.all():
                raise ValueError(f"validation actors {fold} leave no validation or no training clips "
                                 f"(actors present: {present})")
            model = _fit(x[~val], y[~val], l2)
            correct += int((model.probabilities_from_features(x[val]).argmax(axis=1) == y[val]).sum())
            total += int(val.sum())
        scores[float(l2)] = correct / total
    best = max(scores.values())
    return max(l2 for l2, s in scores.items() if s == best), scores


def evaluate_held_out(clips: Sequence | FeatureTable, test_actors: Iterable, val_actors: Iterable | None = None, *,
                      grid: Sequence[float] = L2_GRID, seed: int = 0, shuffle_labels: bool = False) -> dict:
    """Held-out-actor accuracy of the classifier against chance and the majority-class baseline.

    The test actors' clips are set aside first. λ is chosen on ``val_actors`` (or leave-one-actor-out over the
    other actors); the reported model is refitted on every non-test actor with that λ and scored once on the test
    actors. ``shuffle_labels`` permutes the training labels (seeded) for the control; selection and refit both see
    the permuted labels. Returns accuracy, chance (0.125), majority_class, majority_class_accuracy, confusion
    (8 × 8 counts, rows true, columns predicted, ``EMOTIONS`` order), n_test, n_train, l2, validation_accuracy
    ({λ: accuracy}) and the actors: train_actors and val_actors of the selection, refit_actors of the reported
    model (every non-test actor), test_actors.
    """
    table = feature_table(clips)
    x, y, subjects = table.x, table.y, table.subjects
    test = [_actor(a) for a in test_actors]
    is_test = np.isin(subjects, test)
    if not is_test.any():
        raise ValueError(f"no clips of test actors {test} (actors present: {sorted(set(subjects.tolist()))})")
    if is_test.all():
        raise ValueError(f"every clip belongs to the test actors {test}: nothing to train on")
    xt, yt, st = x[~is_test], y[~is_test], subjects[~is_test]
    if shuffle_labels:
        yt = np.random.default_rng(seed).permutation(yt)
    val = None if val_actors is None else [_actor(a) for a in val_actors]
    if val is not None and set(val) & set(test):
        raise ValueError(f"validation actors {val} overlap the test actors {test}")
    l2, val_scores = select_l2(xt, yt, st, val, grid)
    model = _fit(xt, yt, l2, seed)
    predicted = model.probabilities_from_features(x[is_test]).argmax(axis=1)
    truth = y[is_test]
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    majority = int(np.argmax(np.bincount(yt, minlength=len(EMOTIONS))))  # argmax takes the first of ties
    refit_actors = sorted(set(st.tolist()))
    return {
        "accuracy": float((predicted == truth).mean()),
        "chance": CHANCE,
        "majority_class": EMOTIONS[majority],
        "majority_class_accuracy": float((truth == majority).mean()),
        "confusion": confusion.tolist(),
        "n_test": int(is_test.sum()),
        "n_train": int(len(yt)),
        "l2": l2,
        "validation_accuracy": val_scores,
        "train_actors": [a for a in refit_actors if val is None or a not in val],  # fitted during selection
        "val_actors": val if val is not None else refit_actors,  # leave-one-actor-out folds when not given
        "refit_actors": refit_actors,  # the reported model's training actors
        "test_actors": test,
        "shuffled_labels": bool(shuffle_labels),
    }


__all__ = [
    "FEATURE_NAMES", "CHANCE", "L2_GRID", "DEFAULT_L2", "EmotionClassifier", "check_audio", "frame_energy_db",
    "pitch_track", "utterance_features", "FeatureTable", "feature_table", "fit_logistic", "train_classifier",
    "select_l2", "evaluate_held_out",
]
