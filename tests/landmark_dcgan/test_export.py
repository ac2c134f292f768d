"""Export of the landmark CNN + DCGAN: one SavedModel (TF-Serving layout) with ``serving_default`` (features),
``audio`` (raw 48 kHz, FFT in TF ops), ``generate`` and ``encode_reference``; the CNN's and the generator's TFLite
files with parity (float and int8); the report preset's GRU through TFLite's batch-1 recipe; refusals write nothing.

The model directories are made without training: a preset's fresh (seeded) weights, the reference face cut from
``skimage.data.astronaut()`` and landmarks of the synthetic corpus' face template, written by ``write_model_dir``."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from helpers import check_export_parity, speech_like

from zoo.core.modeldir import ModelDirError
from zoo.export import ExportParityError
from zoo.landmark_dcgan import export as lx
from zoo.landmark_dcgan import features as feats
from zoo.landmark_dcgan.config import preset
from zoo.landmark_dcgan.model import encode_reference
from zoo.landmark_dcgan.predict import (
    LANDMARK_NAMES,
    MEAN_LANDMARKS,
    REFERENCE_IMAGE,
    REFERENCE_LANDMARKS,
    Predictor,
    build_network,
    metadata_of,
)

TOLERANCE = 1e-5  # every float parity check of the tiny exports (landmarks in [0, 1], images in [-1, 1], logits)
INT8_TOLERANCE = 0.05  # the int8 TFLite files (measured ≤ 0.013 on a trained tiny model)
RATE = 48000


def template_landmarks(identity: str, jaw_open: float = 0.0) -> np.ndarray:
    """(136,) min–max normalised landmarks of the synthetic corpus' face (front view, y down)."""
    from zoo.datasets.synthetic import geometry
    from zoo.landmark_dcgan.landmarks import normalise

    weights = np.zeros(len(geometry.ARKIT_52), np.float32)
    weights[list(geometry.ARKIT_52).index("jawOpen")] = jaw_open
    points = geometry.landmarks3d(geometry.deform(identity, weights))[:, :2] * [1.0, -1.0]
    return normalise(points[None], "minmax")[0].astype(np.float32)


def write_model(dest, config):
    """A model directory of ``config`` with its fresh seeded weights, a real reference face (the astronaut's,
    S×S in [−1, 1]) and template landmarks, as ``train`` writes it (no training)."""
    import cv2
    import keras
    from skimage.data import astronaut

    from zoo.core.modeldir import write_model_dir
    from zoo.datasets.synthetic.geometry import IDENTITIES

    keras.utils.set_random_seed(config.seed)
    size = config.image_size
    face = cv2.resize(astronaut()[20:220, 140:340], (size, size), interpolation=cv2.INTER_AREA)
    arrays = {MEAN_LANDMARKS: np.mean([template_landmarks(i, 0.2) for i in IDENTITIES], axis=0),
              REFERENCE_IMAGE: face.astype(np.float32) / 127.5 - 1.0,
              REFERENCE_LANDMARKS: template_landmarks(IDENTITIES[0])}
    return write_model_dir(dest, config=config.to_dict(), model=build_network(config), metadata=metadata_of(config),
                           arrays=arrays)


def bare_predictor(config) -> Predictor:
    """A Predictor of ``config``'s fresh network without a model directory (a grey reference face)."""
    size = config.image_size
    return Predictor(build_network(config), config, mean_landmarks=template_landmarks("f2"),
                     reference_image=np.full((size, size, 3), 128, np.uint8),
                     reference_landmarks=template_landmarks("f1"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(model_dir, result) of the tiny preset exported with the int8 TFLite files."""
    model_dir = write_model(tmp_path_factory.mktemp("model") / "model", preset("tiny"))
    return model_dir, lx.export_model(model_dir, tmp_path_factory.mktemp("export"), tolerance=TOLERANCE, int8=True,
                                      int8_tolerance=INT8_TOLERANCE)


@pytest.fixture(scope="module")
def served(tiny):
    """(Predictor, loaded SavedModel) of the tiny export."""
    model_dir, result = tiny
    return Predictor.load(model_dir), tf.saved_model.load(str(result.saved_model))


@pytest.fixture(scope="module")
def speech():
    """1.2 s of speech-like audio at 48 kHz (not the parity sentence) + 7 samples: 41 frames."""
    audio = speech_like(1.3, RATE, seed=3)[: int(1.2 * RATE) + 7]
    assert feats.frame_count(len(audio), preset("tiny")) == 41
    return audio


def test_tf_serving_layout_metadata_and_parity_report(tiny):
    model_dir, result = tiny
    sm, root = result.saved_model, result.saved_model.parent.parent
    assert (sm.name, sm.parent.name) == ("1", "landmark_dcgan") and (sm / "saved_model.pb").is_file()
    assert (result.tflite, result.tflite_int8) == (root / "landmark_dcgan-v1.tflite",
                                                   root / "landmark_dcgan-v1.int8.tflite")
    assert (result.generator_tflite, result.generator_tflite_int8) == (
        root / "landmark_dcgan-v1.generate.tflite", root / "landmark_dcgan-v1.generate.int8.tflite")
    assert result.generator_tflite_int8.stat().st_size < result.generator_tflite.stat().st_size
    assert sorted(p.name for p in root.iterdir()) == sorted(
        ["landmark_dcgan", "landmark_dcgan-v1.parity.json", *lx.tflite_files("landmark_dcgan", 1, True).values()])

    report = check_export_parity(result, TOLERANCE, lx.SIGNATURES)
    checked = {(c["backend"], c["signature"]): c for c in report["checks"]}
    assert set(checked) == {*(("saved_model", s) for s in lx.SIGNATURES), ("tflite", "serving_default"),
                            ("tflite", "generate"), ("tflite_int8", "serving_default"), ("tflite_int8", "generate")}
    assert [c.signature for c in result.checks] == [c["signature"] for c in report["checks"]]
    for key in (("tflite_int8", "serving_default"), ("tflite_int8", "generate")):  # int8 weights: a real, bounded Δ
        assert 0 < checked[key]["max_abs_diff"] <= INT8_TOLERANCE == checked[key]["tolerance"]
    assert checked[("tflite", "generate")]["examples"] == lx.PARITY_IMAGES

    meta = json.loads((sm / "assets" / "metadata.json").read_text())
    assert (meta["sample_rate"], meta["preset"], meta["image_size"], meta["z_dim"]) == (48000, "tiny", 64, 100)
    assert meta["fps"] == pytest.approx(100 / 3) and meta["lookahead_seconds"] == 0.03
    assert meta["output_names"] == list(LANDMARK_NAMES) and LANDMARK_NAMES[:3] == ("x00", "y00", "x01")
    assert (sm / "assets" / "output_names.txt").read_text().split("\n")[:-1] == list(LANDMARK_NAMES)
    assert meta["generator_batchnorm"].startswith("inference") and meta["legacy_bn"] is False
    assert meta["tflite_files"]["generate"] == result.generator_tflite.name
    signatures = meta["signatures"]
    assert signatures["serving_default"]["inputs"]["features"]["shape"] == [None, 128, 23, 1]
    assert signatures["audio"]["outputs"]["landmarks"]["shape"] == [None, None, 136]
    assert signatures["generate"]["outputs"]["image"]["shape"] == [None, 64, 64, 3]
    assert signatures["encode_reference"]["outputs"]["z"]["shape"] == [None, 100]
    predictor = Predictor.load(model_dir)
    image = predictor.reference_image.astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(meta["reference_z"], encode_reference(
        predictor.network.discriminator, image, predictor.reference_landmarks, squash=True)[0], atol=1e-6)


def test_warmup_requests_hold_one_request_per_signature(tiny):
    from tensorflow_serving.apis import prediction_log_pb2

    _, result = tiny
    warmup = result.saved_model / "assets.extra" / "tf_serving_warmup_requests"
    requests = []
    for record in tf.data.TFRecordDataset(str(warmup)):
        entry = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        requests.append(entry.predict_log.request)
    assert sorted(r.model_spec.signature_name for r in requests) == sorted(lx.SIGNATURES)
    generate = next(r for r in requests if r.model_spec.signature_name == "generate")
    assert set(generate.inputs) == {"z", "landmarks"} and generate.model_spec.name == "landmark_dcgan"
    z = tf.make_ndarray(generate.inputs["z"])
    assert z.shape == (4, 100) and np.abs(z[1:]).max() <= 1.0  # row 0: the reference-encoded z, rows 1-3: U(-1, 1)


def test_feature_and_generator_signatures_equal_keras(served, speech):
    """Fresh inputs (not the parity ones): the reloaded signatures give the Keras networks' outputs."""
    predictor, loaded = served
    network = predictor.network
    features = feats.fft_features(speech, predictor.config)
    landmarks = loaded.signatures["serving_default"](features=tf.constant(features))["landmarks"].numpy()
    assert landmarks.shape == (41, 136) and 0 <= landmarks.min() and landmarks.max() <= 1
    np.testing.assert_allclose(landmarks, network.cnn(features, training=False), atol=TOLERANCE)

    rng = np.random.default_rng(5)
    z = rng.uniform(-1, 1, (5, 100)).astype(np.float32)
    images = loaded.signatures["generate"](z=tf.constant(z), landmarks=tf.constant(landmarks[:5]))["image"].numpy()
    assert images.shape == (5, 64, 64, 3) and np.abs(images).max() <= 1
    np.testing.assert_allclose(images, network.generator([z, landmarks[:5]], training=False), atol=TOLERANCE)
    codes = loaded.signatures["encode_reference"](image=tf.constant(images), landmarks=tf.constant(landmarks[:5]))
    np.testing.assert_allclose(codes["z"].numpy(), encode_reference(network.discriminator, images, landmarks[:5],
                                                                    squash=True), atol=TOLERANCE)


def test_audio_signature_equals_numpy_features_and_keras(served, speech):
    """Raw 48 kHz audio in: N = ceil(S / 1440) landmark frames, equal to the NumPy float64 features + Keras."""
    predictor, loaded = served
    clips = np.stack([speech, speech[::-1].copy()])
    out = loaded.signatures["audio"](audio=tf.constant(clips))["landmarks"].numpy()
    assert out.shape == (2, 41, 136)
    np.testing.assert_allclose(out, lx.audio_landmarks(predictor, clips), atol=TOLERANCE)
    short = loaded.signatures["audio"](audio=tf.constant(speech[None, :1441]))["landmarks"].numpy()
    assert short.shape == (1, 2, 136)  # ceil(1441 / 1440)
    np.testing.assert_allclose(short[0, 0], out[0, 0], atol=TOLERANCE)  # frame 0 reads samples 0 … 1439 of both
    with pytest.raises(tf.errors.InvalidArgumentError, match="signature audio: input audio must hold at least 1 "):
        loaded.signatures["audio"](audio=tf.zeros((1, 0)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"signature generate: input z must have shape"):
        loaded.signatures["generate"](z=tf.zeros((1, 99)), landmarks=tf.zeros((1, 136)))


def test_tflite_files_equal_keras_on_fresh_inputs(served, tiny, speech):
    """The written .tflite files (ai-edge-litert, no TensorFlow graph): the CNN on speech features, the generator on
    (z, the CNN's landmarks)."""
    from zoo.core.runners import TFLiteRunner

    predictor, _ = served
    _, result = tiny
    network = predictor.network
    features = feats.fft_features(speech, predictor.config)[::4]
    cnn = TFLiteRunner(result.tflite).check({"features": (128, 23, 1)}, {"landmarks": 136})
    landmarks = cnn({"features": features})["landmarks"]
    np.testing.assert_allclose(landmarks, network.cnn(features, training=False), atol=TOLERANCE)
    generator = TFLiteRunner(result.generator_tflite, "generate").check({"z": (100,), "landmarks": (136,)},
                                                                       {"image": 3})
    z = np.random.default_rng(6).uniform(-1, 1, (len(landmarks), 100)).astype(np.float32)
    images = generator({"z": z, "landmarks": landmarks})["image"]
    np.testing.assert_allclose(images, network.generator([z, landmarks], training=False), atol=TOLERANCE)
    quantised = TFLiteRunner(result.generator_tflite_int8, "generate")({"z": z, "landmarks": landmarks})["image"]
    assert 0 < np.abs(quantised - images).max() <= INT8_TOLERANCE


def test_audio_endpoint_follows_legacy_scaling_and_log_magnitude(speech):
    """The raw-audio graph uses the config's scaling, log magnitudes (with the model's standardisation) and smoothing:
    equal to the NumPy features + Keras (+ ``smooth_landmarks``), and different from the default features'
    landmarks."""
    from zoo.landmark_dcgan.model import set_feature_statistics
    from zoo.landmark_dcgan.predict import smooth_landmarks

    outputs = {}
    for key, config in (("default", preset("tiny")), ("legacy", preset("tiny", legacy_scaling=True,
                                                                       log_magnitude=True)),
                        ("smoothed", preset("tiny", smooth_frames=5))):
        predictor = bare_predictor(config)
        if config.log_magnitude:
            set_feature_statistics(predictor.network.cnn, np.full(128, -1.0), np.full(128, 2.5))
        ep = lx.endpoints(predictor, speech)["audio"]
        outputs[key] = ep.fn(audio=tf.constant(ep.parity_inputs["audio"]))["landmarks"].numpy()
        assert outputs[key].shape == ep.expected["landmarks"].shape == (2, 41, 136)
        np.testing.assert_allclose(outputs[key], ep.expected["landmarks"], atol=TOLERANCE)
    assert np.abs(outputs["legacy"] - outputs["default"]).max() > 100 * TOLERANCE
    # smooth_frames: the same network's frames averaged over 5 centred frames (3 at the clip's ends) of each row
    np.testing.assert_allclose(outputs["smoothed"], [smooth_landmarks(row, 5) for row in outputs["default"]],
                               atol=TOLERANCE)
    np.testing.assert_allclose(outputs["smoothed"][:, 0], outputs["default"][:, :3].mean(axis=1), atol=TOLERANCE)


def test_legacy_bn_model_exports_inference_mode_and_says_so(speech):
    """``legacy_bn`` (the original sampled with batch statistics): ``generate`` uses the moving statistics anyway,
    i.e. G(training=False), which differs from the batch-statistics images; metadata.json says so."""
    config = preset("tiny", legacy_bn=True)
    predictor = bare_predictor(config)
    network = predictor.network
    meta = lx.export_metadata(predictor, "landmark_dcgan", 1, tflite=True, int8=False)
    assert meta["legacy_bn"] is True and "batch statistics" in meta["legacy_bn_note"]
    assert meta["generator_batchnorm"].startswith("inference")
    ep = lx.endpoints(predictor, speech)["generate"]
    z, landmarks = ep.parity_inputs["z"], ep.parity_inputs["landmarks"]
    images = ep.fn(z=tf.constant(z), landmarks=tf.constant(landmarks))["image"].numpy()
    np.testing.assert_array_equal(images, network.generator([z, landmarks], training=False))
    assert np.abs(images - network.generator([z, landmarks], training=True)).max() > 0.01


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_report_preset_gru_exports_with_sequence_shapes(tmp_path, speech):
    """The GRU CNN: serving_default (B, T, 128, 23, 1) → (B, T, 136) for any T; audio (B, N, 136) runs the GRU over
    each clip; the TFLite file is the batch-1 recipe, (1, T, 128, 23, 1) with T dynamic, equal to Keras."""
    from zoo.core.runners import TFLiteRunner

    model_dir = write_model(tmp_path / "model", preset("tiny", gru=True))
    result = lx.export_model(model_dir, tmp_path / "export", tolerance=TOLERANCE)
    check_export_parity(result, TOLERANCE, lx.SIGNATURES)
    predictor = Predictor.load(model_dir)
    cnn = predictor.network.cnn
    loaded = tf.saved_model.load(str(result.saved_model))
    features = feats.fft_features(speech, predictor.config)
    clips = np.stack([features[:17], features[-17:]])
    out = loaded.signatures["serving_default"](features=tf.constant(clips))["landmarks"].numpy()
    assert out.shape == (2, 17, 136)
    np.testing.assert_allclose(out, cnn(clips, training=False), atol=TOLERANCE)
    audio = loaded.signatures["audio"](audio=tf.constant(speech[None]))["landmarks"].numpy()
    assert audio.shape == (1, 41, 136)
    np.testing.assert_allclose(audio[0], predictor.landmark_values(features), atol=TOLERANCE)
    runner = TFLiteRunner(result.tflite)
    assert runner.input_shapes == {"features": (1, -1, 128, 23, 1)}
    for frames in (5, 23):
        got = next(iter(runner({"features": features[None, :frames]}).values()))
        assert got.shape == (1, frames, 136)
        np.testing.assert_allclose(got, cnn(features[None, :frames], training=False), atol=TOLERANCE)
    meta = json.loads((result.saved_model / "assets" / "metadata.json").read_text())
    assert meta["gru"] is True and meta["signatures"]["serving_default"]["inputs"]["features"]["shape"] == [
        None, None, 128, 23, 1] and "batch-1" in meta["tflite_recipe"]


def test_refusals_write_nothing(tiny, tmp_path):
    """An existing export without overwrite, a folder that is no model and a generator TFLite over its tolerance
    (int8 held to 1e-6) are refused before anything is written or changed."""
    model_dir, result = tiny
    root = result.saved_model.parent.parent
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    with pytest.raises(FileExistsError, match="landmark_dcgan.* exists; replace it with overwrite"):
        lx.export_model(model_dir, root)
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before

    not_a_model = tmp_path / "notes"
    not_a_model.mkdir()
    (not_a_model / "readme.txt").write_text("not a model\n")
    with pytest.raises(FileNotFoundError, match="notes: not a model directory"):
        lx.export_model(not_a_model, tmp_path / "out")
    (not_a_model / "metadata.json").write_text("{")  # a model directory of another model or a broken one
    for file in ("config.json", "model.weights.h5"):
        (not_a_model / file).write_bytes((model_dir / file).read_bytes())
    with pytest.raises(ModelDirError, match="notes"):
        lx.export_model(not_a_model, tmp_path / "out")
    assert not (tmp_path / "out").exists()

    with pytest.raises(ExportParityError, match="tflite_int8 signature 'generate' differs from Keras.*nothing was "
                                                "written"):
        lx.export_model(model_dir, tmp_path / "strict", int8=True, int8_tolerance=1e-6)
    assert not (tmp_path / "strict").exists()


@pytest.mark.slow
def test_full_size_original_preset_exports_within_tolerance(tmp_path):
    """The faithful sizes (CNN 276,104; G and D at 256²): every float check ≤ 1e-5 (measured ≤ 4e-7; int8 ≤ 0.006),
    the generator's TFLite file holds the 256² G."""
    model_dir = write_model(tmp_path / "model", preset("original"))
    result = lx.export_model(model_dir, tmp_path / "export", tolerance=TOLERANCE, int8=True,
                             int8_tolerance=INT8_TOLERANCE)
    check_export_parity(result, TOLERANCE, lx.SIGNATURES)
    meta = json.loads((result.saved_model / "assets" / "metadata.json").read_text())
    assert meta["signatures"]["generate"]["outputs"]["image"]["shape"] == [None, 256, 256, 3]
    size = result.generator_tflite.stat().st_size  # 4 bytes a parameter of G (BatchNorm folded into the deconvs)
    assert 0.99 < size / (4 * 9_250_779) < 1.01 and result.generator_tflite_int8.stat().st_size < 0.3 * size


@pytest.mark.slow
def test_trained_model_exports_within_the_default_tolerance(trained, tmp_path):
    """The tiny model trained on the synthetic RAVDESS subset, with the default tolerance (1e-4)."""
    model_dir, _ = trained
    result = lx.export_model(model_dir, tmp_path)
    report = check_export_parity(result, 1e-4, lx.SIGNATURES)
    assert report["tolerance"] == 1e-4 and ("tflite", "generate") in {(c["backend"], c["signature"])
                                                                       for c in report["checks"]}
