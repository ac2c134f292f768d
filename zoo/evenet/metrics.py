"""EveNet's measures: teacher-forced next-frame error beside two baselines, and free-running generation.

Teacher forced (over held-out takes, frames 1…n − 1 of each, every key):

* RMSE = √mean((x̂_t − x_t)²), x̂_t the model's prediction of frame t from the true frames < t and its labels;
* repeat-last RMSE: x̂_t = x_{t−1} (the persistence baseline of any autoregressive model);
* mean-pose RMSE: x̂_t = the training set's mean frame.

Free running (``zoo.core.evaluation.evaluate_curves``): frames generated from the take's label schedule
alone, against the take: MSE / mean-pose MSE and Pearson r per key (pooled over the takes' frames), with the
declared channel subset ``MOUTH_KEYS`` (jaw and mouth keys of the ARKit rig, fixed before any result).

``within_take_r``: the mean over takes of the mean r of the jaw/mouth keys within each take, a figure that the
takes' different mean poses (emotion, how many open vowels a sentence has) cannot raise; reported beside the
pooled r (the declared bar is on the pooled r).

The control (``shuffle_runs``): the same generation from the take's phoneme runs in another order (same labels,
durations and length; emotion unchanged, seed ``SHUFFLE_SEED``). A model that follows what is said scores well on
its take's own timeline and not on the shuffled one.

``between_take_share``: the share of each jaw/mouth key's pooled variance that lies between takes (each take's
own mean, frame-weighted), averaged over the keys. The shuffle keeps a take's labels, durations and emotion, so a
model that rendered them exactly would keep each take's mean pose on the shuffled timeline and move within the
take independently of it: its shuffled pooled r would be this share (cov = between-take variance, both variances
the total). It bounds from below what the pooled control can show; the within-take r has no such floor.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.core.evaluation import Evaluation, channel_r, evaluate_curves

#: jaw and mouth shape keys of the ARKit-52 rig: the keys speech drives (declared before measuring)
MOUTH_KEYS = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthStretchLeft", "mouthStretchRight",
              "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
              "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight")


SHUFFLE_SEED = 7


def shuffle_runs(phoneme_ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The runs of equal ids of a per-frame schedule in a random order (same labels and durations, same length)."""
    runs = np.split(np.asarray(phoneme_ids), np.flatnonzero(np.diff(phoneme_ids)) + 1)
    return np.concatenate([runs[i] for i in rng.permutation(len(runs))])


def teacher_forced(predictions: Sequence[np.ndarray], references: Sequence[np.ndarray],
                   mean_pose: np.ndarray) -> dict:
    """{"rmse", "rmse_repeat_last", "rmse_mean_pose", "frames"} over frames 1…n − 1 of every take (module
    docstring); predictions[i][t] is the model's frame t of take i."""
    model, last, mean, frames = 0.0, 0.0, 0.0, 0
    for pred, ref in zip(predictions, references):
        pred, ref = np.asarray(pred, np.float64)[1:], np.asarray(ref, np.float64)
        model += float(np.sum((pred - ref[1:]) ** 2))
        last += float(np.sum((ref[:-1] - ref[1:]) ** 2))
        mean += float(np.sum((np.asarray(mean_pose)[None] - ref[1:]) ** 2))
        frames += len(ref) - 1
    values = frames * len(np.atleast_1d(mean_pose))
    if not values:
        raise ValueError("teacher-forced evaluation needs takes of at least two frames")
    return {"rmse": (model / values) ** 0.5, "rmse_repeat_last": (last / values) ** 0.5,
            "rmse_mean_pose": (mean / values) ** 0.5, "frames": frames}


def free_running(predictions: Sequence[np.ndarray], references: Sequence[np.ndarray], names: Sequence[str],
                 mean_pose: np.ndarray) -> Evaluation:
    """``evaluate_curves`` of generated takes with the ``mouth`` subset (the MOUTH_KEYS present in ``names``)."""
    mouth = tuple(n for n in MOUTH_KEYS if n in names)
    return evaluate_curves(predictions, references, names, mean_pose, subsets={"mouth": mouth} if mouth else {})


def _key_index(names: Sequence[str], keys: Sequence[str]) -> list[int]:
    """Columns of ``keys`` among ``names`` (the keys present, in ``keys`` order)."""
    return [list(names).index(k) for k in keys if k in names]


def between_take_share(references: Sequence[np.ndarray], names: Sequence[str],
                       keys: Sequence[str] = MOUTH_KEYS) -> float:
    """Mean over ``keys`` (those that vary) of Σ_takes n·(mean_take − mean)² / Σ_frames (x − mean)²."""
    refs = [np.asarray(r, np.float64)[:, _key_index(names, keys)] for r in references]
    pooled = np.concatenate(refs)
    total = ((pooled - pooled.mean(axis=0)) ** 2).sum(axis=0)
    between = sum(len(r) * (r.mean(axis=0) - pooled.mean(axis=0)) ** 2 for r in refs)
    varying = total > 0
    return float(np.mean(between[varying] / total[varying])) if varying.any() else float("nan")


def within_take_r(predictions: Sequence[np.ndarray], references: Sequence[np.ndarray], names: Sequence[str],
                  keys: Sequence[str] = MOUTH_KEYS) -> float:
    """Mean over takes of the mean ``channel_r`` of ``keys`` within the take (keys constant in a take skipped)."""
    index = _key_index(names, keys)
    per_take = []
    for pred, ref in zip(predictions, references):
        rs = [channel_r(ref[:, i], pred[:, i]) for i in index]
        rs = [r for r in rs if r == r]
        if rs:
            per_take.append(float(np.mean(rs)))
    return float(np.mean(per_take)) if per_take else float("nan")
