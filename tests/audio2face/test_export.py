"""Export: SavedModel signatures (features, raw audio, streaming) and TFLite, with parity; bad inputs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import check_export_parity

from zoo.audio2face import Predictor, export_model
from zoo.audio2face import features as feats
from zoo.datasets import load_audio


@pytest.fixture(scope="module")
def exported(tiny_model, synthetic_facegood, tmp_path_factory):
    wav = sorted((synthetic_facegood / "wav").glob("*.wav"))[1]
    dest = tmp_path_factory.mktemp("a2f_export")
    result = export_model(tiny_model[0], dest, audio=wav, int8=True)
    return result, wav


def test_layout_and_parity_report(exported):
    result, _ = exported
    sm = result.saved_model
    assert (sm / "saved_model.pb").is_file() and sm.name == "1" and sm.parent.name == "audio2face"
    assert (sm / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0
    meta = json.loads((sm / "assets" / "metadata.json").read_text())
    assert meta["fps"] == 30 and meta["sample_rate"] == 16000 and meta["lookahead_seconds"] == 0.26
    assert set(meta["signatures"]) == {"serving_default", "audio", "stream_step"}
    report = check_export_parity(result, 1e-4, ["serving_default", "audio", "stream_step"])
    int8 = [c for c in report["checks"] if c["backend"] == "tflite_int8"]
    assert len(int8) == 1 and int8[0]["signature"] == "serving_default" and int8[0]["tolerance"] == 0.02
    assert 0 < int8[0]["max_abs_diff"] <= 0.02  # quantised (the output layer has ≥ 1024 weights), within bounds
    assert result.tflite_int8 == sm.parent.parent / "audio2face-v1.int8.tflite" and meta["tflite_int8"] is True


def test_savedmodel_audio_signature_matches_numpy_pipeline(exported, tiny_model):
    """Raw 16 kHz audio in: the in-graph float32 features give the Keras+NumPy curves."""
    import zoo

    result, wav = exported
    served = zoo.load(result.saved_model.parent)
    audio, _ = load_audio(wav)
    predictor = Predictor.load(tiny_model[0])
    emotion = predictor.emotion_vectors(None, 1)
    out = served("audio", audio=audio[None], emotion=emotion)["blendshapes"][0]
    ref = predictor.predict(audio, 16000).values
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() < 1e-3
    assert served.output_names == list(predictor.names)


def test_stream_step_chain_equals_audio_signature(exported, tiny_model):
    import zoo

    result, wav = exported
    served = zoo.load(result.saved_model)
    audio, _ = load_audio(wav)
    audio = audio[: 16000]
    emotion = Predictor.load(tiny_model[0]).emotion_vectors(None, 1)
    full = served("audio", audio=audio[None], emotion=emotion)["blendshapes"][0]
    state = np.zeros((1, feats.WINDOW), np.float32)
    padded = np.concatenate([audio, np.zeros(feats.LOOKAHEAD, np.float32)])
    fed, frames = 0, []
    for i in range(len(full)):
        end = i * 16000 // 30 + feats.LOOKAHEAD  # frame i needs audio up to its anchor + 260 ms
        out = served("stream_step", state=state, chunk=padded[None, fed:end], emotion=emotion)
        state, fed = out["state"], end
        frames.append(out["blendshapes"][0])
    np.testing.assert_allclose(np.stack(frames), full, atol=1e-5)


def test_tflite_interpreter_matches_keras(exported, tiny_model):
    from ai_edge_litert.interpreter import Interpreter

    result, wav = exported
    predictor = Predictor.load(tiny_model[0])
    audio, _ = load_audio(wav)
    x = predictor.features(audio)[:40]
    e = predictor.emotion_vectors(None, len(x))
    runner = Interpreter(model_path=str(result.tflite)).get_signature_runner("serving_default")
    got = runner(features=x, emotion=e)["blendshapes"]
    np.testing.assert_allclose(got, predictor.run(x, e), atol=1e-5)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_cli_export_int8_writes_and_prints_the_int8_check(tiny_model, tmp_path, capsys):
    from zoo.cli import main

    dest = tmp_path / "a"
    assert main(["audio2face", "export", "--model", str(tiny_model[0]), "--dest", str(dest), "--int8",
                 "--int8-tolerance", "0.03"]) == 0
    out = capsys.readouterr().out
    assert "tflite_int8  serving_default" in out and "(tolerance 0.03)" in out
    assert f"TFLite int8: {dest / 'audio2face-v1.int8.tflite'}" in out
    checks = json.loads((dest / "audio2face-v1.parity.json").read_text())["checks"]
    assert [c["tolerance"] for c in checks if c["backend"] == "tflite_int8"] == [0.03]
    # the int8 model is a second conversion of the TFLite one: without TFLite it is refused up front
    assert main(["audio2face", "export", "--model", str(tiny_model[0]), "--dest", str(tmp_path / "b"), "--int8",
                 "--no-tflite"]) == 2
    assert "--int8: needs the TFLite model (drop --no-tflite)" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_wrong_input_shape_is_a_clear_error(exported):
    import zoo

    served = zoo.load(exported[0].saved_model)
    with pytest.raises(ValueError, match="serving_default.*features.*\\(None, 32, 64, 1\\).*\\(2, 64, 32, 1\\)"):
        served(features=np.zeros((2, 64, 32, 1), np.float32), emotion=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="missing.*emotion"):
        served(features=np.zeros((2, 32, 64, 1), np.float32))


# the inputs of every signature of the tiny (emotion-input) model, with their per-example shapes
SIGNATURE_INPUTS = {
    "serving_default": {"features": (32, 64, 1), "emotion": (4,)},
    "audio": {"audio": (1600,), "emotion": (4,)},
    "stream_step": {"state": (feats.WINDOW,), "chunk": (533,), "emotion": (4,)},
}
STATIC = {"features": (2, 33, 64, 1), "emotion": (2, 5), "state": (2, feats.WINDOW + 1)}  # a wrong static dimension
BAD_INPUTS = [
    *[(sig, name, case) for sig, inputs in SIGNATURE_INPUTS.items() for name in inputs
      for case in ("unbatched", "extra_axis", "float64", "int32")],
    *[(sig, name, "static_dim") for sig, inputs in SIGNATURE_INPUTS.items() for name in inputs if name in STATIC],
]


@pytest.fixture(scope="module")
def loaded(exported):
    import tensorflow as tf

    return tf.saved_model.load(str(exported[0].saved_model))


def _good_inputs(signature: str, batch: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: (0.1 * rng.standard_normal((batch, *shape))).astype(np.float32)
            for name, shape in SIGNATURE_INPUTS[signature].items()}


def _call(loaded, signature, inputs):
    import tensorflow as tf

    return loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})


def test_every_signature_runs_the_good_inputs(loaded):
    """The table of signatures and inputs the bad-input tests use is the export's, and runs as it is."""
    for signature, inputs in SIGNATURE_INPUTS.items():
        specs = loaded.signatures[signature].structured_input_signature[1]
        assert {k: tuple(s.shape[1:]) for k, s in specs.items()} == {
            k: (None,) if k in ("audio", "chunk") else shape for k, shape in inputs.items()}
        out = _call(loaded, signature, _good_inputs(signature))
        assert all(v.shape[0] == 2 and np.isfinite(v.numpy()).all() for v in out.values())


@pytest.mark.parametrize("signature, name, case", BAD_INPUTS)
def test_signatures_refuse_a_wrong_input_inside_the_graph(loaded, signature, name, case):
    """What TF-Serving runs: a wrong rank, static dimension or dtype of any input of any signature is an error
    naming the input (the dtype one by its position, as TensorFlow refuses it before the graph runs)."""
    import tensorflow as tf

    inputs = _good_inputs(signature)
    good = inputs[name]
    inputs[name] = {"unbatched": lambda: good[0], "extra_axis": lambda: good[None],
                    "float64": lambda: good.astype(np.float64), "int32": lambda: (good * 1000).astype(np.int32),
                    "static_dim": lambda: np.zeros(STATIC[name], np.float32)}[case]()
    with pytest.raises(tf.errors.InvalidArgumentError) as failed:
        _call(loaded, signature, inputs)
    message = failed.value.message
    if case in ("float64", "int32"):
        position = [t.name.split(":")[0] for t in loaded.signatures[signature].inputs].index(name)
        wrong = {"float64": "double", "int32": "int32"}[case]
        assert f"input #{position}(zero-based) was expected to be a float tensor but is a {wrong} tensor" in message
    else:
        spec = ", ".join(["None", *(["None"] if name in ("audio", "chunk") else map(str, good.shape[1:]))])
        got = " ".join(map(str, inputs[name].shape))
        assert f"signature {signature}: input {name} must have shape ({spec}), got] [{got}]" in message


@pytest.mark.parametrize("signature, name", [(s, n) for s, inputs in SIGNATURE_INPUTS.items() for n in inputs])
def test_signatures_refuse_inputs_of_different_batch_sizes(loaded, signature, name):
    import tensorflow as tf

    inputs = _good_inputs(signature)
    inputs[name] = _good_inputs(signature, batch=3)[name]
    with pytest.raises(tf.errors.InvalidArgumentError) as failed:
        _call(loaded, signature, inputs)
    sizes = " ".join("3" if k == name else "2" for k in inputs)
    assert (f"signature {signature}: inputs {', '.join(inputs)} must have the same batch size (dimension 0), "
            f"got] [{sizes}]") in failed.value.message


def test_audio_signature_needs_one_frame_of_audio(loaded):
    """534 samples give one frame; 533 (none) is an error, not an empty result."""
    import tensorflow as tf

    from zoo.audio2face.export import MIN_AUDIO_SAMPLES

    assert MIN_AUDIO_SAMPLES == 534
    inputs = _good_inputs("audio")
    inputs["audio"] = inputs["audio"][:, :534]
    assert _call(loaded, "audio", inputs)["blendshapes"].shape[:2] == (2, 1)
    inputs["audio"] = inputs["audio"][:, :533]
    with pytest.raises(tf.errors.InvalidArgumentError, match="signature audio: input audio must hold at least 534 "
                       r"samples \(one frame at 16000 Hz, 30 fps\); got shapes\] \[audio:\] \[2 533\]"):
        _call(loaded, "audio", inputs)


def test_unbatched_input_is_an_exception_in_a_fresh_process_not_an_abort(exported):
    """Each input of each signature fed unbatched (the others with a batch of 1) through ``signatures[...]``, and
    unbatched features through the endpoint's concrete function (an unbatched features tensor used to abort the
    process inside oneDNN's convolution; here, with a batch-1 emotion, it gave a silent (1, N) result): an
    InvalidArgumentError each; the last one is left uncaught, so the process ends with Python's exit status 1,
    not a signal. oneDNN is on in the subprocess (TensorFlow's default; the tests' conftest turns it off)."""
    code = f"""
import json, sys
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
table = {SIGNATURE_INPUTS!r}
messages = {{}}
for signature, shapes in table.items():
    for name in shapes:
        inputs = {{k: tf.zeros(shape if k == name else (1, *shape)) for k, shape in shapes.items()}}
        try:
            loaded.signatures[signature](**inputs)
        except tf.errors.InvalidArgumentError as exc:
            messages[signature + "/" + name] = exc.message
print(json.dumps(messages), flush=True)
concrete = loaded.serving_default.concrete_functions[0]
concrete(tf.zeros((32, 64, 1)), tf.zeros((1, 4)))
"""
    done = subprocess.run([sys.executable, "-c", code, str(exported[0].saved_model)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1"})  # as users run it
    assert done.returncode == 1, (done.returncode, done.stderr[-3000:])
    messages = json.loads(done.stdout.splitlines()[-1])
    assert sorted(messages) == sorted(f"{s}/{n}" for s, inputs in SIGNATURE_INPUTS.items() for n in inputs)
    for key, message in messages.items():
        signature, name = key.split("/")
        assert f"signature {signature}: input {name} must have shape" in message, message
    assert "InvalidArgumentError" in done.stderr and "signature serving_default: input features must" in done.stderr


def test_exported_model_refuses_integer_audio_and_casts_float64(exported):
    """``ExportedModel`` by name: int16 PCM where float32 audio in [-1, 1] is expected is a TypeError; float64 is
    cast and gives the float32 result."""
    import zoo

    served = zoo.load(exported[0].saved_model)
    inputs = _good_inputs("audio")
    with pytest.raises(TypeError, match="signature 'audio': input 'audio' must be float32, got int16"):
        served("audio", **{**inputs, "audio": (inputs["audio"] * 32767).astype(np.int16)})
    as64 = served("audio", **{**inputs, "audio": inputs["audio"].astype(np.float64)})["blendshapes"]
    np.testing.assert_array_equal(as64, served("audio", **inputs)["blendshapes"])


def test_export_needs_no_speech_synthesizer_and_predict_no_trainer():
    """export.py takes its default parity audio from the shipped sentence, and predict.py does not import
    train.py (train imports predict for validation; the other way round was a cycle)."""
    import ast
    from pathlib import Path

    import zoo.audio2face

    def imports(name: str) -> set[str]:
        tree = ast.parse((Path(zoo.audio2face.__file__).parent / f"{name}.py").read_text())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found.add("." * node.level + (node.module or ""))
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        return found

    assert not {m for m in imports("export") if "synthetic" in m}
    assert ".train" not in imports("predict") and ".train" not in imports("export")


def test_audio_and_stream_parity_is_against_the_numpy_pipeline_and_can_fail(tiny_model, synthetic_facegood, tmp_path):
    """``audio``/``stream_step`` are compared with NumPy features + Keras (not with their own TF graph): an
    expected output off by 1e-3 (10 × the tolerance) fails the export and writes nothing."""
    from dataclasses import replace

    from zoo.audio2face.export import endpoints
    from zoo.export import ExportParityError, export

    predictor = Predictor.load(tiny_model[0])
    audio, _ = load_audio(sorted((synthetic_facegood / "wav").glob("*.wav"))[1])
    eps = endpoints(predictor, audio)
    assert eps["audio"].expected is not None and eps["stream_step"].expected is not None
    ref = predictor.predict(audio[: eps["audio"].parity_inputs["audio"].shape[1]], 16000).values
    assert np.array_equal(eps["audio"].expected["blendshapes"][0], ref)  # the user's NumPy path, exactly
    for key in ("audio", "stream_step"):
        off = {k: v + (1e-3 if k == "blendshapes" else 0) for k, v in eps[key].expected.items()}
        with pytest.raises(ExportParityError, match=key):
            export(predictor.model, tmp_path / key, name="a2f", output_names=list(predictor.names), metadata={},
                   endpoints={**eps, key: replace(eps[key], expected=off)}, tflite=False, tolerance=1e-4)
        assert not (tmp_path / key / "a2f").exists()


@pytest.mark.realdata
@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_facegood_real_export_parity_on_a_real_clip(facegood_dir, tmp_path):
    """The committed real-data preset exported with a real FACEGOOD clip: SavedModel ``audio`` and ``stream_step``
    within 1e-4 of the NumPy pipeline (bit-exact LPC + Keras), TFLite ``serving_default`` within 1e-4 of Keras."""
    import zoo

    result = export_model(zoo.PRETRAINED / "audio2face" / "facegood_real", tmp_path,
                          audio=facegood_dir / "wav" / "1114_2_04.wav")
    report = check_export_parity(result, 1e-4, ["serving_default", "audio", "stream_step"])
    assert {c["backend"] for c in report["checks"]} == {"saved_model", "tflite"}
