"""ARKit-52 face motion from a phoneme timeline: visemes with coarticulation, blinks, emotion, head.

Input is a sequence of ``(start_s, end_s, label)`` with espeak-ng en-us IPA labels (``ˈaɪ``, ``tʃ``,
``ɑːɹ``, ``_`` …). Output is a :class:`FaceMotion`: float32 weights (frames, 52) in [0, 1] in
``ARKIT_52`` order and float32 head rotation (frames, 3) in degrees, sampled at ``t_k = k / fps``
seconds for ``k = 0 … floor(duration_s · fps) − 1``.

Layers, added in this order and clipped to [0, 1]:

1. Speech (seed-independent). Each label is normalised (stress ``ˈ ˌ``, length ``ː ˑ :`` and
   combining marks removed, ``r``→``ɹ``, ``g``→``ɡ``, ``ɫ``→``l``) and mapped to one or more visemes
   (:data:`PHONEME_VISEMES`). Diphthongs and r-coloured vowels are split in time: two parts take
   60 % / 40 % of the segment, three parts 50 / 25 / 25 %. Gaps in the timeline become ``sil``.
   Coarticulation follows Cohen & Massaro (1993), ``D = α exp(−θ |τ|^c)`` with ``c = 2`` outside a
   plateau: segment ``s`` with centre ``c_s``, duration ``d_s`` (s), plateau half-width
   ``h_s = max(PLATEAU · d_s / 2, d_s / 2 − HOLD_MARGIN)`` and dominance constants
   ``(α_s, σ_ant, σ_car)`` (s) from :data:`DOMINANCE` has, at time ``t``, with ``τ = t − c_s``,

       D_s(t) = α_s · exp(−(max(0, |τ| − h_s) / σ)²),   σ = σ_ant if τ < 0 else σ_car,

   and the mouth is the normalised blend ``F(t) = Σ_s D_s(t) · T_s / Σ_s D_s(t)`` of the viseme
   targets ``T_s`` (computed as a softmax over ``log D``, so long pauses never divide by zero).
   ``σ_ant > σ_car`` gives anticipation: lips start closing before a bilabial's onset. ``F`` is a
   continuous function of ``t``, so the result does not depend on the frame rate. Vowel targets are
   scaled by 1.15 under primary stress (``ˈ``) and 1.05 under secondary stress (``ˌ``).
2. Emotion (RAVDESS labels, :data:`EMOTIONS`): the speech layer is scaled by an articulation gain and
   a constant overlay (:data:`EMOTION_OVERLAYS`) is added, times ``STRONG_SCALE`` for "strong",
   modulated by slow seeded noise ``1 + 0.15 · n(t)`` with ``|n| ≤ 1``.
3. Blinks: seeded, intervals uniform in [2, 6] s, durations uniform in [0.15, 0.25] s, both eyes,
   ``eyeBlink = max(eyeBlink, b(t))``, eyeWide scaled by ``1 − b(t)``.
4. Head (yaw, pitch, roll in degrees; pitch positive = chin down): seeded smooth noise (sums of
   sinusoids between 0.05 and 0.6 Hz, std 1.8° / 1.2° / 0.8°), nods of ~1.5° on primary-stressed
   vowels, and an emotion posture offset.

The seed drives only blinks, head and the emotion modulation: for a given timeline the speech
channels are identical across seeds.
"""
from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType

import numpy as np

from ..arkit import ARKIT_52, ARKIT_INDEX
from ..clip import EMOTIONS, INTENSITIES

log = logging.getLogger(__name__)

STRONG_SCALE = 1.75  # overlay, articulation-gain deviation and head offset factor for "strong"
PLATEAU = 0.5  # fraction of a segment's duration over which its dominance stays at α …
HOLD_MARGIN = 0.08  # … widened so the plateau ends at most this many seconds before the segment's edges


def _sym(stem: str, value: float) -> dict[str, float]:
    """``{stemLeft: value, stemRight: value}``."""
    return {f"{stem}Left": value, f"{stem}Right": value}


def _targets(*parts: Mapping[str, float], **single: float) -> Mapping[str, float]:
    merged: dict[str, float] = {}
    for part in parts:
        merged.update(part)
    merged.update(single)
    unknown = sorted(set(merged) - set(ARKIT_INDEX))
    if unknown:
        raise KeyError(f"not ARKit-52 names: {unknown}")
    return MappingProxyType(merged)


# Viseme targets: ARKit weights in [0, 1]; channels not named are 0.
VISEMES: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "rest": _targets(),  # neutral face; also used for unknown labels
    "sil": _targets(_sym("mouthPress", 0.08), mouthClose=0.04),  # pause: lips lightly together
    "AA": _targets(_sym("mouthLowerDown", 0.3), _sym("mouthUpperUp", 0.08), _sym("mouthStretch", 0.06),
                   jawOpen=0.7),  # open vowel ɑ a
    "AE": _targets(_sym("mouthLowerDown", 0.3), _sym("mouthUpperUp", 0.15), _sym("mouthStretch", 0.25),
                   jawOpen=0.55),  # open front æ
    "AH": _targets(_sym("mouthLowerDown", 0.18), _sym("mouthStretch", 0.05), jawOpen=0.42),  # mid ə ʌ ɐ
    "EH": _targets(_sym("mouthLowerDown", 0.2), _sym("mouthStretch", 0.2), _sym("mouthUpperUp", 0.05),
                   jawOpen=0.38),  # mid front ɛ e
    "IH": _targets(_sym("mouthStretch", 0.3), _sym("mouthLowerDown", 0.1), jawOpen=0.24),  # lax front ɪ ᵻ
    "EE": _targets(_sym("mouthStretch", 0.45), _sym("mouthSmile", 0.12), _sym("mouthUpperUp", 0.1),
                   _sym("mouthLowerDown", 0.1), jawOpen=0.15),  # spread i
    "ER": _targets(_sym("mouthUpperUp", 0.1), jawOpen=0.25, mouthFunnel=0.3, mouthPucker=0.25),  # ɚ ɜ
    "OH": _targets(_sym("mouthLowerDown", 0.1), jawOpen=0.42, mouthFunnel=0.55, mouthPucker=0.35),  # o ɔ
    "UH": _targets(jawOpen=0.22, mouthFunnel=0.4, mouthPucker=0.45),  # ʊ
    "OO": _targets(jawOpen=0.14, mouthFunnel=0.55, mouthPucker=0.75),  # u
    "PBM": _targets(_sym("mouthPress", 0.6), jawOpen=0.05, mouthClose=0.75, mouthRollLower=0.15,
                    mouthRollUpper=0.1),
    "FV": _targets(_sym("mouthUpperUp", 0.3), _sym("mouthPress", 0.1), jawOpen=0.08, mouthRollLower=0.6),
    "TH": _targets(_sym("mouthStretch", 0.1), _sym("mouthLowerDown", 0.15), jawOpen=0.15, tongueOut=0.3),
    "TDNSZ": _targets(_sym("mouthStretch", 0.18), _sym("mouthLowerDown", 0.08), _sym("mouthUpperUp", 0.05),
                      jawOpen=0.1),
    "SH": _targets(_sym("mouthUpperUp", 0.15), _sym("mouthLowerDown", 0.15), jawOpen=0.12, mouthFunnel=0.5,
                   mouthPucker=0.35),  # ʃ ʒ tʃ dʒ
    "KG": _targets(_sym("mouthStretch", 0.06), _sym("mouthLowerDown", 0.1), jawOpen=0.25),  # k ɡ ŋ
    "R": _targets(jawOpen=0.15, mouthPucker=0.45, mouthFunnel=0.25),
    "L": _targets(_sym("mouthLowerDown", 0.15), _sym("mouthUpperUp", 0.05), _sym("mouthStretch", 0.05),
                  jawOpen=0.25, tongueOut=0.05),
    "W": _targets(jawOpen=0.08, mouthPucker=0.85, mouthFunnel=0.45),
    "H": _targets(_sym("mouthLowerDown", 0.05), jawOpen=0.2),  # h ʔ: weak, takes its neighbours' shape
})

# Dominance constants (α, σ_ant in s, σ_car in s): α ranks how strongly a viseme holds its target,
# σ_ant/σ_car are the Gaussian decay widths before/after the segment's plateau (D falls to α/e at σ).
_ANT, _CAR = 0.045, 0.035  # default widths: anticipation reaches further than carry-over
_ROUND = 0.08  # anticipatory lip rounding reaches further still
DOMINANCE: Mapping[str, tuple[float, float, float]] = MappingProxyType({
    "rest": (0.3, _ANT, _CAR), "sil": (1.2, 0.05, _CAR), "H": (0.3, _ANT, _CAR),
    "AA": (1.0, _ANT, _CAR), "AE": (1.0, _ANT, _CAR), "AH": (0.9, _ANT, _CAR), "EH": (1.0, _ANT, _CAR),
    "IH": (1.0, _ANT, _CAR), "EE": (1.0, _ANT, _CAR), "ER": (1.1, 0.05, _CAR),
    "OH": (1.2, _ROUND, _CAR), "UH": (1.2, _ROUND, _CAR), "OO": (1.3, _ROUND, _CAR),
    "PBM": (2.2, _ANT, _CAR), "FV": (2.0, _ANT, _CAR), "TH": (1.4, _ANT, _CAR),
    "TDNSZ": (0.7, _ANT, _CAR), "SH": (1.6, _ROUND, _CAR), "KG": (0.6, _ANT, _CAR),
    "R": (1.1, 0.05, _CAR), "L": (0.8, _ANT, _CAR), "W": (1.8, _ROUND, _CAR),
})
_VOWEL_VISEMES = frozenset({"AA", "AE", "AH", "EH", "IH", "EE", "ER", "OH", "UH", "OO"})
_STRESS_GAIN = {0: 1.0, 1: 1.05, 2: 1.15}  # vowel target factor: none, secondary ˌ, primary ˈ

# Normalised label → visemes in time order (several parts = diphthong / r-coloured / syllabic cluster).
PHONEME_VISEMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "_": ("sil",), "": ("sil",),
    # monophthongs
    "ɑ": ("AA",), "a": ("AA",), "ɒ": ("AA",), "æ": ("AE",), "ʌ": ("AH",), "ə": ("AH",), "ɐ": ("AH",),
    "ɛ": ("EH",), "e": ("EH",), "ɪ": ("IH",), "ᵻ": ("IH",), "ɨ": ("IH",), "i": ("EE",), "ɚ": ("ER",),
    "ɜ": ("ER",), "ɝ": ("ER",), "ɔ": ("OH",), "o": ("OH",), "ʊ": ("UH",), "u": ("OO",), "ʉ": ("OO",),
    # diphthongs: nucleus then glide
    "aɪ": ("AA", "IH"), "aʊ": ("AA", "UH"), "eɪ": ("EH", "IH"), "oʊ": ("OH", "UH"), "əʊ": ("AH", "UH"),
    "ɔɪ": ("OH", "IH"), "iə": ("EE", "AH"), "ɪə": ("IH", "AH"), "eə": ("EH", "AH"), "ɛə": ("EH", "AH"),
    "ʊə": ("UH", "AH"), "ju": ("EE", "OO"),
    # r-coloured vowels and syllabic l
    "ɑɹ": ("AA", "R"), "ɔɹ": ("OH", "R"), "oɹ": ("OH", "R"), "ɪɹ": ("IH", "R"), "iɹ": ("EE", "R"),
    "ɛɹ": ("EH", "R"), "eɹ": ("EH", "R"), "ʊɹ": ("UH", "R"), "uɹ": ("OO", "R"), "aɪɚ": ("AA", "IH", "ER"),
    "aɪə": ("AA", "IH", "AH"), "aʊɚ": ("AA", "UH", "ER"), "aʊə": ("AA", "UH", "AH"), "əl": ("AH", "L"),
    # consonants
    "p": ("PBM",), "b": ("PBM",), "m": ("PBM",), "f": ("FV",), "v": ("FV",), "θ": ("TH",), "ð": ("TH",),
    "t": ("TDNSZ",), "d": ("TDNSZ",), "n": ("TDNSZ",), "s": ("TDNSZ",), "z": ("TDNSZ",), "ɾ": ("TDNSZ",),
    "ʃ": ("SH",), "ʒ": ("SH",), "tʃ": ("SH",), "dʒ": ("SH",), "k": ("KG",), "ɡ": ("KG",), "ŋ": ("KG",),
    "x": ("KG",), "h": ("H",), "ʔ": ("H",), "ɹ": ("R",), "l": ("L",), "w": ("W",), "ʍ": ("W",), "j": ("EE",),
})

_STRIP = frozenset("ˈˌːˑ:'\",%=")
_FOLD = {"r": "ɹ", "g": "ɡ", "ɫ": "l", "ɻ": "ɹ", "ʁ": "ɹ"}


def normalise_label(label: str) -> str:
    """``label`` without stress/length marks and combining diacritics, with ASCII look-alikes folded.

    ``ˈɑːɹ`` → ``ɑɹ``, ``n̩`` → ``n``, ``t͡ʃ`` → ``tʃ``, ``g`` → ``ɡ``.
    """
    text = unicodedata.normalize("NFD", str(label).strip())
    kept = [_FOLD.get(ch, ch) for ch in text if ch not in _STRIP and not unicodedata.combining(ch)]
    return unicodedata.normalize("NFC", "".join(kept))


def label_stress(label: str) -> int:
    """2 if ``label`` carries primary stress ``ˈ`` (or ASCII ``'``), 1 for secondary ``ˌ`` (``,``), else 0."""
    text = str(label)
    if "ˈ" in text or "'" in text:
        return 2
    return 1 if ("ˌ" in text or "," in text) else 0


def phoneme_visemes(label: str) -> tuple[str, ...]:
    """Visemes of an espeak IPA ``label`` in time order; unknown labels give ``("rest",)``."""
    return PHONEME_VISEMES.get(normalise_label(label), ("rest",))


def phoneme_viseme(label: str) -> str:
    """The main viseme of ``label``: the viseme itself, or a diphthong's nucleus (``aɪ`` → ``AA``).

    Unknown labels map to ``"rest"``.
    """
    return phoneme_visemes(label)[0]


_VISEME_NAMES: tuple[str, ...] = tuple(VISEMES)
_VISEME_ID = {name: i for i, name in enumerate(_VISEME_NAMES)}
_TARGET_TABLE = np.zeros((len(_VISEME_NAMES), len(ARKIT_52)), dtype=np.float64)
for _name, _tgt in VISEMES.items():
    for _ch, _val in _tgt.items():
        _TARGET_TABLE[_VISEME_ID[_name], ARKIT_INDEX[_ch]] = _val
_DOM_TABLE = np.array([DOMINANCE[name] for name in _VISEME_NAMES], dtype=np.float64)  # (V, 3)
_SPLIT = {1: (1.0,), 2: (0.6, 0.4), 3: (0.5, 0.25, 0.25)}

# Emotion: overlay added to the weights, articulation gain on the speech layer, head posture offset
# (yaw, pitch, roll in degrees) and head-motion gain. "strong" multiplies overlays and offsets and the
# gains' deviation from 1 by STRONG_SCALE.
EMOTION_OVERLAYS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "neutral": _targets(),
    "calm": _targets(_sym("mouthSmile", 0.1), _sym("eyeSquint", 0.05), _sym("eyeBlink", 0.05)),
    "happy": _targets(_sym("mouthSmile", 0.35), _sym("cheekSquint", 0.25), _sym("eyeSquint", 0.12),
                      _sym("mouthDimple", 0.1)),
    "sad": _targets(_sym("mouthFrown", 0.3), _sym("eyeLookDown", 0.1), browInnerUp=0.45, mouthShrugLower=0.12),
    "angry": _targets(_sym("browDown", 0.5), _sym("noseSneer", 0.3), _sym("mouthPress", 0.25),
                      _sym("eyeSquint", 0.2), jawForward=0.05),
    "fearful": _targets(_sym("eyeWide", 0.4), _sym("mouthStretch", 0.3), _sym("browOuterUp", 0.15),
                        browInnerUp=0.45),
    "disgust": _targets(_sym("noseSneer", 0.45), _sym("mouthUpperUp", 0.3), _sym("mouthFrown", 0.2),
                        _sym("browDown", 0.2), _sym("cheekSquint", 0.15), mouthShrugUpper=0.1),
    "surprised": _targets(_sym("browOuterUp", 0.5), _sym("eyeWide", 0.45), browInnerUp=0.4, jawOpen=0.1),
})
_ARTICULATION_GAIN = {"neutral": 1.0, "calm": 0.9, "happy": 1.05, "sad": 0.82, "angry": 1.15,
                      "fearful": 0.95, "disgust": 0.95, "surprised": 1.1}
_HEAD_POSTURE = {"neutral": (0.0, 0.0, 0.0), "calm": (0.0, 0.5, 0.0), "happy": (0.0, -1.0, 1.5),
                 "sad": (0.0, 5.0, -1.0), "angry": (0.0, 2.0, 0.0), "fearful": (1.0, -1.5, 0.0),
                 "disgust": (3.0, -1.0, -1.0), "surprised": (0.0, -3.0, 0.0)}
_HEAD_GAIN = {"neutral": 1.0, "calm": 0.7, "happy": 1.2, "sad": 0.6, "angry": 1.3, "fearful": 1.1,
              "disgust": 1.0, "surprised": 1.2}
_HEAD_STD = np.array([1.8, 1.2, 0.8])  # degrees (yaw, pitch, roll) of the noise part
_NOD_DEG = 1.5  # peak pitch of a nod on a primary-stressed vowel, degrees
_NOD_HALF_WIDTH = 0.25  # s; raised-cosine nod kernel support is ±this around the vowel centre + 50 ms
_CHUNK = 512  # frames per block in the coarticulation blend
_REACH = 1.0  # s; segments farther than this from a block have D < α·e^-150 and are skipped


@dataclass(frozen=True, eq=False)
class FaceMotion:
    """Face animation at ``fps``.

    Attributes:
        weights: float32 (frames, 52) ARKit blendshape weights in [0, 1], columns in ``names`` order.
        names: the 52 ARKit names (``ARKIT_52``).
        head: float32 (frames, 3) head rotation in degrees: yaw (+ left), pitch (+ chin down), roll.
        fps: frame rate in Hz; frame ``k`` is at ``k / fps`` seconds.
    """

    weights: np.ndarray
    names: tuple[str, ...]
    head: np.ndarray
    fps: float

    def __post_init__(self):
        if self.weights.ndim != 2 or self.weights.shape[1] != len(self.names):
            raise ValueError(f"weights shape {self.weights.shape} does not match {len(self.names)} names")
        if self.head.shape != (self.weights.shape[0], 3):
            raise ValueError(f"head shape {self.head.shape} must be ({self.weights.shape[0]}, 3)")

    @property
    def frames(self) -> int:
        return int(self.weights.shape[0])

    @property
    def times(self) -> np.ndarray:
        """Frame times in seconds, ``k / fps``."""
        return np.arange(self.frames) / self.fps

    def channel(self, name: str) -> np.ndarray:
        """The (frames,) curve of one ARKit channel."""
        return self.weights[:, self.names.index(name)]


def frame_count(duration_s: float, fps: float) -> int:
    """``floor(duration_s · fps)`` on the decimal values (29.97 stays 2997/100), so 10 s × 30 is 300."""
    return math.floor(Fraction(repr(float(duration_s))) * Fraction(repr(float(fps))))


def _check_choice(value: str, valid: Sequence[str], what: str) -> str:
    key = str(value).strip().lower()
    if key not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid values: {', '.join(valid)}")
    return key


def _segments(phonemes: Sequence[tuple[float, float, str]], duration_s: float):
    """Viseme sub-segments (start, end, viseme id, target gain) with gaps filled by ``sil``.

    Also returns the centres (s) of primary-stressed vowels, for nods.
    """
    items = []
    for i, item in enumerate(phonemes):
        try:
            start, end, label = item
            start, end = float(start), float(end)
        except (TypeError, ValueError) as err:
            raise ValueError(f"phoneme {i} must be (start_s, end_s, label), got {item!r}") from err
        if not (math.isfinite(start) and math.isfinite(end)) or end < start:
            raise ValueError(f"phoneme {i} {item!r} needs finite times with end_s >= start_s")
        items.append((start, end, str(label)))
    items.sort(key=lambda x: (x[0], x[1]))

    rows: list[tuple[float, float, int, float]] = []  # (start, end, viseme id, target gain)
    stressed: list[float] = []
    unknown = set()
    cursor = 0.0
    for start, end, label in items:
        if start > cursor:  # gap → pause
            rows.append((cursor, start, _VISEME_ID["sil"], 1.0))
        norm = normalise_label(label)
        visemes = PHONEME_VISEMES.get(norm)
        if visemes is None:
            unknown.add(label)
            visemes = ("rest",)
        stress = label_stress(label)
        bounds = start + (end - start) * np.concatenate([[0.0], np.cumsum(_SPLIT[len(visemes)])])
        for k, vis in enumerate(visemes):
            gain = _STRESS_GAIN[stress] if vis in _VOWEL_VISEMES else 1.0
            rows.append((float(bounds[k]), float(bounds[k + 1]), _VISEME_ID[vis], gain))
        if stress == 2 and visemes[0] in _VOWEL_VISEMES:
            stressed.append(0.5 * (start + end))
        cursor = max(cursor, end)
    if duration_s > cursor:
        rows.append((cursor, duration_s, _VISEME_ID["sil"], 1.0))
    if unknown:
        log.debug("unknown phoneme labels mapped to 'rest': %s", sorted(unknown))
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return table[:, 0], table[:, 1], table[:, 2].astype(int), table[:, 3], np.asarray(stressed, dtype=np.float64)


def speech_weights(phonemes: Sequence[tuple[float, float, str]], times: np.ndarray,
                   duration_s: float | None = None) -> np.ndarray:
    """The coarticulated viseme blend ``F(t)`` (float64, (len(times), 52)) at ``times`` in seconds.

    ``F(t) = Σ_s D_s(t) T_s / Σ_s D_s(t)`` with ``D_s`` as in the module docstring; before the first
    phoneme and after the last the timeline is padded with ``sil`` up to ``duration_s`` (default: the
    last time).
    """
    times = np.asarray(times, dtype=np.float64)
    if duration_s is None:
        duration_s = float(times.max()) if times.size else 0.0
    return _blend(_segments(phonemes, duration_s), times)


def _blend(segments, times: np.ndarray) -> np.ndarray:
    """Softmax-over-log-dominance blend of the viseme targets, in blocks of ``_CHUNK`` frames."""
    starts, ends, ids, gains, _ = segments
    out = np.zeros((times.size, len(ARKIT_52)), dtype=np.float64)
    if times.size == 0 or starts.size == 0:
        return out
    centres = 0.5 * (starts + ends)
    half_plateau = np.maximum(0.5 * PLATEAU * (ends - starts), 0.5 * (ends - starts) - HOLD_MARGIN)
    log_alpha = np.log(_DOM_TABLE[ids, 0])
    inv_ant, inv_car = 1.0 / _DOM_TABLE[ids, 1], 1.0 / _DOM_TABLE[ids, 2]
    targets = _TARGET_TABLE[ids] * gains[:, None]
    order = np.argsort(ends, kind="stable")
    ends_sorted = ends[order]
    for a in range(0, times.size, _CHUNK):
        t = times[a:a + _CHUNK]
        lo_t, hi_t = t.min() - _REACH, t.max() + _REACH
        # segments overlapping [lo_t, hi_t]: end >= lo_t and start <= hi_t
        cand = order[np.searchsorted(ends_sorted, lo_t, side="left"):]
        sel = cand[starts[cand] <= hi_t]
        if sel.size == 0:  # frames beyond every segment's reach: use all segments
            sel = np.arange(starts.size)
        tau = t[:, None] - centres[sel][None, :]
        dist = np.maximum(np.abs(tau) - half_plateau[sel][None, :], 0.0)
        log_d = log_alpha[sel][None, :] - (dist * np.where(tau < 0.0, inv_ant[sel][None, :], inv_car[sel][None, :]))**2
        log_d -= log_d.max(axis=1, keepdims=True)
        w = np.exp(log_d)
        w /= w.sum(axis=1, keepdims=True)
        out[a:a + _CHUNK] = w @ targets[sel]
    return out


def _smooth_noise(rng: np.random.Generator, times: np.ndarray, dims: int, fmin: float, fmax: float,
                  components: int = 6) -> np.ndarray:
    """Zero-mean smooth noise (len(times), dims) with unit std: per dim ``Σ_k a_k sin(2π f_k t + φ_k)``.

    ``f_k`` uniform in [fmin, fmax] Hz, ``a_k ∝ 1/f_k`` normalised so that ``Σ a_k² / 2 = 1``.
    """
    freqs = rng.uniform(fmin, fmax, size=(dims, components))
    phases = rng.uniform(0.0, 2.0 * np.pi, size=(dims, components))
    amps = 1.0 / freqs
    amps /= np.sqrt(0.5 * np.sum(amps**2, axis=1, keepdims=True))
    arg = 2.0 * np.pi * times[:, None, None] * freqs[None] + phases[None]
    return np.einsum("tdk,dk->td", np.sin(arg), amps)


def blink_curve(times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Eyelid closure in [0, 1] at ``times`` (s) from seeded blinks.

    Blink ``i`` starts at ``t_i`` (first uniform in [0.3, 3] s, then intervals uniform in [2, 6] s) and
    lasts ``T_i ~ U[0.15, 0.25]`` s: closing ``sin²(π/2 · u)`` over 35 % of ``T_i``, closed for 15 %,
    opening ``cos²(π/2 · u)`` over 50 %, scaled by a peak ``~ U[0.92, 1]``. Blinks never overlap.
    """
    times = np.asarray(times, dtype=np.float64)
    horizon = float(times.max()) if times.size else 0.0
    onsets = [rng.uniform(0.3, 3.0)]
    while onsets[-1] <= horizon:
        onsets.append(onsets[-1] + rng.uniform(2.0, 6.0))
    onsets = np.asarray(onsets)
    lengths = rng.uniform(0.15, 0.25, size=onsets.size)
    peaks = rng.uniform(0.92, 1.0, size=onsets.size)
    idx = np.searchsorted(onsets, times, side="right") - 1
    valid = idx >= 0
    idx = np.clip(idx, 0, None)
    u = (times - onsets[idx]) / lengths[idx]  # phase within the blink, 0..1
    close, hold = 0.35, 0.15
    shape = np.where(
        u < close, np.sin(0.5 * np.pi * u / close) ** 2,
        np.where(u < close + hold, 1.0, np.cos(0.5 * np.pi * (u - close - hold) / (1.0 - close - hold)) ** 2))
    shape = np.where(valid & (u >= 0.0) & (u <= 1.0), shape, 0.0)
    return shape * peaks[idx]


def _nods(times: np.ndarray, centres: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """``Σ_k amps_k · ½(1 + cos(π (t − c_k − 0.05) / R))`` over ``|t − c_k − 0.05| < R``, R = 0.25 s."""
    out = np.zeros(times.size)
    if centres.size == 0:
        return out
    c = np.sort(centres + 0.05)
    amps = amps[np.argsort(centres + 0.05, kind="stable")]
    lo = np.searchsorted(c, times - _NOD_HALF_WIDTH, side="right")
    hi = np.searchsorted(c, times + _NOD_HALF_WIDTH, side="left")
    for j in range(int((hi - lo).max(initial=0))):
        k = lo + j
        ok = k < hi
        kk = np.where(ok, k, 0)
        x = (times - c[kk]) / _NOD_HALF_WIDTH
        out += np.where(ok, amps[kk] * 0.5 * (1.0 + np.cos(np.pi * x)), 0.0)
    return out


def animate(
    phonemes: Sequence[tuple[float, float, str]],
    duration_s: float,
    fps: float,
    *,
    emotion: str = "neutral",
    intensity: str = "normal",
    seed: int = 0,
) -> FaceMotion:
    """ARKit-52 weights and head rotation for a phoneme timeline (see the module docstring).

    Args:
        phonemes: ``(start_s, end_s, label)`` in seconds, espeak-ng IPA labels; any order.
        duration_s: clip length in seconds; ``frame_count(duration_s, fps)`` frames at ``k / fps``.
        fps: frame rate in Hz (any positive value, e.g. 29.97).
        emotion: one of ``EMOTIONS``; intensity: ``"normal"`` or ``"strong"``.
        seed: drives blinks, head motion and emotion modulation (never the speech layer).

    Raises ValueError for an unknown emotion/intensity, a non-positive fps, a negative duration or a
    malformed phoneme.
    """
    emotion = _check_choice(emotion, EMOTIONS, "emotion")
    intensity = _check_choice(intensity, INTENSITIES, "intensity")
    fps = float(fps)
    duration_s = float(duration_s)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if not (math.isfinite(duration_s) and duration_s >= 0):
        raise ValueError(f"duration_s must be a non-negative number, got {duration_s}")
    n = frame_count(duration_s, fps)
    times = np.arange(n, dtype=np.float64) / fps
    scale = STRONG_SCALE if intensity == "strong" else 1.0
    rngs = [np.random.default_rng([int(seed), stream]) for stream in range(4)]

    # 1-2: speech scaled by the articulation gain, plus the modulated emotion overlay
    gain = 1.0 + scale * (_ARTICULATION_GAIN[emotion] - 1.0)
    segments = _segments(phonemes, duration_s)
    weights = _blend(segments, times) * gain
    overlay = np.zeros(len(ARKIT_52))
    for ch, val in EMOTION_OVERLAYS[emotion].items():
        overlay[ARKIT_INDEX[ch]] = val * scale
    if overlay.any() and n:
        mod = np.clip(_smooth_noise(rngs[0], times, 1, 0.05, 0.3, components=4) / 2.0, -1.0, 1.0)
        weights += overlay[None, :] * (1.0 + 0.15 * mod)

    # 3: blinks
    blink = blink_curve(times, rngs[1])
    for side in ("Left", "Right"):
        b = ARKIT_INDEX[f"eyeBlink{side}"]
        weights[:, b] = np.maximum(weights[:, b], blink)
        weights[:, ARKIT_INDEX[f"eyeWide{side}"]] *= 1.0 - blink
    weights = np.clip(weights, 0.0, 1.0).astype(np.float32)

    # 4: head
    head_gain = 1.0 + scale * (_HEAD_GAIN[emotion] - 1.0)
    head = _smooth_noise(rngs[2], times, 3, 0.05, 0.6) * _HEAD_STD * head_gain
    stressed = segments[4]
    nod_amps = _NOD_DEG * head_gain * rngs[3].uniform(0.75, 1.25, size=stressed.size)
    head[:, 1] += _nods(times, stressed, nod_amps)
    head += np.asarray(_HEAD_POSTURE[emotion]) * scale
    head = head.astype(np.float32)

    weights.setflags(write=False)
    head.setflags(write=False)
    return FaceMotion(weights=weights, names=ARKIT_52, head=head, fps=fps)


__all__ = [
    "VISEMES", "DOMINANCE", "PHONEME_VISEMES", "EMOTION_OVERLAYS", "EMOTIONS", "INTENSITIES", "STRONG_SCALE",
    "FaceMotion", "animate", "blink_curve", "frame_count", "label_stress", "normalise_label",
    "phoneme_viseme", "phoneme_visemes", "speech_weights",
]
