"""Prediction: frame counts, output formats, emotion control, streaming = batch, the CLI, bad audio."""
from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
import soundfile as sf
from helpers import check_streaming_equals_full

import zoo
from zoo.audio2face import Predictor
from zoo.audio2face import features as feats
from zoo.core.animation import Animation
from zoo.datasets import ARKIT_52, load_audio


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return Predictor.load(tiny_model[0])


@pytest.fixture(scope="module")
def speech(synthetic_facegood):
    wav = sorted((synthetic_facegood / "wav").glob("*.wav"))[0]
    audio, rate = load_audio(wav)
    return wav, audio, rate


def test_frame_count_rule_and_names(predictor, speech):
    wav, audio, rate = speech
    anim = predictor.predict(wav)
    assert anim.values.shape == (len(audio) * 30 // 16000, len(predictor.names))
    assert anim.names == predictor.names and anim.fps == 30
    assert anim.values.std(axis=0).mean() > 1e-4  # the curves move (a collapsed model would make tests vacuous)


def test_44k1_stereo_file_gives_the_16k_frame_count(predictor, speech, tmp_path):
    _, audio, _ = speech
    from zoo.datasets import resample

    a44 = resample(audio, 16000, 44100)
    stereo = np.stack([a44, 0.5 * a44], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 44100, subtype="PCM_16")
    anim = predictor.predict(path)
    assert abs(len(anim.values) - len(a44) * 30 // 44100) <= 1
    mono16 = predictor.predict(audio, 16000)
    n = min(len(anim.values), len(mono16.values))
    # same speech at another rate and layout: the curves agree closely
    assert np.corrcoef(anim.values[:n].ravel(), mono16.values[:n].ravel())[0, 1] > 0.95


def test_audio_shorter_than_one_frame_is_refused(predictor, tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, np.full(400, 0.1), 16000, subtype="PCM_16")
    with pytest.raises(ValueError, match="blip.wav.*shorter than one 30 fps frame"):
        predictor.predict(path)


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".json"])
def test_output_formats_round_trip(predictor, speech, tmp_path, suffix):
    anim = predictor.predict(speech[0])
    path = anim.write(tmp_path / f"out{suffix}")
    back = Animation.read(path, fps=30 if suffix == ".npy" else None)  # .npy holds no frame rate
    assert back.names == anim.names and back.fps == pytest.approx(30)
    np.testing.assert_allclose(back.values, anim.values, atol=1e-5)


def test_npy_output_is_a_structured_array_without_pickle(predictor, speech, tmp_path):
    anim = predictor.predict(speech[0])
    table = np.load(anim.write(tmp_path / "o.npy"), allow_pickle=False)
    assert table.dtype.names == anim.names
    np.testing.assert_array_equal(table["jawOpen"], anim.values[:, anim.names.index("jawOpen")])


def test_arkit_clip_and_smooth(predictor, speech):
    anim = predictor.predict(speech[0])
    from zoo.audio2face.rig import arkit_animation

    ark = arkit_animation(anim)
    assert ark.names == ARKIT_52 and ark.values.shape == (len(anim.values), 52)
    np.testing.assert_array_equal(ark.values[:, ARKIT_52.index("jawOpen")], anim.values[:, anim.names.index("jawOpen")])
    clipped = predictor.predict(speech[0], clip=True)
    assert clipped.values.min() >= 0 and clipped.values.max() <= 1
    smooth = anim.smoothed(5)
    assert np.abs(np.diff(smooth.values, axis=0)).mean() < np.abs(np.diff(anim.values, axis=0)).mean()


def test_emotion_controls(predictor, speech):
    _, audio, _ = speech
    n = len(audio) * 30 // 16000
    db = predictor.database
    mean = predictor.emotion_vectors(None, n)
    np.testing.assert_allclose(mean[0], db.mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(predictor.emotion_vectors(3, n)[5], db[3])
    keys = predictor.emotion_vectors([(0.0, 0), (1.0, 1)], n)
    np.testing.assert_allclose(keys[15], 0.5 * (db[0] + db[1]), rtol=1e-5)  # t = 0.5 s
    np.testing.assert_allclose(keys[-1], db[1], rtol=1e-6)  # held after the last key
    a = predictor.predict(audio, 16000, emotion=0).values
    b = predictor.predict(audio, 16000, emotion=np.full(4, 3.0, np.float32)).values
    assert np.abs(a - b).max() > 1e-4
    with pytest.raises(ValueError, match="outside the database"):
        predictor.emotion_vectors(10**6, n)
    with pytest.raises(ValueError, match="emotion must be"):
        predictor.emotion_vectors(np.zeros(7), n)


def test_whole_clip_prediction_in_chunks_equals_one_pass(predictor, speech, monkeypatch):
    import importlib

    predict_module = importlib.import_module("zoo.audio2face.predict")  # the package re-exports predict()
    _, audio, rate = speech
    n = len(audio) * 30 // 16000
    one_pass = predictor.run(predictor.features(Predictor.audio16k(audio, rate)), predictor.emotion_vectors(None, n))
    calls = []
    original = predictor.features
    monkeypatch.setattr(predict_module, "CHUNK_FRAMES", 7)
    monkeypatch.setattr(predictor, "features", lambda *a, **k: calls.append(a[1:]) or original(*a, **k))
    chunked = predictor.predict(audio, rate).values
    assert len(calls) == -(-n // 7) and calls[1] == (7, 7)  # (frames, first frame) of each chunk
    np.testing.assert_allclose(chunked, one_pass, atol=1e-6)


@pytest.mark.parametrize("chunk", [1000, 533, 4096])
def test_streaming_equals_batch(predictor, speech, chunk):
    _, audio, _ = speech
    audio = audio[: 3 * 16000]
    batch = predictor.predict(audio, 16000).values
    streamer = predictor.streamer()
    got, first_ready = [], None
    for start in range(0, len(audio), chunk):
        frames = streamer.push(audio[start:start + chunk])
        if frames and first_ready is None:
            first_ready = start + chunk
        got += frames
    got += streamer.finish()
    check_streaming_equals_full(batch, got, atol=1e-5)
    # frame 0 (t = 0) needs 260 ms of audio: the algorithmic lookahead
    assert first_ready >= feats.LOOKAHEAD and streamer.lookahead_seconds == pytest.approx(0.26)


def test_cli_predict_writes_curves_plot_and_arkit(tiny_model, speech, tmp_path):
    from zoo.cli import main

    out, png = tmp_path / "curves.csv", tmp_path / "curves.png"
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(speech[0]),
                 "--out", str(out), "--arkit", "--clip", "--plot", str(png)]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["time", *ARKIT_52]
    assert png.stat().st_size > 5000
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(speech[0]),
                 "--out", str(tmp_path / "x.txt")]) == 2


def test_cli_predict_sends_udp_frames(tiny_model, speech, tmp_path):
    import socket
    import threading

    from zoo.audio2face.udp import decode_frame
    from zoo.cli import main

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    audio, _ = load_audio(speech[0])
    short = tmp_path / "short.wav"
    sf.write(short, audio[:8000], 16000, subtype="PCM_16")  # 0.5 s = 15 frames
    names = tmp_path / "receiver_names.txt"  # a receiver rig of 116 slots that holds the ARKit names
    names.write_text("116\n" + "\n".join([*ARKIT_52, *(f"unused_{i}" for i in range(64))]) + "\n")
    got = []

    def listen():
        with contextlib.suppress(OSError):  # the socket closes at the end of the test
            while len(got) < 15:
                got.append(receiver.recv(1024))

    thread = threading.Thread(target=listen)
    thread.start()
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(short),
                 "--out", str(tmp_path / "o.json"), "--udp", f"127.0.0.1:{port}", "--udp-names", str(names)]) == 0
    thread.join(10)
    receiver.close()
    assert len(got) == 15 and all(len(g) == 468 for g in got)
    frames = json.loads((tmp_path / "o.json").read_text())["frames"]
    assert len(frames) == 15
    jaw = json.loads((tmp_path / "o.json").read_text())["names"].index("jawOpen")
    expected = np.clip([f[jaw] for f in frames], 0, 1)
    np.testing.assert_allclose([decode_frame(g)[ARKIT_52.index("jawOpen")] for g in got], expected, atol=1e-5)


# -- the TFLite engine ------------------------------------------------------------------------
REAL_PRESET = zoo.PRETRAINED / "audio2face" / "facegood_real"


def _export_serving(predictor, audio16k, dest, name, **kwargs):
    """``ExportResult`` of ``predictor``'s ``serving_default`` signature alone (SavedModel + TFLite)."""
    from zoo.audio2face.export import endpoints
    from zoo.export import export

    ep = endpoints(predictor, audio16k)["serving_default"]
    return export(predictor.model, dest, name=name, output_names=list(predictor.names), metadata={},
                  endpoints={"serving_default": ep}, tolerance=1e-4, **kwargs)


@pytest.fixture(scope="module")
def tiny_tflite(predictor, speech, tmp_path_factory):
    return _export_serving(predictor, speech[1], tmp_path_factory.mktemp("a2f_tflite"), "tiny").tflite


@pytest.fixture(scope="module")
def real_preset_tflite(speech, tmp_path_factory):
    """(Keras predictor, ExportResult with float and int8 TFLite) of the committed facegood_real preset."""
    keras_predictor = Predictor.load(REAL_PRESET, engine="keras")
    result = _export_serving(keras_predictor, speech[1], tmp_path_factory.mktemp("a2f_real_tflite"), "real",
                             tflite_int8=True)
    return keras_predictor, result


def test_tflite_engine_equals_keras_with_emotion_and_any_batch(tiny_model, predictor, tiny_tflite, speech):
    wav, audio, _ = speech
    lite = Predictor.load(tiny_model[0], tflite=tiny_tflite)
    assert lite.tflite == tiny_tflite and lite.names == predictor.names
    for emotion in (None, 2):
        ref = predictor.predict(wav, emotion=emotion).values
        np.testing.assert_allclose(lite.predict(wav, emotion=emotion).values, ref, atol=1e-4)
    # batches of 7 (the last one shorter): the signature runner resizes its inputs per call
    small = Predictor.load(tiny_model[0], tflite=tiny_tflite, batch_size=7)
    ref = predictor.predict(audio[:16000], 16000).values
    assert len(ref) % 7 != 0
    np.testing.assert_allclose(small.predict(audio[:16000], 16000).values, ref, atol=1e-4)
    streamer = small.streamer()  # streaming goes through the same engine, in small ragged batches
    got = [v for start in range(0, 16000, 1000) for _, v in streamer.push(audio[start:start + 1000])]
    got += [v for _, v in streamer.finish()]
    np.testing.assert_allclose(np.stack(got), ref, atol=1e-4)


def test_int8_tflite_of_the_real_preset_tracks_keras(real_preset_tflite, speech):
    keras_predictor, result = real_preset_tflite
    int8_check = [c for c in result.checks if c.backend == "tflite_int8"][0]
    assert 0 < int8_check.max_abs_diff <= int8_check.tolerance == 0.02
    wav = sorted(speech[0].parent.glob("*.wav"))[2]  # another utterance than the parity audio
    ref = keras_predictor.predict(wav).values
    fp32 = Predictor.load(REAL_PRESET, tflite=result.tflite).predict(wav).values
    int8 = Predictor.load(REAL_PRESET, tflite=result.tflite_int8).predict(wav).values
    np.testing.assert_allclose(fp32, ref, atol=1e-4)
    assert 0 < np.abs(int8 - ref).max() <= 0.02
    moving = ref.std(axis=0) > 1e-3
    assert moving.sum() >= 20
    r = [np.corrcoef(int8[:, k], ref[:, k])[0, 1] for k in np.flatnonzero(moving)]
    assert min(r) > 0.99, dict(zip(np.array(keras_predictor.names)[moving], np.round(r, 4)))


def test_tflite_of_another_model_or_not_tflite_is_refused(tiny_model, predictor, speech, real_preset_tflite,
                                                           tmp_path):
    from zoo.audio2face import preset
    from zoo.audio2face.model import Audio2Face

    config = preset("tiny", output_names=("jawOpen", "mouthClose", "mouthFunnel"))
    other = _export_serving(Predictor(Audio2Face(config), config), speech[1], tmp_path, "other").tflite
    with pytest.raises(ValueError, match=f"{other}.*is 3 wide, the model has {len(predictor.names)}"):
        Predictor.load(tiny_model[0], tflite=other)
    real = real_preset_tflite[1].tflite  # no emotion input: the inputs differ
    with pytest.raises(ValueError, match=f"{real}.*takes inputs .*'features'.*needs .*'emotion'"):
        Predictor.load(tiny_model[0], tflite=real)
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=f"{corrupt}: not a loadable TFLite model"):
        Predictor.load(tiny_model[0], tflite=corrupt)
    with pytest.raises(ValueError, match="missing.tflite: TFLite file not found"):
        Predictor.load(tiny_model[0], tflite=tmp_path / "missing.tflite")


def test_cli_predict_through_tflite(tiny_model, tiny_tflite, speech, tmp_path):
    from zoo.cli import main

    out = tmp_path / "lite.json"
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(speech[0]),
                 "--out", str(out), "--tflite", str(tiny_tflite)]) == 0
    ref = Predictor.load(tiny_model[0]).predict(speech[0]).values
    np.testing.assert_allclose(Animation.read(out).values, ref, atol=1e-4)
    assert main(["audio2face", "predict", "--model", str(tiny_model[0]), "--audio", str(speech[0]),
                 "--out", str(out), "--tflite", str(tmp_path / "none.tflite")]) == 2


# -- model folders: verification before TensorFlow, the engines -----------------------------------------------
SYNTHETIC_PRESET = zoo.PRETRAINED / "audio2face" / "synthetic"


def _reseal(folder):
    """Record the files' new sha256 in metadata.json (dropping deleted ones), as a hand edit that also fixed the
    digests would: what is left to catch is what the files say."""
    from zoo.core.modeldir import sha256_file

    meta = json.loads((folder / "metadata.json").read_text())
    meta["sha256"] = {name: sha256_file(folder / name) for name in meta["sha256"] if (folder / name).is_file()}
    (folder / "metadata.json").write_text(json.dumps(meta))


def _edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **changes}))
    _reseal(folder)


def _replace_database(folder, array):
    path = folder / "emotion_database.npy"
    path.unlink()
    if array is not None:
        np.save(path, array)
    _reseal(folder)


@pytest.mark.parametrize("damage, match", [
    (lambda d: _edit_config(d, hidden_units="32"), "config.json: field 'hidden_units' must be int, found '32'"),
    (lambda d: _edit_config(d, dropout=True), "config.json: field 'dropout' must be float, found True"),
    (lambda d: _edit_config(d, output_names="jawOpen"), "config.json: field 'output_names' must be tuple"),
    (lambda d: _edit_config(d, formant_filters=[16, 16]), "config.json: formant_filters and articulation_filters"),
    (lambda d: _edit_config(d, emotion="joy"), "config.json: emotion must be one of"),
    (lambda d: _edit_config(d, hidden_unit=32), "config.json: unknown field 'hidden_unit'"),
    (lambda d: _edit_config(d, output_names=["jawOpen"]), r"metadata.json: output_names \(\d+\) differ from "
                                                          r"config.json's \(1\)"),
    (lambda d: _edit_config(d, preset="paper"), "metadata.json: preset 'tiny' .* but config.json has 'paper'"),
    (lambda d: _replace_database(d, None), "emotion_database.npy is missing: preset 'tiny' takes an emotion vector "
                                           r"from its learned database \(emotion 'database', E = 4\)"),
    (lambda d: _replace_database(d, np.zeros((5, 3), np.float32)),
     r"emotion_database.npy has shape \(5, 3\), preset 'tiny' .* needs \(N, 4\)"),
    (lambda d: _replace_database(d, np.zeros((0, 4), np.float32)), "emotion_database.npy has no rows"),
])
def test_verify_names_the_file_and_the_field(tiny_model, tmp_path, damage, match):
    import shutil

    from zoo.audio2face.predict import verify
    from zoo.core.modeldir import ModelDirError

    folder = shutil.copytree(tiny_model[0], tmp_path / "model")
    found, config = verify(folder)
    assert found.path == folder and config.preset == "tiny"
    damage(folder)
    with pytest.raises(ModelDirError, match=match):
        verify(folder)
    with pytest.raises(ModelDirError, match=match):
        Predictor.load(folder)


def test_engine_choice(tiny_model):
    from zoo.core.modeldir import ModelDirError

    plain = Predictor.load(tiny_model[0])  # a folder without model.tflite: auto is Keras
    assert plain.engine == "keras" and plain.tflite is None
    with pytest.raises(ModelDirError, match="model/model.tflite is missing: engine 'litert' runs the model folder's"):
        Predictor.load(tiny_model[0], engine="litert")
    with pytest.raises(ValueError, match="engine must be one of auto, keras, litert; got 'tflite'"):
        Predictor.load(tiny_model[0], engine="tflite")
    with pytest.raises(ValueError, match="choose one"):
        Predictor.load(tiny_model[0], tflite="any.tflite", engine="keras")
    for preset in (SYNTHETIC_PRESET, REAL_PRESET):  # published presets hold model.tflite: auto is LiteRT
        report = json.loads((preset / "metadata.json").read_text())["tflite"]
        assert report["file"] == "model.tflite" and report["max_abs_diff"] <= report["tolerance"]
        auto = Predictor.load(preset)
        assert auto.engine == "litert" and auto.tflite == preset / "model.tflite"
        assert Predictor.load(preset, engine="keras").engine == "keras"


@pytest.mark.parametrize("preset, emotion", [(SYNTHETIC_PRESET, 3), (REAL_PRESET, None)], ids=["synthetic", "real"])
def test_litert_engine_never_imports_tensorflow_and_matches_keras(preset, emotion, speech, tmp_path):
    """A published preset predicts through its own model.tflite in a process that never imports TensorFlow or
    Keras (importing the module, loading, verifying, predicting, writing), within the parity bound recorded by
    ``publish``, on another utterance than the parity sentence."""
    import subprocess
    import sys

    out = tmp_path / "lite.npy"
    code = ("import sys; from zoo.audio2face.predict import Predictor; "
            "imported = 'tensorflow' in sys.modules or 'keras' in sys.modules; "
            f"p = Predictor.load({str(preset)!r}, engine='litert'); "
            f"p.predict({str(speech[0])!r}, emotion={emotion!r}).write({str(out)!r}); "
            "print(p.engine, imported, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["litert", "False", "False", "False"]
    keras_predictor = Predictor.load(preset, engine="keras")
    reference = keras_predictor.predict(speech[0], emotion=emotion).values
    got = Animation.read(out, fps=30).values
    bound = keras_predictor.metadata["tflite"]["tolerance"]
    assert got.shape == reference.shape and np.abs(got - reference).max() <= bound


def test_weights_or_tflite_of_the_other_preset_are_refused(tmp_path):
    """Weights of the other committed preset, resealed so every sha256 matches: ``verify`` (no TensorFlow) refuses
    them with one error naming model.weights.h5, whatever the engine; the other preset's model.tflite is refused
    by the LiteRT engine."""
    import shutil

    from zoo.audio2face.predict import verify
    from zoo.core.modeldir import ModelDirError

    folder = shutil.copytree(SYNTHETIC_PRESET, tmp_path / "synthetic")
    shutil.copyfile(REAL_PRESET / "model.weights.h5", folder / "model.weights.h5")
    _reseal(folder)
    fit = r"synthetic/model.weights.h5: the weights do not fit config.json \(preset 'paper', 41 outputs\)"
    for load in (verify, lambda f: Predictor.load(f, engine="keras"), lambda f: Predictor.load(f, engine="litert")):
        with pytest.raises(ModelDirError, match=fit):
            load(folder)
    shutil.copyfile(SYNTHETIC_PRESET / "model.weights.h5", folder / "model.weights.h5")
    shutil.copyfile(REAL_PRESET / "model.tflite", folder / "model.tflite")
    _reseal(folder)
    with pytest.raises(ModelDirError, match="synthetic/model.tflite: 'serving_default' takes inputs"):
        Predictor.load(folder)


def test_keras_refusing_the_weights_is_the_same_error(tiny_model, tmp_path, monkeypatch):
    """Past the TF-free check (switched off here), Keras' own refusal while the model is built is the same kind of
    error (``zoo.core.modeldir.load_weights``): weights of 8 hidden units for a config of 32."""
    import shutil

    from zoo.audio2face import Config
    from zoo.audio2face import predict as predict_module
    from zoo.audio2face.model import Audio2Face
    from zoo.core.modeldir import ModelDirError

    folder = shutil.copytree(tiny_model[0], tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    Audio2Face(Config.from_dict({**config, "hidden_units": 8})).save_weights(str(folder / "model.weights.h5"))
    _reseal(folder)
    monkeypatch.setattr(predict_module.modeldir, "check_weight_shapes", lambda *a, **k: None)
    with pytest.raises(ModelDirError, match="model/model.weights.h5: the weights do not fit config.json"):
        Predictor.load(folder, engine="keras")


@pytest.mark.parametrize("name", ["paper", "facegood_tf2", "facegood_tfv1", "tiny"])
def test_expected_weight_shapes_are_those_of_the_built_model(name):
    from zoo.audio2face import PRESETS, preset
    from zoo.audio2face.model import Audio2Face
    from zoo.audio2face.predict import expected_weight_shapes

    for changes in ({}, {"input_norm": False, "hidden_units": 7, "emotion_dim": 16 if name != "tiny" else 3}):
        config = preset(name, output_names=PRESETS[name].output_names or ("jawOpen", "mouthClose"), **changes)
        assert expected_weight_shapes(config) == sorted(tuple(w.shape) for w in Audio2Face(config).weights)


def test_a_predictor_of_a_keras_model_builds_nothing_more():
    """``Predictor(model, config)`` (as training's validation makes it) runs that model; one without a model, a
    folder or a TFLite file is refused."""
    from zoo.audio2face import preset
    from zoo.audio2face.model import Audio2Face

    config = preset("tiny", output_names=("jawOpen", "mouthClose"))
    model = Audio2Face(config)
    predictor = Predictor(model, config)
    assert predictor.model is model and predictor.engine == "keras"
    features = np.zeros((3, *feats.FEATURE_SHAPE), np.float32)
    assert predictor.run(features, np.zeros((3, 4), np.float32)).shape == (3, 2)
    with pytest.raises(ValueError, match="needs a Keras model, a model directory or a TFLite file"):
        Predictor(None, config)
