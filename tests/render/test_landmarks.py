"""zoo.render.landmarks: fixed axes (where every point lands, no autoscale, upright), contours, the reference overlay
and the image panel, the MP4 (frames, the exact 100/3 fps, audio), the no-TensorFlow child and bad input."""
from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from zoo.datasets import DataError
from zoo.datasets.video import ffmpeg_exe, read_video, read_video_audio
from zoo.render import render_landmark_video
from zoo.render.face import run_child, text_mask
from zoo.render.landmarks import (
    EDGES,
    LINE_TINT,
    PREDICTED_COLOR,
    REFERENCE_COLOR,
    draw_landmark_frames,
    landmark_pixels,
    panel_margin,
)

S = 128                      # panel size in most tests: margin m = 13 px, box B = S − 2m = 102 px
BOX = S - 2 * 13
FPS = Fraction(100, 3)       # the 30 ms landmark grid


def _face() -> np.ndarray:
    """A realistic 68-point face (the synthetic f1's projected landmarks), min-max normalised into [0.25, 0.75]²."""
    from zoo.datasets.synthetic import geometry

    lm = geometry.project(geometry.landmarks3d(geometry.template("f1")), 256).astype(np.float64)
    unit = (lm - lm.min(axis=0)) / np.ptp(lm, axis=0)
    return (0.25 + 0.5 * unit).astype(np.float32)                      # (68, 2)


def _darkness(frame: np.ndarray) -> np.ndarray:
    """Per-pixel coverage by the predicted colour on white, from the red channel: (255 − R) / (255 − R_pred)."""
    return (255.0 - frame[..., 0].astype(np.float64)) / (255.0 - PREDICTED_COLOR[0])


def _centroid(frame: np.ndarray) -> np.ndarray:
    """Coverage-weighted (x, y) of the drawing in continuous pixel coordinates (pixel j spans [j, j + 1))."""
    w = _darkness(frame)
    ys, xs = np.mgrid[:w.shape[0], :w.shape[1]]
    return np.array([(w * (xs + 0.5)).sum(), (w * (ys + 0.5)).sum()]) / w.sum()


def test_fixed_axes_map_the_unit_box_to_the_panel_upright():
    assert panel_margin(128) == 13 and panel_margin(256) == 26 and panel_margin(64) == 13
    np.testing.assert_allclose(landmark_pixels(np.array([[0.5, 0.5], [0, 0], [1, 1], [0.25, 0.75]] * 17), S)[:4],
                               [[64, 64], [13, 13], [115, 115], [38.5, 89.5]], atol=1e-5)
    # all 68 points at (0.5, 0.5): one disc, centred on the panel centre
    centre = draw_landmark_frames(np.full((1, 136), 0.5, np.float32), image_size=S, labels=False)[0]
    np.testing.assert_allclose(_centroid(centre), [64.0, 64.0], atol=0.05)
    # every point of a face lands at its mapped pixel, which holds the dot's full colour; y grows downward (the chin,
    # point 8, below the brows 17-26), so the face is upright without a flip
    face = _face()
    frame = draw_landmark_frames(face[None], image_size=S, labels=False)[0]
    px = landmark_pixels(face, S)
    cols, rows = px[:, 0].astype(int), px[:, 1].astype(int)
    assert np.abs(frame[rows, cols].astype(int) - PREDICTED_COLOR).max() <= 1
    assert rows[8] > rows[17:27].max() + 40 and rows[8] == int(13 + BOX * face[8, 1])


def test_no_autoscale_identical_vectors_draw_identical_pixels_and_translations_move():
    face = _face()
    shift = np.array([10, -5], np.float32) / BOX                        # exactly (10, −5) px
    centre = np.float32(0.5)
    seq = np.stack([face, face + shift, face, centre + 0.5 * (face - centre)])
    frames = draw_landmark_frames(seq, image_size=S, labels=False)
    assert frames.shape == (4, S, S, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames[0], frames[2])                         # same vector, same pixels
    # a pure translation moves the drawing by the mapped amount, and only moves it
    np.testing.assert_allclose(_centroid(frames[1]) - _centroid(frames[0]), [10, -5], atol=0.05)
    moved = np.roll(frames[0], (-5, 10), axis=(0, 1)).astype(int)
    assert np.abs(frames[1].astype(int) - moved).max() <= 2
    # half the size stays half the size (per-frame autoscale would blow it back up to fill the panel)
    def spread(frame):
        w = _darkness(frame)
        ys, xs = np.nonzero(w > 0.5)
        return np.array([np.ptp(xs), np.ptp(ys)], float)
    ratio = spread(frames[3]) / spread(frames[0])
    np.testing.assert_allclose(ratio, 0.5, atol=0.05)
    np.testing.assert_allclose(_centroid(frames[3]), _centroid(frames[0]) + 0.5 * (64 - _centroid(frames[0])),
                               atol=1.0)


def test_contours_join_the_ibug_groups():
    edges = {tuple(e) for e in EDGES.tolist()}
    assert len(EDGES) == 63 and len(edges) == 63
    assert {(0, 1), (15, 16), (20, 21), (22, 23), (27, 28), (29, 30), (31, 32), (34, 35)} <= edges
    assert {(41, 36), (47, 42), (59, 48), (67, 60)} <= edges                 # the closed loops
    assert not {(16, 17), (21, 22), (26, 27), (30, 31), (35, 36), (47, 48), (59, 60)} & edges
    face = _face()
    frame = draw_landmark_frames(face[None], image_size=256, labels=False)[0]
    px = landmark_pixels(face, 256)
    # joined (the nose bridge 27-28): a row across the line holds the line's tint with coverage α summing to the
    # line width, max(1, 256 / 256) = 1 px, centred on the line
    tint = PREDICTED_COLOR + LINE_TINT * (255 - PREDICTED_COLOR)
    mid = (px[27] + px[28]) / 2
    cols = np.arange(int(mid[0]) - 4, int(mid[0]) + 5)
    row = frame[int(mid[1]), cols].astype(np.float64)
    alpha = (255 - row) @ (255 - tint) / ((255 - tint) @ (255 - tint))
    assert np.abs(255 - row - alpha[:, None] * (255 - tint)).max() < 2.0      # only the tint, no other colour
    assert alpha.sum() == pytest.approx(1.0, abs=0.05)
    line_x = px[27, 0] + (int(mid[1]) + 0.5 - px[27, 1]) / (px[28, 1] - px[27, 1]) * (px[28, 0] - px[27, 0])
    assert (alpha * (cols + 0.5)).sum() / alpha.sum() == pytest.approx(line_x, abs=0.1)
    in_eye = ((px[36] + px[39]) / 2).astype(int)                           # inside the eye: white
    assert (frame[in_eye[1], in_eye[0]] == 255).all()


def test_reference_overlay_image_panel_and_labels():
    face = _face()
    n = 3
    ref = np.repeat(face[None], n, axis=0)                                 # in [0.25, 0.75]²
    pred = 0.5 * (ref - np.float32(0.25))                                  # in [0, 0.25]²: apart from it
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    images = np.repeat(np.repeat(small, 4, axis=1), 4, axis=2)             # (n, 32, 32, 3) blocks
    frames = draw_landmark_frames(pred, reference=ref, images=images, image_size=64, labels=False)
    assert frames.shape == (n, 64, 128, 3)
    np.testing.assert_array_equal(frames[:, :, 64:], np.repeat(np.repeat(images, 2, axis=1), 2, axis=2))  # nearest
    for points, colour in ((ref[0], REFERENCE_COLOR), (pred[0], PREDICTED_COLOR)):   # each set's dots, its colour
        px = landmark_pixels(points, 64).astype(int)
        assert np.abs(frames[0][px[:, 1], px[:, 0]].astype(int) - colour).max() <= 1
    # area averaging for an integer downscale, and a non-square image keeps its aspect ratio
    big = np.repeat(np.repeat(small, 16, axis=1), 16, axis=2)              # (n, 128, 128, 3) → 64: exact blocks
    assert np.array_equal(draw_landmark_frames(pred, images=big, image_size=64, labels=False)[:, :, 64:],
                          frames[:, :, 64:])
    wide = draw_landmark_frames(pred, images=np.zeros((n, 32, 48, 3), np.uint8), image_size=64)
    assert wide.shape == (n, 64, 64 + 96, 3)
    # labels: the 5×7 font at scale 1 (S = 128), 3 px in from the panel edge, in the set's colour
    labelled = draw_landmark_frames(pred[:1], reference=ref[:1], images=images[:1], image_size=S)[0]
    for text, top, x0, colour in (("predicted", S - 10, 3, PREDICTED_COLOR), ("ground truth", 3, 3, REFERENCE_COLOR),
                                  ("generated", S - 10, S + 3, (235, 235, 235))):
        mask = text_mask(text, 1)
        region = labelled[top:top + 7, x0:x0 + mask.shape[1]].astype(int)
        assert np.abs(region[mask] - np.round(colour)).max() <= 1 and np.abs(region[~mask] - colour).max() > 50


def _frame_rate(path) -> Fraction:
    """The video stream's exact frame rate: its time base (ffmpeg's "tbn") over the constant pts step (showinfo)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v", "-vf", "showinfo",
                           "-f", "null", "-"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tbn = int(re.search(r"(\d+) tbn", proc.stderr).group(1))
    pts = np.array([int(p) for p in re.findall(r"\bpts:\s*(-?\d+)", proc.stderr)])
    steps = set(np.diff(pts).tolist())
    assert len(steps) == 1, f"frames are not evenly spaced: pts steps {sorted(steps)}"
    return Fraction(tbn, steps.pop())


def test_video_has_every_frame_at_exactly_100_3_fps_and_the_audio(tmp_path, tone, write_wav):
    n = 12
    face = _face()
    seq = face[None] + np.linspace(0, 0.2, n, dtype=np.float32)[:, None, None]   # moving 0.7 px per frame
    images = np.repeat(np.repeat(np.random.default_rng(1).integers(0, 256, (n, 4, 4, 3), dtype=np.uint8), 16, 1),
                       16, 2)
    wav = write_wav("tone.wav", tone(1.0, rate=16000))                     # longer than 12 × 30 ms: cut to 0.36 s
    out = render_landmark_video(seq.reshape(n, 136), FPS, tmp_path / "out" / "lm.mp4", audio_path=wav,
                                images=images, reference=seq[::-1], image_size=64)
    assert out == (tmp_path / "out" / "lm.mp4").absolute()
    assert sorted(p.name for p in out.parent.iterdir()) == ["lm.mp4"]      # no temporaries left behind
    frames, fps = read_video(out)
    assert frames.shape == (n, 64, 128, 3) and fps == pytest.approx(100 / 3, abs=0.01)
    assert _frame_rate(out) == Fraction(100, 3)
    audio = read_video_audio(out, 16000)
    assert abs(audio.size / 16000 - n * 0.03) < 0.05
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 0.1          # the tone, not silence
    # the child drew what draw_landmark_frames draws, frame by frame (up to H.264: compared in luma, which it keeps
    # at full resolution): each decoded frame is nearest to its own drawing
    expected = draw_landmark_frames(seq, reference=seq[::-1], images=images, image_size=64)
    luma = frames @ np.array([0.299, 0.587, 0.114]), expected @ np.array([0.299, 0.587, 0.114])
    assert np.abs(luma[0] - luma[1]).mean() < 3.0
    distance = np.abs(luma[0][:, None, :, :64] - luma[1][None, :, :, :64]).mean(axis=(2, 3))
    assert distance.argmin(axis=1).tolist() == list(range(n))

    silent = render_landmark_video(seq[:3], 100 / 3, tmp_path / "silent.mp4", image_size=64, labels=False)
    frames, _ = read_video(silent)
    assert frames.shape == (3, 64, 64, 3) and _frame_rate(silent) == Fraction(100, 3)
    with pytest.raises(DataError):
        read_video_audio(silent, 16000)


def test_child_never_imports_tensorflow(tmp_path):
    npz = tmp_path / "l.npz"
    np.savez(npz, landmarks=_face().reshape(1, 136))
    out = tmp_path / "l.mp4"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo.render", "landmarks", "--npz", str(npz),
                           "--out", str(out), "--fps", "100/3", "--image-size", "64"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
    assert "zoo.render.landmarks" in imported and "zoo.datasets.video" in imported
    assert not any(name.split(".")[0] in ("tensorflow", "keras", "jax", "torch") for name in imported)
    assert read_video(out)[0].shape == (1, 64, 64, 3)

    script = ("import sys, zoo.render.landmarks; "
              "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tensorflow imported'")
    check = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-2000:]


def test_bad_npz_is_a_runtime_error_naming_the_file(tmp_path):
    npz = tmp_path / "bad.npz"
    np.savez(npz, landmarks=np.zeros((2, 130), np.float32))
    with pytest.raises(RuntimeError) as e:
        run_child(["landmarks", "--npz", str(npz), "--out", str(tmp_path / "x.mp4"), "--fps", "100/3"])
    assert "bad.npz" in str(e.value) and r"must have shape (N, 136)" in str(e.value)
    assert not (tmp_path / "x.mp4").exists()


_GOOD = np.full((3, 136), 0.5, np.float32)


def _nan_at(frame: int, value: int) -> np.ndarray:
    arr = _GOOD.copy()
    arr[frame, value] = np.nan
    return arr


@pytest.mark.parametrize("change, cause", [
    ({"landmarks": _GOOD[:, :135]}, r"landmarks must have shape \(N, 136\)"),
    ({"landmarks": np.zeros((3, 68, 3))}, r"or \(N, 68, 2\)"),
    ({"landmarks": np.zeros((0, 136))}, r"N ≥ 1"),
    ({"landmarks": _nan_at(2, 11)}, r"1 non-finite values .*frame 2, point 5"),
    ({"landmarks": _GOOD * 256}, r"normalised coordinates in \[0, 1\].*128"),
    ({"reference": _GOOD[:2]}, "reference has 2 frames but landmarks have 3"),
    ({"reference": _nan_at(0, 0)}, "reference holds 1 non-finite"),
    ({"images": np.zeros((3, 32, 32, 3), np.float32)}, "images must be uint8"),
    ({"images": np.zeros((3, 32, 32), np.uint8)}, r"images must have shape \(N, H, W, 3\)"),
    ({"images": np.zeros((4, 32, 32, 3), np.uint8)}, "images has 4 frames but landmarks have 3"),
    ({"image_size": 65}, "even integer"),
    ({"image_size": 32}, "≥ 64"),
    ({"fps": 0}, "fps must be positive"),
    ({"fps": float("nan")}, "fps must be positive"),
    ({"audio_path": "missing.wav"}, "audio file not found"),
])
def test_bad_input_is_one_value_error_before_anything_is_written(tmp_path, change, cause):
    kwargs = {"landmarks": _GOOD, "fps": FPS, "image_size": 64, **change}
    if "audio_path" in kwargs:
        kwargs["audio_path"] = tmp_path / kwargs["audio_path"]
    landmarks, fps = kwargs.pop("landmarks"), kwargs.pop("fps")
    with pytest.raises(ValueError, match=cause):
        render_landmark_video(landmarks, fps, tmp_path / "out.mp4", **kwargs)
    assert not any(tmp_path.iterdir())
