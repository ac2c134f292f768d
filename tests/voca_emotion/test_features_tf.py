"""VOCA's TensorFlow audio front end (``features_tf``) against the NumPy one (``features``)."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.voca_emotion import features as F

tf = pytest.importorskip("tensorflow")
FT = pytest.importorskip("zoo.voca_emotion.features_tf")


@pytest.fixture(scope="module")
def two_utterances():
    """(2, S) float32 at 16 kHz: the parity sentence (female_warm) and another sentence by male_deep, cut to the
    shorter length."""
    from zoo.core import parity_speech
    from zoo.datasets import resample
    from zoo.datasets.synthetic.speech import synthesize

    a, rate = parity_speech()
    u = synthesize("Dogs are sitting by the door.", "male_deep", "neutral", "normal")
    a16, b16 = resample(a, rate, F.SAMPLE_RATE), resample(u.audio, u.sample_rate, F.SAMPLE_RATE)
    s = min(len(a16), len(b16))
    return np.stack([a16[:s], b16[:s]])


def _signature(kind):
    return tf.function(lambda x: FT.windows_tf(x, kind), input_signature=[tf.TensorSpec([None, None], tf.float32)])


@pytest.mark.parametrize("kind", F.KINDS)
def test_tf_matches_numpy_on_real_speech(two_utterances, kind):
    """Tolerance (``TF_TOLERANCE``, 1e-3): max |Δ| over every standardised value, float32 TF vs float64 NumPy.
    Measured on this batch: ~1e-4 (mfcc), ~1e-5 (logmel)."""
    batch = two_utterances
    got = FT.windows_tf(batch, kind).numpy()
    want = np.stack([F.clip_windows(x, F.SAMPLE_RATE, kind) for x in batch])
    assert got.shape == want.shape == (2, F.num_frames(batch.shape[1], F.SAMPLE_RATE), 16, 29)
    assert got.dtype == np.float32
    assert np.abs(got - want).max() <= FT.TF_TOLERANCE[kind]
    frames = FT.frame_features_tf(batch, kind).numpy()
    want = np.stack([F.frame_features(x, kind) for x in batch])
    assert frames.shape == want.shape and np.abs(frames - want).max() <= FT.TF_TOLERANCE[kind]
    assert np.abs(got[0] - got[1]).mean() > 0.3  # two different utterances, each standardised on its own


def test_rows_are_independent(two_utterances):
    pair = FT.windows_tf(two_utterances).numpy()
    alone = FT.clip_windows_tf(two_utterances[1]).numpy()
    np.testing.assert_allclose(pair[1], alone, atol=1e-5)


def test_dynamic_shapes_and_frame_count_in_one_trace():
    fn = _signature("mfcc")
    rng = np.random.default_rng(3)
    for samples in (1, 159, 160, 161, 400, 1200, 4000, 16400):  # 400, 1200, 16400: ties (1.5, 4.5, 61.5)
        for rows in (1, 3):
            x = rng.normal(scale=0.1, size=(rows, samples)).astype(np.float32)
            got = fn(tf.constant(x)).numpy()
            assert got.shape == (rows, F.num_frames(samples, 16000), 16, 29)
            want = np.stack([F.clip_windows(r, 16000) for r in x])
            assert np.abs(got - want).max(initial=0) <= FT.TF_TOLERANCE["mfcc"], samples
    assert fn.experimental_get_tracing_count() == 1  # one graph for every (B, S)


def test_num_frames_tf_is_the_exact_tie_to_even_rule():
    samples = np.concatenate([np.arange(0, 40000, 7), [400, 1200, 16400, 33200, 67600, 10**7 + 400]])
    got = FT.num_frames_tf(tf.constant(samples, tf.int32)).numpy()
    np.testing.assert_array_equal(got, [F.num_frames(int(s), 16000) for s in samples])


def test_dft_matrix_is_the_windowed_rfft():
    x = np.random.default_rng(4).normal(size=(3, 400))
    spec = x @ FT.dft_matrix().astype(np.float64)
    ref = np.fft.rfft(x * F.HANN, n=512, axis=1)
    np.testing.assert_allclose(spec[:, :257], ref.real, atol=1e-5)
    np.testing.assert_allclose(spec[:, 257:], ref.imag, atol=1e-5)


def test_interpolation_and_windows_match_numpy():
    x = np.random.default_rng(5).normal(size=(2, 37, 40)).astype(np.float32)  # F = 40: the phone front end's
    y = FT.to_60fps_tf(x, 64).numpy()
    for r in range(2):
        np.testing.assert_allclose(y[r], F.to_60fps(x[r], 64), atol=1e-6)
    w = FT.stack_windows_tf(y).numpy()
    assert w.shape == (2, 64, 16, 40)
    for r in range(2):
        np.testing.assert_array_equal(w[r], F.stack_windows(y[r]))


def test_tflite_conversion_builtin_ops_only(two_utterances):
    """The default converter admits TFLite builtin ops only (no Flex/select TF ops), so converting at all shows
    it; the converted model runs at any (B, S) and stays within the tolerance."""
    from ai_edge_litert.interpreter import Interpreter

    fn = _signature("mfcc")
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    interpreter = Interpreter(model_content=converter.convert())
    into, out = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    for batch in (two_utterances, two_utterances[:1, :16400]):
        interpreter.resize_tensor_input(into, batch.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(into, np.ascontiguousarray(batch))
        interpreter.invoke()
        got = interpreter.get_tensor(out)
        want = np.stack([F.clip_windows(x, F.SAMPLE_RATE) for x in batch])
        assert got.shape == want.shape and np.abs(got - want).max() <= FT.TF_TOLERANCE["mfcc"]
