"""Fixtures of the landmark_dcgan tests: eight synthetic RAVDESS trials (two of each of the four actors, 128²
videos at 29.97 fps, 48 kHz WAVs) and a tiny model trained on them once per session.

The trained model holds out Actor_04 as test and Actor_03 for validation. It trains on a copy of the folder whose
test actor's files are replaced by unreadable ones, so a passing fixture shows that training never reads them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TEST_ACTORS, VAL_ACTORS = ["Actor_04"], ["Actor_03"]
TRAIN_SETTINGS = {"cnn_epochs": 4, "gan_epochs": 2, "gan_frame_step": 2}  # of the tiny preset


@pytest.fixture(scope="session")
def split() -> dict:
    """The held-out actors and the settings of ``trained``."""
    return {"test_actors": TEST_ACTORS, "val_actors": VAL_ACTORS, "settings": TRAIN_SETTINGS}


@pytest.fixture(scope="session")
def ravdess_dir(tmp_path_factory) -> Path:
    from zoo.datasets.synthetic.corpus import write_ravdess_subset

    folder = tmp_path_factory.mktemp("ravdess")
    assert len(write_ravdess_subset(folder, per_actor=2, workers=2)) == 8
    return folder


@pytest.fixture(scope="session")
def poisoned_dir(ravdess_dir, tmp_path_factory) -> Path:
    """A copy of ``ravdess_dir`` whose test actor's WAVs and videos are not audio and not video."""
    folder = tmp_path_factory.mktemp("poisoned") / "data"
    shutil.copytree(ravdess_dir, folder)
    for path in (folder / "Actor_04").iterdir():
        path.write_text("this test file must never be read\n")
    return folder


@pytest.fixture(scope="session")
def trained(poisoned_dir, tmp_path_factory):
    """(model_dir, summary) of the tiny preset trained briefly on the poisoned copy (every frame an image)."""
    from zoo.landmark_dcgan.config import preset
    from zoo.landmark_dcgan.train import train

    work = tmp_path_factory.mktemp("work")
    config = preset("tiny", **TRAIN_SETTINGS)
    summary = train(config, poisoned_dir, work, test_actors=TEST_ACTORS, val_actors=VAL_ACTORS, progress=False,
                    workers=1)
    return work / "model", summary
