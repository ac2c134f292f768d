"""Fixtures for the Audio2Face tests: a small synthetic FACEGOOD folder and a tiny trained model."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def synthetic_facegood(tmp_path_factory):
    """A FACEGOOD-layout folder of 12 synthetic utterances (4 speakers, ARKit-52 labels)."""
    from zoo.datasets.synthetic.corpus import write_facegood_subset

    root = tmp_path_factory.mktemp("a2f_facegood")
    write_facegood_subset(root, 12, seed=0)
    return root


@pytest.fixture(scope="session")
def tiny_model(synthetic_facegood, tmp_path_factory):
    """(model_dir, summary) of the ``tiny`` preset trained 2 epochs on ``synthetic_facegood``."""
    from zoo.audio2face import preset, train

    workdir = tmp_path_factory.mktemp("a2f_tiny")
    summary = train(preset("tiny", epochs=2), synthetic_facegood, workdir, val_fraction=0.25, progress=False)
    return workdir / "model", summary
