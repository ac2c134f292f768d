"""landmark_dcgan networks: the CNN's layer table and golden counts (plain, GRU "report", log-magnitude
standardisation), D and G against the tables of spec §5.5/§5.6 at 256² (shapes only: never run at 256²) and at
128²/64², the inits and BatchNorm settings of §5.4, zero-insertion unpooling, tiled conditioning, reference
encoding, get_config/.keras round trips, and the tiny generator through SavedModel and TFLite with parity."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import check_config_round_trip, check_export_parity

from zoo.landmark_dcgan.config import GOLDEN_PARAMS, Config, preset
from zoo.landmark_dcgan.losses import discriminator_loss, generator_loss, landmark_loss
from zoo.landmark_dcgan.model import (
    FACE_PARTS,
    FeatureStandardization,
    LandmarkMaps,
    TiledConcat,
    Unpool2D,
    build_cnn,
    build_discriminator,
    build_generator,
    encode_reference,
    fast_landmarks,
    feature_statistics,
    set_feature_statistics,
)

Y = 136  # landmark vector width


def trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def non_trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.non_trainable_weights))


def conv_params(kernel_h: int, kernel_w: int, channels_in: int, channels_out: int) -> int:
    return kernel_h * kernel_w * channels_in * channels_out + channels_out


def gan_counts(size: int, d: tuple, g: tuple, z_dim: int = 100) -> tuple[int, int]:
    """(D, G) trainable parameters from the tables of spec §5.5/§5.6 at S = size (s = S/64): 5×5 convs and
    deconvs with biases, BN γ and β, D's linear s²·d3 → z_dim, G's linear z_dim → s²·g0."""
    s = size // 64
    disc = (conv_params(5, 5, 3, d[0]) + conv_params(5, 5, d[0] + Y, d[1]) + conv_params(5, 5, d[1], d[2])
            + conv_params(5, 5, d[2], d[3]) + s * s * d[3] * z_dim + z_dim + 2 * (d[1] + d[2] + d[3]))
    gen = (z_dim * s * s * g[0] + s * s * g[0] + conv_params(5, 5, g[0], g[1]) + conv_params(5, 5, g[1], g[2])
           + conv_params(5, 5, g[2], g[3]) + conv_params(5, 5, g[3] + Y, 3) + 2 * (g[0] + g[1] + g[2] + g[3]))
    return disc, gen


def output_shapes(model) -> dict[str, tuple]:
    return {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}


def randomise_batch_norms(model, seed: int = 0) -> None:
    """Non-trivial γ, β and moving statistics, so inference-mode BatchNorm is not ≈ the identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n),
                               rng.uniform(0.5, 2.0, n)])


@pytest.fixture(scope="module")
def full_size():
    """D and G of the original preset at 256² (built once; never run on data)."""
    config = preset("original")
    return build_discriminator(config), build_generator(config)


@pytest.fixture(scope="module")
def tiny():
    config = preset("tiny")
    return config, build_discriminator(config), build_generator(config)


def landmark_batch(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (n, Y)).astype(np.float32)


def spectra(shape, seed: int = 0) -> np.ndarray:
    return np.abs(np.random.default_rng(seed).normal(0, 3, shape)).astype(np.float32)


# -- landmark CNN ---------------------------------------------------------------------------------------------------
#: spec §3: name, filters, kernel (f, t), stride (f, t), output (f, t, c), parameters
CNN_TABLE = [
    ("conv1", 32, (3, 1), (2, 1), (64, 23, 32), 128),
    ("pool1", None, (2, 1), (2, 1), (32, 23, 32), 0),
    ("conv2", 32, (3, 1), (2, 1), (16, 23, 32), 3_104),
    ("pool2", None, (2, 1), (2, 1), (8, 23, 32), 0),
    ("conv3", 64, (2, 1), (2, 1), (4, 23, 64), 4_160),
    ("conv4", 64, (3, 1), (2, 1), (2, 23, 64), 12_352),
    ("conv5", 128, (3, 1), (2, 1), (1, 23, 128), 24_704),
    ("pool5", None, (1, 2), (1, 2), (1, 11, 128), 0),
    ("conv6", 128, (1, 3), (1, 2), (1, 6, 128), 49_280),
    ("conv7", 136, (1, 3), (1, 2), (1, 3, 136), 52_360),
    ("conv8", 136, (1, 4), (1, 4), (1, 1, 136), 74_120),
]
DENSE_TABLE = [("dense9", "tanh", 18_632), ("dense10", "tanh", 18_632), ("landmarks", "sigmoid", 18_632)]


def test_cnn_follows_the_layer_table_of_spec_3():
    model = build_cnn(preset("original"))
    assert model.input_shape == (None, 128, 23, 1) and model.output_shape == (None, 136)
    shapes, channels = output_shapes(model), 1
    for name, filters, kernel, stride, out, params in CNN_TABLE:
        layer = model.get_layer(name)
        assert shapes[name] == out, name
        assert layer.count_params() == params, name
        if filters is None:
            assert (layer.pool_size, layer.strides, layer.padding) == (kernel, stride, "valid"), name
            continue
        assert conv_params(*kernel, channels, filters) == params, name  # the table's own arithmetic
        cfg = layer.get_config()
        assert (cfg["filters"], cfg["kernel_size"], cfg["strides"]) == (filters, kernel, stride), name
        assert (cfg["padding"], cfg["activation"]) == ("same", "relu"), name
        assert not layer.bias.numpy().any(), name
        channels = filters
    assert shapes["flatten"] == (136,)
    for name, activation, params in DENSE_TABLE:
        assert model.get_layer(name).get_config()["activation"] == activation
        assert model.get_layer(name).count_params() == params == 136 * 136 + 136
    total = sum(row[-1] for row in CNN_TABLE) + sum(row[-1] for row in DENSE_TABLE)
    assert model.count_params() == trainable(model) == total == GOLDEN_PARAMS["cnn"] == 276_104


def test_cnn_runs_on_frames_and_builds_deterministically():
    config = preset("original")
    model = build_cnn(config)
    x = spectra((4, 128, 23, 1))
    y = model(x).numpy()
    assert y.shape == (4, 136) and (y > 0).all() and (y < 1).all()  # sigmoid: normalised coordinates
    np.testing.assert_array_equal(build_cnn(config)(x).numpy(), y)  # seeded initialisers
    assert np.abs(build_cnn(config.replace(seed=1))(x).numpy() - y).max() > 1e-4


def test_report_cnn_applies_a_gru_over_the_frame_embeddings():
    plain, report = build_cnn(preset("original")), build_cnn(preset("report"))
    gru = report.get_layer("gru").get_config()
    assert (gru["units"], gru["reset_after"], gru["return_sequences"]) == (136, True, True)  # Keras 3 default form
    assert report.get_layer("gru").count_params() == 3 * (136 * 136 + 136 * 136 + 2 * 136) == 111_792
    assert report.count_params() == trainable(report) == GOLDEN_PARAMS["cnn_report"] == 276_104 + 111_792
    assert report.input_shape == (None, None, 128, 23, 1) and report.output_shape == (None, None, 136)
    # the conv stack and dense9 act frame by frame: with the plain CNN's weights, the same frame embeddings
    for layer in plain.layers:
        if layer.weights:
            report.get_layer(layer.name).set_weights(layer.get_weights())
    x = spectra((2, 5, 128, 23, 1), seed=3)
    embed = keras.Model(report.input, report.get_layer("unfold_frames").output)  # dense9 of every frame
    frame_embed = keras.Model(plain.input, plain.get_layer("dense9").output)
    expected = frame_embed(x.reshape(10, 128, 23, 1)).numpy().reshape(2, 5, 136)
    np.testing.assert_allclose(embed(x).numpy(), expected, atol=1e-6)
    y = report(x).numpy()
    assert y.shape == (2, 5, 136) and (y > 0).all() and (y < 1).all()
    # the recurrence is causal and really applied: a later frame changes later outputs only
    changed = x.copy()
    changed[:, 3:] = spectra((2, 2, 128, 23, 1), seed=4)
    y2 = report(changed).numpy()
    np.testing.assert_allclose(y2[:, :3], y[:, :3], atol=1e-6)
    assert np.abs(y2[:, 4] - y[:, 4]).max() > 1e-5
    assert np.abs(report(x[:, 1:]).numpy()[:, -1] - y[:, -1]).max() > 1e-6  # the state carries the past
    assert report(x[:1, :1]).shape == (1, 1, 136)  # any T


@pytest.mark.parametrize("gru", [False, True])
def test_log_magnitude_adds_a_fixed_per_bin_standardisation(gru):
    config = preset("report" if gru else "original", log_magnitude=True)
    model, plain = build_cnn(config), build_cnn(config.replace(log_magnitude=False))
    assert trainable(model) == GOLDEN_PARAMS["cnn_report" if gru else "cnn"] and non_trainable(model) == 2 * 128
    x = spectra((3, 2, 128, 23, 1) if gru else (3, 128, 23, 1), seed=5)
    np.testing.assert_allclose(model(x).numpy(), plain(x).numpy(), atol=1e-6)  # mean 0, std 1 at first
    mean, std = feature_statistics(x)
    bins = np.moveaxis(x[..., 0], -2, 0).reshape(128, -1)
    np.testing.assert_allclose(mean, bins.mean(1), rtol=1e-5)
    np.testing.assert_allclose(std, bins.std(1), rtol=1e-5)
    set_feature_statistics(model, mean, std)
    standardised = (x - mean[:, None, None]) / std[:, None, None]  # broadcast over the 23 chunks
    layer = model.get_layer("feature_standardization")
    np.testing.assert_allclose(layer(x).numpy(), standardised, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model(x).numpy(), plain(standardised).numpy(), atol=1e-5)


def test_feature_statistics_are_validated():
    model = build_cnn(preset("original", log_magnitude=True))
    ones = np.ones(128, np.float32)
    with pytest.raises(ValueError, match="no feature_standardization layer"):
        set_feature_statistics(build_cnn(preset("original")), ones * 0, ones)
    with pytest.raises(ValueError, match="128 bins"):
        set_feature_statistics(model, ones[:64], ones[:64])
    with pytest.raises(ValueError, match="std > 0"):
        set_feature_statistics(model, ones, ones * 0)
    with pytest.raises(ValueError, match="finite"):
        set_feature_statistics(model, ones * np.nan, ones)
    constant = np.ones((4, 128, 23, 1), np.float32)
    assert (feature_statistics(constant)[1] > 0).all()  # floored: a constant bin does not divide by 0
    with pytest.raises(ValueError, match="bins, chunks, 1"):
        feature_statistics(np.ones((4, 128, 23)))


@pytest.mark.parametrize("log_magnitude", [False, True])
def test_fast_landmarks_equals_the_keras_model_at_every_batch_size(log_magnitude):
    model = build_cnn(preset("original", log_magnitude=log_magnitude))
    rng = np.random.default_rng(7)
    conv1 = model.get_layer("conv1")
    conv1.bias.assign(rng.normal(0, 0.5, 32).astype(np.float32))  # a bias and both signs: ReLU and max both matter
    x = spectra((1030, 128, 23, 1), seed=8)
    if log_magnitude:
        set_feature_statistics(model, *feature_statistics(x))
    else:
        x = x - x.mean()
    fast = fast_landmarks(model)
    for n in (1, 5, 17, 1030):  # padded to 1, 8, 32; 1030 = one batch of 1024 + one of 6 (padded to 8)
        expected = model(x[:n], training=False).numpy()
        got = fast(x[:n])
        assert got.shape == (n, Y) and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=2e-6)
    assert fast(x[:0]).shape == (0, Y)
    with pytest.raises(ValueError, match=r"\(N, 128, 23, 1\)"):
        fast(x[:4, :64])
    with pytest.raises(ValueError, match="frame CNN"):
        fast_landmarks(build_cnn(preset("report")))



def test_fast_landmarks_in_bfloat16_stays_within_1e_2_of_float32():
    model = build_cnn(preset("original", log_magnitude=True))
    x = spectra((64, 128, 23, 1), seed=9)
    set_feature_statistics(model, *feature_statistics(x))
    exact = fast_landmarks(model)(x)
    rounded = fast_landmarks(model, precision="bfloat16")(x)
    assert rounded.shape == exact.shape and rounded.dtype == np.float32
    # bfloat16 keeps 8 bits of mantissa: the landmarks move, but by < 1e-2 normalised units (2.56 px of a 256-px face)
    assert 0 < np.abs(rounded - exact).max() < 1e-2
    with pytest.raises(ValueError, match="precision must be one of"):
        fast_landmarks(model, precision="float16")

# -- conditional DCGAN ------------------------------------------------------------------------------------------------
#: spec §5.5 at 256²
D_TABLE = {
    "image": (256, 256, 3), "d_h0_conv": (128, 128, 64), "d_h0_lrelu": (128, 128, 64), "d_h1_pool": (64, 64, 64),
    "d_h1_concat": (64, 64, 200), "d_h2_conv": (32, 32, 128), "d_bn1": (32, 32, 128), "d_h2_lrelu": (32, 32, 128),
    "d_h3_pool": (16, 16, 128), "d_h4_conv": (8, 8, 256), "d_bn2": (8, 8, 256), "d_h4_lrelu": (8, 8, 256),
    "d_h5_conv": (4, 4, 1024), "d_bn3": (4, 4, 1024), "d_h5_lrelu": (4, 4, 1024), "d_h5_flatten": (16384,),
    "d_h6_lin": (100,), "landmarks": (136,),
}
#: spec §5.6 at 256²
G_TABLE = {
    "z": (100,), "g_h0_lin": (16384,), "g_h0_reshape": (4, 4, 1024), "g_bn0": (4, 4, 1024), "g_h0_relu": (4, 4, 1024),
    "g_h1_deconv": (8, 8, 256), "g_bn1": (8, 8, 256), "g_h1_relu": (8, 8, 256), "g_h2_deconv": (16, 16, 128),
    "g_bn2": (16, 16, 128), "g_h2_relu": (16, 16, 128), "g_h3_unpool": (32, 32, 128), "g_h4_deconv": (64, 64, 64),
    "g_bn3": (64, 64, 64), "g_h4_relu": (64, 64, 64), "g_h4_concat": (64, 64, 200), "g_h5_unpool": (128, 128, 200),
    "g_h6_deconv": (256, 256, 3), "g_h6_tanh": (256, 256, 3), "landmarks": (136,),
}


def test_golden_gan_counts_are_the_tables_arithmetic(full_size):
    disc, gen = full_size
    d_table = (5 * 5 * 3 * 64 + 64 + 5 * 5 * 200 * 128 + 128 + 5 * 5 * 128 * 256 + 256 + 5 * 5 * 256 * 1024 + 1024
               + 16384 * 100 + 100 + 2 * (128 + 256 + 1024))
    g_table = (100 * 16384 + 16384 + 5 * 5 * 1024 * 256 + 256 + 5 * 5 * 256 * 128 + 128 + 5 * 5 * 128 * 64 + 64
               + 5 * 5 * 200 * 3 + 3 + 2 * (1024 + 256 + 128 + 64))
    assert (d_table, g_table) == gan_counts(256, (64, 128, 256, 1024), (1024, 256, 128, 64)) == (9_660_388, 9_250_779)
    assert trainable(disc) == d_table == GOLDEN_PARAMS["discriminator"]
    assert trainable(gen) == g_table == GOLDEN_PARAMS["generator"]
    assert non_trainable(disc) == 2 * (128 + 256 + 1024) and non_trainable(gen) == 2 * (1024 + 256 + 128 + 64)


def test_every_intermediate_shape_at_256_is_the_tables(full_size):
    disc, gen = full_size
    assert output_shapes(disc) == D_TABLE
    assert output_shapes(gen) == G_TABLE
    assert [t.name for t in disc.inputs] == ["image", "landmarks"] and [t.name for t in gen.inputs] == ["z",
                                                                                                      "landmarks"]
    assert all(layer.name.startswith("d_") for layer in disc.layers if layer.weights)
    assert all(layer.name.startswith("g_") for layer in gen.layers if layer.weights)


@pytest.mark.parametrize("name", ["gan128", "gan64", "tiny"])
def test_the_design_scales_with_the_image_size(name):
    """G starts at s = S/64, D flattens s²·d3; every layer's shape follows, counts follow the tables' arithmetic."""
    config = preset(name)
    size, s, (d0, d1, d2, d3), (g0, g1, g2, g3) = config.image_size, config.image_size // 64, config.d_filters, \
        config.g_filters
    disc, gen = build_discriminator(config), build_generator(config)
    assert (trainable(disc), trainable(gen)) == gan_counts(size, config.d_filters, config.g_filters)
    d, g = output_shapes(disc), output_shapes(gen)
    assert (d["d_h0_conv"], d["d_h1_pool"], d["d_h1_concat"]) == ((size // 2, size // 2, d0), (size // 4, size // 4,
                                                                  d0), (size // 4, size // 4, d0 + Y))
    assert (d["d_h2_conv"], d["d_h3_pool"], d["d_h4_conv"], d["d_h5_conv"]) == (
        (size // 8, size // 8, d1), (size // 16, size // 16, d1), (size // 32, size // 32, d2), (s, s, d3))
    assert (d["d_h5_flatten"], d["d_h6_lin"]) == ((s * s * d3,), (100,))
    assert g["g_h0_reshape"] == (s, s, g0) and g["g_h1_deconv"] == (2 * s, 2 * s, g1)
    assert (g["g_h2_deconv"], g["g_h3_unpool"], g["g_h4_deconv"]) == ((4 * s, 4 * s, g2), (8 * s, 8 * s, g2),
                                                                      (16 * s, 16 * s, g3))
    assert (g["g_h4_concat"], g["g_h5_unpool"], g["g_h6_tanh"]) == ((16 * s, 16 * s, g3 + Y), (32 * s, 32 * s,
                                                                    g3 + Y), (size, size, 3))


def test_inits_and_batch_norm_settings_of_spec_5_4(full_size):
    disc, gen = full_size
    for layer in disc.layers + gen.layers:
        weights = {w.name: w.numpy() for w in layer.weights}
        if isinstance(layer, keras.layers.BatchNormalization):
            cfg = layer.get_config()
            assert (cfg["momentum"], cfg["epsilon"], cfg["center"], cfg["scale"]) == (0.9, 1e-5, True, True)
            continue
        if isinstance(layer, keras.layers.LeakyReLU):
            assert layer.negative_slope == pytest.approx(0.2)
        if "kernel" not in weights:
            continue
        kernel = weights["kernel"]
        assert not weights["bias"].any(), layer.name
        assert abs(kernel.mean()) < 1e-3, layer.name
        if type(layer) is keras.layers.Conv2D:  # truncated normal σ 0.02, cut at 2σ: std 0.8796σ
            assert np.abs(kernel).max() <= 0.04 + 1e-7, layer.name
            assert kernel.std() == pytest.approx(0.02 * 0.8796, rel=0.06), layer.name
        else:  # deconv and linear: normal σ 0.02, untruncated
            assert kernel.std() == pytest.approx(0.02, rel=0.06), layer.name
            if kernel.size > 10_000:
                assert np.abs(kernel).max() > 0.05, layer.name
    # no BatchNorm after D's first conv nor G's last deconv (spec §9.20)
    assert disc.get_layer("d_h0_lrelu").input is disc.get_layer("d_h0_conv").output
    assert gen.get_layer("g_h6_tanh").input is gen.get_layer("g_h6_deconv").output


def test_unpool_inserts_zeros_or_copies_and_refuses_other_modes():
    x = np.arange(1, 5, dtype=np.float32).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(Unpool2D()(x).numpy()[0, :, :, 0], [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0],
                                                                       [0, 0, 0, 0]])
    np.testing.assert_array_equal(Unpool2D("nearest")(x).numpy()[0, :, :, 0], [[1, 1, 2, 2], [1, 1, 2, 2],
                                                                                [3, 3, 4, 4], [3, 3, 4, 4]])
    x = np.random.default_rng(0).normal(size=(3, 4, 5, 6)).astype(np.float32)
    expected = np.zeros((3, 8, 10, 6), np.float32)
    expected[:, ::2, ::2] = x
    np.testing.assert_array_equal(Unpool2D()(x).numpy(), expected)
    np.testing.assert_array_equal(Unpool2D("nearest")(x).numpy(), x.repeat(2, axis=1).repeat(2, axis=2))
    assert Unpool2D().compute_output_shape((None, 4, 5, 6)) == (None, 8, 10, 6)
    with pytest.raises(ValueError, match="mode must be one of"):
        Unpool2D("bilinear")


def test_tiled_concat_puts_the_landmarks_after_the_channels_of_every_pixel():
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 5)).astype(np.float32)
    y = landmark_batch(2)
    out = TiledConcat()([x, y]).numpy()
    assert out.shape == (2, 3, 4, 5 + Y)
    np.testing.assert_array_equal(out[..., :5], x)
    np.testing.assert_array_equal(out[..., 5:], np.broadcast_to(y[:, None, None], (2, 3, 4, Y)))


@pytest.mark.parametrize("name", ["tiny", "gan64"])
def test_gan_runs_at_64_with_the_landmarks_as_condition(name):
    config = preset(name)
    disc, gen = build_discriminator(config), build_generator(config)
    rng = np.random.default_rng(2)
    z, y = rng.uniform(-1, 1, (2, 100)).astype(np.float32), landmark_batch(2, seed=3)
    images = gen([z, y], training=False).numpy()
    assert images.shape == (2, 64, 64, 3) and np.abs(images).max() < 1
    logits = disc([images, y], training=False).numpy()
    assert logits.shape == (2, 100) and np.isfinite(logits).all()
    other = landmark_batch(2, seed=4)
    assert np.abs(gen([z, other], training=False).numpy() - images).max() > 1e-6  # y reaches the image
    assert np.abs(disc([images, other], training=False).numpy() - logits).max() > 1e-6  # and D's logits
    unpooled = keras.Model(gen.inputs, gen.get_layer("g_h5_unpool").output)([z, y]).numpy()
    assert not unpooled[:, 1::2].any() and not unpooled[:, :, 1::2].any()  # zero insertion before the last deconv
    assert np.abs(unpooled[:, ::2, ::2, -Y:] - y[:, None, None]).max() < 1e-6  # the tiled landmarks
    np.testing.assert_array_equal(build_generator(config)([z, y]).numpy(), images)  # seeded: the same weights


def test_late_landmarks_shift_g_uniformly_unless_they_also_enter_the_first_layer():
    """The original's G: the landmarks pass the last unpool (×2) and one linear stride-2 deconv after the last ReLU,
    so two landmark vectors change tanh⁻¹(G) by the same amount at every interior pixel of a 4×4 phase; with
    g_input_landmarks they shape the face."""
    config = preset("tiny")
    rng = np.random.default_rng(7)
    z, y1 = rng.uniform(-1, 1, (1, 100)).astype(np.float32), landmark_batch(1, seed=8)
    y2 = rng.uniform(0, 1, (1, Y)).astype(np.float32)  # far from y1: the early path's effect at init is small
    for flag in (False, True):
        gen = build_generator(config.replace(g_input_landmarks=flag))
        shift = np.arctanh(gen([z, y2]).numpy().astype(np.float64)) - np.arctanh(gen([z, y1]).numpy())
        interior = shift[0, 4:-4, 4:-4]
        spread = max(np.ptp(interior[i::4, j::4], axis=(0, 1)).max() for i in range(4) for j in range(4))
        if flag:
            assert spread > 1e-5 and gen.get_layer("g_h0_lin").kernel.shape == (100 + Y, 16)  # [z, y] → s²·g0
        else:
            assert spread < 1e-5 < 1e-2 < np.abs(interior).max()  # float32 round-off only (~2e-7)


def test_landmark_maps_are_gaussians_at_the_points_one_channel_per_face_part():
    assert [k for a, b in FACE_PARTS for k in range(a, b)] == list(range(68))
    y = np.random.default_rng(12).uniform(0.1, 0.9, (2, Y)).astype(np.float32)
    n, sigma = 16, 0.75
    maps = LandmarkMaps(n, sigma)(y).numpy()
    p = y.astype(np.float64).reshape(2, 68, 1, 1, 2) * n
    centres = np.arange(n) + 0.5  # pixel (i, j) = (row, column)
    g = np.exp(-((centres[None, None, None, :] - p[..., 0]) ** 2 + (centres[None, None, :, None] - p[..., 1]) ** 2)
               / (2 * sigma ** 2))  # (2, 68, n, n)
    np.testing.assert_allclose(maps, np.stack([g[:, a:b].max(axis=1) for a, b in FACE_PARTS], axis=-1), atol=1e-6)
    on_centre = np.zeros((1, Y), np.float32)
    on_centre[0, 2 * 62:2 * 62 + 2] = (3.5 / n, 9.5 / n)  # inner-lip point 62 on the centre of pixel (9, 3)
    assert LandmarkMaps(n, sigma)(on_centre).numpy()[0, 9, 3, 5] == pytest.approx(1.0)
    moved = y.copy()
    moved[:, 2 * 60:] += 0.05  # the inner lip only
    change = np.abs(LandmarkMaps(n, sigma)(moved).numpy() - maps).max(axis=(0, 1, 2))
    assert (change[:5] == 0).all() and change[5] > 0.1


def test_landmark_maps_let_g_draw_where_the_mouth_is():
    """With g_landmark_maps G takes the six part maps at S/8 and S/2 (+6·25·(g3 + 3) weights); opening the inner lip
    changes G's image near the mouth: on the top of the face tanh⁻¹(G) moves only by the tiled landmarks' shift,
    the same at every pixel of a 4×4 phase (as without the maps)."""
    config = preset("tiny")
    base, gen = build_generator(config), build_generator(config.replace(g_landmark_maps=True))
    assert gen.count_params() - base.count_params() == 6 * 25 * (config.g_filters[3] + 3)
    assert gen.get_layer("g_h3_maps").output.shape[1:] == (8, 8, 6)
    assert gen.get_layer("g_h5_maps").output.shape[1:] == (32, 32, 6)
    rng = np.random.default_rng(13)
    z, y = rng.uniform(-1, 1, (1, 100)).astype(np.float32), np.empty((1, Y), np.float32)
    y[0, 0::2] = rng.uniform(0.25, 0.75, 68)
    y[0, 1::2] = np.r_[rng.uniform(0.3, 0.55, 48), rng.uniform(0.66, 0.78, 12), np.full(8, 0.72)]  # face, lips
    opened = y.copy()
    opened[0, 2 * 65 + 1::2] += 0.06  # the lower inner lip (points 65–67) down by ~4 pixels
    shift = np.arctanh(gen([z, opened]).numpy().astype(np.float64)) - np.arctanh(gen([z, y]).numpy())

    def spread(first_row, end_row):  # the largest range of a channel's shift within a 4×4 phase, interior columns
        rows, cols = np.arange(first_row, end_row), np.arange(4, 60)
        return max(np.ptp(shift[0][np.ix_(rows[rows % 4 == i], cols[cols % 4 == j])], axis=(0, 1)).max()
                   for i in range(4) for j in range(4))

    assert spread(38, 54) > 1e-2 and spread(4, 16) < 1e-5


def test_one_adversarial_step_reaches_every_weight(tiny):
    config, disc, gen = tiny
    rng = np.random.default_rng(5)
    real = tf.constant(rng.uniform(-1, 1, (4, 64, 64, 3)), tf.float32)
    z, y = tf.constant(rng.uniform(-1, 1, (4, 100)), tf.float32), tf.constant(landmark_batch(4, seed=6))
    with tf.GradientTape(persistent=True) as tape:
        fake = gen([z, y], training=True)
        d_loss = discriminator_loss(disc([real, y], training=True), disc([fake, y], training=True))
        g_loss = generator_loss(disc([fake, y], training=True))
    for loss, model in ((d_loss, disc), (g_loss, gen)):
        grads = tape.gradient(loss, model.trainable_weights)
        assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
        assert all(float(tf.norm(g)) > 0 for g in grads), model.name
    cnn = build_cnn(config)
    x, target = spectra((3, 128, 23, 1)), landmark_batch(3)
    with tf.GradientTape() as tape:
        loss = landmark_loss(target, cnn(x, training=True))
    assert all(g is not None for g in tape.gradient(loss, cnn.trainable_weights))


def test_encode_reference_is_the_discriminators_logits(tiny):
    _, disc, _ = tiny
    rng = np.random.default_rng(7)
    image, y = rng.uniform(-1, 1, (64, 64, 3)).astype(np.float32), landmark_batch(3, seed=8)
    z = encode_reference(disc, image, y)
    assert z.shape == (3, 100) and z.dtype == np.float32
    np.testing.assert_allclose(z, disc([np.repeat(image[None], 3, 0), y], training=False).numpy(), atol=1e-6)
    np.testing.assert_allclose(encode_reference(disc, np.repeat(image[None], 3, 0), y[0]),
                               encode_reference(disc, image, np.repeat(y[:1], 3, 0)), atol=1e-6)
    np.testing.assert_allclose(encode_reference(disc, image, y, squash=True), np.tanh(z), atol=1e-6)  # in (−1, 1)
    randomise_batch_norms(disc, seed=1)
    assert np.abs(encode_reference(disc, image, y, training=True) - encode_reference(disc, image, y)).max() > 1e-4
    with pytest.raises(ValueError, match="give one or N"):
        encode_reference(disc, np.zeros((2, 64, 64, 3)), landmark_batch(3))
    with pytest.raises(ValueError, match=r"\(N, 136\)"):
        encode_reference(disc, image, np.zeros(68))


@pytest.mark.parametrize("build, config", [(build_cnn, preset("report", log_magnitude=True)),
                                           (build_discriminator, preset("tiny")),
                                           (build_generator, preset("tiny", unpool="nearest")),
                                           (build_generator, preset("tiny", g_landmark_maps=True))])
def test_get_config_round_trips(build, config):
    check_config_round_trip(Config, config, build)
    model = build(config)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    inputs = [np.asarray(np.random.default_rng(9).uniform(-1, 1, (2, *t.shape[1:]) if None not in t.shape[1:]
                                                          else (2, 3, *t.shape[2:])), np.float32) for t in model.inputs]
    inputs = inputs[0] if len(inputs) == 1 else inputs
    np.testing.assert_allclose(clone(inputs).numpy(), model(inputs).numpy(), atol=1e-6)


def test_keras_file_round_trip_keeps_the_custom_layers_and_statistics(tmp_path):
    model = build_cnn(preset("original", log_magnitude=True))
    set_feature_statistics(model, np.linspace(0, 1, 128), np.linspace(1, 2, 128))
    model.save(tmp_path / "cnn.keras")
    loaded = keras.saving.load_model(tmp_path / "cnn.keras")
    assert isinstance(loaded.get_layer("feature_standardization"), FeatureStandardization)
    x = spectra((2, 128, 23, 1))
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)
    gen = build_generator(preset("tiny"))
    gen.save(tmp_path / "g.keras")
    assert json.loads(json.dumps(keras.saving.load_model(tmp_path / "g.keras").get_config())) == json.loads(
        json.dumps(gen.get_config()))


#: builtin TFLite ops the generator may use (zero insertion without scatter, BatchNorm folded)
TFLITE_OPS = {"CONCATENATION", "EXPAND_DIMS", "FULLY_CONNECTED", "MUL", "ADD", "PACK", "PAD", "RESHAPE", "SHAPE",
              "STRIDED_SLICE", "TANH", "TILE", "TRANSPOSE_CONV", "RELU"}
MAPS_TFLITE_OPS = {"EXP", "SQUARED_DIFFERENCE", "REDUCE_MAX"}  # what ``LandmarkMaps`` adds


@pytest.mark.parametrize("unpool, maps", [("zeros", False), ("nearest", False), ("zeros", True)])
def test_tiny_generator_exports_to_saved_model_and_builtin_tflite(unpool, maps, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from zoo.export import export, keras_endpoint

    gen = build_generator(preset("tiny", unpool=unpool, g_landmark_maps=maps))
    randomise_batch_norms(gen)
    rng = np.random.default_rng(10)
    inputs = {"z": rng.uniform(-1, 1, (3, 100)).astype(np.float32), "landmarks": landmark_batch(3, seed=11)}
    result = export(gen, tmp_path, name="generator", output_names=["image"], metadata={"image_size": 64},
                    endpoints={"serving_default": keras_endpoint(gen, inputs, output_key="image")}, tolerance=1e-4)
    report = check_export_parity(result, 1e-4, ["serving_default"])
    assert {c["backend"] for c in report["checks"]} == {"saved_model", "tflite"}
    interpreter = Interpreter(model_path=str(result.tflite))
    assert interpreter.get_signature_list() == {"serving_default": {"inputs": ["landmarks", "z"],
                                                                    "outputs": ["image"]}}
    ops_used = {op["op_name"] for op in interpreter._get_ops_details()}
    assert ops_used <= TFLITE_OPS | (MAPS_TFLITE_OPS if maps else set()), ops_used - TFLITE_OPS
    assert ("PAD" in ops_used) == (unpool == "zeros")
    runner = interpreter.get_signature_runner("serving_default")
    got = runner(**inputs)["image"]
    np.testing.assert_allclose(got, gen([inputs["z"], inputs["landmarks"]], training=False).numpy(), atol=1e-4)


@pytest.mark.parametrize("name, size", [("gan64", 64), ("original", 256)])
def test_opening_regressor_reads_the_lower_half_down_to_four_by_eight(name, size):
    """R: log2(S) − 3 stride-2 convolutions to a 4 × 8 map; at 64² 448 + 4,640 + 18,496 (convolutions 16, 32, 64)
    + 2,048·64 + 64 + 65 = 154,785 parameters (the docstring's)."""
    from zoo.landmark_dcgan.model import build_opening_regressor

    regressor = build_opening_regressor(preset(name))
    assert regressor.input_shape == (None, size // 2, size, 3) and regressor.output_shape == (None, 1)
    assert regressor.get_layer("r_flatten").output.shape[1:] == (4 * 8 * 64,)
    if size == 64:
        assert regressor.count_params() == 154_785
    x = np.random.default_rng(0).uniform(-1, 1, (2, size // 2, size, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(build_opening_regressor(preset(name))(x)), np.asarray(regressor(x)))
