import numpy as np
import pytest
import soundfile as sf

from zoo.datasets.bvh import Motion, forward_kinematics, gesture_skeleton, read_bvh, to_fps
from zoo.datasets.clip import Clip
from zoo.datasets.errors import AudioError, DataError, FrameCountError
from zoo.datasets.gesture import (
    GESTURE_FPS,
    gesture_ids,
    joint_channel_names,
    original_split,
    read_gesture,
    read_gesture_clip,
    write_gesture_pair,
)

RATE = 16000


def gesture_motion(frames, frame_time=1 / 24, seed=0):
    """A motion on the dataset skeleton: smooth random rotations (±40°), position channels at the offsets."""
    skeleton = gesture_skeleton()
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] * frame_time
    values = np.zeros((frames, 306))
    for node in skeleton.joints:
        start = skeleton.channel_slices[node].start
        values[:, start:start + 3] = skeleton.offsets[node]
        values[:, start + 3:start + 6] = 40 * np.sin(2 * np.pi * rng.uniform(0.2, 1.5, 3) * t + rng.uniform(0, 6, 3))
    values[:, 0:3] += [2.0, 1.0, -3.0]  # the root stands away from its offset: "fixed" and "keep" differ
    return Motion(skeleton, frame_time, values)


def tone(seconds, rate=RATE):
    return 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(round(seconds * rate))) / rate)


def test_ids_and_split(tmp_path):
    for clip_id in (1093, 20, 21):
        write_gesture_pair(tmp_path, clip_id, tone(0.2), RATE, gesture_motion(5))
    sf.write(tmp_path / "speech" / "audio22.wav", tone(0.2), RATE)  # audio without motion
    (tmp_path / "motion" / "gesture0023.bvh").write_text("not a canonical name")
    assert gesture_ids(tmp_path) == [20, 21, 1093]
    train, dev, test = original_split([5, 1200, 20, 1091, 1092, 1093, 1181, 1182, 1183, 19])
    assert (train, dev, test) == ([20, 1091], [1093, 1181], [1092, 1182])  # 5, 19, 1183, 1200: in none
    train, dev, test = original_split(range(20, 1183))
    assert (len(train), len(dev), len(test)) == (1072, 45, 46)
    assert test[:2] == [1092, 1094] and dev[-1] == 1181
    with pytest.raises(DataError, match="missing folder"):
        gesture_ids(tmp_path / "speech")


def test_channel_names():
    names = joint_channel_names(gesture_skeleton())
    assert len(names) == 192 and names[:4] == ("Hips.x", "Hips.y", "Hips.z", "Spine.x")
    assert names[-1] == "Site13.z"


def test_read_clip_targets_are_fk_positions_at_20_fps(tmp_path):
    motion = gesture_motion(24)  # 1 s at 24 fps: 20 frames after the drop rule
    wav, bvh = write_gesture_pair(tmp_path, 1100, tone(1.0), RATE, motion)
    clip = read_gesture_clip(tmp_path, 1100)
    assert isinstance(clip, Clip) and clip.fps == GESTURE_FPS and clip.target_kind == "joints3d"
    assert clip.targets.shape == (20, 192) and clip.targets.dtype == np.float32
    assert clip.sample_rate == RATE and clip.audio.size == RATE and clip.subject == "" and clip.source == str(bvh)
    assert clip.channel_names == joint_channel_names(gesture_skeleton())
    expected = forward_kinematics(to_fps(read_bvh(bvh), 20)).reshape(20, 192)
    np.testing.assert_allclose(clip.targets, expected, atol=1e-4)
    np.testing.assert_allclose(clip.targets[:, :3], np.broadcast_to([0, 60, 0], (20, 3)))  # root fixed
    kept = read_gesture_clip(tmp_path, 1100, root="keep", sample_rate=8000)
    np.testing.assert_allclose(kept.targets[:, :3], np.broadcast_to([2.0, 61.0, -3.0], (20, 3)), atol=1e-4)
    assert kept.sample_rate == 8000 and kept.audio.size == 8000
    smooth = read_gesture_clip(tmp_path, 1100, frames="interpolate")
    assert smooth.num_frames == 20  # times 0, 0.05, …, 0.95 <= 23/24 s
    np.testing.assert_allclose(smooth.targets[0], forward_kinematics(read_bvh(bvh))[0].reshape(-1), atol=1e-4)
    np.testing.assert_allclose(clip.targets[0], forward_kinematics(read_bvh(bvh))[1].reshape(-1), atol=1e-4)
    sound, rate = sf.read(wav)
    assert rate == RATE and np.abs(sound - tone(1.0)).max() < 1 / 32767


def test_frame_rule(tmp_path):
    write_gesture_pair(tmp_path, 30, tone(1.0), RATE, gesture_motion(30))  # 25 frames at 20 fps: cut to 20
    write_gesture_pair(tmp_path, 31, tone(1.0), RATE, gesture_motion(22))  # 18 frames: 2 short, accepted
    write_gesture_pair(tmp_path, 32, tone(1.0), RATE, gesture_motion(21))  # 17 frames: 3 short
    write_gesture_pair(tmp_path, 33, tone(1.0), RATE, gesture_motion(100, frame_time=0.01))  # every 5th: 20
    long, short, hundred = (read_gesture_clip(tmp_path, i) for i in (30, 31, 33))
    assert long.num_frames == 20 and short.num_frames == 18 and short.frame_tolerance == 2
    assert hundred.num_frames == 20
    with pytest.raises(FrameCountError) as info:
        read_gesture_clip(tmp_path, 32)
    message = str(info.value)
    assert "gesture32.bvh" in message and "audio32.wav" in message
    assert "has 17 frames but the audio implies 20" in message
    common = read_gesture_clip(tmp_path, 32, max_missing_frames=None)  # the original: cut both to the shorter
    assert common.num_frames == 17 and common.audio.size == 17 * RATE // 20
    with pytest.raises(FrameCountError):
        read_gesture(tmp_path)
    assert [c.num_frames for c in read_gesture(tmp_path, ids=[30, 31, 33])] == [20, 18, 20]


def test_bad_files_are_named(tmp_path):
    write_gesture_pair(tmp_path, 40, tone(0.5), RATE, gesture_motion(12))
    write_gesture_pair(tmp_path, 41, tone(0.5), RATE, gesture_motion(12))
    (tmp_path / "speech" / "audio40.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(AudioError, match="audio40.wav"):
        read_gesture_clip(tmp_path, 40)
    bvh = tmp_path / "motion" / "gesture41.bvh"
    bvh.write_text(bvh.read_text().replace("Frame Time: 0.0416667", "Frame Time: 0.0333333"))
    with pytest.raises(DataError, match=r"gesture41\.bvh: frame time 0\.0333333 s"):
        read_gesture_clip(tmp_path, 41)
    with pytest.raises(DataError, match=r"audio42\.wav: audio file of gesture id 42 not found"):
        read_gesture(tmp_path, ids=[42])
