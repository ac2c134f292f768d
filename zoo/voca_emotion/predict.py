"""Prediction: audio (any rate, channels, sample format) + a subject condition + a template → vertices at 60 fps.

* ``Predictor.load(model_dir)`` reads a model directory (``zoo.core.modeldir``): the network, the training
  subjects' templates (``templates.npy``, (S, V, 3) metres) and, where known, the mesh's faces (``faces.npy``).
* ``predict(audio, subject=…, template=…)`` → ``zoo.core.Animation`` of the flattened vertices (T, 3V) at 60 fps
  (channel names ``v0.x, v0.y, …``; ``.values.reshape(T, V, 3)`` gives the meshes), T = round(seconds × 60).
* Subjects are 0-based (index k is ``config.subjects[k]``) and may be named. Style interpolation as the
  original's ``inference_interpolate_styles``: ``{0: 0.5, 2: 0.5}`` (or ``"0:0.5,2:0.5"``) runs the network once
  per subject with a non-zero weight and blends the outputs with the weights normalised to sum 1.
* Without ``template`` the chosen subject's own training template is used (of a blend: the first subject's).
* Emotion (approach 2, ``emotion.merge``): ``predict(..., emotion="happy", intensity=0.7)`` adds α(t)·Δₑ to every
  frame, α an ease-in/out ramp (``emotion.ramp``, 12 frames = 0.2 s each by default) peaking at ``intensity``,
  optionally on the upper face only. Δₑ comes from ``emotion_basis``: the corpus's overlays through its linear basis
  on the corpus mesh, or E·ψₑ of a user's FLAME model (``flame=path``) on FLAME's.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from zoo.core.animation import Animation
from zoo.core.modeldir import ModelDir, ModelDirError, load_weights, read_model_dir
from zoo.datasets import load_audio
from zoo.datasets.vocaset import vertex_channel_names

from . import features as feats
from .config import Config


def metadata_of(config: Config) -> dict:
    """The model-directory metadata every VOCA model carries (``zoo.core.modeldir`` schema): the window is 16
    frames at 60 fps centred on the frame (8 before, 7 after)."""
    return {"model": "voca_emotion", "preset": config.preset, "output_names": ["vertices"],
            "sample_rate": feats.SAMPLE_RATE, "fps": feats.FPS,
            "window_seconds": feats.WINDOW_FRAMES / feats.FPS, "lookahead_seconds": (feats.PAD_ROWS - 1) / feats.FPS,
            "audio_feature": config.audio_feature, "subjects": list(config.subjects),
            "num_vertices": config.num_vertices}


def feature_windows(audio: np.ndarray, sample_rate: int, kind: str) -> np.ndarray:
    """(N, 16, F) windows of float mono ``audio`` at any rate, N = round(seconds × 60): the MFCC/log-mel front end
    (``features.clip_windows``) or one-hot phones from pocketsphinx (``phones.phone_frames``, F = 40)."""
    if kind == "phones":
        from .phones import phone_frames

        return feats.stack_windows(phone_frames(audio, sample_rate))
    return feats.clip_windows(audio, sample_rate, kind)


def read_config(model_dir: ModelDir) -> Config:
    """The Config of a model directory; a ModelDirError names the file and the cause."""
    try:
        return Config.from_dict(dict(model_dir.config))
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"{model_dir.path / 'config.json'}: {exc}") from None


def subject_weights(config: Config, subject) -> dict[int, float]:
    """{0-based subject index: weight} with the weights normalised to sum 1, from an index, a name, a mapping
    or the text ``"0:0.5,2:0.5"``; a ValueError names what is wrong."""
    if isinstance(subject, str) and ":" in subject:
        pairs = []
        for part in subject.split(","):
            key, _, value = part.partition(":")
            try:
                pairs.append((key.strip(), float(value)))
            except ValueError:
                raise ValueError(f"subject weights must read 'index:weight,…', got {subject!r}") from None
    elif isinstance(subject, Mapping):
        pairs = list(subject.items())
    else:
        return {config.subject_index(subject): 1.0}
    weights: dict[int, float] = {}
    for key, value in pairs:  # a subject named twice (by index or name) adds its weights up
        index = config.subject_index(key)
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"subject weight of {key!r} must be a finite number ≥ 0, got {value}")
        weights[index] = weights.get(index, 0.0) + float(value)
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("subject weights sum to 0")
    return {k: v / total for k, v in sorted(weights.items()) if v > 0}


class Predictor:
    """A trained VOCA model with its training subjects' templates."""

    def __init__(self, model, config: Config, templates: np.ndarray, faces: np.ndarray | None = None,
                 metadata: dict | None = None, batch_size: int = 256):
        from zoo.core.runners import KerasRunner

        self.model, self.config, self.metadata = model, config, dict(metadata or {})
        self.templates = np.asarray(templates, np.float32)
        if self.templates.shape != (config.num_subjects, config.num_vertices, 3):
            raise ValueError(f"templates have shape {self.templates.shape}, the model needs "
                             f"({config.num_subjects}, {config.num_vertices}, 3)")
        self.faces = None if faces is None else np.asarray(faces, np.int32)
        self.runner = KerasRunner(model, batch_size)
        self.names = vertex_channel_names(config.num_vertices)

    @classmethod
    def load(cls, model_dir: str | os.PathLike, **kwargs) -> Predictor:
        from .model import build_model

        folder = read_model_dir(model_dir, model="voca_emotion")
        config = read_config(folder)
        folder.check_array("templates", (config.num_subjects, config.num_vertices, 3),
                           "the training subjects' templates")
        model = build_model(config)
        load_weights(model, folder)
        return cls(model, config, folder.array("templates"), folder.array("faces"), folder.metadata, **kwargs)

    # ------------------------------------------------------------------ inputs
    def windows(self, audio, sample_rate: int | None = None) -> np.ndarray:
        """(T, 16, F) feature windows of ``audio`` (a path, or a float array at ``sample_rate``), T = round(s × 60)."""
        if isinstance(audio, (str, os.PathLike)):
            audio, sample_rate = load_audio(audio)
        if sample_rate is None:
            raise ValueError("sample_rate is needed with an audio array")
        return feature_windows(np.asarray(audio, np.float32), int(sample_rate), self.config.audio_feature)

    def template(self, template=None, subject: int = 0) -> np.ndarray:
        """(V, 3) template: the given array, else training subject ``subject``'s."""
        if template is None:
            return self.templates[subject]
        template = np.asarray(template, np.float32)
        if template.shape != (self.config.num_vertices, 3) or not np.isfinite(template).all():
            raise ValueError(f"template must be a finite ({self.config.num_vertices}, 3) array, got {template.shape}")
        return template

    # ------------------------------------------------------------------ network
    def run(self, windows: np.ndarray, subject: int, template: np.ndarray) -> np.ndarray:
        """(T, V, 3) vertices of one subject condition (0-based) for (T, 16, F) windows and a (V, 3) template."""
        from .model import one_hot

        t = len(windows)
        condition = np.repeat(one_hot([subject], self.config.num_subjects), t, axis=0)
        tiled = np.broadcast_to(template, (t, *template.shape))  # a view: the runner copies one batch at a time
        return self.runner(np.asarray(windows, np.float32), condition, tiled)

    def vertices(self, windows: np.ndarray, subject=0, template=None) -> np.ndarray:
        """(T, V, 3): the blend Σ_k w_k · run(windows, k, template) over ``subject_weights(subject)``."""
        weights = subject_weights(self.config, subject)
        tpl = self.template(template, next(iter(weights)))
        if len(weights) == 1:  # one style: no blend (and no copy)
            return self.run(windows, next(iter(weights)), tpl)
        return sum(w * self.run(windows, k, tpl) for k, w in weights.items()).astype(np.float32)

    def emotion_basis(self, flame=None):
        """The ``emotion.EmotionBasis`` of this model's mesh: E·ψ of the FLAME model at ``flame`` (a path), else the
        synthetic corpus's on its mesh; a ValueError for another mesh without ``flame``."""
        from .emotion import EmotionBasis

        basis = (EmotionBasis.from_flame(flame) if flame is not None
                 else EmotionBasis.from_corpus() if self.config.num_vertices == _corpus_vertices() else None)
        if basis is None:
            raise ValueError(f"no emotion basis for a {self.config.num_vertices}-vertex mesh: give a FLAME model "
                             "(the corpus's basis fits only its own mesh)")
        if basis.num_vertices != self.config.num_vertices:
            raise ValueError(f"the emotion basis has {basis.num_vertices} vertices, the model "
                             f"{self.config.num_vertices}")
        return basis

    def with_emotion(self, vertices: np.ndarray, emotion: str, *, intensity: float = 1.0, ease_frames: int = 12,
                     upper_face_only: bool = False, flame=None) -> np.ndarray:
        """(T, V, 3) ``vertices`` + α(t)·Δₑ (``emotion.merge``); ``upper_face_only`` masks Δ to the corpus mesh's
        upper face (``geometry.UPPER_FACE_VERTICES``)."""
        from .emotion import ramp

        mask = None
        if upper_face_only:
            if self.config.num_vertices != _corpus_vertices():
                raise ValueError("the upper-face mask is declared for the synthetic corpus's mesh only")
            from zoo.datasets.synthetic.geometry import UPPER_FACE_VERTICES as mask
        alpha = ramp(len(vertices), intensity=intensity, ease_in=ease_frames, ease_out=ease_frames)
        return self.emotion_basis(flame).apply(vertices, emotion, alpha, mask)

    def predict(self, audio, sample_rate: int | None = None, *, subject=0, template=None, emotion: str | None = None,
                intensity: float = 1.0, ease_frames: int = 12, upper_face_only: bool = False,
                flame=None) -> Animation:
        """Vertices of ``audio`` as an Animation (T, 3V) at 60 fps; see the module docstring."""
        verts = self.vertices(self.windows(audio, sample_rate), subject, template)
        if emotion is not None:
            verts = self.with_emotion(verts, emotion, intensity=intensity, ease_frames=ease_frames,
                                      upper_face_only=upper_face_only, flame=flame)
        return Animation(verts.reshape(len(verts), -1), self.names, feats.FPS)


def evaluate(model_dir: str | os.PathLike, data_dir, *, subjects=None, sentences=None, shuffle_seed: int | None = None):
    """Held-out measures (``metrics.evaluate_sequences``) of a model directory on VOCASET-layout or RAVDESS-derived
    sequences (``train.read_meshes``; default:
    the model's recorded test sequences): unseen subjects are run under every training condition and the measures
    averaged over conditions (the original's validation); training subjects under their own. With
    ``shuffle_seed`` the audio windows of each sequence are permuted in time (the shuffled-audio control).
    Returns (figures, {sequence: (T, V, 3) prediction of the first condition})."""
    from .train import read_meshes

    predictor = Predictor.load(model_dir)
    config, meta = predictor.config, predictor.metadata
    names = sentences if sentences is not None else meta.get("test_sequences") or meta.get("val_sequences")
    if not names:
        raise ValueError("no sequences to evaluate: give them, or a model with recorded test/val sequences")
    names = set(names)
    clips, templates = read_meshes(data_dir)
    clips = [c for c in clips if sequence_name(c) in names and (subjects is None or c.subject in subjects)]
    if not clips:
        raise ValueError(f"none of the sequences {sorted(names)[:3]}… is in {data_dir}")
    rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
    preds, gts, tpls, shown = [], [], [], {}
    for clip in clips:
        windows = predictor.windows(clip.audio, clip.sample_rate)[: clip.num_frames]
        if rng is not None:
            windows = windows[rng.permutation(len(windows))]
        tpl = templates[clip.subject]
        conditions = ([config.subjects.index(clip.subject)] if clip.subject in config.subjects
                      else list(range(config.num_subjects)))
        gt = clip.targets.reshape(clip.num_frames, -1, 3)
        for k in conditions:
            preds.append(predictor.run(windows, k, tpl))
            gts.append(gt)
            tpls.append(tpl)
        shown[sequence_name(clip)] = preds[-len(conditions)]
    figures = measures(preds, gts, tpls)
    figures["sequences"] = sorted(shown)
    return figures, shown


def sequence_name(clip) -> str:
    """``subject/sentence`` of a VOCASET clip (its source ends with ``::subject/sentence``)."""
    return str(clip.source).rsplit("::", 1)[-1]


def _corpus_vertices() -> int:
    """The vertex count of the synthetic corpus's mesh (its masks and emotion basis fit only it)."""
    from zoo.datasets.synthetic.geometry import NUM_VERTICES

    return NUM_VERTICES


def measures(preds, gts, templates) -> dict:
    """``metrics.evaluate_sequences`` with the synthetic corpus' lip and upper-face masks where the mesh is the
    corpus's; on another mesh (no declared masks) only the mean vertex error, of the model and of the template."""
    from .metrics import corpus_masks, evaluate_sequences, mean_vertex_error

    if np.shape(gts[0])[1] == _corpus_vertices():
        return evaluate_sequences(preds, gts, templates, **corpus_masks())
    frames = [np.asarray(g).shape[0] for g in gts]
    mve = lambda ps: float(np.average([mean_vertex_error(p, g) for p, g in zip(ps, gts)], weights=frames))  # noqa: E731
    base = [np.broadcast_to(t, np.shape(g)) for t, g in zip(templates, gts)]
    return {"num_sequences": len(gts), "num_frames": {"60fps": int(sum(frames))},
            "60fps": {"model": {"mve_m": mve(preds)}, "baseline": {"mve_m": mve(base)}}}


def validation_numbers(figures: dict) -> dict:
    """The numbers a training history keeps from ``measures``: LVE in mm², MVE in mm, lip-opening r (pooled)."""
    model = figures["60fps"]["model"]
    out = {"mve": model["mve_m"] * 1e3}
    if "lve_m2" in model:
        out.update(lve=model["lve_m2"] * 1e6, lip_r=model["lip_r_pooled"])
    return out


__all__ = ["Predictor", "evaluate", "feature_windows", "metadata_of", "subject_weights", "sequence_name", "measures",
           "validation_numbers"]
