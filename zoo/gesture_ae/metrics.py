"""Motion metrics of Aud2Repr2Pose (specs/gesture_ae.md §5, §9 "Standard objective metrics", §10 item 10).

Positions are float (T, J, 3) in dataset units (the authors call them cm; J = 64 nodes in ``NODE_NAMES`` order) at
``FPS`` = 20; the original's flat (T, 192) rows (x, y, z per node) are accepted too. Δ is the frame difference
(not divided by dt). Per joint j of one sequence, as the original ``evaluation/`` scripts:

* APE_j = (1/T) Σ_t ‖p̂_tj − p_tj‖₂ (cm), MAE_j = (1/(3T)) Σ_t Σ_c |p̂_tjc − p_tjc| (cm); prediction and ground
  truth are first cut to the common length T (the original pairs files and cuts);
* AJ_j = (1/(T−3)) Σ_t ‖Δ³p_tj‖₂, AA_j = (1/(T−2)) Σ_t ‖Δ²p_tj‖₂: ``units="frame"`` gives cm/frame³ and cm/frame²
  (the original), ``units="second"`` multiplies by fps³ and fps² (cm/s³, cm/s²: the GENEA scripts);
* speed s_tj = ‖Δp_tj‖₂ (cm/frame; × fps for cm/s), histogrammed per joint with edges 0, 0.05, …, 1.0 cm/frame
  (0…20 cm/s), pooled over all sequences; speeds above the top edge are discarded (the original's rule) or, with
  ``clip=True``, counted in the last bin; "total" sums the joints' counts;
* Hellinger H(p, q) = √(1 − Σ_i √(p_i q_i)) of two normalised histograms (0 = identical, 1 = disjoint);
* FGD (Fréchet gesture distance, Yoon et al. 2020) = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2(Σ_r Σ_g)^½) of Gaussian fits
  to the 32-dim window features of ``MotionFeatureAE``, a small convolutional autoencoder trained on the training
  split (unitless).

Joint subsets are declared here, before any result (§10 item 10): ``HAND_NODES`` = LeftHand, RightHand (the wrists;
the original's speed plots) and ``ARM_NODES`` = LeftArm, LeftForeArm, LeftHand and the right ones (shoulder, elbow,
wrist in the original README's mapping; clavicles and fingers excluded). APE, MAE, AJ and AA are reported over all
64 nodes (the original's printed score, static root, legs and end sites included) and over ``ARM_NODES``.

NumPy/SciPy only at import: TensorFlow/Keras are imported inside the FGD autoencoder's functions.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from zoo.datasets.bvh import gesture_skeleton
from zoo.datasets.errors import DataError

__all__ = ["NODE_NAMES", "NODE_INDEX", "HAND_NODES", "ARM_NODES", "FPS", "joint_indices", "ape", "mae",
           "average_jerk", "average_acceleration", "speeds", "SpeedHistogram", "speed_histogram", "hellinger",
           "HellingerSummary", "hellinger_one2one", "feature_statistics", "frechet_distance", "MotionFeatureAE",
           "train_fgd_encoder", "fgd", "evaluate_motion", "mean_pose_baseline", "rest_pose_baseline"]

logger = logging.getLogger(__name__)

FPS = 20

# The 64 FK nodes in file order (the dataset's hierarchy; evaluation/joints.txt's names, End Sites as Site1..13).
NODE_NAMES = gesture_skeleton().names
NODE_INDEX = {name: i for i, name in enumerate(NODE_NAMES)}

HAND_NODES = ("LeftHand", "RightHand")  # wrists: the speed histograms / Hellinger of the original plots
ARM_NODES = ("LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm", "RightHand")  # shoulder, elbow, wrist

UNITS = ("frame", "second")
SPEED_BIN_WIDTH = 0.05  # cm/frame: calc_distance -w 0.05
SPEED_MAX = 1.0  # cm/frame: top edge; faster frames are discarded (= 20 cm/s at 20 fps)

FGD_WINDOW = 34  # frames per feature window (Yoon et al.'s 34-frame clips)
FGD_FEATURE_DIM = 32
FGD_CHANNELS = 64
FGD_STRIDE = 17  # frames between feature windows (half-window overlap)
FGD_STD_FLOOR = 1.0  # cm: per-dimension std floor of the AE normalisation (the fixed root has std 0)
_AE_WEIGHTS = "fgd_ae.weights.h5"
_AE_CONFIG = "fgd_ae.json"


# ----------------------------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------------------------
def _positions(name: str, x, min_frames: int = 1) -> np.ndarray:
    """``x`` as float64 (T, J, 3): (T, J, 3) as is, (T, 3J) as the original's rows; finite, T ≥ ``min_frames``."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] % 3 == 0 and a.shape[1] > 0:
        a = a.reshape(a.shape[0], -1, 3)
    if a.ndim != 3 or a.shape[-1] != 3 or a.shape[1] < 1:
        raise ValueError(f"{name} must have shape (T, J, 3) or (T, 3J), got {np.shape(x)}")
    if a.shape[0] < min_frames:
        raise ValueError(f"{name} has {a.shape[0]} frames; this measure needs at least {min_frames}")
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} contains NaN or inf (first at frame {bad[0]}, joint {bad[1]}, axis {bad[2]})")
    return a


def _sequences(name: str, seqs, min_frames: int = 1) -> list[np.ndarray]:
    """A non-empty list of (T_n, J, 3) float64 sequences with one J; a single (T, J, 3) array is one sequence."""
    if isinstance(seqs, np.ndarray) and seqs.ndim == 3 and seqs.shape[-1] == 3:
        seqs = [seqs]
    out = [_positions(f"{name}[{n}]", s, min_frames) for n, s in enumerate(seqs)]
    if not out:
        raise ValueError(f"{name} is empty: no sequences given")
    for n, s in enumerate(out):
        if s.shape[1] != out[0].shape[1]:
            raise ValueError(f"{name}[{n}] has {s.shape[1]} joints but {name}[0] has {out[0].shape[1]}")
    return out


def _cut_pair(pred, true, pred_name: str = "pred", true_name: str = "true",
              min_frames: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Both cut to the common length min(T_pred, T_true) (the original's pairing rule); same J required."""
    p, g = _positions(pred_name, pred, min_frames), _positions(true_name, true, min_frames)
    if p.shape[1] != g.shape[1]:
        raise ValueError(f"{pred_name} has {p.shape[1]} joints but {true_name} has {g.shape[1]}")
    n = min(p.shape[0], g.shape[0])
    return p[:n], g[:n]


def _units(units: str) -> str:
    if units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, got {units!r}")
    return units


def _fps(fps) -> float:
    if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    return float(fps)


def joint_indices(joints: Iterable[str | int] | None, num_joints: int = len(NODE_NAMES)) -> np.ndarray:
    """Indices of ``joints`` (names from ``NODE_NAMES`` or integer indices) into J = ``num_joints``; None = all."""
    if joints is None:
        return np.arange(num_joints)
    if isinstance(joints, str):
        joints = (joints,)
    out = []
    for j in joints:
        if isinstance(j, str):
            if num_joints != len(NODE_NAMES):
                raise ValueError(f"joint name {j!r} needs the {len(NODE_NAMES)}-node skeleton, got J = {num_joints}")
            if j not in NODE_INDEX:
                raise ValueError(f"unknown joint {j!r}; known nodes are NODE_NAMES (joints.txt)")
            out.append(NODE_INDEX[j])
        elif isinstance(j, int | np.integer) and 0 <= int(j) < num_joints:
            out.append(int(j))
        else:
            raise ValueError(f"joint {j!r} is neither a node name nor an index in [0, {num_joints})")
    if not out:
        raise ValueError("joints is empty: select at least one joint")
    return np.asarray(out, dtype=np.int64)


# ----------------------------------------------------------------------------------------------------------------
# Errors against ground truth and motion statistics
# ----------------------------------------------------------------------------------------------------------------
def ape(pred, true) -> np.ndarray:
    """Per-joint (J,) APE_j = (1/T) Σ_t ‖p̂_tj − p_tj‖₂ in cm, after cutting both to the common length T."""
    p, g = _cut_pair(pred, true)
    return np.linalg.norm(p - g, axis=-1).mean(axis=0)


def mae(pred, true) -> np.ndarray:
    """Per-joint (J,) MAE_j = (1/(3T)) Σ_t Σ_{c∈xyz} |p̂_tjc − p_tjc| in cm, after cutting to the common length T."""
    p, g = _cut_pair(pred, true)
    return np.abs(p - g).mean(axis=(0, 2))


def average_jerk(positions, units: str = "frame", fps: float = FPS) -> np.ndarray:
    """Per-joint (J,) AJ_j = (1/(T−3)) Σ_t ‖Δ³p_tj‖₂: cm/frame³ (``units="frame"``, the original) or × fps³ =
    cm/s³ (``units="second"``, the GENEA scripts; × 8000 at 20 fps). Needs T ≥ 4."""
    scale = _fps(fps) ** 3 if _units(units) == "second" else 1.0
    p = _positions("positions", positions, min_frames=4)
    return np.linalg.norm(np.diff(p, n=3, axis=0), axis=-1).mean(axis=0) * scale


def average_acceleration(positions, units: str = "frame", fps: float = FPS) -> np.ndarray:
    """Per-joint (J,) AA_j = (1/(T−2)) Σ_t ‖Δ²p_tj‖₂: cm/frame² (``units="frame"``, the original) or × fps² =
    cm/s² (``units="second"``, the GENEA scripts; × 400 at 20 fps). Needs T ≥ 3."""
    scale = _fps(fps) ** 2 if _units(units) == "second" else 1.0
    p = _positions("positions", positions, min_frames=3)
    return np.linalg.norm(np.diff(p, n=2, axis=0), axis=-1).mean(axis=0) * scale


def speeds(positions, units: str = "frame", fps: float = FPS) -> np.ndarray:
    """(T−1, J) speeds s_tj = ‖p_{t+1,j} − p_tj‖₂: cm/frame (``units="frame"``) or × fps = cm/s (``"second"``)."""
    scale = _fps(fps) if _units(units) == "second" else 1.0
    p = _positions("positions", positions)
    return np.linalg.norm(np.diff(p, axis=0), axis=-1) * scale


# ----------------------------------------------------------------------------------------------------------------
# Speed histograms and the Hellinger distance
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeedHistogram:
    """Speed histograms of the selected joints, pooled over sequences.

    ``edges`` (bins + 1,) in ``units`` (cm/frame or cm/s); ``counts`` (J_sel, bins) raw counts per joint;
    ``joints`` the selected node indices; ``above_fraction`` the share of speeds above the top edge (discarded, or
    counted in the last bin when ``clipped``).
    """

    edges: np.ndarray
    counts: np.ndarray
    joints: tuple[int, ...]
    units: str
    above_fraction: float
    clipped: bool

    @property
    def discarded_fraction(self) -> float:
        """Share of all speeds left out of the counts (0 when ``clipped``)."""
        return 0.0 if self.clipped else self.above_fraction

    @property
    def per_joint(self) -> np.ndarray:
        """(J_sel, bins) each joint's counts / their sum (a row of zeros where a joint has no counted speed)."""
        total = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, total, out=np.zeros(self.counts.shape), where=total > 0)

    @property
    def total_counts(self) -> np.ndarray:
        """(bins,) the original's "Total": counts summed over the selected joints."""
        return self.counts.sum(axis=0)

    @property
    def total(self) -> np.ndarray:
        """(bins,) ``total_counts`` normalised to sum 1 (zeros if nothing was counted)."""
        c = self.total_counts
        return c / c.sum() if c.sum() > 0 else np.zeros(c.shape)


def _speed_edges(bins: int, max_speed: float) -> np.ndarray:
    if not (isinstance(bins, int | np.integer) and bins >= 1):
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    if not (isinstance(max_speed, int | float) and math.isfinite(max_speed) and max_speed > 0):
        raise ValueError(f"max_speed must be a positive number (cm/frame), got {max_speed!r}")
    return np.linspace(0.0, float(max_speed), int(bins) + 1)


def _bin_counts(s: np.ndarray, edges: np.ndarray, clip: bool) -> tuple[np.ndarray, int]:
    """(J, bins) counts of speeds ``s`` (N, J) under np.histogram's rule (bins [e_i, e_{i+1}), the last one closed);
    speeds above the top edge are dropped or, with ``clip``, counted in the last bin. Also returns how many were
    above."""
    bins, num_joints = edges.size - 1, s.shape[1]
    b = np.searchsorted(edges, s, side="right") - 1
    b[s == edges[-1]] = bins - 1
    above = s > edges[-1]
    if clip:
        b[above] = bins - 1
    keep = (b >= 0) & (b < bins) & (clip | ~above)
    flat = (np.broadcast_to(np.arange(num_joints), s.shape) * bins + b)[keep]
    return np.bincount(flat, minlength=num_joints * bins).reshape(num_joints, bins), int(above.sum())


def speed_histogram(sequences, joints: Iterable[str | int] | None = HAND_NODES, bins: int = 20,
                    max_speed: float = SPEED_MAX, units: str = "frame", clip: bool = False,
                    fps: float = FPS) -> SpeedHistogram:
    """Speed histograms of ``joints`` pooled over ``sequences`` (each (T, J, 3) in cm), as calc_distance -w 0.05.

    Edges are linspace(0, ``max_speed``, ``bins`` + 1) in cm/frame (default 0, 0.05, …, 1.0; = 0…20 cm/s at
    20 fps); the counts do not depend on ``units``, which only sets the unit of the returned edges (cm/frame, or
    × fps = cm/s). Speeds above ``max_speed`` are discarded (the original) or, with ``clip``, put in the last bin.
    """
    edges = _speed_edges(bins, max_speed)
    scale = _fps(fps) if _units(units) == "second" else 1.0
    seqs = _sequences("sequences", sequences)
    idx = joint_indices(joints, seqs[0].shape[1])
    s = np.concatenate([np.linalg.norm(np.diff(p[:, idx], axis=0), axis=-1) for p in seqs], axis=0)
    counts, above = _bin_counts(s, edges, clip)
    return SpeedHistogram(edges=edges * scale, counts=counts, joints=tuple(int(i) for i in idx), units=units,
                          above_fraction=above / s.size if s.size else 0.0, clipped=bool(clip))


def hellinger(p, q) -> float:
    """H = √(1 − Σ_i √(p_i q_i)) of two histograms, each first normalised to sum 1 (unitless, in [0, 1])."""
    a, b = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"hellinger needs two 1-D histograms of one length, got {a.shape} and {b.shape}")
    for name, h in (("p", a), ("q", b)):
        if not np.all(np.isfinite(h)) or np.any(h < 0) or h.sum() <= 0:
            raise ValueError(f"histogram {name} must be finite, non-negative and not all zero")
    bc = np.sqrt(a / a.sum() * (b / b.sum())).sum()
    return float(np.sqrt(max(1.0 - bc, 0.0)))


class HellingerSummary(NamedTuple):
    """hellinger_one2one's result: per-sequence mean and std (ddof 0), and H of the summed histograms."""

    mean: float
    std: float
    overall: float


def hellinger_one2one(pred_seqs, true_seqs, joints: Iterable[str | int] | None = HAND_NODES, bins: int = 20,
                      max_speed: float = SPEED_MAX, clip: bool = False) -> HellingerSummary:
    """Hellinger distance of the speed histograms of ``joints`` ("total": counts summed over the joints), per
    sequence pair (mean ± std over pairs) and overall on the histograms summed over all sequences, as
    hellinger_one2one.py. Sequences are paired by position; lengths need not match (histograms are not cut)."""
    preds, trues = _sequences("pred_seqs", pred_seqs), _sequences("true_seqs", true_seqs)
    if len(preds) != len(trues):
        raise ValueError(f"need one prediction per sequence: {len(preds)} predictions, {len(trues)} ground truths")
    edges = _speed_edges(bins, max_speed)
    idx = joint_indices(joints, trues[0].shape[1])
    if preds[0].shape[1] != trues[0].shape[1]:
        raise ValueError(f"pred_seqs have {preds[0].shape[1]} joints but true_seqs have {trues[0].shape[1]}")
    per_seq, sum_p, sum_t = [], np.zeros(int(bins)), np.zeros(int(bins))
    for n, (p, t) in enumerate(zip(preds, trues)):
        hp, ht = (_bin_counts(np.linalg.norm(np.diff(x[:, idx], axis=0), axis=-1), edges, clip)[0].sum(axis=0)
                  for x in (p, t))
        for name, h in ((f"pred_seqs[{n}]", hp), (f"true_seqs[{n}]", ht)):
            if h.sum() == 0:
                raise ValueError(f"{name} has no speed inside the histogram range (fewer than 2 frames, or every "
                                 f"speed above {max_speed} cm/frame); use clip=True to keep fast frames")
        per_seq.append(hellinger(hp, ht))
        sum_p, sum_t = sum_p + hp, sum_t + ht
    return HellingerSummary(float(np.mean(per_seq)), float(np.std(per_seq)), hellinger(sum_p, sum_t))


# ----------------------------------------------------------------------------------------------------------------
# Fréchet distance
# ----------------------------------------------------------------------------------------------------------------
def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(μ, Σ) of features (N, D): the mean (D,) and the unbiased covariance (D, D) (ddof 1; N ≥ 2)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape (N, D) with N ≥ 2, got {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or inf")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (eigenvalues below 0 from rounding are set to 0)."""
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """d² = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1 Σ2)^½) between N(μ1, Σ1) and N(μ2, Σ2) (units² of the features).

    Tr((Σ1 Σ2)^½) = Σ_i √λ_i with λ the eigenvalues of Σ1^½ Σ2 Σ1^½ (similar to Σ1 Σ2, symmetric PSD), so singular
    or near-singular covariances need no ε and the result is real; tiny negative totals from rounding become 0.
    """
    m1, m2 = np.asarray(mu1, np.float64).ravel(), np.asarray(mu2, np.float64).ravel()
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = m1.size
    if m2.size != d or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"need means (D,) and covariances (D, D) of one D: {m1.shape}, {s1.shape}, {m2.shape}, "
                         f"{s2.shape}")
    if not all(np.all(np.isfinite(x)) for x in (m1, m2, s1, s2)):
        raise ValueError("means and covariances must be finite")
    root1 = _psd_sqrt(s1)
    inner = root1 @ s2 @ root1
    eig = np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)
    dist = float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * np.sqrt(eig).sum())
    return max(dist, 0.0)


# ----------------------------------------------------------------------------------------------------------------
# The FGD feature autoencoder (TensorFlow/Keras imported inside)
# ----------------------------------------------------------------------------------------------------------------
class MotionFeatureAE:
    """A small 1-D convolutional autoencoder over windows of ``window`` frames × D = 3J positions (192 for 64 nodes).

    Input x = (window − μ)/σ with the training split's per-dimension mean μ and std σ (σ floored at
    ``FGD_STD_FLOOR`` cm, so the fixed root does not blow up). Encoder: Conv1D(C, 4, stride 2) → LeakyReLU(0.2) →
    Conv1D(C, 4, stride 2) → LeakyReLU → Flatten → Dense(``feature_dim``) (the feature, linear). Decoder (mirror):
    Dense → LeakyReLU → Reshape → [UpSampling1D(2) → Conv1D(4)] × 2 (LeakyReLU, then linear D) → crop to ``window``.
    C = ``channels`` = 64 gives ≈ 169k weights for D = 192. Weights are initialised from ``seed``.
    """

    def __init__(self, mean, std, *, window: int = FGD_WINDOW, feature_dim: int = FGD_FEATURE_DIM,
                 channels: int = FGD_CHANNELS, stride: int = FGD_STRIDE, seed: int = 0, info: dict | None = None):
        self.mean = np.asarray(mean, np.float32).ravel()
        self.std = np.asarray(std, np.float32).ravel()
        if self.mean.size == 0 or self.mean.size % 3 or self.std.shape != self.mean.shape or np.any(self.std <= 0):
            raise ValueError(f"mean and std must be (3J,) with std > 0, got {self.mean.shape} and {self.std.shape}")
        for name, v in (("window", window), ("feature_dim", feature_dim), ("channels", channels), ("stride", stride)):
            if not (isinstance(v, int | np.integer) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if window < 4:
            raise ValueError(f"window must be at least 4 frames, got {window}")
        self.window, self.feature_dim, self.channels = int(window), int(feature_dim), int(channels)
        self.stride, self.seed = int(stride), int(seed)
        self.info = dict(info or {})  # training record: steps, seconds, final loss, windows, frames
        self._autoencoder = None
        self._encoder = None

    @property
    def num_values(self) -> int:
        """D = 3J values per frame."""
        return int(self.mean.size)

    def _build(self) -> None:
        import keras
        from keras import layers

        w, c, d = self.window, self.channels, self.num_values
        reduced = math.ceil(math.ceil(w / 2) / 2)  # frames after the two stride-2 "same" convolutions

        def init(k: int):
            return keras.initializers.GlorotUniform(seed=self.seed * 100 + k)

        x_in = keras.Input((w, d), name="window")
        x = layers.Conv1D(c, 4, strides=2, padding="same", kernel_initializer=init(1), name="enc_conv1")(x_in)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Conv1D(c, 4, strides=2, padding="same", kernel_initializer=init(2), name="enc_conv2")(x)
        x = layers.LeakyReLU(0.2)(x)
        feature = layers.Dense(self.feature_dim, kernel_initializer=init(3), name="feature")(layers.Flatten()(x))
        encoder = keras.Model(x_in, feature, name="fgd_encoder")

        z_in = keras.Input((self.feature_dim,), name="feature")
        y = layers.Dense(reduced * c, kernel_initializer=init(4), name="dec_dense")(z_in)
        y = layers.Reshape((reduced, c))(layers.LeakyReLU(0.2)(y))
        y = layers.Conv1D(c, 4, padding="same", kernel_initializer=init(5), name="dec_conv1")(layers.UpSampling1D(2)(y))
        y = layers.LeakyReLU(0.2)(y)
        y = layers.Conv1D(d, 4, padding="same", kernel_initializer=init(6), name="dec_conv2")(layers.UpSampling1D(2)(y))
        extra = 4 * reduced - w
        y = layers.Cropping1D((extra // 2, extra - extra // 2))(y)
        decoder = keras.Model(z_in, y, name="fgd_decoder")

        self._encoder = encoder
        self._autoencoder = keras.Model(x_in, decoder(encoder(x_in)), name="fgd_autoencoder")

    @property
    def autoencoder(self):
        """The Keras encoder → decoder model (built on first use)."""
        if self._autoencoder is None:
            self._build()
        return self._autoencoder

    @property
    def encoder(self):
        """The Keras encoder: (B, window, D) normalised → (B, feature_dim)."""
        if self._encoder is None:
            self._build()
        return self._encoder

    def normalise(self, sequences, name: str = "sequences") -> list[np.ndarray]:
        """Each (T, J, 3) sequence as float32 (T, D) rows (x − μ)/σ; J must match the training skeleton."""
        out = []
        for n, p in enumerate(_sequences(name, sequences)):
            if p.shape[1] * 3 != self.num_values:
                raise ValueError(f"{name}[{n}] has {p.shape[1]} joints; this encoder was trained on "
                                 f"{self.num_values // 3}")
            out.append(((p.reshape(p.shape[0], -1) - self.mean) / self.std).astype(np.float32))
        return out

    def windows(self, sequences, stride: int | None = None, name: str = "sequences") -> np.ndarray:
        """(N, window, D) normalised windows starting every ``stride`` frames (default ``self.stride``) of each
        sequence; sequences shorter than one window give none."""
        step = self.stride if stride is None else int(stride)
        if step < 1:
            raise ValueError(f"stride must be a positive integer, got {stride!r}")
        out = [x[s:s + self.window] for x in self.normalise(sequences, name)
               for s in range(0, x.shape[0] - self.window + 1, step)]
        if not out:
            raise ValueError(f"{name}: no sequence has the {self.window} frames one feature window needs")
        return np.stack(out)

    def features(self, sequences, stride: int | None = None, name: str = "sequences") -> np.ndarray:
        """(N, feature_dim) float64 encoder features of the windows of ``sequences`` (see ``windows``)."""
        x = self.windows(sequences, stride, name)
        enc = self.encoder
        parts = [np.asarray(enc(x[i:i + 512], training=False)) for i in range(0, x.shape[0], 512)]
        return np.concatenate(parts).astype(np.float64)

    def config(self) -> dict:
        return {"window": self.window, "feature_dim": self.feature_dim, "channels": self.channels,
                "stride": self.stride, "seed": self.seed, "mean": self.mean.tolist(), "std": self.std.tolist(),
                "info": self.info}

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path``/fgd_ae.weights.h5 (encoder + decoder weights) and ``path``/fgd_ae.json (architecture,
        normalisation μ/σ in cm, training record); ``path`` is a directory, made if missing. Returns it."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.autoencoder.save_weights(str(folder / _AE_WEIGHTS))
        (folder / _AE_CONFIG).write_text(json.dumps(self.config(), indent=1) + "\n")
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike) -> MotionFeatureAE:
        """The autoencoder saved by ``save`` in directory ``path``."""
        folder = Path(path)
        cfg_path, weights_path = folder / _AE_CONFIG, folder / _AE_WEIGHTS
        for f in (cfg_path, weights_path):
            if not f.is_file():
                raise DataError(f, "missing: not a saved FGD autoencoder (MotionFeatureAE.save writes "
                                   f"{_AE_CONFIG} and {_AE_WEIGHTS})")
        try:
            cfg = json.loads(cfg_path.read_text())
            model = cls(cfg["mean"], cfg["std"], window=cfg["window"], feature_dim=cfg["feature_dim"],
                        channels=cfg["channels"], stride=cfg["stride"], seed=cfg["seed"], info=cfg.get("info"))
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(cfg_path, f"not a valid FGD autoencoder config: {e}") from e
        try:
            model.autoencoder.load_weights(str(weights_path))
        except (ValueError, OSError) as e:
            raise DataError(weights_path, f"weights do not fit the saved architecture: {e}") from e
        return model


def train_fgd_encoder(train_seqs, steps: int = 1000, seed: int = 0, *, batch_size: int = 64,
                      learning_rate: float = 1e-3, window: int = FGD_WINDOW, feature_dim: int = FGD_FEATURE_DIM,
                      channels: int = FGD_CHANNELS, stride: int = FGD_STRIDE,
                      std_floor: float = FGD_STD_FLOOR) -> MotionFeatureAE:
    """Train a ``MotionFeatureAE`` on the training split's motion (sequences (T, J, 3) in cm at 20 fps).

    μ, σ per dimension over all training frames (σ ≥ ``std_floor`` cm); ``steps`` Adam steps (lr
    ``learning_rate``) on the MSE of normalised windows, each batch = ``batch_size`` windows whose start frames are
    drawn uniformly (numpy generator of ``seed``) from every start of every sequence. Weights are seeded too, so
    on CPU the same data, steps and seed give the same encoder.
    """
    import keras

    if not (isinstance(steps, int | np.integer) and steps >= 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    seqs = _sequences("train_seqs", train_seqs)
    frames = np.concatenate([p.reshape(p.shape[0], -1) for p in seqs])
    mean, std = frames.mean(axis=0), np.maximum(frames.std(axis=0), float(std_floor))
    model = MotionFeatureAE(mean, std, window=window, feature_dim=feature_dim, channels=channels, stride=stride,
                            seed=seed)
    normalised = model.normalise(seqs, "train_seqs")
    starts, offset = [], 0
    for x in normalised:
        starts.append(offset + np.arange(max(x.shape[0] - model.window + 1, 0)))
        offset += x.shape[0]
    starts = np.concatenate(starts)
    if starts.size == 0:
        raise ValueError(f"train_seqs: no sequence has the {model.window} frames one training window needs")
    data = np.concatenate(normalised)
    ae = model.autoencoder
    ae.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    rng = np.random.default_rng(seed)
    span = np.arange(model.window)
    began, loss = time.perf_counter(), float("nan")
    for _ in range(int(steps)):
        batch = data[rng.choice(starts, size=batch_size)[:, None] + span]
        loss = float(np.asarray(ae.train_on_batch(batch, batch)))
    seconds = time.perf_counter() - began
    model.info = {"steps": int(steps), "batch_size": int(batch_size), "learning_rate": float(learning_rate),
                  "final_loss": loss, "train_seconds": round(seconds, 2), "train_frames": int(data.shape[0]),
                  "train_windows": int(starts.size), "num_weights": int(ae.count_params())}
    logger.info("FGD autoencoder: %d steps in %.1f s, final normalised MSE %.4f, %d weights, %d training frames",
                steps, seconds, loss, ae.count_params(), data.shape[0])
    return model


def fgd(encoder: MotionFeatureAE, real_seqs, generated_seqs, stride: int | None = None) -> float:
    """FGD = Fréchet distance of the Gaussian fits of ``encoder.features`` of real and generated sequences
    (unitless; 0 for identical sets)."""
    real = feature_statistics(encoder.features(real_seqs, stride, "real_seqs"))
    gen = feature_statistics(encoder.features(generated_seqs, stride, "generated_seqs"))
    return frechet_distance(*real, *gen)


# ----------------------------------------------------------------------------------------------------------------
# Report and baselines
# ----------------------------------------------------------------------------------------------------------------
def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


def evaluate_motion(pred_seqs, true_seqs, fps: float = FPS, fgd_encoder: MotionFeatureAE | None = None,
                    arm_joints: Iterable[str | int] = ARM_NODES,
                    hand_joints: Iterable[str | int] = HAND_NODES) -> dict:
    """All measures of predicted vs true sequences (paired by position, each (T, 64, 3) in cm at ``fps``).

    Each pair is cut to its common length for APE, MAE, AJ and AA (needs ≥ 4 frames). Per sequence, a measure is
    averaged over the joints (all 64 nodes, or ``arm_joints`` for the ``_arms`` keys); the reported value is the
    mean over sequences (every file weighted equally, the original's printed score) and ``_std`` its std over
    sequences (ddof 0, the GENEA scripts' ±). Keys (cm = dataset units):

    * ``ape_cm``, ``mae_cm`` (+ ``_arms``, ``_std``);
    * ``aj_cm_per_s3``, ``aa_cm_per_s2`` of the prediction and ``aj_true_cm_per_s3``, ``aa_true_cm_per_s2`` of the
      ground truth (× fps³, × fps²: divide by 8000 / 400 for the original's cm/frame³, cm/frame² at 20 fps);
    * ``hellinger_hands`` (on the summed histograms), ``hellinger_hands_mean``/``_std`` (per sequence), and the same
      for ``_arms`` and ``_all`` (speed histograms 0…1 cm/frame, 20 bins, "total" over the joints; not cut);
    * ``speed_discarded_pred``, ``speed_discarded_true``: share of hand speeds above 1 cm/frame left out;
    * ``fgd`` when ``fgd_encoder`` is given; ``num_sequences``, ``num_frames`` (after cutting).
    """
    rate = _fps(fps)
    preds, trues = _sequences("pred_seqs", pred_seqs), _sequences("true_seqs", true_seqs)
    if len(preds) != len(trues):
        raise ValueError(f"need one prediction per sequence: {len(preds)} predictions, {len(trues)} ground truths")
    num_joints = trues[0].shape[1]
    arms, hands = joint_indices(arm_joints, num_joints), joint_indices(hand_joints, num_joints)
    rows: dict[str, list[float]] = {}
    num_frames = 0
    for n, (pred, true) in enumerate(zip(preds, trues)):
        p, g = _cut_pair(pred, true, f"pred_seqs[{n}]", f"true_seqs[{n}]", min_frames=4)
        num_frames += p.shape[0]
        per_joint = {"ape_cm": ape(p, g), "mae_cm": mae(p, g),
                     "aj_cm_per_s3": average_jerk(p, "second", rate),
                     "aa_cm_per_s2": average_acceleration(p, "second", rate),
                     "aj_true_cm_per_s3": average_jerk(g, "second", rate),
                     "aa_true_cm_per_s2": average_acceleration(g, "second", rate)}
        for key, values in per_joint.items():
            stem, unit = key.split("_cm")
            rows.setdefault(key, []).append(float(values.mean()))
            rows.setdefault(f"{stem}_arms_cm{unit}", []).append(float(values[arms].mean()))
    out: dict = {"num_sequences": len(trues), "num_frames": num_frames, "fps": rate}
    for key, values in rows.items():
        out[key], out[f"{key}_std"] = _mean_std(values)
    for name, idx in (("hands", hands), ("arms", arms), ("all", None)):
        h = hellinger_one2one(preds, trues, idx)
        out[f"hellinger_{name}"], out[f"hellinger_{name}_mean"], out[f"hellinger_{name}_std"] = (
            h.overall, h.mean, h.std)
    out["speed_discarded_pred"] = speed_histogram(preds, hands).discarded_fraction
    out["speed_discarded_true"] = speed_histogram(trues, hands).discarded_fraction
    if fgd_encoder is not None:
        out["fgd"] = fgd(fgd_encoder, trues, preds)
    return out


def _lengths(lengths) -> list[int]:
    out = [int(n) for n in np.atleast_1d(np.asarray(lengths))]
    if not out or min(out) < 1:
        raise ValueError(f"lengths must be one or more positive frame counts, got {lengths!r}")
    return out


def mean_pose_baseline(train_seqs, lengths) -> list[np.ndarray]:
    """Sequences (L_n, J, 3) that hold the mean pose of all training frames (cm) still, one per length in
    ``lengths``: the "mean pose" row of the learned-vs-baseline table."""
    seqs = _sequences("train_seqs", train_seqs)
    mean = np.concatenate(seqs).mean(axis=0)
    return [np.repeat(mean[None], n, axis=0) for n in _lengths(lengths)]


def rest_pose_baseline(rest, lengths) -> list[np.ndarray]:
    """Sequences (L_n, J, 3) that hold the rest pose ``rest`` ((J, 3) or (3J,) in cm, e.g. the FK of all-zero
    rotations) still, one per length in ``lengths``."""
    pose = _positions("rest", np.asarray(rest, np.float64).reshape(1, -1))[0]
    return [np.repeat(pose[None], n, axis=0) for n in _lengths(lengths)]
