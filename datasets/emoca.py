"""RAVDESS meshes in VOCA's training layout, as the derived repo's EMOCA step made them (specs/voca.md §6.1, 3–6).

::

    data_verts_RAVDESS.npy          float32 (total_frames, V, 3) vertices in metres, one row per VIDEO frame
                                    (29.97 fps), unposed (no head rotation)
    subj_seq_to_idx_RAVDESS.pkl     {"Actor_NN": {"03-01-EE-II-SS-RR-NN": {frame_number: row}}}; EMOCA numbers
                                    frames from 1, so keys are 1 … T and key k is row offset + k − 1
    raw_audio_fixed_RAVDESS.pkl     {actor: {stem: {"audio": int16 (samples,), "sample_rate": 48000}}}
    templates_RAVDESS.pkl           {actor: (V, 3)} the actor's neutral face

``read_emoca`` fixes the derived repo's bugs (specs/voca.md §9; each is a row of a model card):

(a) off-by-one (§9.12): the repo used the 1-based frame keys as 0-based row offsets, so every frame showed the
    next one and the last spilled into the next sequence. Here frames are taken in the order of their sorted keys,
    whatever the base; the keys must be contiguous (a gap is a ``LabelError``).
(b) frame rate (§9.11): the repo paired 29.97-fps meshes index by index with 60-fps audio windows (a 2× drift:
    only the first half of the audio was used). Here meshes are resampled to ``fps`` (default 60) by linear
    interpolation in time.
(c) templates (§9.15): the repo took frame 0 of an expressive trial as the template; this layout stores each
    actor's true neutral face (``read_emoca_templates``).

The pickles are read only through the restricted loader.
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .cache import atomic_write_bytes, npy_bytes
from .clip import Clip, expected_frames
from .errors import DataError, FrameCountError, LabelError
from .ravdess import RAVDESS_FPS, parse_ravdess_name
from .safe_pickle import load_npy, load_pickle
from .vocaset import vertex_channel_names

VERTS_FILE = "data_verts_RAVDESS.npy"
INDEX_FILE = "subj_seq_to_idx_RAVDESS.pkl"
AUDIO_FILE = "raw_audio_fixed_RAVDESS.pkl"
TEMPLATES_FILE = "templates_RAVDESS.pkl"
FILES = (VERTS_FILE, INDEX_FILE, AUDIO_FILE, TEMPLATES_FILE)
FIRST_FRAME = 1  # EMOCA's frame numbering starts at 1
SOURCE_TOLERANCE = 1  # allowed |mesh frames − floor(samples · source_fps / sample_rate)|


class SourceFrameCountError(FrameCountError):
    """The video-rate meshes of a sequence disagree with its audio length by more than ``SOURCE_TOLERANCE``.

    A ``FrameCountError`` whose message does not offer a trim policy: ``read_emoca`` has none (it resamples).
    """

    def __init__(self, path, *, label_frames: int, expected_frames: int, rule: str):
        self.label_frames = label_frames
        self.expected_frames = expected_frames
        LabelError.__init__(self, path, f"{rule}: {label_frames} mesh frames but the audio implies {expected_frames}"
                                        f" (tolerance {SOURCE_TOLERANCE}); the meshes do not match this audio")


def _pickle_bytes(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)  # as write_vocaset: the protocol of the Python 2 era files


def _canonical(array, dtype) -> np.ndarray:
    """A C-contiguous array whose dtype is NumPy's own ``dtype`` object: pickle memoises dtypes by identity, so
    arrays unpickled from worker processes would otherwise give other bytes than the same arrays made here."""
    return np.ascontiguousarray(array, dtype=dtype).view(dtype)


def write_emoca(folder: str | os.PathLike, sequences: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray, int]]],
                templates: Mapping[str, np.ndarray]) -> None:
    """Write the four files (each atomically), frame keys numbered from 1 as EMOCA's.

    Args:
        sequences: {actor: {stem: (vertices (T, V, 3) at the video rate, audio int16 (samples,), sample_rate)}};
            ``stem`` a RAVDESS name of ``actor`` (``03-01-EE-II-SS-RR-NN``).
        templates: {actor: (V, 3)} neutral faces; every actor of ``sequences`` needs one.
    """
    folder = Path(folder)
    rows, index, raw_audio, offset, num_vertices = [], {}, {}, 0, None
    for actor in sorted(sequences):
        if actor not in templates:
            raise ValueError(f"no template for actor {actor!r}")
        index[actor], raw_audio[actor] = {}, {}
        for stem in sorted(sequences[actor]):
            if parse_ravdess_name(stem).subject != actor:
                raise ValueError(f"{actor}/{stem}: the name is of {parse_ravdess_name(stem).subject}")
            verts, audio, rate = sequences[actor][stem]
            verts = np.asarray(verts, dtype=np.float32)
            audio = np.asarray(audio)
            if verts.ndim != 3 or verts.shape[2] != 3 or not len(verts):
                raise ValueError(f"{actor}/{stem}: vertices must be (T ≥ 1, V, 3), got {verts.shape}")
            if num_vertices is not None and verts.shape[1] != num_vertices:
                raise ValueError(f"{actor}/{stem}: {verts.shape[1]} vertices, the others have {num_vertices}")
            if audio.dtype != np.int16 or audio.ndim != 1:
                raise ValueError(f"{actor}/{stem}: audio must be int16 (samples,), got {audio.dtype} {audio.shape}")
            num_vertices = verts.shape[1]
            rows.append(verts)
            index[actor][stem] = {k: offset + k - FIRST_FRAME for k in range(FIRST_FRAME, FIRST_FRAME + len(verts))}
            raw_audio[actor][stem] = {"audio": _canonical(audio, np.int16), "sample_rate": int(rate)}
            offset += len(verts)
    folder.mkdir(parents=True, exist_ok=True)
    verts = np.concatenate(rows) if rows else np.zeros((0, 0, 3), np.float32)
    atomic_write_bytes(folder / VERTS_FILE, npy_bytes(verts))
    atomic_write_bytes(folder / INDEX_FILE, _pickle_bytes(index))
    atomic_write_bytes(folder / AUDIO_FILE, _pickle_bytes(raw_audio))
    atomic_write_bytes(folder / TEMPLATES_FILE, _pickle_bytes({k: _canonical(templates[k], np.float32)
                                                               for k in sorted(templates)}))


def read_emoca_templates(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """{actor: (V, 3) float32 neutral face, metres} from templates_RAVDESS.pkl (restricted loader)."""
    path = Path(folder) / TEMPLATES_FILE
    templates = load_pickle(path)
    if not isinstance(templates, dict):
        raise DataError(path, f"expected a dict of templates, got {type(templates).__name__}")
    out = {}
    for actor, verts in templates.items():
        try:
            verts = np.asarray(verts, dtype=np.float32)
        except (TypeError, ValueError):
            raise DataError(path, f"template of {actor!r} is not a numeric array") from None
        if verts.ndim != 2 or verts.shape[1] != 3:
            raise DataError(path, f"template of {actor!r} has shape {verts.shape}, expected (V, 3)")
        if not np.isfinite(verts).all():
            raise DataError(path, f"template of {actor!r} holds NaN or Inf")
        out[str(actor)] = verts
    return out


def resample_frames(values: np.ndarray, source_fps: float, fps: float, frames: int) -> np.ndarray:
    """(T, D) frames at ``source_fps`` → (frames, D) float32 at ``fps``.

    Output frame j (time j / fps s) is the linear interpolation of the source frames k at times k / source_fps s:
    with p = j · source_fps / fps, i = floor(p), w = p − i, out_j = (1 − w) · src_i + w · src_{i+1}; p is clamped
    to [0, T − 1] (edges hold the first/last frame). Computed in float64.
    """
    src = np.asarray(values, dtype=np.float64)
    if src.ndim != 2 or not len(src):
        raise ValueError(f"values must be (T ≥ 1, D), got {src.shape}")
    if len(src) == 1:
        return np.repeat(src, frames, axis=0).astype(np.float32)
    pos = np.clip(np.arange(frames, dtype=np.float64) * (float(source_fps) / float(fps)), 0.0, len(src) - 1)
    left = np.minimum(np.floor(pos).astype(np.int64), len(src) - 2)
    w = (pos - left)[:, None]
    return ((1.0 - w) * src[left] + w * src[left + 1]).astype(np.float32)


def _frame_rows(frame_rows, where: str, path: Path, total: int) -> np.ndarray:
    """Rows of one sequence in the order of its sorted frame keys (any base); keys must be contiguous integers."""
    if not isinstance(frame_rows, dict) or not frame_rows:
        raise LabelError(path, f"{where}: expected a non-empty {{frame: row}} dict")
    keys = list(frame_rows)
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys):
        raise LabelError(path, f"{where}: frame keys must be integers")
    order = sorted(int(k) for k in keys)
    if order[-1] - order[0] + 1 != len(order):
        missing = sorted(set(range(order[0], order[-1] + 1)) - set(order))
        raise LabelError(path, f"{where}: frame keys {order[0]}…{order[-1]} are not contiguous "
                               f"(missing {missing[:5]}{' …' if len(missing) > 5 else ''})")
    try:
        rows = np.array([int(frame_rows[k]) for k in order], dtype=np.int64)
    except (TypeError, ValueError):
        raise LabelError(path, f"{where}: rows must be integers") from None
    if rows.min() < 0 or rows.max() >= total:
        raise LabelError(path, f"{where}: rows outside {VERTS_FILE} (0…{total - 1})")
    return rows


def _audio(raw_audio, actor: str, stem: str, path: Path) -> tuple[np.ndarray, int]:
    """float32 samples in [-1, 1] (int PCM / 2^(bits−1)) and the rate of one sequence."""
    try:
        entry = raw_audio[actor][stem]
        audio, rate = np.asarray(entry["audio"]), int(entry["sample_rate"])
    except (KeyError, TypeError, ValueError):
        raise DataError(path, f"no audio with a sample_rate for {actor}/{stem}") from None
    if audio.ndim != 1 or not audio.size:
        raise DataError(path, f"{actor}/{stem}: audio must be (samples ≥ 1,), got {audio.shape}")
    if rate <= 0:
        raise DataError(path, f"{actor}/{stem}: sample_rate must be positive, got {rate}")
    if audio.dtype.kind == "i":
        audio = audio.astype(np.float32) / float(np.iinfo(audio.dtype).max + 1)
    elif audio.dtype.kind != "f":
        raise DataError(path, f"{actor}/{stem}: audio of dtype {audio.dtype} is neither int PCM nor float")
    return np.asarray(audio, dtype=np.float32), rate


def _select(available, wanted, what: str, path: Path) -> list[str]:
    if wanted is None:
        return sorted(available, key=str)
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    unknown = [w for w in wanted if w not in available]
    if unknown:
        raise DataError(path, f"no {what} {unknown[:5]} (it has {sorted(available)[:5]}…)")
    return sorted(set(wanted))


def read_emoca(folder: str | os.PathLike, *, fps: float = 60.0, subjects=None, stems=None,
               source_fps: float = RAVDESS_FPS) -> list[Clip]:
    """Read the sequences into Clips of flattened vertex targets (T60, 3V) in metres at ``fps``.

    Per sequence of ``samples`` audio samples at ``sample_rate``: the mesh frames (in sorted-key order, fix (a))
    must number floor(samples · source_fps / sample_rate) ± 1 (else ``FrameCountError`` naming the index file);
    they are resampled (``resample_frames``, fix (b)) to T60 = floor(samples · fps / sample_rate) frames. Subject,
    emotion, intensity and text come from the RAVDESS name; audio is float32 in [-1, 1] (int16 / 32768).

    Args:
        subjects: actors to read ("Actor_01", …); stems: sequence names to read; default all. A name the files do
            not hold is a ``DataError``.
    """
    folder = Path(folder)
    for name in FILES:
        if not (folder / name).is_file():
            raise DataError(folder / name, "missing RAVDESS mesh file (EMOCA layout)")
    verts_path, index_path, audio_path = folder / VERTS_FILE, folder / INDEX_FILE, folder / AUDIO_FILE
    verts = load_npy(verts_path)
    if verts.ndim != 3 or verts.shape[2] != 3:
        raise DataError(verts_path, f"expected (frames, V, 3), got {verts.shape}")
    index = load_pickle(index_path)
    if not isinstance(index, dict) or not all(isinstance(v, dict) for v in index.values()):
        raise LabelError(index_path, "expected {actor: {stem: {frame: row}}}")
    raw_audio = load_pickle(audio_path)
    templates = read_emoca_templates(folder)
    names = vertex_channel_names(verts.shape[1])
    stems = None if stems is None else ({stems} if isinstance(stems, str) else set(stems))
    clips, found = [], set()
    for actor in _select(index, subjects, "subjects", index_path):
        if actor not in templates:
            raise LabelError(folder / TEMPLATES_FILE, f"no template for actor {actor!r}")
        if templates[actor].shape[0] != verts.shape[1]:
            raise LabelError(folder / TEMPLATES_FILE, f"template of {actor!r} has {templates[actor].shape[0]} "
                                                      f"vertices, {VERTS_FILE} has {verts.shape[1]}")
        chosen = [s for s in sorted(index[actor], key=str) if stems is None or s in stems]
        for stem in chosen:
            where = f"{actor}/{stem}"
            if not isinstance(stem, str):
                raise LabelError(index_path, f"{where}: sequence keys must be RAVDESS names (str)")
            try:
                label = parse_ravdess_name(stem)
            except DataError as exc:
                raise LabelError(index_path, f"{where}: {exc.cause}") from None
            if label.subject != actor:
                raise LabelError(index_path, f"{where}: the name is of {label.subject}, filed under {actor}")
            rows = _frame_rows(index[actor][stem], where, index_path, len(verts))
            audio, rate = _audio(raw_audio, actor, stem, audio_path)
            want = expected_frames(audio.size, rate, source_fps)
            if abs(len(rows) - want) > SOURCE_TOLERANCE:
                raise SourceFrameCountError(index_path, label_frames=len(rows), expected_frames=want,
                                            rule=f"{where} at {source_fps:g} fps")
            frames = expected_frames(audio.size, rate, fps)
            targets = resample_frames(verts[rows].reshape(len(rows), -1), source_fps, fps, frames)
            found.add(stem)
            clips.append(Clip(audio=audio, sample_rate=rate, targets=targets, fps=fps, target_kind="vertices",
                              channel_names=names, subject=actor, emotion=label.emotion, intensity=label.intensity,
                              text=label.text, source=f"{folder}::{where}"))
    if stems is not None:
        missing = sorted(stems - found)
        if missing:
            raise DataError(index_path, f"no sequences {missing[:5]} among the selected subjects")
    return clips
