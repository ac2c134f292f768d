"""zoo.render: face videos through the child process, curve plots, and the no-TensorFlow rule."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from zoo.datasets import ARKIT_INDEX, DataError
from zoo.datasets.video import read_video, read_video_audio
from zoo.render import plot_curves, render_face_video
from zoo.render.face import run_child, text_mask
from zoo.render.plots import pick_channels

SIZE = 96
JAW = ARKIT_INDEX["jawOpen"]


def _jaw_ramp(t: int = 30) -> np.ndarray:
    w = np.zeros((t, 52), np.float32)
    w[:, JAW] = np.linspace(0.0, 1.0, t)
    return w


def _regions(size: int):
    """(mouth, forehead) pixel boxes (r0, r1, c0, c1) from the neutral face's projected landmarks."""
    from zoo.datasets.synthetic import geometry

    lm = geometry.project(geometry.landmarks3d(geometry.template("f1")), size)
    mouth = lm[48:68]
    c0, c1 = int(mouth[:, 0].min()), int(np.ceil(mouth[:, 0].max()))
    mouth_box = (int(mouth[:, 1].min()) - 2, int(np.ceil(mouth[:, 1].max())) + 8, c0, c1)
    brow_top = int(lm[17:27, 1].min())
    eyes = lm[36:48, 0]
    forehead_box = (max(brow_top - 12, 0), brow_top - 2, int(eyes.min()), int(np.ceil(eyes.max())))
    return mouth_box, forehead_box


def _mean_diff(a: np.ndarray, b: np.ndarray, box) -> float:
    r0, r1, c0, c1 = box
    return float(np.abs(a[r0:r1, c0:c1].astype(np.float64) - b[r0:r1, c0:c1]).mean())


def test_face_video_with_audio(tmp_path, tone, write_wav):
    wav = write_wav("tone.wav", tone(1.0, rate=16000))
    out = tmp_path / "out" / "face.mp4"
    path = render_face_video(_jaw_ramp(), 30, out, audio_path=wav, image_size=SIZE)
    assert path == out.absolute() and out.is_file() and out.stat().st_size > 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["face.mp4"]  # no temporaries left behind

    frames, fps = read_video(out)
    assert abs(frames.shape[0] - 30) <= 1 and frames.shape[1:] == (SIZE, SIZE, 3)
    assert fps == pytest.approx(30.0)
    audio = read_video_audio(out, 16000)
    assert abs(audio.size / 16000 - 1.0) < 0.1
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 0.1  # the tone, not silence

    mouth, forehead = _regions(SIZE)
    first, last = frames[0], frames[-1]
    assert _mean_diff(first, last, mouth) > 15.0      # the jaw opened
    assert _mean_diff(first, last, forehead) < 2.0    # the forehead stayed put
    assert _mean_diff(first, frames[1], mouth) < _mean_diff(first, last, mouth)


def test_side_by_side_reference(tmp_path):
    pred = np.zeros((6, 52), np.float32)
    ref = _jaw_ramp(6)
    out = render_face_video(pred, 25, tmp_path / "sbs.mp4", reference=ref, image_size=SIZE, identity="m2")
    frames, fps = read_video(out)
    assert frames.shape[1:] == (SIZE, 2 * SIZE, 3) and fps == pytest.approx(25.0)
    mouth, _ = _regions(SIZE)
    left, right = frames[-1][:, :SIZE], frames[-1][:, SIZE:]
    assert _mean_diff(left, right, mouth) > 10.0      # prediction closed, reference open
    with pytest.raises(DataError):
        read_video_audio(out, 16000)                  # no audio was asked for


def test_labels_font():
    mask = text_mask("prediction", 2)
    assert mask.shape == (14, 2 * (10 * 6 - 1)) and mask.any()


def test_child_never_imports_tensorflow(tmp_path):
    npz = tmp_path / "w.npz"
    np.savez(npz, weights=_jaw_ramp(2))
    out = tmp_path / "w.mp4"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo.render", "face", "--npz", str(npz),
                           "--out", str(out), "--fps", "30", "--image-size", "32"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
    assert "zoo.datasets.synthetic.geometry" in imported and "zoo.datasets.video" in imported
    assert not any(name.split(".")[0] in ("tensorflow", "keras", "jax", "torch") for name in imported)
    assert out.is_file()

    script = ("import sys, zoo.render, zoo.render.face, zoo.render.plots, zoo.render.__main__; "
              "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tensorflow imported'")
    check = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-2000:]


def test_child_blocks_tensorflow():
    script = ("from zoo.render.__main__ import _block_imports\n_block_imports()\n"
              "try:\n    import tensorflow\nexcept ImportError:\n    print('blocked')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "blocked", proc.stderr[-2000:]


@pytest.mark.parametrize("content, cause", [
    (b"this is not a zip archive", "not a readable .npz"),
    (None, "missing array 'weights'"),
])
def test_bad_npz_raises_runtime_error(tmp_path, content, cause):
    npz = tmp_path / "bad.npz"
    if content is None:
        np.savez(npz, other=np.zeros(3))
    else:
        npz.write_bytes(content)
    out = tmp_path / "bad.mp4"
    with pytest.raises(RuntimeError) as e:
        run_child(["face", "--npz", str(npz), "--out", str(out), "--fps", "30", "--image-size", "32"])
    assert cause in str(e.value) and "bad.npz" in str(e.value)
    assert not out.exists()


def test_bad_audio_raises_runtime_error(tmp_path):
    wav = tmp_path / "noise.wav"
    wav.write_bytes(b"RIFF....not really a wav file at all")
    out = tmp_path / "x.mp4"
    with pytest.raises(RuntimeError) as e:
        render_face_video(_jaw_ramp(3), 30, out, audio_path=wav, image_size=32)
    assert "noise.wav" in str(e.value) and "AudioError" in str(e.value)
    assert list(tmp_path.iterdir()) == [wav]


def test_bad_identity_and_shapes(tmp_path):
    with pytest.raises(RuntimeError, match="unknown identity"):
        render_face_video(_jaw_ramp(2), 30, tmp_path / "a.mp4", identity="zz", image_size=32)
    with pytest.raises(ValueError, match=r"\(T, 52\)"):
        render_face_video(np.zeros((5, 51)), 30, tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="head_deg has 4 frames"):
        render_face_video(np.zeros((5, 52)), 30, tmp_path / "a.mp4", head_deg=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="even"):
        render_face_video(np.zeros((5, 52)), 30, tmp_path / "a.mp4", image_size=33)
    with pytest.raises(ValueError, match="fps"):
        render_face_video(np.zeros((5, 52)), 0, tmp_path / "a.mp4")
    assert not any(tmp_path.iterdir())


def _curves(t=90, k=5):
    time = np.arange(t) / 30.0
    values = np.stack([np.sin(2 * np.pi * (i + 1) * time / 3) * (i + 1) / k for i in range(k)], axis=1)
    return values, [f"ch{i}" for i in range(k)]


def _assert_real_png(path):
    import matplotlib.image as mpimg

    assert path.is_file() and path.stat().st_size > 1000
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    rgb = img[..., :3]
    assert rgb.std() > 0.02                            # not blank
    blueish = (rgb[..., 2] > 0.55) & (rgb[..., 0] < 0.35)
    assert blueish.sum() > 50                          # the prediction line is drawn
    return rgb


def test_plot_curves(tmp_path):
    values, names = _curves()
    out = plot_curves(values, names, 30, tmp_path / "plots" / "c.png", title="curves")
    _assert_real_png(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["c.png"]

    ref = values * 0.8
    out2 = plot_curves(values, names, 30, tmp_path / "r.png", channels=["ch1", "ch3"], reference=ref)
    rgb = _assert_real_png(out2)
    orange = (rgb[..., 0] > 0.9) & (rgb[..., 1] > 0.4) & (rgb[..., 1] < 0.65) & (rgb[..., 2] < 0.25)
    assert orange.sum() > 50                           # the dashed reference
    with pytest.raises(KeyError, match="nope"):
        plot_curves(values, names, 30, tmp_path / "x.png", channels=["nope"])
    with pytest.raises(ValueError, match="names"):
        plot_curves(values, names[:-1], 30, tmp_path / "x.png")


def test_pick_channels_by_variance():
    values, names = _curves(k=6)
    assert pick_channels(values, names, max_channels=3) == [5, 4, 3]
    assert pick_channels(values, names, channels=["ch2", 0]) == [2, 0]


def test_curves_child(tmp_path):
    values, names = _curves(k=3)
    npz = tmp_path / "c.npz"
    np.savez(npz, values=values, names=np.array(names))
    out = tmp_path / "c.png"
    run_child(["curves", "--npz", str(npz), "--out", str(out), "--fps", "30", "--channels", "ch0", "ch2"])
    _assert_real_png(out)


def test_mesh_video_frames_any_mesh_and_shows_the_reference_beside(tmp_path, tone, write_wav):
    from zoo.datasets.synthetic import geometry
    from zoo.render import render_mesh_video
    from zoo.render.mesh import fit_camera

    verts = geometry.deform("f2", _jaw_ramp(8))
    still = np.repeat(verts[:1], 8, axis=0)
    wav = write_wav("tone.wav", tone(8 / 30, rate=16000))
    out = render_mesh_video(verts, geometry.FACES, 30, tmp_path / "m.mp4", audio_path=wav, reference=still,
                            image_size=64, labels=False)
    frames, fps = read_video(out)
    assert frames.shape == (8, 64, 128, 3) and fps == pytest.approx(30.0)
    assert read_video_audio(out, 16000).size > 0.2 * 16000
    diff = np.abs(frames[-1, :, :64].astype(float) - frames[-1, :, 64:]).mean()
    assert diff > 1.0 and np.abs(frames[0, :, :64].astype(float) - frames[0, :, 64:]).mean() < diff / 4
    # any mesh in metres is framed: the fitted camera sees the whole first frame, ~FILL of the height
    scaled = verts[0] * 3.0 + 1.0
    uv = geometry.project(scaled, 64, fit_camera(scaled))
    assert uv.min() >= 0 and uv.max() <= 64 and 0.6 < np.ptp(uv[:, 1]) / 64 < 0.95
    with pytest.raises(ValueError, match="faces index"):
        render_mesh_video(verts, geometry.FACES + verts.shape[1], 30, tmp_path / "bad.mp4")
    assert not (tmp_path / "bad.mp4").exists()
