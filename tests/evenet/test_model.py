import numpy as np
import pytest

from zoo.evenet.config import preset


def _run(model, x, e=None, p=None):
    t = x.shape[1]
    e = np.zeros((1, t), np.int32) if e is None else e
    p = np.full((1, t), 47, np.int32) if p is None else p
    return np.asarray(model({"steps": x, "emotion": e, "phoneme": p}))


@pytest.mark.parametrize("lineage, shape", [("regression", (2, 30, 4)), ("frames_softmax", (2, 30, 4, 11)),
                                            ("key_sampling", (2, 30, 11))])
def test_output_shapes_and_ranges(lineage, shape):
    from zoo.evenet.model import build_model

    config = preset("tiny", lineage=lineage, emotion_kind="embedding" if lineage != "regression" else "onehot")
    model = build_model(config)
    rng = np.random.default_rng(0)
    x = rng.random((2, 30, config.step_channels)).astype(np.float32)
    e = rng.integers(-1, 11, (2, 30)).astype(np.int32)  # −1: no label (the zero vector)
    p = rng.integers(-1, 56, (2, 30)).astype(np.int32)
    y = _run(model, x, e, p)
    assert y.shape == shape and np.isfinite(y).all()
    if lineage == "regression":
        assert ((y > 0) & (y < 1)).all()  # sigmoid output (master)
    else:
        np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)  # a softmax over the 11 classes


def test_default_is_causal_with_no_leak():
    """The default predicts step t + 1 from steps ≤ t: perturbing x[t…] never changes an output before t."""
    from zoo.evenet.model import build_model

    for fw in (2, 3, 8):
        model = build_model(preset("tiny", filter_width=fw))
        x = np.random.default_rng(fw).random((1, 40, 4)).astype(np.float32)
        base = _run(model, x)
        for t in (0, 7, 20, 39):
            y = x.copy()
            y[:, t:] = np.random.default_rng(t).random(y[:, t:].shape)
            changed = np.abs(_run(model, y) - base).max(axis=-1)[0]
            assert changed[:t].max(initial=0) == 0.0, f"fw {fw}: outputs before {t} depend on x[{t}…]"
            assert changed[t] > 0  # the output at t reads x[t] (it predicts t + 1)


def test_legacy_same_padding_leaks_the_current_frame():
    """Master's quirk: with fw 2 each layer reads lags {0, d}; trained on x[t] itself (no shift), the output at
    t sees its own target. With fw 8 it reads lags {3d … 10d}: the output at t ignores x[t − 5 … t]."""
    from zoo.evenet.model import build_model

    x = np.random.default_rng(0).random((1, 60, 4)).astype(np.float32)
    leaky = build_model(preset("tiny", filter_width=2, legacy_same_padding=True))
    base = _run(leaky, x)
    y = x.copy()
    y[:, 30] += 0.5
    assert np.abs(_run(leaky, y) - base)[0, 30].max() > 1e-4  # output 30 changes with x[30]: its own target
    gap = build_model(preset("tiny", filter_width=8, dilations=(1, 2), legacy_same_padding=True))
    base = _run(gap, x)
    for lag in range(0, 6):  # x[t − lag] for lag < 6 does not reach output t (two layers: min lag 3 + 3)
        y = x.copy()
        y[:, 40 - lag] += 0.5
        assert np.abs(_run(gap, y) - base)[0, 40].max() == 0.0
    y = x.copy()
    y[:, 34] += 0.5
    assert np.abs(_run(gap, y) - base)[0, 40].max() > 0


def test_receptive_field_is_exact():
    """The output at t depends on x[t − RF + 1] and on nothing earlier."""
    from zoo.evenet.model import build_model

    config = preset("tiny", filter_width=3)
    model = build_model(config)
    rf = config.receptive_field  # 2·14 + 1 + 2 = 31
    x = np.random.default_rng(2).random((1, 80, 4)).astype(np.float32)
    base = _run(model, x)
    t = 70
    for source, expect in ((t - rf + 1, True), (t - rf, False)):
        y = x.copy()
        y[:, source] += 0.5
        assert (np.abs(_run(model, y) - base)[0, t].max() > 0) == expect


def test_conditioning_is_per_frame():
    from zoo.evenet.model import build_model

    model = build_model(preset("tiny"))
    x = np.random.default_rng(3).random((1, 20, 4)).astype(np.float32)
    p = np.full((1, 20), 47, np.int32)
    base = _run(model, x, p=p)
    p[0, 12] = 0
    diff = np.abs(_run(model, x, p=p) - base).max(axis=-1)[0]
    assert diff[12] > 0 and diff[:12].max() == 0  # a label acts at its own step and after, never before


def test_residual_output_is_the_last_frame_plus_a_step():
    """``residual_output``: with the head's last layer zeroed (Δ = 0) the model is the repeat-last-frame predictor;
    outside training the output is clipped to [0, 1], in training it is not (the loss sees x[t] + Δ)."""
    from zoo.evenet.model import build_model

    model = build_model(preset("tiny", residual_output=True))
    x = np.random.default_rng(0).uniform(-0.5, 1.5, (1, 30, 4)).astype(np.float32)
    inputs = {"steps": x, "emotion": np.zeros((1, 30), np.int32), "phoneme": np.full((1, 30), 47, np.int32)}
    moving = np.asarray(model(inputs, training=True))
    assert np.abs(moving - x).max() > 1e-3  # a fresh head moves
    np.testing.assert_array_equal(np.asarray(model(inputs)), np.clip(moving, 0.0, 1.0))
    model.post2.kernel.assign(np.zeros(model.post2.kernel.shape, np.float32))
    model.post2.bias.assign(np.zeros(model.post2.bias.shape, np.float32))
    np.testing.assert_allclose(np.asarray(model(inputs, training=True)), x, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model(inputs)), np.clip(x, 0.0, 1.0), atol=1e-6)
