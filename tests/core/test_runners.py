"""Keras and TFLite runners: batched results equal one call, checks name the file."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def toy():
    """(model, TFLite bytes) of a two-input functional model."""
    import contextlib
    import io

    import keras
    import tensorflow as tf

    x, e = keras.Input((6,), name="x"), keras.Input((2,), name="e")
    model = keras.Model([x, e], keras.layers.Dense(3)(keras.layers.Concatenate()([x, e])))
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints Keras' export summary
        tflite = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    return model, tflite


def test_keras_runner_batches_equal_one_call(toy):
    from zoo.core.runners import KerasRunner

    model, _ = toy
    rng = np.random.default_rng(0)
    x, e = rng.normal(size=(23, 6)).astype(np.float32), rng.normal(size=(23, 2)).astype(np.float32)
    whole = model([x, e]).numpy()
    np.testing.assert_allclose(KerasRunner(model, batch_size=5)(x, e), whole, rtol=1e-6, atol=1e-6)
    assert KerasRunner(model)(x[:0], e[:0]).shape == (0, 3)
    with pytest.raises(ValueError, match="different numbers of rows"):
        KerasRunner(model)(x, e[:3])


def test_tflite_runner_from_bytes_and_file(toy, tmp_path):
    from zoo.core.runners import TFLiteRunner

    model, tflite = toy
    rng = np.random.default_rng(1)
    inputs = {"x": rng.normal(size=(11, 6)).astype(np.float32), "e": rng.normal(size=(11, 2)).astype(np.float32)}
    reference = model([inputs["x"], inputs["e"]]).numpy()
    got = TFLiteRunner(tflite, batch_size=4)(inputs)["output_0"]
    np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-5)
    path = tmp_path / "toy.tflite"
    path.write_bytes(tflite)
    runner = TFLiteRunner(path).check({"x": (6,), "e": (2,)}, {"output_0": 3})
    np.testing.assert_allclose(runner(inputs)["output_0"], reference, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=f"{path}: 'serving_default' takes inputs .*a TFLite file of another"):
        runner.check({"x": (7,), "e": (2,)}, {"output_0": 3})
    with pytest.raises(ValueError, match="output 'output_0' is 3 wide, the model has 4"):
        runner.check({"x": (6,), "e": (2,)}, {"output_0": 4})
    with pytest.raises(ValueError, match="no 'audio' signature"):
        TFLiteRunner(path, signature="audio")
    (tmp_path / "bad.tflite").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad.tflite: not a loadable TFLite model"):
        TFLiteRunner(tmp_path / "bad.tflite")
