"""EveNet takes (specs/evenet.md §1.1): reader and writer.

A take is three files sharing a basename, one line per animation frame::

    <take>.dat   CSV, no header: the frame's shape-key values (data_dim floats)
    <take>.emo   one emotion label per line
    <take>.pho   one phoneme label per line (from the 56 ``PHONEME_CATEGORIES``)

``reader_config.json`` in the folder (the original's file) gives ``data_dim``, the suffixes
and the category lists. The original never fixed a column order or a frame rate; this
project's writer adds ``data_names`` (the shape-key names) and ``fps`` (48, the rate of the
original interactive demo) to the same file, and the reader uses them when present. Takes
have no audio in the original; a ``<take>.wav`` beside a take (the synthetic corpus writes
one) is read into the Clip.
"""
from __future__ import annotations

import json
import logging
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .audio import load_audio
from .clip import Clip
from .errors import DataError, LabelError

log = logging.getLogger(__name__)

EVENET_FPS = 48.0

# The master branch's reader_config.json list, in its order (SIL is index 47).
PHONEME_CATEGORIES: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AX", "AXR", "AY", "B", "CH", "D", "DD", "DX", "DH", "EH", "ER", "EY", "F", "G",
    "HH", "IH", "IX", "IY", "JH", "K", "KD", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TD", "TH",
    "TS", "UH", "UW", "V", "W", "Y", "Z", "ZH", "SIL", "+LAUGHTER+", "+LIPSMACK+", "+GARBAGE+", "+BREATHING+",
    "b", "i", "e", "s",
)
SILENCE = "SIL"

# EveNet's 11-emotion list (neutral at index 5), and its labels for the 8 RAVDESS emotions.
EMOTION_CATEGORIES: tuple[str, ...] = (
    "Anger", "Excited", "Fearful", "Frustration", "Happy", "Neutral", "Sadness", "Surprise", "Disgusted", "Other",
    "Undefined",
)
# RAVDESS "calm" has no EveNet label; this project appends "Calm" to the categories it writes.
WRITTEN_EMOTION_CATEGORIES = EMOTION_CATEGORIES + ("Calm",)
FROM_RAVDESS = {"neutral": "Neutral", "calm": "Calm", "happy": "Happy", "sad": "Sadness", "angry": "Anger",
                "fearful": "Fearful", "disgust": "Disgusted", "surprised": "Surprise"}
TO_RAVDESS = {"Neutral": "neutral", "Happy": "happy", "Sadness": "sad", "Anger": "angry", "Fearful": "fearful",
              "Disgusted": "disgust", "Surprise": "surprised", "Calm": "calm"}

# espeak-ng IPA (stress and length marks removed) → the ARPAbet-style categories above.
_IPA_TO_CATEGORY = {
    "ɑ": "AA", "ɒ": "AA", "a": "AA", "æ": "AE", "ʌ": "AH", "ɐ": "AH", "ɔ": "AO", "aʊ": "AW", "ə": "AX", "ɚ": "AXR",
    "aɪ": "AY", "b": "B", "tʃ": "CH", "d": "D", "ɾ": "DX", "ð": "DH", "ɛ": "EH", "e": "EH", "ɜ": "ER", "eɪ": "EY",
    "f": "F", "ɡ": "G", "g": "G", "h": "HH", "ɪ": "IH", "ᵻ": "IX", "i": "IY", "dʒ": "JH", "k": "K", "l": "L",
    "ɫ": "L", "m": "M", "n": "N", "ŋ": "NG", "o": "OW", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY", "p": "P", "ɹ": "R",
    "r": "R", "s": "S", "ʃ": "SH", "t": "T", "ʔ": "TD", "θ": "TH", "ts": "TS", "ʊ": "UH", "u": "UW", "v": "V",
    "w": "W", "j": "Y", "z": "Z", "ʒ": "ZH", "_": SILENCE, "": SILENCE,
}


def ipa_to_category(label: str) -> str:
    """The EveNet phoneme category of an espeak-ng IPA label.

    Stress (ˈ ˌ), length (ː ˑ) and syllabic/tie marks are dropped; the longest known prefix
    wins (so ``ɑːɹ`` → AA, ``n̩`` → N); anything unknown is SIL.
    """
    text = "".join(c for c in unicodedata.normalize("NFD", label)
                   if c not in "ˈˌːˑ'\u0329\u0361\u035c" and not unicodedata.combining(c))
    for end in range(len(text), 0, -1):
        if text[:end] in _IPA_TO_CATEGORY:
            return _IPA_TO_CATEGORY[text[:end]]
    if text:
        log.debug("no EveNet category for IPA %r; using SIL", label)
    return SILENCE


def phoneme_frames(phonemes: Sequence[tuple[float, float, str]], num_frames: int, fps: float) -> list[str]:
    """Per-frame categories: frame i takes the phoneme whose [start, end) holds t = i / fps, else SIL."""
    times = np.arange(num_frames) / float(fps)
    labels = [SILENCE] * num_frames
    for start, end, label in phonemes:
        for i in np.flatnonzero((times >= start) & (times < end)):
            labels[i] = ipa_to_category(label)
    return labels


def frames_to_segments(labels: Sequence[str], fps: float) -> tuple[tuple[float, float, str], ...]:
    """Runs of equal per-frame labels as (start_s, end_s, label), SIL runs dropped."""
    segments, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            if labels[start] != SILENCE:
                segments.append((start / fps, i / fps, labels[start]))
            start = i
    return tuple(segments)


def default_reader_config(data_names: Sequence[str], fps: float = EVENET_FPS) -> dict:
    """reader_config.json in the original's keys, plus this project's ``data_names`` and ``fps``."""
    return {
        "data_suffix": ".dat", "data_dim": len(data_names),
        "emotion_enabled": True, "emotion_dim": 1, "emotion_suffix": ".emo",
        "emotion_categories": list(WRITTEN_EMOTION_CATEGORIES),
        "phoneme_enabled": True, "phoneme_dim": 1, "phoneme_suffix": ".pho",
        "phoneme_categories": list(PHONEME_CATEGORIES),
        "data_names": list(data_names), "fps": fps,
    }


def write_evenet_take(folder: str | os.PathLike, take: str, values: np.ndarray, phonemes: Sequence[str],
                      emotions: Sequence[str]) -> Path:
    """Write ``<take>.dat/.emo/.pho`` (one line per frame); returns the .dat path.

    ``values`` (frames, data_dim) is written with 6 decimals; labels must be known categories.
    """
    folder = Path(folder)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or not (len(phonemes) == len(emotions) == len(values)):
        raise ValueError(f"{take}: {values.shape} values, {len(phonemes)} phoneme and {len(emotions)} emotion labels")
    unknown = sorted(set(phonemes) - set(PHONEME_CATEGORIES)) + sorted(set(emotions) - set(WRITTEN_EMOTION_CATEGORIES))
    if unknown:
        raise ValueError(f"{take}: labels outside the EveNet categories: {unknown}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{take}.dat").write_text("".join(",".join(f"{v:.6f}" for v in row) + "\n" for row in values))
    (folder / f"{take}.pho").write_text("".join(f"{p}\n" for p in phonemes))
    (folder / f"{take}.emo").write_text("".join(f"{e}\n" for e in emotions))
    return folder / f"{take}.dat"


def _read_lines(path: Path, what: str) -> list[str]:
    if not path.is_file():
        raise LabelError(path, f"{what} file not found")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class EvenetTake(NamedTuple):
    """One take: its Clip and the per-frame labels exactly as its .emo/.pho lines give them."""

    clip: Clip
    emotions: tuple[str, ...]
    phonemes: tuple[str, ...]


def read_evenet(folder: str | os.PathLike, *, fps: float | None = None, data_names: Sequence[str] | None = None,
                sample_rate: int | None = None, subject: str = "") -> list[Clip]:
    """Read every take (``*.dat`` with its ``.emo``/``.pho``) in ``folder`` into Clips.

    Targets are the shape keys (``target_kind="shape_keys"``), named by ``data_names`` or the
    config's ``data_names`` (else ``key0…``); ``phonemes`` are the runs of the per-frame
    labels; ``emotion`` is the take's RAVDESS emotion when every frame carries one label that
    maps to it. ``fps`` defaults to the config's, else 48.
    """
    return [take.clip for take in read_evenet_takes(folder, fps=fps, data_names=data_names,
                                                    sample_rate=sample_rate, subject=subject)]


def reader_config(folder: str | os.PathLike) -> dict:
    """The folder's reader_config.json ({} when absent; a DataError names the file when it is not JSON)."""
    path = Path(folder) / "reader_config.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(path, f"invalid JSON ({exc})") from None


def read_evenet_takes(folder: str | os.PathLike, *, fps: float | None = None,
                      data_names: Sequence[str] | None = None, sample_rate: int | None = None,
                      subject: str = "") -> list[EvenetTake]:
    """``read_evenet`` with each take's per-frame emotion and phoneme labels (what EveNet trains on)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "EveNet folder not found")
    config = reader_config(folder)
    fps = float(fps or config.get("fps", EVENET_FPS))
    names = tuple(data_names or config.get("data_names") or ())
    dat_suffix = config.get("data_suffix", ".dat")
    takes = sorted(folder.glob(f"*{dat_suffix}"))
    if not takes:
        raise DataError(folder, f"no takes (*{dat_suffix})")
    clips = []
    for dat in takes:
        stem = dat.name[: -len(dat_suffix)]
        try:
            values = np.loadtxt(dat, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as exc:
            raise LabelError(dat, f"malformed CSV ({exc})") from None
        if values.size == 0:
            raise LabelError(dat, "no frames")
        take_names = names or tuple(f"key{i}" for i in range(values.shape[1]))
        if len(take_names) != values.shape[1]:
            raise LabelError(dat, f"{values.shape[1]} columns but {len(take_names)} shape-key names")
        if "data_dim" in config and int(config["data_dim"]) != values.shape[1]:
            raise LabelError(dat, f"{values.shape[1]} columns but reader_config.json says "
                                  f"data_dim {config['data_dim']}")
        pho = _read_lines(folder / f"{stem}{config.get('phoneme_suffix', '.pho')}", "phoneme")
        emo = _read_lines(folder / f"{stem}{config.get('emotion_suffix', '.emo')}", "emotion")
        for labels, what, path_suffix in ((pho, "phoneme", ".pho"), (emo, "emotion", ".emo")):
            if len(labels) != len(values):
                raise LabelError(folder / f"{stem}{path_suffix}",
                                 f"{len(labels)} {what} lines but {dat.name} has {len(values)} frames")
        bad = sorted(set(pho) - set(config.get("phoneme_categories", PHONEME_CATEGORIES)))
        if bad:
            raise LabelError(folder / f"{stem}.pho", f"unknown phoneme labels {bad[:5]}")
        bad = sorted(set(emo) - set(config.get("emotion_categories", WRITTEN_EMOTION_CATEGORIES)))
        if bad:
            raise LabelError(folder / f"{stem}.emo", f"unknown emotion labels {bad[:5]}")
        emotions = set(emo)
        emotion = TO_RAVDESS.get(emo[0]) if len(emotions) == 1 else None
        wav = folder / f"{stem}.wav"
        audio, rate = load_audio(wav, sample_rate) if wav.is_file() else (None, None)
        clips.append(EvenetTake(Clip(
            audio=audio, sample_rate=rate, targets=values, fps=fps, target_kind="shape_keys",
            channel_names=take_names, subject=subject, emotion=emotion,
            phonemes=frames_to_segments(pho, fps), source=str(dat), frame_tolerance=1,
        ), tuple(emo), tuple(pho)))
    return clips
