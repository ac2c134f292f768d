"""Evaluation with the declared channel sets: MSE vs mean pose, Pearson r, mouth and articulation subsets."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.audio2face.metrics import (
    ARTICULATION_ARKIT,
    ARTICULATION_FACEGOOD,
    channel_subsets,
    evaluate_predictions,
    pearson_r,
)
from zoo.audio2face.rig import FACEGOOD_TO_ARKIT, FACEGOOD_TRAINED_37
from zoo.datasets.arkit import ARKIT_52


def test_channel_sets_are_declared_from_the_rigs():
    arkit = channel_subsets(ARKIT_52)
    assert len(arkit["mouth"]) == 28 and all(n.startswith(("jaw", "mouth", "tongue")) for n in arkit["mouth"])
    assert arkit["articulation"] == [n for n in ARKIT_52 if n in ARTICULATION_ARKIT]
    assert set(ARTICULATION_ARKIT) <= set(arkit["mouth"]) and "mouthSmileLeft" not in ARTICULATION_ARKIT
    facegood = channel_subsets(FACEGOOD_TRAINED_37)
    assert len(facegood["mouth"]) == 35 and {"nose_wrinkle_l", "nose_wrinkle_r"}.isdisjoint(facegood["mouth"])
    assert len(facegood["articulation"]) == 21 and "mouth_stretch_c" in facegood["articulation"]
    # the FACEGOOD set is the ARKit set through the authors' table, plus the two vowel shapes
    assert set(ARTICULATION_FACEGOOD) - {"mouth_oh_c", "mouth_oo_c"} == {
        s for name in ARTICULATION_ARKIT for s in FACEGOOD_TO_ARKIT[name][0]}


def test_the_sets_do_not_depend_on_the_labels():
    rng = np.random.default_rng(0)
    names = ["jawOpen", "mouthSmileLeft", "eyeBlinkLeft"]
    a = [rng.random((50, 3)) for _ in range(3)]
    b = [np.stack([np.full(50, k), rng.random(50), rng.random(50)], axis=1) for k in range(3)]
    ev_a, ev_b = (evaluate_predictions(r, r, names, np.zeros(3)) for r in (a, b))
    assert ev_a.subsets["articulation"].channels == ev_b.subsets["articulation"].channels == ("jawOpen",)
    assert ev_a.subsets["mouth"].channels == ("jawOpen", "mouthSmileLeft")


def test_scores_against_the_mean_pose():
    rng = np.random.default_rng(1)
    refs = [rng.random((40, 2)) for _ in range(3)]
    mean_pose = np.concatenate(refs).mean(axis=0)
    perfect = evaluate_predictions(refs, refs, ["jawOpen", "mouthClose"], mean_pose)
    assert perfect.mse == 0 and perfect.mse_ratio == 0 and perfect.subsets["articulation"].r == pytest.approx(1.0)
    constant = evaluate_predictions([np.broadcast_to(mean_pose, r.shape) for r in refs], refs,
                                    ["jawOpen", "mouthClose"], mean_pose)
    assert constant.mse == pytest.approx(constant.mse_mean_pose) and constant.subsets["mouth"].r == 0.0
    y = np.concatenate(refs)
    assert constant.mse_mean_pose == pytest.approx(np.mean((y - mean_pose) ** 2))
    assert pearson_r(np.arange(5), 2 * np.arange(5) + 1) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        evaluate_predictions(refs[:2], refs, ["a", "b"], mean_pose)
