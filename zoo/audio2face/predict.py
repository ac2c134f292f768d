"""Prediction: audio → named blendshape curves at 30 fps, in batch or streaming.

``Predictor.load(model_dir)`` reads a model directory (``zoo.core.modeldir``: config.json,
model.weights.h5, metadata.json, emotion_database.npy for the paper preset). ``predict`` takes a
path or an array at any rate and channel count (mixed down and resampled to 16 kHz) and returns a
``zoo.core.Animation`` at 30 fps. Frame i is the pose at t = i/30 s, computed from the 520 ms
window centred there, so a clip of S samples at 16 kHz has floor(S·30/16000) frames.

Emotion control (paper preset, E = 16): ``None`` → the mean of the training database;
an int → that database entry (a training frame); a vector (E,); an array (frames, E); or
keyframes ``[(seconds, vector_or_index), ...]`` linearly interpolated over time.

``Streamer`` takes audio chunks of any size and yields frames as soon as their window is
complete: a frame at time t needs audio up to t + 260 ms (the algorithmic lookahead).

``Predictor.load(model_dir, tflite="exports/audio2face-v1.int8.tflite")`` runs the network through
a TFLite file written by ``export`` (float32, or dynamic-range int8 weights) instead of Keras.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from zoo.core.animation import Animation
from zoo.core.modeldir import read_model_dir
from zoo.core.runners import KerasRunner, TFLiteRunner
from zoo.datasets import expected_frames, frame_anchors, load_audio

from . import features as feats
from .config import Config
from .metrics import evaluate_predictions

CHUNK_FRAMES = 3072  # frames per feature chunk of whole-clip prediction (~102 s; 6 batches of 512; ~75 MB)
TFLITE_SIGNATURE = "serving_default"


def metadata_of(config: Config) -> dict:
    """The model-directory metadata every Audio2Face model carries (``zoo.core.modeldir`` schema)."""
    return {"model": "audio2face", "preset": config.preset, "output_names": list(config.output_names),
            "sample_rate": feats.SAMPLE_RATE, "fps": feats.FPS, "window_seconds": feats.WINDOW / feats.SAMPLE_RATE,
            "lookahead_seconds": feats.LOOKAHEAD / feats.SAMPLE_RATE, "feature": config.feature}


class Predictor:
    """A trained model with its channel names, emotion database and batched inference.

    ``tflite``: a .tflite file written by ``export`` for this model (``<name>-v<version>.tflite``
    or ``.int8.tflite``); ``run`` then calls its ``serving_default`` signature with the
    ai-edge-litert interpreter (``os.cpu_count()`` threads) in batches of ``batch_size``
    instead of the Keras model. Features, emotion control and streaming are unchanged.
    """

    def __init__(self, model, config: Config, database: np.ndarray | None = None, metadata: dict | None = None,
                 batch_size: int = 512, tflite: str | os.PathLike | None = None):
        self.model, self.config, self.database = model, config, database
        self.metadata = metadata or {}
        self.names = tuple(config.output_names)
        self.batch_size = batch_size
        self.tflite = None if tflite is None else Path(tflite)
        self._keras = KerasRunner(model, batch_size)
        self._tflite = None
        if tflite is not None:
            inputs = {"features": feats.FEATURE_SHAPE, **({"emotion": (config.emotion_dim,)}
                                                          if config.has_emotion_input else {})}
            self._tflite = TFLiteRunner(tflite, TFLITE_SIGNATURE, batch_size, num_threads=os.cpu_count()).check(
                inputs, {"blendshapes": len(self.names)})

    @classmethod
    def load(cls, model_dir: str | os.PathLike, tflite: str | os.PathLike | None = None, **kwargs) -> Predictor:
        """Load ``model_dir`` (verified by ``zoo.core.modeldir.read_model_dir``); ``tflite``: run the network
        through that TFLite file of the model instead of Keras (see the class docstring)."""
        from .model import Audio2Face

        found = read_model_dir(model_dir, "audio2face")
        config = Config.from_dict(found.config)
        model = Audio2Face(config)
        model.load_weights(str(found.weights))
        database = found.array("emotion_database") if config.has_emotion_input else None
        return cls(model, config, database, found.metadata, tflite=tflite, **kwargs)

    # -- emotion control -------------------------------------------------------------------
    def emotion_vectors(self, emotion, n_frames: int) -> np.ndarray:
        """(n_frames, E) emotion vectors for a control (see the module docstring)."""
        dim = self.config.emotion_dim
        if not self.config.has_emotion_input:
            if emotion is not None:
                raise ValueError(f"preset {self.config.preset!r} has no emotion input (FACEGOOD emotion branch)")
            return np.zeros((n_frames, 0), np.float32)
        if emotion is None:
            if self.database is None:
                return np.zeros((n_frames, dim), np.float32)
            return np.broadcast_to(self.database.mean(axis=0), (n_frames, dim)).astype(np.float32)
        if isinstance(emotion, (int, np.integer)):
            return np.broadcast_to(self._entry(int(emotion)), (n_frames, dim)).astype(np.float32)
        if isinstance(emotion, (list, tuple)) and emotion and isinstance(emotion[0], tuple):
            return self._keyframes(emotion, n_frames)
        e = np.asarray(emotion, np.float32)
        if e.shape == (dim,):
            return np.broadcast_to(e, (n_frames, dim)).astype(np.float32)
        if e.shape == (n_frames, dim):
            return e
        raise ValueError(f"emotion must be None, a database index, ({dim},), ({n_frames}, {dim}) or keyframes; "
                         f"got shape {e.shape}")

    def _entry(self, index: int) -> np.ndarray:
        if self.database is None:
            raise ValueError("this model has no emotion database (emotion_database.npy)")
        if not -len(self.database) <= index < len(self.database):
            raise ValueError(f"emotion index {index} outside the database of {len(self.database)} frames")
        return self.database[index]

    def _keyframes(self, keys: Sequence[tuple], n_frames: int) -> np.ndarray:
        times = np.array([float(t) for t, _ in keys])
        if np.any(np.diff(times) <= 0):
            raise ValueError("emotion keyframe times must increase")
        vectors = np.stack([self._entry(v) if isinstance(v, (int, np.integer)) else np.asarray(v, np.float32)
                            for _, v in keys])
        t = np.arange(n_frames) / feats.FPS
        return np.stack([np.interp(t, times, vectors[:, k]) for k in range(vectors.shape[1])], axis=1).astype(
            np.float32)

    # -- inference -------------------------------------------------------------------------
    def features(self, audio16k: np.ndarray, n_frames: int | None = None, first_frame: int = 0) -> np.ndarray:
        """(N, 32, 64, 1) float32 features of 16 kHz mono audio (``features.frame_features``)."""
        return feats.frame_features(audio16k, n_frames, self.config.feature, first_frame=first_frame).astype(
            np.float32)

    def values(self, audio16k: np.ndarray, n_frames: int, emotion: np.ndarray) -> np.ndarray:
        """(n_frames, N) network outputs for 16 kHz audio and (n_frames, E) emotion, ``CHUNK_FRAMES`` frames at a
        time, so memory stays bounded however long the audio (the chunks' features are the one-pass bits, and
        the chunks hold whole batches)."""
        out = [self.run(self.features(audio16k, min(CHUNK_FRAMES, n_frames - a), a), emotion[a:a + CHUNK_FRAMES])
               for a in range(0, n_frames, CHUNK_FRAMES)]
        return np.concatenate(out) if out else np.zeros((0, len(self.names)), np.float32)

    def run(self, features: np.ndarray, emotion: np.ndarray) -> np.ndarray:
        """The network on (N, 32, 64, 1) features and (N, E) emotion, in batches (Keras or TFLite)."""
        if self._tflite is not None:
            inputs = {"features": features, **({"emotion": emotion} if self.config.has_emotion_input else {})}
            return self._tflite(inputs)["blendshapes"]
        return self._keras(features, emotion) if self.config.has_emotion_input else self._keras(features)

    def predict(self, audio, sample_rate: int | None = None, *, emotion=None, clip: bool = False,
                smooth: int = 1) -> Animation:
        """Animation of ``audio`` (a path, or an array at ``sample_rate``)."""
        audio16k = self.audio16k(audio, sample_rate)
        n = expected_frames(len(audio16k), feats.SAMPLE_RATE, feats.FPS)
        if n == 0:
            where = f"{audio}: " if isinstance(audio, (str, os.PathLike)) else ""
            raise ValueError(f"{where}audio of {len(audio16k) / feats.SAMPLE_RATE:.3f} s is shorter than one "
                             f"{feats.FPS} fps frame")
        values = self.values(audio16k, n, self.emotion_vectors(emotion, n))
        anim = Animation(values, self.names, feats.FPS).smoothed(smooth)
        return anim.clipped() if clip else anim

    @staticmethod
    def audio16k(audio, sample_rate: int | None = None) -> np.ndarray:
        """16 kHz mono float32 of a path (any format soundfile reads) or an array at ``sample_rate``."""
        if isinstance(audio, (str, os.PathLike)):
            data, rate = load_audio(audio, allow_silence=True)
            return feats.prepare_audio(data, rate)
        if sample_rate is None:
            raise ValueError("pass sample_rate with an audio array")
        return feats.prepare_audio(audio, sample_rate)

    def streamer(self, emotion=None) -> Streamer:
        return Streamer(self, emotion)


class Streamer:
    """Incremental prediction: ``push(chunk)`` yields (frame index, values) for every frame whose
    520 ms window is complete; ``finish()`` pads the 260 ms lookahead with zeros and yields the rest.

    The frames equal ``Predictor.predict`` on the concatenated audio (same windows, same
    float64 features). Audio is 16 kHz mono float; ``lookahead_seconds`` = 0.26.
    """

    lookahead_seconds = feats.LOOKAHEAD / feats.SAMPLE_RATE

    def __init__(self, predictor: Predictor, emotion=None):
        if predictor.config.has_emotion_input and emotion is not None and not isinstance(emotion, (int, np.integer)):
            e = np.asarray(emotion, np.float32)
            if e.shape != (predictor.config.emotion_dim,):
                raise ValueError("a streamer takes one emotion vector (E,) or a database index")
        self.predictor = predictor
        self._emotion = predictor.emotion_vectors(emotion, 1)
        # the buffer holds audio from sample `self._offset` (in padded coordinates) onwards
        self._buffer = np.zeros(feats.WINDOW - feats.LOOKAHEAD, np.float32)  # the leading 260 ms of zeros
        self._offset = 0
        self._received = 0
        self.next_frame = 0
        self._subframes: dict[int, np.ndarray] = {}  # subframe start (padded coordinates) → its (32,) feature

    def _features(self, starts: list[int]) -> np.ndarray:
        """(n, 32, 64, 1) float32 features of the windows at ``starts`` (padded coordinates). Each subframe is
        computed once per stream: frame i + 6 reuses 39 of frame i's 64 subframes (``features.PERIOD_FRAMES``)."""
        grid = (np.asarray(starts)[:, None] + feats.HOP * np.arange(feats.SUBFRAMES)).ravel().tolist()
        cache = self._subframes
        missing = sorted(set(grid) - cache.keys())
        if missing:
            at = np.asarray(missing)[:, None] - self._offset + np.arange(feats.SUBFRAME)
            columns = feats.subframe_features(self._buffer[at], self.predictor.config.feature)
            cache.update(zip(missing, columns.T))
        rows = np.stack([cache[s] for s in grid]).reshape(len(starts), feats.SUBFRAMES, feats.ORDER)
        return rows.transpose(0, 2, 1)[..., None].astype(np.float32)

    def _ready_frames(self, final: bool) -> Iterator[tuple[int, np.ndarray]]:
        end = self._offset + len(self._buffer)  # padded coordinates
        # frames whose window may be complete: anchors ≤ end, and, at the end, no frame past the audio
        count = expected_frames(end, feats.SAMPLE_RATE, feats.FPS) + 1 - self.next_frame
        if final:
            count = min(count, expected_frames(self._received, feats.SAMPLE_RATE, feats.FPS) - self.next_frame)
        anchors = frame_anchors(max(count, 0) + 1, feats.SAMPLE_RATE, feats.FPS, first=self.next_frame)
        starts = anchors[:-1][anchors[:-1] + feats.WINDOW <= end].tolist()  # window starts (increasing)
        if not starts:
            return
        values = self.predictor.run(self._features(starts), np.repeat(self._emotion, len(starts), axis=0))
        for k, row in enumerate(values):
            yield self.next_frame + k, row
        self.next_frame += len(starts)
        first = int(anchors[len(starts)])  # the next frame's window start: no later window starts before it
        self._subframes = {s: v for s, v in self._subframes.items() if s >= first}
        drop = first - self._offset
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._offset += drop

    def push(self, chunk: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Add 16 kHz mono samples; return the frames that became complete."""
        chunk = np.asarray(chunk, np.float32).reshape(-1)
        if not np.all(np.isfinite(chunk)):
            raise ValueError("audio chunk contains NaN or Inf")
        self._buffer = np.concatenate([self._buffer, chunk])
        self._received += len(chunk)
        return list(self._ready_frames(final=False))

    def finish(self) -> list[tuple[int, np.ndarray]]:
        """End of audio: pad the lookahead with zeros and return the remaining frames."""
        self._buffer = np.concatenate([self._buffer, np.zeros(feats.WINDOW, np.float32)])
        return list(self._ready_frames(final=True))


def predict(model_dir: str | os.PathLike, audio, sample_rate: int | None = None, **kwargs) -> Animation:
    """``Predictor.load(model_dir).predict(audio, sample_rate, **kwargs)``."""
    return Predictor.load(model_dir).predict(audio, sample_rate, **kwargs)


def evaluate(model_dir: str | os.PathLike, data, *, clip_ids: Sequence[str] | None = None,
             names_file: str | os.PathLike | None = None, mean_pose: np.ndarray | None = None):
    """Metrics (``metrics.evaluate_predictions``) of a model on FACEGOOD-layout clips, against the mean pose.

    ``mean_pose`` defaults to the training mean stored in the model's metadata.
    Returns (evaluation, {clip name: Animation}).
    """
    from zoo.datasets import read_facegood

    predictor = Predictor.load(model_dir)
    clips = list(data) if not isinstance(data, (str, os.PathLike)) else read_facegood(
        data, names_file=names_file, clip_ids=list(clip_ids) if clip_ids else None)
    clips = [c.with_channels(predictor.names) for c in clips]
    if mean_pose is None:
        if "mean_pose" not in predictor.metadata:
            raise ValueError(f"{model_dir}: metadata has no mean_pose; pass mean_pose")
        mean_pose = np.asarray(predictor.metadata["mean_pose"], np.float32)
    animations = {}
    for clip in clips:
        audio = feats.prepare_audio(clip.audio, clip.sample_rate)
        values = predictor.values(audio, clip.num_frames, predictor.emotion_vectors(None, clip.num_frames))
        animations[clip.name] = Animation(values, predictor.names, feats.FPS)
    evaluation = evaluate_predictions([a.values for a in animations.values()], [c.targets for c in clips],
                                      predictor.names, mean_pose)
    return evaluation, animations
