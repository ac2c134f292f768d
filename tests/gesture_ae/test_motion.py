"""Motion representations: the 384-value frame of spec §1.4 and back, the 13-joint rotation subset and back to BVH
channels, the skeleton as JSON, positions to BVH through inverse kinematics (NumPy only)."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.datasets import forward_kinematics, gesture_skeleton, read_bvh, to_fps
from zoo.gesture_ae import motion as mo


def test_with_velocity_interleaves_position_and_per_frame_velocity_per_node():
    p = np.arange(3 * 2 * 3, dtype=np.float64).reshape(3, 2, 3) ** 2  # 3 frames, 2 nodes
    frames = mo.with_velocity(p)
    assert frames.shape == (3, 12) and frames.dtype == np.float32
    # node 1 at frame 2: p = [15², 16², 17²], v = p_2 − p_1 = [15² − 9², 16² − 10², 17² − 11²]
    np.testing.assert_array_equal(frames[2, 6:12], [225, 256, 289, 144, 156, 168])
    np.testing.assert_array_equal(frames[0, [3, 4, 5, 9, 10, 11]], 0)  # v_0 = 0
    np.testing.assert_array_equal(mo.with_velocity(p.reshape(3, 6)), frames)  # (T, 3N) rows too
    np.testing.assert_array_equal(mo.remove_velocity(frames), p.reshape(3, 6))
    assert mo.remove_velocity(np.zeros((5, 384))).shape == (5, 192)
    with pytest.raises(ValueError, match=r"\(T, 6·nodes\)"):
        mo.remove_velocity(np.zeros((5, 383)))


def test_the_rotation_subset_is_13_upper_body_joints_of_the_gesture_skeleton():
    skeleton = gesture_skeleton()
    assert len(mo.ROTATION_JOINTS) == 13 and len(mo.rotation_names()) == 39
    assert set(mo.ROTATION_JOINTS) <= set(skeleton.names)
    assert not any(part in j for j in mo.ROTATION_JOINTS  # no leg and no finger joint
                   for part in ("Leg", "Foot", "Toe", "Thumb", "Index", "Middle", "Ring", "Pinky"))
    assert mo.rotation_columns(skeleton, "Hips") == ([3, 4, 5], "ZXY")
    assert mo.rotation_names()[:4] == ("Hips.ex", "Hips.ey", "Hips.ez", "Spine.ex")


@pytest.fixture(scope="module")
def motion(gesture_dir):
    return to_fps(read_bvh(gesture_dir / "motion" / "gesture20.bvh"), 20)


def test_rotations_round_trip_to_the_bvh_channels_of_the_subset(motion):
    skeleton, values = motion.skeleton, motion.values
    features = mo.rotation_features(skeleton, values)
    assert features.shape == (len(values), 39) and np.abs(features).max() <= np.pi
    assert np.ptp(features, axis=0).max() > 0.2  # the arms move (radians)
    base = values.mean(axis=0)
    back = mo.rotations_to_values(skeleton, features, base)
    subset = [c for j in mo.ROTATION_JOINTS for c in mo.rotation_columns(skeleton, j)[0]]
    np.testing.assert_allclose(back[:, subset], values[:, subset], atol=1e-4)  # degrees (float32 exp-maps)
    others = [c for c in range(skeleton.num_channels) if c not in subset]
    np.testing.assert_array_equal(back[:, others], np.broadcast_to(base[others], (len(values), len(others))))
    # the nodes the subset alone places (spine, head, shoulders, arms, hands) are where the motion has them
    fk, true = mo.motion_positions(mo.rotations_motion(skeleton, features, base)), mo.motion_positions(motion)
    nodes = [skeleton.index(j) for j in mo.ROTATION_JOINTS]
    columns = [3 * n + k for n in nodes for k in range(3)]
    np.testing.assert_allclose(fk[:, columns], true[:, columns], atol=1e-3)  # cm


def test_the_skeleton_round_trips_through_json():
    import json

    skeleton = gesture_skeleton()
    assert mo.skeleton_from_json(json.loads(json.dumps(mo.skeleton_to_json(skeleton)))) == skeleton
    with pytest.raises(ValueError, match="not a skeleton"):
        mo.skeleton_from_json({"names": ["Hips"]})


def test_positions_become_a_bvh_motion_by_inverse_kinematics(motion):
    positions = forward_kinematics(motion, root="fixed")
    back = mo.positions_motion(motion.skeleton, positions.reshape(len(positions), -1))
    assert back.fps == pytest.approx(20) and back.values.shape == motion.values.shape
    np.testing.assert_allclose(forward_kinematics(back, root="fixed"), positions, atol=1e-6)  # rigid input: exact
