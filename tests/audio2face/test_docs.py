"""The documentation runs: every ``sh`` and ``python`` block of the top-level README and of the audio2face model
card is executed, in order, in a scratch project folder (``pretrained/`` linked, ``speech.wav``/``a.wav`` real
speech, the synthetic FACEGOOD folder at ``runs/audio2face/corpus/facegood``, a trained model at
``runs/a2f/model``), so a renamed flag, a changed signature or a dropped frame in a snippet fails here. What is not
run is declared in ``NOT_RUN`` with the reason; training commands run with ``--dry-run`` (every argument checked,
no training). Later models add their cards the same way through ``helpers.run_doc_blocks``."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import PROJECT, bad_audio_files, doc_blocks, run_doc_blocks, shell_commands

SHARED = Path(os.environ.get("ZOO_SHARED_DATA", PROJECT.parent / "shared" / "data"))
NOT_RUN = {
    "make ": "make targets: `make test` is this test suite; the recipes run in `make test-slow`",
    "export TF_CONFIG": "sets a cluster's environment",
    "/shared/facegood": "a cluster's shared folder (the multi-worker example)",
    "from zoo.export import export": "an API sketch on the user's own Keras model; tests/export runs the same call",
}
if not (SHARED / "facegood").is_dir():
    NOT_RUN["../shared/"] = f"needs the real FACEGOOD data ({SHARED / 'facegood'} absent)"
DRY_RUN = ("zoo audio2face train", "zoo corpus")  # minutes to hours of work: checked with --dry-run


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return bad_audio_files(tmp_path_factory.mktemp("doc_audio"))["speech"]


def _project(root: Path, speech: Path, data: Path, model: Path) -> Path:
    import soundfile as sf

    root.mkdir()
    (root / "pretrained").symlink_to(PROJECT / "pretrained")
    for name in ("speech.wav", "a.wav"):
        shutil.copyfile(speech, root / name)
    samples, rate = sf.read(speech)
    sf.write(root / "speech.flac", samples, rate)
    (root / "runs" / "audio2face" / "corpus").mkdir(parents=True)
    (root / "runs" / "audio2face" / "corpus" / "facegood").symlink_to(data)
    shutil.copytree(model, root / "runs" / "a2f" / "model")
    if SHARED.is_dir():  # ../shared/data from the scratch project, as from the real one
        (root.parent / "shared").mkdir()
        (root.parent / "shared" / "data").symlink_to(SHARED)
    return root


# the model card in the slow tier: the default tier's 20-minute budget (CI runs the slow tier too)
@pytest.mark.parametrize("doc", ["README.md", pytest.param("zoo/audio2face/README.md", marks=pytest.mark.slow)])
def test_every_block_runs(doc, speech, synthetic_facegood, tiny_model, tmp_path):
    root = _project(tmp_path / "project", speech, synthetic_facegood, tiny_model[0])
    ran, skipped = run_doc_blocks(PROJECT / doc, root, NOT_RUN, DRY_RUN)
    assert len(ran) >= 4, (ran, skipped)


def test_blocks_are_found():
    """The block parser sees the fenced blocks and joins continuation lines."""
    found = [lang for lang, _ in doc_blocks(PROJECT / "zoo/audio2face/README.md")]
    assert found.count("python") >= 1 and found.count("sh") >= 1
    assert shell_commands("zoo a \\\n    --b c   # note\n# only a comment\n") == ["zoo a --b c"]
