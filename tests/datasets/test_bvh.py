import io
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from zoo.datasets.bvh import (
    GESTURE_CHANNELS,
    GESTURE_FRAME_TIMES,
    Motion,
    Skeleton,
    bvh_text,
    euler_to_matrix,
    expmap_to_matrix,
    forward_kinematics,
    gesture_skeleton,
    inverse_kinematics,
    matrix_to_euler,
    matrix_to_expmap,
    matrix_to_quaternion,
    parent_table,
    parse_bvh,
    parse_hierarchy,
    positions,
    quaternion_to_matrix,
    read_bvh,
    to_fps,
    write_bvh,
)
from zoo.datasets.errors import DataError

# evaluation/joints.txt of the original: the 64 nodes in file order, End Sites named Site1..Site13.
JOINT_NAMES = (
    "Hips", "Spine", "Spine1", "Neck", "Head", "Site1", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
    "LeftHandThumb1", "LeftHandThumb2", "LeftHandThumb3", "Site2", "LeftHandIndex1", "LeftHandIndex2",
    "LeftHandIndex3", "Site3", "LeftHandMiddle1", "LeftHandMiddle2", "LeftHandMiddle3", "Site4", "LeftHandRing1",
    "LeftHandRing2", "LeftHandRing3", "Site5", "LeftHandPinky1", "LeftHandPinky2", "LeftHandPinky3", "Site6",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand", "RightHandThumb1", "RightHandThumb2",
    "RightHandThumb3", "Site7", "RightHandIndex1", "RightHandIndex2", "RightHandIndex3", "Site8",
    "RightHandMiddle1", "RightHandMiddle2", "RightHandMiddle3", "Site9", "RightHandRing1", "RightHandRing2",
    "RightHandRing3", "Site10", "RightHandPinky1", "RightHandPinky2", "RightHandPinky3", "Site11", "LeftUpLeg",
    "LeftLeg", "LeftFoot", "LeftToeBase", "Site12", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase", "Site13",
)
BUNDLED = Path(__file__).resolve().parents[2] / "datasets" / "data" / "gesture_hierarchy.txt"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "gesture" / "hierarchy.txt"
ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")
HALF_ULP_6 = 0.5e-6 + 1e-9  # a value printed with 6 decimals is within this of the original


def spec_parent(i: int) -> int:
    """specs/gesture_ae.md §1.4: node 0 none; 6, 30 -> 2; 14, 18, 22, 26 -> 9; 38, 42, 46, 50 -> 33; 54, 59 -> 0."""
    table = {0: -1, 6: 2, 30: 2, 14: 9, 18: 9, 22: 9, 26: 9, 38: 33, 42: 33, 46: 33, 50: 33, 54: 0, 59: 0}
    return table.get(i, i - 1)


def smooth_values(skeleton, frames, amplitude=60.0, seed=0, root_shift=(0.0, 0.0, 0.0)):
    """Random smooth channel values: rotations = sums of sines within ±amplitude degrees, positions = offsets
    (the root moves by a sine around offset + root_shift)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / 24.0
    values = np.zeros((frames, skeleton.num_channels))
    for node in skeleton.joints:
        for k, channel in enumerate(skeleton.channels[node]):
            column = skeleton.channel_slices[node].start + k
            axis = "XYZ".index(channel[0])
            if channel.endswith("rotation"):
                wave = sum(np.sin(2 * np.pi * rng.uniform(0.1, 1.0) * t + rng.uniform(0, 2 * np.pi)) for _ in range(2))
                values[:, column] = amplitude * wave[:, 0] / 2
            elif node == 0:
                values[:, column] = skeleton.offsets[0, axis] + root_shift[axis] + 3 * np.sin(t[:, 0] + axis)
            else:
                values[:, column] = skeleton.offsets[node, axis]
    return values


def cumulative_offsets(skeleton) -> np.ndarray:
    """T-pose positions: each node's offset summed along its ancestor chain (by walking the parent links)."""
    out = np.zeros((skeleton.num_nodes, 3))
    for i in range(skeleton.num_nodes):
        j = i
        while j >= 0:
            out[i] += skeleton.offsets[j]
            j = skeleton.parents[j]
    return out


def test_bundled_hierarchy_is_the_shared_file():
    if not SHARED.is_file():
        pytest.skip(f"shared gesture data not found at {SHARED}")
    assert BUNDLED.read_bytes() == SHARED.read_bytes()


def test_gesture_skeleton_matches_the_spec():
    rot, data = gesture_skeleton("rotation"), gesture_skeleton()
    for skeleton in (rot, data):
        assert skeleton.num_nodes == 64 and len(skeleton.joints) == 51
        assert skeleton.names == JOINT_NAMES
        assert parent_table(skeleton).tolist() == [spec_parent(i) for i in range(64)]
        np.testing.assert_array_equal(skeleton.offsets[0], [0.0, 60.0, 0.0])
        assert len(skeleton.end_sites) == 13 and all(skeleton.names[i].startswith("Site") for i in skeleton.end_sites)
    assert rot.num_channels == 153 and set(rot.channels[j] for j in rot.joints) == {("Zrotation", "Xrotation",
                                                                                     "Yrotation")}
    assert data.num_channels == 306 and all(data.channels[j] == GESTURE_CHANNELS for j in data.joints)
    assert rot.offsets[rot.index("LeftForeArm")].tolist() == [-15.3019, 0.0, 0.0]
    assert data.channel_index("LeftArm", "Zrotation") == 6 * 6 + 3
    assert GESTURE_FRAME_TIMES == (1 / 24, 1 / 100)


def test_tpose_fk_is_cumulative_offsets():
    for skeleton in (gesture_skeleton("rotation"), gesture_skeleton()):
        values = np.zeros((3, skeleton.num_channels))
        for node in skeleton.joints:  # position channels at the offsets, as in a rest pose
            for k, channel in enumerate(skeleton.channels[node]):
                if channel.endswith("position"):
                    values[:, skeleton.channel_slices[node].start + k] = skeleton.offsets[node, "XYZ".index(channel[0])]
        for root in ("fixed", "keep"):
            np.testing.assert_allclose(positions(skeleton, values, root=root),
                                       np.broadcast_to(cumulative_offsets(skeleton), (3, 64, 3)), atol=1e-12)


def test_hand_checked_rotations():
    skeleton = gesture_skeleton("rotation")
    arm = np.array([-9.42658, 86.949319, 0.333555])  # (0,60,0)+(0,4.744019,0)+(0,11.747704,0)+LeftShoulder+LeftArm
    fore, hand = 15.3019, 17.165703
    column = skeleton.channel_index("LeftArm", "Zrotation")
    values = np.zeros((3, skeleton.num_channels))
    values[0, column] = 90.0  # R_z(90) turns the -x bone to -y: the arm hangs down
    values[1, [column, column + 2]] = 90.0  # Z then Y (intrinsic): R_z(90)·R_y(90)·(-1,0,0) = (0,0,1)
    values[2, column + 1] = 90.0  # X is along the bone: no change of the forearm and hand
    p = positions(skeleton, values)
    fa, lh = skeleton.index("LeftForeArm"), skeleton.index("LeftHand")
    np.testing.assert_allclose(p[:, skeleton.index("LeftArm")], [arm] * 3, atol=1e-9)
    np.testing.assert_allclose(p[0, [fa, lh]], [arm + [0, -fore, 0], arm + [0, -fore - hand, 0]], atol=1e-9)
    np.testing.assert_allclose(p[1, [fa, lh]], [arm + [0, 0, fore], arm + [0, 0, fore + hand]], atol=1e-9)
    np.testing.assert_allclose(p[2, [fa, lh]], [arm + [-fore, 0, 0], arm + [-fore - hand, 0, 0]], atol=1e-9)


def test_root_fixed_vs_keep():
    skeleton = gesture_skeleton()
    values = smooth_values(skeleton, 10, seed=1, root_shift=(5.0, -4.0, 12.0))
    motion = Motion(skeleton, 1 / 24, values)
    fixed, keep = forward_kinematics(motion), forward_kinematics(motion, root="keep")
    np.testing.assert_allclose(fixed[:, 0], np.broadcast_to([0, 60, 0], (10, 3)))
    np.testing.assert_allclose(keep[:, 0], values[:, :3])
    # same pose (root rotation applied in both), translated by the root's displacement
    np.testing.assert_allclose(keep - fixed, np.broadcast_to((values[:, :3] - [0, 60, 0])[:, None], keep.shape),
                               atol=1e-9)
    with pytest.raises(ValueError, match="root"):
        forward_kinematics(motion, root="free")


@pytest.mark.parametrize("order", ORDERS)
def test_euler_round_trip_and_transforms3d(order):
    import transforms3d

    rng = np.random.default_rng(3)
    angles = rng.uniform(-180, 180, (200, 3))
    angles[:, 1] = rng.uniform(-89, 89, 200)
    angles[:5, 1] = [90, -90, 90, -90, 89.9999999]  # gimbal lock
    R = euler_to_matrix(angles, order)
    reference = transforms3d.euler.euler2mat(*np.radians(angles[7]), "r" + order.lower())
    np.testing.assert_allclose(R[7], reference, atol=1e-12)
    back = matrix_to_euler(R, order)
    np.testing.assert_allclose(euler_to_matrix(back, order), R, atol=1e-9)
    np.testing.assert_allclose(back[5:], angles[5:], atol=1e-8)
    near = angles + rng.normal(0, 3, angles.shape) + 360 * rng.integers(-2, 3, angles.shape)
    picked = matrix_to_euler(R[5:], order, reference=near[5:])
    np.testing.assert_allclose(picked, angles[5:] + 360 * np.round((near[5:] - angles[5:]) / 360), atol=1e-8)


def test_quaternion_and_expmap():
    rng = np.random.default_rng(4)
    R = euler_to_matrix(rng.uniform(-180, 180, (500, 3)), "ZXY")
    np.testing.assert_allclose(quaternion_to_matrix(matrix_to_quaternion(R)), R, atol=1e-12)
    np.testing.assert_allclose(expmap_to_matrix(matrix_to_expmap(R)), R, atol=1e-12)
    np.testing.assert_allclose(matrix_to_expmap(euler_to_matrix([0, 0, 90], "XYZ")), [0, 0, math.pi / 2], atol=1e-12)
    np.testing.assert_allclose(matrix_to_quaternion(euler_to_matrix([90, 0, 0], "XYZ")),
                               [math.sqrt(0.5), math.sqrt(0.5), 0, 0], atol=1e-12)
    tiny = rng.normal(size=(4, 3)) * 1e-9
    np.testing.assert_allclose(matrix_to_expmap(expmap_to_matrix(tiny)), tiny, atol=1e-15)
    assert np.all(np.linalg.norm(matrix_to_expmap(R), axis=-1) <= math.pi + 1e-12)


def mixed_skeleton() -> Skeleton:
    """A small skeleton with varied channel sets and orders, a leaf joint without End Site and two End Sites."""
    return Skeleton(
        names=("Root", "A", "B", "Site1", "C", "D", "Site2", "E"),
        parents=(-1, 0, 1, 2, 0, 4, 5, 0),
        offsets=np.array([[1.5, 90.25, -2.0], [0, 10.125, 0], [3.5, 0, 1], [0, 4, 0], [-8, 1, 0.5], [0, -20, 0],
                          [0, -5.5, 0], [2, 2, 2]]),
        channels=(("Zposition", "Xposition", "Yposition", "Yrotation", "Xrotation", "Zrotation"),
                  ("Xrotation", "Yrotation", "Zrotation"), ("Zrotation",), (), ("Yrotation", "Zrotation", "Xrotation"),
                  ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"), (),
                  ("Xrotation", "Zrotation")),
    )


@pytest.mark.parametrize("frame_time", [1 / 24, 1 / 30, 0.01, 1 / 120, 0.0333333])
def test_write_read_round_trip(tmp_path, frame_time):
    for skeleton in (mixed_skeleton(), gesture_skeleton(), gesture_skeleton("rotation")):
        values = smooth_values(skeleton, 9, amplitude=170, seed=5)
        motion = Motion(skeleton, frame_time, values, source="made")
        path = write_bvh(tmp_path / "m.bvh", motion)
        back = read_bvh(path)
        assert back.skeleton == skeleton and back.source == str(path) and back.num_frames == 9
        np.testing.assert_allclose(back.values, values, rtol=0, atol=HALF_ULP_6)
        assert abs(back.frame_time - frame_time) <= 1e-6 * frame_time
        assert bvh_text(back) == path.read_text()  # printing is stable


def test_any_whitespace_and_brace_placement():
    skeleton = mixed_skeleton()
    motion = Motion(skeleton, 0.05, smooth_values(skeleton, 4, seed=6))
    text = bvh_text(motion)
    scrambled = re.sub(r"(JOINT \w+)\n\s*\{", r"\1 {", text)  # braces on the JOINT line
    scrambled = scrambled.replace("\t", "  \t ").replace("\n", "\r\n").replace(" ", "   \t")
    scrambled = scrambled.replace("OFFSET   \t", "OFFSET\n   ")  # an OFFSET's numbers on the next line
    assert scrambled != text
    back = parse_bvh(scrambled, "scrambled.bvh")
    assert back.skeleton == parse_bvh(text).skeleton
    np.testing.assert_array_equal(back.values, parse_bvh(text).values)


def test_hierarchy_text_parses_like_the_file():
    text = BUNDLED.read_text()
    assert parse_hierarchy(text, BUNDLED) == gesture_skeleton("rotation")
    with pytest.raises(DataError, match=r"x\.txt: line 309: expected MOTION after the hierarchy, found 'JOINT'"):
        parse_hierarchy(text.rstrip() + "\nJOINT Extra\n", "x.txt")


def test_dataset_layout():
    skeleton = gesture_skeleton()
    values = smooth_values(skeleton, 7, seed=7)
    text = bvh_text(Motion(skeleton, 1 / 24, values))
    lines = text.splitlines()
    assert lines[308:311] == ["MOTION", "Frames: 7", "Frame Time: 0.0416667"]
    assert len(lines) == 311 + 7 and all(len(line.split()) == 306 for line in lines[311:])
    # The hierarchy lines are hierarchy.txt's, with the dataset's 6 channels a joint (whitespace aside: this
    # writer indents the root's OFFSET with a tab where the file has two spaces).
    six = "CHANNELS 6 " + " ".join(GESTURE_CHANNELS)
    expected = [" ".join(line.split()).replace("CHANNELS 3 Zrotation Xrotation Yrotation", six)
                for line in BUNDLED.read_text().splitlines()[:308]]
    assert [" ".join(line.split()) for line in lines[:308]] == expected
    # The original's hard-coded reader: lines 0..310 dropped, line 310 holds the frame time.
    assert float(lines[310].split()[-1]) == 0.0416667
    frames = np.array([[float(v) for v in line.split()] for line in lines[311:]])
    np.testing.assert_allclose(frames, values, atol=HALF_ULP_6)
    assert bvh_text(Motion(skeleton, 0.01, values)).splitlines()[310] == "Frame Time: 0.01"


def test_bvhtoolbox_reads_our_file(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bvhtoolbox imports the deprecated pkg_resources
        import bvhtoolbox
    skeleton = mixed_skeleton()
    values = smooth_values(skeleton, 6, seed=8)
    path = write_bvh(tmp_path / "ours.bvh", Motion(skeleton, 1 / 30, values))
    tree = bvhtoolbox.BvhTree(path.read_text())
    joints = [skeleton.names[i] for i in range(skeleton.num_nodes) if i not in skeleton.end_sites]
    assert tree.get_joints_names() == joints
    for name in joints:
        node = skeleton.index(name)
        assert tree.joint_offset(name) == pytest.approx(tuple(skeleton.offsets[node]), abs=1e-12)
        assert tuple(tree.joint_channels(name)) == skeleton.channels[node]
    assert tree.nframes == 6 and tree.frame_time == pytest.approx(1 / 30, rel=1e-6)
    np.testing.assert_allclose(bvhtoolbox.get_motion_data(tree), values, atol=HALF_ULP_6)
    # bvhtoolbox's own FK (transforms3d affines; root at its position channels) agrees with ours (root="keep")
    world = {}
    for name in joints:
        node = skeleton.index(name)
        order = "".join(c[0] for c in skeleton.channels[node] if c.endswith("rotation"))
        affine = bvhtoolbox.get_affines(tree, name, axes="s" + order[::-1].lower()) if len(order) == 3 else None
        if affine is None:  # bvhtoolbox's Euler helpers need three rotation channels: build from our matrices
            affine = np.tile(np.eye(4), (6, 1, 1))
            cols = [skeleton.channel_slices[node].start + k for k, c in enumerate(skeleton.channels[node])
                    if c.endswith("rotation")]
            affine[:, :3, :3] = euler_to_matrix(read_bvh(path).values[:, cols], order)
        parent = skeleton.parents[node]
        if parent >= 0:
            affine[:, :3, 3] = skeleton.offsets[node]
            affine = world[skeleton.names[parent]] @ affine
        world[name] = affine
    ours = forward_kinematics(read_bvh(path), root="keep")
    for name in joints:  # bvhtoolbox zeroes matrix entries below 1e-8
        np.testing.assert_allclose(world[name][:, :3, 3], ours[:, skeleton.index(name)], atol=1e-6)


def test_our_reader_reads_bvhtoolbox_output():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import bvhtoolbox
    skeleton = gesture_skeleton()
    template = bvh_text(Motion(skeleton, 1 / 24, np.zeros((5, 306))))  # set_motion_data keeps "Frames:"
    tree = bvhtoolbox.BvhTree(template)
    values = smooth_values(skeleton, 5, seed=9)
    bvhtoolbox.set_motion_data(tree, values)
    stream = io.StringIO()
    tree.write(stream)  # bvhtoolbox's writer: two-space indentation, values printed with repr()
    text = stream.getvalue()
    assert "  JOINT Spine" in text and "Frame Time: 0.0416667" in text
    motion = parse_bvh(text, "bvhtoolbox.bvh")
    assert motion.skeleton == skeleton and motion.num_frames == 5
    np.testing.assert_array_equal(motion.values, values)  # repr() round-trips exactly


GOOD = """HIERARCHY
ROOT Hips
{
\tOFFSET 0 60 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT Spine
\t{
\t\tOFFSET 0 5 0
\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 7 0
\t\t}
\t}
}
MOTION
Frames: 2
Frame Time: 0.0416667
0 60 0 1 2 3 4 5 6
0 60 0 1 2 3 4 5 7
"""


@pytest.mark.parametrize("edit, line, cause", [
    (lambda t: t.replace("4 5 7", "4 5"), 20, "frame 2 has 8 values, expected 9"),
    (lambda t: t.replace("Frames: 2\n", ""), 17, "missing 'Frames:' line"),
    (lambda t: t.replace("Frame Time: 0.0416667\n", ""), 18, "missing 'Frame Time:' line"),
    (lambda t: t.replace("Frames: 2", "Frames: 3"), 17, "'Frames: 3' but the file has 2 frame lines"),
    (lambda t: t + "0 60 0 1 2 3 4 5 8\n", 21, "more frame lines than 'Frames: 2'"),
    (lambda t: t.replace("4 5 7", "4 x5 7"), 20, "value 8 (Spine.Xrotation) 'x5' is not a number"),
    (lambda t: t.replace("2 3 4 5 6", "2 3 nan 5 6"), 19, "value 7 (Spine.Zrotation) is nan: NaN/inf"),
    (lambda t: t.replace("4 5 7", "4 inf 7"), 20, "is inf: NaN/inf values are not allowed"),
    (lambda t: t.replace("Zrotation Xrotation Yrotation\n\t\tEnd", "Zrotation Xrotaton Yrotation\n\t\tEnd"), 9,
     "unknown channel name 'Xrotaton' in JOINT Spine"),
    (lambda t: t.replace("\t}\n}\nMOTION", "\t}\nMOTION"), 15, "the '{' of ROOT Hips (line 3) is never closed"),
    (lambda t: t.replace("\t}\n}\nMOTION", "\t}\n}\n}\nMOTION"), 16, "unbalanced '}'"),
    (lambda t: t.split("MOTION")[0], 15, "no MOTION section"),
    (lambda t: t.replace("CHANNELS 3", "CHANNELS 4"), 10, "CHANNELS 4 of JOINT Spine lists only 3 channel names"),
    (lambda t: t.replace("Frame Time: 0.0416667", "Frame Time: -1"), 18, "Frame Time must be a positive"),
    (lambda t: t.replace("OFFSET 0 5 0", "OFFSET 0 5"), 9, "OFFSET value 3 of JOINT Spine: 'CHANNELS' is not a number"),
    (lambda t: t.replace("JOINT Spine", "JOINT Hips"), 6, "node name 'Hips' is used twice"),
])
def test_malformed_files_name_file_line_and_cause(tmp_path, edit, line, cause):
    path = tmp_path / "bad.bvh"
    assert read_bvh(_write(path, GOOD)).values[1, -1] == 7.0
    with pytest.raises(DataError) as info:
        read_bvh(_write(path, edit(GOOD)))
    message = str(info.value)
    assert message.startswith(f"{path}: line {line}: ") and cause in message, message


def _write(path, text):
    path.write_text(text)
    return path


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="BVH file not found"):
        read_bvh(tmp_path / "none.bvh")
    with pytest.raises(DataError, match="empty BVH file"):
        read_bvh(_write(tmp_path / "empty.bvh", "  \n"))


def _indexed_motion(frame_time, frames=13):
    """A motion whose Xposition channel holds the frame index."""
    skeleton = mixed_skeleton()
    values = np.zeros((frames, skeleton.num_channels))
    values[:, skeleton.channel_index("Root", "Xposition")] = np.arange(frames)
    return Motion(skeleton, frame_time, values, source="clip.bvh")


def test_to_fps_drop_rule():
    column = mixed_skeleton().channel_index("Root", "Xposition")
    for frame_time in (1 / 24, 0.0416667):
        out = to_fps(_indexed_motion(frame_time), 20)
        assert out.frame_time == 1 / 20
        assert out.values[:, column].tolist() == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]
    out = to_fps(_indexed_motion(0.01, frames=23), 20)
    assert out.values[:, column].tolist() == [0, 5, 10, 15, 20]
    same = to_fps(_indexed_motion(0.05), 20)
    np.testing.assert_array_equal(same.values, _indexed_motion(0.05).values)
    with pytest.raises(DataError, match=r"clip\.bvh: frame time 0\.03333333 s \(30 fps\)"):
        to_fps(_indexed_motion(1 / 30), 20)
    with pytest.raises(DataError, match="clip.bvh"):
        to_fps(_indexed_motion(1 / 24), 25)


def test_to_fps_interpolation():
    skeleton = mixed_skeleton()
    frames, frame_time = 25, 1 / 24  # 1 s: 21 frames at 20 fps
    t = np.arange(frames) * frame_time
    values = np.zeros((frames, skeleton.num_channels))
    values[:, 0:3] = np.array([1.0, -2.0, 0.5]) + np.outer(t, [3.0, 7.0, -4.0])  # linear root translation
    values[:, 3:6] = [40.0, -75.0, 130.0]  # a constant rotation
    a = skeleton.channel_slices[skeleton.index("A")]
    values[:, a] = np.stack([np.zeros(frames), 200.0 * t, np.zeros(frames)], axis=1)  # one axis turning steadily
    out = to_fps(Motion(skeleton, frame_time, values), 20, method="interpolate")
    t20 = np.arange(21) / 20
    assert out.num_frames == 21 and out.frame_time == 1 / 20
    np.testing.assert_allclose(out.values[:, 0:3], np.array([1.0, -2.0, 0.5]) + np.outer(t20, [3.0, 7.0, -4.0]),
                               atol=1e-12)
    np.testing.assert_allclose(out.values[:, 3:6], np.broadcast_to([40.0, -75.0, 130.0], (21, 3)), atol=1e-9)
    np.testing.assert_allclose(out.values[:, a], np.stack([0 * t20, 200.0 * t20, 0 * t20], axis=1), atol=1e-9)
    # Slerp follows the shorter arc between frames, so crossing ±180 stays continuous.
    wrap = values.copy()
    wrap[:, 3] = 170.0 + 20.0 * np.arange(frames)
    y = to_fps(Motion(skeleton, frame_time, wrap), 20, method="interpolate").values[:, 3]
    np.testing.assert_allclose(y, 170.0 + 20.0 * 24 * t20, atol=1e-9)


def test_inverse_kinematics_error_bound():
    """Design: every bone is aligned exactly, so rigid input (FK of any angles) is reproduced to rounding error."""
    skeleton = gesture_skeleton()
    values = smooth_values(skeleton, 60, amplitude=60, seed=10, root_shift=(4.0, 2.0, -6.0))
    for root in ("keep", "fixed"):
        target = positions(skeleton, values, root=root)
        solved = inverse_kinematics(skeleton, target, root=root)
        error = np.linalg.norm(positions(skeleton, solved, root=root) - target, axis=-1)
        assert error.max() < 1e-9, (root, error.max())
    pos_columns = [skeleton.channel_slices[j].start + k for j in skeleton.joints for k in range(3)]
    np.testing.assert_allclose(solved[:, pos_columns[3:]], values[:, pos_columns[3:]], atol=1e-12)  # the offsets
    np.testing.assert_allclose(solved[:, :3], np.broadcast_to([0, 60, 0], (60, 3)))  # root="fixed": the offset
    # Another channel order and subsets: the rigid joint E (2 rotation channels, no children) is fine.
    mixed = mixed_skeleton()
    mixed = Skeleton(mixed.names, mixed.parents, mixed.offsets,
                     mixed.channels[:2] + (("Xrotation", "Zrotation", "Yrotation"),) + mixed.channels[3:])
    target = positions(mixed, smooth_values(mixed, 20, seed=11), root="keep")
    np.testing.assert_allclose(positions(mixed, inverse_kinematics(mixed, target, root="keep"), root="keep"),
                               target, atol=1e-9)
    # Noisy (non-rigid) positions: the nearest pose with the skeleton's bone lengths, closer than the noise itself.
    rng = np.random.default_rng(12)
    target = positions(skeleton, values, root="keep")
    noisy = target + rng.normal(0, 0.2, target.shape)
    fitted = positions(skeleton, inverse_kinematics(skeleton, noisy, root="keep"), root="keep")
    assert np.linalg.norm(fitted - noisy, axis=-1)[:, 1:].mean() < np.linalg.norm(target - noisy, axis=-1).mean()


def test_inverse_kinematics_refuses_partial_rotations():
    with pytest.raises(ValueError, match="joint 'B' has children but only the rotation channels Z"):
        inverse_kinematics(mixed_skeleton(), np.zeros((1, 8, 3)))


def test_motion_validation():
    skeleton = mixed_skeleton()
    with pytest.raises(DataError, match="must be \\(frames, 21\\)"):
        Motion(skeleton, 0.1, np.zeros((2, 20)))
    bad = np.zeros((2, 21))
    bad[1, 4] = np.nan
    with pytest.raises(DataError, match="src.bvh: .*frame 1, channel Root.Xrotation"):
        Motion(skeleton, 0.1, bad, source="src.bvh")
    with pytest.raises(DataError, match="positive"):
        Motion(skeleton, 0.0, np.zeros((2, 21)))
    motion = Motion(skeleton, 0.04, np.zeros((3, 21)))
    assert motion.fps == 25 and motion.num_frames == 3 and not motion.values.flags.writeable
