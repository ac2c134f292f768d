import numpy as np
import pytest

from zoo.datasets import EMOTIONS, Clip, ClipError, expected_frames


def _clip(**kw):
    args = dict(audio=np.zeros(16000, np.float32) + 0.1, sample_rate=16000, targets=np.zeros((30, 2)), fps=30,
                target_kind="blendshapes", channel_names=("jawOpen", "mouthClose"), source="x.wav")
    args.update(kw)
    return Clip(**args)


def test_frame_rule_is_floor_of_seconds_times_fps():
    assert expected_frames(1_757_712, 16000, 30) == 3295  # FACEGOOD 1114_2_01
    assert expected_frames(48000, 48000, 29.97) == 29
    assert expected_frames(16000, 16000, 30) == 30
    assert expected_frames(15999, 16000, 30) == 29


def test_valid_clip_is_frozen_float32():
    clip = _clip(emotion="happy", phonemes=[(0.0, 0.1, "a")])
    assert clip.audio.dtype == np.float32 and clip.targets.dtype == np.float32
    assert clip.num_frames == 30 and clip.duration == 1.0 and clip.name == "x"
    with pytest.raises(ValueError):
        clip.targets[0, 0] = 1.0  # read-only
    assert clip.replace(subject="s1").subject == "s1"


@pytest.mark.parametrize("change, cause", [
    (dict(targets=np.zeros((29, 2))), "29 target frames but the audio implies 30"),
    (dict(channel_names=("jawOpen",)), "1 channel names for 2 target columns"),
    (dict(channel_names=("a", "a")), "duplicate channel names"),
    (dict(targets=np.full((30, 2), np.nan)), "nan or inf"),
    (dict(audio=np.full(16000, 2.0, np.float32)), "exceeds [-1, 1]"),
    (dict(audio=np.zeros((16000, 2), np.float32)), "mono"),
    (dict(target_kind="mesh"), "target_kind"),
    (dict(emotion="bored"), "emotion"),
    (dict(targets=np.zeros(30)), "(frames, dims)"),
])
def test_invalid_clip_names_source_and_cause(change, cause):
    with pytest.raises(ClipError) as e:
        _clip(**change)
    assert "x.wav" in str(e.value) and cause in str(e.value).lower()


def test_frame_tolerance_admits_rounding():
    assert _clip(targets=np.zeros((31, 2)), frame_tolerance=1).num_frames == 31


def test_ravdess_emotions():
    assert EMOTIONS == ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def test_clip_without_audio():
    clip = _clip(audio=None, sample_rate=None, targets=np.zeros((48, 2)), fps=48)
    assert not clip.has_audio and clip.sample_rate is None and clip.duration == 1.0
    with pytest.raises(ClipError, match="sample_rate"):
        _clip(sample_rate=None)
