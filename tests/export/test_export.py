"""Export round trip on a tiny Conv1D model and a tiny GRU model (DESIGN §5)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

import zoo
from zoo.export import Endpoint, ExportedModel, ExportError, ExportParityError, export

NAMES = ["jawOpen", "mouthClose", "mouthFunnel"]


@pytest.fixture(scope="module")
def conv_model():
    keras.utils.set_random_seed(1)
    x = inputs = keras.Input((24, 8), name="lpc")
    x = keras.layers.Conv1D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Conv1D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def _gru(batch_size=None):
    inputs = keras.Input((10, 5), batch_size=batch_size, name="mfcc")
    x = keras.layers.GRU(12, return_sequences=True)(inputs)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


@pytest.fixture(scope="module")
def real_inputs():
    """Real speech-like features: framed log-energy of a chirp, not random noise."""
    t = np.arange(16000 * 2) / 16000
    audio = np.sin(2 * np.pi * (150 + 200 * t) * t) * np.exp(-((t % 0.5) - 0.25) ** 2 * 40)
    frames = tf.signal.frame(audio.astype(np.float32), 400, 160).numpy()
    spec = np.log(np.abs(np.fft.rfft(frames, axis=1))[:, :8] + 1e-3).astype(np.float32)
    return spec


def _assert_layout(root, name, version=1):
    sm = root / name / str(version)
    assert (sm / "saved_model.pb").is_file() and (sm / "variables").is_dir()
    assert (sm / "assets" / "output_names.txt").read_text().split() == NAMES
    meta = json.loads((sm / "assets" / "metadata.json").read_text())
    assert (sm / "assets.extra" / "tf_serving_warmup_requests").is_file()
    assert (root / f"{name}-v{version}.tflite").stat().st_size > 0
    report = json.loads((root / f"{name}-v{version}.parity.json").read_text())
    assert report["passed"] and {c["backend"] for c in report["checks"]} == {"saved_model", "tflite"}
    assert not [p for p in root.iterdir() if p.name.startswith(".staging")]
    return sm, meta, report


def test_conv1d_round_trip(tmp_path, conv_model, real_inputs):
    x = np.stack([real_inputs[i:i + 24] for i in range(0, 120, 10)])  # 12 real windows
    result = export(conv_model, tmp_path, name="tiny_conv", output_names=NAMES,
                    metadata={"fps": 30, "sample_rate": 16000, "window_s": 0.52}, parity_inputs=x)
    sm, meta, report = _assert_layout(tmp_path, "tiny_conv")
    assert meta["fps"] == 30 and meta["output_names"] == NAMES
    assert meta["tflite_int8"] is False and result.tflite_int8 is None
    assert not (tmp_path / "tiny_conv-v1.int8.tflite").exists()
    assert meta["signatures"]["serving_default"]["inputs"]["lpc"]["shape"] == [None, 24, 8]
    for check in result.checks:
        assert check.max_abs_diff <= 1e-5 and check.examples == 12

    # the SavedModel signature, reloaded the way a user would, equals Keras
    loaded = tf.saved_model.load(str(sm))
    got = loaded.signatures["serving_default"](lpc=tf.constant(x))["outputs"].numpy()
    np.testing.assert_allclose(got, conv_model(x).numpy(), atol=1e-5)
    # batch-dynamic: another batch size works
    assert loaded.signatures["serving_default"](lpc=tf.constant(x[:3]))["outputs"].shape == (3, 3)

    # the TFLite file, run by ai-edge-litert, equals Keras
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(tmp_path / "tiny_conv-v1.tflite")).get_signature_runner("serving_default")
    np.testing.assert_allclose(runner(lpc=x)["outputs"], conv_model(x).numpy(), atol=1e-5)

    # warmup records parse as TF-Serving PredictionLog
    records = list(tf.data.TFRecordDataset(str(sm / "assets.extra" / "tf_serving_warmup_requests")))
    assert len(records) == 1
    entry = prediction_log_pb2.PredictionLog.FromString(records[0].numpy())
    request = entry.predict_log.request
    assert request.model_spec.name == "tiny_conv" and request.model_spec.signature_name == "serving_default"
    np.testing.assert_array_equal(tf.make_ndarray(request.inputs["lpc"]), x[:4])

    # zoo.load gives the same numbers and the names
    exported = zoo.load(tmp_path / "tiny_conv")
    assert isinstance(exported, ExportedModel) and exported.output_names == NAMES
    np.testing.assert_allclose(exported(lpc=x)["outputs"], conv_model(x).numpy(), atol=1e-5)


def test_gru_round_trip_with_static_batch_recipe(tmp_path, real_inputs):
    keras.utils.set_random_seed(2)
    model, model_b1 = _gru(), _gru(batch_size=1)
    model_b1.set_weights(model.get_weights())
    x = np.stack([real_inputs[i:i + 10, :5] for i in range(0, 60, 10)])
    result = export(model, tmp_path, name="tiny_gru", output_names=NAMES, metadata={"fps": 100},
                    parity_inputs=x, tflite_model=model_b1)
    _assert_layout(tmp_path, "tiny_gru")
    tfl = [c for c in result.checks if c.backend == "tflite"][0]
    assert tfl.examples == 6 and tfl.max_abs_diff <= 1e-5


def test_gru_unrolled_converts_with_dynamic_batch(tmp_path, real_inputs):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((10, 5), name="mfcc")
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GRU(12, return_sequences=True, unroll=True)(inputs)))
    x = np.stack([real_inputs[i:i + 10, :5] for i in range(0, 40, 10)])
    result = export(model, tmp_path, name="gru_unrolled", output_names=NAMES, metadata={}, parity_inputs=x)
    assert all(c.max_abs_diff <= 1e-5 for c in result.checks)


def test_streaming_style_extra_signature(tmp_path, conv_model, real_inputs):
    x = np.stack([real_inputs[i:i + 24] for i in range(0, 40, 10)])

    def serve(lpc):
        return {"outputs": conv_model(lpc, training=False)}

    def clipped(lpc, gain):
        return {"weights": tf.clip_by_value(conv_model(lpc, training=False) * gain, 0.0, 1.0)}

    endpoints = {
        "serving_default": Endpoint(serve, {"lpc": tf.TensorSpec([None, 24, 8], tf.float32)}, {"lpc": x}),
        "clipped": Endpoint(clipped, {"lpc": tf.TensorSpec([None, 24, 8], tf.float32),
                                      "gain": tf.TensorSpec([], tf.float32)},
                            {"lpc": x, "gain": np.float32(3.0)}),
    }
    result = export(conv_model, tmp_path, name="two_sigs", output_names=NAMES, metadata={}, endpoints=endpoints)
    assert {(c.signature, c.backend) for c in result.checks} == {
        ("serving_default", "saved_model"), ("clipped", "saved_model"), ("serving_default", "tflite")}
    records = list(tf.data.TFRecordDataset(str(result.saved_model / "assets.extra" / "tf_serving_warmup_requests")))
    assert sorted(prediction_log_pb2.PredictionLog.FromString(r.numpy()).predict_log.request.model_spec.signature_name
                  for r in records) == ["clipped", "serving_default"]


def test_signatures_check_their_inputs_in_the_graph(tmp_path, conv_model, real_inputs):
    """What TF-Serving runs (the reloaded signatures) refuses a wrong rank, static dimension, dtype, batch or an
    ``Endpoint.checks`` predicate with an error naming the signature and the input; the TFLite file (which has
    no checks) still converts within tolerance; ``ExportedModel`` refuses an integer array for a float input."""
    x = np.stack([real_inputs[i:i + 24] for i in range(0, 40, 10)])  # (4, 24, 8)
    offset = np.linspace(0, 1, 12, dtype=np.float32).reshape(4, 3)
    lpc = tf.TensorSpec([None, 24, 8], tf.float32)
    endpoints = {
        "serving_default": Endpoint(lambda lpc: {"outputs": conv_model(lpc, training=False)}, {"lpc": lpc}, {"lpc": x}),
        "clipped": Endpoint(lambda lpc, gain: {"outputs": conv_model(lpc, training=False) * gain},
                            {"lpc": lpc, "gain": tf.TensorSpec([], tf.float32)}, {"lpc": x, "gain": np.float32(2)},
                            checks=[("gain must be positive", lambda lpc, gain: gain > 0)]),
        # without the batch check an offset of batch 1 would broadcast over any lpc batch, silently
        "paired": Endpoint(lambda lpc, offset: {"outputs": conv_model(lpc, training=False) + offset},
                           {"lpc": lpc, "offset": tf.TensorSpec([None, 3], tf.float32)}, {"lpc": x, "offset": offset}),
    }
    result = export(conv_model, tmp_path, name="checked", output_names=NAMES, metadata={}, endpoints=endpoints)
    assert [c.backend for c in result.checks if c.max_abs_diff <= 1e-5].count("tflite") == 1
    loaded = tf.saved_model.load(str(result.saved_model))
    ref = conv_model(x).numpy()
    np.testing.assert_allclose(loaded.signatures["paired"](lpc=x, offset=offset)["outputs"], ref + offset, atol=1e-5)

    def error(signature, **inputs):
        with pytest.raises(tf.errors.InvalidArgumentError) as failed:
            loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        return failed.value.message

    for bad in (x[0], x[None], x[..., :7]):  # unbatched, an extra axis, a wrong static dimension
        message = error("serving_default", lpc=bad)
        got = " ".join(map(str, bad.shape))
        assert f"signature serving_default: input lpc must have shape (None, 24, 8), got] [{got}]" in message
    assert "signature paired: input offset must have shape (None, 3), got] [4 2]" in error(
        "paired", lpc=x, offset=offset[:, :2])
    assert "signature paired: inputs lpc, offset must have the same batch size (dimension 0), got] [4 1]" in error(
        "paired", lpc=x, offset=offset[:1])
    assert "signature clipped: gain must be positive; got shapes] [lpc:] [4 24 8] [gain:] []" in error(
        "clipped", lpc=x, gain=np.float32(-1))
    assert "Shape of tensor gain [2] is not compatible with expected shape []" in error(
        "clipped", lpc=x, gain=np.ones(2, np.float32))  # a spec without None: the EnsureShape backstop
    assert "input #0(zero-based) was expected to be a float tensor but is a double tensor" in error(
        "serving_default", lpc=x.astype(np.float64))

    served = zoo.load(result.saved_model)
    with pytest.raises(TypeError, match="signature 'serving_default': input 'lpc' must be float32, got int16"):
        served(lpc=(x * 1000).astype(np.int16))
    np.testing.assert_allclose(served(lpc=x.astype(np.float64))["outputs"], ref, atol=1e-5)  # a float kind: cast


def test_unbatched_input_is_an_exception_in_a_fresh_process_not_an_abort(tmp_path, real_inputs):
    """An unbatched input to a Conv2D model's signature used to abort the process inside oneDNN (SIGABRT; the
    tests' conftest turns oneDNN off, the subprocess runs with TensorFlow's default, on); now it is an
    InvalidArgumentError naming the input: a Python exception, exit status 1."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((32, 64, 1), name="spectrogram")
    x = keras.layers.Conv2D(4, 3, strides=2)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(x)))
    x = np.stack([np.tile(real_inputs[i:i + 32], (1, 8)) for i in range(0, 40, 10)])[..., None]  # (4, 32, 64, 1)
    result = export(model, tmp_path, name="conv2d", output_names=NAMES, metadata={}, parity_inputs=x, tflite=False)
    code = ("import sys, tensorflow as tf; loaded = tf.saved_model.load(sys.argv[1]); "
            "print(loaded.signatures['serving_default'](spectrogram=tf.zeros((32, 64, 1))))")
    done = subprocess.run([sys.executable, "-c", code, str(result.saved_model)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1"})  # as users run it
    assert done.returncode == 1, (done.returncode, done.stderr[-3000:])  # was -6 (SIGABRT) without the checks
    assert "InvalidArgumentError" in done.stderr
    assert ("signature serving_default: input spectrogram must have shape (None, 32, 64, 1), got] [32 64 1]"
            in done.stderr)


def test_parity_failure_writes_nothing(tmp_path, real_inputs):
    keras.utils.set_random_seed(2)
    model, model_b1 = _gru(), _gru(batch_size=1)
    model_b1.set_weights([w * 1.01 for w in model.get_weights()])  # a conversion that drifted
    x = np.stack([real_inputs[i:i + 10, :5] for i in range(0, 30, 10)])
    with pytest.raises(ExportParityError, match="tflite .* differs from Keras .* tolerance") as failed:
        export(model, tmp_path / "out", name="bad", output_names=NAMES, metadata={}, parity_inputs=x,
               tflite_model=model_b1)
    assert "int8" not in str(failed.value)  # the int8 hint is for the int8 check only
    assert not (tmp_path / "out").exists()  # the folder the export created is gone again


def _wide_conv():
    """A Conv1D model whose first kernel (5 · 8 · 48 = 1920 weights) is large enough to be quantised."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((24, 8), name="lpc")
    x = keras.layers.Conv1D(48, 5, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def test_int8_tflite_is_quantised_and_within_its_tolerance(tmp_path, real_inputs):
    from ai_edge_litert.interpreter import Interpreter

    model = _wide_conv()
    x = np.stack([real_inputs[i:i + 24] for i in range(0, 120, 10)])
    result = export(model, tmp_path, name="q", output_names=NAMES, metadata={}, parity_inputs=x,
                    tflite_int8=True, int8_tolerance=0.05)
    assert result.tflite_int8 == tmp_path / "q-v1.int8.tflite"
    assert result.tflite_int8.stat().st_size < result.tflite.stat().st_size  # 1 byte per weight instead of 4
    report = json.loads(result.parity_report.read_text())
    checks = {c["backend"]: c for c in report["checks"]}
    int8 = checks["tflite_int8"]
    assert report["passed"] and int8["passed"] and int8["tolerance"] == 0.05 and int8["examples"] == 12
    assert 0 < int8["max_abs_diff"] <= 0.05  # really quantised: not bit-equal to the float model
    assert checks["tflite"]["max_abs_diff"] <= 1e-5 < int8["max_abs_diff"]
    meta = json.loads((result.saved_model / "assets" / "metadata.json").read_text())
    assert meta["tflite_int8"] is True

    # the written file, run again, gives the recorded difference
    ref = model(x).numpy()
    got = Interpreter(model_path=str(result.tflite_int8)).get_signature_runner("serving_default")(lpc=x)["outputs"]
    assert np.abs(got - ref).max() == pytest.approx(int8["max_abs_diff"], rel=1e-6)
    with pytest.raises(FileExistsError):
        export(model, tmp_path, name="q", output_names=NAMES, metadata={}, parity_inputs=x, tflite_int8=True)


def test_int8_parity_failure_names_its_own_tolerance_and_writes_nothing(tmp_path, real_inputs):
    """The int8 failure says how to accept it, on one line; the export into a new ``dest/sub`` removes both folders
    it created and keeps the one that was there (``tmp_path``) and a user's empty folder beside them."""
    x = np.stack([real_inputs[i:i + 24] for i in range(0, 40, 10)])
    (tmp_path / "mine").mkdir()
    with pytest.raises(ExportParityError, match=r"tflite_int8 signature 'serving_default' .* > tolerance 1e-09;") as e:
        export(_wide_conv(), tmp_path / "dest" / "sub", name="q", output_names=NAMES, metadata={}, parity_inputs=x,
               tflite_int8=True, int8_tolerance=1e-9)
    message = str(e.value)
    assert message.endswith("(raise the bound with int8_tolerance= / --int8-tolerance)") and "\n" not in message
    assert not (tmp_path / "dest").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]
    with pytest.raises(ExportParityError, match="int8_tolerance"):  # a pre-existing empty dest stays
        export(_wide_conv(), tmp_path / "mine", name="q", output_names=NAMES, metadata={}, parity_inputs=x,
               tflite_int8=True, int8_tolerance=1e-9)
    assert (tmp_path / "mine").is_dir() and list((tmp_path / "mine").iterdir()) == []


@pytest.mark.parametrize("where", ["tflite_conversion", "savedmodel_move"])
def test_interrupted_export_leaves_nothing(tmp_path, conv_model, real_inputs, monkeypatch, where):
    """A KeyboardInterrupt while converting, or while moving the SavedModel into ``dest/<name>/1`` (after the
    report and the TFLite file were moved), leaves no file and no folder of the export."""
    import zoo.export as zoo_export

    x = np.stack([real_inputs[i:i + 24] for i in range(0, 40, 10)])
    calls = []
    if where == "tflite_conversion":
        def interrupt(*args, **kwargs):
            calls.append(args)
            raise KeyboardInterrupt

        monkeypatch.setattr(zoo_export, "_convert_tflite", interrupt)
    else:
        replace = zoo_export.os.replace

        def interrupt(src, dst):
            if Path(dst) == tmp_path / "a" / "b" / "m" / "1":
                calls.append(dst)
                raise KeyboardInterrupt
            return replace(src, dst)

        monkeypatch.setattr(zoo_export.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        export(conv_model, tmp_path / "a" / "b", name="m", output_names=NAMES, metadata={}, parity_inputs=x)
    assert len(calls) == 1  # the interrupt did happen where intended
    assert list(tmp_path.iterdir()) == []


def test_existing_artifact_is_kept_unless_overwrite(tmp_path, conv_model, real_inputs):
    x = np.stack([real_inputs[i:i + 24] for i in range(0, 40, 10)])
    export(conv_model, tmp_path, name="m", output_names=NAMES, metadata={"run": 1}, parity_inputs=x, tflite=False)
    with pytest.raises(FileExistsError, match=r"m-v1.parity.json exists; .* \(overwrite=True, --overwrite on the "
                                              r"command line\)$"):
        export(conv_model, tmp_path, name="m", output_names=NAMES, metadata={"run": 2}, parity_inputs=x, tflite=False)
    export(conv_model, tmp_path, name="m", output_names=NAMES, metadata={"run": 2}, parity_inputs=x, tflite=False,
           overwrite=True)
    assert json.loads((tmp_path / "m" / "1" / "assets" / "metadata.json").read_text())["run"] == 2
    export(conv_model, tmp_path, name="m", version=2, output_names=NAMES, metadata={}, parity_inputs=x, tflite=False)
    assert ExportedModel.load(tmp_path / "m").path.name == "2"  # the servable folder serves the newest


@pytest.mark.parametrize("kwargs, message", [
    (dict(parity_inputs=np.zeros((2, 20, 8), np.float32)), "shape"),
    (dict(), "parity_inputs"),
    (dict(parity_inputs=np.zeros((2, 24, 8), np.float32), version=0), "version"),
    (dict(parity_inputs=np.zeros((2, 24, 8), np.float32), metadata={"f": object()}), "JSON"),
    (dict(parity_inputs=np.zeros((2, 24, 8), np.float32), tflite=False, tflite_int8=True), "tflite_int8 needs"),
])
def test_bad_export_arguments(tmp_path, conv_model, kwargs, message):
    args = dict(name="m", output_names=NAMES, metadata={})
    args.update(kwargs)
    with pytest.raises(ExportError, match=message):
        export(conv_model, tmp_path, **args)
    assert not (tmp_path / "m").exists()
