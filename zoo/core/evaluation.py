"""Evaluation of predicted curves against references, always beside the mean-pose baseline.

For predictions ŷ and references y (frames × channels), pooled over held-out clips:

* MSE = mean((y − ŷ)²) over frames and channels; the baseline is the same with ŷ = the training
  set's mean pose (a constant), ``mse_ratio`` = MSE / MSE_mean_pose (< 1 beats the baseline);
* motion MSE = mean((Δy − Δŷ)²) of consecutive-frame differences within each clip; its baseline,
  mean(Δy²), is the motion error of any constant prediction;
* Pearson r per channel over the pooled frames: NaN where the reference y is constant (the channel
  has no variance to follow and is not scored), 0 where y varies and the prediction ŷ is constant
  (a channel the model does not move counts against it, it is not dropped);
* for each named channel subset S (declared by the model from its rig, before any result):
  MSE and mean-pose MSE over S, and the mean r over the channels of S whose reference varies.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


def pearson_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two 1-D series; NaN when either is constant."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def channel_r(reference: np.ndarray, prediction: np.ndarray) -> float:
    """The scored r of one channel: NaN for a constant reference, 0 for a constant prediction of a varying
    one, else Pearson r."""
    if np.ptp(reference) == 0:
        return float("nan")
    return 0.0 if np.ptp(prediction) == 0 else pearson_r(reference, prediction)


@dataclass
class SubsetScore:
    channels: tuple[str, ...]
    mse: float
    mse_mean_pose: float
    r: float


@dataclass
class Evaluation:
    names: tuple[str, ...]
    mse: float
    mse_mean_pose: float
    motion_mse: float
    motion_mse_mean_pose: float
    per_channel_r: dict[str, float] = field(default_factory=dict)
    subsets: dict[str, SubsetScore] = field(default_factory=dict)
    frames: int = 0

    @property
    def mse_ratio(self) -> float:
        return self.mse / self.mse_mean_pose if self.mse_mean_pose > 0 else float("nan")

    def summary(self) -> dict:
        """Flat numbers for logs and reports: the totals, ``mean_r`` over finite channels, and
        ``<subset>_mse``, ``<subset>_mse_mean_pose``, ``<subset>_r`` for each subset."""
        finite = [r for r in self.per_channel_r.values() if np.isfinite(r)]
        out = {"mse": self.mse, "mse_mean_pose": self.mse_mean_pose, "mse_ratio": self.mse_ratio,
               "motion_mse": self.motion_mse, "motion_mse_mean_pose": self.motion_mse_mean_pose,
               "mean_r": float(np.mean(finite)) if finite else float("nan")}
        for name, s in self.subsets.items():
            out.update({f"{name}_mse": s.mse, f"{name}_mse_mean_pose": s.mse_mean_pose, f"{name}_r": s.r})
        return {**out, "frames": self.frames}

    def to_dict(self) -> dict:
        """``summary()`` + per-channel r, the channel names and each subset's channels (``<subset>_channels``)."""
        return {**self.summary(), "per_channel_r": dict(self.per_channel_r), "names": list(self.names),
                **{f"{name}_channels": list(s.channels) for name, s in self.subsets.items()}}


def evaluate_curves(predictions: Sequence[np.ndarray], references: Sequence[np.ndarray], names: Sequence[str],
                    mean_pose: np.ndarray, subsets: Mapping[str, Sequence[str]] | None = None) -> Evaluation:
    """Score per-clip (frames, channels) predictions against references (formulas in the module docstring)."""
    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    for p, r in zip(predictions, references):
        if p.shape != r.shape or p.ndim != 2 or p.shape[1] != len(names):
            raise ValueError(f"prediction {p.shape} vs reference {r.shape} for {len(names)} channels")
    names = tuple(names)
    y = np.concatenate(references).astype(np.float64)
    p = np.concatenate(predictions).astype(np.float64)
    mean_pose = np.asarray(mean_pose, np.float64)
    if mean_pose.shape != (len(names),):
        raise ValueError(f"mean pose {mean_pose.shape} for {len(names)} channels")
    dy = np.concatenate([np.diff(r, axis=0) for r in references]).astype(np.float64)
    dp = np.concatenate([np.diff(q, axis=0) for q in predictions]).astype(np.float64)
    per_channel = {n: channel_r(y[:, k], p[:, k]) for k, n in enumerate(names)}
    scores = {}
    for subset, channels in (subsets or {}).items():
        unknown = [c for c in channels if c not in names]
        if unknown:
            raise ValueError(f"subset {subset!r} names channels the model lacks: {unknown[:5]}")
        k = [names.index(c) for c in channels]
        finite = [per_channel[c] for c in channels if np.isfinite(per_channel[c])]
        scores[subset] = SubsetScore(
            tuple(channels),
            float(np.mean((y[:, k] - p[:, k]) ** 2)) if k else float("nan"),
            float(np.mean((y[:, k] - mean_pose[k]) ** 2)) if k else float("nan"),
            float(np.mean(finite)) if finite else float("nan"))
    return Evaluation(
        names=names,
        mse=float(np.mean((y - p) ** 2)),
        mse_mean_pose=float(np.mean((y - mean_pose) ** 2)),
        motion_mse=float(np.mean((dy - dp) ** 2)) if dy.size else float("nan"),
        motion_mse_mean_pose=float(np.mean(dy ** 2)) if dy.size else float("nan"),
        per_channel_r=per_channel, subsets=scores, frames=int(len(y)))


__all__ = ["Evaluation", "SubsetScore", "channel_r", "evaluate_curves", "pearson_r"]
