import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from zoo.datasets.errors import DataError
from zoo.gesture_ae import metrics

SHARED_DATA = Path(os.environ.get("ZOO_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
JOINTS_TXT = SHARED_DATA / "gesture" / "joints.txt"


def _line(velocity, accel=(0.0, 0.0, 0.0), frames=10, joints=2, start=(1.0, 2.0, 3.0)) -> np.ndarray:
    """Every joint at p_t = start + v·t + a·t²/2 (t in frames): Δp_t = v + a(t + ½), Δ²p = a, Δ³p = 0."""
    t = np.arange(frames, dtype=np.float64)[:, None]
    p = np.asarray(start) + np.asarray(velocity) * t + 0.5 * np.asarray(accel) * t ** 2
    return np.repeat(p[:, None, :], joints, axis=1)


def _gesture(seed: int, frames: int) -> np.ndarray:
    """Smooth synthetic (frames, 64, 3) motion in cm: a fixed pose plus per-coordinate sinusoids (0.3–1.5 Hz)."""
    rng = np.random.default_rng(seed)
    pose = np.random.default_rng(0).normal(0.0, 20.0, (64, 3))
    pose[0] = (0.0, 60.0, 0.0)
    amp, freq = rng.uniform(0.5, 4.0, (64, 3)), rng.uniform(0.3, 1.5, (64, 3))
    amp[0] = 0.0
    t = np.arange(frames)[:, None, None] / metrics.FPS
    return pose + amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi, (64, 3)))


# ----------------------------------------------------------------------------------------------------------------
# Node names and subsets
# ----------------------------------------------------------------------------------------------------------------
def test_node_names_and_subsets():
    assert len(metrics.NODE_NAMES) == 64 and len(set(metrics.NODE_NAMES)) == 64
    assert metrics.NODE_NAMES[0] == "Hips" and metrics.NODE_NAMES[-1] == "Site13"
    assert set(metrics.HAND_NODES) <= set(metrics.ARM_NODES) <= set(metrics.NODE_NAMES)
    np.testing.assert_array_equal(metrics.joint_indices(metrics.ARM_NODES), [7, 8, 9, 31, 32, 33])
    np.testing.assert_array_equal(metrics.joint_indices(metrics.HAND_NODES), [9, 33])
    if JOINTS_TXT.is_file():  # the dataset's own list
        assert tuple(JOINTS_TXT.read_text().replace(",", " ").split()) == metrics.NODE_NAMES


def test_joint_indices_errors():
    with pytest.raises(ValueError, match="unknown joint 'LeftElbow'"):
        metrics.joint_indices(["LeftElbow"])
    with pytest.raises(ValueError, match="needs the 64-node skeleton"):
        metrics.joint_indices(["LeftHand"], num_joints=5)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        metrics.joint_indices([5], num_joints=5)


# ----------------------------------------------------------------------------------------------------------------
# APE, MAE, AJ, AA, speeds
# ----------------------------------------------------------------------------------------------------------------
def test_ape_mae_hand_computed():
    true = np.zeros((2, 2, 3))
    pred = np.array([[[3, 4, 0], [0, 0, 1]],
                     [[0, 0, 0], [1, 2, 2]]], dtype=np.float64)
    np.testing.assert_allclose(metrics.ape(pred, true), [(5 + 0) / 2, (1 + 3) / 2])
    np.testing.assert_allclose(metrics.mae(pred, true), [(3 + 4) / 6, (1 + 1 + 2 + 2) / 6])


def test_ape_cuts_to_common_length_and_accepts_flat_rows():
    true = np.zeros((3, 64, 3))
    pred = np.ones((5, 64, 3))
    pred[3:] = 100.0  # beyond the ground truth's length: cut away
    np.testing.assert_allclose(metrics.ape(pred, true), np.full(64, np.sqrt(3)))
    np.testing.assert_allclose(metrics.mae(pred.reshape(5, 192), true.reshape(3, 192)), np.ones(64))


def test_constant_velocity_has_no_jerk_or_acceleration_and_speed_is_v():
    p = _line(velocity=(0.3, 0.0, 0.4))
    np.testing.assert_allclose(metrics.average_jerk(p), 0.0, atol=1e-12)
    np.testing.assert_allclose(metrics.average_acceleration(p), 0.0, atol=1e-12)
    np.testing.assert_allclose(metrics.speeds(p), np.full((9, 2), 0.5))


def test_constant_acceleration_has_aa_equal_to_a_and_no_jerk():
    p = _line(velocity=(1.0, 0.0, 0.0), accel=(0.0, 0.6, 0.8))
    np.testing.assert_allclose(metrics.average_acceleration(p), [1.0, 1.0])
    np.testing.assert_allclose(metrics.average_jerk(p), 0.0, atol=1e-9)


def test_cubic_motion_has_jerk_six():
    t = np.arange(8, dtype=np.float64)
    p = np.zeros((8, 1, 3))
    p[:, 0, 2] = t ** 3  # Δ³(t³) = 6 per frame³
    np.testing.assert_allclose(metrics.average_jerk(p), [6.0])
    np.testing.assert_allclose(metrics.average_acceleration(p), [np.mean(6 * (t[:-2] + 1))])  # Δ²t³ = 6t + 6


def test_per_second_units_scale_by_fps_powers():
    p = np.random.default_rng(0).normal(size=(30, 4, 3))
    np.testing.assert_allclose(metrics.speeds(p, "second"), 20 * metrics.speeds(p))
    np.testing.assert_allclose(metrics.average_acceleration(p, "second"), 400 * metrics.average_acceleration(p))
    np.testing.assert_allclose(metrics.average_jerk(p, "second"), 8000 * metrics.average_jerk(p))
    np.testing.assert_allclose(metrics.average_jerk(p, "second", fps=10), 1000 * metrics.average_jerk(p))


def test_bad_inputs_give_one_clear_error():
    with pytest.raises(ValueError, match="units must be one of"):
        metrics.average_jerk(np.zeros((5, 1, 3)), units="cm/s")
    with pytest.raises(ValueError, match="3 frames; this measure needs at least 4"):
        metrics.average_jerk(np.zeros((3, 1, 3)))
    bad = np.zeros((4, 2, 3))
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="frame 2, joint 1, axis 0"):
        metrics.ape(bad, np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match="pred has 2 joints but true has 3"):
        metrics.ape(np.zeros((4, 2, 3)), np.zeros((4, 3, 3)))


# ----------------------------------------------------------------------------------------------------------------
# Speed histograms and Hellinger
# ----------------------------------------------------------------------------------------------------------------
def _speeds_to_positions(speeds) -> np.ndarray:
    """One joint moving along x with the given per-frame speeds."""
    x = np.concatenate([[0.0], np.cumsum(speeds)])
    p = np.zeros((x.size, 1, 3))
    p[:, 0, 0] = x
    return p


def _one_step_per_joint(speeds) -> np.ndarray:
    """(2, J, 3): joint j moves from 0 to speeds[j] along x, so its one speed is exactly speeds[j]."""
    p = np.zeros((2, len(speeds), 3))
    p[1, :, 0] = speeds
    return p


def test_speed_histogram_edges_and_discard_rule():
    p = _one_step_per_joint([0.0, 0.01, 0.05, 0.0625, 0.99, 1.0, 1.5, 3.0])
    h = metrics.speed_histogram([p], joints=None)
    np.testing.assert_allclose(h.edges, np.arange(21) * 0.05, atol=1e-12)
    expected = np.zeros(20)
    np.add.at(expected, [0, 0, 1, 1, 19, 19], 1)  # bins [e_i, e_i+1): 0.05 opens bin 1; the top edge 1.0 is closed
    np.testing.assert_array_equal(h.total_counts, expected)
    assert h.counts.shape == (8, 20) and h.counts[6].sum() == 0 and h.counts[7].sum() == 0
    assert h.above_fraction == pytest.approx(2 / 8) and h.discarded_fraction == pytest.approx(2 / 8)
    np.testing.assert_allclose(h.total, expected / 6)
    clipped = metrics.speed_histogram([p], joints=None, clip=True)
    assert clipped.total_counts[19] == 4 and clipped.counts.sum() == 8 and clipped.discarded_fraction == 0.0
    per_second = metrics.speed_histogram([p], joints=None, units="second")
    np.testing.assert_allclose(per_second.edges, np.arange(21), atol=1e-9)  # 0…20 cm/s
    np.testing.assert_array_equal(per_second.counts, h.counts)


def test_speed_histogram_matches_numpy_and_pools_sequences():
    rng = np.random.default_rng(1)
    seqs = [rng.normal(0, 0.4, (n, 64, 3)).cumsum(axis=0) for n in (40, 25)]
    h = metrics.speed_histogram(seqs, joints=metrics.HAND_NODES)
    for row, j in zip(h.counts, (9, 33)):
        s = np.concatenate([metrics.speeds(x)[:, j] for x in seqs])
        np.testing.assert_array_equal(row, np.histogram(s, bins=20, range=(0.0, 1.0))[0])
    np.testing.assert_array_equal(h.total_counts, h.counts.sum(axis=0))
    np.testing.assert_allclose(h.per_joint.sum(axis=1), 1.0)


def test_hellinger_identical_disjoint_and_known_value():
    assert metrics.hellinger([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-7)  # normalised first
    assert metrics.hellinger([1, 0, 0], [0, 5, 5]) == pytest.approx(1.0)
    assert metrics.hellinger([1, 0], [1, 1]) == pytest.approx(np.sqrt(1 - np.sqrt(0.5)))
    with pytest.raises(ValueError, match="not all zero"):
        metrics.hellinger([0, 0], [1, 1])


def test_hellinger_one2one_per_sequence_and_overall():
    slow, fast = _speeds_to_positions([0.01] * 4), _speeds_to_positions([0.07] * 4)
    mixed = _speeds_to_positions([0.01, 0.01, 0.07, 0.07])
    same = metrics.hellinger_one2one([slow, fast], [slow, fast], joints=[0])
    assert same == pytest.approx((0.0, 0.0, 0.0), abs=1e-7)
    h = metrics.hellinger_one2one([slow, slow], [fast, mixed], joints=[0])
    per = [1.0, np.sqrt(1 - np.sqrt(0.5))]
    assert h.mean == pytest.approx(np.mean(per)) and h.std == pytest.approx(np.std(per))
    assert h.overall == pytest.approx(np.sqrt(1 - np.sqrt(0.25)))  # summed: pred [8, 0], true [2, 6]
    with pytest.raises(ValueError, match=r"pred_seqs\[0\] has no speed inside"):
        metrics.hellinger_one2one([_speeds_to_positions([5.0, 5.0])], [slow], joints=[0])


# ----------------------------------------------------------------------------------------------------------------
# Fréchet distance
# ----------------------------------------------------------------------------------------------------------------
def _spd(rng, d) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_equal_covariances_is_mean_shift_squared():
    rng = np.random.default_rng(2)
    s = _spd(rng, 6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    assert metrics.frechet_distance(mu1, s, mu2, s) == pytest.approx(((mu1 - mu2) ** 2).sum(), rel=1e-9)
    assert metrics.frechet_distance(mu1, s, mu1, s) == pytest.approx(0.0, abs=1e-9)


def test_frechet_diagonal_closed_form_and_scipy_sqrtm():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.0])  # one singular direction
    expected = 3.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert metrics.frechet_distance(np.zeros(3), np.diag(a), np.ones(3), np.diag(b)) == pytest.approx(expected)
    rng = np.random.default_rng(3)
    s1, s2, mu1, mu2 = _spd(rng, 5), _spd(rng, 5), rng.normal(size=5), rng.normal(size=5)
    reference = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(scipy.linalg.sqrtm(s1 @ s2)))
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-8)


def test_frechet_of_sampled_gaussians_approaches_closed_form():
    rng = np.random.default_rng(4)
    s = _spd(rng, 4)
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    x = rng.multivariate_normal(np.zeros(4), s, size=20000)
    y = rng.multivariate_normal(shift, s, size=20000)
    d = metrics.frechet_distance(*metrics.feature_statistics(x), *metrics.feature_statistics(y))
    assert d == pytest.approx(5.25, rel=0.03)
    rank_one = np.outer(np.arange(4.0), np.arange(4.0))  # singular covariances: still real, finite and ≥ 0
    assert metrics.frechet_distance(np.zeros(4), rank_one, np.zeros(4), rank_one) == pytest.approx(0.0, abs=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# Report and baselines
# ----------------------------------------------------------------------------------------------------------------
def test_evaluate_motion_on_ground_truth_and_mean_pose():
    train = [_gesture(10 + i, 120) for i in range(3)]
    test = [_gesture(20 + i, n) for i, n in enumerate((80, 100))]
    r = metrics.evaluate_motion(test, test)
    assert r["num_sequences"] == 2 and r["num_frames"] == 180
    assert r["ape_cm"] == 0.0 and r["mae_arms_cm"] == 0.0 and r["hellinger_hands"] == pytest.approx(0.0, abs=1e-7)
    assert r["aj_cm_per_s3"] == pytest.approx(r["aj_true_cm_per_s3"]) and r["aj_cm_per_s3"] > 0
    expected_aa = np.mean([metrics.average_acceleration(s)[metrics.joint_indices(metrics.ARM_NODES)].mean()
                           for s in test]) * 400
    assert r["aa_true_arms_cm_per_s2"] == pytest.approx(expected_aa)
    assert "fgd" not in r

    baseline = metrics.mean_pose_baseline(train, [len(s) for s in test])
    b = metrics.evaluate_motion(baseline, test)
    assert b["aj_cm_per_s3"] == 0.0 and b["aa_arms_cm_per_s2"] == 0.0 and b["ape_cm"] > 0
    assert b["hellinger_hands"] > 0.5  # a still pose puts every speed in the first bin
    expected_ape = np.mean([metrics.ape(p, g).mean() for p, g in zip(baseline, test)])
    assert b["ape_cm"] == pytest.approx(expected_ape)


def test_baselines_hold_their_pose():
    train = [np.zeros((2, 64, 3)), np.full((2, 64, 3), 4.0)]
    seqs = metrics.mean_pose_baseline(train, [3, 5])
    assert [s.shape for s in seqs] == [(3, 64, 3), (5, 64, 3)] and np.all(seqs[1] == 2.0)
    rest = np.arange(192.0).reshape(64, 3)
    (held,) = metrics.rest_pose_baseline(rest.ravel(), [4])
    np.testing.assert_array_equal(held, np.broadcast_to(rest, (4, 64, 3)))
    with pytest.raises(ValueError, match="positive frame counts"):
        metrics.rest_pose_baseline(rest, [0])


def test_module_import_does_not_import_tensorflow():
    code = "import sys, zoo.gesture_ae.metrics; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------------------------------------------
# FGD autoencoder
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fgd_setup():
    train = [_gesture(100 + i, 200) for i in range(10)]
    real = [_gesture(200 + i, 170) for i in range(6)]
    return metrics.train_fgd_encoder(train, steps=300, seed=0), train, real


def test_fgd_ranks_noise_below_shuffled_time_and_mean_pose(fgd_setup):
    encoder, train, real = fgd_setup
    assert encoder.encoder.output.shape[-1] == 32 and encoder.info["num_weights"] == encoder.autoencoder.count_params()
    assert metrics.fgd(encoder, real, real) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(5)
    noisy = [s + rng.normal(0.0, 0.1, s.shape) for s in real]
    shuffled = [s[rng.permutation(len(s))] for s in real]
    still = metrics.mean_pose_baseline(train, [len(s) for s in real])
    d_noise = metrics.fgd(encoder, real, noisy)
    assert 0 < d_noise < metrics.fgd(encoder, real, shuffled)
    assert d_noise < metrics.fgd(encoder, real, still)
    report = metrics.evaluate_motion(noisy, real, fgd_encoder=encoder)
    assert report["fgd"] == pytest.approx(d_noise)


def test_fgd_encoder_save_load_round_trip(fgd_setup, tmp_path):
    encoder, _, real = fgd_setup
    encoder.save(tmp_path / "ae")
    loaded = metrics.MotionFeatureAE.load(tmp_path / "ae")
    np.testing.assert_array_equal(loaded.mean, encoder.mean)
    np.testing.assert_array_equal(loaded.features(real), encoder.features(real))
    assert loaded.info == encoder.info
    with pytest.raises(DataError, match="fgd_ae.json: missing"):
        metrics.MotionFeatureAE.load(tmp_path / "nothing")
    with pytest.raises(ValueError, match="has 5 joints; this encoder was trained on 64"):
        encoder.features([np.zeros((40, 5, 3))])


def test_fgd_encoder_is_deterministic_with_its_seed():
    train = [_gesture(300 + i, 80) for i in range(3)]
    probe = [_gesture(400, 90)]
    first = metrics.train_fgd_encoder(train, steps=30, seed=7, channels=16).features(probe)
    again = metrics.train_fgd_encoder(train, steps=30, seed=7, channels=16).features(probe)
    other = metrics.train_fgd_encoder(train, steps=30, seed=8, channels=16).features(probe)
    assert first.shape == (4, 32)  # windows at frames 0, 17, 34, 51 of 90
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
