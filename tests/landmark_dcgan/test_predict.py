"""The chain: speech → landmarks on the 30 ms grid → faces → a video with the speech; held-out evaluation beside the
mean-landmark baseline and the shuffled-audio control."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from zoo.datasets import DataError, resample
from zoo.datasets.video import read_video, read_video_audio
from zoo.landmark_dcgan.predict import LANDMARK_NAMES, Predictor, evaluate, shuffled_partners, smooth_landmarks


@pytest.fixture(scope="module")
def predictor(trained):
    return Predictor.load(trained[0])


@pytest.fixture(scope="module")
def speech(ravdess_dir):
    path = sorted(ravdess_dir.glob("Actor_04/03-*.wav"))[0]
    audio, rate = sf.read(path, dtype="float32")
    return path, audio, rate


def test_landmarks_on_the_30ms_grid(predictor, speech):
    path, audio, rate = speech
    anim = predictor.landmarks(path)
    assert anim.names == LANDMARK_NAMES and anim.fps == pytest.approx(100 / 3)
    assert len(anim.values) == -(-len(audio) // 1440) and rate == 48000
    assert np.all((anim.values > 0) & (anim.values < 1))
    # any rate and channel count: 44.1 kHz stereo gives the same landmarks within the resampler's error
    stereo = np.stack([resample(audio, 48000, 44100)] * 2, axis=1)
    again = predictor.landmarks(stereo, 44100)
    assert len(again.values) == len(anim.values)
    assert np.abs(again.values - anim.values).max() < 0.02
    np.testing.assert_array_equal(predictor.predict(path).values, anim.values)


def test_smooth_landmarks_averages_the_centred_frames_present():
    from zoo.core.animation import Animation

    values = np.random.default_rng(2).random((7, 4)).astype(np.float32)
    np.testing.assert_array_equal(smooth_landmarks(values, 1), values)
    three = smooth_landmarks(values, 3)
    np.testing.assert_allclose(three[3], values[2:5].mean(0), rtol=1e-6)
    np.testing.assert_allclose(three[0], values[:2].mean(0), rtol=1e-6)  # the edges: the frames present
    np.testing.assert_allclose(three, Animation(values, list("abcd"), 30).smoothed(3).values, rtol=1e-6)
    np.testing.assert_allclose(smooth_landmarks(values, 15), np.repeat(values.mean(0, keepdims=True), 7, 0),
                               rtol=1e-6)  # wider than the clip: every frame averages the whole clip
    ramp = np.arange(10, dtype=np.float32)[:, None]
    np.testing.assert_allclose(smooth_landmarks(ramp, 5)[2:-2], ramp[2:-2])  # a linear motion passes unchanged
    assert smooth_landmarks(values[:0], 3).shape == (0, 4)
    for width in (0, 2, -1):
        with pytest.raises(ValueError, match="odd number"):
            smooth_landmarks(values, width)


def test_predictor_smooths_by_the_config(predictor, speech):
    path = speech[0]
    features, _ = predictor.features(path)
    plain = predictor.landmark_values(features)
    smoothed = Predictor(predictor.network, predictor.config.replace(smooth_frames=3),
                         mean_landmarks=predictor.mean_landmarks).landmark_values(features)
    np.testing.assert_allclose(smoothed, smooth_landmarks(plain, 3), atol=1e-6)
    assert np.abs(smoothed - plain).max() > 1e-4


def test_faces_random_and_reference_z(predictor, tmp_path):
    landmarks = np.repeat(predictor.reference_landmarks[None], 5, axis=0)
    faces = predictor.faces(landmarks, z="random", seed=3)
    assert faces.shape == (5, 64, 64, 3) and faces.dtype == np.uint8
    np.testing.assert_array_equal(faces, predictor.faces(landmarks, z="random", seed=3))
    assert not np.array_equal(faces, predictor.faces(landmarks, z="random", seed=4))
    own = predictor.faces(landmarks[:2])  # the model's own reference face encodes z
    assert own.shape == (2, 64, 64, 3) and np.array_equal(own[0], own[1])  # one z for the whole clip
    import cv2
    from skimage import data as skdata

    png = tmp_path / "astronaut.png"
    cv2.imwrite(str(png), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    face, points = predictor.reference(png)
    assert face.shape == (64, 64, 3) and points.shape == (136,) and 0 <= points.min() and points.max() <= 1
    assert predictor.faces(landmarks[:1], reference=png).shape == (1, 64, 64, 3)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100, 3), 128, np.uint8))
    with pytest.raises(DataError, match=r"blank\.png: no face found"):
        predictor.faces(landmarks[:1], reference=blank)
    with pytest.raises(ValueError, match="finite"):
        predictor.faces(np.full((2, 136), np.nan, np.float32))


def test_talking_face_video_has_the_grid_rate_and_the_speech(predictor, speech, tmp_path):
    path, audio, _ = speech
    done = predictor.talking_face(path, tmp_path / "talk.mp4", z="random")
    frames, fps = read_video(tmp_path / "talk.mp4")
    assert len(frames) == done["frames"] == -(-len(audio) // 1440)
    assert fps == pytest.approx(100 / 3, abs=0.01)  # the exact 100/3 time base: tests/render/test_landmarks.py
    assert frames.shape[2] > frames.shape[1]  # landmarks and faces side by side
    sound = read_video_audio(tmp_path / "talk.mp4", 48000)
    assert abs(len(sound) - len(audio)) < 0.05 * 48000
    alone = predictor.talking_face(path, tmp_path / "lm.mp4", landmarks_only=True)
    frames, _ = read_video(tmp_path / "lm.mp4")
    assert alone["faces"] is None and frames.shape[1] == frames.shape[2]


def test_evaluate_held_out_actor(trained, ravdess_dir):
    model_dir, summary = trained
    result = evaluate(model_dir, ravdess_dir, workers=1)
    assert result["trials"] == summary["test_trials"]
    for key in ("cnn", "mean_landmarks", "shuffled_audio"):
        assert set(result[key]) == {"mse", "lmd", "lmd_pixels", "mouth_opening_r"}
        assert result[key]["lmd_pixels"] == pytest.approx(256 * result[key]["lmd"])
    assert result["lmd_ratio_to_mean"] == pytest.approx(result["cnn"]["lmd"] / result["mean_landmarks"]["lmd"])
    for key in ("faces", "chain"):
        assert result[key]["images"] > 0 and 0 <= result[key]["face_detection_rate"] <= 1
        assert np.isfinite(result[key]["psnr"]) and -1 <= result[key]["ssim"] <= 1


class _T:
    def __init__(self, stem):
        self.stem = stem


def test_shuffled_partner_speaks_the_other_statement():
    trials = [_T(s) for s in ("03-01-01-01-01-01-04", "03-01-02-01-01-01-04", "03-01-02-01-02-01-04",
                              "03-01-03-01-01-01-04")]
    assert shuffled_partners(trials) == [2, 2, 3, 2]
    assert shuffled_partners(trials[:2]) == [1, 0]  # no other statement: the next trial
