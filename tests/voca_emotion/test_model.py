"""The VOCA network: golden parameter counts, the layer table of spec §2.1, the PCA decoder initialisation."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import check_config_round_trip

from zoo.voca_emotion import GOLDEN_PARAMS, PRESETS, Config, build_model, preset
from zoo.voca_emotion.config import count_from_table
from zoo.voca_emotion.model import init_decoder, one_hot, pca_basis


def trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def test_golden_trainable_parameter_counts_of_the_original_configurations():
    assert GOLDEN_PARAMS == {"voca": 809_563, "ravdess": 1_925_783}  # spec §2.1 and §6.1
    for name, count in GOLDEN_PARAMS.items():
        model = build_model(PRESETS[name])
        assert trainable(model) == count == count_from_table(PRESETS[name])
        assert int(model.count_params()) - count == 2  # the input BatchNorm's moving mean and variance


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_layer_table_count_matches_keras_for_every_preset(name):
    config = PRESETS[name]
    assert trainable(build_model(config)) == count_from_table(config)
    assert trainable(build_model(config.replace(per_feature_input_norm=True))) == count_from_table(
        config.replace(per_feature_input_norm=True))


def test_layer_shapes_follow_the_released_graph():
    model = build_model(PRESETS["voca"])
    shapes = {layer.name: [tuple(w.shape) for w in layer.weights] for layer in model.layers if layer.weights}
    assert shapes["input_norm"] == [(1,), (1,), (1,), (1,)]  # one scalar mean/variance for all 16 × 29 values
    assert shapes["conv1"] == [(3, 29 + 8, 32), (32,)]  # subject one-hot concatenated before conv1
    assert shapes["conv4"] == [(3, 64, 64), (64,)]
    assert shapes["fc1"] == [(64 + 8, 128), (128,)]  # … and again before fc1
    assert shapes["fc2"] == [(128, 50), (50,)]
    assert shapes["expression_offset"] == [(50, 15069), (15069,)]
    steps = [model.get_layer(f"conv{i}").output.shape[1] for i in range(1, 5)]
    assert steps == [8, 4, 2, 1]  # stride-2 SAME convolutions: 16 → 8 → 4 → 2 → 1
    assert model.get_layer("fc1").get_config()["activation"] == "tanh"
    assert model.get_layer("conv1").get_config()["activation"] == "relu"  # the released graph's Relu


def test_config_round_trips_and_validates():
    for name in PRESETS:
        check_config_round_trip(Config, PRESETS[name])
    check_config_round_trip(Config, PRESETS["tiny"], build_model)
    with pytest.raises(ValueError, match="acceleration"):
        preset("tiny", acceleration_weight=0.5, num_consecutive_frames=2)
    with pytest.raises(ValueError, match="subjects"):
        preset("tiny", subjects=("a", "a"))
    with pytest.raises(ValueError, match="decoder_init"):
        preset("tiny", decoder_init="copy_row_0")
    config = PRESETS["tiny"]
    assert config.subject_index("b") == 1 and config.subject_index("0") == 0
    with pytest.raises(ValueError, match="0-based"):
        config.subject_index(2)


def test_output_is_template_plus_offsets_and_conditioned_on_the_subject():
    config = PRESETS["tiny"]
    model = build_model(config)
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(5, 16, 29)).astype(np.float32)
    tpl = rng.normal(0, 0.05, (5, config.num_vertices, 3)).astype(np.float32)
    cond = one_hot([0, 1, 0, 1, 0], 2)
    out = model([windows, cond, tpl], training=False).numpy()
    moved = model([windows, cond, tpl + 0.01], training=False).numpy()
    np.testing.assert_allclose(moved - out, 0.01, atol=1e-6)  # the template is added, not transformed
    other = model([windows, one_hot([1, 0, 1, 0, 1], 2), tpl], training=False).numpy()
    assert np.abs(other - out).max() > 1e-6  # the subject one-hot changes the output
    with pytest.raises(ValueError, match="0-based"):
        one_hot([2], 2)


def test_pca_basis_unit_norm_and_sqrt_eigenvalue_scaling():
    rng = np.random.default_rng(1)
    directions = np.linalg.qr(rng.normal(size=(30, 3)))[0].T  # 3 orthonormal directions in R^30
    scales = np.array([3.0, 2.0, 0.5])
    codes = rng.normal(size=(400, 3)) * scales
    offsets = codes @ directions + 0.2  # a constant mean offset is removed before the PCA
    unit = pca_basis(offsets, 5, "pca_unit")
    assert unit.shape == (5, 30)
    np.testing.assert_allclose(unit[:3] @ unit[:3].T, np.eye(3), atol=1e-5)
    np.testing.assert_allclose(np.linalg.svd(unit[:3] @ directions.T)[1], 1, atol=1e-5)  # the data's subspace
    along = (offsets - offsets.mean(axis=0)) @ unit[:3].T
    assert np.std(along, axis=0, ddof=1) == pytest.approx(sorted(np.std(along, axis=0, ddof=1), reverse=True))
    scaled = pca_basis(offsets, 3, "pca_sqrt_eigenvalue")
    np.testing.assert_allclose(np.linalg.norm(scaled, axis=1), np.std(along, axis=0, ddof=1), rtol=1e-4)  # √λ_k
    few = pca_basis(offsets[:2], 5)
    assert not few[2:].any()  # fewer rows than components: the missing directions are zero
    with pytest.raises(ValueError, match="NaN"):
        pca_basis(np.full((4, 30), np.nan), 2)


def test_init_decoder_sets_the_basis_and_a_zero_bias():
    model = build_model(PRESETS["tiny"])
    basis = np.random.default_rng(2).normal(size=(8, 192)).astype(np.float32)
    init_decoder(model, basis)
    kernel, bias = model.get_layer("expression_offset").get_weights()
    np.testing.assert_array_equal(kernel, basis)
    assert not bias.any()
    with pytest.raises(ValueError, match="decoder"):
        init_decoder(model, basis[:4])


def test_transfer_weights_matches_subject_rows_by_name_and_starts_new_subjects_from_the_mean():
    from zoo.voca_emotion.model import transfer_weights

    source_config = PRESETS["tiny"]  # subjects a, b
    source = build_model(source_config)
    target_config = source_config.replace(subjects=("b", "x", "y"))
    target = build_model(target_config)
    origin = transfer_weights(target, target_config, source, source_config.subjects, subject_map={"y": "a"})
    assert origin == {"b": "b", "x": "mean of the source subjects", "y": "a"}
    for layer, lead in (("conv1", 29), ("fc1", 16)):  # fc1's rows: conv4's 16 filters, then the subjects
        old = source.get_layer(layer).get_weights()[0]
        new = target.get_layer(layer).get_weights()[0]
        np.testing.assert_array_equal(new[..., :lead, :], old[..., :lead, :])
        np.testing.assert_array_equal(new[..., lead, :], old[..., lead + 1, :])  # b
        np.testing.assert_allclose(new[..., lead + 1, :], old[..., lead:, :].mean(axis=-2), rtol=1e-6)  # x
        np.testing.assert_array_equal(new[..., lead + 2, :], old[..., lead, :])  # y ← a
    np.testing.assert_array_equal(target.get_layer("expression_offset").get_weights()[0],
                                  source.get_layer("expression_offset").get_weights()[0])
    with pytest.raises(ValueError, match="expression_offset|fc2"):
        other = source_config.replace(expression_dim=4)
        transfer_weights(build_model(other), other, source, source_config.subjects)


def test_pca_basis_of_a_large_matrix_matches_the_exact_svd():
    rng = np.random.default_rng(3)
    offsets = (rng.normal(size=(300, 12)) * np.linspace(2, 0.2, 12)) @ rng.normal(size=(12, 500))
    offsets += 1e-4 * rng.normal(size=offsets.shape)  # low rank plus noise, like face offsets
    fast = pca_basis(offsets, 10, "pca_sqrt_eigenvalue")  # 300, 500 > 4 × 10: the randomised range finder
    centred = offsets - offsets.mean(axis=0)
    _, sigma, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(np.sum(fast / np.linalg.norm(fast, axis=1, keepdims=True) * vt[:10], axis=1)),
                               1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), sigma[:10] / np.sqrt(299), rtol=1e-5)
