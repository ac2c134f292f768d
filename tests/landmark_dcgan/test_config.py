"""landmark_dcgan configuration: golden numbers by the spec's tables, the presets' hyperparameters, the JSON round
trip, overrides and unknown names, and every validation error."""
from __future__ import annotations

import dataclasses

import pytest
from helpers import check_config_round_trip

from zoo.landmark_dcgan.config import GOLDEN_PARAMS, LANDMARK_DIM, PRESETS, Config, preset


def test_golden_numbers_are_the_tables_arithmetic():
    convs = [(3, 1, 1, 32), (3, 1, 32, 32), (2, 1, 32, 64), (3, 1, 64, 64), (3, 1, 64, 128), (1, 3, 128, 128),
             (1, 3, 128, 136), (1, 4, 136, 136)]  # spec §3: kernel (f, t), channels in, out
    cnn = sum(f * t * cin * cout + cout for f, t, cin, cout in convs) + 3 * (136 * 136 + 136)  # + 3 dense
    gru = 3 * (136 * 136 + 136 * 136 + 2 * 136)  # Keras 3 GRU(136) on 136 inputs, reset_after: two bias rows
    d = (5 * 5 * 3 * 64 + 64 + 5 * 5 * 200 * 128 + 128 + 5 * 5 * 128 * 256 + 256 + 5 * 5 * 256 * 1024 + 1024
         + 4 * 4 * 1024 * 100 + 100 + 2 * (128 + 256 + 1024))  # spec §5.5; 200 = 64 + 136 tiled landmarks
    g = (100 * 4 * 4 * 1024 + 4 * 4 * 1024 + 5 * 5 * 1024 * 256 + 256 + 5 * 5 * 256 * 128 + 128 + 5 * 5 * 128 * 64
         + 64 + 5 * 5 * 200 * 3 + 3 + 2 * (1024 + 256 + 128 + 64))  # spec §5.6
    assert GOLDEN_PARAMS == {"cnn": cnn, "cnn_report": cnn + gru, "discriminator": d, "generator": g}
    assert (cnn, cnn + gru, d, g) == (276_104, 387_896, 9_660_388, 9_250_779)


def test_original_preset_is_the_faithful_default():
    c = PRESETS["original"]
    assert c == Config() and c.preset == "original" and LANDMARK_DIM == 136
    assert (c.sample_rate, c.frame_ms, c.window_ms, c.chunk, c.chunks) == (48000, 30, 60, 128, 23)
    assert (c.frame_samples, c.window_samples, c.fps) == (1440, 2880, pytest.approx(1000 / 30))
    assert not (c.legacy_scaling or c.log_magnitude or c.gru or c.legacy_bn or c.legacy_frames)
    assert (c.grid, c.landmark_norm, c.clahe, c.upsample, c.multi_face, c.no_face) == ("30ms", "minmax", True, 1,
                                                                                       "largest", "skip")
    assert (c.cnn_learning_rate, c.cnn_batch_size, c.cnn_epochs) == (1e-3, 300, 5)
    assert (c.image_size, c.z_dim, c.d_filters, c.g_filters) == (256, 100, (64, 128, 256, 1024), (1024, 256, 128, 64))
    assert (c.gan_batch_size, c.gan_epochs, c.gan_learning_rate, c.gan_beta1, c.g_steps) == (32, 25, 2e-4, 0.5, 2)
    assert (c.unpool, c.bn_momentum, c.bn_epsilon, c.gru_units) == ("zeros", 0.9, 1e-5, 136)
    assert (c.g_input_landmarks, c.g_landmark_maps, c.gan_l1_weight, c.l1_lower_weight, c.d_lr_ratio,
            c.real_label) == (False, False, 0.0, 1.0, 1.0, 1.0)
    assert c.speed_perturbation == () and c.smooth_frames == 1


def test_other_presets_change_only_what_they_name():
    original = PRESETS["original"]

    def changes(name):
        return {k: v for k, v in dataclasses.asdict(PRESETS[name]).items() if v != getattr(original, k)}

    assert changes("report") == {"preset": "report", "gru": True}
    assert changes("gan128") == {"preset": "gan128", "image_size": 128}
    assert changes("gan64") == {"preset": "gan64", "image_size": 64}
    tiny = PRESETS["tiny"]
    assert (tiny.image_size, tiny.d_filters, tiny.g_filters) == (64, (8, 8, 16, 16), (16, 16, 8, 8))
    assert tiny.cnn_batch_size < 300 and tiny.gan_batch_size < 32 and tiny.gan_epochs <= 1
    assert tiny.sequence_length < original.sequence_length and not tiny.gru
    assert sorted(PRESETS) == ["gan128", "gan64", "original", "report", "tiny"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_config_json_round_trip(name):
    check_config_round_trip(Config, PRESETS[name])
    back = Config.from_dict(PRESETS[name].to_dict())
    assert isinstance(back.d_filters, tuple) and isinstance(back.g_filters, tuple)


@pytest.mark.parametrize("name", ["report", "tiny"])
def test_config_round_trip_with_the_built_cnn(name):
    from zoo.landmark_dcgan.model import build_cnn

    check_config_round_trip(Config, preset(name, log_magnitude=True), build_cnn)


def test_preset_overrides_unknown_names_and_keys():
    assert preset("tiny") is PRESETS["tiny"]
    assert preset("original", image_size=128) == PRESETS["gan128"].replace(preset="original")
    assert preset("original", sample_rate=44100, chunks=21).window_samples == 2646  # 21 chunks at 44.1 kHz
    with pytest.raises(KeyError, match="gan128"):
        preset("paper")
    with pytest.raises(ValueError, match="unknown landmark_dcgan config keys"):
        Config.from_dict({**Config().to_dict(), "y_dim": 136})
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["original"].image_size = 64


@pytest.mark.parametrize("changes, message", [
    ({"grid": "25fps"}, "grid must be one of"),
    ({"landmark_norm": "procrustes"}, "landmark_norm must be one of"),
    ({"multi_face": "first"}, "multi_face must be one of"),
    ({"no_face": "crash"}, "no_face must be one of"),
    ({"unpool": "bilinear"}, "unpool must be one of"),
    ({"frame_ms": 29.97}, "whole samples"),
    ({"sample_rate": 44100}, r"chunks must be ceil\(window samples 2646 / chunk 128\) = 21, got 23"),
    ({"chunk": 256}, "= 12, got 23"),
    ({"image_size": 96}, "power of two"),
    ({"image_size": 32}, "power of two ≥ 64"),
    ({"d_filters": (64, 128, 256)}, "four positive widths"),
    ({"g_filters": (1024, 256, 0, 64)}, "four positive widths"),
    ({"upsample": -1}, "upsample ≥ 0"),
    ({"upscale": 0}, "upscale ≥ 1"),
    ({"crop_scale": 0.9}, "crop_scale ≥ 1"),
    ({"cnn_batch_size": 0}, "batch sizes"),
    ({"g_steps": 0}, "g_steps"),
    ({"gru_units": 0}, "gru_units"),
    ({"gan_epochs": -1}, "epochs ≥ 0"),
    ({"real_label": 0.5}, r"real_label must be in \(0.5, 1\]"),
    ({"real_label": 1.1}, "real_label"),
    ({"gan_l1_weight": -1.0}, "gan_l1_weight ≥ 0"),
    ({"d_lr_ratio": 0.0}, "d_lr_ratio > 0"),
    ({"l1_lower_weight": 0.0}, "l1_lower_weight > 0"),
    ({"gan_opening_weight": -1.0}, "gan_opening_weight must be ≥ 0"),
    ({"gan_cross_motion": True}, "gan_cross_motion needs gan_opening_weight > 0"),
    ({"gan_average": 1.0}, r"gan_average \(β of G's weight average\) must be in \[0, 1\)"),
    ({"mouth_weight": 0.0}, "mouth_weight must be > 0"),
    ({"reference_z": "raw"}, "reference_z must be one of"),
    ({"speed_perturbation": (0.9, 1.0)}, r"speed_perturbation factors must be in \[0.5, 2\] and ≠ 1"),
    ({"speed_perturbation": (2.5,)}, "speed_perturbation factors"),
    ({"speed_perturbation": ("fast",)}, "speed_perturbation factors"),
    ({"smooth_frames": 2}, "smooth_frames must be an odd integer ≥ 1, got 2"),
    ({"smooth_frames": 0}, "smooth_frames must be an odd integer"),
    ({"smooth_frames": 3.0}, "smooth_frames must be an odd integer"),
])
def test_bad_values_are_refused(changes, message):
    with pytest.raises(ValueError, match=message) as info:
        preset("original", **changes)
    assert str(info.value).startswith("invalid landmark_dcgan config:")


def test_all_problems_are_reported_at_once():
    with pytest.raises(ValueError, match="grid must be one of.*unpool must be one of.*power of two"):
        preset("original", grid="x", unpool="y", image_size=100)
