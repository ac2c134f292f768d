"""Reader for the FACEGOOD Audio2Face layout (specs/audio2face.md §1–2).

::

    root/
      wav/<id>.wav                    16 kHz mono speech (any rate/format is resampled)
      bs_value/bs_value_<id>.npy      float (frames, channels) weights, frames = floor(seconds × 30)
      <names file>                    channel names in label-column order (.npy or .txt)

The shipped sample names its label-order file ``shirley_1015_bs_name.npy`` (Maya order);
``shirley_1119_bs_name.npy``/``bsname.txt`` are the Unreal order and do *not* match the
label columns. Wavs without a label file are prediction-only and are skipped.
"""
from __future__ import annotations

import logging
import math
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from .audio import load_audio, resample
from .clip import Clip, expected_frames
from .errors import DataError, FrameCountError, LabelError
from .safe_pickle import load_npy

log = logging.getLogger(__name__)

FACEGOOD_FPS = 30
FACEGOOD_SAMPLE_RATE = 16000
LABEL_PREFIX = "bs_value_"
TRIM_POLICIES = ("error", "trim")


def read_names(path: str | os.PathLike) -> tuple[str, ...]:
    """Channel names from a ``.npy`` name array (restricted loader) or a text file, one per line.

    A text file may start with the number of names (FACEGOOD's ``bsname.txt`` does).
    """
    path = Path(path)
    if not path.is_file():
        raise LabelError(path, "name file not found")
    if path.suffix == ".npy":
        names = load_npy(path)
        if names.ndim != 1:
            raise LabelError(path, f"name array must be 1-D, got shape {names.shape}")
        names = [n.decode("utf-8") if isinstance(n, bytes) else n for n in names.tolist()]
        if not all(isinstance(n, str) for n in names):
            raise LabelError(path, "name array holds non-string entries")
    else:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if names and names[0].isdigit():  # FACEGOOD's bsname.txt starts with the count
            if int(names[0]) != len(names) - 1:
                raise LabelError(path, f"header says {names[0]} names but {len(names) - 1} follow")
            names = names[1:]
    if not names:
        raise LabelError(path, "name file lists no names")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise LabelError(path, f"duplicate names {dup[:5]}")
    return tuple(names)


def _default_names_file(root: Path) -> Path:
    for candidate in (root / "BS_name.npy", root / "bs_name.npy"):
        if candidate.is_file():
            return candidate
    found = sorted(root.glob("*bs_name*.npy"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise LabelError(root, "no name file (BS_name.npy or *bs_name*.npy); pass names_file= "
                               "(--names-file on the command line)")
    raise LabelError(
        root,
        f"several name files {[p.name for p in found]}; pass the one in label-column order as names_file= "
        "(--names-file on the command line)",
    )


def _samples_for_frames(frames: int, sample_rate: int, fps: float) -> int:
    """Fewest samples n with floor(n·fps/sr) = frames: ceil(frames·sr/fps)."""
    return math.ceil(Fraction(frames) * sample_rate / Fraction(repr(float(fps))))


def read_facegood_clip(
    wav_path: str | os.PathLike,
    label_path: str | os.PathLike,
    names: tuple[str, ...],
    *,
    fps: float = FACEGOOD_FPS,
    sample_rate: int = FACEGOOD_SAMPLE_RATE,
    on_mismatch: str = "error",
    subject: str = "",
) -> Clip:
    """One FACEGOOD clip. See ``read_facegood`` for the arguments."""
    if on_mismatch not in TRIM_POLICIES:
        raise ValueError(f"on_mismatch must be one of {TRIM_POLICIES}, got {on_mismatch!r}")
    wav_path, label_path = Path(wav_path), Path(label_path)
    if not label_path.is_file():
        raise LabelError(label_path, f"label file not found (expected beside {wav_path.name})")
    audio, native_rate = load_audio(wav_path)
    try:
        labels = load_npy(label_path)
    except DataError as exc:
        raise LabelError(label_path, exc.cause) from None
    if labels.ndim != 2:
        raise LabelError(label_path, f"labels must be (frames, channels), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.number):
        raise LabelError(label_path, f"labels must be numeric, got dtype {labels.dtype}")
    if labels.shape[1] != len(names):
        raise LabelError(label_path, f"{labels.shape[1]} label columns but {len(names)} names in the name file")
    if not np.all(np.isfinite(labels)):
        frame, col = np.argwhere(~np.isfinite(labels))[0]
        raise LabelError(label_path, f"non-finite label (NaN or Inf) at frame {frame}, column {names[col]!r}")
    want = expected_frames(audio.size, native_rate, fps)
    if labels.shape[0] != want:
        if on_mismatch == "error":
            raise FrameCountError(
                label_path, label_frames=labels.shape[0], expected_frames=want,
                rule=f"floor({audio.size} samples / {native_rate} Hz × {fps} fps) for {wav_path.name}",
            )
        log.warning("%s: %d label frames vs %d from %s; trimming the longer one",
                    label_path, labels.shape[0], want, wav_path.name)
        if labels.shape[0] > want:
            labels = labels[:want]
        else:
            audio = audio[: _samples_for_frames(labels.shape[0], native_rate, fps)]
    tolerance = 0
    if native_rate != sample_rate:
        audio = resample(audio, native_rate, sample_rate)
        tolerance = 1  # the resampled length may round across one frame boundary
    return Clip(
        audio=audio, sample_rate=sample_rate, targets=labels.astype(np.float32), fps=fps,
        target_kind="blendshapes", channel_names=names, subject=subject,
        source=str(wav_path), frame_tolerance=tolerance,
    )


def read_facegood(
    root: str | os.PathLike,
    *,
    names_file: str | os.PathLike | None = None,
    clip_ids: list[str] | None = None,
    fps: float = FACEGOOD_FPS,
    sample_rate: int = FACEGOOD_SAMPLE_RATE,
    on_mismatch: str = "error",
    subject: str | None = None,
) -> list[Clip]:
    """Read FACEGOOD ``wav/`` + ``bs_value/`` + a name file into Clips.

    Args:
        root: the dataset folder.
        names_file: channel names in label-column order; default ``BS_name.npy`` or the only
            ``*bs_name*.npy`` in ``root``.
        clip_ids: ids such as ``"1114_2_01"``; default every id with a label file. A
            requested id without its wav or label file is an error.
        fps: label frame rate (FACEGOOD: 30).
        sample_rate: audio is resampled to this rate (FACEGOOD: 16000).
        on_mismatch: "error" (default) raises ``FrameCountError`` when label rows ≠
            floor(seconds × fps); "trim" cuts the longer of audio and labels.
        subject: the actor id given to every clip (default: the folder's name).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "FACEGOOD folder not found")
    wav_dir, label_dir = root / "wav", root / "bs_value"
    for folder in (wav_dir, label_dir):
        if not folder.is_dir():
            raise DataError(folder, "missing folder (FACEGOOD layout: wav/ and bs_value/)")
    names = read_names(names_file if names_file is not None else _default_names_file(root))
    if clip_ids is None:
        clip_ids = sorted(p.stem[len(LABEL_PREFIX):] for p in label_dir.glob(f"{LABEL_PREFIX}*.npy"))
        if not clip_ids:
            raise LabelError(label_dir, f"no label files ({LABEL_PREFIX}<id>.npy)")
        unlabelled = sorted({p.stem for p in wav_dir.glob("*.wav")} - set(clip_ids))
        if unlabelled:
            log.info("%s: %d wavs without labels skipped: %s", root, len(unlabelled), unlabelled)
    subject = root.name if subject is None else subject
    clips = []
    for clip_id in clip_ids:
        wav = wav_dir / f"{clip_id}.wav"
        if not wav.is_file():
            raise DataError(wav, f"audio file for label {LABEL_PREFIX}{clip_id}.npy not found")
        clips.append(read_facegood_clip(
            wav, label_dir / f"{LABEL_PREFIX}{clip_id}.npy", names, fps=fps,
            sample_rate=sample_rate, on_mismatch=on_mismatch, subject=subject,
        ))
    return clips
