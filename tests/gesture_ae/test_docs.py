"""The model card runs: every ``sh`` and ``python`` block of zoo/gesture_ae/README.md is executed in a scratch project
folder (``pretrained/`` linked, ``speech.wav`` espeak-ng speech, a gesture-layout folder ``gesture/`` with a model
trained on it at ``runs/gesture-train/model``). Training runs with ``--dry-run``."""
from __future__ import annotations

import shutil

import pytest
from helpers import PROJECT, run_doc_blocks

DRY_RUN = ("zoo gesture_ae train",)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_every_block_of_the_card_runs(gesture_dir, trained, tmp_path):
    import soundfile as sf

    from zoo.datasets.synthetic.speech import synthesize

    root = tmp_path / "project"
    root.mkdir()
    (root / "pretrained").symlink_to(PROJECT / "pretrained")
    spoken = synthesize("Nice to meet you, and thank you for coming.", "male_deep", "neutral")
    sf.write(root / "speech.wav", spoken.audio, spoken.sample_rate, subtype="PCM_16")
    shutil.copytree(gesture_dir, root / "gesture")
    shutil.copytree(trained[0], root / "runs" / "gesture-train" / "model")
    ran, skipped = run_doc_blocks(PROJECT / "zoo/gesture_ae/README.md", root, {}, DRY_RUN)
    assert len(ran) == 7 and not skipped, (ran, skipped)  # 6 commands and the python block
    assert (root / "motion.bvh").is_file() and (root / "motion.mp4").is_file() and (root / "motion.txt").is_file()
    assert (root / "exports" / "gesture_ae").is_dir()
