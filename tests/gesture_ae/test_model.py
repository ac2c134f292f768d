"""Aud2Repr2Pose networks: golden counts, SpeechE's layer table, the DAE (init, statistics, dropout and noise,
frame-by-frame encode/decode, saving), a small overfit, and TFLite conversion of the legacy and TF2 GRUs."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import check_config_round_trip, check_golden_params, check_small_overfit

from zoo.gesture_ae.config import (
    GOLDEN_DAE_PARAMS,
    GOLDEN_GRU,
    GOLDEN_PARAMS,
    GOLDEN_PARAMS_RESET_AFTER,
    GOLDEN_TRAINABLE,
    PRESETS,
    Config,
    count_from_table,
    dae_count_from_table,
)
from zoo.gesture_ae.losses import dae_loss, dae_reconstruction_loss
from zoo.gesture_ae.model import (
    GestureDAE,
    build_dae,
    build_model,
    build_pose_generator,
    build_speech_encoder,
    dae_decoder,
    dae_encoder,
    dae_statistics,
    with_static_batch,
)


def trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def poses(frames: int, dims: int = 384, seed: int = 0) -> np.ndarray:
    """Low-rank, offset poses in dataset-like units (positions ≈ tens, not centred)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(frames, 4)) @ rng.normal(size=(4, dims)) * 5 + 30).astype(np.float32)


def test_golden_parameter_counts_with_the_legacy_gru():
    check_golden_params(build_model, PRESETS, GOLDEN_PARAMS)
    for name, count in GOLDEN_TRAINABLE.items():
        model = build_model(PRESETS[name])
        assert trainable(model) == count
        assert model.get_layer("gru").count_params() == GOLDEN_GRU["legacy"]


def test_tf2_default_gru_counts():
    for name, count in GOLDEN_PARAMS_RESET_AFTER.items():
        model = build_model(PRESETS[name].replace(legacy_gru=False))
        assert model.count_params() == count
        assert model.get_layer("gru").count_params() == GOLDEN_GRU["reset_after"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_layer_table_matches_keras_for_every_preset(name):
    for legacy in (True, False):
        config = PRESETS[name].replace(legacy_gru=legacy)
        model = build_model(config)
        assert (model.count_params(), trainable(model)) == count_from_table(config)
    dae = build_dae(PRESETS[name])
    assert trainable(dae) == dae_count_from_table(PRESETS[name])
    assert dae.count_params() - trainable(dae) == 2 * PRESETS[name].output_dim + 1  # mean, max_abs, std


def test_dae_golden_count():
    dae = build_dae(PRESETS["proposed"])
    assert trainable(dae) == GOLDEN_DAE_PARAMS["proposed"] == 384 * 325 + 325 + 325 * 384 + 384
    assert [tuple(w.shape) for w in dae.trainable_weights] == [(384, 325), (325,), (325, 384), (384,)]


def test_speech_encoder_follows_the_layer_table():
    model = build_model(PRESETS["baseline"])
    assert model.input_shape == (None, 61, 26) and model.output_shape == (None, 384)
    assert model.get_layer("dense1").output.shape == (None, 61, 256)  # applied to each of the 61 frames
    for i in range(1, 5):
        bn = model.get_layer(f"bn{i}").get_config()
        assert (bn["momentum"], bn["epsilon"]) == (0.99, 1e-3)  # Keras 2.3.1 defaults
        assert model.get_layer(f"dropout{i}").rate == 0.1
    gru = model.get_layer("gru").get_config()
    assert (gru["units"], gru["reset_after"], gru["return_sequences"]) == (256, False, False)
    assert (gru["activation"], gru["recurrent_activation"]) == ("tanh", "sigmoid")
    assert model.get_layer("pose").get_config()["activation"] == "linear"
    assert build_model(PRESETS["proposed"]).get_layer("code").output.shape == (None, 325)
    assert build_model(PRESETS["genea2020"]).get_layer("gru").get_config()["reset_after"] is True


def test_config_and_model_round_trip():
    check_config_round_trip(Config, PRESETS["tiny"], build_model)
    dae = build_dae(PRESETS["tiny"])
    clone = GestureDAE.from_config(dae.get_config())
    assert clone.get_config() == dae.get_config() and clone.count_params() == dae.count_params()
    for a, b in zip(clone.get_weights(), dae.get_weights()):
        np.testing.assert_array_equal(a, b)  # seeded: the same initial weights


@pytest.mark.parametrize("legacy", [True, False])
def test_tiny_speech_encoder_shapes_and_a_training_step_on_cpu(legacy):
    config = PRESETS["tiny"].replace(legacy_gru=legacy)
    model = build_model(config)
    x = np.random.default_rng(1).normal(size=(6, 61, 26)).astype(np.float32)
    assert model(x, training=False).shape == (6, config.code_dim)
    assert build_model(config.replace(target="pose"))(x).shape == (6, 384)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x, training=True)))
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    gru_grads = [g for g, w in zip(grads, model.trainable_weights) if w.path.startswith("gru/")]
    assert len(gru_grads) == 3 and float(tf.linalg.global_norm(gru_grads)) > 0
    bias = model.get_layer("gru").cell.bias.shape
    assert bias == ((3 * config.hidden,) if legacy else (2, 3 * config.hidden))  # one bias row vs two
    a, b = model(x, training=True).numpy(), model(x, training=True).numpy()
    assert np.abs(a - b).max() > 0  # dropout in training only
    np.testing.assert_array_equal(model(x, training=False).numpy(), model(x, training=False).numpy())


def test_dae_init_is_twice_the_glorot_limit_seeded_with_zero_biases():
    config = PRESETS["proposed"]
    a = config.dae_init_limit
    assert a == pytest.approx(2 * np.sqrt(6 / 709))
    dae = build_dae(config)
    for kernel in dae.kernels:
        w = kernel.numpy()
        assert np.abs(w).max() <= a and np.abs(w).max() > 0.999 * a
        assert w.std() == pytest.approx(a / np.sqrt(3), rel=0.01)  # U(−a, a)
    assert not dae.encoder.bias.numpy().any() and not dae.decoder.bias.numpy().any()
    assert np.abs(dae.kernels[0].numpy() - dae.kernels[1].numpy().T).max() > 0  # two different draws
    again, other = build_dae(config), build_dae(config.replace(dae_seed=1))
    np.testing.assert_array_equal(again.kernels[0].numpy(), dae.kernels[0].numpy())
    assert np.abs(other.kernels[0].numpy() - dae.kernels[0].numpy()).max() > 0


def test_dae_statistics_use_the_uncentred_max_and_one_scalar_std():
    y = np.array([[10.0, -2.0, 5.0], [12.0, 2.0, 5.0]])
    mean, max_abs, std = dae_statistics(y)
    np.testing.assert_allclose(mean, [11, 0, 5])
    np.testing.assert_allclose(max_abs, [12, 2, 5])  # max |Y| before centring, not max |Y − mean|
    normalised = np.array([[-1 / 12, -1, 0], [1 / 12, 1, 0]])  # constant column: 0
    assert std == pytest.approx(normalised.std(), rel=1e-6)
    with pytest.raises(ValueError, match="NaN"):
        dae_statistics(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="frames, dims"):
        dae_statistics(np.zeros((0, 3)))


def test_normalisation_and_decode_arithmetic():
    y = poses(9, dims=12)
    dae = build_dae(PRESETS["tiny"].replace(output_dim=12, code_dim=4), dae_statistics(y))
    mean, max_abs = dae.normalization.mean.numpy(), dae.normalization.max_abs.numpy()
    normalised = dae.normalization(y).numpy()
    np.testing.assert_allclose(normalised, (y - mean) / (max_abs + 1e-8), rtol=1e-6)
    np.testing.assert_allclose(dae.normalization(normalised, inverse=True).numpy(), y, rtol=1e-5, atol=1e-5)
    # decode = x̂·(max + 1e-15) + mean with x̂ = tanh(W2·code + b2): a zero kernel makes x̂ = tanh(b2)
    target = np.linspace(-0.9, 0.9, 12).astype(np.float32)
    dae.decoder.set_weights([np.zeros((4, 12), np.float32), np.arctanh(target)])
    codes = np.random.default_rng(2).uniform(-1, 1, (5, 4)).astype(np.float32)
    np.testing.assert_allclose(dae.decode(codes).numpy(), np.tile(target * max_abs + mean, (5, 1)), rtol=1e-5,
                               atol=1e-5 * np.abs(y).max())  # float32 rounding of values ≈ 60


@pytest.mark.parametrize("frames", [1, 7, 129])
def test_encode_and_decode_keep_every_frame(frames):
    config = PRESETS["tiny"]
    dae = build_dae(config, dae_statistics(poses(50)))
    y = poses(frames, seed=frames)
    codes = dae.encode(y).numpy()
    assert codes.shape == (frames, config.code_dim) and np.abs(codes).max() < 1  # T_out = T_in, tanh codes
    assert dae.decode(codes).shape == (frames, 384)
    np.testing.assert_allclose(dae_encoder(dae)(y).numpy(), codes, atol=1e-6)
    np.testing.assert_allclose(dae_decoder(dae)(codes).numpy(), dae.decode(codes).numpy(), atol=1e-4)
    assert dae.encode(y[None]).shape == (1, frames, config.code_dim)  # any leading shape


def test_dropout_and_noise_only_in_training():
    y = poses(16)
    config = PRESETS["tiny"]
    dae = build_dae(config, dae_statistics(y))
    expected = dae.decoder(dae.encode(y)).numpy()
    np.testing.assert_array_equal(dae(y, training=False).numpy(), expected)
    assert np.abs(dae(y, training=True).numpy() - expected).max() > 1e-3
    quiet = build_dae(config.replace(dae_keep_prob=1.0, dae_noise=0.0), dae_statistics(y))
    np.testing.assert_allclose(quiet(y, training=True).numpy(), quiet(y, training=False).numpy(), atol=1e-6)
    noise_only = build_dae(config.replace(dae_keep_prob=1.0), dae_statistics(y))
    assert np.abs(noise_only(y, training=True).numpy() - noise_only(y, training=False).numpy()).max() > 0
    dropout_only = build_dae(config.replace(dae_noise=0.0), dae_statistics(y))
    x = dropout_only.normalization(y).numpy()
    dropped = dropout_only.encoder_dropout(x, training=True).numpy()
    kept = dropped != 0
    assert 0.8 < kept.mean() < 0.98  # keep probability 0.9
    np.testing.assert_allclose(dropped[kept], x[kept] / 0.9, rtol=1e-5)  # inverted scaling


def test_denoising_noise_std_is_the_multiplier_times_the_scalar_std():
    y = poses(4000, dims=6)
    config = PRESETS["tiny"].replace(output_dim=6, code_dim=3, dae_keep_prob=1.0, dae_noise=0.05)
    statistics = dae_statistics(y)
    dae = build_dae(config, statistics)
    epsilon = 1e-3  # encoder ≈ ε·x̃ and decoder ≈ identity on 3 dims (tanh's linear range): x̂_train − x̂_eval ≈ ε·noise
    dae.encoder.set_weights([epsilon * np.eye(6, 3, dtype=np.float32), np.zeros(3, np.float32)])
    dae.decoder.set_weights([np.eye(3, 6, dtype=np.float32), np.zeros(6, np.float32)])
    noise = (dae(y, training=True).numpy() - dae(y, training=False).numpy())[:, :3] / epsilon
    assert np.std(noise) == pytest.approx(0.05 * statistics[2], rel=0.05)  # one scalar σ for every dimension
    np.testing.assert_allclose(np.std(noise, axis=0), 0.05 * statistics[2], rtol=0.1)
    assert abs(np.mean(noise)) < 0.1 * np.std(noise)


def test_statistics_are_saved_with_the_weights(tmp_path):
    y = poses(20)
    config = PRESETS["tiny"]
    dae = build_dae(config, dae_statistics(y))
    dae.save_weights(tmp_path / "dae.weights.h5")
    fresh = build_dae(config.replace(dae_seed=7))
    fresh.load_weights(tmp_path / "dae.weights.h5")
    np.testing.assert_array_equal(fresh.normalization.max_abs.numpy(), dae.normalization.max_abs.numpy())
    np.testing.assert_array_equal(fresh.decode(dae.encode(y)).numpy(), dae.decode(dae.encode(y)).numpy())
    dae.save(tmp_path / "dae.keras")
    loaded = keras.saving.load_model(tmp_path / "dae.keras")
    assert isinstance(loaded, GestureDAE)
    np.testing.assert_allclose(loaded.decode(loaded.encode(y)).numpy(), dae.decode(dae.encode(y)).numpy(),
                               atol=1e-5)


def test_pose_generator_chains_speech_encoder_and_decoder():
    config = PRESETS["tiny"]
    speech, dae = build_model(config), build_dae(config, dae_statistics(poses(30)))
    generator = build_pose_generator(speech, dae)
    x = np.random.default_rng(3).normal(size=(4, 61, 26)).astype(np.float32)
    np.testing.assert_allclose(generator(x).numpy(), dae.decode(speech(x)).numpy(), rtol=1e-5, atol=1e-4)
    baseline = build_model(config.replace(target="pose"))
    assert build_pose_generator(baseline) is baseline
    with pytest.raises(ValueError, match="DAE code"):
        build_pose_generator(baseline, dae)


def test_small_overfit_tiny_dae_reconstruction_falls_thirtyfold():
    """The faithful loss (decay 0.5, dropout 0.9, noise 0.05) on 8 frames: 300 Adam steps (lr 1e-3) cut the
    clean reconstruction error ≥ 10× (measured: ≈ 31×)."""
    keras.utils.set_random_seed(0)
    y = poses(8)
    dae = build_dae(PRESETS["tiny"], dae_statistics(y))
    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = dae_loss(dae, y, training=True)
        optimizer.apply_gradients(zip(tape.gradient(loss, dae.trainable_weights), dae.trainable_weights))

    history = [{"reconstruction": float(dae_reconstruction_loss(dae, y, training=False))}]
    for _ in range(300):
        step()
    history.append({"reconstruction": float(dae_reconstruction_loss(dae, y, training=False))})
    check_small_overfit(history, 10, key="reconstruction")


@pytest.mark.parametrize("legacy, recipe", [(True, "static_batch"), (False, "static_batch"),
                                            pytest.param(True, "unroll", marks=pytest.mark.slow),
                                            pytest.param(False, "unroll", marks=pytest.mark.slow)])
def test_tiny_speech_encoder_converts_to_tflite(legacy, recipe):
    from ai_edge_litert.interpreter import Interpreter

    config = PRESETS["tiny"].replace(legacy_gru=legacy)
    model = build_model(config)
    x = np.random.default_rng(4).normal(size=(3, 61, 26)).astype(np.float32)
    model(x, training=True)  # move the BatchNorm statistics off their initial values
    if recipe == "static_batch":
        convertible = with_static_batch(model, config)
    else:
        convertible = build_speech_encoder(config, unroll=True)
        convertible.set_weights(model.get_weights())
    interpreter = Interpreter(model_content=tf.lite.TFLiteConverter.from_keras_model(convertible).convert())
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    for row in x:
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        expected = model(row[None], training=False).numpy()
        assert np.abs(interpreter.get_tensor(out["index"]) - expected).max() <= 1e-5


@pytest.mark.parametrize("legacy", [True, False])
def test_sliding_speech_encoder_is_the_keras_model_over_every_window(legacy):
    """SlidingSpeechE (per-frame work once, then the GRU recurrence per window) gives the Keras model's outputs on
    every 61-frame window of a padded sequence, with non-trivial BatchNorm statistics, both GRU forms."""
    import keras

    from zoo.gesture_ae import features as feats
    from zoo.gesture_ae.model import SlidingSpeechE

    keras.utils.set_random_seed(3)
    model = build_speech_encoder(PRESETS["tiny"].replace(legacy_gru=legacy))
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape) * 0.3)
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=layer.moving_variance.shape))
    padded = feats.pad_context(rng.normal(size=(130, 26)).astype(np.float32) * 5)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 61, axis=0).transpose(0, 2, 1)
    reference = model.predict(windows, verbose=0, batch_size=64)
    got = SlidingSpeechE(model)(padded, batch_size=50)
    assert got.shape == reference.shape == (130, 8)
    np.testing.assert_allclose(got, reference, atol=1e-5)
    assert np.abs(reference).max() > 0.1
