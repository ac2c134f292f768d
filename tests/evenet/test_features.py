import numpy as np
import pytest

from zoo.evenet.config import preset
from zoo.evenet.features import decode, encode, flatten_keys, step_inputs, unflatten_keys


def test_round_trip_on_the_unit_interval():
    x = np.concatenate([np.linspace(0, 1, 10001), np.arange(11) / 10, np.random.default_rng(0).random(1000)])
    labels = encode(x)
    assert labels.shape == (len(x), 11)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
    assert ((labels > 0).sum(axis=1) <= 2).all()  # two-hot
    np.testing.assert_allclose(decode(labels), x, atol=1e-6)


def test_edge_cases_of_the_spec():
    """1.0 (the original indexed class 11), values outside [0, 1] (invalid indices), a fractional part within
    1e-6 of 1 (the original moved the upper mass to f + 2)."""
    one = encode(1.0)
    assert one[10] == 1.0 and one.sum() == 1.0
    np.testing.assert_array_equal(encode(-0.3), encode(0.0))
    np.testing.assert_array_equal(encode(1.7), encode(1.0))
    near = encode(0.29999999)
    assert near.argmax() == 3 and near[4] == 0 and near[2] == pytest.approx(1e-7, abs=1e-6)
    assert decode(near) == pytest.approx(0.3, abs=1e-6)
    exact = encode(0.3)  # an exact multiple: all the mass on class 3
    assert exact[3] == pytest.approx(1.0) and exact[4] == pytest.approx(0.0, abs=1e-6)


def test_tf_encoding_agrees():
    import tensorflow as tf

    from zoo.evenet.features_tf import decode_tf, encode_tf

    x = np.concatenate([np.linspace(-0.2, 1.2, 2001), [0.29999999, 1.0, 0.0]]).astype(np.float32)
    np.testing.assert_allclose(encode_tf(tf.constant(x)).numpy(), encode(x), atol=1e-6)
    np.testing.assert_allclose(decode_tf(tf.constant(encode(x))).numpy(), decode(encode(x)), atol=1e-6)


def test_step_layouts():
    frames = np.random.default_rng(1).random((5, 3)).astype(np.float32)
    a = preset("tiny", data_dim=3)
    np.testing.assert_array_equal(step_inputs(frames, a), frames)
    b = step_inputs(frames, a.replace(lineage="frames_softmax"))
    assert b.shape == (5, 33)
    np.testing.assert_array_equal(b[2, 11:22], encode(frames[2, 1]))  # key-major within a frame


def test_flattening_order_of_lineage_c():
    """Step n = D·frame + key: key j of frame i is step 3i + j, keys of a frame before the next frame's."""
    frames = np.arange(12).reshape(4, 3)
    steps = flatten_keys(frames)
    assert steps[3 * 2 + 1] == frames[2, 1] and list(steps[:6]) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(unflatten_keys(steps, 3), frames)
    c = step_inputs(frames / 11.0, preset("tiny", data_dim=3, lineage="key_sampling"))
    assert c.shape == (12, 11)
    np.testing.assert_allclose(decode(c), flatten_keys(frames / 11.0), atol=1e-6)
