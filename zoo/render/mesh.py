"""Vertex sequences → MP4, rendered in a child process that never imports TensorFlow (VOCA's meshes).

The parent side (``render_mesh_video``) validates the arrays, writes them to a temporary ``.npz`` and runs
``python -m zoo.render mesh ...``; the child side (``render_mesh_from_npz``) rasterises every frame with the NumPy
z-buffer of ``zoo.datasets.synthetic.geometry.render`` (no OpenGL, no display: headless by construction) and muxes
the audio. The camera is fitted once to the first frame's bounding box, so any mesh in metres is framed (the
synthetic face, FLAME's) and the view does not move with the mouth.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from .face import _fps_text, _label, _read_npz, render_in_child

__all__ = ["render_mesh_video", "render_mesh_from_npz", "fit_camera"]

FILL = 0.8  # the first frame's bounding box spans this fraction of the image height


def _vertices(name: str, value, like: np.ndarray | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 3:
        raise ValueError(f"{name} must have shape (T, V, 3) with T ≥ 1 and V ≥ 3, got {arr.shape}")
    if like is not None and arr.shape != like.shape:
        raise ValueError(f"{name} has shape {arr.shape} but vertices have {like.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds non-finite values")
    return arr


def _faces(value, num_vertices: int) -> np.ndarray:
    faces = np.asarray(value)
    if faces.ndim != 2 or faces.shape[1] != 3 or not len(faces) or faces.dtype.kind not in "iu":
        raise ValueError(f"faces must be a non-empty integer (F, 3) array, got {faces.dtype} {faces.shape}")
    if faces.min() < 0 or faces.max() >= num_vertices:
        raise ValueError(f"faces index vertices outside 0…{num_vertices - 1}")
    return faces.astype(np.int64)


def render_mesh_video(vertices, faces, fps, out_mp4, *, audio_path=None, reference=None, image_size: int = 256,
                      labels: bool = True, timeout: float | None = None) -> Path:
    """Render ``vertices`` (T, V, 3) in metres with ``faces`` (F, 3) as an MP4 at ``fps``; returns the path.

    ``reference`` (T, V, 3) renders the ground truth on the right of each frame (labelled "prediction" /
    "reference" when ``labels``); ``audio_path`` is muxed in. The work runs in ``python -m zoo.render mesh`` (no
    TensorFlow); a failure raises RuntimeError with the child's stderr tail and leaves no file.
    """
    verts = _vertices("vertices", vertices)
    arrays = {"vertices": verts, "faces": _faces(faces, verts.shape[1])}
    if reference is not None:
        arrays["reference"] = _vertices("reference", reference, verts)
    size = int(image_size)
    if size < 16 or size % 2:
        raise ValueError(f"image_size must be an even number ≥ 16 (H.264 yuv420p), got {image_size!r}")
    out = Path(out_mp4).absolute()
    args = ["mesh", "--fps", _fps_text(fps), "--out", str(out), "--image-size", str(size)]
    if audio_path is not None:
        args += ["--audio", str(Path(audio_path).absolute())]
    if not labels:
        args.append("--no-labels")
    return render_in_child(args, arrays, out, timeout)


def fit_camera(vertices: np.ndarray, fov_deg: float = 23.5):
    """A ``geometry.Camera`` on the +z side of ``vertices`` (V, 3) looking down −z at their bounding box's centre,
    at distance d = (h / 2) / (FILL · tan(fov / 2)) + the box's depth / 2 (h: the larger of height and width)."""
    from zoo.datasets.synthetic.geometry import Camera

    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    centre, extent = (lo + hi) / 2, hi - lo
    half = max(float(extent[0]), float(extent[1]), 1e-6) / 2
    distance = half / (FILL * np.tan(np.radians(fov_deg) / 2)) + float(extent[2]) / 2
    return Camera(position=(float(centre[0]), float(centre[1]), float(centre[2] + distance)), fov_deg=fov_deg)


def render_mesh_from_npz(npz, out, fps, *, audio_path=None, image_size: int = 256, labels: bool = True) -> Path:
    """Child-side work of ``render_mesh_video``: read the arrays, rasterise, mux the audio, write the MP4."""
    from zoo.datasets.audio import load_audio
    from zoo.datasets.synthetic import geometry
    from zoo.datasets.video import write_video

    npz = Path(npz)
    data = _read_npz(npz)
    for key in ("vertices", "faces"):
        if key not in data:
            raise ValueError(f"{npz}: missing array {key!r} (found: {sorted(data) or 'none'})")
    try:
        verts = _vertices("vertices", data["vertices"])
        faces = _faces(data["faces"], verts.shape[1])
        reference = _vertices("reference", data["reference"], verts) if "reference" in data else None
    except ValueError as exc:
        raise ValueError(f"{npz}: {exc}") from None
    audio, rate = (None, None) if audio_path is None else load_audio(audio_path, allow_silence=True)
    size = int(image_size)
    camera = fit_camera(verts[0])
    colors = geometry.vertex_colors("m1") if verts.shape[1] == geometry.NUM_VERTICES else None
    panels = [verts] if reference is None else [verts, reference]
    frames = np.empty((len(verts), size, len(panels) * size, 3), np.uint8)
    for p, sequence in enumerate(panels):
        for t, frame in enumerate(sequence):
            frames[t, :, p * size:(p + 1) * size] = geometry.render(frame, faces, size, camera, colors=colors)
    if reference is not None and labels:
        _label(frames, "prediction", 0, size)
        _label(frames, "reference", size, size)
    return write_video(out, frames, Fraction(fps), audio=audio, sample_rate=rate)
