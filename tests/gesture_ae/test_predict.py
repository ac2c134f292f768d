"""Prediction from audio alone: one frame per feature frame, the same motion from a path and an array, smoothing,
the txt/npy/bvh writers, the rotation representation, and evaluation against the mean pose."""
from __future__ import annotations

import re

import numpy as np
import pytest

from zoo.datasets import forward_kinematics, read_bvh
from zoo.gesture_ae import motion as mo
from zoo.gesture_ae import smoothing


@pytest.fixture(scope="module")
def predictor(trained):
    from zoo.gesture_ae.predict import Predictor

    return Predictor.load(trained[0])


@pytest.fixture(scope="module")
def rotation_predictor(trained_rotations):
    from zoo.gesture_ae.predict import Predictor

    return Predictor.load(trained_rotations[0])


@pytest.fixture(scope="module")
def speech44k():
    """The shipped sentence (2.9 s) at 44.1 kHz, float32 mono."""
    from zoo.core import parity_speech
    from zoo.datasets import resample

    audio, rate = parity_speech()
    return resample(audio, rate, 44100).astype(np.float32)


def test_the_weights_file_holds_exactly_the_arrays_the_config_implies(trained, trained_rotations):
    from zoo.core.modeldir import read_model_dir, weight_shapes
    from zoo.gesture_ae.predict import expected_weight_shapes, read_config

    for model_dir, _ in (trained, trained_rotations):
        found = read_model_dir(model_dir)
        assert weight_shapes(found) == sorted(expected_weight_shapes(read_config(found)))


# MFCC frames: T_100 = 1 + ceil((S − 882) / 441) frames of 10 ms at 44.1 kHz, averaged 5 by 5 (the tail dropped):
# 1 s → 99 → 19 frames; 22050 samples (10 frames' worth) → 49 → 9; one sample more → 50 → 10; 2 s + 7 → 200 → 40
@pytest.mark.parametrize("samples, rate, frames", [(44100, 44100, 19), (22050, 44100, 9), (22051, 44100, 10),
                                                   (16000, 16000, 19), (120000, 44100, 54), (44100 * 2 + 7, 44100, 40)])
def test_one_output_frame_per_feature_frame(predictor, speech44k, samples, rate, frames):
    from zoo.datasets import resample

    audio = speech44k[:samples] if rate == 44100 else resample(speech44k, 44100, rate)[:samples]
    assert len(audio) == samples
    anim = predictor.predict(audio, rate)
    assert anim.values.shape == (frames, 192) and len(predictor.features(audio, rate)) == frames
    assert anim.fps == 20 and anim.names[:3] == ("Hips.x", "Hips.y", "Hips.z") and np.isfinite(anim.values).all()
    # the root: x, z are constant 0 in training (decoded exactly), y near its offset (60 cm; the tiny DAE is rough)
    np.testing.assert_allclose(anim.values[:, [0, 2]], 0, atol=1e-6)
    assert np.abs(anim.values[:, 1] - 60).max() < 10


def test_a_path_and_the_same_samples_give_the_same_motion(predictor, speech44k, tmp_path):
    import soundfile as sf

    path = tmp_path / "speech.wav"
    sf.write(path, np.stack([speech44k, speech44k], axis=1), 44100, subtype="FLOAT")  # stereo: averaged
    from_file = predictor.predict(path).values
    np.testing.assert_array_equal(from_file, predictor.predict(speech44k, 44100).values)
    assert from_file.shape == (len(predictor.features(speech44k, 44100)), 192)
    assert np.ptp(from_file, axis=0).max() > 1e-3  # the motion follows the speech


def test_smoothing_applies_to_the_positions(predictor, speech44k):
    raw = predictor.predict(speech44k, 44100, smooth="none").values
    np.testing.assert_array_equal(predictor.predict(speech44k, 44100).values, raw)  # the tiny preset: none
    for kind, expected in (("one_euro", smoothing.one_euro(raw)), ("savgol", smoothing.savgol(raw)),
                           ("moving_average", smoothing.moving_average(raw))):
        np.testing.assert_array_equal(predictor.predict(speech44k, 44100, smooth=kind).values, expected)
    with pytest.raises(ValueError, match="unknown smoothing 'median'"):
        predictor.predict(speech44k, 44100, smooth="median")


def test_txt_and_npy_hold_the_originals_positions(predictor, speech44k, tmp_path):
    anim = predictor.predict(speech44k[:44100], 44100)
    predictor.write_motion(anim, tmp_path / "m.txt")
    predictor.write_motion(anim, tmp_path / "m.npy")
    lines = (tmp_path / "m.txt").read_text().splitlines()
    assert len(lines) == 19 and all(len(line.split(" ")) == 192 for line in lines)
    assert all(re.fullmatch(r"-?\d\.\d{18}e[+-]\d\d", v) for v in lines[3].split(" "))  # np.savetxt's '%.18e'
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "m.txt").astype(np.float32), anim.values)
    np.testing.assert_array_equal(np.load(tmp_path / "m.npy"), anim.values)
    with pytest.raises(ValueError, match=r"unknown motion format '\.csv'"):
        predictor.write_motion(anim, tmp_path / "m.csv")


def test_bvh_read_back_gives_the_positions_within_the_ik_error(predictor, speech44k, gesture_dir, tmp_path):
    anim = predictor.predict(speech44k, 44100)
    predictor.write_motion(anim, tmp_path / "m.bvh")
    written = read_bvh(tmp_path / "m.bvh")
    assert written.skeleton == predictor.skeleton and written.fps == pytest.approx(20)
    assert written.num_frames == len(anim.values)
    positions = anim.values.reshape(len(anim.values), -1, 3)
    in_memory = forward_kinematics(mo.positions_motion(predictor.skeleton, positions), root="fixed")
    back = forward_kinematics(written, root="fixed")
    np.testing.assert_allclose(back, in_memory, atol=1e-3)  # the file adds only its 6-decimal rounding
    ik_error = np.abs(in_memory - positions).max()
    assert np.abs(back - positions).max() <= ik_error + 1e-3
    # rigid motion (the ground truth's FK) goes through the file unchanged within the rounding
    from zoo.core.animation import Animation
    from zoo.gesture_ae.predict import write_motion

    truth = mo.motion_positions(read_bvh(gesture_dir / "motion" / "gesture20.bvh"))[::5]
    write_motion(Animation(truth, predictor.position_names, 20), tmp_path / "truth.bvh")
    np.testing.assert_allclose(mo.motion_positions(read_bvh(tmp_path / "truth.bvh")), truth, atol=1e-3)


def test_the_rotation_model_gives_exp_maps_and_their_forward_kinematics(rotation_predictor, speech44k, tmp_path):
    p = rotation_predictor
    raw = p.predict(speech44k, 44100, smooth="none")
    anim = p.predict(speech44k, 44100)  # the config's Savitzky–Golay (9, 3) by default
    assert anim.values.shape == (len(p.features(speech44k, 44100)), 39 + 192)
    assert anim.names[:3] == ("Hips.ex", "Hips.ey", "Hips.ez") and anim.names[39:42] == ("Hips.x", "Hips.y", "Hips.z")
    rotations = anim.values[:, :39]
    np.testing.assert_allclose(rotations, smoothing.savgol(raw.values[:, :39], 9, 3), atol=1e-6)
    values = mo.rotations_to_values(p.skeleton, rotations, p.base_values)
    np.testing.assert_allclose(anim.values[:, 39:], mo.motion_positions(mo.rotations_motion(p.skeleton, rotations,
                                                                                            p.base_values)), atol=1e-4)
    p.write_motion(anim, tmp_path / "r.bvh")  # the rotations go into the file directly
    np.testing.assert_allclose(read_bvh(tmp_path / "r.bvh").values, values, atol=1e-5)
    p.write_motion(anim, tmp_path / "r.txt")
    np.testing.assert_allclose(np.loadtxt(tmp_path / "r.txt"), anim.values[:, 39:], rtol=1e-6)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_evaluate_reports_the_model_beside_the_mean_pose(trained, gesture_dir):
    from zoo.gesture_ae.predict import evaluate

    result = evaluate(trained[0], gesture_dir)  # the recorded test take, read from the intact folder
    assert result["ids"] == [50] and result["smoothing"] == "none"
    model, mean_pose = result["model"], result["mean_pose"]
    assert model["num_sequences"] == mean_pose["num_sequences"] == 1 and model["num_frames"] > 150
    assert 0 < mean_pose["ape_cm"] < 30 and 0 < model["ape_cm"] < 30
    assert mean_pose["aj_cm_per_s3"] == 0 and mean_pose["aj_true_cm_per_s3"] == model["aj_true_cm_per_s3"] > 0
    again = evaluate(trained[0], gesture_dir, [50, 65], smooth="savgol")
    assert again["model"]["num_sequences"] == 2 and again["smoothing"] == "savgol"
