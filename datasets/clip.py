"""``Clip``: one utterance with its audio and its animation targets (DESIGN §2).

Frame rule: a clip of ``n`` samples at ``sample_rate`` Hz animated at ``fps`` has
``floor(n * fps / sample_rate)`` frames (FACEGOOD's rule: frames = floor(seconds × fps)).
``frame_tolerance`` admits readers whose datasets round differently (e.g. after resampling).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from .arkit import select_channels
from .errors import ClipError

TARGET_KINDS = ("blendshapes", "shape_keys", "vertices", "landmarks2d", "joints3d")

# RAVDESS emotion labels, in the order of the file-name code (01 = neutral ... 08 = surprised).
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
INTENSITIES = ("normal", "strong")  # RAVDESS intensity codes 01, 02 (neutral is only "normal")


def expected_frames(num_samples: int, sample_rate: int, fps: float) -> int:
    """Frames implied by an audio length: ``floor(num_samples * fps / sample_rate)``, exactly.

    ``fps`` is taken at its decimal value (29.97 stays 2997/100), so no float rounding
    moves a frame boundary.
    """
    return math.floor(Fraction(int(num_samples)) * Fraction(repr(float(fps))) / int(sample_rate))


@dataclass(frozen=True, eq=False)
class Clip:
    """One utterance: audio, targets at ``fps``, and who/what/how it was said.

    Args:
        audio: float32 mono samples in [-1, 1], shape (samples,); None for a dataset without
            audio (EveNet's takes), in which case the frame rule is not checked.
        sample_rate: audio rate in Hz (None without audio).
        targets: float32 (frames, dims) animation at ``fps`` frames per second.
        fps: target frame rate in Hz.
        target_kind: one of ``TARGET_KINDS``.
        channel_names: one name per target column (len == dims).
        subject: speaker/actor id.
        emotion: a RAVDESS label (``EMOTIONS``) or None when the dataset has none.
        intensity: "normal" or "strong" (RAVDESS), or None.
        phonemes: optional ((start_s, end_s, label), ...) in seconds.
        text: optional transcript.
        source: where the clip was read from (a path), for error messages.
        frame_tolerance: allowed |frames − floor(samples·fps/sample_rate)|.
    """

    audio: np.ndarray | None
    sample_rate: int | None
    targets: np.ndarray
    fps: float
    target_kind: str
    channel_names: tuple[str, ...]
    subject: str = ""
    emotion: str | None = None
    intensity: str | None = None
    phonemes: tuple[tuple[float, float, str], ...] | None = None
    text: str | None = None
    source: str = ""
    frame_tolerance: int = field(default=0, repr=False)

    def __post_init__(self):
        src = self.source or None
        audio = None if self.audio is None else self._checked_audio(src)
        if not float(self.fps) > 0:
            raise ClipError(src, f"fps must be positive, got {self.fps}")
        targets = np.asarray(self.targets)
        if targets.ndim != 2:
            raise ClipError(src, f"targets must be (frames, dims), got shape {targets.shape}")
        targets = targets.astype(np.float32, copy=False)
        if not np.all(np.isfinite(targets)):
            bad = np.argwhere(~np.isfinite(targets))[0]
            raise ClipError(src, f"targets contain NaN or Inf (first at frame {bad[0]}, column {bad[1]})")
        if self.target_kind not in TARGET_KINDS:
            raise ClipError(src, f"target_kind {self.target_kind!r} is not one of {TARGET_KINDS}")
        names = tuple(str(n) for n in self.channel_names)
        if len(names) != targets.shape[1]:
            raise ClipError(src, f"{len(names)} channel names for {targets.shape[1]} target columns")
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ClipError(src, f"duplicate channel names: {dup[:5]}")
        if self.emotion is not None and self.emotion not in EMOTIONS:
            raise ClipError(src, f"emotion {self.emotion!r} is not one of {EMOTIONS}")
        if self.intensity is not None and self.intensity not in INTENSITIES:
            raise ClipError(src, f"intensity {self.intensity!r} is not one of {INTENSITIES}")
        if audio is not None:
            want = expected_frames(audio.size, self.sample_rate, self.fps)
            if abs(targets.shape[0] - want) > self.frame_tolerance:
                raise ClipError(
                    src,
                    f"{targets.shape[0]} target frames but the audio implies {want} "
                    f"(floor({audio.size} samples × {self.fps} fps / {self.sample_rate} Hz), "
                    f"tolerance {self.frame_tolerance})",
                )
        phonemes = None
        if self.phonemes is not None:
            phonemes = tuple((float(s), float(e), str(label)) for s, e, label in self.phonemes)
            for s, e, label in phonemes:
                if not (0.0 <= s <= e):
                    raise ClipError(src, f"phoneme {label!r} has bad times ({s}, {e})")
        targets.setflags(write=False)
        object.__setattr__(self, "audio", audio)
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "sample_rate", None if audio is None else int(self.sample_rate))
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "channel_names", names)
        object.__setattr__(self, "phonemes", phonemes)

    def _checked_audio(self, src) -> np.ndarray:
        audio = np.asarray(self.audio)
        if audio.ndim != 1:
            raise ClipError(src, f"audio must be mono (samples,), got shape {audio.shape}")
        if audio.size == 0:
            raise ClipError(src, "audio has no samples")
        audio = audio.astype(np.float32, copy=False)
        if not np.all(np.isfinite(audio)):
            raise ClipError(src, "audio contains NaN or Inf samples")
        if np.abs(audio).max() > 1.0:
            raise ClipError(src, f"audio exceeds [-1, 1] (peak {np.abs(audio).max():.3g})")
        if self.sample_rate is None or int(self.sample_rate) <= 0:
            raise ClipError(src, f"sample_rate must be positive, got {self.sample_rate}")
        audio.setflags(write=False)
        return audio

    @property
    def num_frames(self) -> int:
        return int(self.targets.shape[0])

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def duration(self) -> float:
        """Length in seconds: of the audio, or of the frames (frames / fps) for a clip without audio."""
        return self.audio.size / self.sample_rate if self.audio is not None else self.num_frames / self.fps

    @property
    def name(self) -> str:
        """A short id: the source file's stem, or '' when there is no source."""
        return Path(self.source).stem if self.source else ""

    def replace(self, **changes) -> Clip:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def with_channels(self, names) -> Clip:
        """A copy whose targets hold only the channels ``names``, in that order (``ClipError`` naming
        the source when one is missing)."""
        names = tuple(names)
        missing = [n for n in names if n not in self.channel_names]
        if missing:
            raise ClipError(self.source, f"no channels {missing[:5]} (of {len(missing)} missing)")
        return self.replace(targets=select_channels(self.targets, self.channel_names, names), channel_names=names)
