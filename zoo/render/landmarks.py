"""68-point face landmarks (N, 136) → MP4 landmark animation, optionally beside generated faces, rendered in a child
process that never imports TensorFlow.

The parent side (``render_landmark_video``) validates the arrays, writes them to a temporary ``.npz`` and runs
``python -m zoo.render landmarks ...``; the child side (``render_landmarks_from_npz``) draws every frame with
``draw_landmark_frames`` (NumPy only: the anti-aliased line and disc rasteriser of ``skeleton``), cuts the audio to
the video and writes the MP4 through ``zoo.datasets.video.write_video`` (which writes the exact rate: 100/3 fps,
the 30 ms landmark grid, is stored as 100/3, not 33.33).

Fixed axes (the original predict.py autoscaled every frame, so the face jittered and changed size): every frame maps
the whole normalised box [0, 1]² to the same square of the panel, ``landmark_pixels``:
px = m + x·(S − 2m), py = m + y·(S − 2m) in continuous pixel coordinates (pixel j spans [j, j + 1)), S the panel
size, m = 13·⌊S/128⌋ (at least 13) px the margin that holds the label rows, so (0.5, 0.5) is the panel centre
(S/2, S/2). Normalised y grows downward like image rows, so the face is drawn upright without the original's −y flip
(that flip only undid matplotlib's upward y axis).

Drawing: white background; the 68 points as filled discs of radius max(1.5, S/100) px, joined by the iBUG 68 contours
(``CONTOURS``: jaw, brows, nose bridge and base, closed eyes, closed outer and inner lips) as lines max(1, S/256) px
wide in a lighter tint. A ``reference`` set (ground truth) is drawn first in orange, the predicted set over it in
blue (the original's matplotlib C0). Coverage of a pixel whose centre is at distance d from a disc (line) of
radius (half-width) r is α = clip(r + ½ − d, 0, 1); within one layer (one set's lines, or its dots) a pixel takes the
largest α, and the layers are composited in order: c ← c + α·(colour − c).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .face import _fps_text, _read_npz, render_in_child, text_mask, write_frames
from .skeleton import _bone_pixels, _dot_pixels

log = logging.getLogger(__name__)

__all__ = ["render_landmark_video", "render_landmarks_from_npz", "draw_landmark_frames", "landmark_pixels",
           "panel_margin", "CONTOURS", "EDGES", "NUM_POINTS", "PREDICTED_COLOR", "REFERENCE_COLOR", "BACKGROUND"]

NUM_POINTS = 68
# iBUG 68 contours: (first point, last point, closed)
CONTOURS = ((0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False), (31, 35, False), (36, 41, True),
            (42, 47, True), (48, 59, True), (60, 67, True))
EDGES = np.array([(i, i + 1) for first, last, _ in CONTOURS for i in range(first, last)]
                 + [(last, first) for first, last, closed in CONTOURS if closed], np.int64)   # (63, 2)
BACKGROUND = np.array((255, 255, 255), np.float32)
PREDICTED_COLOR = np.array((31, 119, 180), np.float32)     # matplotlib's C0, the original's dot colour
REFERENCE_COLOR = np.array((255, 127, 14), np.float32)     # matplotlib's C1
LINE_TINT = 0.45                                          # lines: colour + 0.45·(white − colour)
LABEL_TEXT = np.array((235, 235, 235), np.uint8)          # "generated" on a dark box over the image panel
LABEL_BOX = np.array((40, 40, 40), np.uint8)
VALUE_RANGE = (-0.5, 1.5)                                 # wider than this: not normalised coordinates
MIN_SIZE = 64
_CHUNK = 64                                               # frames rasterised per batch


# ------------------------------------------------------------------------------------------------------------
# Validation (parent and child)
# ------------------------------------------------------------------------------------------------------------
def _landmarks(name: str, value, frames: int | None) -> np.ndarray:
    """float32 (N, 68, 2) from (N, 136) interleaved x0, y0, … or (N, 68, 2); finite, within ``VALUE_RANGE``."""
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a numeric array ({exc})") from None
    if arr.ndim == 2 and arr.shape[1] == 2 * NUM_POINTS:
        arr = arr.reshape(arr.shape[0], NUM_POINTS, 2)
    if arr.ndim != 3 or arr.shape[1:] != (NUM_POINTS, 2) or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (N, 136) (interleaved x0, y0, …, x67, y67) or (N, 68, 2) with "
                         f"N ≥ 1, got {arr.shape}")
    if frames is not None and arr.shape[0] != frames:
        raise ValueError(f"{name} has {arr.shape[0]} frames but landmarks have {frames}")
    bad = ~np.isfinite(arr)
    if bad.any():
        frame, point, _ = np.argwhere(bad)[0]
        raise ValueError(f"{name} holds {int(bad.sum())} non-finite values (NaN or Inf; the first at frame {frame}, "
                         f"point {point}): fill or drop frames without a face first")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < VALUE_RANGE[0] or hi > VALUE_RANGE[1]:
        raise ValueError(f"{name} must be normalised coordinates in [0, 1], got values in [{lo:.4g}, {hi:.4g}] "
                         "(pixel coordinates? normalise them first)")
    return arr


def _images(value, frames: int) -> np.ndarray:
    """uint8 (N, H, W, 3) with N == frames."""
    arr = np.asarray(value)
    if arr.dtype != np.uint8:
        raise ValueError(f"images must be uint8 RGB (N, H, W, 3), got dtype {arr.dtype} (images in [-1, 1]: "
                         "np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8))")
    if arr.ndim != 4 or arr.shape[3] != 3 or min(arr.shape[1:3]) < 1:
        raise ValueError(f"images must have shape (N, H, W, 3), got {arr.shape}")
    if arr.shape[0] != frames:
        raise ValueError(f"images has {arr.shape[0]} frames but landmarks have {frames}")
    return arr


def _image_size(value) -> int:
    """The panel size S: an even integer ≥ ``MIN_SIZE`` (H.264 yuv420p needs even sizes)."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be an even integer ≥ {MIN_SIZE}, got {value!r}") from None
    if size != value or size < MIN_SIZE or size % 2:
        raise ValueError(f"image_size must be an even integer ≥ {MIN_SIZE} (H.264 yuv420p), got {value!r}")
    return size


# ------------------------------------------------------------------------------------------------------------
# Geometry and drawing
# ------------------------------------------------------------------------------------------------------------
def _label_scale(size: int) -> int:
    """Pixel scale s of the 5×7 label font in a panel of ``size`` px (as ``face._label``)."""
    return max(1, size // 128)


def panel_margin(image_size: int) -> int:
    """m = 13·s px, s = max(1, ⌊S/128⌋): room for one label row (3·s + 7·s text + 3·s) above and below the box."""
    return 13 * _label_scale(int(image_size))


def landmark_pixels(landmarks, image_size: int = 256) -> np.ndarray:
    """Continuous pixel coordinates (…, 68, 2) float32 of normalised ``landmarks`` (…, 136) or (…, 68, 2):
    p = m + u·(S − 2m) per axis (m = ``panel_margin(S)``), the same for every frame."""
    arr = np.asarray(landmarks, np.float32)
    if arr.shape[-1] == 2 * NUM_POINTS:
        arr = arr.reshape(*arr.shape[:-1], NUM_POINTS, 2)
    size = int(image_size)
    margin = panel_margin(size)
    return (margin + arr * np.float32(size - 2 * margin)).astype(np.float32)


def _dot_radius(size: int) -> float:
    return max(1.5, size / 100)


def _line_width(size: int) -> float:
    return max(1.0, size / 256)


def _coverage(xy: np.ndarray, size: int, *, dots: bool) -> tuple[np.ndarray, np.ndarray]:
    """One layer of the frames ``xy`` (T, 68, 2): the discs at the points or the contour lines between them, as
    (flat pixel index into (T, S, S), α float32) over the covered pixels, each pixel once with its largest α."""
    if dots:
        item, x, y, alpha = _dot_pixels(xy.reshape(-1, 2), _dot_radius(size) + 0.5)
        frame = item // NUM_POINTS
    else:
        seg, x, y, alpha = _bone_pixels(xy[:, EDGES[:, 0]].reshape(-1, 2), xy[:, EDGES[:, 1]].reshape(-1, 2),
                                        _line_width(size) / 2 + 0.5)
        frame = seg // len(EDGES)
    inside = (x >= 0) & (x < size) & (y >= 0) & (y < size)
    flat = (frame[inside] * size + y[inside]) * size + x[inside]
    pixels, slot = np.unique(flat, return_inverse=True)
    cover = np.zeros(pixels.size, np.float32)
    np.maximum.at(cover, slot, alpha[inside].astype(np.float32))
    return pixels, cover


def _composite(panel: np.ndarray, layer: tuple[np.ndarray, np.ndarray], colour: np.ndarray) -> None:
    """panel (T, S, S, 3) float32 ← panel + α·(colour − panel) at the layer's pixels."""
    pixels, alpha = layer
    flat = panel.reshape(-1, 3)
    flat[pixels] += alpha[:, None] * (colour - flat[pixels])


def _draw_text(frames: np.ndarray, text: str, x0: int, top: int, colour, box=None) -> bool:
    """Draw ``text`` (5×7 font at the panel's scale) with its top-left at (x0, top) in every frame; on a filled
    ``box`` colour with a one-unit border when given. False (nothing drawn) when it does not fit the frame."""
    scale = _label_scale(frames.shape[1])
    mask = text_mask(text, scale)
    pad = scale if box is not None else 0
    if top - pad < 0 or x0 - pad < 0 or top + mask.shape[0] + pad > frames.shape[1] \
            or x0 + mask.shape[1] + pad > frames.shape[2]:
        return False
    if box is not None:
        frames[:, top - pad:top + mask.shape[0] + pad, x0 - pad:x0 + mask.shape[1] + pad] = box
    frames[:, top:top + mask.shape[0], x0:x0 + mask.shape[1]][:, mask] = np.asarray(colour, np.uint8)
    return True


def _label_text(frames: np.ndarray, text: str, x0: int, width: int, *, bottom: bool, colour, box=None) -> None:
    """A label 3·s px in from the left edge of the panel [x0, x0 + width), in its top or bottom label row."""
    scale = _label_scale(frames.shape[1])
    if (6 * len(text) - 1) * scale + 6 * scale > width:
        log.debug("label %r does not fit a %d px panel: not drawn", text, width)
        return
    top = frames.shape[1] - 10 * scale if bottom else 3 * scale
    _draw_text(frames, text, x0 + 3 * scale, top, colour, box)


def _resize(images: np.ndarray, height: int) -> np.ndarray:
    """``images`` (N, H, W, 3) uint8 at ``height`` rows and W' = W (square: W' = height) scaled, rounded to even:
    area averaging when H and W are integer multiples of the target with the same factor, else nearest neighbour
    (source row ⌊(i + ½)·H/height⌋, likewise columns)."""
    n, h, w, _ = images.shape
    width = height if h == w else max(2, 2 * round(w * height / (2 * h)))
    if (h, w) == (height, width):
        return images
    if h % height == 0 and w % width == 0 and h // height == w // width:
        k = h // height
        blocks = images.reshape(n, height, k, width, k, 3).astype(np.float32)
        return np.round(blocks.mean(axis=(2, 4))).astype(np.uint8)
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.int64), w - 1)
    return images[:, rows][:, :, cols]


def draw_landmark_frames(landmarks, *, reference=None, images=None, image_size: int = 256,
                         labels: bool = True) -> np.ndarray:
    """uint8 frames (N, S, S + W', 3): the landmark panel (S × S, fixed axes: ``landmark_pixels``) and, with
    ``images`` (N, H, W, 3) uint8, those images resized to S rows (``_resize``) on its right (W' = 0 without).

    ``landmarks`` / ``reference``: (N, 136) or (N, 68, 2) normalised. ``labels``: "predicted" (blue, bottom row),
    "ground truth" (orange, top row) when there is a reference, "generated" on the image panel; a label too wide
    for the panel is left out.
    """
    points = _landmarks("landmarks", landmarks, None)
    n = points.shape[0]
    ref = _landmarks("reference", reference, n) if reference is not None else None
    size = _image_size(image_size)
    right = _resize(_images(images, n), size) if images is not None else None
    width = size + (right.shape[2] if right is not None else 0)
    frames = np.empty((n, size, width, 3), np.uint8)
    layers = [(ref, REFERENCE_COLOR)] if ref is not None else []
    layers.append((points, PREDICTED_COLOR))
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        panel = np.empty((stop - start, size, size, 3), np.float32)
        panel[:] = BACKGROUND
        for arr, colour in layers:
            xy = landmark_pixels(arr[start:stop], size)
            _composite(panel, _coverage(xy, size, dots=False), colour + LINE_TINT * (BACKGROUND - colour))
            _composite(panel, _coverage(xy, size, dots=True), colour)
        frames[start:stop, :, :size] = np.round(panel).astype(np.uint8)
    if right is not None:
        frames[:, :, size:] = right
    if labels:
        _label_text(frames, "predicted", 0, size, bottom=True, colour=PREDICTED_COLOR)
        if ref is not None:
            _label_text(frames, "ground truth", 0, size, bottom=False, colour=REFERENCE_COLOR)
        if right is not None:
            _label_text(frames, "generated", size, right.shape[2], bottom=True, colour=LABEL_TEXT, box=LABEL_BOX)
    return frames


# ------------------------------------------------------------------------------------------------------------
# Parent side
# ------------------------------------------------------------------------------------------------------------
def render_landmark_video(landmarks, fps, out_mp4, *, audio_path=None, images=None, reference=None,
                          image_size: int = 256, labels: bool = True, timeout: float | None = None) -> Path:
    """Render normalised 68-point ``landmarks`` (N, 136) or (N, 68, 2) as an MP4 of N frames at ``fps``; returns
    the path.

    ``fps``: a positive number or Fraction, written exactly (``Fraction(100, 3)`` or 100 / 3 for the 30 ms grid).
    ``reference`` (N, 136): a second set (ground truth) drawn on the same panel in orange. ``images`` (N, H, W, 3)
    uint8 (generated faces): a second panel on the right, resized to the panel height ``image_size``.
    ``audio_path`` (any file ``zoo.datasets.load_audio`` reads) is muxed in as AAC at its own rate, cut to the
    video's N / fps seconds when longer. Frames: ``draw_landmark_frames``. Bad input raises ValueError (a missing
    audio file: DataError) before anything is written; the work runs in ``python -m zoo.render landmarks`` (no
    TensorFlow), whose failure is a RuntimeError with its stderr tail and leaves no file. The child holds every
    frame in memory (N·S·(S + W')·3 bytes: 118 MB for 10 s of two 256² panels).
    """
    points = _landmarks("landmarks", landmarks, None)
    n = points.shape[0]
    arrays = {"landmarks": points.reshape(n, 2 * NUM_POINTS)}
    if reference is not None:
        arrays["reference"] = _landmarks("reference", reference, n).reshape(n, 2 * NUM_POINTS)
    if images is not None:
        arrays["images"] = _images(images, n)
    size = _image_size(image_size)
    fps_text = _fps_text(fps)
    if audio_path is not None and not Path(audio_path).is_file():
        from zoo.datasets.errors import DataError

        raise DataError(audio_path, "audio file not found")
    visible = 1 + panel_margin(size) / (size - 2 * panel_margin(size))
    for name, arr in (("landmarks", points), ("reference", arrays.get("reference"))):
        if arr is not None and (arr.min() < 1 - visible or arr.max() > visible):
            log.warning("%s: some points lie outside the panel's view [%.3f, %.3f] and are cut off", name,
                        1 - visible, visible)
    out = Path(out_mp4).absolute()
    args = ["landmarks", "--fps", fps_text, "--out", str(out), "--image-size", str(size)]
    if audio_path is not None:
        args += ["--audio", str(Path(audio_path).absolute())]
    if not labels:
        args.append("--no-labels")
    return render_in_child(args, arrays, out, timeout)


# ------------------------------------------------------------------------------------------------------------
# Child side
# ------------------------------------------------------------------------------------------------------------
def render_landmarks_from_npz(npz, out, fps, *, audio_path=None, image_size: int = 256, labels: bool = True) -> Path:
    """Child-side work of ``render_landmark_video``: read landmarks (and reference, images), draw, mux, write."""
    npz = Path(npz)
    data = _read_npz(npz)
    if "landmarks" not in data:
        raise ValueError(f"{npz}: missing array 'landmarks' (found: {sorted(data) or 'none'})")
    try:
        frames = draw_landmark_frames(data["landmarks"], reference=data.get("reference"), images=data.get("images"),
                                      image_size=image_size, labels=labels)
    except ValueError as exc:
        raise ValueError(f"{npz}: {exc}") from None
    return write_frames(out, frames, fps, audio_path)
