"""Export of Aud2Repr2Pose: SavedModel (TF-Serving layout) with ``serving_default``, ``audio``, ``stream_step`` and
``stream_flush``; TFLite parity for the legacy and the TF2 GRU; streaming equals the full pass; input checks."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from helpers import check_export_parity, check_streaming_equals_full

from zoo.core import parity_speech
from zoo.datasets import resample
from zoo.datasets.bvh import gesture_skeleton
from zoo.gesture_ae import export as gx
from zoo.gesture_ae import features as feats
from zoo.gesture_ae.config import preset
from zoo.gesture_ae.predict import MEAN_POSE, Predictor, build_network, metadata_of

TOLERANCE = 1e-3  # cm: every parity check of the tiny exports (measured ≤ 1e-4)
STREAM_ATOL = 1e-4  # cm: the stream against the audio signature (the same float32 TF ops, other shapes)
SIGNATURES = ["serving_default", "audio", "stream_step", "stream_flush"]


def write_model(dest, config, seed: int = 0):
    """A model directory of ``config`` with seeded random weights, BatchNorm statistics away from (0, 1) and DAE
    statistics of pose-like data (cm scale), as training writes it."""
    import keras

    from zoo.core.modeldir import write_model_dir
    from zoo.gesture_ae.model import build_dae, build_speech_encoder, dae_statistics

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    skeleton = gesture_skeleton()
    poses = rng.normal(0, 20, (200, config.output_dim)) + rng.normal(0, 40, config.output_dim)
    speech = build_speech_encoder(config)
    for layer in speech.layers:
        if layer.name.startswith("bn"):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([gamma, beta, rng.normal(0, 0.5, mean.shape).astype(np.float32),
                               rng.uniform(0.5, 2, var.shape).astype(np.float32)])
    dae = build_dae(config, dae_statistics(poses)) if config.target == "code" else None
    return write_model_dir(dest, config=config.to_dict(), model=build_network(config, speech, dae),
                           metadata=metadata_of(config, skeleton),
                           arrays={MEAN_POSE: rng.normal(0, 30, 3 * skeleton.num_nodes).astype(np.float32)})


@pytest.fixture(scope="module")
def speech():
    audio, rate = parity_speech()
    return resample(audio, rate, 44100)


def _export(tmp_path_factory, config, key, **options):
    model_dir = write_model(tmp_path_factory.mktemp(f"{key}_model") / "model", config)
    return model_dir, gx.export_model(model_dir, tmp_path_factory.mktemp(f"{key}_export"), tolerance=TOLERANCE,
                                      **options)


@pytest.fixture(scope="module")
def proposed(tmp_path_factory):
    """The tiny preset: SpeechE → code → DAE decoder, legacy GRU (reset_after=False); with the int8 TFLite."""
    return _export(tmp_path_factory, preset("tiny"), "proposed", int8=True)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Baseline-like: SpeechE regresses the 384-value pose, TF2 GRU (reset_after=True)."""
    return _export(tmp_path_factory, preset("tiny", target="pose", legacy_gru=False), "baseline")


@pytest.fixture(scope="module")
def served(proposed):
    """(Predictor, loaded SavedModel) of the proposed-like export."""
    model_dir, result = proposed
    return Predictor.load(model_dir), tf.saved_model.load(str(result.saved_model))


def test_layout_metadata_and_parity_report(proposed):
    _, result = proposed
    sm = result.saved_model
    assert (sm / "saved_model.pb").is_file() and sm.name == "1" and sm.parent.name == "gesture_ae"
    assert (sm / "assets.extra" / "tf_serving_warmup_requests").stat().st_size > 0
    assert result.tflite == sm.parent.parent / "gesture_ae-v1.tflite" and result.tflite.stat().st_size > 0
    report = check_export_parity(result, TOLERANCE, SIGNATURES)
    assert {(c["backend"], c["signature"]) for c in report["checks"]} == {
        *(("saved_model", s) for s in SIGNATURES), ("tflite", "serving_default"), ("tflite_int8", "serving_default")}
    (int8,) = [c for c in report["checks"] if c["backend"] == "tflite_int8"]
    assert int8["tolerance"] == 1.0 and 0 < int8["max_abs_diff"] <= 1.0  # cm; the DAE decoder (8 × 384) is int8
    assert result.tflite_int8.stat().st_size < result.tflite.stat().st_size
    meta = json.loads((sm / "assets" / "metadata.json").read_text())
    assert (meta["fps"], meta["sample_rate"], meta["window_seconds"], meta["preset"], meta["features"]) == (
        20, 44100, 3.05, "tiny", "MFCC")
    assert meta["lookahead_seconds"] == pytest.approx(1.5 + 71 / 44100) and meta["mfcc_reach_samples"] == 71
    names = meta["output_names"]
    assert len(names) == 384 and names[:7] == ["Hips.px", "Hips.py", "Hips.pz", "Hips.vx", "Hips.vy", "Hips.vz",
                                               "Spine.px"]
    assert (sm / "assets" / "output_names.txt").read_text().split("\n")[:-1] == names
    assert [names[i] for i in meta["position_columns"][:4]] == ["Hips.px", "Hips.py", "Hips.pz", "Spine.px"]
    stream = meta["stream"]
    assert (stream["hop_samples"], stream["state_size"], stream["delay"], stream["lag"], stream["tail"]) == (
        2205, 1 + 2206 + 60 * 26, 31, 1, 2206)
    assert stream["state_layout"] == {"hops": [0, 1], "audio_tail": [1, 2207], "features": [2207, 3767]}
    assert meta["silence_vector"] == feats.silence_vector("MFCC").tolist()
    assert set(meta["signatures"]) == set(SIGNATURES)
    assert meta["signatures"]["stream_step"]["inputs"]["chunk"]["shape"] == [None, 2205]


def test_baseline_like_tf2_gru_export_parity(baseline):
    _, result = baseline
    check_export_parity(result, TOLERANCE, SIGNATURES)
    meta = json.loads((result.saved_model / "assets" / "metadata.json").read_text())
    assert (meta["target"], meta["config"]["legacy_gru"]) == ("pose", False)


@pytest.mark.parametrize("which", ["proposed", "baseline"])
def test_tflite_file_matches_keras_on_real_windows(which, request, speech):
    """The written .tflite (ai-edge-litert) against the Keras network, on windows of real speech (legacy and TF2
    GRU; the proposed one decodes in the same graph)."""
    from ai_edge_litert.interpreter import Interpreter

    model_dir, result = request.getfixturevalue(which)
    predictor = Predictor.load(model_dir)
    windows = feats.context_windows(predictor.features(speech, 44100), "MFCC")[::7]
    runner = Interpreter(model_path=str(result.tflite)).get_signature_runner("serving_default")
    (key,) = runner.get_input_details()
    got = np.concatenate([next(iter(runner(**{key: w[None]}).values())) for w in windows])
    np.testing.assert_allclose(got, predictor.runner(windows), atol=TOLERANCE)


def test_audio_signature_matches_numpy_features_and_keras(served, speech):
    """Raw 44.1 kHz audio in: the float32 MFCC in the graph gives the NumPy float64 features' poses; one pose per
    20 fps frame (T = ⌊T₁₀₀ / 5⌋)."""
    predictor, loaded = served
    audio = speech[: 3 * 44100 // 2 + 123]
    out = loaded.signatures["audio"](audio=tf.constant(audio[None]))["pose"].numpy()[0]
    ref = predictor.run(predictor.features(audio, 44100))
    assert out.shape == ref.shape == (gx.num_frames(len(audio), predictor.config), 384)
    assert np.abs(out - ref).max() < TOLERANCE


def test_exported_model_serves_every_signature_by_name(proposed, speech):
    """``zoo.load`` of the export: ``ExportedModel`` runs the signatures with NumPy inputs and names the outputs."""
    import zoo

    model_dir, result = proposed
    exported = zoo.load(result.saved_model.parent)
    assert exported.output_names[:2] == ["Hips.px", "Hips.py"] and exported.metadata["stream"]["hop_samples"] == 2205
    poses = exported("audio", audio=speech[None, :44100])["pose"]
    windows = feats.context_windows(Predictor.load(model_dir).features(speech[:44100], 44100), "MFCC")
    np.testing.assert_allclose(exported(windows=windows)["pose"], poses[0], atol=STREAM_ATOL)
    step = exported("stream_step", state=gx.initial_state(preset("tiny"), 2), chunk=np.zeros((2, 2205), np.float32))
    assert step["state"].shape == (2, 3767) and step["valid"].tolist() == [False, False]
    with pytest.raises(TypeError, match="input 'chunk' must be float32, got int16"):
        exported("stream_step", state=step["state"], chunk=np.zeros((2, 2205), np.int16))


def _stream(loaded, audio: np.ndarray, config, zeros: bool = False) -> list[tuple[int, np.ndarray]]:
    """(frame, pose) of every valid output of the stream over ``audio`` (the last chunk padded by ``pad_to_hops``,
    or with ``zeros``) and its flush."""
    lay = gx.stream_layout(config)
    chunks = gx.stream_chunks(len(audio), config)
    padded = gx.pad_to_hops(audio, config)
    if zeros:
        padded[len(audio):] = 0
    state = tf.constant(gx.initial_state(config))
    outputs = []
    for k in range(chunks):
        out = loaded.signatures["stream_step"](state=state, chunk=tf.constant(padded[None, k * lay.hop:(k + 1) *
                                                                                     lay.hop]))
        state = out["state"]
        outputs.append(out)
    for _ in range(gx.flush_calls(len(audio), config)):
        outputs.append(loaded.signatures["stream_flush"](state=state))
        state = outputs[-1]["state"]
    assert [bool(o["valid"].numpy()[0]) for o in outputs] == [k >= lay.delay for k in range(len(outputs))]
    return [(k - lay.delay, o["pose"].numpy()[0]) for k, o in enumerate(outputs) if k >= lay.delay]


def test_stream_equals_full_pass_on_every_frame_when_the_audio_is_whole_hops(served, speech):
    """Audio of 50 whole hops: from the zero state, 50 chunks and ``flush_calls`` flushes give the full pass's 49
    frames, the first 30 (silence-padded context) and the last 30 (flushed with silence vectors) included."""
    predictor, loaded = served
    audio = speech[: 50 * 2205]
    full = loaded.signatures["audio"](audio=tf.constant(audio[None]))["pose"].numpy()[0]
    assert len(full) == gx.num_frames(len(audio), predictor.config) == 49
    assert gx.flush_calls(len(audio), predictor.config) == 30
    frames = _stream(loaded, audio, predictor.config)
    check_streaming_equals_full(full, frames, atol=STREAM_ATOL)
    check_streaming_equals_full(predictor.run(predictor.features(audio, 44100)), frames, atol=TOLERANCE)


def test_stream_of_a_clip_that_ends_mid_hop_equals_the_full_pass(served, speech):
    """127104 samples (57 hops + 1419 samples): 58 chunks (the last zero-padded) and 30 flushes emit the full pass's
    57 frames, all computed from complete audio (1419 ≥ the 71-sample reach), so all equal."""
    predictor, loaded = served
    config = predictor.config
    assert len(speech) == 127104
    full = loaded.signatures["audio"](audio=tf.constant(speech[None]))["pose"].numpy()[0]
    assert (len(full), gx.stream_chunks(len(speech), config), gx.flush_calls(len(speech), config)) == (57, 58, 30)
    assert gx.complete_frames(len(speech), config) == 57
    check_streaming_equals_full(full, _stream(loaded, speech, config), atol=STREAM_ATOL)


def test_stream_of_a_clip_ending_within_the_reach_needs_the_pre_emphasis_neutral_padding(served, speech):
    """56 hops + 30 samples: the last frame (55) reads 41 samples past the end. Padded by ``pad_to_hops`` (zero
    after the pre-emphasis, as the full pass pads) the stream equals the full pass on all 56 frames; padded with
    zero audio, sample S holds −0.97·x[S − 1] instead of 0 and frames 25 … 55 (windows holding frame 55) differ."""
    predictor, loaded = served
    config = predictor.config
    audio = speech[: 56 * 2205 + 30]
    full = loaded.signatures["audio"](audio=tf.constant(audio[None]))["pose"].numpy()[0]
    assert (len(full), gx.complete_frames(len(audio), config)) == (56, 55)
    padded = gx.pad_to_hops(audio, config)
    assert len(padded) == 57 * 2205 and np.abs(padded[len(audio):]).max() <= abs(audio[-1])
    y = padded[len(audio) - 1:].astype(np.float64) * 32768
    assert np.abs(y[1:] - 0.97 * y[:-1]).max() < 1e-3  # int16 units: no pre-emphasised signal after the end
    check_streaming_equals_full(full, _stream(loaded, audio, config), atol=STREAM_ATOL)
    zero_padded = _stream(loaded, audio, config, zeros=True)
    check_streaming_equals_full(full[:25], zero_padded[:25], atol=STREAM_ATOL)
    assert np.abs(zero_padded[25][1] - full[25]).max() > 100 * STREAM_ATOL


def test_state_after_is_the_numpy_twin_of_the_stream(served, speech):
    """``state_after`` (used for the parity references): hops exact, audio tail bit-exact, feature rows within
    float32 MFCC rounding of the stream's own state after 40 chunks."""
    predictor, loaded = served
    config = predictor.config
    lay = gx.stream_layout(config)
    state = tf.constant(gx.initial_state(config))
    for k in range(40):
        state = loaded.signatures["stream_step"](state=state, chunk=tf.constant(
            speech[None, k * lay.hop:(k + 1) * lay.hop]))["state"]
    got, ref = state.numpy()[0], gx.state_after(speech, 40, config)
    start = lay.slices["features"][0]
    assert got[0] == ref[0] == 31
    np.testing.assert_array_equal(got[1:start], ref[1:start])
    np.testing.assert_array_equal(ref[1:start], speech[40 * lay.hop - lay.tail:40 * lay.hop])
    assert np.abs(got[start:] - ref[start:]).max() < 1e-3


def test_frame_counts_and_stream_plan():
    config = preset("tiny")
    assert gx.min_audio_samples(config) == 2206
    assert [gx.num_frames(s, config) for s in (2205, 2206, 4410, 4411, 127104)] == [0, 1, 1, 2, 57]
    assert [gx.complete_frames(s, config) for s in (2205, 2206, 2275, 2276, 127104)] == [0, 0, 0, 1, 57]
    genea = preset("genea2020")  # nfft 1024: the FFT reads all 882 samples, 441 past the hop
    assert (gx.stream_layout(genea).reach, gx.stream_layout(genea).lag) == (441, 1)
    assert gx.stream_layout(genea).lookahead_seconds == pytest.approx(1.51)


SHAPE_ERRORS = [
    ("serving_default", {"windows": (2, 60, 26)}, r"input windows must have shape \(None, 61, 26\), got\] \[2 60 26\]"),
    ("serving_default", {"windows": (61, 26)}, r"input windows must have shape \(None, 61, 26\), got\] \[61 26\]"),
    ("audio", {"audio": (4410,)}, r"input audio must have shape \(None, None\), got\] \[4410\]"),
    ("audio", {"audio": (2, 2205)}, r"input audio must hold at least 2206 samples \(one 20 fps frame at 44100 Hz\)"),
    ("stream_step", {"state": (1, 3767), "chunk": (1, 2204)}, "input chunk must have shape"),
    ("stream_step", {"state": (1, 3766), "chunk": (1, 2205)}, r"input state must have shape \(None, 3767\)"),
    ("stream_step", {"state": (2, 3767), "chunk": (1, 2205)}, "inputs state, chunk must have the same batch size"),
    ("stream_flush", {"state": (3767,)}, r"input state must have shape \(None, 3767\), got\] \[3767\]"),
]


@pytest.mark.parametrize("signature, shapes, message", SHAPE_ERRORS)
def test_signatures_refuse_wrong_shapes_with_one_clear_error(served, signature, shapes, message):
    _, loaded = served
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"signature {signature}: {message}"):
        loaded.signatures[signature](**{k: tf.zeros(s) for k, s in shapes.items()})


@pytest.mark.parametrize("hops", [-1.0, 2.5, 32.0])
@pytest.mark.parametrize("signature", ["stream_step", "stream_flush"])
def test_stream_refuses_a_state_that_is_not_one(served, signature, hops):
    """A hop count outside 0 … 31 or not an integer (e.g. audio passed as the state) is refused by name."""
    _, loaded = served
    state = np.zeros((1, 3767), np.float32)
    state[0, 0] = hops
    inputs = {"state": tf.constant(state)}
    if signature == "stream_step":
        inputs["chunk"] = tf.zeros((1, 2205))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"signature {signature}: state column 0 \(hops\) must be an integer from 0 to 31"):
        loaded.signatures[signature](**inputs)


def test_shortest_audio_gives_one_frame(served):
    _, loaded = served
    assert loaded.signatures["audio"](audio=tf.zeros((2, 2206)))["pose"].shape == (2, 1, 384)


def test_parity_reference_is_numpy_and_keras_and_can_fail(served, speech, tmp_path):
    """``stream_step``'s reference is ``state_after`` + Keras (not its own graph): off by 10 × the tolerance, the
    export fails and writes nothing."""
    from dataclasses import replace

    from zoo.export import ExportParityError, export

    predictor, _ = served
    eps = gx.endpoints(predictor, speech)
    step = eps["stream_step"]
    np.testing.assert_array_equal(step.expected["state"][1], gx.state_after(speech, 57, predictor.config))
    off = {**step.expected, "pose": step.expected["pose"] + 10 * TOLERANCE}
    with pytest.raises(ExportParityError, match="stream_step"):
        export(predictor.network, tmp_path / "out", name="g", output_names=["x"], metadata={}, tflite=False,
               endpoints={"serving_default": eps["serving_default"], "stream_step": replace(step, expected=off)},
               tolerance=TOLERANCE)
    assert not (tmp_path / "out").exists()


def test_prosody_features_export_serving_default_only(speech):
    """Pros features have no TF version: no audio or streaming signature, and metadata says why."""
    config = preset("tiny", features="Pros", num_features=4)
    predictor = Predictor(build_network(config), config, gesture_skeleton(), np.zeros(192, np.float32))
    assert set(gx.endpoints(predictor, speech)) == {"serving_default"}
    meta = gx.export_metadata(predictor)
    assert meta["stream"] is None and meta["audio_signature"] is None and "Praat" in meta["no_audio_signature"]
    with pytest.raises(ValueError, match="no TensorFlow version"):
        gx.stream_layout(config)


def test_output_names_follow_the_representation():
    skeleton = gesture_skeleton()
    assert gx.output_names(preset("tiny"), skeleton)[-1] == f"{skeleton.names[-1]}.vz"
    rotations = gx.output_names(preset("genea2020"), skeleton)
    assert rotations[:3] == ["Hips.ex", "Hips.ey", "Hips.ez"] and len(rotations) == 39
    with pytest.raises(ValueError, match="output_dim=45"):
        gx.output_names(preset("genea2020", output_dim=45), skeleton)  # GENEA's 15 Trinity joints


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline", "proposed"])
def test_full_size_presets_export_within_tolerance(name, tmp_path):
    """The paper's sizes (legacy GRU(256); proposed decodes 325 → 384 in the graph): every signature within
    1e-3 cm (measured: baseline ≤ 2e-5, proposed ≤ 5e-4)."""
    model_dir = write_model(tmp_path / "model", preset(name))
    check_export_parity(gx.export_model(model_dir, tmp_path / "export", tolerance=TOLERANCE), TOLERANCE, SIGNATURES)


@pytest.mark.slow
def test_trained_model_exports_within_the_default_tolerance(trained, tmp_path):
    """A model trained on the synthetic takes (tiny preset, legacy GRU, decoded in the graph), with the default
    tolerance (1e-2 cm)."""
    model_dir, _ = trained
    report = check_export_parity(gx.export_model(model_dir, tmp_path), 1e-2, SIGNATURES)
    assert report["tolerance"] == 1e-2


@pytest.mark.slow
def test_trained_rotation_model_exports_with_the_genea_mfcc(trained_rotations, tmp_path):
    """Rotations (exp-maps, radians) with nfft 1024: the MFCC reach is 441 samples, the stream still lags one hop."""
    model_dir, _ = trained_rotations
    result = gx.export_model(model_dir, tmp_path)
    check_export_parity(result, 1e-2, SIGNATURES)
    meta = json.loads((result.saved_model / "assets" / "metadata.json").read_text())
    assert meta["output_names"][:2] == ["Hips.ex", "Hips.ey"] and len(meta["output_names"]) == 39
    assert (meta["mfcc_reach_samples"], meta["stream"]["delay"]) == (441, 31)
