"""68 iBUG face landmarks from video frames (spec landmark_dcgan §2) and the GAN's image crops (§5.1, §5.3).

Coordinates. Pixel arrays are (..., 68, 2) float32 in image pixels, x right, y down, with pixel (row r, column c)
centred at (x = c, y = r) (dlib's convention: its part coordinates are pixel indices).

Time grid (``grid_indices``). ``grid="30ms"`` (the original's OpenCV seeks to 30·i ms): t_i = i · frame_ms / 1000 s
for every i with t_i < num_frames / fps, so there are ceil(num_frames / fps / 0.030) samples, and sample i shows
frame floor(t_i · fps + 1e-6) (the frame on screen at t_i). At 29.97 fps the grid (33.3 Hz) is faster than the
video, so about one frame in ten is sampled twice (spec §9.5). ``grid="video"``: every frame k at t = k / fps.

Detection (``Landmarker``): RGB → grey (ITU-R 601 luma, OpenCV's), then CLAHE (``clahe=True``, the original's:
OpenCV ``createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))``), then (``upscale`` u > 1, not in the original) a cubic
resize by u, then dlib's HOG ``get_frontal_face_detector()`` with ``upsample`` pyramid upsamplings (the original's
1) and the 68-point ``shape_predictor`` of ``face_recognition_models`` (the original's
``shape_predictor_68_face_landmarks.dat``), loaded once per process. Points found on the upscaled image map back
as x = (x_u + 0.5) / u − 0.5 (OpenCV's resize geometry). Several faces: ``multi_face="largest"`` (default) keeps
the box of the largest area (ties: the first detection), ``"last"`` the last detection (the original's loop
overwrote its variable, so the last box won). No face: ``None`` (the original crashed, §9.6). On the synthetic
corpus (128-px frames, faces ≈ 78 px) dlib finds every face with a mean error ≈ 5 px (mouth ≈ 2 px), but CLAHE
hurts the mouth of the rendered faces (inner-lip opening vs ground truth: Pearson r 0.39 with CLAHE, 0.47 without,
0.62 without it and with ``upscale=2``); CLAHE stays on by default, as the original.

No-face policy (``apply_policy``), applied to landmarks and audio features alike through one keep mask:
``"skip"`` drops the frames without a face; ``"interpolate"`` keeps every frame and fills each coordinate
linearly in time between the nearest found frames (before the first / after the last found frame: that frame's
points). A video without any face is a ``DataError`` naming the file under both policies.

Normalisations (``normalise``), output (..., 136) interleaved x0, y0, x1, y1, ..., x67, y67:

* ``"minmax"`` (the original's, faithful): per frame and per axis, x' = (x − min x) / (max x − min x),
  y' = (y − min y) / (max y − min y) over the 68 points; anisotropic, every frame spans [0, 1] on both axes
  (an axis with max = min maps to 0.5).
* ``"similarity"`` (flagged): c = the mean of the 68 points; e_r, e_l = the centres of the points 36–41 (the
  subject's right eye, image left) and 42–47; d = |e_l − e_r| (inter-ocular distance), θ = atan2(e_l,y − e_r,y,
  e_l,x − e_r,x); u = R(−θ) (p − c) / d (eyes level, scale 1 = the eye distance); then
  x' = 0.5 + u_x / 4, y' = 0.5 + u_y / 4 (the face's ±2 eye distances around its mean point onto [0, 1]).
  Invariant to a rotation, uniform scale and translation of the input (not to a reflection). Measured spans: the
  frontal astronaut (skimage) u_x ∈ [−1.06, 1.13], u_y ∈ [−0.91, 1.18] (x' ∈ [0.24, 0.78], y' ∈ [0.27, 0.80]);
  the synthetic corpus's faces with head turns and open mouths u_x ∈ [−1.47, 1.30], u_y ∈ [−1.28, 1.57]
  (x', y' ∈ [0.13, 0.89]): inside [0, 1] with room to spare.

Crops for the GAN (``crop_box``, ``crop_face``, ``legacy_frame``): the crop square is centred on the landmarks'
bounding-box centre (c_x, c_y) = ((min x + max x) / 2, (min y + max y) / 2) with side s = crop_scale ·
max(max x − min x, max y − min y); as a box (x0, y0, s): x0 = c_x − s/2 + 0.5, y0 = c_y − s/2 + 0.5. A box is
sampled so output pixel (i, j) of a size² crop takes the input at x = x0 + (j + 0.5) · s / size − 0.5,
y = y0 + (i + 0.5) · s / size − 0.5 (bilinear; outside the frame the edge pixels repeat), so an integral box with
size = s is exactly ``image[y0:y0+s, x0:x0+s]`` and the crop's centre falls on (c_x, c_y).
``legacy_frame`` is the original's image (spec §5.3): a per-image min–max stretch over all three channels to
0…255 (scipy's ``bytescale``: round((v − min) · 255 / (max − min)); a constant image gives 0), then the whole
frame squashed to size² with PIL's bilinear resize (as ``scipy.misc.imresize``).

dlib, OpenCV and PIL are imported inside the functions that need them: importing this module is cheap.
"""
from __future__ import annotations

import functools
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.datasets.errors import DataError

from .config import GRIDS, LANDMARK_NORMS, MULTI_FACE, NO_FACE, NUM_LANDMARKS

log = logging.getLogger(__name__)

CLAHE_CLIP_LIMIT = 2.0
CLAHE_TILES = (8, 8)
RIGHT_EYE = range(36, 42)  # the subject's right eye (image left)
LEFT_EYE = range(42, 48)
SIMILARITY_SPAN = 4.0  # inter-ocular distances mapped onto [0, 1]
PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"


# ------------------------------------------------------------------------------------------------ dlib models
def predictor_path() -> Path:
    """The 68-point model file of the ``face_recognition_models`` package (the path its
    ``pose_predictor_model_location()`` returns), found without importing the package (its import goes
    through the deprecated ``pkg_resources``)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 68-point landmark model needs face_recognition_models: "
                           "pip install 'speech-anim-zoo[landmarks]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / PREDICTOR_FILE
    if not path.is_file():
        raise RuntimeError(f"{path}: the face_recognition_models package lacks {PREDICTOR_FILE}")
    return path


@functools.lru_cache(maxsize=1)
def _dlib_models():
    """(HOG face detector, 68-point shape predictor), loaded once per process."""
    try:
        import dlib
    except ImportError as exc:
        raise RuntimeError("face landmarks need dlib: pip install 'speech-anim-zoo[landmarks]'") from exc
    path = predictor_path()
    log.debug("loading the dlib 68-point predictor from %s", path)
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(path))


# ------------------------------------------------------------------------------------------------ Landmarker
class Landmarker:
    """dlib's HOG detector + 68-point predictor with the original's pre-processing (see the module docstring).

    ``landmarker(image)`` takes an RGB uint8 (H, W, 3) image (or a grey (H, W) one) and returns (68, 2) float32
    pixels, or None when no face is found.
    """

    def __init__(self, clahe: bool = True, upsample: int = 1, upscale: int = 1, multi_face: str = "largest"):
        if multi_face not in MULTI_FACE:
            raise ValueError(f"multi_face must be one of {MULTI_FACE}, got {multi_face!r}")
        if int(upsample) != upsample or upsample < 0 or int(upscale) != upscale or upscale < 1:
            raise ValueError(f"upsample must be an integer ≥ 0 and upscale an integer ≥ 1, got {upsample}, {upscale}")
        self.clahe = bool(clahe)
        self.upsample = int(upsample)
        self.upscale = int(upscale)
        self.multi_face = multi_face

    @classmethod
    def from_config(cls, config) -> Landmarker:
        """The landmarker of a ``Config`` (its clahe, upsample, upscale and multi_face fields)."""
        return cls(clahe=config.clahe, upsample=config.upsample, upscale=config.upscale, multi_face=config.multi_face)

    def __repr__(self) -> str:
        return (f"Landmarker(clahe={self.clahe}, upsample={self.upsample}, upscale={self.upscale}, "
                f"multi_face={self.multi_face!r})")

    def _grey(self, image: np.ndarray) -> np.ndarray:
        """The detector's input: grey, CLAHE'd, upscaled (uint8)."""
        import cv2

        image = np.asarray(image)
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3)):
            raise ValueError(f"the landmarker needs a uint8 RGB (H, W, 3) or grey (H, W) image, "
                             f"got {image.dtype} {image.shape}")
        grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        if self.clahe:
            grey = cv2.createCLAHE(clipLimit=CLAHE_CLIP_LIMIT, tileGridSize=CLAHE_TILES).apply(grey)
        if self.upscale > 1:
            h, w = grey.shape
            grey = cv2.resize(grey, (w * self.upscale, h * self.upscale), interpolation=cv2.INTER_CUBIC)
        return np.ascontiguousarray(grey)

    def _to_input(self, xy: np.ndarray) -> np.ndarray:
        """Upscaled-image coordinates → input-image coordinates: (x + 0.5) / u − 0.5."""
        return xy if self.upscale == 1 else (xy + 0.5) / self.upscale - 0.5

    def detect(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Every face box (left, top, right, bottom) in input pixels, in dlib's order."""
        detector, _ = _dlib_models()
        rects = detector(self._grey(image), self.upsample)
        return [tuple(float(v) for v in self._to_input(np.array([r.left(), r.top(), r.right(), r.bottom()],
                                                                np.float64))) for r in rects]

    def _choose(self, rects):
        """The box the multi-face policy keeps (None: no face)."""
        if len(rects) == 0:
            return None
        if self.multi_face == "last":
            return rects[len(rects) - 1]
        areas = [r.width() * r.height() for r in rects]
        return rects[int(np.argmax(areas))]

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        detector, predictor = _dlib_models()
        grey = self._grey(image)
        rect = self._choose(detector(grey, self.upsample))
        if rect is None:
            return None
        shape = predictor(grey, rect)
        xy = np.array([(shape.part(k).x, shape.part(k).y) for k in range(shape.num_parts)], np.float64)
        return self._to_input(xy).astype(np.float32)


# ------------------------------------------------------------------------------------------------ time grid
def grid_indices(num_frames: int, fps: float, config) -> tuple[np.ndarray, np.ndarray]:
    """(times_s (N,) float64, frame_indices (N,) int64) of the samples of a video of ``num_frames`` at ``fps``.

    "30ms": t_i = i · frame_ms / 1000 while t_i < num_frames / fps (N = ceil(duration / step)), frame
    floor(t_i · fps + 1e-6); "video": t_k = k / fps, frame k, for every k.
    """
    if config.grid not in GRIDS:
        raise ValueError(f"grid must be one of {GRIDS}, got {config.grid!r}")
    if num_frames < 0 or not fps > 0:
        raise ValueError(f"need num_frames ≥ 0 and fps > 0, got {num_frames}, {fps}")
    if config.grid == "video":
        frames = np.arange(num_frames, dtype=np.int64)
        return frames / float(fps), frames
    step = config.frame_ms / 1000.0
    count = int(np.ceil(num_frames / fps / step - 1e-9)) if num_frames else 0
    times = np.arange(count) * step
    frames = np.minimum(np.floor(times * fps + 1e-6).astype(np.int64), num_frames - 1)
    return times, frames


# ------------------------------------------------------------------------------------------------ normalisation
def normalise(points: np.ndarray, mode: str = "minmax") -> np.ndarray:
    """(..., 68, 2) pixel landmarks → (..., 136) float32 interleaved x0, y0, ..., by ``mode`` ("minmax" or
    "similarity"; formulas in the module docstring). NaN points give NaN rows."""
    if mode not in LANDMARK_NORMS:
        raise ValueError(f"landmark normalisation must be one of {LANDMARK_NORMS}, got {mode!r}")
    p = np.asarray(points, np.float64)
    if p.shape[-2:] != (NUM_LANDMARKS, 2):
        raise ValueError(f"landmarks must be (..., {NUM_LANDMARKS}, 2), got {p.shape}")
    if mode == "minmax":
        low, high = p.min(axis=-2, keepdims=True), p.max(axis=-2, keepdims=True)
        span = high - low
        out = np.where(span > 0, (p - low) / np.where(span > 0, span, 1.0), 0.5)
    else:
        centre = p.mean(axis=-2, keepdims=True)
        eye_r = p[..., RIGHT_EYE, :].mean(axis=-2)
        eye_l = p[..., LEFT_EYE, :].mean(axis=-2)
        delta = eye_l - eye_r
        dist = np.hypot(delta[..., 0], delta[..., 1])[..., None, None]
        angle = np.arctan2(delta[..., 1], delta[..., 0])[..., None]
        cos, sin = np.cos(angle), np.sin(angle)
        q = (p - centre) / np.where(dist > 0, dist, np.nan)
        u_x = cos * q[..., 0] + sin * q[..., 1]  # R(−θ) q
        u_y = -sin * q[..., 0] + cos * q[..., 1]
        out = np.stack([0.5 + u_x / SIMILARITY_SPAN, 0.5 + u_y / SIMILARITY_SPAN], axis=-1)
    return out.reshape(*p.shape[:-2], 2 * NUM_LANDMARKS).astype(np.float32)


# ------------------------------------------------------------------------------------------------ crops
def crop_box(points: np.ndarray, scale: float = 1.5) -> tuple[float, float, float]:
    """(x0, y0, side) of the square crop around (68, 2) pixel landmarks: side = scale · max(w, h) of their
    bounding box, centred on its centre (x0 = c_x − side/2 + 0.5, see the module docstring)."""
    p = np.asarray(points, np.float64)
    if p.shape != (NUM_LANDMARKS, 2) or not np.isfinite(p).all():
        raise ValueError(f"crop_box needs finite ({NUM_LANDMARKS}, 2) landmarks, got shape {p.shape}")
    low, high = p.min(axis=0), p.max(axis=0)
    centre = (low + high) / 2
    side = float(scale) * float(max(high - low))
    if not side > 0:
        raise ValueError(f"crop_box needs landmarks with a positive extent and scale > 0, got side {side}")
    return float(centre[0] - side / 2 + 0.5), float(centre[1] - side / 2 + 0.5), side


def crop_face(image: np.ndarray, box: tuple[float, float, float], size: int) -> np.ndarray:
    """The square ``box`` = (x0, y0, side) of a uint8 (H, W, 3) image resampled to (size, size, 3) uint8:
    bilinear, edge pixels repeated outside the image (sampling formula in the module docstring)."""
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"crop_face needs a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    x0, y0, side = (float(v) for v in box)
    if not side > 0 or int(size) < 1:
        raise ValueError(f"crop_face needs side > 0 and size ≥ 1, got side {side}, size {size}")
    a = side / int(size)
    to_input = np.array([[a, 0.0, x0 + 0.5 * a - 0.5], [0.0, a, y0 + 0.5 * a - 0.5]])  # output pixel → input
    return cv2.warpAffine(np.ascontiguousarray(image), to_input, (int(size), int(size)),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


def legacy_frame(image: np.ndarray, size: int) -> np.ndarray:
    """The original's GAN image (spec §5.3): per-image min–max stretch over all channels to 0…255, then the whole
    frame squashed to (size, size, 3) uint8 with PIL's bilinear resize."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"legacy_frame needs an (H, W, 3) image, got {image.shape}")
    v = image.astype(np.float64)
    low, span = v.min(), v.max() - v.min()
    stretched = ((v - low) * (255.0 / (span if span > 0 else 1.0))).clip(0, 255) + 0.5
    resized = Image.fromarray(stretched.astype(np.uint8)).resize((int(size), int(size)), Image.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


# ------------------------------------------------------------------------------------------------ videos
@dataclass
class VideoLandmarks:
    """Landmarks of one video on its time grid.

    times_s (N,) float64 sample times; frame_indices (N,) int64 the frame shown at each; points (N, 68, 2)
    float32 pixels (NaN where no face); found (N,) bool; image_size (H, W); source: the video's path.
    """

    times_s: np.ndarray
    frame_indices: np.ndarray
    points: np.ndarray
    found: np.ndarray
    image_size: tuple[int, int]
    source: str

    def __len__(self) -> int:
        return int(self.times_s.size)

    @property
    def detection_rate(self) -> float:
        """Fraction of the samples with a face (0 for an empty video)."""
        return float(self.found.mean()) if self.found.size else 0.0


def _short_cause(cause: str) -> str:
    """A decoder error in one line: the reader's first line up to its parenthesis and ffmpeg's last line (the
    cause), without ffmpeg's version banner."""
    lines = [line.strip() for line in cause.splitlines() if line.strip()]
    if len(lines) <= 1:
        return cause
    return f"{lines[0].split(' (')[0]}: {lines[-1].rstrip(')')}"


def video_landmarks(path: str | os.PathLike, config, landmarker: Landmarker | None = None,
                    keep_frames: bool = False):
    """Landmarks of a video on ``config.grid`` with ``Landmarker.from_config(config)`` (or ``landmarker``).

    Returns a ``VideoLandmarks``; with ``keep_frames`` a tuple (VideoLandmarks, frames (N, H, W, 3) uint8 RGB,
    the frame of each sample). An unreadable video raises ``DataError`` naming the file.
    """
    from zoo.datasets.video import read_video

    try:
        frames, fps = read_video(path)
    except DataError as exc:
        raise DataError(path, _short_cause(exc.cause)) from None
    if not fps > 0:
        raise DataError(path, f"video reports a frame rate of {fps}")
    landmarker = landmarker or Landmarker.from_config(config)
    times, indices = grid_indices(len(frames), fps, config)
    by_frame = {int(k): landmarker(frames[k]) for k in np.unique(indices)}  # a frame sampled twice runs once
    points = np.full((len(indices), NUM_LANDMARKS, 2), np.nan, np.float32)
    found = np.zeros(len(indices), bool)
    for i, k in enumerate(indices):
        if by_frame[int(k)] is not None:
            points[i], found[i] = by_frame[int(k)], True
    result = VideoLandmarks(times, indices, points, found, (int(frames.shape[1]), int(frames.shape[2])),
                            os.fspath(path))
    log.debug("%s: %d samples of %d frames at %.3f fps, face in %d", path, len(indices), len(frames), fps,
             int(found.sum()))
    return (result, frames[indices]) if keep_frames else result


def apply_policy(v: VideoLandmarks, no_face: str) -> tuple[np.ndarray, np.ndarray]:
    """(keep (N,) bool, points (K, 68, 2) float32 of the kept samples, K = keep.sum()) under the no-face policy.

    "skip": keep = found, the found points. "interpolate": keep everything; each coordinate of a sample without a
    face is linear in time between the nearest found samples (the first / last found sample's points beyond
    them). Apply ``keep`` to the audio features of ``v.times_s`` too. No face in any sample: ``DataError``.
    """
    if no_face not in NO_FACE:
        raise ValueError(f"no_face must be one of {NO_FACE}, got {no_face!r}")
    if not v.found.any():
        raise DataError(v.source, f"no face found in any of the {len(v)} sampled frames")
    if no_face == "skip" or v.found.all():
        keep = v.found.copy()
        return keep, v.points[keep].astype(np.float32)
    known_t = v.times_s[v.found]
    known = v.points[v.found].reshape(len(known_t), -1).astype(np.float64)
    filled = np.stack([np.interp(v.times_s, known_t, known[:, j]) for j in range(known.shape[1])], axis=1)
    log.info("%s: %d of %d samples without a face interpolated", v.source, int((~v.found).sum()), len(v))
    return np.ones(len(v), bool), filled.reshape(len(v), NUM_LANDMARKS, 2).astype(np.float32)


__all__ = ["Landmarker", "grid_indices", "normalise", "crop_box", "crop_face", "legacy_frame", "VideoLandmarks",
           "video_landmarks", "apply_policy", "predictor_path"]
