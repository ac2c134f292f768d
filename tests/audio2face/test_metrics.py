"""Evaluation formulas: MSE vs mean pose, Pearson r, mouth and speech-driven channel sets."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.audio2face.metrics import evaluate_predictions, pearson_r, speech_channel_mask


def test_speech_channels_exclude_per_clip_offsets():
    rng = np.random.default_rng(0)
    clips = []
    for k in range(4):
        jaw = rng.random(50)  # moves within every clip
        smile = np.full(50, k / 3)  # a per-clip offset (an "emotion")
        blink = rng.random(50)  # moves within clips but is not a mouth channel
        clips.append(np.stack([jaw, smile, blink], axis=1))
    mask = speech_channel_mask(clips, ["jawOpen", "mouthSmileLeft", "eyeBlinkLeft"])
    assert mask.tolist() == [True, False, False]


def test_scores_against_the_mean_pose():
    rng = np.random.default_rng(1)
    refs = [rng.random((40, 2)) for _ in range(3)]
    mean_pose = np.concatenate(refs).mean(axis=0)
    perfect = evaluate_predictions(refs, refs, ["jawOpen", "mouthClose"], mean_pose)
    assert perfect.mse == 0 and perfect.mse_ratio == 0 and perfect.subsets["speech"].r == pytest.approx(1.0)
    constant = evaluate_predictions([np.broadcast_to(mean_pose, r.shape) for r in refs], refs,
                                    ["jawOpen", "mouthClose"], mean_pose)
    assert constant.mse == pytest.approx(constant.mse_mean_pose) and np.isnan(constant.subsets["mouth"].r)
    y = np.concatenate(refs)
    assert constant.mse_mean_pose == pytest.approx(np.mean((y - mean_pose) ** 2))
    assert pearson_r(np.arange(5), 2 * np.arange(5) + 1) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        evaluate_predictions(refs[:2], refs, ["a", "b"], mean_pose)
