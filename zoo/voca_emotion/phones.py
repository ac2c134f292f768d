"""Speaker-independent phone features for VOCA (spec §1.2 option C): pocketsphinx all-phone decoding → one-hot.

Pipeline (NumPy + pocketsphinx only; no TensorFlow, nothing downloaded — the model ships inside the wheel):

* input: mono audio, float in [-1, 1] (any float dtype) or int16 PCM, at any ``sample_rate`` (Hz);
* float audio is resampled to ``DECODER_RATE`` = 16 000 Hz (``zoo.datasets.resample``, soxr VHQ) and converted
  with ``to_pcm16``: ``round(x · 32767)`` clipped to int16; int16 audio is scaled by 1/32768 first (unless it is
  already at 16 kHz, when it is used as is);
* a seeded dither is added: ``pcm ← clip(round(pcm + ε), int16)``, ε ~ N(0, σ²) drawn from
  ``np.random.default_rng(DITHER_SEED)`` afresh for every call (the same input always gets the same ε), with
  ``σ = max(10^(DITHER_DB / 20) · rms(pcm), DITHER_FLOOR)`` in int16 steps, ``DITHER_DB`` = −50 dB relative to the
  utterance's RMS and ``DITHER_FLOOR`` = 1 step. Without a dither, digitally silent stretches (exact zeros:
  synthetic speech's pauses and plosive closures, zero padding) give log(0) features that the model decodes as
  phones (1 s of zeros → ``B``); tying σ to the RMS keeps the result nearly gain-invariant (the cepstral mean
  removes a gain). Chosen on a dev set disjoint from the tests (``zoo.datasets.synthetic`` sentences 21–32 × 4
  voices, 0.5 s zero padding): silence/speech frame agreement with espeak's timeline 0.877 without a dither, 0.969
  with; same phone at gain 0.5 / 0.25 vs 1: 0.983 / 0.963 (a fixed σ of 2 steps: 0.926 / 0.871);
* the bundled US-English acoustic model ``en-us/en-us`` decodes it with the bundled phonetic 3-gram
  ``en-us/en-us-phone.lm.bin`` (all-phone search, context-independent units, ``DECODER_OPTIONS``), at
  ``DECODER_FPS`` = 100 frames/s: decoder frame ``k`` stands for ``[k/100, (k+1)/100)`` s;
* labels: the 39 CMU phones plus ``SIL``; the fillers ``+NSN+`` (noise) and ``+SPN+`` (speech noise) and the
  sentence/silence markers become ``SIL``; decoder frames that no segment covers are ``SIL``;
* output frame ``j`` (time ``j / FPS`` s, ``FPS`` = 60) takes the phone of decoder frame
  ``k = floor(j · 100 / 60) = (5 j) // 3``, i.e. the phone active at ``j / 60`` s; ``SIL`` past the last decoder
  frame. ``N = num_frames(S, sample_rate) = round(S · 60 / sample_rate)`` for S input samples, exact rational
  value with ties to even (the MFCC front end's rule, ``zoo.voca_emotion.features.num_frames``).

Timing note: pocketsphinx's frame ``k`` is computed from a 25.6 ms window starting at ``k / 100`` s (centre
``k / 100 + 12.8`` ms), so labels sit up to ≈ 8 ms later than a centred convention would put them, under half
a 60-fps frame (16.7 ms).

Decoding is deterministic: the dither is seeded, pocketsphinx's own dither is off, and the feature front end
(its noise-removal and cepstral-mean state) is reset before every utterance, so a result does not depend on what
was decoded before. One decoder is kept per process and guarded by a lock. There are no posteriors: all-phone
search yields a single best path and no lattice, so ``phone_frames`` is one-hot.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from .features import num_frames  # the model's one frame-count rule: N = round(s · 60), ties to even

POCKETSPHINX_REQUIREMENT = "pocketsphinx==5.1.1"
"""The pinned wheel (29.2 MB, manylinux x86_64, CPython 3.11) whose bundled model these settings were made for."""

SIL = "SIL"
PHONES: tuple[str, ...] = (
    SIL,
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY", "JH",
    "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)
"""Feature order: index 0 = ``SIL``, then the model's 39 context-independent CMU phones in its own (alphabetical)
order. ``NUM_PHONES`` = 40."""
NUM_PHONES = len(PHONES)
PHONE_INDEX = {p: i for i, p in enumerate(PHONES)}
FILLERS = frozenset({"+NSN+", "+SPN+", "NSN", "SPN", "<sil>", "<s>", "</s>", "[NOISE]", "[SPEECH]"})
"""Decoder labels that are mapped to ``SIL``."""

FPS = 60
"""Output frames per second."""
DECODER_RATE = 16000
"""Hz; the acoustic model's sample rate."""
DECODER_FPS = 100
"""Decoder frames per second (10 ms hop)."""
ACOUSTIC_MODEL = "en-us/en-us"
PHONE_LM = "en-us/en-us-phone.lm.bin"
"""Paths inside ``pocketsphinx.get_model_path()`` (the wheel's ``pocketsphinx/model`` folder)."""
DECODER_OPTIONS = {"lw": 2.0, "beam": 1e-20, "pbeam": 1e-20, "dither": False}
"""All-phone search settings: language-model weight 2 and beams 1e-20 (CMU Sphinx's phoneme-recognition advice;
on the dev set lw 2 gave silence/speech agreement 0.877 vs 0.786 at the default lw 6.5); pocketsphinx's own
dither off (the seeded ``DITHER_DB`` dither replaces it)."""
DITHER_DB = -50.0
"""Dither level relative to the utterance's RMS, dB."""
DITHER_FLOOR = 1.0
"""Smallest dither standard deviation, int16 steps (all-zero input still gets noise)."""
DITHER_SEED = 0

_LOCK = threading.Lock()
_DECODER = None


def _pocketsphinx():
    """The pocketsphinx module, or ImportError that says how to install it."""
    try:
        import pocketsphinx
    except ImportError as exc:
        raise ImportError(
            f"zoo.voca_emotion.phones needs pocketsphinx (phone decoding with its bundled English model): "
            f"pip install {POCKETSPHINX_REQUIREMENT}"
        ) from exc
    return pocketsphinx


def model_paths() -> dict[str, str]:
    """Absolute paths of the bundled files used: ``hmm`` (acoustic model folder) and ``allphone`` (phone LM).

    Raises FileNotFoundError naming the path if the installed pocketsphinx ships no such file.
    """
    ps = _pocketsphinx()
    paths = {"hmm": ps.get_model_path(ACOUSTIC_MODEL), "allphone": ps.get_model_path(PHONE_LM)}
    for key, path in paths.items():
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"pocketsphinx's bundled {key} model is missing: {path} (install the wheel: "
                f"pip install {POCKETSPHINX_REQUIREMENT})"
            )
    return paths


def _decoder():
    """The process's decoder, created on first use (≈ 0.1 s). Call with ``_LOCK`` held."""
    global _DECODER
    ps = _pocketsphinx()
    if _DECODER is None:
        paths = model_paths()
        _DECODER = ps.Decoder(hmm=paths["hmm"], allphone=paths["allphone"], loglevel="ERROR", **DECODER_OPTIONS)
    return _DECODER


def _pcm16(audio, sample_rate) -> np.ndarray:
    """Validated mono audio → int16 PCM at 16 kHz (see the module docstring for the scaling)."""
    from zoo.datasets.audio import resample, to_pcm16

    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    x = np.asarray(audio)
    if x.ndim != 1:
        raise ValueError(f"audio must be mono, shape (samples,); got shape {x.shape}")
    if x.dtype == np.int16:
        if int(sample_rate) == DECODER_RATE:
            return x
        x = x.astype(np.float32) / 32768.0
    elif not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"audio must be float in [-1, 1] or int16 PCM, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("audio contains NaN or infinite samples")
    return to_pcm16(resample(x, int(sample_rate), DECODER_RATE))


def _dither(pcm: np.ndarray) -> np.ndarray:
    """int16 → int16: ``clip(round(pcm + ε))``, ε ~ N(0, σ²), ``σ = max(10^(DITHER_DB/20) · rms, DITHER_FLOOR)``."""
    x = pcm.astype(np.float64)
    sigma = max(10.0 ** (DITHER_DB / 20.0) * float(np.sqrt(np.mean(x * x))), DITHER_FLOOR)
    x += np.random.default_rng(DITHER_SEED).normal(0.0, sigma, x.size)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _label(word: str) -> str:
    """A decoder label → a member of ``PHONES`` (fillers → ``SIL``)."""
    if word in PHONE_INDEX:
        return word
    if word in FILLERS:
        return SIL
    raise RuntimeError(f"pocketsphinx returned the unknown phone label {word!r} (expected one of {PHONES})")


def _decoder_ids(audio, sample_rate) -> np.ndarray:
    """Phone index (into ``PHONES``) of every 100-fps decoder frame, ``SIL`` where no segment covers a frame."""
    pcm = _pcm16(audio, sample_rate)
    if pcm.size == 0:
        return np.zeros(0, np.int64)
    pcm = _dither(pcm)
    with _LOCK:
        dec = _decoder()
        dec.reinit_feat()  # fresh noise/CMN state: the result must not depend on earlier utterances
        dec.start_utt()
        dec.process_raw(np.ascontiguousarray(pcm).tobytes(), full_utt=True)
        dec.end_utt()
        total = int(dec.n_frames())
        segs = [(int(s.start_frame), int(s.end_frame), s.word) for s in (dec.seg() or ())]  # None: no hypothesis
    ids = np.zeros(total, np.int64)  # 0 = SIL
    for start, end, word in segs:
        ids[max(start, 0):min(end + 1, total)] = PHONE_INDEX[_label(word)]
    return ids


def phone_segments(audio, sample_rate: int) -> list[tuple[float, float, str]]:
    """``[(start_s, end_s, phone), ...]`` tiling ``[0, F / 100]`` s (F = decoder frames), time order, gapless.

    A segment of decoder frames ``a … b`` spans ``[a / 100, (b + 1) / 100)`` s; fillers and uncovered frames are
    ``SIL``; neighbours with the same label are merged. Empty audio gives ``[]``.
    """
    ids = _decoder_ids(audio, sample_rate)
    if ids.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(ids)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [ids.size]])
    return [(s / DECODER_FPS, e / DECODER_FPS, PHONES[ids[s]]) for s, e in zip(starts.tolist(), ends.tolist())]


def phone_ids(audio, sample_rate: int) -> np.ndarray:
    """(N,) int64 indices into ``PHONES`` at 60 fps: frame ``j`` ← decoder frame ``(5 j) // 3`` (``SIL`` past it)."""
    ids = _decoder_ids(audio, sample_rate)
    n = num_frames(np.asarray(audio).shape[0], sample_rate)
    k = (np.arange(n) * DECODER_FPS) // FPS
    out = np.zeros(n, np.int64)
    inside = k < ids.size
    out[inside] = ids[k[inside]]
    return out


def phone_frames(audio, sample_rate: int) -> np.ndarray:
    """(N, 40) float32 one-hot phones at 60 fps (column order ``PHONES``); ``N = num_frames(len(audio), sr)``."""
    ids = phone_ids(audio, sample_rate)
    out = np.zeros((ids.size, NUM_PHONES), np.float32)
    out[np.arange(ids.size), ids] = 1.0
    return out
