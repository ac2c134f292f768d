"""Audio2Face's channel sets for ``zoo.core.evaluation`` (MSE and Pearson r against the mean pose).

The sets are declared here from the rigs' semantics, before any result, and never computed from
labels:

* ``mouth``: every mouth/jaw channel of the model (names containing "jaw", "mouth", "lip",
  "tongue" or "tooth"; FACEGOOD's 37 trained shapes have 35, ARKit-52 has 28);
* ``articulation``: the shapes that speech articulation drives (jaw opening, lip closure and
  pressing, lip rounding and protrusion, lip rolling, upper/lower lip opening, lip stretching):
  ``ARTICULATION_ARKIT`` in ARKit names and ``ARTICULATION_FACEGOOD`` in FACEGOOD's (the same
  shapes through the authors' ARKit table, plus FACEGOOD's "oh"/"oo" vowel shapes). Smiles,
  frowns, dimples, sideways jaw and mouth, and cheek/nose/eye/brow shapes are left out: they
  follow emotion and idiosyncrasy more than phonemes.

Only channels whose reference varies are scored for r; a constant prediction of a varying
reference scores r = 0 (``zoo.core.evaluation``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.core.evaluation import Evaluation, evaluate_curves, pearson_r

from .rig import FACEGOOD_TO_ARKIT

MOUTH_KEYS = ("jaw", "mouth", "lip", "tongue", "tooth")

ARTICULATION_ARKIT: tuple[str, ...] = (
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "mouthStretchLeft", "mouthStretchRight",
)
ARTICULATION_FACEGOOD: tuple[str, ...] = tuple(
    [s for name in ARTICULATION_ARKIT for s in FACEGOOD_TO_ARKIT[name][0]] + ["mouth_oh_c", "mouth_oo_c"])


def is_mouth_channel(name: str) -> bool:
    lower = name.lower()
    return any(k in lower for k in MOUTH_KEYS)


def channel_subsets(names: Sequence[str]) -> dict[str, list[str]]:
    """The declared ``mouth`` and ``articulation`` subsets of ``names`` (in ``names`` order)."""
    articulation = set(ARTICULATION_ARKIT) | set(ARTICULATION_FACEGOOD)
    return {"mouth": [n for n in names if is_mouth_channel(n)], "articulation": [n for n in names if n in articulation]}


def evaluate_predictions(predictions: Sequence[np.ndarray], references: Sequence[np.ndarray],
                         names: Sequence[str], mean_pose: np.ndarray) -> Evaluation:
    """Pool per-clip (frames, channels) arrays and score them with the declared subsets."""
    return evaluate_curves(predictions, references, names, mean_pose, channel_subsets(names))


__all__ = ["ARTICULATION_ARKIT", "ARTICULATION_FACEGOOD", "Evaluation", "channel_subsets", "evaluate_predictions",
           "is_mouth_channel", "pearson_r"]
