"""EveNet's measures: teacher-forced next-frame error beside two baselines, and free-running generation.

Teacher forced (over held-out takes, frames 1…n − 1 of each, every key):

* RMSE = √mean((x̂_t − x_t)²), x̂_t the model's prediction of frame t from the true frames < t and its labels;
* repeat-last RMSE: x̂_t = x_{t−1} (the persistence baseline of any autoregressive model);
* mean-pose RMSE: x̂_t = the training set's mean frame.

Free running (``zoo.core.evaluation.evaluate_curves``): frames generated from the take's label schedule
alone, against the take: MSE / mean-pose MSE and Pearson r per key, with the declared channel subset
``MOUTH_KEYS`` (jaw and mouth keys of the ARKit rig, fixed before any result).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.core.evaluation import Evaluation, evaluate_curves

#: jaw and mouth shape keys of the ARKit-52 rig: the keys speech drives (declared before measuring)
MOUTH_KEYS = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthStretchLeft", "mouthStretchRight",
              "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
              "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight")


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
