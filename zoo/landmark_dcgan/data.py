"""Training examples of the landmark CNN and the DCGAN from RAVDESS-layout folders (spec §1, §2, §5.1).

Pairing (fixed, spec §9.9 and §9.13): every audio-only speech WAV (``03-01-…``, read by ``zoo.datasets.read_ravdess``
at 48 kHz mono: any rate is resampled, any channel count averaged) is paired *by name* with its audio-video (01)
video, else its video-only (02) one, in sorted order; the original listed files unsorted and paired images and
landmarks in different orders.

One trial (``Trial``) on the 30 ms grid (``config.grid``; ``landmarks.grid_indices``): the video gives grid frames
t_i < video duration, the audio ceil(samples / 1440) frames; the two counts may differ by at most
``MAX_GRID_MISMATCH`` frames (else one DataError naming both files: the audio and the video are not the same take)
and the trial keeps the common first N = min of them. The no-face policy (``config.no_face``: "skip" drops a frame
from the features *and* the landmarks; "interpolate" fills it) is applied to both arrays, whose counts are then
asserted equal (spec §9.6–9.7: the original could shift them against each other). The features are
``features.fft_features`` of the kept frames; the landmarks are ``landmarks.normalise(points, config.landmark_norm)``.

GAN images (``Trial.images``): the frames of every ``config.gan_frame_step``-th grid sample with a face (the
original's every 10th, 300 ms apart; 1 uses every frame): a face crop (``landmarks.crop_box`` of the frame's own
points, ``crop_scale`` × the box's larger side, resized to ``image_size``²) or, with ``legacy_frames``, the whole
frame squashed to ``image_size``² after a per-image contrast stretch (spec §5.3); uint8 RGB, with ``image_rows``:
their rows in ``features``/``landmarks``.

Extraction is cached under ``cache/<config hash>/<wav stem>-<audio hash>-<video hash>.npz`` (keyed by the landmark,
feature and image fields of the config, ``DATA_VERSION``, the audio samples and the video file; written atomically)
and runs in ``workers`` processes.
"""
from __future__ import annotations

import concurrent.futures
import io
import logging
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from zoo.core.modeldir import sha256_file
from zoo.datasets import DataError, atomic_write_bytes, config_hash, read_ravdess
from zoo.datasets.cache import audio_hash
from zoo.datasets.ravdess import parse_ravdess_name

from . import features as feats
from . import landmarks as lm
from .config import Config

log = logging.getLogger(__name__)

DATA_VERSION = 1  # bump when the extraction below changes its output
MAX_GRID_MISMATCH = 2  # grid frames the audio and the video of one trial may differ by (60 ms)
#: the config fields an extracted trial depends on (the cache key)
EXTRACTION_FIELDS = ("sample_rate", "frame_ms", "window_ms", "chunk", "chunks", "legacy_scaling", "log_magnitude",
                     "grid", "landmark_norm", "clahe", "upsample", "upscale", "multi_face", "no_face", "image_size",
                     "legacy_frames", "crop_scale", "gan_frame_step")


@dataclass(frozen=True)
class Trial:
    """One RAVDESS trial's aligned examples: ``features`` (N, 128, 23, 1) float32, ``landmarks`` (N, 136) float32
    normalised, ``points`` (N, 68, 2) float32 pixels, ``times_s`` (N,), ``images`` (K, S, S, 3) uint8 and
    ``image_rows`` (K,) int (rows of the N), labels, and the two files."""

    stem: str  # the audio file's stem (modality 03)
    actor: str  # "Actor_NN"
    emotion: str
    audio_path: str
    video_path: str
    features: np.ndarray
    landmarks: np.ndarray
    points: np.ndarray
    times_s: np.ndarray
    images: np.ndarray
    image_rows: np.ndarray
    dropped: int  # grid frames dropped by the no-face policy

    @property
    def frames(self) -> int:
        return len(self.landmarks)


def _video_of(wav: Path, videos: dict[str, Path], root: Path) -> Path:
    """The 01 video of the same name as ``wav``, else the 02 one; a DataError naming ``wav`` without either."""
    name = parse_ravdess_name(wav)
    for modality in ("audio-video", "video"):
        stem = name.with_modality(modality).stem
        if stem in videos:
            return videos[stem]
    raise DataError(wav, f"no video {name.with_modality('audio-video').stem}.mp4 or "
                         f"{name.with_modality('video').stem}.mp4 under {root}")


def extract_trial(clip, video: Path, config: Config, landmarker=None) -> Trial:
    """The aligned examples of one trial (module docstring): ``clip`` is its audio (``read_ravdess``, 48 kHz)."""
    wav = Path(clip.source)
    tracked, frames_rgb = lm.video_landmarks(video, config, landmarker=landmarker, keep_frames=True)
    audio_frames = feats.frame_count(clip.audio.size, config)
    if abs(audio_frames - len(tracked.times_s)) > MAX_GRID_MISMATCH:
        raise DataError(wav, f"{audio_frames} grid frames of audio but {len(tracked.times_s)} of video in {video} "
                             f"(more than {MAX_GRID_MISMATCH} apart: not the same take?)")
    n = min(audio_frames, len(tracked.times_s))
    keep, points = lm.apply_policy(tracked, config.no_face)  # points of the kept frames only
    rows = np.flatnonzero(keep[:n])
    features = feats.fft_features(clip.audio, config, frames=n)[rows]
    points = np.asarray(points, np.float32)[:len(rows)]
    landmarks = lm.normalise(points, config.landmark_norm).astype(np.float32)
    if not len(features) == len(landmarks) == len(rows):
        raise AssertionError(f"{wav}: {len(features)} feature frames but {len(landmarks)} landmark frames")
    found = tracked.found[rows]
    chosen = [k for k, row in enumerate(rows) if row % config.gan_frame_step == 0 and found[k]]
    size = config.image_size
    if config.legacy_frames:
        images = [lm.legacy_frame(frames_rgb[rows[k]], size) for k in chosen]
    else:
        images = [lm.crop_face(frames_rgb[rows[k]], lm.crop_box(points[k], config.crop_scale), size) for k in chosen]
    name = parse_ravdess_name(wav)
    return Trial(stem=wav.stem, actor=name.subject, emotion=name.emotion, audio_path=str(wav), video_path=str(video),
                 features=features, landmarks=landmarks, points=points,
                 times_s=np.asarray(tracked.times_s, np.float32)[rows],
                 images=np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8),
                 image_rows=np.asarray(chosen, np.int64), dropped=int(n - len(rows)))


def _npz_bytes(trial: Trial) -> bytes:
    buf = io.BytesIO()
    arrays = {k: getattr(trial, k) for k in ("features", "landmarks", "points", "times_s", "images", "image_rows")}
    np.savez(buf, **arrays, dropped=np.int64(trial.dropped))
    return buf.getvalue()


def _from_npz(data, wav: str, video: str) -> Trial:
    name = parse_ravdess_name(wav)
    return Trial(stem=Path(wav).stem, actor=name.subject, emotion=name.emotion, audio_path=str(wav),
                 video_path=str(video), features=data["features"], landmarks=data["landmarks"], points=data["points"],
                 times_s=data["times_s"], images=data["images"], image_rows=data["image_rows"],
                 dropped=int(data["dropped"]))


def _job(args) -> tuple[int, bytes]:
    index, clip, video, config_dict = args
    return index, _npz_bytes(extract_trial(clip, Path(video), Config.from_dict(config_dict)))


def load_trials(data_dir: str | os.PathLike, config: Config, *, stems: Sequence[str] | None = None,
                cache: str | os.PathLike | None = None, workers: int | None = None) -> list[Trial]:
    """The speech trials of the RAVDESS-layout folder ``data_dir`` in sorted order (``stems``: only these audio
    stems), extracted or read from ``cache``; ``workers`` processes (default: the CPU count, at most 4) extract the
    missing ones."""
    root = Path(data_dir)
    clips = read_ravdess(root, sample_rate=config.sample_rate, stems=stems)  # sorted, resampled, downmixed
    videos = {p.stem: p for p in root.rglob("0[12]-*.mp4")}
    pairs = [(clip, _video_of(Path(clip.source), videos, root)) for clip in clips]
    fields = {k: getattr(config, k) for k in EXTRACTION_FIELDS}
    folder = Path(cache) / config_hash({**fields, "version": DATA_VERSION}) if cache is not None else None

    # each trial's cache entry, hashed once (the audio samples and the video file)
    entries = [folder / f"{Path(clip.source).stem}-{audio_hash(clip)[:12]}-{sha256_file(video)[:12]}.npz"
               if folder is not None else None for clip, video in pairs]
    trials: list[Trial | None] = [None] * len(pairs)
    todo = []
    for i, ((clip, video), path) in enumerate(zip(pairs, entries)):
        if path is not None and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as data:
                    trials[i] = _from_npz(data, clip.source, str(video))
                continue
            except (OSError, ValueError, KeyError):
                log.warning("%s: unreadable cache entry, extracting again", path)
        todo.append((i, clip, str(video), config.to_dict()))
    if todo:
        workers = min(workers or min(os.cpu_count() or 1, 4), len(todo))
        log.info("extracting landmarks and features of %d trials in %d process(es)", len(todo), workers)
        if workers > 1:  # spawned: the parent may hold TensorFlow, which must not be forked
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                results = list(pool.map(_job, todo, chunksize=max(1, len(todo) // (4 * workers))))
        else:
            results = [_job(job) for job in todo]
        for index, blob in results:
            clip, video = pairs[index]
            with np.load(io.BytesIO(blob), allow_pickle=False) as data:
                trials[index] = _from_npz(data, clip.source, str(video))
            if entries[index] is not None:
                atomic_write_bytes(entries[index], blob)
    return trials  # type: ignore[return-value]


def speed_perturbed(trial: Trial, config: Config, factors: Sequence[float]) -> list[Trial]:
    """``trial`` with its speech played α times faster, one Trial per α of ``factors``
    (``features.speed_perturbed_features`` of its WAV, read once at ``config.sample_rate``) and the same landmarks at
    the same moments of speech: CNN training examples (no images; the frames the shorter audio no longer reaches are
    dropped)."""
    from zoo.datasets import load_audio

    audio, _ = load_audio(trial.audio_path, config.sample_rate)
    size = config.image_size
    out = []
    for factor in factors:
        try:
            features, kept = feats.speed_perturbed_features(audio, config, trial.times_s, factor)
        except ValueError as exc:
            raise DataError(trial.audio_path, str(exc)) from None
        out.append(replace(trial, features=features, landmarks=trial.landmarks[kept], points=trial.points[kept],
                           times_s=trial.times_s[kept], images=np.zeros((0, size, size, 3), np.uint8),
                           image_rows=np.zeros(0, np.int64)))
    return out


def speech_stems(data_dir: str | os.PathLike) -> list[str]:
    """The stems of the audio-only speech WAVs (03-01-*.wav) under ``data_dir`` sorted by path, from the names alone; a
    stem found twice is a DataError."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(root, "RAVDESS folder not found")
    stems = [p.stem for p in sorted(root.rglob("03-01-*.wav"))]  # sorted by path, as read_ravdess reads them
    if not stems:
        raise DataError(root, "no RAVDESS audio-only speech files (03-01-*.wav)")
    for stem in stems:
        parse_ravdess_name(stem)
    if len(set(stems)) != len(stems):
        twice = sorted({s for s in stems if stems.count(s) > 1})
        raise DataError(root, f"{twice[0]}.wav is there twice (one trial, one file)")
    return stems


def actor_of(stem: str) -> str:
    return parse_ravdess_name(stem).subject


def split_actors(stems: Sequence[str], *, test_actors: Sequence[str] | None = None,
                 val_actors: Sequence[str] | None = None, validation_fraction: float = 0.15,
                 seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    """(train, validation, test) trial stems, split by actor from the names alone (spec §9.9: the original had no
    speaker-independent split).

    Test: ``test_actors``, default the last max(1, round(n/6)) of the n actors in sorted order (RAVDESS' 24 → Actor_21…
    Actor_24); training never reads them. Validation: ``val_actors``, or else a seeded ``validation_fraction`` of the
    training actors' trials (by trial, never by frame).
    """
    stems = sorted(stems)
    actors = sorted({actor_of(s) for s in stems})
    test = list(test_actors) if test_actors is not None else actors[-max(1, round(len(actors) / 6)):]
    unknown = set(test) - set(actors) | set(val_actors or ()) - set(actors)
    if unknown:
        raise ValueError(f"actors {sorted(unknown)} are not in the data ({actors})")
    if val_actors is not None and set(val_actors) & set(test):
        raise ValueError(f"validation actors {sorted(set(val_actors) & set(test))} are also test actors")
    rest = [s for s in stems if actor_of(s) not in test]
    if val_actors is not None:
        val = [s for s in rest if actor_of(s) in val_actors]
        train = [s for s in rest if actor_of(s) not in val_actors]
    else:
        order = np.random.default_rng(seed).permutation(len(rest))
        chosen = set(order[:int(round(validation_fraction * len(rest))) if len(rest) > 1 else 0].tolist())
        val = [s for i, s in enumerate(rest) if i in chosen]
        train = [s for i, s in enumerate(rest) if i not in chosen]
    if not train:
        raise ValueError(f"no training trials left (actors {actors}, test {sorted(test)})")
    return train, val, [s for s in stems if actor_of(s) in test]


__all__ = ["Trial", "extract_trial", "load_trials", "speed_perturbed", "split_actors", "speech_stems", "actor_of",
           "DATA_VERSION", "MAX_GRID_MISMATCH", "EXTRACTION_FIELDS"]
