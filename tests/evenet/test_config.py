import json

import pytest
from helpers import check_config_round_trip, check_golden_params

from zoo.evenet.config import (
    GOLDEN_PARAMS,
    GOLDEN_RF,
    PRESETS,
    Config,
    count_from_table,
    golden_config,
    preset,
)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_round_trip(name):
    from zoo.evenet.model import build_model

    config = PRESETS[name]
    check_config_round_trip(Config, config, build_model if name == "tiny" else None)
    assert Config.from_dict(json.loads(config.to_json())) == config


def test_receptive_fields_of_the_spec():
    """Spec §2.2–2.4: RF = (fw − 1)·Σd + 1 + (fw − 1): 3578, 7162 and 14400 = 192 frames × 75 keys."""
    assert {n: PRESETS[n].receptive_field for n in GOLDEN_RF} == GOLDEN_RF == {
        "master": 3578, "softmax": 7162, "keysampling": 14400}
    assert PRESETS["keysampling"].receptive_field == 192 * PRESETS["keysampling"].data_dim
    # the parent of C (frame-level-sampling, 16 layers [1..128]×2) had 3578, not a multiple of 75
    assert preset("keysampling", dilations=PRESETS["master"].dilations).receptive_field % 75 != 0
    # bigexperiment: fw 2, [1..512]×4 + [1, 2] → 4097
    big = preset("master", filter_width=2, dilations=tuple(2 ** i for i in range(10)) * 4 + (1, 2))
    assert big.receptive_field == 4097


def test_legacy_context_exceeds_the_formula():
    """Master's SAME padding reads lags up to 10d per layer at fw 8: x[t − 5110 … t − 6], not RF 3578."""
    legacy = preset("master", legacy_same_padding=True)
    assert legacy.lag_offset == 3 and legacy.context == 5111 and legacy.receptive_field == 3578
    assert preset("master").context == 3578


def test_parameter_counts_by_the_layer_table():
    """The counts of GOLDEN_PARAMS are the layer table's (``count_from_table``): for master (D = 21, one-hot
    emotion and phoneme of 64, fw 8, 16 layers of R = Dc = 64, S = 512) 8·21·64 + 16·(2·8·64·64 + 2·64 +
    2·64·64 + 2·64·64 + 64·64 + 64 + 64·512 + 512) + 512·512 + 512 + 512·21 + 21 = 2,195,989."""
    assert count_from_table(PRESETS["master"]) == 8 * 21 * 64 + 16 * (
        2 * 8 * 64 * 64 + 2 * 64 + 2 * 64 * 64 + 2 * 64 * 64 + 64 * 64 + 64 + 64 * 512 + 512) + 512 * 512 + 512 \
        + 512 * 21 + 21 == 2_195_989
    assert {n: count_from_table(golden_config(n)) for n in GOLDEN_PARAMS} == GOLDEN_PARAMS
    # the softmax branch's causal kernel is [8, 825, 64] (spec §2.3)
    assert golden_config("softmax_branch").step_channels == 825


def test_keras_models_have_the_golden_counts():
    from zoo.evenet.model import build_model

    check_golden_params(build_model, {n: golden_config(n) for n in GOLDEN_PARAMS}, GOLDEN_PARAMS)


@pytest.mark.parametrize("bad, cause", [
    ({"lineage": "gan"}, "lineage"), ({"loss": "ce"}, "rmse only"), ({"dilations": ()}, "dilation"),
    ({"emotion_categories": tuple(f"e{i}" for i in range(65))}, "do not fit"), ({"phoneme_channels": 10}, "56"),
    ({"output_names": ("a",)}, "output_names"), ({"input_noise": -0.1}, "input_noise"),
    ({"input_noise": float("nan")}, "input_noise"),
    ({"residual_output": True, "legacy_same_padding": True}, "residual"),
    ({"residual_output": True, "lineage": "frames_softmax"}, "residual"),
])
def test_invalid_configs(bad, cause):
    with pytest.raises(ValueError, match=cause):
        preset("master", **bad)
