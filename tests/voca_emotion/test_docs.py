"""The model card runs: every ``sh`` and ``python`` block of zoo/voca_emotion/README.md is executed in a scratch project
folder (``pretrained/`` linked, ``speech.wav`` espeak-ng speech, ``face.ply`` a neutral face of the corpus's mesh, a
VOCASET-layout folder ``vocaset/`` with a model trained on it at ``runs/voca-train/model``, and a RAVDESS-derived
folder ``ravdess_meshes/``). Training runs with ``--dry-run``."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers import PROJECT, run_doc_blocks

DRY_RUN = ("zoo voca_emotion train",)


def _ravdess_folder(folder, template: np.ndarray) -> None:
    from zoo.datasets import write_emoca
    from zoo.datasets.ravdess import RavdessName

    sequences = {}
    for actor in (1, 2, 3):
        stem = RavdessName("audio", "speech", "happy", "strong", 1, 1, actor).stem
        audio = (0.1 * np.sin(np.arange(48000) / 20)).astype(np.float32)
        sequences[f"Actor_{actor:02d}"] = {stem: (np.repeat(template[None], 29, axis=0),
                                                  np.round(audio * 32767).astype(np.int16), 48000)}
    write_emoca(folder, sequences, {a: template for a in sequences})


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_every_block_of_the_card_runs(vocaset_dir, trained, tmp_path):
    import soundfile as sf
    import trimesh

    from zoo.datasets.synthetic import geometry
    from zoo.datasets.synthetic.speech import synthesize

    root = tmp_path / "project"
    root.mkdir()
    (root / "pretrained").symlink_to(PROJECT / "pretrained")
    spoken = synthesize("Nice to meet you.", "male_deep", "neutral")
    sf.write(root / "speech.wav", spoken.audio, spoken.sample_rate, subtype="PCM_16")
    face = trimesh.Trimesh(geometry.template("f2"), geometry.FACES, process=False)
    (root / "face.ply").write_bytes(face.export(file_type="ply"))
    (root / "vocaset").symlink_to(vocaset_dir)
    shutil.copytree(trained[0], root / "runs" / "voca-train" / "model")
    _ravdess_folder(root / "ravdess_meshes", np.load(trained[0] / "templates.npy")[0])
    ran, skipped = run_doc_blocks(PROJECT / "zoo/voca_emotion/README.md", root, {}, DRY_RUN)
    assert len(ran) == 8 and not skipped, (ran, skipped)  # 7 commands and the python block
    assert (root / "out" / "video.mp4").is_file() and len(list((root / "out" / "meshes").glob("*.obj"))) > 10
    assert (root / "exports" / "voca_emotion").is_dir()
