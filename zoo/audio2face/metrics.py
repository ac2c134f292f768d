"""Audio2Face's channel sets for ``zoo.core.evaluation`` (MSE and Pearson r against the mean pose).

For predictions ŷ and references y pooled over held-out clips, ``evaluate_predictions`` reports
``zoo.core.evaluation.evaluate_curves`` (MSE, mean-pose MSE, motion MSE, per-channel r) with two
channel subsets:

* ``mouth``: names containing "jaw", "mouth", "lip", "tongue" or "tooth";
* ``speech``: the mouth channels whose reference variance is mostly within clips
  (Σ_clips Σ_t (y − ȳ_clip)² ≥ ½ Σ (y − ȳ)²), i.e. driven by what is said rather than by a
  per-clip offset such as an emotion.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.core.evaluation import Evaluation, evaluate_curves, pearson_r

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


def evaluate_predictions(predictions: Sequence[np.ndarray], references: Sequence[np.ndarray],
                         names: Sequence[str], mean_pose: np.ndarray) -> Evaluation:
    """Pool per-clip (frames, channels) arrays and score them with the ``mouth`` and ``speech`` subsets."""
    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    speech = speech_channel_mask(references, names)
    subsets = {"mouth": [n for n in names if is_mouth_channel(n)],
               "speech": [n for n, s in zip(names, speech) if s]}
    return evaluate_curves(predictions, references, names, mean_pose, subsets)


__all__ = ["Evaluation", "evaluate_predictions", "is_mouth_channel", "pearson_r", "speech_channel_mask"]
