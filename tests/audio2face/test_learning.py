"""Learned vs baseline: the committed presets beat the mean pose on held-out clips.

* synthetic: the speech-driven mouth/jaw channels (``metrics.speech_channel_mask``: mostly
  within-clip variance, so not emotion offsets) of the preset's held-out utterances, regenerated
  byte-identically from the corpus plan: mean Pearson r ≥ 0.6 and MSE ≤ 0.5 × the mean pose's
  (the slow tier retrains from scratch to the same bar);
* real (``realdata``): FACEGOOD clip 1114_2_05, never seen in training: MSE on the mouth/jaw
  channels ≤ 0.9 × the mean pose's (measured 0.804), their mean r ≥ 0.2 (measured 0.281) and
  mouth_stretch_c (FACEGOOD's jawOpen) r ≥ 0.7 (measured 0.797).
"""
from __future__ import annotations

import json

import pytest

import zoo
from zoo.audio2face import evaluate

SYNTHETIC = zoo.PRETRAINED / "audio2face" / "synthetic"
REAL = zoo.PRETRAINED / "audio2face" / "facegood_real"


def _articulation_check(model_dir, data, clip_ids):
    """(mean r, MSE, mean-pose MSE) over the speech-driven mouth/jaw channels of the held-out clips."""
    ev, _ = evaluate(model_dir, data, clip_ids=clip_ids)
    speech = ev.subsets["speech"]
    assert len(speech.channels) >= 8, speech.channels
    return speech.r, speech.mse, speech.mse_mean_pose


@pytest.fixture(scope="module")
def synthetic_held_out(tmp_path_factory):
    if not (SYNTHETIC / "metadata.json").is_file():
        pytest.fail(f"{SYNTHETIC} is missing: the synthetic preset is part of the repository")
    from zoo.datasets.synthetic.corpus import write_facegood_subset

    meta = json.loads((SYNTHETIC / "metadata.json").read_text())
    root = tmp_path_factory.mktemp("a2f_held_out")
    write_facegood_subset(root, seed=meta["corpus_seed"], ids=meta["val_clips"])
    return root, meta


def test_committed_synthetic_preset_beats_mean_pose_on_held_out_utterances(synthetic_held_out):
    root, meta = synthetic_held_out
    assert not set(meta["val_clips"]) & set(meta["train_clips"])
    r, mse, mse_mean = _articulation_check(SYNTHETIC, root, meta["val_clips"])
    assert r >= 0.6, f"mean r over the viseme channels {r:.3f}"
    assert mse <= 0.5 * mse_mean, f"MSE {mse:.5f} vs mean pose {mse_mean:.5f}"


@pytest.mark.realdata
def test_committed_real_preset_beats_mean_pose_on_clip_2_05(facegood_dir):
    meta = json.loads((REAL / "metadata.json").read_text())
    assert meta["val_clips"] == ["1114_2_05"] and "1114_2_05" not in meta["train_clips"]
    ev, _ = evaluate(REAL, facegood_dir, clip_ids=["1114_2_05"],
                     names_file=facegood_dir / "shirley_1015_bs_name.npy")
    mouth = ev.subsets["mouth"]
    assert mouth.mse <= 0.9 * mouth.mse_mean_pose, ev.summary()
    assert mouth.r >= 0.2, ev.summary()
    assert ev.per_channel_r["mouth_stretch_c"] >= 0.7  # FACEGOOD's jawOpen


@pytest.mark.slow
def test_training_from_scratch_reaches_the_bar(tmp_path):
    """The reproduce pipeline's training on the small corpus, within its budget, clears the same bar."""
    from zoo.audio2face import preset, train
    from zoo.datasets.synthetic import corpus

    corpus.generate(tmp_path / "corpus", "small", seed=0)
    data = tmp_path / "corpus" / "facegood"
    meta = json.loads((SYNTHETIC / "metadata.json").read_text())
    config = preset(meta["preset"], output_names=(), epochs=meta["epochs_trained"], seed=0)
    summary = train(config, data, tmp_path / "run", progress=False)
    r, mse, mse_mean = _articulation_check(tmp_path / "run" / "model", data, summary["val_clips"])
    assert r >= 0.6 and mse <= 0.5 * mse_mean, (r, mse, mse_mean)
