"""The model card runs: every ``sh`` and ``python`` block of zoo/evenet/README.md is executed in a scratch project
folder (``pretrained/`` linked, ``speech.wav`` espeak-ng speaking "Nice to meet you.", an EveNet folder at
``runs/evenet/corpus/evenet`` and a trained model at ``runs/evenet-train/model``). What is not run is declared in
``NOT_RUN`` with the reason; training runs with ``--dry-run``."""
from __future__ import annotations

import shutil

import pytest
from helpers import PROJECT, run_doc_blocks

NOT_RUN = {"zoo evenet live": "serves until Ctrl-C; tests/evenet/test_cli.py runs it with --frames and a client"}
DRY_RUN = ("zoo evenet train",)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_every_block_of_the_card_runs(evenet_folder, tiny_model, tmp_path):
    import soundfile as sf

    from zoo.datasets.synthetic.speech import synthesize

    root = tmp_path / "project"
    root.mkdir()
    (root / "pretrained").symlink_to(PROJECT / "pretrained")
    spoken = synthesize("Nice to meet you.", "male_deep", "neutral")
    sf.write(root / "speech.wav", spoken.audio, spoken.sample_rate, subtype="PCM_16")
    (root / "runs" / "evenet" / "corpus").mkdir(parents=True)
    (root / "runs" / "evenet" / "corpus" / "evenet").symlink_to(evenet_folder)
    shutil.copytree(tiny_model[0], root / "runs" / "evenet-train" / "model")
    ran, skipped = run_doc_blocks(PROJECT / "zoo/evenet/README.md", root, NOT_RUN, DRY_RUN)
    assert len(ran) == 7 and [s[1] for s in skipped] == [NOT_RUN["zoo evenet live"]], (ran, skipped)
    assert (root / "take.mp4").is_file() and (root / "take.wav").is_file() and (root / "exports").is_dir()
