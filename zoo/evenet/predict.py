"""Prediction: a phoneme/emotion schedule (from text, from speech with its transcript, or given) → named
shape-key curves at 48 fps, generated autoregressively (``generate``: fast by default).

* ``Predictor.load(model_dir)`` reads a model directory (``zoo.core.modeldir``).
* ``predict(text=…)``: espeak-ng speaks the text (``timeline.text_timeline``) and its phoneme timeline, mapped
  to the 56 categories at 48 fps, is the schedule; ``predict(audio=…, transcript=…)``: the transcript is
  aligned to the recording (``timeline.align_transcript``) and that timeline is the schedule.
* ``generate(emotion, phoneme_ids)``: frames for a per-frame schedule of phoneme ids.
* ``streamer()``: a ``generate.Stream`` for live use (``zoo.evenet.live``): one frame per call.

Emotion: an EveNet label of the model's categories ("Happy"), a RAVDESS name ("happy"), an id, or a per-frame
array of ids.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from zoo.core.animation import Animation
from zoo.core.modeldir import ModelDir, ModelDirError, load_weights, read_model_dir
from zoo.datasets.evenet import FROM_RAVDESS

from .config import NEUTRAL_ID, Config


def metadata_of(config: Config) -> dict:
    """The model-directory metadata every EveNet model carries (``zoo.core.modeldir`` schema). EveNet has no
    audio input: ``sample_rate`` is None and the window is the receptive field in seconds."""
    return {"model": "evenet", "preset": config.preset, "output_names": list(config.names), "sample_rate": None,
            "fps": config.fps, "window_seconds": config.context / config.steps_per_frame / config.fps,
            "lookahead_seconds": 0.0, "lineage": config.lineage, "receptive_field": config.receptive_field,
            "emotion_categories": list(config.emotion_categories)}


def read_config(model_dir: ModelDir) -> Config:
    """The Config of a model directory; a ModelDirError names the file and the cause."""
    where = model_dir.path / "config.json"
    try:
        return Config.from_dict(dict(model_dir.config))
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"{where}: {exc}") from None


class Predictor:
    """A trained EveNet model and its fast generator."""

    def __init__(self, model, config: Config, metadata: dict | None = None):
        from .generate import Generator

        self.model, self.config, self.metadata = model, config, dict(metadata or {})
        self.generator = Generator(model)
        self.names = config.names

    @classmethod
    def load(cls, model_dir: str | os.PathLike) -> Predictor:
        from .model import WaveNet

        folder = read_model_dir(model_dir, model="evenet")
        config = read_config(folder)
        model = WaveNet(config)
        model(model.example_inputs())
        load_weights(model, folder)
        return cls(model, config, folder.metadata)

    # ------------------------------------------------------------------ labels
    def emotion_id(self, emotion) -> int:
        """An emotion as the model's category id (module docstring); a ValueError lists the categories."""
        categories = self.config.emotion_categories
        if emotion is None:
            return categories.index("Neutral") if "Neutral" in categories else min(NEUTRAL_ID, len(categories) - 1)
        if isinstance(emotion, (int, np.integer)):
            if not 0 <= int(emotion) < len(categories):
                raise ValueError(f"emotion id {emotion} outside 0…{len(categories) - 1}")
            return int(emotion)
        return self.config.emotion_index(emotion)

    def emotion_schedule(self, emotion, frames: int) -> np.ndarray:
        if isinstance(emotion, (np.ndarray, list, tuple)) and not isinstance(emotion, str):
            ids = np.asarray([self.emotion_id(e) for e in emotion], np.int32)
            if len(ids) != frames:
                raise ValueError(f"{len(ids)} emotion ids for {frames} frames")
            return ids
        return np.full(frames, self.emotion_id(emotion), np.int32)

    # ------------------------------------------------------------------ generation
    def generate(self, emotion, phoneme_ids: Sequence[int], *, fast: bool = True) -> Animation:
        """Frames for the per-frame phoneme ids (and emotion), as named curves at the model's fps."""
        phoneme_ids = np.asarray(phoneme_ids, np.int32)
        if phoneme_ids.ndim != 1 or not len(phoneme_ids):
            raise ValueError(f"phoneme_ids must be a non-empty 1-D schedule, got shape {phoneme_ids.shape}")
        emotions = self.emotion_schedule(emotion, len(phoneme_ids))
        run = self.generator.fast if fast else self.generator.naive
        return Animation(run(emotions, phoneme_ids), self.names, self.config.fps)

    def timeline(self, text: str | None = None, *, audio=None, sample_rate: int | None = None,
                 transcript: str | None = None, voice: str = "female_warm", emotion: str = "neutral"):
        """The ``timeline.Timeline`` of text (espeak-ng) or of a recording (path or array) with its transcript."""
        from zoo.datasets import load_audio

        from .timeline import align_transcript, text_timeline

        if (text is None) == (audio is None):
            raise ValueError("give either text or audio (with its transcript)")
        if text is not None:
            return text_timeline(text, voice=voice, emotion=emotion if emotion in FROM_RAVDESS else "neutral",
                                 fps=self.config.fps)
        if not transcript:
            raise ValueError("audio needs its transcript (the words spoken) to be aligned")
        if isinstance(audio, (str, os.PathLike)):
            audio, sample_rate = load_audio(audio)
        return align_transcript(audio, sample_rate, transcript, voice=voice, fps=self.config.fps)

    def predict(self, text: str | None = None, *, audio=None, sample_rate: int | None = None,
                transcript: str | None = None, emotion=None, voice: str = "female_warm", fast: bool = True):
        """(Animation, Timeline): shape keys generated from the phoneme timeline of ``text`` or of ``audio`` +
        ``transcript``, with ``emotion`` (module docstring)."""
        spoken = emotion if isinstance(emotion, str) and emotion in FROM_RAVDESS else "neutral"
        timeline = self.timeline(text, audio=audio, sample_rate=sample_rate, transcript=transcript, voice=voice,
                                 emotion=spoken)
        return self.generate(emotion, timeline.phoneme_ids(), fast=fast), timeline

    def streamer(self, seed=None):
        """A live ``generate.Stream``: ``next(emotion_id, phoneme_id)`` → the next frame (D,)."""
        return self.generator.stream(seed)


def evaluate(model_dir: str | os.PathLike, data_dir, takes: Sequence[str] | None = None,
             shuffle_seed: int | None = None) -> tuple[dict, dict[str, Animation]]:
    """Held-out measures (``metrics``) of a model directory on takes of an EveNet folder (default: the model's
    recorded test takes, else its validation takes): teacher-forced RMSE beside the repeat-last and mean-pose
    baselines, free-running generation from each take's own label schedule, and the shuffled-timeline control.
    Returns (figures, {take: the generated Animation})."""
    from .metrics import SHUFFLE_SEED, between_take_share, free_running, shuffle_runs, teacher_forced, within_take_r
    from .train import label_ids, predict_teacher_forced, read_takes, take_sequence

    predictor = Predictor.load(model_dir)
    config, meta = predictor.config, predictor.metadata
    names = list(takes or meta.get("test_takes") or meta.get("val_takes") or [])
    chosen = [t for t in read_takes(data_dir)[0] if t.clip.name in set(names)]
    if not chosen:
        raise ValueError(f"none of the takes {names[:3]}… is in {data_dir}")
    mean_pose = np.asarray(meta.get("mean_pose") or np.mean([t.clip.targets.mean(0) for t in chosen], 0))
    rng = np.random.default_rng(SHUFFLE_SEED if shuffle_seed is None else shuffle_seed)
    labels = [label_ids(config, t) for t in chosen]
    refs = [t.clip.with_channels(config.names).targets for t in chosen]
    sequences = [take_sequence(config, t.clip.name, r, *ids) for t, r, ids in zip(chosen, refs, labels)]
    forced = teacher_forced(predict_teacher_forced(predictor.model, config, sequences), refs, mean_pose)
    generated = [predictor.generator.fast(e, p) for e, p in labels]
    shuffled = [predictor.generator.fast(e, shuffle_runs(p, rng)) for e, p in labels]
    free = free_running(generated, refs, config.names, mean_pose)
    mouth = free.subsets["mouth"].channels if "mouth" in free.subsets else ()
    figures = {"takes": [t.clip.name for t in chosen], "frames": int(sum(len(r) for r in refs)),
               "teacher_forced": forced,
               "free_running": {**free.summary(), "mouth_r_within": within_take_r(generated, refs, config.names)},
               "shuffled": {**free_running(shuffled, refs, config.names, mean_pose).summary(),
                            "mouth_r_within": within_take_r(shuffled, refs, config.names),
                            "between_take_share": between_take_share(refs, config.names)},
               "mouth_keys": list(mouth), "mouth_key_r": {k: round(free.per_channel_r[k], 4) for k in mouth}}
    return figures, {t.clip.name: Animation(g, config.names, config.fps) for t, g in zip(chosen, generated)}
