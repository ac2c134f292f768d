"""Aud2Repr2Pose configuration: golden counts by the layer table, presets, validation, JSON round trip."""
from __future__ import annotations

import math

import pytest
from helpers import check_config_round_trip

from zoo.gesture_ae.config import (
    FEATURE_WIDTHS,
    GOLDEN_DAE_PARAMS,
    GOLDEN_GRU,
    GOLDEN_PARAMS,
    GOLDEN_PARAMS_RESET_AFTER,
    GOLDEN_TRAINABLE,
    PRESETS,
    Config,
    count_from_table,
    dae_count_from_table,
    preset,
)


def test_golden_numbers_are_the_specs():
    assert GOLDEN_PARAMS == {"baseline": 635_264, "proposed": 620_101}  # spec §3, Keras 2.3.1's GRU
    assert GOLDEN_TRAINABLE["baseline"] == 633_216
    assert GOLDEN_GRU == {"legacy": 393_984, "reset_after": 394_752}
    assert GOLDEN_PARAMS_RESET_AFTER["baseline"] == 635_264 + 768 == 636_032
    assert GOLDEN_DAE_PARAMS == {"proposed": 384 * 325 + 325 + 325 * 384 + 384}


def test_layer_table_reproduces_the_golden_counts():
    for name, total in GOLDEN_PARAMS.items():
        assert count_from_table(PRESETS[name]) == (total, GOLDEN_TRAINABLE[name])
        assert count_from_table(PRESETS[name].replace(legacy_gru=False))[0] == GOLDEN_PARAMS_RESET_AFTER[name]
    assert dae_count_from_table(PRESETS["proposed"]) == GOLDEN_DAE_PARAMS["proposed"] == 250_309


def test_presets_hold_the_originals_hyperparameters():
    base, prop, genea, tiny = (PRESETS[n] for n in ("baseline", "proposed", "genea2020", "tiny"))
    assert base == Config() and base.preset == "baseline"
    assert (base.features, base.num_features, base.window, base.fps, base.sample_rate) == ("MFCC", 26, 61, 20, 44100)
    assert (base.target, base.speech_output_dim, base.hidden, base.dropout) == ("pose", 384, 256, 0.1)
    assert (base.batch_size, base.learning_rate, base.epochs, base.adam_epsilon) == (2056, 1e-3, 100, 1e-7)
    assert base.legacy_gru and (base.bn_momentum, base.bn_epsilon) == (0.99, 1e-3)
    assert (prop.target, prop.speech_output_dim, prop.code_dim) == ("code", 325, 325)
    assert (prop.dae_keep_prob, prop.dae_noise, prop.dae_weight_decay) == (0.9, 0.05, 0.5)
    assert (prop.dae_learning_rate, prop.dae_batch_size, prop.dae_epochs, prop.dae_seed) == (1e-4, 128, 20, 123456)
    assert (prop.dae_stop_threshold, prop.dae_init_scale, prop.savgol_window) == (0.5, 2.0, 0)
    assert prop.dae_init_limit == pytest.approx(2 * math.sqrt(6 / (384 + 325)))
    assert (genea.representation, genea.output_dim, genea.code_dim, genea.speech_output_dim) == ("rotations", 39, 40,
                                                                                                  40)
    assert (genea.hidden, genea.batch_size, genea.learning_rate, genea.epochs) == (150, 256, 3e-4, 500)
    assert (genea.dae_noise, genea.dae_weight_decay, genea.savgol_window, genea.savgol_order) == (0.01, 0.0, 9, 3)
    assert (genea.mfcc_nfft, genea.legacy_gru, genea.dae_early_stopping) == (1024, False, True)
    # tiny: the proposed structure, narrow layers
    assert (tiny.target, tiny.window, tiny.output_dim, tiny.representation) == ("code", 61, 384, "positions")
    assert tiny.hidden < 32 and tiny.code_dim < 16


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_config_json_round_trip(name):
    check_config_round_trip(Config, PRESETS[name])


def test_preset_overrides_and_unknown_names():
    assert preset("proposed", code_dim=312).code_dim == 312  # the original's flag default
    assert preset("tiny") is PRESETS["tiny"]
    with pytest.raises(KeyError, match="genea2020"):
        preset("paper")
    with pytest.raises(ValueError, match="unknown gesture_ae config keys"):
        Config.from_dict({**Config().to_dict(), "n_hidden": 3})


def test_feature_kinds_map_to_widths():
    assert preset("baseline", features="MFCC+Spectro+Pros", num_features=94).num_features == 94
    assert FEATURE_WIDTHS["Spectro+Pros"] == 68
    with pytest.raises(ValueError, match="Pros features have 4"):
        preset("baseline", features="Pros")  # num_features still 26
    with pytest.raises(ValueError, match="features must be one of"):
        preset("baseline", features="mfcc")


@pytest.mark.parametrize("changes, message", [
    ({"target": "codes"}, "target"),
    ({"representation": "angles"}, "representation"),
    ({"output_dim": 100}, "multiple of 6"),
    ({"savgol_window": 8}, "savgol_window"),
    ({"savgol_window": 3, "savgol_order": 3}, "savgol_window"),
    ({"dae_keep_prob": 0.0}, "dae_keep_prob"),
    ({"dropout": 1.0}, "dropout"),
    ({"dae_stop_threshold": 0.0}, "dae_stop_threshold"),
    ({"code_dim": 0}, "code_dim"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
])
def test_bad_values_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        preset("proposed", **changes)
    assert preset("genea2020", output_dim=44).output_dim == 44  # rotations: any width (constant channels removed)
