"""Controllable emotion on VOCA's meshes: the emotional blendshape merge (issue item 6; specs/voca.md §6.2).

    V′ₜ = Vₜ + α(t) · mᵥ · Δₑ          (metres; t = frame index at the animation's fps, 60 for VOCA)

with Δₑ (V, 3) the emotion's offset field, α(t) ∈ [0, 1] the intensity curve (:func:`ramp`) and mᵥ ∈ [0, 1] an
optional per-vertex mask (e.g. the upper face only). Δₑ comes from the mesh's own expression basis:

* the synthetic corpus (:func:`corpus_emotion_offsets`): Δₑ = s · Σₖ oₑ[k] · B[k], its emotion overlay oₑ (ARKit-52
  weights, ``face.EMOTION_OVERLAYS``) through its linear basis B (52, V, 3) (``geometry.basis``), s = 1 ("normal")
  or ``face.STRONG_SCALE`` ("strong"). Only the constant overlay: the corpus's slow ±15 % modulation and its clip
  of the weights to [0, 1] are not part of Δ.
* a user's FLAME model (:func:`flame_emotion_offsets`): Δₑ = E · ψₑ with E = shapedirs[:, :, n_shape:n_shape + 10]
  (the first 10 expression directions) and ψₑ a row of :data:`PSI_TABLE`. FLAME adds expression blendshapes
  linearly before skinning and its pose correctives vanish at zero pose, so on VOCA's zero-pose meshes the merge
  equals adding ψₑ to the expression parameters, for any identity.

Neutral is exactly zero in both (the derived repo's stored "neutral" offset was not: spec §6.2, §9 item 16), and
the ramp replaces its constant full-strength offset. No TensorFlow here: this is NumPy post-processing.
"""
from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from zoo.datasets import EMOTIONS, INTENSITIES, DataError
from zoo.datasets.cache import atomic_write_bytes
from zoo.datasets.safe_pickle import load_flame_pickle

# ψ₁…ψ₁₀ per emotion, the derived repo's numbers (3DSSL-SS23_IntuitiveAnimation, branch voca) as tabled in
# specs/voca.md §6.2; the other expression coefficients are 0. "excited" is the repo's "exited".
PSI_TABLE: Mapping[str, tuple[float, ...]] = MappingProxyType({
    "happy": (1.62, 0.02, 0.0, 1.57, 1.71, 1.04, 1.67, 1.69, -1.47, 2.0),
    "sad": (0.0, 0.0, 0.0, 0.0, 0.0, -1.22, -1.73, -1.33, 0.22, -2.0),
    "surprised": (-1.11, 0.0, 0.0, 1.80, 1.0, -0.60, -0.87, -0.98, -0.89, -1.24),
    "angry": (2.0, 2.0, 0.0, 1.67, -2.0, -2.0, -1.04, 2.0, -1.16, 2.0),
    "excited": (2.0, 2.0, 0.0, 0.96, 2.0, 1.16, 2.0, 2.0, -1.07, 2.0),
    "fear": (-1.53, -0.44, 0.0, 0.60, 2.0, 1.93, -2.0, -0.51, 2.0, -0.49),
    "disappointed": (0.0, 2.0, 0.0, 0.60, -2.0, -1.51, 2.0, 0.67, 2.0, -2.0),
    "frustrated": (2.0, 2.0, 0.0, 1.82, -2.0, -2.0, 1.31, 2.0, 2.0, -2.0),
    "neutral": (0.0,) * 10,
})
PSI_COEFFICIENTS = 10  # expression coefficients the table sets
FLAME_SHAPE_COMPONENTS = 300  # shape directions before the expression ones in every released FLAME shapedirs

# Other label sets → table rows. RAVDESS (zoo.datasets.EMOTIONS): calm is a low-arousal neutral (no calm row), fearful
# is the table's fear. The SpeechBrain IEMOCAP classifier the derived repo used says neu/ang/hap/sad. "exited" is the
# derived repo's spelling. Disgust has no row (UNMAPPED); a basis that holds it by name (the corpus's) still serves it.
LABELS: Mapping[str, str] = MappingProxyType({
    "neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
    "fearful": "fear", "surprised": "surprised",
    "neu": "neutral", "ang": "angry", "hap": "happy",
    "exited": "excited",
})
UNMAPPED: Mapping[str, str] = MappingProxyType({
    "disgust": "spec §6.2's ψ table has no disgust row ('disappointed' and 'frustrated' are other emotions, and "
               "borrowing one would put a wrong face on the label)",
})

DEFAULT_EASE_FRAMES = 12  # 0.2 s at VOCA's 60 fps, for both the ease-in and the ease-out
_FORMAT = "voca_emotion.EmotionBasis/1"


def _smoothstep(u: np.ndarray) -> np.ndarray:
    """s(u) = 3u² − 2u³ on u clipped to [0, 1]: s(0) = 0, s(½) = ½, s(1) = 1, s′(0) = s′(1) = 0."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{what} must be a non-negative whole number of frames, got {value!r}")
    return int(value)


def _unit(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number in [0, 1], got {value!r}") from None
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f"{what} must be in [0, 1], got {value!r}")
    return v


def ramp(frames: int, *, intensity: float = 1.0, ease_in: int = DEFAULT_EASE_FRAMES,
         ease_out: int = DEFAULT_EASE_FRAMES, start: int = 0, end: int | None = None) -> np.ndarray:
    """α (frames,) float32 in [0, intensity]: the emotion on frames [start, end) (end None = frames), 0 elsewhere.

    With a = ease_in, b = ease_out (frames; default 12 each = 0.2 s at 60 fps) and s(u) = 3u² − 2u³ on [0, 1]:

        α(t) = intensity · g_in(t) · g_out(t),  g_in = s((t − start) / a),  g_out = s((end − 1 − t) / b)

    (a factor is 1 when its ramp length is 0), so α(start) = α(end − 1) = 0, α(start + a) = intensity, and the hold
    between the ramps is exactly ``intensity``. A segment of L = end − start frames too short for both ramps
    (a + b > L − 1) gets them scaled to fit, in whole frames: a′ = ⌊a·(L − 1)/(a + b) + ½⌋, b′ = L − 1 − a′, so
    α still reaches ``intensity`` at one frame (start + a′).
    """
    frames = _count(frames, "frames")
    a, b = _count(ease_in, "ease_in"), _count(ease_out, "ease_out")
    intensity = _unit(intensity, "intensity")
    start = _count(start, "start")
    end = frames if end is None else _count(end, "end")
    if not start <= end <= frames:
        raise ValueError(f"need 0 <= start <= end <= frames, got start={start}, end={end}, frames={frames}")
    alpha = np.zeros(frames, np.float64)
    length = end - start
    if length == 0:
        return alpha.astype(np.float32)
    if a + b > length - 1:
        a = int(math.floor(a * (length - 1) / (a + b) + 0.5))
        b = length - 1 - a
    t = np.arange(start, end, dtype=np.float64)
    g_in = _smoothstep((t - start) / a) if a else 1.0
    g_out = _smoothstep((end - 1 - t) / b) if b else 1.0
    alpha[start:end] = intensity * g_in * g_out
    return alpha.astype(np.float32)


def _mask_weights(mask, num_vertices: int) -> np.ndarray:
    """(V,) float64 weights from a bool (V,) mask, an integer index array or float (V,) weights in [0, 1]."""
    m = np.asarray(mask)
    if m.dtype == bool:
        if m.shape != (num_vertices,):
            raise ValueError(f"a boolean mask must have shape ({num_vertices},), got {m.shape}")
        return m.astype(np.float64)
    if m.dtype.kind in "iu":
        if m.ndim != 1:
            raise ValueError(f"an index mask must be a 1-D array of vertex ids, got shape {m.shape}")
        if m.size and (m.min() < 0 or m.max() >= num_vertices):
            raise ValueError(f"an index mask holds vertex ids outside [0, {num_vertices}): "
                             f"min {int(m.min())}, max {int(m.max())}")
        w = np.zeros(num_vertices, np.float64)
        w[m] = 1.0
        return w
    if m.dtype.kind == "f":
        if m.shape != (num_vertices,):
            raise ValueError(f"a weight mask must have shape ({num_vertices},), got {m.shape}")
        if not (np.isfinite(m).all() and m.min(initial=0.0) >= 0.0 and m.max(initial=0.0) <= 1.0):
            raise ValueError("a weight mask must hold finite values in [0, 1]")
        return m.astype(np.float64)
    raise ValueError(f"a mask must be bool (V,), integer vertex ids or float weights (V,), got dtype {m.dtype}")


def merge(vertices, delta, alpha=1.0, mask=None) -> np.ndarray:
    """V′ₜ = Vₜ + α(t) · mᵥ · Δ: (T, V, 3) float32, metres.

    ``vertices`` (T, V, 3); ``delta`` (V, 3); ``alpha`` a number or (T,) in [0, 1] (:func:`ramp`); ``mask`` None (all
    vertices), a bool (V,) array, an integer array of vertex ids (e.g. ``geometry.UPPER_FACE_VERTICES``) or float
    weights (V,) in [0, 1] for a soft edge. Vertices with mᵥ = 0 come back bit-identical.
    """
    v = np.asarray(vertices)
    if v.ndim != 3 or v.shape[2] != 3 or v.dtype.kind not in "iuf":
        raise ValueError(f"vertices must be a numeric (frames, vertices, 3) array, got shape {v.shape}, {v.dtype}")
    frames, num_vertices = v.shape[:2]
    d = np.asarray(delta)
    if d.shape != (num_vertices, 3) or d.dtype.kind not in "iuf":
        raise ValueError(f"delta must be a numeric ({num_vertices}, 3) array for {num_vertices}-vertex meshes, "
                         f"got shape {d.shape}")
    if not np.isfinite(d).all():
        raise ValueError("delta holds NaN or Inf")
    a = np.asarray(alpha, np.float64)
    if a.ndim == 0:
        a = np.full(frames, _unit(a, "alpha"))
    elif a.shape != (frames,):
        raise ValueError(f"alpha must be a number or have shape ({frames},) (one value per frame), got {a.shape}")
    elif not (np.isfinite(a).all() and a.min(initial=0.0) >= 0.0 and a.max(initial=0.0) <= 1.0):
        raise ValueError("alpha must hold finite values in [0, 1]")
    d = d.astype(np.float64)
    if mask is not None:
        d = d * _mask_weights(mask, num_vertices)[:, None]
    out = v.astype(np.float64) + a[:, None, None] * d[None]
    return out.astype(np.float32)


def corpus_emotion_offsets(identity: str | None = None, intensity: str = "normal") -> dict[str, np.ndarray]:
    """{RAVDESS emotion: Δ (V, 3) float32, metres} of the synthetic corpus, one per ``zoo.datasets.EMOTIONS``.

    Δₑ = s · Σₖ oₑ[k] · B[k], s = 1 ("normal") or ``face.STRONG_SCALE`` ("strong"); B = ``geometry.basis(identity)``,
    or for ``identity=None`` the mean of the bases of all ``geometry.IDENTITIES`` (Δ is linear in B, so this is the
    mean of the identities' Δs). Neutral has an empty overlay, so its Δ is exactly zero.
    """
    from zoo.datasets import ARKIT_INDEX
    from zoo.datasets.synthetic import face, geometry

    if intensity not in INTENSITIES:
        raise ValueError(f"intensity must be one of {', '.join(INTENSITIES)}, got {intensity!r}")
    if identity is None:
        basis = np.mean([geometry.basis(i).astype(np.float64) for i in geometry.IDENTITIES], axis=0)
    else:
        basis = geometry.basis(identity).astype(np.float64)  # ValueError naming the identities when unknown
    scale = face.STRONG_SCALE if intensity == "strong" else 1.0
    out = {}
    for emotion in EMOTIONS:
        weights = np.zeros(basis.shape[0], np.float64)
        for name, value in face.EMOTION_OVERLAYS[emotion].items():
            weights[ARKIT_INDEX[name]] = scale * value
        out[emotion] = np.einsum("k,kvc->vc", weights, basis).astype(np.float32)
    return out


def _flame_array(data: dict, key: str, path: Path) -> np.ndarray:
    if key not in data:
        raise DataError(path, f"not a FLAME model: no '{key}' (keys: {', '.join(sorted(map(str, data)))})")
    value = data[key]
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
        raise DataError(path, f"FLAME '{key}' is a {type(value).__name__}, not a numeric array")
    if not np.isfinite(value).all():
        raise DataError(path, f"FLAME '{key}' holds NaN or Inf")
    return value


def flame_emotion_offsets(path: str | os.PathLike, *,
                          n_shape: int = FLAME_SHAPE_COMPONENTS) -> dict[str, np.ndarray]:
    """{table row: Δ (V, 3) float32, metres} from a user's FLAME model pickle, one per :data:`PSI_TABLE` row.

    Δₑ = E · ψₑ, i.e. Δₑ[v, c] = Σ_{k<10} shapedirs[v, c, n_shape + k] · ψₑ[k]. ``shapedirs`` is (V, 3, K) with
    K = n_shape + expression directions (400 = 300 + 100 in FLAME 2019/2020/2023; 350 = 300 + 50 also works: the
    expression count is read from K). The pickle is read by ``zoo.datasets.safe_pickle.load_flame_pickle`` (chumpy
    arrays mapped to ndarrays without chumpy; nothing in the file can run code).
    """
    path = Path(path)
    data = load_flame_pickle(path)
    if not isinstance(data, dict):
        raise DataError(path, f"not a FLAME model: the pickle holds a {type(data).__name__}, not a dict")
    shapedirs = _flame_array(data, "shapedirs", path)
    if shapedirs.ndim != 3 or shapedirs.shape[1] != 3:
        raise DataError(path, f"FLAME 'shapedirs' must be (vertices, 3, directions), got {shapedirs.shape}")
    num_vertices, _, directions = shapedirs.shape
    n_expression = directions - n_shape
    if n_expression < PSI_COEFFICIENTS:
        raise DataError(path, f"FLAME 'shapedirs' has {directions} directions: {n_shape} shape leave "
                              f"{max(n_expression, 0)} expression, and the ψ table needs the first {PSI_COEFFICIENTS}")
    if "v_template" in data:
        template = _flame_array(data, "v_template", path)
        if template.shape != (num_vertices, 3):
            raise DataError(path, f"FLAME 'v_template' is {template.shape} but 'shapedirs' has {num_vertices} "
                                  "vertices")
    basis = shapedirs[:, :, n_shape:n_shape + PSI_COEFFICIENTS].astype(np.float64)
    return {row: np.einsum("vck,k->vc", basis, np.asarray(psi, np.float64)).astype(np.float32)
            for row, psi in PSI_TABLE.items()}


@dataclass(frozen=True, eq=False)
class EmotionBasis:
    """Named emotion offsets Δₑ (V, 3) float32 metres, all for one topology; ``source`` says where they came from.

    ``delta(name)`` accepts a name the basis holds, or a label :data:`LABELS` maps to one (``"fearful"`` → ``"fear"``,
    ``"hap"`` → ``"happy"``). ``save``/``load`` use a pickle-free ``.npz`` (names, offsets (E, V, 3), source), so a
    model directory can carry the basis.
    """

    offsets: Mapping[str, np.ndarray]
    source: str = ""

    def __post_init__(self):
        if not isinstance(self.offsets, Mapping) or not self.offsets:
            raise ValueError("an EmotionBasis needs at least one named offset")
        clean, num_vertices = {}, None
        for name, delta in self.offsets.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"emotion names must be non-empty strings, got {name!r}")
            d = np.asarray(delta)
            if d.ndim != 2 or d.shape[1] != 3 or d.dtype.kind not in "iuf":
                raise ValueError(f"offset {name!r} must be a numeric (vertices, 3) array, got shape {d.shape}")
            if num_vertices is not None and d.shape[0] != num_vertices:
                raise ValueError(f"offset {name!r} has {d.shape[0]} vertices, the others {num_vertices}")
            if not np.isfinite(d).all():
                raise ValueError(f"offset {name!r} holds NaN or Inf")
            num_vertices = d.shape[0]
            d = d.astype(np.float32)  # a copy, so the caller's array stays theirs
            d.setflags(write=False)
            clean[name] = d
        object.__setattr__(self, "offsets", MappingProxyType(clean))
        object.__setattr__(self, "source", str(self.source))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.offsets)

    @property
    def num_vertices(self) -> int:
        return next(iter(self.offsets.values())).shape[0]

    def resolve(self, emotion: str) -> str:
        """The name this basis holds for ``emotion``: itself, else its :data:`LABELS` row; ValueError otherwise."""
        if emotion in self.offsets:
            return emotion
        if LABELS.get(emotion) in self.offsets:
            return LABELS[emotion]
        why = f" ({UNMAPPED[emotion]})" if emotion in UNMAPPED else ""
        raise ValueError(f"unknown emotion {emotion!r}{why}; this basis ({self.source or 'unnamed'}) has: "
                         f"{', '.join(self.names)}; labels mapped to those: "
                         f"{', '.join(k for k, v in LABELS.items() if v in self.offsets and k not in self.offsets)}")

    def delta(self, emotion: str) -> np.ndarray:
        """Δ (V, 3) float32 metres (read-only) of ``emotion``."""
        return self.offsets[self.resolve(emotion)]

    def apply(self, vertices, emotion: str, alpha=1.0, mask=None) -> np.ndarray:
        """:func:`merge` of ``vertices`` (T, V, 3) with this basis's Δ for ``emotion``."""
        return merge(vertices, self.delta(emotion), alpha, mask)

    @classmethod
    def from_corpus(cls, identity: str | None = None, intensity: str = "normal") -> EmotionBasis:
        """The synthetic corpus's 8 RAVDESS emotions (:func:`corpus_emotion_offsets`)."""
        who = "mean of all identities" if identity is None else f"identity {identity}"
        return cls(corpus_emotion_offsets(identity, intensity), f"synthetic corpus, {who}, {intensity}")

    @classmethod
    def from_flame(cls, path: str | os.PathLike, *, n_shape: int = FLAME_SHAPE_COMPONENTS) -> EmotionBasis:
        """The 9 rows of :data:`PSI_TABLE` through a user's FLAME model (:func:`flame_emotion_offsets`)."""
        return cls(flame_emotion_offsets(path, n_shape=n_shape), f"FLAME E·ψ (spec §6.2) of {Path(path).name}")

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path`` (exactly that name; ``.npz`` by convention) atomically; arrays only, no pickle."""
        path = Path(path)
        buf = io.BytesIO()
        np.savez(buf, format=np.array(_FORMAT), names=np.array(self.names, dtype=str),
                 offsets=np.stack([self.offsets[n] for n in self.names]), source=np.array(self.source))
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> EmotionBasis:
        """Read a file written by :meth:`save` (``np.load(allow_pickle=False)``); DataError names file and cause."""
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "emotion basis file not found")
        try:
            with np.load(path, allow_pickle=False) as npz:
                found = {k: npz[k] for k in npz.files}
        except Exception as exc:  # not a zip, damaged member, object arrays refused without pickle
            raise DataError(path, f"not a readable emotion basis .npz ({type(exc).__name__}: {exc})") from None
        if found.get("format") is None or str(found["format"]) != _FORMAT:
            raise DataError(path, f"not an emotion basis file (format tag {found.get('format')!r}, "
                                  f"expected {_FORMAT!r})")
        names, offsets = found.get("names"), found.get("offsets")
        if names is None or offsets is None or names.ndim != 1 or offsets.ndim != 3 or offsets.shape[2] != 3 \
                or len(names) != len(offsets):
            raise DataError(path, "an emotion basis needs names (E,) and offsets (E, V, 3) of matching length")
        try:
            return cls(dict(zip(names.tolist(), offsets)), str(found.get("source", "")))
        except ValueError as exc:
            raise DataError(path, str(exc)) from None


__all__ = ["PSI_TABLE", "PSI_COEFFICIENTS", "FLAME_SHAPE_COMPONENTS", "LABELS", "UNMAPPED", "DEFAULT_EASE_FRAMES",
           "ramp", "merge", "corpus_emotion_offsets", "flame_emotion_offsets", "EmotionBasis"]
