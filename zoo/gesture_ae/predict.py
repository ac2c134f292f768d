"""Prediction of Aud2Repr2Pose: speech audio alone → body motion at 20 fps (spec §4, §10.8, §10.9).

* ``Predictor.load(model_dir)`` reads a model directory (``zoo.core.modeldir``): config.json, one
  model.weights.h5 holding SpeechE and (proposed, genea2020) the DAE, metadata.json with the skeleton as JSON, and
  ``mean_pose.npy`` (the training frames' mean positions, (3N,) cm: the mean-pose baseline) [+ ``base_values.npy``,
  the training mean of every BVH channel, for the rotation representation].
* ``predict(audio, sample_rate=None, smooth=None)``: ``audio`` a path (any format/rate/channels
  ``zoo.datasets.load_audio`` reads) or a float array at ``sample_rate``; resampled to the model's rate (44.1 kHz).
  Audio only: no BVH is needed (the original built test inputs with the motion, spec §10.9). T_out = the number
  of feature frames (MFCC: ⌊T_100 / 5⌋, one per 50 ms), every frame through SpeechE and the DAE decoder one by one
  (the original's fixed batches of 8 dropped up to 7 frames, §10.8). Returns a ``zoo.core.animation.Animation`` at
  20 fps of the positions (T, 3N) in cm named ``Hips.x, Hips.y, …`` (the root fixed at its offset); for the
  rotation representation (genea2020) the exp-maps ``Hips.ex, …`` of ``motion.ROTATION_JOINTS`` first, then the
  positions forward-kinematics gives from them.
* ``smooth``: None = the model's own post-processing (Savitzky–Golay for genea2020: ``config.savgol_window/order``;
  none otherwise), ``"none"``, or one of ``smoothing.SMOOTHERS`` (one-euro, moving average, Savitzky–Golay), on the
  positions (the original filtered its position files) or, for rotations, on the exp-maps before FK.
* ``write_motion(animation, path)`` by suffix: ``.txt`` the original's (T, 3N) positions, space-separated, one
  frame a line (``'%.18e'``, as ``np.savetxt``); ``.npy`` the same (T, 3N) float32 array; ``.bvh`` through
  ``motion.py`` (positions → inverse kinematics on the model's skeleton; rotations directly) at 20 fps.
* ``evaluate(model_dir, data_dir, ids)``: ``metrics.evaluate_motion`` of the predictions against the positions of the
  ground-truth BVH (FK at 20 fps, root fixed), beside the mean-pose baseline.
"""
from __future__ import annotations

import functools
import io
import logging
import os
from pathlib import Path

import numpy as np

from zoo.core.animation import Animation
from zoo.core.modeldir import ModelDir, ModelDirError, check_weight_shapes, load_weights, read_model_dir
from zoo.datasets import load_audio
from zoo.datasets.bvh import Motion, Skeleton, gesture_skeleton, write_bvh
from zoo.datasets.cache import atomic_write_bytes, npy_bytes

from . import features as feats
from . import motion as mo
from .config import Config
from .smoothing import SMOOTHERS
from .smoothing import smooth as smooth_values

log = logging.getLogger(__name__)

MODEL = "gesture_ae"
MOTION_SUFFIXES = (".bvh", ".txt", ".npy")
MEAN_POSE, BASE_VALUES = "mean_pose", "base_values"  # extra arrays of a model directory


# ------------------------------------------------------------------------------------------------ model directory
def metadata_of(config: Config, skeleton: Skeleton) -> dict:
    """The metadata every gesture_ae model directory carries (``zoo.core.modeldir`` schema + the skeleton): windows of
    2·context + 1 feature frames at 20 fps centred on the frame (``context`` frames of lookahead)."""
    names = list(mo.position_names(skeleton))
    if config.representation == "rotations":
        names = list(mo.rotation_names()) + names
    return {"model": MODEL, "preset": config.preset, "sample_rate": config.sample_rate, "fps": config.fps,
            "window_seconds": config.window / config.fps, "lookahead_seconds": config.context / config.fps,
            "output_names": names, "representation": config.representation, "features": config.features,
            "target": config.target, "skeleton": mo.skeleton_to_json(skeleton),
            "rotation_joints": list(mo.ROTATION_JOINTS) if config.representation == "rotations" else None}


def read_config(model_dir: ModelDir) -> Config:
    """The Config of a model directory; a ModelDirError names config.json and the cause."""
    try:
        return Config.from_dict(dict(model_dir.config))
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"{model_dir.path / 'config.json'}: {exc}") from None


def read_skeleton(model_dir: ModelDir) -> Skeleton:
    """The skeleton recorded in metadata.json; a ModelDirError names the file."""
    try:
        return mo.skeleton_from_json(model_dir.metadata["skeleton"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelDirError(f"{model_dir.path / 'metadata.json'}: no usable skeleton ({exc})") from None


def expected_weight_shapes(config: Config) -> list[tuple[int, ...]]:
    """The shapes of the float arrays of model.weights.h5 for ``config`` (no TensorFlow): SpeechE's dense blocks,
    4 BatchNorms (γ, β, moving mean and variance), the GRU (bias (3H,) legacy, (2, 3H) reset_after) and the output
    layer; for target "code" the DAE's statistics (mean, max|Y|, the scalar std), encoder and decoder."""
    f, h, o = config.num_features, config.hidden, config.speech_output_dim
    shapes = [(f, h), (h,), (h, h), (h,), (h, h), (h,)] + [(h,)] * 16
    shapes += [(h, 3 * h), (h, 3 * h), (3 * h,) if config.legacy_gru else (2, 3 * h), (h, o), (o,)]
    if config.target == "code":
        p, c = config.output_dim, config.code_dim
        shapes += [(p,), (p,), (), (p, c), (c,), (c, p), (p,)]
    return shapes


def verify_model_dir(path) -> tuple[ModelDir, Config, Skeleton]:
    """(ModelDir, Config, Skeleton) of a gesture_ae model directory, checked without TensorFlow: sha256, config,
    skeleton, the weights' shapes against the config and the companion arrays."""
    found = read_model_dir(path, model=MODEL)
    config = read_config(found)
    skeleton = read_skeleton(found)
    check_weight_shapes(found, expected_weight_shapes(config), f"gesture_ae preset {config.preset}")
    found.check_array(MEAN_POSE, (3 * skeleton.num_nodes,), "the mean-pose baseline")
    if config.representation == "rotations":
        found.check_array(BASE_VALUES, (skeleton.num_channels,), "the BVH channels outside the rotation subset")
    return found, config, skeleton


@functools.cache
def _network_class():
    import keras

    class GestureNetwork(keras.Model):
        """SpeechE and (target "code") the DAE in one model, saved as one weights file. ``call(windows)`` = the pose
        frames in the model's representation: SpeechE's output, decoded by the DAE when it outputs codes."""

        def __init__(self, speech_encoder, dae=None, **kwargs):
            super().__init__(**kwargs)
            self.speech_encoder, self.dae = speech_encoder, dae
            self.built = True

        def call(self, windows, training=False):
            out = self.speech_encoder(windows, training=training)
            return out if self.dae is None else self.dae.decode(out)

    return GestureNetwork


def build_network(config: Config, speech_encoder=None, dae=None):
    """The container of SpeechE (built from ``config`` unless given) and, for target "code", the DAE."""
    from .model import build_dae, build_speech_encoder

    if speech_encoder is None:
        speech_encoder = build_speech_encoder(config)
    if config.target == "code" and dae is None:
        dae = build_dae(config)
    return _network_class()(speech_encoder, dae if config.target == "code" else None, name="gesture_ae")


# ------------------------------------------------------------------------------------------------ features
def audio_features(audio, sample_rate: int | None, config: Config) -> np.ndarray:
    """(T, D) float32 speech features of ``audio`` (a path, or float samples at ``sample_rate``) at 20 fps, after
    resampling to ``config.sample_rate``; a ValueError when the audio gives no frame."""
    if isinstance(audio, (str, os.PathLike)):
        audio, sample_rate = load_audio(audio, config.sample_rate)
    if sample_rate is None:
        raise ValueError("sample_rate is needed with an audio array")
    audio = np.asarray(audio, np.float32)
    if audio.ndim == 2:  # (samples, channels): averaged in float
        audio = audio.mean(axis=1)
    if int(sample_rate) != config.sample_rate:
        from zoo.datasets import resample

        audio = resample(audio, int(sample_rate), config.sample_rate).astype(np.float32)
    out = feats.features(audio, config.sample_rate, config.features, nfft=config.mfcc_nfft)
    if not len(out):
        raise ValueError(f"{len(audio) / config.sample_rate:.3f} s of audio give no feature frame at "
                         f"{config.fps} fps: too short")
    return out


# ------------------------------------------------------------------------------------------------ prediction
def in_batches(function, values: np.ndarray, batch: int = 4096) -> np.ndarray:
    """``function`` (rows → rows, e.g. the DAE's encode or decode) over ``values`` in slices of ``batch`` rows."""
    return np.concatenate([np.asarray(function(values[i:i + batch])) for i in range(0, len(values), batch)])


class Predictor:
    """A trained Aud2Repr2Pose model with its skeleton and training means."""

    def __init__(self, network, config: Config, skeleton: Skeleton, mean_pose: np.ndarray,
                 base_values: np.ndarray | None = None, metadata: dict | None = None, batch_size: int = 512):
        from zoo.core.runners import KerasRunner

        self.network, self.config, self.skeleton = network, config, skeleton
        self.metadata = dict(metadata or {})
        self.mean_pose = np.asarray(mean_pose, np.float32)
        self.base_values = None if base_values is None else np.asarray(base_values, np.float64)
        if config.representation == "rotations" and self.base_values is None:
            raise ValueError("the rotation representation needs the training mean channel values (base_values)")
        self.runner = KerasRunner(network, batch_size)
        self._sliding = None  # model.SlidingSpeechE, built on first use
        self.position_names = mo.position_names(skeleton)
        self.names = ((mo.rotation_names() if config.representation == "rotations" else ()) + self.position_names)

    @classmethod
    def load(cls, model_dir: str | os.PathLike, **kwargs) -> Predictor:
        found, config, skeleton = verify_model_dir(model_dir)
        network = build_network(config)
        load_weights(network, found)
        return cls(network, config, skeleton, found.array(MEAN_POSE), found.array(BASE_VALUES), found.metadata,
                   **kwargs)

    def features(self, audio, sample_rate: int | None = None) -> np.ndarray:
        """(T, D) speech features (``audio_features``)."""
        return audio_features(audio, sample_rate, self.config)

    def run(self, features: np.ndarray) -> np.ndarray:
        """(T, output_dim) frames in the model's representation (decoded poses) of (T, D) features, float32: SpeechE
        over every window with the per-frame work shared (``model.SlidingSpeechE``; the Keras model's function),
        then the DAE decoder frame by frame."""
        if self._sliding is None:
            from .model import SlidingSpeechE

            self._sliding = SlidingSpeechE(self.network.speech_encoder)
        out = self._sliding(feats.pad_context(np.asarray(features, np.float32), self.config.features))
        if self.network.dae is not None and len(out):
            out = in_batches(self.network.dae.decode, out)
        return out.astype(np.float32)

    def run_windows(self, windows: np.ndarray) -> np.ndarray:
        """(B, output_dim) frames of (B, 61, D) feature windows through the Keras model (batches of ``batch_size``)."""
        return self.runner(np.asarray(windows, np.float32))

    def smoothing(self, smooth_kind: str | None) -> str | None:
        """The filter ``smooth_kind`` stands for (None: the model's own, Savitzky–Golay where the config sets one)."""
        if smooth_kind is None:
            return "savgol" if self.config.savgol_window else None
        if smooth_kind != "none" and smooth_kind not in SMOOTHERS:
            raise ValueError(f"unknown smoothing {smooth_kind!r}; choose one of {SMOOTHERS} or none")
        return None if smooth_kind == "none" else smooth_kind

    def animation(self, frames: np.ndarray, smooth_kind: str | None = None) -> Animation:
        """The Animation of (T, output_dim) network frames (module docstring), smoothed by ``smooth_kind``."""
        kind = self.smoothing(smooth_kind)
        options = {"savgol_window": self.config.savgol_window or 9, "savgol_order": self.config.savgol_order,
                   "fps": self.config.fps}
        if self.config.representation == "rotations":
            rotations = smooth_values(frames, kind, **options)
            motion = mo.rotations_motion(self.skeleton, rotations, self.base_values, fps=self.config.fps)
            values = np.concatenate([rotations, mo.motion_positions(motion)], axis=1)
        else:
            values = smooth_values(mo.remove_velocity(frames), kind, **options)
        return Animation(values, self.names, self.config.fps)

    def predict(self, audio, sample_rate: int | None = None, smooth: str | None = None) -> Animation:
        """Motion of ``audio`` as an Animation at 20 fps, one frame per feature frame (module docstring)."""
        return self.animation(self.run(self.features(audio, sample_rate)), smooth)

    def positions(self, animation: Animation) -> np.ndarray:
        """(T, 3N) positions of an Animation of this model."""
        return animation.selected(self.position_names).values

    def motion(self, animation: Animation) -> Motion:
        """A BVH Motion of an Animation of this model (rotations directly; positions by inverse kinematics)."""
        return animation_motion(animation, self.skeleton, self.base_values)

    def write_motion(self, animation: Animation, path: str | os.PathLike) -> Path:
        """``write_motion`` with this model's skeleton and training mean channels."""
        return write_motion(animation, path, skeleton=self.skeleton, base_values=self.base_values)


def animation_motion(animation: Animation, skeleton: Skeleton, base_values=None) -> Motion:
    """A Motion of ``animation``: from its exp-map channels (``motion.ROTATION_JOINTS``) when it has them and
    ``base_values`` is given, else from its positions through inverse kinematics on ``skeleton``."""
    rotation_names = mo.rotation_names()
    if base_values is not None and set(rotation_names) <= set(animation.names):
        return mo.rotations_motion(skeleton, animation.selected(rotation_names).values, base_values,
                                   fps=animation.fps)
    positions = animation.selected(mo.position_names(skeleton)).values
    return mo.positions_motion(skeleton, positions, fps=animation.fps)


def write_motion(animation: Animation, path: str | os.PathLike, *, skeleton: Skeleton | None = None,
                 base_values=None) -> Path:
    """Write the motion of ``animation`` by suffix (module docstring); atomic. ``skeleton`` (default: the gesture
    dataset's, ``gesture_skeleton()``) names the position channels and is the BVH's hierarchy."""
    path = Path(path)
    skeleton = skeleton or gesture_skeleton()
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return write_bvh(path, animation_motion(animation, skeleton, base_values))
    positions = animation.selected(mo.position_names(skeleton)).values
    if suffix == ".npy":
        atomic_write_bytes(path, npy_bytes(positions.astype(np.float32)))
    elif suffix == ".txt":
        buffer = io.BytesIO()
        np.savetxt(buffer, positions.astype(np.float64), fmt="%.18e", delimiter=" ")
        atomic_write_bytes(path, buffer.getvalue())
    else:
        raise ValueError(f"{path}: unknown motion format {suffix!r}; use one of {MOTION_SUFFIXES}")
    return path


# ------------------------------------------------------------------------------------------------ evaluation
def evaluate(model_dir: str | os.PathLike, data_dir, ids=None, *, smooth: str | None = None) -> dict:
    """Held-out motion metrics of a model directory on gesture-layout takes ``ids`` (default: the model's recorded
    test ids, else its validation ids): ``metrics.evaluate_motion`` of the audio-only predictions against the
    positions of the ground-truth BVH (FK at 20 fps, root fixed at its offset, cut to the common length), and the same
    for the mean-pose baseline (the training frames' mean positions held still). Units: cm, s (module ``metrics``)."""
    from zoo.datasets.gesture import read_gesture_clip

    from . import metrics

    predictor = Predictor.load(model_dir)
    config, meta = predictor.config, predictor.metadata
    ids = list(ids) if ids is not None else (meta.get("test_ids") or meta.get("val_ids"))
    if not ids:
        raise ValueError(f"{model_dir}: records no test or validation ids; name the takes to evaluate")
    preds, trues = [], []
    for clip_id in ids:
        clip = read_gesture_clip(data_dir, clip_id, fps=config.fps, sample_rate=config.sample_rate,
                                 max_missing_frames=None)
        if clip.targets.shape[1] != len(predictor.position_names):
            raise ValueError(f"{clip.source}: {clip.targets.shape[1] // 3} nodes, the model's skeleton has "
                             f"{predictor.skeleton.num_nodes}")
        preds.append(predictor.positions(predictor.predict(clip.audio, clip.sample_rate, smooth=smooth)))
        trues.append(clip.targets)
        log.info("%s: %d predicted frames, %d true", clip.source, len(preds[-1]), len(trues[-1]))
    baseline = metrics.rest_pose_baseline(predictor.mean_pose, [len(t) for t in trues])
    return {"ids": [int(i) for i in ids], "smoothing": predictor.smoothing(smooth) or "none",
            "units": "positions in dataset units (cm); AJ cm/s^3, AA cm/s^2 (x fps^3, fps^2 of the per-frame values)",
            "model": metrics.evaluate_motion(preds, trues, fps=config.fps),
            "mean_pose": metrics.evaluate_motion(baseline, trues, fps=config.fps)}


__all__ = ["Predictor", "evaluate", "in_batches", "write_motion", "animation_motion", "metadata_of", "read_config",
           "read_skeleton", "expected_weight_shapes", "verify_model_dir", "build_network", "audio_features",
           "MOTION_SUFFIXES", "MEAN_POSE", "BASE_VALUES"]
