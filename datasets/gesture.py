"""Reader and writer of the gesture dataset layout of Aud2Repr2Pose (Takeuchi et al. 2017; specs/gesture_ae.md §1, §7).

::

    folder/
      speech/audio{id}.wav      speech (44.1 kHz in the original)
      motion/gesture{id}.bvh    BVH on the hierarchy of data/gesture_hierarchy.txt: 51 joints × 6 channels,
                                frame time 1/24 s (some files 1/100 s)

A Clip's targets are the positions of every node of the BVH (64 for the dataset: joints and End Sites), in file
units (cm), at 20 fps, as (T, 3N) float32 with columns ``Hips.x, Hips.y, Hips.z, Spine.x, …``. They hold positions
only; the model adds the velocities. The defaults follow the original: 24 → 20 fps by dropping every 6th frame,
and the root fixed at its offset (0, 60, 0) with its rotation applied.
"""
from __future__ import annotations

import io
import logging
import math
import os
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio import load_audio, to_pcm16
from .bvh import (
    GESTURE_FRAME_TIMES,
    Motion,
    Skeleton,
    forward_kinematics,
    gesture_skeleton,
    read_bvh,
    to_fps,
    write_bvh,
)
from .cache import atomic_write_bytes
from .clip import Clip, expected_frames
from .errors import DataError, FrameCountError

log = logging.getLogger(__name__)

__all__ = [
    "GESTURE_FPS", "GESTURE_FRAME_TIMES", "gesture_skeleton", "gesture_ids", "gesture_paths", "original_split",
    "joint_channel_names", "read_gesture_clip", "read_gesture", "write_gesture_pair",
]

GESTURE_FPS = 20
MAX_MISSING_FRAMES = 2
# The original split (prepare_data.py): train 20…1091, test even 1092…1182, dev odd 1093…1181.
TRAIN_IDS = range(20, 1092)
TEST_IDS = range(1092, 1183, 2)
DEV_IDS = range(1093, 1182, 2)
_AUDIO_NAME = re.compile(r"audio(0|[1-9][0-9]*)\.wav")
_MOTION_NAME = re.compile(r"gesture(0|[1-9][0-9]*)\.bvh")


def gesture_paths(folder: str | os.PathLike, clip_id: int) -> tuple[Path, Path]:
    """(``speech/audio{id}.wav``, ``motion/gesture{id}.bvh``) under ``folder``."""
    folder = Path(folder)
    clip_id = int(clip_id)
    return folder / "speech" / f"audio{clip_id}.wav", folder / "motion" / f"gesture{clip_id}.bvh"


def gesture_ids(folder: str | os.PathLike) -> list[int]:
    """Sorted ids that have both ``speech/audio{id}.wav`` and ``motion/gesture{id}.bvh``.

    Ids with only one of the two files are skipped and logged.
    """
    folder = Path(folder)
    for sub in ("speech", "motion"):
        if not (folder / sub).is_dir():
            raise DataError(folder / sub, "missing folder (gesture layout: speech/audio{id}.wav + "
                                          "motion/gesture{id}.bvh)")
    audio = {int(m.group(1)) for p in (folder / "speech").iterdir() if (m := _AUDIO_NAME.fullmatch(p.name))}
    motion = {int(m.group(1)) for p in (folder / "motion").iterdir() if (m := _MOTION_NAME.fullmatch(p.name))}
    alone = sorted(audio ^ motion)
    if alone:
        log.info("%s: %d ids have only one of audio/motion and are skipped: %s", folder, len(alone), alone[:10])
    return sorted(audio & motion)


def original_split(ids) -> tuple[list[int], list[int], list[int]]:
    """(train, dev, test) by the original's rule: train 20…1091, test even 1092…1182, dev odd 1093…1181.

    Ids outside these ranges (below 20, above 1182) are in none of the three; they are logged.
    """
    ids = sorted(int(i) for i in ids)
    train = [i for i in ids if i in TRAIN_IDS]
    dev = [i for i in ids if i in DEV_IDS]
    test = [i for i in ids if i in TEST_IDS]
    outside = sorted(set(ids) - set(train) - set(dev) - set(test))
    if outside:
        log.info("ids outside the original split (train 20-1091, test even 1092-1182, dev odd 1093-1181), in no "
                 "split: %s", outside[:10])
    return train, dev, test


def joint_channel_names(skeleton: Skeleton) -> tuple[str, ...]:
    """Target column names of node positions: ``("Hips.x", "Hips.y", "Hips.z", …)`` for every node in file order."""
    return tuple(f"{name}.{axis}" for name in skeleton.names for axis in "xyz")


def _samples_for_frames(frames: int, sample_rate: int, fps: float) -> int:
    """Fewest samples n with floor(n·fps/sr) = frames: ceil(frames·sr/fps)."""
    return math.ceil(Fraction(frames) * sample_rate / Fraction(repr(float(fps))))


def read_gesture_clip(
    folder: str | os.PathLike,
    clip_id: int,
    *,
    fps: float = GESTURE_FPS,
    frames: str = "drop",
    root: str = "fixed",
    sample_rate: int | None = None,
    max_missing_frames: int | None = MAX_MISSING_FRAMES,
) -> Clip:
    """One clip: ``speech/audio{id}.wav`` and the node positions of ``motion/gesture{id}.bvh``.

    Args:
        folder: the dataset folder.
        clip_id: the integer id.
        fps: target frame rate (the original: 20).
        frames: frame-rate conversion, "drop" (the original's rule, 24 or 100 fps only) or "interpolate"
            (see ``zoo.datasets.bvh.to_fps``).
        root: "fixed" (root at its offset, the original) or "keep" (root translation from the file).
        sample_rate: resample the audio to this rate; None keeps the file's rate.
        max_missing_frames: frame rule. The audio implies F = floor(samples·fps/sr) frames. Longer motion is cut to
            F. Shorter motion is accepted when at most this many frames short (the Clip's frame tolerance); further
            short raises ``FrameCountError``. None accepts any shortfall and cuts the audio to the motion's length
            instead: the original's common-length rule.

    Returns:
        A Clip with ``target_kind="joints3d"``, targets (T, 3N) float32 positions in file units, ``subject=""``,
        ``source`` the BVH path.
    """
    wav_path, bvh_path = gesture_paths(folder, clip_id)
    for path, what in ((wav_path, "audio"), (bvh_path, "motion")):
        if not path.is_file():
            raise DataError(path, f"{what} file of gesture id {clip_id} not found")
    motion = to_fps(read_bvh(bvh_path), fps, method=frames)
    points = forward_kinematics(motion, root=root)
    targets = points.reshape(points.shape[0], -1).astype(np.float32)
    audio, rate = load_audio(wav_path, sample_rate)
    want = expected_frames(audio.size, rate, fps)
    have = targets.shape[0]
    if have > want:
        log.debug("%s: %d motion frames, audio %s implies %d; cutting the motion", bvh_path, have, wav_path, want)
        targets = targets[:want]
    elif have < want:
        if max_missing_frames is None:
            audio = audio[:_samples_for_frames(have, rate, fps)]
        elif want - have > max_missing_frames:
            raise FrameCountError(
                bvh_path, label_frames=have, expected_frames=want,
                rule=f"floor({audio.size} samples × {fps:g} fps / {rate} Hz) of {wav_path}; the motion may be at "
                     f"most {max_missing_frames} frames shorter (max_missing_frames; None cuts the audio instead)",
            )
    tolerance = max(0, expected_frames(audio.size, rate, fps) - targets.shape[0])
    return Clip(
        audio=audio, sample_rate=rate, targets=targets, fps=fps, target_kind="joints3d",
        channel_names=joint_channel_names(motion.skeleton), subject="", source=str(bvh_path),
        frame_tolerance=tolerance,
    )


def read_gesture(folder: str | os.PathLike, ids=None, **options) -> list[Clip]:
    """Clips of ``ids`` (default: every id with both files, ``gesture_ids``); ``options`` as ``read_gesture_clip``.

    A requested id whose audio or motion file is missing raises ``DataError`` naming that file.
    """
    ids = gesture_ids(folder) if ids is None else [int(i) for i in ids]
    if not ids:
        raise DataError(folder, "no gesture ids with both speech/audio{id}.wav and motion/gesture{id}.bvh")
    return [read_gesture_clip(folder, clip_id, **options) for clip_id in ids]


def write_gesture_pair(folder: str | os.PathLike, clip_id: int, audio, sample_rate: int,
                       motion: Motion) -> tuple[Path, Path]:
    """Write ``speech/audio{id}.wav`` (mono PCM16) and ``motion/gesture{id}.bvh`` atomically; returns both paths.

    ``audio`` is float mono in [-1, 1] (clipped to it); ``motion`` is written by ``write_bvh`` (6 decimals).
    """
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"audio must be a non-empty mono (samples,) array, got shape {audio.shape}")
    wav_path, bvh_path = gesture_paths(folder, clip_id)
    buffer = io.BytesIO()
    sf.write(buffer, to_pcm16(audio), int(sample_rate), format="WAV", subtype="PCM_16")
    atomic_write_bytes(wav_path, buffer.getvalue())
    write_bvh(bvh_path, motion)
    return wav_path, bvh_path
