"""Export: SavedModel (serving_default, step) and the step signature as TFLite; streaming equals the full pass."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def exported(tiny_model, tmp_path_factory):
    from zoo.evenet import export_model

    dest = tmp_path_factory.mktemp("evenet_export")
    return export_model(tiny_model[0], dest), dest


def test_parity_of_every_signature(exported):
    result, _ = exported
    got = {(c.signature, c.backend): c for c in result.checks}
    assert set(got) == {("serving_default", "saved_model"), ("step", "saved_model"), ("step", "tflite")}
    assert all(c.passed and c.max_abs_diff <= 1e-5 for c in got.values())


def test_tflite_stepping_equals_the_keras_full_pass(exported, tiny_model):
    """Generate with the TFLite ``step`` alone (state and x fed back), then check every generated frame against the
    Keras teacher-forced full pass over the same frames: the streaming graph on a phone equals the model."""
    from zoo.core.runners import TFLiteRunner
    from zoo.evenet import Predictor
    from zoo.evenet.train import predict_teacher_forced, take_sequence

    result, _ = exported
    predictor = Predictor.load(tiny_model[0])
    config, size = predictor.config, predictor.generator.graph.size
    runner = TFLiteRunner(result.tflite, signature="step")
    rng = np.random.default_rng(0)
    frames = 150
    emotion = np.repeat(rng.integers(0, len(config.emotion_categories), 15), 10).astype(np.int32)
    phoneme = np.repeat(rng.integers(0, 56, 30), 5).astype(np.int32)
    state, x = np.zeros((1, size), np.float32), np.zeros((1, config.step_channels), np.float32)
    generated = []
    for e, p in zip(emotion, phoneme):
        out = runner({"state": state, "x": x, "emotion": np.array([e], np.int32), "phoneme": np.array([p], np.int32)})
        state, x = out["state"], out["x"]
        generated.append(out["value"][0])
    generated = np.stack(generated)
    assert generated.shape == (frames, config.data_dim) and np.ptp(generated, axis=0).max() > 1e-3
    full = predict_teacher_forced(predictor.model, config, take_sequence(config, "g", generated, emotion, phoneme))
    assert np.abs(full - generated).max() <= 1e-5
    np.testing.assert_allclose(generated, predictor.generator.fast(emotion, phoneme), atol=1e-5)


def test_saved_model_signatures_check_their_inputs(exported):
    import tensorflow as tf

    _, dest = exported
    loaded = tf.saved_model.load(str(dest / "evenet" / "1"))
    serve = loaded.signatures["serving_default"]
    frames = tf.zeros([1, 10, 4])
    out = serve(frames=frames, emotion=tf.zeros([1, 10], tf.int32), phoneme=tf.fill([1, 10], 47))
    assert out["predictions"].shape == (1, 10, 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="one label per frame"):
        serve(frames=frames, emotion=tf.zeros([1, 9], tf.int32), phoneme=tf.zeros([1, 10], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="frames must have shape"):
        serve(frames=tf.zeros([1, 10, 5]), emotion=tf.zeros([1, 10], tf.int32), phoneme=tf.zeros([1, 10], tf.int32))
