"""The serving module of the speech → landmarks → face method: one SavedModel (TF-Serving layout) through
``zoo.export`` with four signatures, and two TFLite files (the CNN and the generator), each with parity.

* ``serving_default``: ``features`` (B, 128, 23, 1) float32 (``features.fft_features``) → ``landmarks`` (B, 136)
  normalised x0, y0, …, x67, y67 in [0, 1]. The ``report`` preset (``gru``): ``features`` (B, T, 128, 23, 1), T frames
  of one clip on the 30 ms grid → ``landmarks`` (B, T, 136) (the GRU runs over the T frames).
* ``audio``: ``audio`` (B, S) float32 mono at 48 kHz in [-1, 1] → ``landmarks`` (B, N, 136), N = ceil(S / 1440) frames
  at t_i = 30 i ms; the features in TF ops (``features_tf.fft_features_tf``, with the config's ``legacy_scaling``
  and ``log_magnitude``); the GRU variant runs over the N frames of each row; then the config's ``smooth_frames``
  moving average over each row's frames, as ``Predictor.landmark_values`` (``serving_default`` and its TFLite file
  serve frames one by one, unsmoothed: apply ``predict.smooth_landmarks`` to a clip's frames). At least one sample.
* ``generate``: ``z`` (B, z_dim) (the original draws z ~ U(-1, 1); or a reference-encoded z) and ``landmarks``
  (B, 136) → ``image`` (B, S, S, 3) float32 in [-1, 1] (uint8 RGB = round((x + 1) · 127.5)).
* ``encode_reference``: ``image`` (B, S, S, 3) in [-1, 1] and its ``landmarks`` (B, 136) → ``z`` (B, z_dim) = D's
  logits, the original's reference-encoded z (spec §5.8; ``model.encode_reference``), through tanh unless the
  config's ``reference_z`` is "logits".

BatchNorm: every signature runs in inference mode (moving statistics). A ``legacy_bn`` model (the original sampled
G with batch statistics, spec §9.16) is exported in inference mode anyway: a serving graph that updates or depends on
the batch it is given would make one request's images depend on the others'. metadata.json says so
(``generator_batchnorm``); ``Predictor.faces`` of such a model uses batch statistics and differs from ``generate``.

TFLite. ``zoo.export`` converts one signature a file; this module converts two:

* ``<name>-v<version>.tflite``: ``serving_default`` (``zoo.export``'s own file and parity). The ``report`` preset
  follows specs/environment.md §1's recipe for Keras 3 RNNs: a batch-1 copy of the CNN (``static_batch_cnn``)
  converted with ``from_keras_model``; its input is (1, T, 128, 23, 1) with T dynamic (a WHILE op over the frames):
  one whole clip an invoke, any length.
* ``<name>-v<version>.generate.tflite``: ``generate`` (dynamic batch). It is converted and checked against Keras
  before ``zoo.export`` runs, and renamed into place after it; its checks join the parity report
  (``<name>-v<version>.parity.json``, backend ``tflite``/``tflite_int8``, signature ``generate``). A failed check
  raises ``ExportParityError`` with nothing written.

``int8``: dynamic-range quantisation (int8 weights) of both TFLite files (``.int8.tflite``, ``.generate.int8.tflite``),
held to ``int8_tolerance``.

Parity inputs are real: the FFT features of speech (``audio``, default ``zoo.core.parity_speech()``, resampled to
48 kHz), 48 frames spread over it (two 48-frame clips for the GRU); for ``audio`` two 1.5 s clips (start and end)
whose references are the NumPy float64 features + Keras (``Predictor.landmark_values``), not the TF graph; for
``generate`` the model's reference and mean landmarks and the CNN's landmarks of the speech with z ~ U(-1, 1) (seed 0)
and the reference-encoded z; for ``encode_reference`` the model's reference face and generated faces.
Tolerances are in the outputs' units: normalised landmark coordinates, image values in [-1, 1], logits.
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from zoo.export import Endpoint, ExportError, ExportParityError, ExportResult, ParityCheck, export

from . import features as feats
from . import metrics
from .config import LANDMARK_DIM, Config
from .predict import LANDMARK_NAMES, MODEL, Predictor, metadata_of

log = logging.getLogger(__name__)

NAME = MODEL  # the default servable name
SIGNATURES = ("serving_default", "audio", "generate", "encode_reference")
GENERATOR_SIGNATURE = "generate"
PARITY_FRAMES = 48  # serving_default examples (frames; frames a clip for the GRU)
PARITY_AUDIO_SAMPLES = 72_123  # samples a raw-audio parity clip: 1.5 s + 123 (51 frames, the last one partial)
PARITY_IMAGES = 8  # generate examples
PARITY_SEED = 0  # z ~ U(-1, 1) of the generate parity inputs
MIN_AUDIO_SAMPLES = 1  # the audio signature's shortest input: one sample = one 30 ms frame


@dataclass
class LandmarkExportResult(ExportResult):
    """What ``export_model`` wrote: ``zoo.export.ExportResult`` (the SavedModel, the CNN's TFLite files, the parity
    report and all its checks, the generator's included) plus the generator's TFLite files."""

    generator_tflite: Path | None = None
    generator_tflite_int8: Path | None = None


def tflite_files(name: str, version: int, int8: bool = False) -> dict[str, str]:
    """File names of the TFLite models in the export root: {signature[.int8]: file}."""
    files = {"serving_default": f"{name}-v{version}.tflite", GENERATOR_SIGNATURE: f"{name}-v{version}.generate.tflite"}
    if int8:
        files.update({"serving_default.int8": f"{name}-v{version}.int8.tflite",
                      f"{GENERATOR_SIGNATURE}.int8": f"{name}-v{version}.generate.int8.tflite"})
    return files


# ------------------------------------------------------------------------------------------------ parity inputs
def parity_inputs(predictor: Predictor, audio: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Real inputs of every signature (module docstring) from ``audio`` (float32 mono at 48 kHz, ≥ 2 frames):
    {signature: {input: array}}."""
    config = predictor.config
    audio = np.asarray(audio, np.float32)
    features = feats.fft_features(audio, config)
    n = len(features)
    if n < 2:
        raise ValueError(f"parity audio must hold at least two 30 ms frames ({config.frame_samples + 1} samples at "
                         f"{config.sample_rate} Hz), got {audio.size} samples")
    if config.gru:  # two clips of up to 48 frames: the start and the end of the speech
        frames = min(PARITY_FRAMES, n)
        cnn_in = np.stack([features[:frames], features[-frames:]])
    else:
        cnn_in = features[np.linspace(0, n - 1, min(PARITY_FRAMES, n)).astype(int)]
    length = min(audio.size, PARITY_AUDIO_SAMPLES)
    raw = np.stack([audio[:length], audio[-length:]])

    rng = np.random.default_rng(PARITY_SEED)
    spoken = predictor.landmark_values(features)  # (n, 136): what the chain feeds the generator
    landmarks = np.concatenate([predictor.reference_landmarks[None], predictor.mean_landmarks[None],
                                spoken[np.linspace(0, n - 1, PARITY_IMAGES - 2).astype(int)]]).astype(np.float32)
    z = rng.uniform(-1.0, 1.0, (PARITY_IMAGES, config.z_dim)).astype(np.float32)
    z[0] = reference_z(predictor)  # the original's sampler: D's logits of the reference face
    faces = np.asarray(predictor.network.generator([z[:2], landmarks[:2]], training=False), np.float32)
    reference = metrics.from_uint8(predictor.reference_image[None])
    images = np.concatenate([reference, reference, faces])
    image_landmarks = np.concatenate([predictor.reference_landmarks[None], predictor.mean_landmarks[None],
                                      landmarks[:2]]).astype(np.float32)
    return {"serving_default": {"features": np.ascontiguousarray(cnn_in)}, "audio": {"audio": raw},
            "generate": {"z": z, "landmarks": landmarks},
            "encode_reference": {"image": images, "landmarks": image_landmarks}}


def reference_z(predictor: Predictor) -> np.ndarray:
    """(z_dim,) float32: the reference-encoded z of the model's own reference face (``Predictor.latent``: D's
    logits in inference mode, through tanh unless the config's ``reference_z`` is "logits")."""
    return predictor.latent(1, "reference")[0]


def audio_landmarks(predictor: Predictor, clips: np.ndarray) -> np.ndarray:
    """(B, N, 136): the NumPy float64 features of each 48 kHz clip (rows of equal length) + the Keras CNN."""
    return np.stack([predictor.landmark_values(feats.fft_features(clip, predictor.config)) for clip in clips])


# ------------------------------------------------------------------------------------------------ TF graphs
def endpoints(predictor: Predictor, audio: np.ndarray) -> dict:
    """``zoo.export.Endpoint`` of every signature (module docstring) with real parity inputs cut from ``audio``
    (float32 mono at 48 kHz)."""
    import tensorflow as tf

    from .features_tf import fft_features_tf

    config, network = predictor.config, predictor.network
    cnn, generator, discriminator = network.cnn, network.generator, network.discriminator
    inputs = parity_inputs(predictor, audio)
    frame = [config.chunk, config.chunks, 1]
    size = config.image_size

    def spec(name, shape):
        return tf.TensorSpec(shape, tf.float32, name=name)

    def serve(features):
        return {"landmarks": cnn(features, training=False)}

    def smooth(values):  # (B, N, 136): predict.smooth_landmarks along N ("SAME" average pooling: the frames present)
        if config.smooth_frames == 1:
            return values
        return tf.nn.avg_pool1d(values, config.smooth_frames, 1, "SAME")

    def from_audio(audio):
        features = fft_features_tf(audio, config)  # (B, N, 128, 23, 1)
        if config.gru:
            return {"landmarks": smooth(cnn(features, training=False))}
        shape = tf.shape(features)
        values = cnn(tf.reshape(features, [-1, *frame]), training=False)
        return {"landmarks": smooth(tf.reshape(values, tf.stack([shape[0], shape[1], LANDMARK_DIM])))}

    def generate(z, landmarks):
        return {"image": generator([z, landmarks], training=False)}

    def encode(image, landmarks):
        logits = discriminator([image, landmarks], training=False)
        return {"z": tf.tanh(logits) if config.reference_z == "tanh" else logits}

    cnn_shape = [None, None, *frame] if config.gru else [None, *frame]
    return {
        "serving_default": Endpoint(serve, {"features": spec("features", cnn_shape)}, inputs["serving_default"]),
        "audio": Endpoint(
            from_audio, {"audio": spec("audio", [None, None])}, inputs["audio"],
            expected={"landmarks": audio_landmarks(predictor, inputs["audio"]["audio"])},
            checks=[(f"input audio must hold at least {MIN_AUDIO_SAMPLES} sample (one 30 ms frame at "
                     f"{config.sample_rate} Hz)", lambda audio: tf.shape(audio)[1] >= MIN_AUDIO_SAMPLES)]),
        "generate": Endpoint(generate, {"z": spec("z", [None, config.z_dim]),
                                        "landmarks": spec("landmarks", [None, LANDMARK_DIM])}, inputs["generate"]),
        "encode_reference": Endpoint(encode, {"image": spec("image", [None, size, size, 3]),
                                              "landmarks": spec("landmarks", [None, LANDMARK_DIM])},
                                     inputs["encode_reference"]),
    }


def static_batch_cnn(cnn, config: Config):
    """A batch-1 copy of the GRU CNN with its weights, input (1, T, 128, 23, 1), T dynamic (TFLite's RNN recipe,
    specs/environment.md §1: the GRU's per-step tensors need a static batch). The copy's ``unfold_frames`` reshapes
    the frame embeddings to (1, T, D), so the batch stays static through the graph."""
    import keras
    from keras import layers, ops

    from .model import UnfoldFrames

    class UnfoldOneSequence(layers.Layer):
        """[values (T, D), sequences (1, T, …)] → (1, T, D)."""

        def call(self, inputs):
            values, _ = inputs
            return ops.reshape(values, (1, -1, values.shape[-1]))

        def compute_output_shape(self, shapes):
            values, sequences = shapes
            return (1, sequences[1], values[-1])

    def clone(layer):
        if isinstance(layer, UnfoldFrames):
            return UnfoldOneSequence(name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    features = keras.Input((None, config.chunk, config.chunks, 1), batch_size=1, name="features")
    copy = keras.models.clone_model(cnn, input_tensors=features, clone_function=clone)
    copy.set_weights(cnn.get_weights())
    return copy


def _convert_generator(endpoint, generator, quantisations) -> list[bytes]:
    """TFLite bytes of the ``generate`` signature, one conversion per entry of ``quantisations`` (True: dynamic-range
    quantisation): a SavedModel of the generator alone (``keras.export``'s archive, as ``zoo.export`` writes, in a
    temporary folder) converted with ``from_saved_model``."""
    import tempfile

    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="zoo-generator-") as tmp:
        archive = keras.export.ExportArchive()
        archive.track(generator)
        specs = [tf.TensorSpec(s.shape, s.dtype, name=k) for k, s in endpoint.input_signature.items()]
        archive.add_endpoint(GENERATOR_SIGNATURE, endpoint.fn, input_signature=specs)
        archive.write_out(tmp, verbose=False)
        out = []
        for quantised in quantisations:
            converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[GENERATOR_SIGNATURE])
            if quantised:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            out.append(converter.convert())
        return out


def generator_tflite(endpoint, generator, tolerance: float, int8: bool, int8_tolerance: float):
    """[(backend, TFLite bytes, ParityCheck)] of the generator (float, and int8 when asked), each run by
    ``zoo.core.runners.TFLiteRunner`` on ``endpoint``'s parity inputs against the Keras generator."""
    import tensorflow as tf

    from zoo.core.runners import TFLiteRunner

    reference = np.asarray(endpoint.fn(**{k: tf.constant(v) for k, v in endpoint.parity_inputs.items()})["image"])
    plan = [("tflite", False, tolerance)] + ([("tflite_int8", True, int8_tolerance)] if int8 else [])
    out = []
    for (backend, _, bound), model_bytes in zip(plan, _convert_generator(endpoint, generator, [q for _, q, _ in plan])):
        got = TFLiteRunner(model_bytes, GENERATOR_SIGNATURE)(endpoint.parity_inputs)
        if set(got) != {"image"} or got["image"].shape != reference.shape:
            raise ExportParityError(f"{backend} signature {GENERATOR_SIGNATURE!r} outputs "
                                    f"{ {k: v.shape for k, v in got.items()} }, Keras {{'image': {reference.shape}}}")
        diff = np.abs(got["image"].astype(np.float64) - reference.astype(np.float64))
        out.append((backend, model_bytes, ParityCheck(GENERATOR_SIGNATURE, backend, float(diff.max()),
                                                      float(diff.mean()), bound, len(diff))))
    return out


# ------------------------------------------------------------------------------------------------ metadata
def export_metadata(predictor: Predictor, name: str, version: int, tflite: bool, int8: bool) -> dict:
    """metadata.json facts of an export (``zoo.export`` adds output names, signatures and versions)."""
    config = predictor.config
    return {
        **metadata_of(config), "config": config.to_dict(),
        "landmark_layout": "x0, y0, x1, y1, ..., x67, y67 (68 iBUG points), normalised to [0, 1], y down "
                           f"({config.landmark_norm} normalisation)",
        "frame_seconds": config.frame_ms / 1000,
        "frames": f"audio signature: N = ceil(samples / {config.frame_samples}) frames at t_i = {config.frame_ms} i ms",
        "min_audio_samples": MIN_AUDIO_SAMPLES,
        "feature_shape": list(feats.FEATURE_SHAPE(config)),
        "legacy_scaling": config.legacy_scaling, "log_magnitude": config.log_magnitude,
        "z_dim": config.z_dim, "z_distribution": "U(-1, 1) per value (or a reference-encoded z: encode_reference)",
        "image_range": [-1.0, 1.0], "image_to_uint8": "round((x + 1) * 127.5)",
        "reference_z": [float(v) for v in reference_z(predictor)],
        "generator_batchnorm": "inference (moving statistics) in every signature",
        "legacy_bn": config.legacy_bn,
        "legacy_bn_note": ("the original sampled G with batch statistics (legacy_bn); this export uses the moving "
                           "statistics, so generate differs from Predictor.faces of this model") if config.legacy_bn
        else None,
        "signature_outputs": {"serving_default": "landmarks", "audio": "landmarks", "generate": "image",
                              "encode_reference": "z"},
        "tflite_files": tflite_files(name, version, int8) if tflite else None,
        "tflite_recipe": ("batch-1 copy of the GRU CNN converted from_keras_model (input (1, T, 128, 23, 1), T "
                          "dynamic; one clip an invoke)" if config.gru else "from_saved_model, dynamic batch")
        if tflite else None,
    }


# ------------------------------------------------------------------------------------------------ export
def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def export_model(model_dir: str | os.PathLike, dest: str | os.PathLike, *, audio=None, sample_rate: int | None = None,
                 name: str | None = None, version: int = 1, tflite: bool = True, overwrite: bool = False,
                 tolerance: float = 1e-4, int8: bool = False, int8_tolerance: float = 0.05) -> LandmarkExportResult:
    """Export a trained model directory to ``dest`` (module docstring): the SavedModel ``dest/<name>/<version>/``
    with ``serving_default``, ``audio``, ``generate`` and ``encode_reference``; the CNN's and the generator's TFLite
    files; the parity report. ``audio`` (a path, or an array at ``sample_rate``; default
    ``zoo.core.parity_speech()``) gives the real parity inputs. ``tolerance`` bounds every float parity check
    (normalised landmark units, image values in [-1, 1], logits), ``int8_tolerance`` the int8 TFLite files.
    A refusal (not a landmark_dcgan model directory, an existing export without ``overwrite``) or a failed
    check writes nothing."""
    from zoo.core import parity_audio

    name = NAME if name is None else name
    predictor = Predictor.load(model_dir)  # FileNotFoundError / ModelDirError: not a landmark_dcgan model folder
    config = predictor.config
    if int8 and not tflite:
        raise ExportError("int8 needs tflite=True (the int8 models are second conversions of the TFLite ones)")
    if not name or "/" in name or name.startswith("."):
        raise ExportError(f"invalid export name {name!r}")
    if not (isinstance(version, int) and version > 0):
        raise ExportError(f"version must be a positive integer, got {version!r}")
    dest = Path(dest)
    files = {k: dest / f for k, f in tflite_files(name, version, int8).items()} if tflite else {}
    generator_targets = [files[k] for k in (GENERATOR_SIGNATURE, f"{GENERATOR_SIGNATURE}.int8") if k in files]
    existing = [p for p in [dest / name / str(version), dest / f"{name}-v{version}.parity.json",
                            *files.values()] if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists; replace it with overwrite (overwrite=True, --overwrite on the "
                              "command line)")

    audio = parity_audio(audio, sample_rate, rate=config.sample_rate)
    eps = endpoints(predictor, audio)

    generator_parts = []
    if tflite:  # checked before anything is written
        generator_parts = generator_tflite(eps[GENERATOR_SIGNATURE], predictor.network.generator, tolerance, int8,
                                           int8_tolerance)
        failed = [c for _, _, c in generator_parts if not c.passed]
        if failed:
            worst = failed[0]
            raise ExportParityError(f"{name} v{version}: {worst.backend} signature {GENERATOR_SIGNATURE!r} differs "
                                    f"from Keras by max {worst.max_abs_diff:.3g} (mean {worst.mean_abs_diff:.3g}) > "
                                    f"tolerance {worst.tolerance:g}; nothing was written")

    result = export(predictor.network, dest, name=name, output_names=list(LANDMARK_NAMES),
                    metadata=export_metadata(predictor, name, version, tflite, int8), endpoints=eps, version=version,
                    tflite=tflite, tflite_signature="serving_default",
                    tflite_model=static_batch_cnn(predictor.network.cnn, config) if tflite and config.gru else None,
                    tolerance=tolerance, overwrite=overwrite, tflite_int8=int8, int8_tolerance=int8_tolerance)

    checks = list(result.checks)
    for (backend, model_bytes, check), target in zip(generator_parts, generator_targets):
        _write_atomic(target, model_bytes)
        checks.append(check)
        log.info("%s v%d %s %s: max |Δ| %.3g, mean %.3g", name, version, backend, GENERATOR_SIGNATURE,
                 check.max_abs_diff, check.mean_abs_diff)
    if generator_parts:
        report = json.loads(result.parity_report.read_text())
        report["checks"] += [dict(asdict(c), passed=c.passed) for _, _, c in generator_parts]
        report["passed"] = all(c["passed"] for c in report["checks"])
        report["tflite_files"] = tflite_files(name, version, int8)
        _write_atomic(result.parity_report, json.dumps(report, indent=1).encode())
    return LandmarkExportResult(result.saved_model, result.tflite, result.parity_report, checks, result.tflite_int8,
                                files.get(GENERATOR_SIGNATURE), files.get(f"{GENERATOR_SIGNATURE}.int8"))


__all__ = ["export_model", "endpoints", "parity_inputs", "audio_landmarks", "reference_z", "static_batch_cnn",
           "generator_tflite", "export_metadata", "tflite_files", "LandmarkExportResult", "SIGNATURES", "NAME",
           "MIN_AUDIO_SAMPLES"]
