"""Audio2Face network: golden parameter counts, shapes, config and get_config round trips."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import check_config_round_trip, check_golden_params

from zoo.audio2face import GOLDEN_PARAMS, PRESETS, Config, preset
from zoo.audio2face.rig import FACEGOOD_TRAINED_37


def test_golden_parameter_counts():
    """specs/audio2face.md §3: TF2 1,473,204; tfv1 1,473,012 (37 outputs)."""
    from zoo.audio2face import build_model

    check_golden_params(build_model, PRESETS, GOLDEN_PARAMS)
    assert build_model(preset("facegood_tf2")).channel_names == FACEGOOD_TRAINED_37


def test_layer_shapes_follow_table_1():
    """Formant H 32→16→8→4→2→1 (64 wide), articulation W 64→32→16→8→4→1, 256 + 16 channels."""
    from zoo.audio2face import build_model

    model = build_model(preset("facegood_tf2"))
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert [shapes[f"formant{i}"] for i in range(1, 6)] == [
        (16, 64, 72), (8, 64, 108), (4, 64, 162), (2, 64, 243), (1, 64, 256)]
    assert [shapes[f"articulation{i}_emotion"] for i in range(1, 6)] == [
        (1, 32, 272), (1, 16, 272), (1, 8, 272), (1, 4, 272), (1, 1, 272)]
    assert shapes["hidden"] == (150,) and shapes["blendshapes"] == (37,)


def test_paper_parameter_count_formula():
    """Paper preset: input standardisation (32 means + 32 deviations, not trained) + formant 319,387 +
    articulation (the first sees no emotion) + Dense(272→150→N)."""
    from zoo.audio2face import build_model

    names = tuple(f"c{i}" for i in range(10))
    model = build_model(preset("paper", output_names=names))
    articulation = (3 * 256 * 256 + 256) + 3 * (3 * 272 * 256 + 256) + (4 * 272 * 256 + 256)
    assert model.count_params() == 64 + 319_387 + articulation + (272 * 150 + 150) + (150 * 10 + 10)
    assert len(model.trainable_weights) == len(model.weights) - 2


def test_paper_emotion_input_changes_output_and_tiny_shapes():
    from zoo.audio2face import build_model

    names = ("jawOpen", "mouthFunnel", "mouthClose")
    model = build_model(preset("tiny", output_names=names))
    x = np.random.default_rng(0).standard_normal((5, 32, 64, 1)).astype(np.float32)
    e0 = np.zeros((5, 4), np.float32)
    y0 = np.asarray(model([x, e0], training=False))
    y1 = np.asarray(model([x, e0 + 1.0], training=False))
    assert y0.shape == (5, 3)
    assert np.abs(y1 - y0).max() > 1e-4


def test_facegood_tf2_emotion_is_a_fixed_tensor_and_tfv1_depends_on_audio():
    """TF2: the emotion map ignores the input (R ≡ 0); tfv1: it is a conv of the input."""
    from zoo.audio2face import build_model

    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 32, 64, 1)).astype(np.float32)
    for name, varies in (("facegood_tf2", False), ("facegood_tfv1", True)):
        model = build_model(preset(name))
        _, emap = model.training_model()(x, training=False)
        emap = np.asarray(emap)
        assert emap.shape == (4, 1, 64, 16)
        assert (np.abs(emap[0] - emap[1]).max() > 1e-6) == varies


def test_get_config_and_keras_save_round_trip(tmp_path):
    import keras

    from zoo.audio2face import build_model
    from zoo.audio2face.model import Audio2Face

    model = build_model(preset("tiny", output_names=("a", "b")))
    clone = Audio2Face.from_config(model.get_config())
    assert clone.config == model.config and clone.count_params() == model.count_params()
    x = np.random.default_rng(2).standard_normal((3, 32, 64, 1)).astype(np.float32)
    e = np.ones((3, 4), np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(np.asarray(loaded([x, e])), np.asarray(model([x, e])))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_config_json_round_trip(name):
    from zoo.audio2face import build_model

    check_config_round_trip(Config, PRESETS[name])
    if name == "tiny":  # and the Keras model's get_config (the preset needs its channels named first)
        check_config_round_trip(Config, preset("tiny", output_names=("jawOpen", "mouthClose")), build_model)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="even"):
        preset("paper", batch_size=33)
    with pytest.raises(ValueError, match="emotion"):
        preset("paper", emotion="latent")
    with pytest.raises(ValueError, match="unknown"):
        Config.from_dict({"preset": "x", "colour": 1})
    with pytest.raises(KeyError, match="presets"):
        preset("karras")


def test_feature_noise_is_training_only():
    """1.4^N(0,1) per feature map: changes outputs in training, identity at inference."""
    from zoo.audio2face import build_model

    model = build_model(preset("tiny", output_names=("a",), feature_noise=True, dropout=0.0))
    x = np.random.default_rng(3).standard_normal((2, 32, 64, 1)).astype(np.float32)
    e = np.zeros((2, 4), np.float32)
    a, b = np.asarray(model([x, e], training=False)), np.asarray(model([x, e], training=False))
    np.testing.assert_array_equal(a, b)
    assert np.abs(np.asarray(model([x, e], training=True)) - a).max() > 1e-6
