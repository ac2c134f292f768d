"""Audio2Face's TensorFlow features (``features_tf``, ``double_float``) against the NumPy ones (``features``)."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.audio2face import features as F
from zoo.audio2face import features_tf as FT


def _abs_diff_tf(windows, precision="double_float"):
    got = FT.lpc_facegood_tf(windows, precision=precision).numpy()
    assert got.shape == (len(windows), 32, 64, 1) and got.dtype == np.float32
    return np.abs(got.astype(np.float64) - F.lpc_facegood(windows)), got


def test_tf_lpc_matches_numpy_on_speech_like_audio(speech_like):
    windows = speech_like(6, seed=11)
    diff, got = _abs_diff_tf(windows)
    assert diff.max() <= 2e-5 and diff.mean() <= 5e-7 and (diff > 1e-3).sum() == 0
    assert (got[:, 0] == 1).all()
    diff32, _ = _abs_diff_tf(windows, "float32")
    assert diff32.max() > 1.0  # the reason for the double-float default


@pytest.mark.realdata
def test_tf_lpc_matches_numpy_on_real_speech(facegood_wav):
    raw, rate = facegood_wav
    windows = F.clip_windows(F.prepare_audio(raw, rate))[np.linspace(150, 3250, 12).astype(int)]
    diff, _ = _abs_diff_tf(windows)
    bound = FT.TF_LPC_TOLERANCE["double_float"]
    assert diff.max() <= bound["max"] and diff.mean() <= bound["mean"]
    assert (diff > 1e-3).mean() == 0


def test_tf_lpc_edge_cases():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    n = np.arange(F.WINDOW)
    windows = np.stack([
        np.zeros(F.WINDOW),  # digital silence
        rng.integers(-1, 2, F.WINDOW) / 32768,  # ±1 LSB dither
        0.001 * np.sin(2 * np.pi * 50 * n / 16000) + rng.integers(-1, 2, F.WINDOW) / 32768,  # hum + dither
        np.round(3000 * rng.standard_normal(F.WINDOW)),  # int16-scale noise
        0.5 * np.sin(2 * np.pi * 1000 * n / 16000),  # a pure tone: condition ~1e9
    ]).astype(np.float32)
    diff, got = _abs_diff_tf(windows)
    unit = np.zeros((32, 64))
    unit[0] = 1
    assert (got[0, :, :, 0] == unit).all()
    assert diff[1:4].max() <= 2e-7  # measured 1.5e-8 … 2.9e-8
    assert diff[4].max() <= 2e-4  # measured 2.3e-5 (plain float32: 4.1)
    # the |k| ≥ 1 rule in the TF recursion, on the crafted R of test_reflection_coefficient_of_one_truncates
    r = np.zeros(32)
    r[:3] = [1.0, 0.9, 0.0]
    r[3:] = np.linspace(0.1, -0.1, 29)
    expected = F._levinson(r[:, None])[:, 0]  # the NumPy recursion (test_features.py checks it against Python)
    hi = tf.constant(r.astype(np.float32)[None])
    lo = tf.constant((r - r.astype(np.float32)).astype(np.float32)[None])
    got_df = FT._tf_levinson_df(hi, lo).numpy()[0]
    got_32 = FT._tf_levinson_f32(hi).numpy()[0]
    for g in (got_df, got_32):
        assert (g[2:] == 0).all() and g[0] == 1 and g[1] == pytest.approx(expected[1], rel=1e-6)


def test_tf_double_float_survives_graph_optimisation(speech_like):
    """Grappler (constant push-down, AddOpsRewrite) must not reassociate the error-free transformations."""
    import tensorflow as tf

    windows = speech_like(2, seed=7)
    spec = tf.TensorSpec([None, F.WINDOW], tf.float32)

    def autocorr(w):
        return FT._tf_autocorr_df(*FT._tf_hann_df(FT._tf_subframes(w)))

    exact = F._autocorr_sequential(F._subframes(windows) * F.HANN).T  # float64, (128, 32)
    for run in (autocorr, tf.function(autocorr, input_signature=[spec])):  # eager, then traced (Grappler)
        hi, lo = (t.numpy().astype(np.float64).reshape(-1, 32) for t in run(tf.constant(windows)))
        # the pairs carry R to ~1e-15 · R0 (measured); a reassociated transformation costs ≥ 1e-11
        assert (np.abs(hi + lo - exact) <= 1e-13 * exact[:, :1]).all()


def test_tf_lpc_float64_matches_numpy_eager_and_traced(speech_like):
    """The default precision (TF float64 ops, for SavedModels): within 1e-6 of the C-order NumPy result."""
    import tensorflow as tf

    windows = speech_like(4, seed=5)
    ref = F.lpc_facegood(windows)
    traced = tf.function(FT.lpc_facegood_tf, input_signature=[tf.TensorSpec([None, F.WINDOW], tf.float32)])
    for run in (FT.lpc_facegood_tf, traced):
        got = run(tf.constant(windows)).numpy()
        assert got.dtype == np.float32 and np.abs(got - ref).max() <= 2e-6  # measured 1.1e-6: float32 output rounding


def test_tf_autocorr_paper_matches_numpy(speech_like):
    windows = speech_like(3, seed=9)
    got = FT.autocorr_paper_tf(windows).numpy()
    ref = F.autocorr_paper(windows)
    assert got.shape == ref.shape and got.dtype == np.float32
    r0 = np.maximum(ref[:, :1], 1e-30)
    assert (np.abs(got - ref) <= 1e-6 * r0 + 1e-12).all()  # measured max 2.5e-7 · R0 on real speech


def test_feature_registries():
    assert set(F.FEATURES) == set(FT.FEATURES_TF) == {"lpc_facegood", "autocorr_paper"}
    assert F.FEATURE_SHAPE == (32, 64, 1) and F.WINDOW == 8320 and F.LOOKAHEAD == 4160
    assert (F.SUBFRAMES - 1) * F.HOP + F.SUBFRAME == F.WINDOW


@pytest.mark.slow
def test_tf_lpc_in_graph_mode_and_tflite(tmp_path, speech_like):
    """The traced function (Grappler) and its TFLite conversion (XNNPACK) keep the double-float accuracy."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    windows = speech_like(4, seed=13)
    ref = F.lpc_facegood(windows)

    class Features(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, F.WINDOW], tf.float32)])
        def lpc(self, w):
            return FT.lpc_facegood_tf(w, precision="double_float")

    module = Features()
    graph = module.lpc(tf.constant(windows)).numpy()
    assert np.abs(graph - ref).max() <= 5e-6
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.lpc.get_concrete_function()], module)
    path = tmp_path / "lpc.tflite"
    path.write_bytes(converter.convert())
    interpreter = Interpreter(model_path=str(path))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert list(inp["shape_signature"]) == [-1, F.WINDOW]
    interpreter.resize_tensor_input(inp["index"], list(windows.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], windows)
    interpreter.invoke()
    lite = interpreter.get_tensor(out["index"])
    assert lite.shape == (4, 32, 64, 1)
    assert np.abs(lite - ref).max() <= 5e-6


def test_tf_frame_features_match_numpy_for_a_batch_of_clips(speech_like):
    audio = speech_like(2, seed=8).reshape(-1)[:25 * 16000 // 30 + 5]
    batch = np.stack([audio, audio[::-1] * 0.5])
    got = FT.frame_features_tf(batch).numpy()
    assert got.shape == (2, 25, 32, 64, 1) and got.dtype == np.float32
    for row, clip in zip(got, batch):
        assert np.abs(row - F.frame_features(clip)).max() <= 2e-6
    paper = FT.frame_features_tf(batch[:1], "autocorr_paper").numpy()[0]
    ref = F.frame_features(batch[0], feature="autocorr_paper")
    assert np.abs(paper - ref).max() <= 1e-6 * np.abs(ref).max()
    assert FT.frame_features_tf(np.zeros((1, 100), np.float32)).shape == (1, 0, 32, 64, 1)
