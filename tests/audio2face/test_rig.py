import numpy as np
import pytest

from zoo.audio2face.rig import (
    FACEGOOD_116_UE,
    FACEGOOD_TO_ARKIT,
    FACEGOOD_TRAINED_37,
    XLSX_SPELLING_FIXES,
    expand_to_rig,
    to_arkit,
    varying_channels,
)
from zoo.datasets import ARKIT_52, ARKIT_INDEX, canonical_name, load_npy, read_names

VAR_BS_INDEX = [10, 13, 14, 15, 18, 33, 38, *range(40, 46), *range(51, 55), *range(57, 61), 63, 64,
                *range(66, 70), *range(74, 83), 84]


# --- literals ---------------------------------------------------------------------------------

def test_literal_name_lists_are_consistent():
    assert len(FACEGOOD_TRAINED_37) == len(set(FACEGOOD_TRAINED_37)) == 37
    assert len(FACEGOOD_116_UE) == len(set(FACEGOOD_116_UE)) == 116
    assert set(FACEGOOD_TRAINED_37) <= set(FACEGOOD_116_UE)
    assert FACEGOOD_TRAINED_37[0] == "tongue_u_u" and FACEGOOD_TRAINED_37[-1] == "tooth_l"
    assert FACEGOOD_116_UE.index("tongue_Scale_X") == 114


def test_mapping_covers_arkit_52_with_rig_names():
    assert tuple(FACEGOOD_TO_ARKIT) == ARKIT_52
    for target, (sources, valid) in FACEGOOD_TO_ARKIT.items():
        assert set(sources) <= set(FACEGOOD_116_UE), target
        assert isinstance(valid, bool)
    assert sum(valid for _, valid in FACEGOOD_TO_ARKIT.values()) == 27
    assert FACEGOOD_TO_ARKIT["tongueOut"] == ((), False)
    # no FACEGOOD name is also an ARKit spelling, so to_arkit can tell the rigs apart
    for name in FACEGOOD_116_UE:
        with pytest.raises(KeyError):
            canonical_name(name)


@pytest.mark.realdata
def test_trained_37_match_label_order_file(facegood_dir):
    maya = read_names(facegood_dir / "shirley_1015_bs_name.npy")
    assert tuple(maya[i] for i in VAR_BS_INDEX) == FACEGOOD_TRAINED_37


@pytest.mark.realdata
def test_ue_order_matches_bsname(facegood_dir):
    assert read_names(facegood_dir / "bsname.txt") == FACEGOOD_116_UE
    assert read_names(facegood_dir / "shirley_1119_bs_name.npy") == FACEGOOD_116_UE


@pytest.mark.realdata
def test_mapping_matches_xlsx(facegood_dir):
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(facegood_dir / "extras" / "Voice2Face_blendshape2ARkit.xlsx").worksheets[0]
    table = {}
    for row in sheet.iter_rows(min_row=3, values_only=True):
        target, cell, status = row[0], row[2], row[6]
        if status not in ("valid", "Invalid"):
            continue
        if cell is None:
            sources = ()
        else:
            text = cell.strip()
            if text.startswith("max(") and text.endswith(")"):
                text = text[4:-1]
            sources = tuple(XLSX_SPELLING_FIXES.get(s.strip(), s.strip()) for s in text.split(","))
        table[canonical_name(target)] = (sources, status == "valid")
    assert len(table) == 52
    assert table == FACEGOOD_TO_ARKIT


# --- to_arkit -----------------------------------------------------------------------------------

def test_to_arkit_facegood_values():
    rng = np.random.default_rng(0)
    names = list(FACEGOOD_TRAINED_37)
    values = rng.uniform(size=(6, len(names)))
    out = to_arkit(values, names)
    assert out.shape == (6, 52) and out.dtype == np.float32
    col = {n: values[:, i] for i, n in enumerate(names)}
    np.testing.assert_allclose(out[:, ARKIT_INDEX["jawOpen"]], col["mouth_stretch_c"], rtol=1e-6)
    funnels = np.max([col[f"mouth_funnel_{s}"] for s in ("dl", "dr", "ul", "ur")], axis=0)
    np.testing.assert_allclose(out[:, ARKIT_INDEX["mouthFunnel"]], funnels, rtol=1e-6)
    # sources not in the 37 (mouth_sideways_l, jaw_thrust_c) leave their channel 0
    assert not out[:, ARKIT_INDEX["mouthLeft"]].any() and not out[:, ARKIT_INDEX["jawForward"]].any()
    assert not out[:, ARKIT_INDEX["tongueOut"]].any()


def test_to_arkit_max_over_present_sources_only():
    names = ["mouth_funnel_ur", "mouth_funnel_dl"]
    values = np.array([[0.2, 0.7], [0.9, 0.1]])
    out = to_arkit(values, names)
    np.testing.assert_allclose(out[:, ARKIT_INDEX["mouthFunnel"]], [0.7, 0.9], rtol=1e-6)
    assert np.count_nonzero(out) == 2


def test_to_arkit_valid_only_zeroes_invalid_rows():
    names = ["mouth_stretch_c", "eye_blink2_l", "brow_lower_l", "cheek_UP"]
    values = np.full((3, 4), 0.5)
    out = to_arkit(values, names)
    assert out[:, ARKIT_INDEX["jawOpen"]].tolist() == [0.5] * 3
    for target in ("eyeBlinkLeft", "browDownLeft", "cheekSquintLeft", "cheekSquintRight"):
        assert not out[:, ARKIT_INDEX[target]].any()
    out = to_arkit(values, names, valid_only=False)
    for target in ("eyeBlinkLeft", "browDownLeft", "cheekSquintLeft", "cheekSquintRight"):
        assert out[:, ARKIT_INDEX[target]].tolist() == [0.5] * 3


def test_to_arkit_identity_on_shuffled_arkit_names():
    rng = np.random.default_rng(1)
    values = rng.uniform(size=(5, 52)).astype(np.float32)
    perm = rng.permutation(52)
    out = to_arkit(values[:, perm], [ARKIT_52[i] for i in perm])
    np.testing.assert_array_equal(out, values)
    # other spellings of the ARKit names, a subset; valid_only does not apply to ARKit input
    out = to_arkit(values[:, [0, 17]], ["EyeBlinkLeft", "jaw_open"])
    np.testing.assert_array_equal(out[:, [0, 17]], values[:, [0, 17]])
    assert np.count_nonzero(out[:, 1:17]) == 0


def test_to_arkit_errors():
    with pytest.raises(ValueError, match="no channel maps"):
        to_arkit(np.zeros((2, 2)), ["foo", "bar"])
    with pytest.raises(ValueError, match="valid_only=False"):
        to_arkit(np.zeros((2, 1)), ["eye_blink2_l"])
    with pytest.raises(ValueError, match="mix"):
        to_arkit(np.zeros((2, 2)), ["jawOpen", "mouth_stretch_c"])
    with pytest.raises(ValueError, match="channels"):
        to_arkit(np.zeros((2, 3)), ["jawOpen", "mouthClose"])
    with pytest.raises(ValueError, match="same ARKit channel"):
        to_arkit(np.zeros((2, 2)), ["jawOpen", "JawOpen"])


# --- expand_to_rig / varying_channels --------------------------------------------------------------

def test_expand_to_rig_places_by_name():
    values = np.array([[0.1, 0.2], [0.3, 0.4]])
    out = expand_to_rig(values, ["mouth_stretch_c", "brow_lower_l"], FACEGOOD_116_UE)
    assert out.shape == (2, 116) and out.dtype == np.float64
    np.testing.assert_array_equal(out[:, FACEGOOD_116_UE.index("mouth_stretch_c")], [0.1, 0.3])
    np.testing.assert_array_equal(out[:, 0], [0.2, 0.4])
    assert np.count_nonzero(out) == 4
    assert expand_to_rig(np.ones((1, 1), dtype=np.int64), ["b"], ["a", "b"]).tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match="not in the rig"):
        expand_to_rig(values, ["mouth_stretch_c", "jawOpen"], FACEGOOD_116_UE)


def test_expand_then_select_round_trip():
    rng = np.random.default_rng(2)
    values = rng.uniform(size=(4, 37))
    full = expand_to_rig(values, FACEGOOD_TRAINED_37, FACEGOOD_116_UE)
    back = full[:, [FACEGOOD_116_UE.index(n) for n in FACEGOOD_TRAINED_37]]
    np.testing.assert_array_equal(back, values)


def test_varying_channels():
    values = np.array([[0.0, 0.5, 0.2], [0.0, 0.5, 0.3], [0.0, 0.5001, 0.9]])
    assert varying_channels(values, ["a", "b", "c"]) == ("b", "c")
    assert varying_channels(values, ["a", "b", "c"], tol=0.01) == ("c",)
    with pytest.raises(ValueError, match="no frames"):
        varying_channels(np.zeros((0, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="NaN"):
        varying_channels(np.array([[np.nan]]), ["a"])


@pytest.mark.realdata
def test_varying_channels_on_real_labels(facegood_dir):
    maya = read_names(facegood_dir / "shirley_1015_bs_name.npy")
    labels = np.concatenate([load_npy(p) for p in sorted((facegood_dir / "bs_value").glob("bs_value_1114_2_*.npy"))])
    varying = set(varying_channels(labels, maya))
    # the shipped clips (2_01-2_05) move 33 of the 37 plus mouth_chinRaise_d (spec §2, §9.7); the
    # dimples and lipCornerPullOpen never move in them (they must have in the missing clips)
    assert varying - set(FACEGOOD_TRAINED_37) == {"mouth_chinRaise_d"}
    assert set(FACEGOOD_TRAINED_37) - varying == {
        "mouth_dimple_l", "mouth_dimple_r", "mouth_lipCornerPullOpen_l", "mouth_lipCornerPullOpen_r",
    }
