import numpy as np
import pytest

from zoo.datasets import FrameCountError, read_facegood, read_names

REAL_FRAMES = {"1114_2_01": 3295, "1114_2_02": 3360, "1114_2_03": 3356, "1114_2_04": 3377, "1114_2_05": 3384}


@pytest.mark.realdata
def test_real_facegood_clips(facegood_dir):
    clips = read_facegood(facegood_dir, names_file=facegood_dir / "shirley_1015_bs_name.npy")
    assert {c.name: c.num_frames for c in clips} == REAL_FRAMES
    for clip in clips:
        assert clip.sample_rate == 16000 and clip.fps == 30.0 and clip.target_kind == "blendshapes"
        assert len(clip.channel_names) == 116 and clip.targets.shape == (REAL_FRAMES[clip.name], 116)
        assert clip.targets.min() >= 0.0 and clip.targets.max() <= 1.0
        assert clip.subject == "facegood"
    assert clips[0].channel_names[:2] == ("brow_lower_l", "tongue_Scale_X")


@pytest.mark.realdata
def test_real_name_files_agree_as_sets(facegood_dir):
    maya = read_names(facegood_dir / "shirley_1015_bs_name.npy")
    unreal = read_names(facegood_dir / "shirley_1119_bs_name.npy")
    text = read_names(facegood_dir / "bsname.txt")
    assert len(maya) == len(unreal) == 116
    assert set(maya) == set(unreal)
    assert unreal == text
    assert maya != unreal  # different orders: mapping must go by name
    assert maya.index("tongue_Scale_X") == 1 and unreal.index("tongue_Scale_X") == 114


@pytest.mark.realdata
def test_real_two_name_files_need_a_choice(facegood_dir):
    with pytest.raises(ValueError, match="several name files"):
        read_facegood(facegood_dir, clip_ids=["1114_2_01"])


def test_synthetic_layout_round_trip(facegood_layout):
    root = facegood_layout(ids=("a", "b"), seconds=1.5)
    clips = read_facegood(root)
    assert [c.name for c in clips] == ["a", "b"]
    assert all(c.num_frames == 45 and c.channel_names == ("jaw", "lip", "brow") for c in clips)
    np.testing.assert_allclose(clips[1].targets, np.load(root / "bs_value" / "bs_value_b.npy"), atol=1e-7)


def test_trim_policy(facegood_layout):
    root = facegood_layout(seconds=1.0, rows=33)  # 3 extra label rows
    with pytest.raises(FrameCountError):
        read_facegood(root)
    (clip,) = read_facegood(root, on_mismatch="trim")
    assert clip.num_frames == 30
    root = facegood_layout(seconds=1.0, rows=25, root_name="short")  # labels stop early: audio is cut
    (clip,) = read_facegood(root, on_mismatch="trim")
    assert clip.num_frames == 25 and clip.audio.size == 25 * 16000 // 30 + 1


def test_other_rates_are_resampled(facegood_layout, write_wav, tone):
    root = facegood_layout(seconds=1.0)
    write_wav("fg/wav/a.wav", tone(1.0, rate=44100), rate=44100)
    (clip,) = read_facegood(root)
    assert clip.sample_rate == 16000 and abs(clip.audio.size - 16000) <= 1 and clip.num_frames == 30
