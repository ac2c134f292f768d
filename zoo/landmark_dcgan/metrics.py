"""Metrics of the speech → landmarks → face method (specs/landmark_dcgan.md §7, issue items 6-7).

Conventions (declared before any result):

* landmarks: 68 iBUG points. Normalised vectors are (..., 136) interleaved x0, y0, …, x67, y67 in [0, 1] (y grows
  downward); point arrays are (..., 68, 2) (x, y). Every landmark function accepts either layout.
* ``MOUTH`` = points 48…67 (the 20 mouth points): the LMD set.
* mouth opening o = (1/3) Σ_{(u, l) ∈ INNER_LIP_PAIRS} |y_l − y_u| over the inner-lip pairs (61, 67), (62, 66),
  (63, 65), in the units of its input (normalised, or pixels).
* images: float (..., S, S, 3) RGB in [−1, 1] (x/127.5 − 1 of uint8); uint8 inputs are converted that way first.

Measures:

* landmark MSE = mean over frames and the 136 values of (ŷ − y)², normalised units²;
* LMD = mean over frames t and points k ∈ MOUTH of ‖p̂_tk − p_tk‖₂: normalised units, or × ``face_size`` = pixels
  of a face ``face_size`` px tall and wide (the landmark box of min–max normalisation scaled to that size);
* Pearson r = Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²): NaN (no warning) when either series is constant;
* PSNR = 10 log10(peak² / MSE) dB per image, peak 2 (the [−1, 1] range);
* SSIM (Wang et al. 2004): Gaussian window σ 1.5 truncated at 3.5σ (11 × 11), K1 0.01, K2 0.03, data range 2,
  population (co)variances, per RGB channel, averaged over the channels and the pixels at least 5 px from the
  border (= skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
  data_range=2, channel_axis=-1));
* landmark consistency of generated faces: a landmarker (dlib) on each generated image; detection rate, LMD and
  the mouth-opening r against the conditioning landmarks on the frames where a face was found;
* nearest-training-frame baseline: for each query landmark vector, the training image whose landmarks are nearest
  (Euclidean in R^136).

NumPy/SciPy only.
"""
from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import ndimage

__all__ = ["MOUTH", "INNER_LIP_PAIRS", "NUM_LANDMARKS", "LANDMARK_DIM", "as_points", "landmark_mse", "lmd",
           "mouth_opening", "pearson", "ImageScore", "psnr", "ssim", "to_uint8", "landmark_consistency",
           "mean_landmark_baseline", "nearest_frame_indices", "nearest_frame_baseline"]

logger = logging.getLogger(__name__)

NUM_LANDMARKS = 68
LANDMARK_DIM = 2 * NUM_LANDMARKS
MOUTH = range(48, 68)  # the 20 mouth points (outer lip 48-59, inner lip 60-67)
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))  # (upper, lower) inner-lip points facing each other

SSIM_SIGMA = 1.5  # px, Gaussian window of Wang et al. 2004
SSIM_TRUNCATE = 3.5  # σ: radius int(3.5·1.5 + 0.5) = 5 → 11 × 11 taps
SSIM_K1, SSIM_K2 = 0.01, 0.03
IMAGE_RANGE = 2.0  # the data range of images in [−1, 1]
_RANGE_TOLERANCE = 1e-5  # images may exceed [−1, 1] by this much (float rounding) before they are rejected
_NEAREST_CHUNK = 1024  # query rows per distance block: memory chunk × M floats


# ----------------------------------------------------------------------------------------------------------------
# Landmarks
# ----------------------------------------------------------------------------------------------------------------
def as_points(x) -> np.ndarray:
    """(..., 68, 2) points of ``x``: (..., 136) interleaved vectors are reshaped (x_k = v[2k], y_k = v[2k+1]);
    (..., 68, 2) arrays are returned as they are. Units unchanged."""
    a = np.asarray(x)
    if a.ndim >= 1 and a.shape[-1] == LANDMARK_DIM:
        return a.reshape(*a.shape[:-1], NUM_LANDMARKS, 2)
    if a.ndim >= 2 and a.shape[-2:] == (NUM_LANDMARKS, 2):
        return a
    raise ValueError(f"landmarks must have shape (..., {LANDMARK_DIM}) or (..., {NUM_LANDMARKS}, 2), got {a.shape}")


def _landmarks(name: str, x) -> np.ndarray:
    """``x`` as finite float64 points (..., 68, 2)."""
    try:
        a = as_points(np.asarray(x, dtype=np.float64))
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(np.argwhere(~np.isfinite(a))[0])})")
    return a


def _pair(pred, true) -> tuple[np.ndarray, np.ndarray]:
    p, g = _landmarks("pred", pred), _landmarks("true", true)
    if p.shape != g.shape:
        raise ValueError(f"pred and true must have one shape, got {np.shape(pred)} and {np.shape(true)}")
    if p.size == 0:
        raise ValueError("pred and true are empty: no frames to score")
    return p, g


def _positive(value) -> bool:
    """True for a finite real number > 0 (Python or NumPy scalar, not bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _point_indices(points) -> np.ndarray:
    idx = np.asarray(list(points) if isinstance(points, range) else points, dtype=np.int64).reshape(-1)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= NUM_LANDMARKS:
        raise ValueError(f"points must be one or more indices in [0, {NUM_LANDMARKS}), got {points!r}")
    return idx


def landmark_mse(pred, true) -> float:
    """MSE = mean over frames and the 136 values of (ŷ − y)², in normalised units² (pred, true (..., 136) or
    (..., 68, 2), one shape)."""
    p, g = _pair(pred, true)
    return float(np.mean((p - g) ** 2))


def lmd(pred, true, face_size: float | None = None, points: Sequence[int] = MOUTH) -> float:
    """Landmark distance LMD = (1/(T·K)) Σ_t Σ_{k ∈ points} ‖p̂_tk − p_tk‖₂ (default: the 20 ``MOUTH`` points).

    Units: those of the input (normalised coordinates) when ``face_size`` is None; with ``face_size`` the
    normalised coordinates are first multiplied by it, giving pixels of a face ``face_size`` px tall and wide
    (under min–max normalisation: the 68 points' bounding box scaled to face_size × face_size px).
    """
    p, g = _pair(pred, true)
    idx = _point_indices(points)
    scale = 1.0
    if face_size is not None:
        if not _positive(face_size):
            raise ValueError(f"face_size must be a positive number of pixels, got {face_size!r}")
        scale = float(face_size)
    return float(np.linalg.norm(p[..., idx, :] - g[..., idx, :], axis=-1).mean() * scale)


def mouth_opening(landmarks) -> np.ndarray | float:
    """Mouth opening o = (1/3) Σ_{(u, l)} |y_l − y_u| over ``INNER_LIP_PAIRS`` (61, 67), (62, 66), (63, 65), in
    the units of the input (normalised or pixels). (..., 136) or (..., 68, 2) → shape (...); a float for one frame.
    """
    p = _landmarks("landmarks", landmarks)
    upper = np.array([u for u, _ in INNER_LIP_PAIRS])
    lower = np.array([low for _, low in INNER_LIP_PAIRS])
    o = np.abs(p[..., lower, 1] - p[..., upper, 1]).mean(axis=-1)
    return float(o) if o.ndim == 0 else o


def pearson(a, b) -> float:
    """Pearson r = Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²) of two equal-length 1-D series (unitless, in [−1, 1]).

    NaN, without a warning, when either series is constant (no variance to correlate). Raises ValueError for
    shapes other than two (n,) with n ≥ 2, or non-finite values.
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"pearson needs two 1-D series of one length >= 2, got {x.shape} and {y.shape}")
    for name, v in (("a", x), ("b", y)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"pearson: {name} contains NaN or inf (first at index {np.argmax(~np.isfinite(v))})")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    denom = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    if denom == 0:  # variance below float resolution
        return float("nan")
    return float(np.clip((x * y).sum() / denom, -1.0, 1.0))


def mean_landmark_baseline(train, n: int) -> np.ndarray:
    """(n, 136) float32: the mean of the training landmark vectors ``train`` (M, 136) repeated n times (the
    "predict the mean face" baseline of item 7)."""
    t = _landmarks("train", train).reshape(-1, LANDMARK_DIM)
    if t.shape[0] == 0:
        raise ValueError("train is empty: no landmark vectors to average")
    if not (isinstance(n, int | np.integer) and n >= 0):
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return np.repeat(t.mean(axis=0, keepdims=True), int(n), axis=0).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------------------------------------------------
class ImageScore(NamedTuple):
    """A per-image measure over a batch: ``mean`` over the images and ``per_image`` (N,) values."""

    mean: float
    per_image: np.ndarray


def _unit_range(name: str, a: np.ndarray) -> np.ndarray:
    """Non-uint8 image values as finite float64 in [−1, 1] (± float rounding), else ValueError."""
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{name} must be uint8 or float in [-1, 1], got dtype {a.dtype}")
    x = a.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1 - _RANGE_TOLERANCE or hi > 1 + _RANGE_TOLERANCE:
        raise ValueError(f"{name} must be in [-1, 1] (x/127.5 - 1 of uint8), got values in [{lo:g}, {hi:g}]")
    return x


def _images(name: str, x) -> np.ndarray:
    """``x`` as float64 (N, H, W, C) in [−1, 1]: one (H, W, C) image is a batch of one; uint8 → x/127.5 − 1."""
    a = np.asarray(x)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or 0 in a.shape:
        raise ValueError(f"{name} must be an image (H, W, C) or a batch (N, H, W, C), got shape {np.shape(x)}")
    if a.dtype == np.uint8:
        return from_uint8(a, np.float64)
    return _unit_range(name, a)


def _image_pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    x, y = _images("a", a), _images("b", b)
    if x.shape != y.shape:
        raise ValueError(f"a and b must have one shape, got {np.shape(a)} and {np.shape(b)}")
    return x, y


def psnr(a, b, peak: float = 2.0) -> ImageScore:
    """PSNR_i = 10 log10(peak² / MSE_i) in dB per image, MSE_i over its H·W·C values; images in [−1, 1] (peak 2).

    ``a``, ``b``: (H, W, C) or (N, H, W, C), one shape (uint8 → x/127.5 − 1). Returns ``ImageScore(mean,
    per_image)``: the per-image PSNRs (N,) and their mean (dB). Identical images give +inf (no warning).
    """
    if not _positive(peak):
        raise ValueError(f"peak must be a positive number, got {peak!r}")
    x, y = _image_pair(a, b)
    mse = ((x - y) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        per_image = np.where(mse > 0, 10.0 * np.log10(float(peak) ** 2 / np.where(mse > 0, mse, 1.0)), np.inf)
    return ImageScore(float(per_image.mean()), per_image)


def ssim(a, b) -> ImageScore:
    """SSIM (Wang et al. 2004) per image, averaged over the RGB channels (not on luminance); images in [−1, 1].

    Local statistics under a Gaussian window (σ 1.5 px, truncated at 3.5σ: 11 × 11 taps, edges reflected):
    μ_x, μ_y, σ_x² = E[x²] − μ_x², σ_y², σ_xy = E[xy] − μ_xμ_y (population); with C1 = (0.01·2)², C2 = (0.03·2)²,
    SSIM map = (2μ_xμ_y + C1)(2σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2)), averaged over the pixels ≥ 5 px
    from the border and the channels (unitless, ≤ 1). ``a``, ``b``: (H, W, C) or (N, H, W, C), H, W ≥ 11.
    Returns ``ImageScore(mean, per_image)`` (N,).
    """
    x, y = _image_pair(a, b)
    radius = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
    if min(x.shape[1:3]) < 2 * radius + 1:
        raise ValueError(f"ssim needs images of at least {2 * radius + 1} x {2 * radius + 1} px, got {x.shape[1:3]}")
    sigma = (0.0, SSIM_SIGMA, SSIM_SIGMA, 0.0)  # filter rows and columns only: each image and channel apart

    def blur(v: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(v, sigma=sigma, truncate=SSIM_TRUNCATE, mode="reflect")

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (SSIM_K1 * IMAGE_RANGE) ** 2, (SSIM_K2 * IMAGE_RANGE) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    per_image = s[:, radius:-radius, radius:-radius, :].mean(axis=(1, 2, 3))
    return ImageScore(float(per_image.mean()), per_image)


def from_uint8(images, dtype=np.float32) -> np.ndarray:
    """uint8 RGB images → ``dtype`` in [−1, 1]: x/127.5 − 1 (the inverse of ``to_uint8``)."""
    return np.asarray(images).astype(dtype) / 127.5 - 1.0


def to_uint8(images) -> np.ndarray:
    """uint8 RGB of images: uint8 as they are; float in [−1, 1] → clip(round((x + 1)·127.5), 0, 255) (round half
    to even)."""
    a = np.asarray(images)
    if a.dtype == np.uint8:
        return a
    if a.size == 0:
        raise ValueError(f"images are empty, shape {a.shape}")
    return np.clip(np.rint((_unit_range("images", a) + 1.0) * 127.5), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------------------------
# Landmark consistency of generated faces
# ----------------------------------------------------------------------------------------------------------------
def landmark_consistency(images, conditioning, landmarker: Callable[[np.ndarray], np.ndarray | None],
                         mode: str = "minmax",
                         normalise: Callable[[np.ndarray, str], np.ndarray] | None = None) -> dict:
    """Landmarks found on generated faces against the landmarks that conditioned them.

    ``images`` (N, S, S, 3) uint8, or float in [−1, 1] converted by ``to_uint8``; ``conditioning`` (N, 136)
    normalised; ``landmarker(image uint8 (S, S, 3)) -> (68, 2) pixels | None`` (None: no face);
    ``normalise(points (K, 68, 2), mode) -> (K, 136)`` (None: ``zoo.landmark_dcgan.landmarks.normalise``), ``mode``
    the normalisation of ``conditioning`` ("minmax" or "similarity"). With F the frames where a face was found:

    * ``detection_rate`` = |F| / N;
    * ``lmd_normalised`` = LMD over the ``MOUTH`` points between the normalised found landmarks and the
      conditioning on F (normalised units; NaN if F is empty);
    * ``mouth_opening_r`` = Pearson r of the mouth openings of both on F (NaN if |F| < 2 or either is constant);
    * ``found`` (N,) bool; ``points`` (N, 68, 2) float32 pixels (NaN where no face); ``normalised`` (N, 136)
      float32 (NaN rows where no face).
    """
    imgs = np.asarray(images)
    if imgs.ndim != 4 or imgs.shape[-1] != 3 or imgs.shape[0] == 0:
        raise ValueError(f"images must be a batch (N, S, S, 3) of RGB images, got shape {imgs.shape}")
    cond = _landmarks("conditioning", conditioning).reshape(-1, NUM_LANDMARKS, 2)
    if np.asarray(conditioning).ndim not in (2, 3) or cond.shape[0] != imgs.shape[0]:
        raise ValueError(f"conditioning must hold one (136,) vector per image: {imgs.shape[0]} images, "
                         f"conditioning shape {np.shape(conditioning)}")
    if normalise is None:
        from zoo.landmark_dcgan.landmarks import normalise
    pixels = to_uint8(imgs)
    n = pixels.shape[0]
    points = np.full((n, NUM_LANDMARKS, 2), np.nan, dtype=np.float32)
    found = np.zeros(n, dtype=bool)
    for i in range(n):
        result = landmarker(pixels[i])
        if result is None:
            continue
        p = np.asarray(result, dtype=np.float32)
        if p.shape != (NUM_LANDMARKS, 2) or not np.all(np.isfinite(p)):
            what = "shape " + str(p.shape) if p.shape != (NUM_LANDMARKS, 2) else "NaN or inf points"
            raise ValueError(f"landmarker returned {what} for image {i}; expected finite ({NUM_LANDMARKS}, 2) "
                             "pixels or None")
        points[i], found[i] = p, True
    normalised = np.full((n, LANDMARK_DIM), np.nan, dtype=np.float32)
    lmd_value = r = float("nan")
    if found.any():
        got = np.asarray(normalise(points[found], mode), dtype=np.float64)
        if got.shape != (int(found.sum()), LANDMARK_DIM):
            raise ValueError(f"normalise returned shape {got.shape} for {int(found.sum())} faces; expected "
                             f"({int(found.sum())}, {LANDMARK_DIM})")
        normalised[found] = got
        lmd_value = lmd(got, cond[found])
        if found.sum() >= 2:
            r = pearson(mouth_opening(got), mouth_opening(cond[found]))
    rate = float(found.mean())
    logger.info("landmark consistency: face found in %d/%d generated images (%.1f %%), mouth LMD %.4f, "
                "mouth-opening r %.3f", found.sum(), n, 100 * rate, lmd_value, r)
    return {"detection_rate": rate, "lmd_normalised": lmd_value, "mouth_opening_r": r, "found": found,
            "points": points, "normalised": normalised}


# ----------------------------------------------------------------------------------------------------------------
# Nearest-training-frame baseline
# ----------------------------------------------------------------------------------------------------------------
def nearest_frame_indices(train_landmarks, query_landmarks, chunk: int = _NEAREST_CHUNK) -> np.ndarray:
    """(N,) int64 index into ``train_landmarks`` (M, 136) of the row nearest to each query (N, 136) in Euclidean
    distance (exact ties: the lowest index). ‖q − t‖² = ‖q‖² − 2 q·t + ‖t‖² is evaluated ``chunk`` queries at a time
    (memory ∝ chunk · M, never N · M · 136)."""
    train = _landmarks("train_landmarks", train_landmarks).reshape(-1, LANDMARK_DIM)
    query = _landmarks("query_landmarks", query_landmarks).reshape(-1, LANDMARK_DIM)
    if train.shape[0] == 0:
        raise ValueError("train_landmarks is empty: no training frame to pick")
    if not (isinstance(chunk, int | np.integer) and chunk >= 1):
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    train_sq = (train * train).sum(axis=1)
    out = np.empty(query.shape[0], dtype=np.int64)
    for start in range(0, query.shape[0], int(chunk)):
        q = query[start:start + int(chunk)]
        d2 = (q * q).sum(axis=1, keepdims=True) - 2.0 * q @ train.T + train_sq[None, :]
        out[start:start + q.shape[0]] = np.argmin(d2, axis=1)
    return out


def nearest_frame_baseline(train_landmarks, train_images, query_landmarks) -> np.ndarray:
    """(N, S, S, 3): for each query landmark vector (N, 136), the training image (``train_images`` (M, S, S, 3),
    dtype kept) whose landmarks (``train_landmarks`` (M, 136), same order) are nearest in Euclidean distance
    (``nearest_frame_indices``): the "nearest training frame by landmarks" baseline of item 7."""
    imgs = np.asarray(train_images)
    m = _landmarks("train_landmarks", train_landmarks).reshape(-1, LANDMARK_DIM).shape[0]
    if imgs.ndim != 4 or imgs.shape[0] != m:
        raise ValueError(f"train_images must be (M, S, S, C) with one image per landmark row: {m} landmark rows, "
                         f"images shape {imgs.shape}")
    return imgs[nearest_frame_indices(train_landmarks, query_landmarks)]
