"""Speech features of Aud2Repr2Pose (Kucherenko et al. 2019; spec gesture_ae §1.2–1.3), NumPy float64, 20 fps.

Audio convention. Every function takes mono float audio in [-1, 1] (as ``zoo.datasets.load_audio`` returns it)
and its ``sample_rate`` in Hz. The original read its WAVs with ``scipy.io.wavfile`` (int16 values, not scaled)
and averaged stereo in int16 (which can overflow; ``load_audio`` averages in float). The MFCC path therefore
multiplies by ``INT16_SCALE`` = 32768 first, so on a PCM16 file (whose samples ``load_audio`` returns as
``int16 / 32768``, exactly) the numbers equal the original's. The mel spectrogram works on [-1, 1] audio
(as ``librosa.load`` gave it) and the prosody on [-1, 1] audio (as Praat reads a WAV).

Streams (T frames at ``FPS`` = 20; a stream's own frame rule is in its function):

* ``mfcc`` (26): ``python_speech_features`` 0.6 ``mfcc(x·32768, samplerate, winlen=0.02, winstep=0.01,
  numcep=26)`` with the library defaults, bit for bit at 100 fps (``mfcc_100fps``), then averaged over
  non-overlapping blocks of 5 frames (the tail is dropped);
* ``spectrogram`` (64): log mel power spectrogram at 22050 Hz, hop 1102 samples (≈ 20.009 fps);
* ``prosody`` (4): Praat intensity and pitch every 5 ms, [energy, energy', pitch, pitch'], blocks of 10.

``features`` concatenates streams (``FEATURE_KINDS``) cut to the shortest, as float32. ``silence_vector`` is the
original's padding row, ``pad_context`` / ``context_windows`` build the 61-frame windows (±``CONTEXT`` frames).
TensorFlow versions: ``features_tf``.
"""
from __future__ import annotations

import functools
import logging
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from zoo.datasets.audio import resample

log = logging.getLogger(__name__)

FPS = 20  # feature frames per second (the motion rate)
INT16_SCALE = 32768.0  # [-1, 1] audio × 32768 = the int16 values the original's scipy read gave

# MFCC (python_speech_features 0.6 defaults except winlen, winstep, numcep)
MFCC_WINLEN = 0.02  # s (882 samples at 44.1 kHz)
MFCC_WINSTEP = 0.01  # s (100 fps)
MFCC_BLOCK = 5  # 100 fps frames averaged into one 20 fps frame
NUMCEP = 26
NFILT = 26
NFFT = 512  # the library default; frames longer than this are truncated by the FFT (GENEA_2020 used 1024)
PREEMPH = 0.97
CEPLIFTER = 22
FLOOR = float(np.finfo(np.float64).eps)  # psf replaces an exact 0 energy by eps = 2.22e-16 before the log

# Mel spectrogram (librosa.load + librosa.feature.melspectrogram, old-librosa defaults)
SPECTRO_RATE = 22050  # Hz (librosa.load's default rate)
SPECTRO_HOP = int(0.1 * SPECTRO_RATE / 2)  # 1102 samples
SPECTRO_NFFT = 2048
N_MELS = 64
FMIN = 100.0  # Hz
FMAX = 7500.0  # Hz
SPECTRO_EPS = 1e-10  # ln(S + 1e-10)

# Prosody (Praat via parselmouth)
PROSODY_STEP = 0.005  # s: Praat's time step and the sampling step
PROSODY_BLOCK = 10  # 5 ms samples averaged into one 20 fps frame
DERIVATIVE_DX = 1000 * PROSODY_STEP  # 5.0: derivatives are per millisecond

FEATURE_KINDS = {"MFCC": 26, "Spectro": 64, "Pros": 4, "MFCC+Pros": 30, "Spectro+Pros": 68, "MFCC+Spectro": 90,
                 "MFCC+Spectro+Pros": 94}
SILENCE_RATE = 44100  # silence.wav: all zeros at 44.1 kHz
SILENCE_SECONDS = 1.0
CONTEXT = 30  # frames of context on each side (N_CONTEXT = 60)
WINDOW_FRAMES = 2 * CONTEXT + 1  # 61

_BLOCK_ROWS = 16384  # 100 fps frames per FFT block (bounds the working memory; the FFT is row-wise)


# --------------------------------------------------------------------------------------------- input checks
def _mono(audio, sample_rate) -> tuple[np.ndarray, int]:
    a = np.asarray(audio)
    if a.ndim != 1:
        raise ValueError(f"audio must be mono (samples,); got shape {a.shape} (average the channels first)")
    if a.size == 0:
        raise ValueError("audio is empty (0 samples)")
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"audio must be float in [-1, 1] (e.g. int16 / 32768); got dtype {a.dtype}")
    if not np.isfinite(a).all():
        first = int(np.argwhere(~np.isfinite(a))[0][0])
        raise ValueError(f"audio has non-finite samples (NaN or Inf), first at sample {first}")
    rate = int(sample_rate)
    if rate != sample_rate or rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer in Hz; got {sample_rate!r}")
    return a.astype(np.float64, copy=False), rate


def block_average(x: np.ndarray, n: int) -> np.ndarray:
    """Mean of non-overlapping blocks of ``n`` rows, (T, D) → (T // n, D); the leftover tail is dropped.

    Each column is averaged as a contiguous series (as the original did, column by column), so the sums run in
    NumPy's order for a contiguous reduction.
    """
    x = np.asarray(x, np.float64)
    end = n * (len(x) // n)
    width = int(np.prod(x.shape[1:], dtype=np.int64))
    columns = np.ascontiguousarray(x[:end].reshape(end, width).T)  # (D, end)
    return np.mean(columns.reshape(columns.shape[0], -1, n), axis=2).T.reshape((end // n, *x.shape[1:]))


# --------------------------------------------------------------------------------------------- MFCC
def round_half_up(value: float) -> int:
    """Nearest integer of a float, halves away from zero (exact decimal value of the float, as psf rounds)."""
    return int(Decimal(value).to_integral_value(rounding=ROUND_HALF_UP))


def mfcc_framing(num_samples: int, sample_rate: int) -> tuple[int, int, int]:
    """(frame_len, frame_step, frames) of psf's framing: ``round_half_up(0.02·sr)``, ``round_half_up(0.01·sr)``
    samples; 1 frame if the signal is not longer than a frame, else ``1 + ceil((S − frame_len) / frame_step)``
    (the last frame zero-padded)."""
    frame_len = round_half_up(MFCC_WINLEN * sample_rate)
    frame_step = round_half_up(MFCC_WINSTEP * sample_rate)
    if num_samples <= frame_len:
        return frame_len, frame_step, 1
    return frame_len, frame_step, 1 + int(np.ceil((1.0 * num_samples - frame_len) / frame_step))


def hz_to_mel(hz):
    """mel = 2595 · log10(1 + hz / 700)."""
    return 2595 * np.log10(1 + hz / 700.0)


def mel_to_hz(mel):
    """hz = 700 · (10^(mel / 2595) − 1)."""
    return 700 * (10 ** (mel / 2595.0) - 1)


@functools.cache
def _mel_filterbank(sample_rate: int, nfft: int, nfilt: int) -> np.ndarray:
    high = sample_rate / 2
    mels = np.linspace(hz_to_mel(0), hz_to_mel(high), nfilt + 2)
    edges = np.floor((nfft + 1) * mel_to_hz(mels) / sample_rate)  # FFT bin of each band edge
    bank = np.zeros((nfilt, nfft // 2 + 1))
    for j in range(nfilt):
        lo, mid, hi = edges[j], edges[j + 1], edges[j + 2]
        for i in range(int(lo), int(mid)):
            bank[j, i] = (i - lo) / (mid - lo)
        for i in range(int(mid), int(hi)):
            bank[j, i] = (hi - i) / (hi - mid)
    bank.setflags(write=False)
    return bank


def mel_filterbank(sample_rate: int, nfft: int = NFFT, nfilt: int = NFILT) -> np.ndarray:
    """psf's triangular mel filterbank, (nfilt, nfft/2 + 1) float64, 0 Hz … sr/2.

    Band edges ``b_m = floor((nfft + 1) · hz(mel_m) / sr)`` for ``nfilt + 2`` points evenly spaced in mel; filter j
    rises ``(i − b_j) / (b_{j+1} − b_j)`` on bins [b_j, b_{j+1}) and falls ``(b_{j+2} − i) / (b_{j+2} − b_{j+1})``
    on [b_{j+1}, b_{j+2}). Unnormalised (peak 1).
    """
    return _mel_filterbank(int(sample_rate), int(nfft), int(nfilt)).copy()


def dct_matrix(n_in: int = NFILT, n_out: int = NUMCEP) -> np.ndarray:
    """Orthonormal DCT-II as a (n_out, n_in) float64 matrix: ``D[k, n] = s_k · cos(π k (2n + 1) / (2 n_in))``,
    ``s_0 = sqrt(1 / n_in)``, ``s_k = sqrt(2 / n_in)``."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    scale = np.where(k == 0, np.sqrt(1.0 / n_in), np.sqrt(2.0 / n_in))
    return scale * np.cos(np.pi * k * (2 * n + 1) / (2 * n_in))


def lifter_weights(numcep: int = NUMCEP, lifter: int = CEPLIFTER) -> np.ndarray:
    """Cepstral lifter ``1 + (L / 2) · sin(π n / L)``, n = 0 … numcep − 1 (float64; all ones when L ≤ 0)."""
    n = np.arange(numcep)
    return 1 + (lifter / 2.0) * np.sin(np.pi * n / lifter) if lifter > 0 else np.ones(numcep)


def mfcc_100fps(audio, sample_rate: int, *, nfft: int = NFFT) -> np.ndarray:
    """MFCC at 100 fps, (T100, 26) float64, bit for bit ``python_speech_features`` 0.6 ``mfcc`` of ``audio·32768``.

    ``x = audio · 32768``; pre-emphasis ``y[0] = x[0]``, ``y[n] = x[n] − 0.97 x[n−1]``; frames of
    ``round_half_up(0.02·sr)`` samples every ``round_half_up(0.01·sr)`` (``mfcc_framing``, zero-padded end),
    rectangular window; ``P = |rfft(frame, nfft)|² / nfft`` (rfft keeps the first ``nfft`` samples of a longer
    frame: 512 of 882 at 44.1 kHz); ``E = Σ_k P_k`` and the 26 mel energies ``P · fbᵀ``, each an exact 0 replaced
    by eps = 2.22e-16; ``c = lifter · DCT-II_ortho(ln mel)[:26]``; ``c_0 ← ln E``.
    """
    x, rate = _mono(audio, sample_rate)
    x = x * INT16_SCALE
    y = np.append(x[0], x[1:] - PREEMPH * x[:-1])
    frame_len, frame_step, frames = mfcc_framing(y.size, rate)
    if frame_len > nfft:
        log.debug("MFCC frames of %d samples are truncated to nfft=%d by the FFT (as psf does)", frame_len, nfft)
    used = min(frame_len, nfft)  # samples of a frame the FFT reads
    padded = np.zeros((frames - 1) * frame_step + frame_len)
    padded[: y.size] = y
    view = np.lib.stride_tricks.sliding_window_view(padded, used)[::frame_step][:frames]
    power = np.empty((frames, nfft // 2 + 1))
    for start in range(0, frames, _BLOCK_ROWS):
        block = view[start:start + _BLOCK_ROWS]
        power[start:start + _BLOCK_ROWS] = 1.0 / nfft * np.square(np.abs(np.fft.rfft(block, nfft)))
    energy = np.sum(power, 1)
    energy = np.where(energy == 0, FLOOR, energy)
    mel = np.dot(power, _mel_filterbank(rate, nfft, NFILT).T)
    mel = np.where(mel == 0, FLOOR, mel)
    from scipy.fft import dct

    ceps = dct(np.log(mel), type=2, axis=1, norm="ortho")[:, :NUMCEP]
    ceps = lifter_weights() * ceps
    ceps[:, 0] = np.log(energy)
    return ceps


def mfcc(audio, sample_rate: int, *, nfft: int = NFFT) -> np.ndarray:
    """MFCC at 20 fps, (T, 26) float64: ``mfcc_100fps`` averaged over non-overlapping blocks of 5 frames,
    ``T = T100 // 5`` (the tail is dropped)."""
    return block_average(mfcc_100fps(audio, sample_rate, nfft=nfft), MFCC_BLOCK)


# --------------------------------------------------------------------------------------------- mel spectrogram
@functools.cache
def _slaney_mel_basis() -> np.ndarray:
    import librosa

    basis = librosa.filters.mel(sr=SPECTRO_RATE, n_fft=SPECTRO_NFFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX,
                                htk=False, norm="slaney", dtype=np.float64)
    basis.setflags(write=False)
    return basis


def spectrogram(audio, sample_rate: int) -> np.ndarray:
    """Log mel power spectrogram, (T, 64) float64 at 22050 / 1102 ≈ 20.009 fps, as the original's librosa call.

    Audio is resampled to 22050 Hz (``zoo.datasets.resample``, soxr VHQ; librosa.load used resampy's
    kaiser_best, so values differ slightly). Frames of 2048 samples every 1102, centred: the signal is padded by
    1024 samples on each side in ``reflect`` mode, the default of the librosa of 2019 (0.6/0.7; spec §10.12:
    librosa ≥ 0.10 pads with zeros), so ``T = 1 + S22 // 1102``. Periodic Hann window, ``S = |rfft|²`` (power 2),
    64 Slaney mel bands 100–7500 Hz (librosa's ``filters.mel`` with htk=False, norm="slaney": the old
    ``norm=1``), ``ln(S + 1e-10)``. Computed in float64 (old librosa ran the STFT in complex64).
    """
    x, rate = _mono(audio, sample_rate)
    y = resample(x, rate, SPECTRO_RATE).astype(np.float64) if rate != SPECTRO_RATE else x
    half = SPECTRO_NFFT // 2
    padded = np.pad(y, half, mode="reflect")
    frames = 1 + y.size // SPECTRO_HOP
    view = np.lib.stride_tricks.sliding_window_view(padded, SPECTRO_NFFT)[::SPECTRO_HOP][:frames]
    n = np.arange(SPECTRO_NFFT)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / SPECTRO_NFFT)  # periodic ("fftbins") Hann
    basis = _slaney_mel_basis()
    out = np.empty((frames, N_MELS))
    for start in range(0, frames, _BLOCK_ROWS // 8):
        block = view[start:start + _BLOCK_ROWS // 8] * hann
        power = np.abs(np.fft.rfft(block, axis=1)) ** 2
        out[start:start + _BLOCK_ROWS // 8] = power @ basis.T
    return np.log(out + SPECTRO_EPS)


# --------------------------------------------------------------------------------------------- prosody
def _derivative(series: np.ndarray) -> np.ndarray:
    """First difference per millisecond, ``d[t] = (f[t] − f[t−1]) / 5``, with ``d[0] = 0``."""
    der = np.zeros_like(series)
    der[1:] = (series[1:] - series[:-1]) / DERIVATIVE_DX
    return der


def prosody_samples(audio, sample_rate: int) -> np.ndarray:
    """Praat pitch' and intensity' every 5 ms, (N, 2) float64 columns [intensity', pitch'] before averaging.

    ``Sound.to_pitch(time_step=0.005)`` (75–600 Hz) and ``Sound.to_intensity(time_step=0.005)`` (minimum pitch
    100 Hz, mean subtracted), sampled at ``t = arange(0, duration − 0.005, 0.005)`` (end excluded) with
    ``Pitch.get_value_at_time`` (Hz, linear) and ``Intensity.get_value`` (dB, cubic); NaN → 0;
    ``pitch' = max(ln(f0 + 1) − 4, 0)``, ``intensity' = max(ln(max(I, eps)) − 3, 0)``. The original let Praat read
    the WAV itself (the same [-1, 1] values for a mono PCM16 file; a stereo file is analysed per channel by Praat,
    here as the float average).
    """
    import parselmouth

    x, rate = _mono(audio, sample_rate)
    sound = parselmouth.Sound(x, sampling_frequency=rate)
    try:
        pitch = sound.to_pitch(time_step=PROSODY_STEP)
        intensity = sound.to_intensity(time_step=PROSODY_STEP)
    except parselmouth.PraatError as exc:
        raise ValueError(f"Praat cannot analyse {x.size} samples ({x.size / rate:.3f} s) of audio: "
                         f"{str(exc).strip().splitlines()[0]}") from None
    times = np.arange(0, sound.get_total_duration() - PROSODY_STEP, PROSODY_STEP)
    f0 = np.nan_to_num(np.array([pitch.get_value_at_time(t) for t in times], np.float64))
    level = np.nan_to_num(np.array([intensity.get_value(t) for t in times], np.float64))
    level = np.clip(level, FLOOR, None)
    pitch_norm = np.clip(np.log(f0 + 1) - 4, 0, None)
    intensity_norm = np.clip(np.log(level) - 3, 0, None)
    return np.stack([intensity_norm, pitch_norm], axis=1)


def prosody(audio, sample_rate: int) -> np.ndarray:
    """Prosody at 20 fps, (T, 4) float64 [energy, energy', pitch, pitch'], ``T = N // 10``.

    ``prosody_samples`` (intensity', pitch' every 5 ms), each with its derivative ``(f[t] − f[t−1]) / 5`` (per ms,
    first value 0) taken at 5 ms, then every series averaged over non-overlapping blocks of 10 samples.
    """
    samples = prosody_samples(audio, sample_rate)
    energy, pitch = samples[:, 0], samples[:, 1]
    series = [energy, _derivative(energy), pitch, _derivative(pitch)]
    return np.stack([block_average(s, PROSODY_BLOCK) for s in series], axis=1).reshape(-1, 4)


# --------------------------------------------------------------------------------------------- combinations
_STREAMS = {"MFCC": mfcc, "Spectro": spectrogram, "Pros": prosody}


def _check_kind(kind: str) -> list[str]:
    if kind not in FEATURE_KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; choose one of {sorted(FEATURE_KINDS)}")
    return kind.split("+")


def features(audio, sample_rate: int, kind: str = "MFCC", *, nfft: int = NFFT) -> np.ndarray:
    """The speech features of ``kind`` (``FEATURE_KINDS``), (T, D) float32 at 20 fps.

    Streams in the order MFCC, Spectro, Pros, each cut to the shortest before concatenation. ``nfft`` is the MFCC
    FFT size (512 as the original; GENEA_2020 used 1024).
    """
    streams = []
    for name in _check_kind(kind):
        streams.append(mfcc(audio, sample_rate, nfft=nfft) if name == "MFCC" else _STREAMS[name](audio, sample_rate))
    length = min(len(s) for s in streams)
    return np.concatenate([s[:length] for s in streams], axis=1).astype(np.float32)


@functools.cache
def _silence(kind: str) -> np.ndarray:
    vector = features(np.zeros(int(SILENCE_RATE * SILENCE_SECONDS)), SILENCE_RATE, kind)[0]
    vector.setflags(write=False)
    return vector


def silence_vector(kind: str = "MFCC") -> np.ndarray:
    """The original's padding row, (D,) float32: the first frame of the features of ``silence.wav`` (1 s of zeros
    at 44.1 kHz), computed by the feature functions (cached). MFCC: [ln(2.22e-16) = −36.04, 0, …, 0]; Spectro:
    ln(1e-10) = −23.03 per band; Pros: zeros."""
    _check_kind(kind)
    return _silence(kind).copy()


# --------------------------------------------------------------------------------------------- context windows
def _checked_features(feats, kind: str) -> np.ndarray:
    _check_kind(kind)
    dims = FEATURE_KINDS[kind]
    f = np.asarray(feats)
    if f.ndim != 2 or f.shape[1] != dims:
        raise ValueError(f"{kind} features must be (frames, {dims}); got shape {f.shape}")
    return f.astype(np.float32, copy=False)


def pad_context(feats, kind: str = "MFCC") -> np.ndarray:
    """(T, D) features with ``CONTEXT`` = 30 silence rows before and after: (T + 60, D) float32."""
    f = _checked_features(feats, kind)
    pad = np.broadcast_to(silence_vector(kind), (CONTEXT, f.shape[1]))
    return np.concatenate([pad, f, pad], axis=0)


def context_windows(feats, kind: str = "MFCC") -> np.ndarray:
    """All 61-frame windows, (T, 61, D) float32 (a materialised copy: for tests and short clips; training cuts them
    on the fly with ``zoo.datasets.FrameTable(context=...)``). Window i = padded rows i … i + 60; its centre row
    i + 30 is frame i."""
    padded = pad_context(feats, kind)
    view = np.lib.stride_tricks.sliding_window_view(padded, WINDOW_FRAMES, axis=0)  # (T, D, 61)
    return np.ascontiguousarray(view.transpose(0, 2, 1))
