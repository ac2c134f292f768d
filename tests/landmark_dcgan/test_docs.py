"""The model card runs: every ``sh`` and ``python`` block of zoo/landmark_dcgan/README.md is executed in a scratch
project folder (``pretrained/`` linked, ``speech.wav`` espeak-ng speech, ``face.png`` a real face, a RAVDESS-layout
folder ``ravdess/`` with a model trained on it at ``runs/ld-train/model``). Training runs with ``--dry-run``."""
from __future__ import annotations

import shutil

import pytest
from helpers import PROJECT, run_doc_blocks

DRY_RUN = ("zoo landmark_dcgan train",)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_every_block_of_the_card_runs(ravdess_dir, trained, tmp_path):
    import cv2
    import soundfile as sf
    from skimage import data as skdata

    from zoo.datasets.synthetic.speech import synthesize

    root = tmp_path / "project"
    root.mkdir()
    (root / "pretrained").symlink_to(PROJECT / "pretrained")
    spoken = synthesize("Nice to meet you, and thank you for coming.", "female_warm", "neutral")
    sf.write(root / "speech.wav", spoken.audio, spoken.sample_rate, subtype="PCM_16")
    cv2.imwrite(str(root / "face.png"), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    shutil.copytree(ravdess_dir, root / "ravdess")
    shutil.copytree(trained[0], root / "runs" / "ld-train" / "model")
    ran, skipped = run_doc_blocks(PROJECT / "zoo/landmark_dcgan/README.md", root, {}, DRY_RUN)
    assert len(ran) == 8 and not skipped, (ran, skipped)  # 7 commands and the python block
    for name in ("talk.mp4", "talk_ref.mp4", "lm.mp4", "landmarks.csv", "talk_py.mp4"):
        assert (root / name).is_file(), name
    assert (root / "exports" / "landmark_dcgan").is_dir()
