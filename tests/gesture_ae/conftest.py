"""Fixtures of the gesture_ae tests: four synthetic takes in the gesture layout (ids 20, 35, 50, 65; ~10-13 s
each at 44.1 kHz, BVH at 24 or 100 fps) and tiny models trained on them once per session.

The trained models hold out take 65 for validation and take 50 as test. They train on a copy of the folder whose
test take is replaced by unreadable files, so a passing fixture shows that training never reads the test files.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TRAIN_IDS, VAL_IDS, TEST_IDS = [20, 35], [65], [50]


@pytest.fixture(scope="session")
def gesture_dir(tmp_path_factory) -> Path:
    from zoo.datasets.synthetic.corpus import write_gesture_subset

    folder = tmp_path_factory.mktemp("gesture")
    assert write_gesture_subset(folder, takes=4, seed=0) == sorted(TRAIN_IDS + VAL_IDS + TEST_IDS)
    return folder


@pytest.fixture(scope="session")
def poisoned_dir(gesture_dir, tmp_path_factory) -> Path:
    """A copy of ``gesture_dir`` whose test take's files are not audio and not BVH."""
    folder = tmp_path_factory.mktemp("poisoned") / "data"
    shutil.copytree(gesture_dir, folder)
    for path in (folder / "speech" / "audio50.wav", folder / "motion" / "gesture50.bvh"):
        path.write_text("this test file must never be read\n")
    return folder


def _train(config, data, workdir):
    from zoo.gesture_ae.train import train

    summary = train(config, data, workdir, val_ids=VAL_IDS, test_ids=TEST_IDS, progress=False)
    return workdir / "model", summary


@pytest.fixture(scope="session")
def trained(poisoned_dir, tmp_path_factory):
    """(model dir, summary) of the tiny preset (proposed structure: DAE 384 → 8 → 384, SpeechE 16 wide), 2 + 2
    epochs."""
    from zoo.gesture_ae import config

    return _train(config.preset("tiny"), poisoned_dir, tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def trained_rotations(poisoned_dir, tmp_path_factory):
    """(model dir, summary) of a tiny model on the rotation representation (genea2020's: exp-maps of 13 joints,
    Savitzky–Golay 9/3 after decoding), 1 + 1 epochs."""
    from zoo.gesture_ae import config

    tiny = config.preset("tiny", representation="rotations", output_dim=39, epochs=1, dae_epochs=1, savgol_window=9,
                         mfcc_nfft=1024)
    return _train(tiny, poisoned_dir, tmp_path_factory.mktemp("rotations"))
