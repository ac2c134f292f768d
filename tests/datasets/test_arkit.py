import numpy as np
import pytest

from zoo.datasets import ARKIT_52, ARKIT_INDEX, canonical_name, map_channels, select_channels


def test_arkit_order_anchors():
    assert len(ARKIT_52) == 52 == len(set(ARKIT_52))
    assert ARKIT_INDEX["eyeBlinkLeft"] == 0
    assert ARKIT_INDEX["eyeBlinkRight"] == 7
    assert ARKIT_INDEX["jawForward"] == 14
    assert ARKIT_INDEX["jawOpen"] == 17
    assert ARKIT_INDEX["mouthClose"] == 18
    assert ARKIT_INDEX["mouthLowerDownRight"] == 38
    assert ARKIT_INDEX["browDownLeft"] == 41
    assert ARKIT_INDEX["cheekPuff"] == 46
    assert ARKIT_INDEX["noseSneerLeft"] == 49
    assert ARKIT_INDEX["tongueOut"] == 51


def test_canonical_name_folds_case_variants():
    for spelling in ("JawOpen", "jaw_open", "JAWOPEN", "jawOpen"):
        assert canonical_name(spelling) == "jawOpen"
    with pytest.raises(KeyError):
        canonical_name("jawOpenWide")


def test_map_by_name_not_position():
    src = ["mouth_funnel_ul", "jaw_open_c", "mouth_funnel_dl"]
    values = np.array([[0.2, 0.9, 0.5]])
    out = map_channels(values, src, ARKIT_52, {"jawOpen": "jaw_open_c",
                                                "mouthFunnel": ["mouth_funnel_ul", "mouth_funnel_dl"]})
    assert out.shape == (1, 52)
    assert out[0, ARKIT_INDEX["jawOpen"]] == 0.9
    assert out[0, ARKIT_INDEX["mouthFunnel"]] == 0.5  # max of the two funnels
    assert out[0].sum() == pytest.approx(1.4)
    # the same values in another column order map to the same result
    perm = [2, 0, 1]
    out2 = map_channels(values[:, perm], [src[i] for i in perm], ARKIT_52,
                        {"jawOpen": "jaw_open_c", "mouthFunnel": ["mouth_funnel_ul", "mouth_funnel_dl"]})
    np.testing.assert_array_equal(out, out2)


def test_identity_mapping_and_errors():
    values = np.arange(6.0).reshape(2, 3)
    out = map_channels(values, ["jawOpen", "tongueOut", "other"], ARKIT_52)
    assert out[1, 17] == 3.0 and out[1, 51] == 4.0 and out.sum() == 0 + 1 + 3 + 4
    with pytest.raises(KeyError, match="unknown source"):
        map_channels(values, ["a", "b", "c"], ["jawOpen"], {"jawOpen": "zzz"})
    np.testing.assert_array_equal(select_channels(values, ["a", "b", "c"], ["c", "a"]), values[:, [2, 0]])
    with pytest.raises(KeyError, match="'d'"):
        select_channels(values, ["a", "b", "c"], ["d"])
