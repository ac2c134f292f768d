"""Prediction: audio → named blendshape curves at 30 fps, in batch or streaming.

``Predictor.load(model_dir)`` reads a model directory (``zoo.core.modeldir``: config.json,
model.weights.h5, metadata.json, emotion_database.npy for the paper preset). ``predict`` takes a
path or an array at any rate and channel count (mixed down and resampled to 16 kHz) and returns a
``zoo.core.Animation`` at 30 fps. Frame i is the pose at t = i/30 s, computed from the 520 ms
window centred there, so a clip of S samples at 16 kHz has floor(S·30/16000) frames.

Emotion control (paper preset, E = 16): ``None`` → the mean of the training database;
an int → that database entry (a training frame, 0 ≤ i < rows); a name (``"happy"``) → the mean of the
database rows of that emotion's training clips (``metadata["emotions"]``, recorded when training had
clip labels); a blend ``{"happy": 0.7, "neutral": 0.3}`` → the weighted sum of those means; a vector
(E,); an array (frames, E); or keyframes ``[(seconds, vector_or_index_or_name), ...]`` linearly
interpolated over time.

``Streamer`` takes audio chunks of any size and yields frames as soon as their window is
complete: a frame at time t needs audio up to t + 260 ms (the algorithmic lookahead).

``Predictor.load(model_dir, tflite="exports/audio2face-v1.int8.tflite")`` runs the network through
a TFLite file written by ``export`` (float32, or dynamic-range int8 weights) instead of Keras.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from zoo.core import modeldir
from zoo.core.animation import Animation
from zoo.core.modeldir import ModelDir, ModelDirError, load_weights, read_model_dir
from zoo.core.runners import KerasRunner, TFLiteRunner
from zoo.datasets import expected_frames, frame_anchors, load_audio

from . import features as feats
from .config import Config
from .metrics import evaluate_predictions

CHUNK_FRAMES = 3072  # frames per feature chunk of whole-clip prediction (~102 s; 6 batches of 512; ~75 MB)
TFLITE_SIGNATURE = "serving_default"
ENGINES = ("auto", "keras", "litert")  # Predictor.load(engine=...): auto = litert where the folder has model.tflite
_JSON_KINDS = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


def metadata_of(config: Config) -> dict:
    """The model-directory metadata every Audio2Face model carries (``zoo.core.modeldir`` schema)."""
    return {"model": "audio2face", "preset": config.preset, "output_names": list(config.output_names),
            "sample_rate": feats.SAMPLE_RATE, "fps": feats.FPS, "window_seconds": feats.WINDOW / feats.SAMPLE_RATE,
            "lookahead_seconds": feats.LOOKAHEAD / feats.SAMPLE_RATE, "feature": config.feature}


def _json_fits(kind: str, value) -> bool:
    """Whether a JSON value fits a Config field annotated ``kind`` (bool is not a number here)."""
    if kind.startswith("tuple["):
        item = kind[len("tuple["):].split(",")[0].strip()
        return isinstance(value, list) and all(_json_fits(item, v) for v in value)
    if kind not in _JSON_KINDS:
        return True  # an annotation this check does not know: Config itself decides
    return isinstance(value, _JSON_KINDS[kind]) and (kind == "bool" or not isinstance(value, bool))


def config_from_json(values, where: str | os.PathLike) -> Config:
    """The Config of a model directory's config.json, checked field by field: an unknown field, a value of the wrong
    type or one Config refuses is one ModelDirError that names the file and the field."""
    import dataclasses

    if not isinstance(values, Mapping):
        raise ModelDirError(f"{where}: a JSON object of Audio2Face config fields was expected")
    fields = {f.name: str(f.type) for f in dataclasses.fields(Config)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ModelDirError(f"{where}: unknown field {unknown[0]!r} (not an Audio2Face config field"
                            f"{'; also ' + ', '.join(map(repr, unknown[1:])) if unknown[1:] else ''})")
    for name, value in values.items():
        if not _json_fits(fields[name], value):
            raise ModelDirError(f"{where}: field {name!r} must be {fields[name]}, found {value!r}")
    try:
        return Config.from_dict(dict(values))
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"{where}: {exc}") from None


def expected_weight_shapes(config: Config) -> list[tuple[int, ...]]:
    """The shapes of the arrays ``config``'s network (``model.Audio2Face``) keeps in model.weights.h5, worked out
    without Keras from the layer plan in ``model.py`` (a test compares them with the built model of every preset)."""
    dim, rows = config.emotion_dim, feats.FEATURE_SHAPE[0]
    shapes = [(rows,), (rows,)] if config.input_norm else []  # the coefficient standardisation's mean and std
    channels = feats.FEATURE_SHAPE[-1]
    for i, filters in enumerate(config.formant_filters):  # kernel (3, 1), the last (2, 1)
        shapes += [(2 if i == 4 else 3, 1, channels, filters), (filters,)]
        channels = filters
    if config.emotion == "facegood_tfv1":  # the emotion source: a conv of the input features
        shapes += [(3, 1, feats.FEATURE_SHAPE[-1], dim), (dim,)]
    if config.emotion != "database":  # an emotion conv per articulation layer (tf2: the layer's kernel; tfv1: 3)
        shapes += [s for i in range(5) for s in ((1, 4 if i == 4 and config.emotion == "facegood_tf2" else 3, dim,
                                                  dim), (dim,))]
    for i, filters in enumerate(config.articulation_filters):  # kernel (1, 3), the last (1, 4); E maps concatenated
        shapes += [(1, 4 if i == 4 else 3, channels, filters), (filters,)]
        channels = filters + dim
    outputs = len(config.output_names)
    shapes += [(channels, config.hidden_units), (config.hidden_units,), (config.hidden_units, outputs), (outputs,)]
    return sorted(shapes)


def verify(model_dir: str | os.PathLike) -> tuple[ModelDir, Config]:
    """Verify an Audio2Face model directory without TensorFlow; returns (``ModelDir``, ``Config``).

    Checks, each failure one error naming the file: every file's sha256 against metadata.json and its schema
    (``zoo.core.modeldir.read_model_dir``); config.json field by field (``config_from_json``); metadata.json's
    preset and output names against config.json; the companion files the preset needs (an emotion-database
    preset: emotion_database.npy of shape (rows, E)); the arrays of model.weights.h5 against the network
    config.json describes (``expected_weight_shapes``: weights of another preset or rig do not fit). model.tflite's
    inputs and outputs are checked when the LiteRT engine opens it.
    """
    found = read_model_dir(model_dir, "audio2face")
    config_json, metadata_json = found.path / modeldir.CONFIG_FILE, found.path / modeldir.METADATA_FILE
    config = config_from_json(found.config, config_json)
    meta = found.metadata
    if list(config.output_names) != list(meta["output_names"]):
        raise ModelDirError(f"{metadata_json}: output_names ({len(meta['output_names'])}) differ from "
                            f"{config_json.name}'s ({len(config.output_names)}): files of two models?")
    if meta["preset"] != config.preset or meta.get("feature", config.feature) != config.feature:
        raise ModelDirError(f"{metadata_json}: preset {meta['preset']!r} / feature {meta.get('feature')!r}, but "
                            f"{config_json.name} has {config.preset!r} / {config.feature!r}: files of two models?")
    if config.has_emotion_input:
        why = (f"preset {config.preset!r} takes an emotion vector from its learned database "
               f"(emotion 'database', E = {config.emotion_dim})")
        rows, _ = found.check_array("emotion_database", (None, config.emotion_dim), why)
        if rows == 0:
            raise ModelDirError(f"{found.path / 'emotion_database.npy'} has no rows: {why}")
    modeldir.check_weight_shapes(found, expected_weight_shapes(config),
                                 f"preset {config.preset!r}, {len(config.output_names)} outputs")
    return found, config


def resolve_engine(model_dir: str | os.PathLike, engine: str = "auto", tflite: str | os.PathLike | None = None) -> str:
    """The engine ``Predictor.load(model_dir, tflite, engine)`` runs: "keras" or "litert" (``tflite=`` a file, or
    the folder's own model.tflite for "litert", and for "auto" where the folder holds one). A ValueError for an
    unknown engine or ``tflite=`` with "keras"; a ModelDirError naming model.tflite for "litert" on a folder without
    it. Reads no file, so the CLI asks it before anything loads."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if tflite is not None:
        if engine == "keras":
            raise ValueError("tflite= runs the network through a TFLite file and engine='keras' through Keras: "
                             "choose one")
        return "litert"
    own = Path(model_dir) / modeldir.TFLITE_FILE
    if engine == "litert" and not own.is_file():
        raise ModelDirError(f"{own} is missing: engine 'litert' runs the model folder's own TFLite file (publish "
                            "writes it; or pass a TFLite file of the model)")
    return "litert" if engine == "litert" or (engine == "auto" and own.is_file()) else "keras"


class Predictor:
    """A trained model with its channel names, emotion database and batched inference.

    The network runs on one of two engines (``engine``): ``"keras"`` (the Keras model in a ``tf.function``) or
    ``"litert"``: a TFLite file (the model folder's own model.tflite, or one written by ``export``:
    ``<name>-v<version>.tflite`` or ``.int8.tflite``) whose ``serving_default`` signature runs in the
    ai-edge-litert interpreter (``os.cpu_count()`` threads) in batches of ``batch_size``, without importing
    TensorFlow. Features, emotion control and streaming are the same on both. ``model`` (the Keras model) is
    built from ``model_dir`` on first use when not given, so a LiteRT predictor never builds it.
    """

    def __init__(self, model, config: Config, database: np.ndarray | None = None, metadata: dict | None = None,
                 batch_size: int = 512, tflite: str | os.PathLike | None = None,
                 model_dir: ModelDir | str | os.PathLike | None = None):
        if model is None and model_dir is None and tflite is None:
            raise ValueError("a Predictor needs a Keras model, a model directory or a TFLite file")
        self._model, self._model_dir = model, model_dir
        self.config, self.database = config, database
        self.metadata = metadata or {}
        self.names = tuple(config.output_names)
        self.batch_size = batch_size
        self.tflite = None if tflite is None else Path(tflite)
        self.engine = "keras" if tflite is None else "litert"
        self._keras = None  # the KerasRunner, made on the first Keras run
        self._tflite = None
        if tflite is not None:
            inputs = {"features": feats.FEATURE_SHAPE, **({"emotion": (config.emotion_dim,)}
                                                          if config.has_emotion_input else {})}
            self._tflite = TFLiteRunner(tflite, TFLITE_SIGNATURE, batch_size, num_threads=os.cpu_count()).check(
                inputs, {"blendshapes": len(self.names)})

    @property
    def model(self):
        """The Keras model: the one given, or built from the model directory's config and weights on first use
        (``zoo.core.modeldir.load_weights``: weights that do not fit config.json are a ModelDirError)."""
        if self._model is None:
            if self._model_dir is None:
                raise ValueError("this Predictor runs a TFLite file only: it has no Keras model (load it from a "
                                 "model directory for one)")
            from .model import Audio2Face

            model = Audio2Face(self.config)
            load_weights(model, self._model_dir)
            self._model = model
        return self._model

    @classmethod
    def load(cls, model_dir: str | os.PathLike, tflite: str | os.PathLike | None = None, engine: str = "auto",
             **kwargs) -> Predictor:
        """Load ``model_dir``, verified first (``verify``: sha256, config.json, companion files).

        ``engine``: ``"keras"``; ``"litert"``: the folder's own model.tflite (``publish`` writes it, with its parity
        in ``metadata["tflite"]``) through ai-edge-litert, never importing TensorFlow (a ModelDirError naming
        model.tflite where the folder has none); ``"auto"`` (default): ``"litert"`` where the folder holds
        model.tflite, else ``"keras"``. ``tflite``: run the network through that TFLite file of the model instead
        (any engine but ``"keras"``). ``kwargs``: ``batch_size``.
        """
        runs = resolve_engine(model_dir, engine, tflite)
        found, config = verify(model_dir)
        database = found.array("emotion_database") if config.has_emotion_input else None
        if runs == "litert" and tflite is None:
            try:
                return cls(None, config, database, found.metadata, tflite=found.tflite, model_dir=found, **kwargs)
            except ModelDirError:
                raise
            except ValueError as exc:  # the folder's own file does not fit its config.json
                raise ModelDirError(str(exc)) from None
        if tflite is not None:
            return cls(None, config, database, found.metadata, tflite=tflite, model_dir=found, **kwargs)
        predictor = cls(None, config, database, found.metadata, model_dir=found, **kwargs)
        predictor.model  # noqa: B018  (the Keras engine builds it now: weights that do not fit fail at load)
        return predictor

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
        if isinstance(emotion, (int, np.integer, str, Mapping)):
            return np.broadcast_to(self._entry(emotion), (n_frames, dim)).astype(np.float32)
        if isinstance(emotion, (list, tuple)) and emotion and isinstance(emotion[0], tuple):
            return self._keyframes(emotion, n_frames)
        e = np.asarray(emotion, np.float32)
        if e.shape == (dim,):
            return np.broadcast_to(e, (n_frames, dim)).astype(np.float32)
        if e.shape == (n_frames, dim):
            return e
        raise ValueError(f"emotion must be None, a database index, ({dim},), ({n_frames}, {dim}) or keyframes; "
                         f"got shape {e.shape}")

    def _entry(self, key) -> np.ndarray:
        """(E,) vector of a database index, an emotion name or a {name: weight} blend."""
        if self.database is None:
            raise ValueError("this model has no emotion database (emotion_database.npy)")
        if isinstance(key, (str, Mapping)):
            blend = {key: 1.0} if isinstance(key, str) else dict(key)
            total = sum(blend.values())
            if not blend or not total > 0 or min(blend.values()) < 0:
                raise ValueError(f"emotion blend {blend}: weights must be ≥ 0 with a positive sum")
            return sum(w / total * self.emotion_of(name) for name, w in blend.items()).astype(np.float32)
        index = int(key)
        if not 0 <= index < len(self.database):
            raise ValueError(f"emotion index {index} outside the database of {len(self.database)} entries "
                             f"(0 to {len(self.database) - 1})")
        return self.database[index]

    @property
    def emotions(self) -> tuple[str, ...]:
        """The emotion names the database rows are labelled with (empty when trained without labels)."""
        return tuple(sorted(self.metadata.get("emotions") or {}))

    def emotion_of(self, name: str) -> np.ndarray:
        """(E,) mean of the database rows of emotion ``name`` (``metadata["emotions"]``: {name: [[first, end), …]})."""
        ranges = (self.metadata.get("emotions") or {}).get(name)
        if not ranges:
            raise ValueError(f"unknown emotion {name!r}; this model knows "
                             f"{list(self.emotions) or 'none (trained without clip labels)'}")
        rows = np.concatenate([np.arange(a, b) for a, b in ranges])
        return self.database[rows].mean(axis=0)

    def _keyframes(self, keys: Sequence[tuple], n_frames: int) -> np.ndarray:
        times = np.array([float(t) for t, _ in keys])
        if np.any(np.diff(times) <= 0):
            raise ValueError("emotion keyframe times must increase")
        vectors = np.stack([self._entry(v) if isinstance(v, (int, np.integer, str, Mapping))
                            else np.asarray(v, np.float32) for _, v in keys])
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
        """The network on (N, 32, 64, 1) features and (N, E) emotion, in batches (``engine``: Keras or LiteRT)."""
        if self._tflite is not None:
            inputs = {"features": features, **({"emotion": emotion} if self.config.has_emotion_input else {})}
            return self._tflite(inputs)["blendshapes"]
        if self._keras is None:
            self._keras = KerasRunner(self.model, self.batch_size)
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
            data, rate = load_audio(audio)  # a silent file is an AudioError naming it
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
        fixed = (int, np.integer, str, Mapping)
        if predictor.config.has_emotion_input and emotion is not None and not isinstance(emotion, fixed):
            e = np.asarray(emotion, np.float32)
            if e.shape != (predictor.config.emotion_dim,):
                raise ValueError("a streamer takes one emotion: a vector (E,), a database index, a name or a blend")
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

    predictor = Predictor.load(model_dir, engine="keras")  # the figures of record are the Keras model's
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
