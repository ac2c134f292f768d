"""The TensorFlow features (``features_tf``) against the NumPy ones (``features``), eagerly, traced with a dynamic
length and in TFLite (builtin ops only). Tolerance: max |TF − NumPy| ≤ 1e-4 × max |NumPy| (float32 against
float64)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from helpers import speech_like

from zoo.landmark_dcgan import features as F
from zoo.landmark_dcgan import features_tf as FT
from zoo.landmark_dcgan.config import preset

RATE = 48000
N = 48000 + 737  # not a multiple of 1440: 34 frames, the last window cut at the end
CONFIGS = {"default": preset("original"), "legacy": preset("original", legacy_scaling=True),
           "log": preset("original", log_magnitude=True),
           "legacy_log": preset("original", legacy_scaling=True, log_magnitude=True)}


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return np.stack([speech_like(1.1, RATE, seed=s)[:N] for s in (1, 2)])


def relative_error(got, ref) -> float:
    return float(np.abs(np.asarray(got, np.float64) - ref).max() / np.abs(ref).max())


def numpy_features(audio, config, frames=None) -> np.ndarray:
    return np.stack([F.fft_features(a, config, frames=frames) for a in audio])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_tf_matches_numpy(audio, name):
    config = CONFIGS[name]
    got = FT.fft_features_tf(audio, config).numpy()
    ref = numpy_features(audio, config)
    assert got.shape == ref.shape == (2, 34, 128, 23, 1) and got.dtype == np.float32
    assert relative_error(got, ref) <= 1e-4
    np.testing.assert_array_equal(got[:, :, 65:], got[:, :, 63:0:-1])  # the mirrored half


def test_tf_explicit_frames(audio):
    config = CONFIGS["legacy"]
    for frames in (10, 35):  # fewer than the grid's 34, and one more (its window still holds 1217 real samples)
        got = FT.fft_features_tf(audio, config, frames=frames).numpy()
        assert got.shape == (2, frames, 128, 23, 1)
        assert relative_error(got, numpy_features(audio, config, frames)) <= 1e-4
    # past the end: NumPy refuses the empty window, TF gives all-zero magnitudes
    assert (FT.fft_features_tf(audio, config, frames=37).numpy()[:, 35:] == 0).all()


def test_tf_traced_with_dynamic_batch_and_length():
    config = CONFIGS["legacy"]
    fn = tf.function(lambda a: FT.fft_features_tf(a, config), input_signature=[tf.TensorSpec([None, None], tf.float32)])
    for samples, batch in ((5 * 1440, 1), (3001, 3), (1, 2)):  # whole frames, a partial one, a single sample
        audio = np.stack([speech_like(0.2, RATE, seed=10 + b)[:samples] + 0.01 for b in range(batch)])
        got = fn(audio).numpy()
        assert got.shape == (batch, F.frame_count(samples, config), 128, 23, 1)
        assert relative_error(got, numpy_features(audio, config)) <= 1e-4
    assert fn.experimental_get_tracing_count() == 1  # one trace serves every batch and length


def test_tflite_builtins_only_matches_tf(audio):
    from ai_edge_litert.interpreter import Interpreter

    config = CONFIGS["default"]
    fn = tf.function(lambda a: FT.fft_features_tf(a, config), input_signature=[tf.TensorSpec([1, None], tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # fails on any flex or custom op
    interpreter = Interpreter(model_content=converter.convert())
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert list(inp["shape_signature"]) == [1, -1]
    for clip in (audio[:1], audio[1:, :20000]):  # two lengths through one interpreter
        interpreter.resize_tensor_input(inp["index"], clip.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], clip)
        interpreter.invoke()
        lite = interpreter.get_tensor(out["index"])
        assert lite.shape == (1, F.frame_count(clip.shape[1], config), 128, 23, 1)
        assert relative_error(lite, fn(clip).numpy()) <= 1e-5
        assert relative_error(lite, numpy_features(clip, config)) <= 1e-4
