"""zoo.render.skeleton: where the stick figure lands, panels and labels, the MP4 (frames, fps, audio), the
no-TensorFlow child and bad input."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from zoo.datasets import DataError
from zoo.datasets.video import read_video, read_video_audio
from zoo.render import render_skeleton_video
from zoo.render.face import run_child, text_mask
from zoo.render.skeleton import (
    BACKGROUND,
    BONE_COLORS,
    CENTRE,
    DOT_COLORS,
    LEFT,
    MARGIN,
    RIGHT,
    body_sides,
    draw_skeleton_frames,
    fit_view,
)

PARENTS = np.array([-1, 0])


def _two_nodes() -> np.ndarray:
    """Root at the origin; node 1 at +x, then −x, then straight up, 10 units away (a figure facing −z)."""
    seq = np.zeros((3, 2, 3), np.float32)
    seq[0, 1] = (10, 0, 0)
    seq[1, 1] = (-10, 0, 0)
    seq[2, 1] = (0, 10, 0)
    return seq


def _blob_centre(frame: np.ndarray, colour) -> np.ndarray:
    """(x, y) in continuous pixel coordinates (pixel j spans [j, j + 1)) of the pixels drawn in ``colour``."""
    ys, xs = np.nonzero(np.abs(frame.astype(np.int16) - np.round(colour)).max(axis=-1) <= 2)
    assert xs.size, f"no pixel of colour {colour}"
    return np.array([xs.mean() + 0.5, ys.mean() + 0.5])


def test_front_view_places_nodes_at_the_expected_pixels():
    seq = _two_nodes()
    size = (128, 96)
    # the camera, by hand: u = −x ∈ [−10, 10], v = y ∈ [0, 10]; m = 0.05·96 = 4.8 px;
    # s = min((128 − 9.6) / 20, (96 − 9.6) / 10) = 5.92 px per unit; (u, v) = (0, 5) at the centre (64, 48)
    assert MARGIN == 0.05
    camera = fit_view(seq, size, "front")
    assert camera.scale == pytest.approx(5.92)
    xy, depth = camera.project(seq)
    np.testing.assert_allclose(xy[:, 1], [[4.8, 77.6], [123.2, 77.6], [64.0, 18.4]], atol=1e-4)
    np.testing.assert_allclose(xy[:, 0], [[64.0, 77.6]] * 3, atol=1e-4)

    frames = draw_skeleton_frames(seq, PARENTS, [CENTRE, LEFT], image_size=size)
    assert frames.shape == (3, 96, 128, 3) and frames.dtype == np.uint8
    assert (frames[:, 0, 0] == np.round(BACKGROUND)).all()
    tip = np.array([_blob_centre(f, DOT_COLORS[LEFT]) for f in frames])
    root = np.array([_blob_centre(f, DOT_COLORS[CENTRE]) for f in frames])
    np.testing.assert_allclose(tip, xy[:, 1], atol=0.75)
    np.testing.assert_allclose(root, xy[:, 0], atol=0.75)
    for f, (x, y) in zip(frames, xy[:, 1]):   # the pixel holding the node is the dot's full colour
        assert np.abs(f[int(y), int(x)].astype(int) - np.round(DOT_COLORS[LEFT])).max() <= 2
    # the viewer faces the figure: world −x appears to the right of +x, world up appears higher (smaller row)
    assert tip[1, 0] - tip[0, 0] == pytest.approx(20 * 5.92, abs=1.0)
    assert tip[0, 0] < root[0, 0] < tip[1, 0]
    assert root[2, 1] - tip[2, 1] == pytest.approx(10 * 5.92, abs=1.0)
    # one camera for all frames: the root stays put while the other node moves
    assert np.ptp(root, axis=0).max() < 0.1
    # the bone between them: anti-aliased, in the node's (left) colour; a column across it holds coverage α
    # (the pixel's fraction of the way from the background to the colour) summing to the line width, 2 px here
    colour = BONE_COLORS[LEFT] - BACKGROUND
    column = frames[1, :, int((root[1, 0] + tip[1, 0]) / 2)].astype(np.float64) - BACKGROUND
    alpha = column @ colour / (colour @ colour)
    assert np.abs(column - alpha[:, None] * colour).max() < 2.0          # no other colour in it
    assert alpha.sum() == pytest.approx(2.0, abs=0.05) and alpha.max() > 0.99
    assert (alpha * (np.arange(96) + 0.5)).sum() / alpha.sum() == pytest.approx(77.6, abs=0.05)


def test_side_view_shows_the_front_of_the_figure_to_the_right():
    seq = np.zeros((2, 2, 3), np.float32)
    seq[:, 1] = (0, 5, -10)      # in front of the figure (it faces −z)
    seq[1, 1, 0] = 50            # moving along x does not move it in the side view
    frames = draw_skeleton_frames(seq, PARENTS, [CENTRE, RIGHT], image_size=(64, 64), view="side")
    tip = np.array([_blob_centre(f, DOT_COLORS[RIGHT]) for f in frames])
    root = _blob_centre(frames[0], DOT_COLORS[CENTRE])
    assert tip[0, 0] > root[0] + 20 and tip[0, 1] < root[1] - 10
    np.testing.assert_allclose(tip[0], tip[1], atol=0.1)


def test_panels_side_by_side_with_labels_and_the_shortest_length():
    pred = np.repeat(_two_nodes()[:1], 5, axis=0)
    truth = _two_nodes()[1:2].repeat(4, axis=0)
    w, h = 160, 128
    frames = draw_skeleton_frames([pred, truth], PARENTS, [CENTRE, LEFT], image_size=(w, h),
                                  labels=["prediction", "ground truth"])
    assert frames.shape == (4, h, 2 * w, 3)
    # the same camera for both panels: the roots sit at the same place in each panel, the tips mirror
    tips = [_blob_centre(frames[0, :, p * w:(p + 1) * w], DOT_COLORS[LEFT]) for p in range(2)]
    roots = [_blob_centre(frames[0, :, p * w:(p + 1) * w], DOT_COLORS[CENTRE]) for p in range(2)]
    np.testing.assert_allclose(roots[0], roots[1], atol=0.1)
    assert tips[0][0] < roots[0][0] < tips[1][0]
    # labels: the 5×7 font at scale h // 128 = 1, 3 px from the panel's bottom-left corner, light grey
    for p, text in enumerate(["prediction", "ground truth"]):
        mask = text_mask(text, 1)
        region = frames[0, h - 3 - 7:h - 3, p * w + 3:p * w + 3 + mask.shape[1]]
        assert (region[mask] == 235).all() and (region[~mask] != 235).any()
    assert text_mask("G", 1).sum() > 10 and text_mask("U", 1).sum() > 10    # letters beyond "prediction"


def test_body_sides_by_name_and_by_position():
    parents = np.array([-1, 0, 1, 2, 0, 4, 0])
    names = ["Hips", "LeftArm", "LeftHand", "Site1", "RightArm", "Site2", "Spine"]
    assert body_sides(parents, names=names).tolist() == [CENTRE, LEFT, LEFT, LEFT, RIGHT, RIGHT, CENTRE]
    rest = np.array([[0, 0, 0], [-20, 0, 0], [-40, 0, 0], [-1, 0, 0], [20, 0, 0], [30, 0, 0], [0, 100, 0]], float)
    # by x relative to the root (left at −x), tolerance 5 units; node 3 (near the midline) inherits its parent's
    assert body_sides(parents, rest[None]).tolist() == [CENTRE, LEFT, LEFT, LEFT, RIGHT, RIGHT, CENTRE]


def test_video_has_every_frame_at_the_exact_fps_and_the_audio(tmp_path, tone, write_wav):
    seq = np.repeat(_two_nodes(), 3, axis=0)[:7]                   # 7 frames
    wav = write_wav("tone.wav", tone(2.0, rate=16000))              # longer than the video: cut to 7 / 20 s
    out = render_skeleton_video([seq, seq[::-1]], PARENTS, 20, tmp_path / "out" / "sk.mp4", audio_path=wav,
                                labels=["prediction", "ground truth"], image_size=(80, 48))
    assert out == (tmp_path / "out" / "sk.mp4").absolute()
    assert sorted(p.name for p in out.parent.iterdir()) == ["sk.mp4"]
    frames, fps = read_video(out)
    assert frames.shape == (7, 48, 160, 3) and fps == pytest.approx(20.0, abs=1e-9)
    audio = read_video_audio(out, 16000)
    assert abs(audio.size / 16000 - 7 / 20) < 0.05
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 0.1
    # the child draws what draw_skeleton_frames draws (up to H.264)
    sides = body_sides(PARENTS, seq)
    expected = draw_skeleton_frames([seq, seq[::-1]], PARENTS, sides, image_size=(80, 48),
                                    labels=["prediction", "ground truth"])
    assert np.abs(frames.astype(float) - expected).mean() < 3.0

    silent = render_skeleton_video(seq, PARENTS, 20, tmp_path / "silent.mp4", image_size=(32, 32))
    frames, fps = read_video(silent)
    assert frames.shape == (7, 32, 32, 3) and fps == pytest.approx(20.0, abs=1e-9)
    with pytest.raises(DataError):
        read_video_audio(silent, 16000)


def test_child_never_imports_tensorflow(tmp_path):
    npz = tmp_path / "s.npz"
    np.savez(npz, seq0=_two_nodes(), parents=PARENTS, sides=np.array([CENTRE, LEFT]))
    out = tmp_path / "s.mp4"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo.render", "skeleton", "--npz", str(npz),
                           "--out", str(out), "--fps", "20", "--width", "32", "--height", "32"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
    assert "zoo.render.skeleton" in imported and "zoo.datasets.video" in imported
    assert not any(name.split(".")[0] in ("tensorflow", "keras", "jax", "torch") for name in imported)
    assert read_video(out)[0].shape == (3, 32, 32, 3)

    script = ("import sys, zoo.render.skeleton; "
              "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tensorflow imported'")
    check = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-2000:]


def test_bad_npz_is_a_runtime_error_naming_the_file(tmp_path):
    npz = tmp_path / "bad.npz"
    np.savez(npz, seq0=_two_nodes(), parents=np.array([-1, 5]))
    with pytest.raises(RuntimeError) as e:
        run_child(["skeleton", "--npz", str(npz), "--out", str(tmp_path / "x.mp4"), "--fps", "20"])
    assert "bad.npz" in str(e.value) and "parents[1] = 5 is out of range" in str(e.value)
    assert not (tmp_path / "x.mp4").exists()


_GOOD = _two_nodes()


@pytest.mark.parametrize("change, cause", [
    ({"sequences": _GOOD[..., :2]}, r"sequences\[0\] must have shape \(T, N, 3\)"),
    ({"sequences": _GOOD.reshape(3, 6)}, r"reshape \(T, 6\) to \(T, 2, 3\)"),
    ({"sequences": np.zeros((0, 2, 3))}, r"T ≥ 1"),
    ({"sequences": np.where(np.arange(6).reshape(1, 2, 3) == 4, np.nan, _GOOD)}, r"non-finite.*frame 0, node 1"),
    ({"sequences": [_GOOD, np.zeros((3, 3, 3))]}, r"sequences\[1\] has 3 nodes but sequences\[0\] has 2"),
    ({"sequences": []}, "empty list"),
    ({"parents": np.array([-1, 2])}, r"parents\[1\] = 2 is out of range"),
    ({"parents": np.array([-2, 0])}, r"parents\[0\] = -2 is out of range"),
    ({"parents": np.array([-1, 1])}, "its own parent"),
    ({"parents": np.array([-1, 0, 1])}, r"parents must have shape \(2,\)"),
    ({"parents": np.array([-1.0, 0.5])}, "parents must be integers"),
    ({"labels": ["prediction", "ground truth"]}, "labels has 2 entries but there are 1 panels"),
    ({"labels": ["a much too long label for this"]}, "fits"),
    ({"names": ["Hips"]}, "names has 1 entries"),
    ({"image_size": (33, 32)}, "even"),
    ({"view": "top"}, "view must be one of"),
    ({"fps": 0}, "fps must be positive"),
    ({"audio_path": "missing.wav"}, "audio file not found"),
])
def test_bad_input_is_one_value_error_before_anything_is_written(tmp_path, change, cause):
    kwargs = {"sequences": _GOOD, "parents": PARENTS, "fps": 20, "image_size": (32, 32), **change}
    if "audio_path" in kwargs:
        kwargs["audio_path"] = tmp_path / kwargs["audio_path"]
    sequences, parents, fps = kwargs.pop("sequences"), kwargs.pop("parents"), kwargs.pop("fps")
    with pytest.raises(ValueError, match=cause):
        render_skeleton_video(sequences, parents, fps, tmp_path / "out.mp4", **kwargs)
    assert not any(tmp_path.iterdir())
