"""Fixtures for the EveNet tests: takes made in memory, an EveNet folder on disk and a tiny trained model."""
from __future__ import annotations

import json

import numpy as np
import pytest

KEYS = ("jawOpen", "mouthClose", "mouthFunnel", "eyeBlinkLeft")
PHONEMES = ("SIL", "M", "AA", "P", "IY", "UW")


def make_takes(count: int, seed: int = 0, frames=(60, 140), emotions=("Neutral", "Happy")):
    """(name, values (n, 4), phoneme labels, emotion labels) of takes whose mouth follows the phonemes: each
    phoneme holds for 3–9 frames; jawOpen is high on vowels, mouthClose on M/P, mouthFunnel on UW; blinks
    are random (nothing predicts them)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n = int(rng.integers(*frames))
        labels = []
        while len(labels) < n:
            labels += [str(rng.choice(PHONEMES))] * int(rng.integers(3, 10))
        labels = labels[:n]
        target = np.zeros((n, len(KEYS)))
        for t, p in enumerate(labels):
            target[t] = [0.7 if p in ("AA", "IY") else 0.3 if p == "UW" else 0.05,
                         0.8 if p in ("M", "P") else 0.05, 0.6 if p == "UW" else 0.05, 0.0]
        smooth = np.zeros_like(target)
        for t in range(n):  # first-order lag: the mouth moves towards the target
            smooth[t] = (smooth[t - 1] if t else target[0]) + 0.5 * (target[t] - (smooth[t - 1] if t else target[0]))
        smooth[:, 3] = (rng.random(n) < 0.05).astype(float)
        emotion = emotions[i % len(emotions)]
        out.append((f"take{i:02d}", np.clip(smooth, 0, 1), labels, [emotion] * n))
    return out


@pytest.fixture(scope="session")
def evenet_folder(tmp_path_factory):
    """An EveNet-layout folder of 12 takes (``make_takes``) with its reader_config.json."""
    from zoo.datasets.evenet import default_reader_config, write_evenet_take

    root = tmp_path_factory.mktemp("evenet_takes")
    for name, values, phonemes, emotions in make_takes(12):
        write_evenet_take(root, name, values, phonemes, emotions)
    (root / "reader_config.json").write_text(json.dumps(default_reader_config(KEYS)))
    return root


@pytest.fixture(scope="session")
def tiny_model(evenet_folder, tmp_path_factory):
    """(model_dir, summary): the ``tiny`` preset trained 2 epochs on ``evenet_folder``, take11 held out as test."""
    from zoo.evenet import preset, train

    workdir = tmp_path_factory.mktemp("evenet_tiny")
    summary = train(preset("tiny", epochs=2), evenet_folder, workdir, test_takes=["take11"], val_fraction=0.2,
                    progress=False)
    return workdir / "model", summary
