"""Motion representations of Aud2Repr2Pose and their way back to BVH (spec §1.4, §3 GENEA_2020, §4).

* ``positions`` (the IVA'19 model): a frame is 6 values per node in file order, [px, py, pz, vx, vy, vz]
  interleaved per node (384 for the gesture skeleton's 64 nodes), positions in file units (cm) with the root fixed
  at its offset, velocities v_t = p_t − p_{t−1} in units per frame (at 20 fps) with v_0 = 0 (``with_velocity``).
  ``remove_velocity`` keeps columns [6k, 6k + 3): the (T, 3N) positions (the original's remove_velocity.py).
* ``rotations`` (the GENEA_2020 branch): the exponential maps (axis × angle, radians, angle in [0, π]) of the
  BVH's local joint rotations of a declared upper-body subset, 3 values a joint (``rotation_features``). For the
  gesture skeleton the subset is ``ROTATION_JOINTS``: Hips, Spine, Spine1, Neck, Head and each side's Shoulder, Arm,
  ForeArm, Hand = 13 joints, 39 values. GENEA's 15 Trinity joints (with Spine2, Spine3) do not exist on this
  skeleton, whose spine has two joints, so the subset differs; it is declared here, from the rig, before any
  result. Back to BVH channels (``rotations_to_values``): the subset's Euler angles from the exp-maps, every other
  channel at its training mean (``base_values``: the mean channel values of the training frames).

BVH writing: positions → ``zoo.datasets.inverse_kinematics`` on the model's skeleton (root fixed) → ``Motion`` at
20 fps; rotations directly (``representation_motion``). NumPy only.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from zoo.datasets.bvh import (
    Motion,
    Skeleton,
    euler_to_matrix,
    expmap_to_matrix,
    forward_kinematics,
    inverse_kinematics,
    matrix_to_euler,
    matrix_to_expmap,
)

FPS = 20
VALUES_PER_NODE = 6  # [px, py, pz, vx, vy, vz]
#: the upper-body joints of the "rotations" representation on the gesture skeleton (13 joints, 39 values)
ROTATION_JOINTS = ("Hips", "Spine", "Spine1", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
                   "RightShoulder", "RightArm", "RightForeArm", "RightHand")
EXPMAP_AXES = ("ex", "ey", "ez")  # channel suffixes of a joint's exp-map components


# ------------------------------------------------------------------------------------------------ positions
def _positions(positions) -> np.ndarray:
    p = np.asarray(positions, np.float64)
    if p.ndim == 2 and p.shape[1] % 3 == 0 and p.shape[1]:
        p = p.reshape(len(p), -1, 3)
    if p.ndim != 3 or p.shape[2] != 3:
        raise ValueError(f"positions must be (frames, nodes, 3) or (frames, 3·nodes), got {np.shape(positions)}")
    return p


def with_velocity(positions) -> np.ndarray:
    """(T, 6N) float32 frames of spec §1.4 from positions (T, N, 3) or (T, 3N): per node [p, p_t − p_{t−1}],
    v_0 = 0."""
    p = _positions(positions)
    v = np.zeros_like(p)
    v[1:] = p[1:] - p[:-1]
    return np.concatenate([p, v], axis=2).reshape(len(p), -1).astype(np.float32)


def remove_velocity(frames) -> np.ndarray:
    """(T, 3N) positions of (T, 6N) frames: columns [6k, 6k + 3) for every node k."""
    f = np.asarray(frames)
    if f.ndim != 2 or f.shape[1] % VALUES_PER_NODE:
        raise ValueError(f"frames must be (T, 6·nodes), got shape {f.shape}")
    return np.ascontiguousarray(f.reshape(len(f), -1, VALUES_PER_NODE)[:, :, :3].reshape(len(f), -1))


def position_names(skeleton: Skeleton) -> tuple[str, ...]:
    """``Hips.x, Hips.y, Hips.z, Spine.x, …``: one name per position column, nodes in file order."""
    return tuple(f"{name}.{axis}" for name in skeleton.names for axis in "xyz")


# ------------------------------------------------------------------------------------------------ rotations
def rotation_names(joints: Sequence[str] = ROTATION_JOINTS) -> tuple[str, ...]:
    """``Hips.ex, Hips.ey, Hips.ez, …``: the exp-map components of each joint of the subset."""
    return tuple(f"{joint}.{axis}" for joint in joints for axis in EXPMAP_AXES)


def rotation_columns(skeleton: Skeleton, joint: str) -> tuple[list[int], str]:
    """(columns, order) of ``joint``'s three rotation channels in a frame, e.g. ([3, 4, 5], "ZXY")."""
    node = skeleton.index(joint)
    names = [c for c in skeleton.channels[node] if c.endswith("rotation")]
    if len(names) != 3:
        raise ValueError(f"joint {joint!r} has rotation channels {names}; the rotation representation needs three")
    return [skeleton.channel_index(node, c) for c in names], "".join(c[0] for c in names)


def rotation_features(skeleton: Skeleton, values, joints: Sequence[str] = ROTATION_JOINTS) -> np.ndarray:
    """(T, 3J) float32 exp-maps (radians) of the local rotations of ``joints`` from BVH channel values (T, C)."""
    values = np.asarray(values, np.float64)
    out = []
    for joint in joints:
        columns, order = rotation_columns(skeleton, joint)
        out.append(matrix_to_expmap(euler_to_matrix(values[:, columns], order)))
    return np.concatenate(out, axis=1).astype(np.float32)


def rotations_to_values(skeleton: Skeleton, features, base_values, joints: Sequence[str] = ROTATION_JOINTS
                        ) -> np.ndarray:
    """(T, C) BVH channel values: ``base_values`` (C,) in every frame (the training mean), with the rotation
    channels of ``joints`` replaced by the Euler angles (degrees, the joint's channel order, each within 180° of
    its base angle) of the exp-maps ``features`` (T, 3J)."""
    f = np.asarray(features, np.float64)
    base = np.asarray(base_values, np.float64)
    if f.ndim != 2 or f.shape[1] != 3 * len(joints):
        raise ValueError(f"rotation features must be (T, {3 * len(joints)}), got shape {f.shape}")
    if base.shape != (skeleton.num_channels,):
        raise ValueError(f"base values must be ({skeleton.num_channels},), got shape {base.shape}")
    values = np.repeat(base[None], len(f), axis=0)
    for k, joint in enumerate(joints):
        columns, order = rotation_columns(skeleton, joint)
        matrices = expmap_to_matrix(f[:, 3 * k:3 * k + 3])
        values[:, columns] = matrix_to_euler(matrices, order, reference=values[:, columns])
    return values


# ------------------------------------------------------------------------------------------------ skeleton as JSON
def skeleton_to_json(skeleton: Skeleton) -> dict:
    """The skeleton as plain JSON: names, parents, offsets (lists of 3 floats), channels."""
    return {"names": list(skeleton.names), "parents": list(skeleton.parents),
            "offsets": np.asarray(skeleton.offsets, float).tolist(), "channels": [list(c) for c in skeleton.channels]}


def skeleton_from_json(data: Mapping) -> Skeleton:
    """The Skeleton of ``skeleton_to_json``; a ValueError names what is malformed."""
    try:
        return Skeleton(tuple(data["names"]), tuple(data["parents"]), np.asarray(data["offsets"], np.float64),
                        tuple(tuple(c) for c in data["channels"]))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a skeleton (names, parents, offsets, channels): {exc}") from None


# ------------------------------------------------------------------------------------------------ to BVH
def positions_motion(skeleton: Skeleton, positions, fps: float = FPS) -> Motion:
    """A Motion at ``fps`` whose forward kinematics (root fixed) give ``positions`` (T, N, 3) or (T, 3N) as closely
    as the skeleton's bone lengths allow (``inverse_kinematics``, root="fixed"; exact for rigid input)."""
    p = _positions(positions)
    return Motion(skeleton, 1.0 / fps, inverse_kinematics(skeleton, p, root="fixed"))


def rotations_motion(skeleton: Skeleton, features, base_values, joints: Sequence[str] = ROTATION_JOINTS,
                     fps: float = FPS) -> Motion:
    """A Motion at ``fps`` of exp-map ``features`` (``rotations_to_values``)."""
    return Motion(skeleton, 1.0 / fps, rotations_to_values(skeleton, features, base_values, joints))


def motion_positions(motion: Motion) -> np.ndarray:
    """(T, 3N) float32 positions of a Motion, root fixed at its offset (the original's FK)."""
    p = forward_kinematics(motion, root="fixed")
    return p.reshape(len(p), -1).astype(np.float32)


__all__ = ["FPS", "VALUES_PER_NODE", "ROTATION_JOINTS", "EXPMAP_AXES", "with_velocity", "remove_velocity",
           "position_names", "rotation_names", "rotation_columns", "rotation_features", "rotations_to_values",
           "skeleton_to_json", "skeleton_from_json", "positions_motion", "rotations_motion", "motion_positions"]
