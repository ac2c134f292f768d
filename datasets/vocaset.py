"""VOCASET training files (specs/voca.md §4.1): reader and writer.

::

    data_verts.npy          float32 (total_frames, V, 3) vertices in metres, 60 fps
    subj_seq_to_idx.pkl     {subject: {sentence: {frame_index: row in data_verts}}}
    raw_audio_fixed.pkl     {subject: {sentence: {"audio": int16 (samples,), "sample_rate": int}}}
    templates.pkl           {subject: (V, 3) neutral face}

The pickles are read only through the restricted loader (they come from the internet).
VOCA uses min(mesh frames, audio frames) per sequence; the reader does the same by default
(``on_mismatch="trim"``) and says so in the log, or raises with ``on_mismatch="error"``.
"""
from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .audio import resample
from .cache import atomic_write_bytes, npy_bytes
from .clip import Clip, expected_frames
from .errors import DataError, FrameCountError, LabelError
from .safe_pickle import load_npy, load_pickle

log = logging.getLogger(__name__)

VOCASET_FPS = 60.0
FILES = ("data_verts.npy", "subj_seq_to_idx.pkl", "raw_audio_fixed.pkl", "templates.pkl")


def vertex_channel_names(num_vertices: int) -> tuple[str, ...]:
    """Names of flattened (V·3) vertex targets: v0.x, v0.y, v0.z, v1.x, …"""
    return tuple(f"v{i}.{axis}" for i in range(num_vertices) for axis in "xyz")


def _pickle_bytes(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)  # protocol 2: what VOCASET's Python 2 files used


def write_vocaset(folder: str | os.PathLike, sequences: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray, int]]],
                  templates: Mapping[str, np.ndarray]) -> None:
    """Write the four VOCASET files.

    Args:
        sequences: {subject: {sentence: (vertices (T, V, 3), audio int16 (samples,), sample_rate)}}.
        templates: {subject: (V, 3)}.
    """
    folder = Path(folder)
    rows, index, raw_audio, offset = [], {}, {}, 0
    for subject in sorted(sequences):
        if subject not in templates:
            raise ValueError(f"no template for subject {subject!r}")
        index[subject], raw_audio[subject] = {}, {}
        for sentence in sorted(sequences[subject]):
            verts, audio, rate = sequences[subject][sentence]
            verts = np.asarray(verts, dtype=np.float32)
            audio = np.asarray(audio)
            if audio.dtype != np.int16:
                raise ValueError(f"{subject}/{sentence}: audio must be int16, got {audio.dtype}")
            rows.append(verts)
            index[subject][sentence] = {i: offset + i for i in range(len(verts))}
            raw_audio[subject][sentence] = {"audio": audio, "sample_rate": int(rate)}
            offset += len(verts)
    folder.mkdir(parents=True, exist_ok=True)
    verts = np.concatenate(rows) if rows else np.zeros((0, 0, 3), np.float32)
    atomic_write_bytes(folder / "data_verts.npy", npy_bytes(verts))
    atomic_write_bytes(folder / "subj_seq_to_idx.pkl", _pickle_bytes(index))
    atomic_write_bytes(folder / "raw_audio_fixed.pkl", _pickle_bytes(raw_audio))
    atomic_write_bytes(folder / "templates.pkl", _pickle_bytes({k: np.asarray(v, np.float32)
                                                                for k, v in templates.items()}))


def read_vocaset_templates(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """{subject: (V, 3) float32 template} from templates.pkl (restricted loader)."""
    path = Path(folder) / "templates.pkl"
    templates = load_pickle(path)
    if not isinstance(templates, dict):
        raise DataError(path, f"expected a dict of templates, got {type(templates).__name__}")
    out = {}
    for subject, verts in templates.items():
        verts = np.asarray(verts, dtype=np.float32)
        if verts.ndim != 2 or verts.shape[1] != 3:
            raise DataError(path, f"template of {subject!r} has shape {verts.shape}, expected (V, 3)")
        out[str(subject)] = verts
    return out


def read_vocaset(folder: str | os.PathLike, *, subjects=None, sentences=None, sample_rate: int | None = None,
                 on_mismatch: str = "trim", fps: float = VOCASET_FPS) -> list[Clip]:
    """Read VOCASET sequences into Clips with flattened vertex targets (V·3 columns, metres).

    Args:
        subjects, sentences: optional lists to select; default all.
        sample_rate: resample the audio to this rate (default: the file's).
        on_mismatch: "trim" (VOCA's rule: keep min(mesh frames, audio frames)) or "error".
    """
    folder = Path(folder)
    for name in FILES:
        if not (folder / name).is_file():
            raise DataError(folder / name, "missing VOCASET file")
    verts = load_npy(folder / "data_verts.npy")
    if verts.ndim != 3 or verts.shape[2] != 3:
        raise DataError(folder / "data_verts.npy", f"expected (frames, V, 3), got {verts.shape}")
    index = load_pickle(folder / "subj_seq_to_idx.pkl")
    raw_audio = load_pickle(folder / "raw_audio_fixed.pkl")
    templates = read_vocaset_templates(folder)
    names = vertex_channel_names(verts.shape[1])
    clips = []
    for subject in sorted(index):
        if subjects is not None and subject not in subjects:
            continue
        if subject not in templates:
            raise LabelError(folder / "templates.pkl", f"no template for subject {subject!r}")
        for sentence in sorted(index[subject]):
            if sentences is not None and sentence not in sentences:
                continue
            where = f"{subject}/{sentence}"
            try:
                entry = raw_audio[subject][sentence]
                audio, rate = np.asarray(entry["audio"]), int(entry["sample_rate"])
            except (KeyError, TypeError):
                raise DataError(folder / "raw_audio_fixed.pkl", f"no audio for {where}") from None
            frame_rows = index[subject][sentence]
            order = sorted(frame_rows)
            if order != list(range(len(order))):
                raise LabelError(folder / "subj_seq_to_idx.pkl", f"{where}: frame indices are not 0…{len(order) - 1}")
            rows = np.array([frame_rows[i] for i in order], dtype=np.int64)
            if rows.size and (rows.min() < 0 or rows.max() >= len(verts)):
                raise LabelError(folder / "subj_seq_to_idx.pkl", f"{where}: rows outside data_verts.npy")
            seq = verts[rows].reshape(len(rows), -1)
            if audio.dtype.kind == "i":
                audio = audio.astype(np.float32) / float(np.iinfo(audio.dtype).max + 1)
            audio = np.asarray(audio, dtype=np.float32).reshape(-1)
            want = expected_frames(audio.size, rate, fps)
            if len(seq) != want:
                if on_mismatch == "error":
                    raise FrameCountError(folder / "subj_seq_to_idx.pkl", label_frames=len(seq),
                                          expected_frames=want, rule=f"{where} at {fps} fps")
                log.info("%s: %d mesh frames vs %d audio frames; keeping %d", where, len(seq), want,
                         min(len(seq), want))
                keep = min(len(seq), want)
                seq = seq[:keep]
                audio = audio[: int(np.ceil(keep * rate / fps))]
            if sample_rate is not None and sample_rate != rate:
                audio, rate = resample(audio, rate, sample_rate), sample_rate
            clips.append(Clip(audio=audio, sample_rate=rate, targets=seq, fps=fps, target_kind="vertices",
                              channel_names=names, subject=subject, source=f"{folder}::{where}",
                              frame_tolerance=1))
    return clips
