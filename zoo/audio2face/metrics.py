"""Evaluation of predicted blendshape curves against references, always beside the mean pose.

For predictions ŷ and references y (frames × channels) pooled over held-out clips:

* MSE = mean((y − ŷ)²) over frames and channels; the baseline is the same with ŷ = the
  training set's mean pose (a constant), and ``mse_ratio`` = MSE / MSE_mean_pose (< 1 beats it);
* Pearson r per channel over the pooled frames (channels constant in y are skipped);
* mouth channels (names containing "jaw", "mouth", "lip", "tongue" or "tooth"): their MSE,
  the mean-pose MSE on them, and their mean r;
* speech channels: the mouth channels whose reference variance is mostly within clips
  (Σ_clips Σ_t (y − ȳ_clip)² ≥ ½ Σ (y − ȳ)²), i.e. driven by what is said rather than by a
  per-clip offset such as an emotion; their MSE, mean-pose MSE and mean r;
* motion MSE = mean((Δy − Δŷ)²) of consecutive-frame differences within each clip (Karras' M term).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MOUTH_KEYS = ("jaw", "mouth", "lip", "tongue", "tooth")


def is_mouth_channel(name: str) -> bool:
    lower = name.lower()
    return any(k in lower for k in MOUTH_KEYS)


def speech_channel_mask(references: Sequence[np.ndarray], names: Sequence[str], min_within: float = 0.5):
    """Mouth channels whose variance is at least ``min_within`` within clips (boolean mask)."""
    y = np.concatenate(references).astype(np.float64)
    total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    within = sum(((r - r.mean(axis=0)) ** 2).sum(axis=0) for r in references)
    mouth = np.array([is_mouth_channel(n) for n in names])
    return mouth & (total > 0) & (within >= min_within * np.maximum(total, 1e-300))


def pearson_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two 1-D series; NaN when either is constant."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


@dataclass
class Evaluation:
    names: tuple[str, ...]
    mse: float
    mse_mean_pose: float
    motion_mse: float
    motion_mse_mean_pose: float
    per_channel_r: dict[str, float] = field(default_factory=dict)
    mouth_channels: tuple[str, ...] = ()
    mouth_mse: float = float("nan")
    mouth_mse_mean_pose: float = float("nan")
    mouth_r: float = float("nan")
    speech_channels: tuple[str, ...] = ()
    speech_mse: float = float("nan")
    speech_mse_mean_pose: float = float("nan")
    speech_r: float = float("nan")
    frames: int = 0

    @property
    def mse_ratio(self) -> float:
        return self.mse / self.mse_mean_pose if self.mse_mean_pose > 0 else float("nan")

    def summary(self) -> dict:
        """Flat numbers for logs and reports (no per-channel dict)."""
        finite = [r for r in self.per_channel_r.values() if np.isfinite(r)]
        return {
            "mse": self.mse, "mse_mean_pose": self.mse_mean_pose, "mse_ratio": self.mse_ratio,
            "motion_mse": self.motion_mse, "motion_mse_mean_pose": self.motion_mse_mean_pose,
            "mean_r": float(np.mean(finite)) if finite else float("nan"),
            "mouth_mse": self.mouth_mse, "mouth_mse_mean_pose": self.mouth_mse_mean_pose,
            "mouth_r": self.mouth_r, "speech_mse": self.speech_mse, "speech_mse_mean_pose": self.speech_mse_mean_pose,
            "speech_r": self.speech_r, "speech_channels": len(self.speech_channels), "frames": self.frames,
        }

    def to_dict(self) -> dict:
        return {**self.summary(), "per_channel_r": dict(self.per_channel_r),
                "mouth_channels": list(self.mouth_channels), "speech_channel_names": list(self.speech_channels),
                "names": list(self.names)}


def evaluate_predictions(predictions: Sequence[np.ndarray], references: Sequence[np.ndarray],
                         names: Sequence[str], mean_pose: np.ndarray) -> Evaluation:
    """Pool per-clip (frames, channels) arrays and score them (formulas in the module docstring)."""
    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    for p, r in zip(predictions, references):
        if p.shape != r.shape or p.shape[1] != len(names):
            raise ValueError(f"prediction {p.shape} vs reference {r.shape} for {len(names)} channels")
    y = np.concatenate(references).astype(np.float64)
    p = np.concatenate(predictions).astype(np.float64)
    mean_pose = np.asarray(mean_pose, np.float64)
    dy = np.concatenate([np.diff(r, axis=0) for r in references]).astype(np.float64)
    dp = np.concatenate([np.diff(q, axis=0) for q in predictions]).astype(np.float64)
    per_channel = {}
    for k, name in enumerate(names):
        per_channel[name] = pearson_r(y[:, k], p[:, k])
    mouth = [k for k, n in enumerate(names) if is_mouth_channel(n)]
    mouth_r = [per_channel[names[k]] for k in mouth if np.isfinite(per_channel[names[k]])]
    speech = np.flatnonzero(speech_channel_mask(references, names))
    speech_r = [per_channel[names[k]] for k in speech if np.isfinite(per_channel[names[k]])]
    return Evaluation(
        names=tuple(names),
        mse=float(np.mean((y - p) ** 2)),
        mse_mean_pose=float(np.mean((y - mean_pose) ** 2)),
        motion_mse=float(np.mean((dy - dp) ** 2)) if dy.size else float("nan"),
        motion_mse_mean_pose=float(np.mean(dy ** 2)) if dy.size else float("nan"),
        per_channel_r=per_channel,
        mouth_channels=tuple(names[k] for k in mouth),
        mouth_mse=float(np.mean((y[:, mouth] - p[:, mouth]) ** 2)) if mouth else float("nan"),
        mouth_mse_mean_pose=float(np.mean((y[:, mouth] - mean_pose[mouth]) ** 2)) if mouth else float("nan"),
        mouth_r=float(np.mean(mouth_r)) if mouth_r else float("nan"),
        speech_channels=tuple(names[k] for k in speech),
        speech_mse=float(np.mean((y[:, speech] - p[:, speech]) ** 2)) if speech.size else float("nan"),
        speech_mse_mean_pose=float(np.mean((y[:, speech] - mean_pose[speech]) ** 2)) if speech.size else float("nan"),
        speech_r=float(np.mean(speech_r)) if speech_r else float("nan"),
        frames=int(len(y)),
    )
