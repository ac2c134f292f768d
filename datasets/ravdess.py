"""RAVDESS (Livingstone & Russo 2018; specs/voca.md §6.1, specs/landmark_dcgan.md §6): names and reader.

Every file is named ``MM-VV-EE-II-SS-RR-AA.ext``: modality (01 audio-video, 02 video only,
03 audio only), vocal channel (01 speech, 02 song), emotion (01 neutral … 08 surprised, the
order of ``EMOTIONS``), intensity (01 normal, 02 strong; neutral has only 01), statement
(01 "Kids are talking by the door", 02 "Dogs are sitting by the door"), repetition (01/02)
and actor (01–24, odd = male), usually inside ``Actor_AA/`` folders. Audio-only files are
48 kHz WAV; videos are MP4 at 29.97 fps (NTSC, 30000/1001).

RAVDESS has no animation. ``read_ravdess`` returns the speech clips with their labels and,
when given ``targets=``, the targets that function derives from the matching 01 video
(e.g. 68 landmarks per frame); without it the clips carry zero target columns at 29.97 fps.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .audio import load_audio
from .clip import EMOTIONS, INTENSITIES, Clip, expected_frames
from .errors import DataError

RAVDESS_FPS = float(Fraction(30000, 1001))
RAVDESS_SAMPLE_RATE = 48000
MODALITIES = ("audio-video", "video", "audio")  # codes 01, 02, 03
CHANNELS = ("speech", "song")  # codes 01, 02
STATEMENTS = ("Kids are talking by the door", "Dogs are sitting by the door")  # codes 01, 02

TargetFn = Callable[[Path, "RavdessName"], tuple[np.ndarray, tuple[str, ...], str]]


@dataclass(frozen=True)
class RavdessName:
    """The seven fields of a RAVDESS file name, decoded."""

    modality: str
    channel: str
    emotion: str
    intensity: str
    statement: int  # 1 or 2
    repetition: int  # 1 or 2
    actor: int  # 1…24 (odd: male)

    def __post_init__(self):
        problems = []
        if self.modality not in MODALITIES:
            problems.append(f"modality {self.modality!r} not in {MODALITIES}")
        if self.channel not in CHANNELS:
            problems.append(f"channel {self.channel!r} not in {CHANNELS}")
        if self.emotion not in EMOTIONS:
            problems.append(f"emotion {self.emotion!r} not in {EMOTIONS}")
        if self.intensity not in INTENSITIES:
            problems.append(f"intensity {self.intensity!r} not in {INTENSITIES}")
        elif self.emotion == "neutral" and self.intensity == "strong":
            problems.append("neutral has no strong intensity in RAVDESS")
        if self.statement not in (1, 2):
            problems.append(f"statement {self.statement} not 1 or 2")
        if self.repetition not in (1, 2):
            problems.append(f"repetition {self.repetition} not 1 or 2")
        if not 1 <= self.actor <= 99:
            problems.append(f"actor {self.actor} not in 1…99")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def stem(self) -> str:
        """``MM-VV-EE-II-SS-RR-AA``."""
        codes = (MODALITIES.index(self.modality) + 1, CHANNELS.index(self.channel) + 1,
                 EMOTIONS.index(self.emotion) + 1, INTENSITIES.index(self.intensity) + 1,
                 self.statement, self.repetition, self.actor)
        return "-".join(f"{c:02d}" for c in codes)

    @property
    def subject(self) -> str:
        return f"Actor_{self.actor:02d}"

    @property
    def text(self) -> str:
        return STATEMENTS[self.statement - 1]

    def with_modality(self, modality: str) -> RavdessName:
        return RavdessName(modality, self.channel, self.emotion, self.intensity, self.statement,
                           self.repetition, self.actor)


def parse_ravdess_name(path: str | os.PathLike) -> RavdessName:
    """Decode a RAVDESS file name; raises ``DataError`` naming the file and the bad field."""
    stem = Path(path).stem
    parts = stem.split("-")
    if len(parts) != 7 or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise DataError(path, "not a RAVDESS name (expected seven two-digit fields MM-VV-EE-II-SS-RR-AA)")
    m, v, e, i, s, r, a = (int(p) for p in parts)

    def pick(table, code, what):
        if not 1 <= code <= len(table):
            raise DataError(path, f"{what} code {code:02d} is not one of 01…{len(table):02d}")
        return table[code - 1]

    try:
        return RavdessName(pick(MODALITIES, m, "modality"), pick(CHANNELS, v, "vocal channel"),
                           pick(EMOTIONS, e, "emotion"), pick(INTENSITIES, i, "intensity"), s, r, a)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(path, str(exc)) from None


def read_ravdess(root: str | os.PathLike, *, sample_rate: int | None = None, channel: str = "speech",
                 targets: TargetFn | None = None, stems: Sequence[str] | None = None) -> list[Clip]:
    """Read every audio-only (03) file of ``channel`` under ``root`` into Clips.

    Args:
        root: the dataset folder, searched recursively (``Audio_Speech_Actors_01-24/Actor_01/…`` and
            ``Video_Speech_Actor_01/Actor_01/…`` may both sit under it).
        sample_rate: resample to this rate (default: the file's, 48 kHz in RAVDESS).
        channel: "speech" or "song".
        targets: ``fn(video_path, name) -> (values (frames, dims), names, target_kind)`` run on
            the matching audio-video (01) file; its frames are at 29.97 fps.
        stems: read only the audio files with these stems (the others are not opened); a stem that is not there is
            a DataError.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "RAVDESS folder not found")
    code = f"03-{CHANNELS.index(channel) + 1:02d}-" if channel in CHANNELS else None
    if code is None:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    files = sorted(p for p in root.rglob(f"{code}*.wav"))
    if not files:
        raise DataError(root, f"no RAVDESS audio-only {channel} files ({code}*.wav)")
    if stems is not None:
        missing = sorted(set(stems) - {p.stem for p in files})
        if missing:
            raise DataError(root, f"no RAVDESS audio-only {channel} files {missing[:5]}")
        files = [p for p in files if p.stem in set(stems)]
    videos = {p.stem: p for p in root.rglob("01-*.mp4")} if targets is not None else {}
    clips = []
    for wav in files:
        name = parse_ravdess_name(wav)
        audio, rate = load_audio(wav, sample_rate)
        frames = expected_frames(audio.size, rate, RAVDESS_FPS)
        if targets is None:
            values, names, kind = np.zeros((frames, 0), np.float32), (), "landmarks2d"
        else:
            stem = name.with_modality("audio-video").stem
            if stem not in videos:  # RAVDESS ships audio and video in separate trees: search the whole root
                raise DataError(wav, f"no audio-video file {stem}.mp4 under {root}")
            video = videos[stem]
            values, names, kind = targets(video, name)
        clips.append(Clip(audio=audio, sample_rate=rate, targets=values, fps=RAVDESS_FPS, target_kind=kind,
                          channel_names=names, subject=name.subject, emotion=name.emotion,
                          intensity=name.intensity, text=name.text, source=str(wav), frame_tolerance=2))
    return clips
