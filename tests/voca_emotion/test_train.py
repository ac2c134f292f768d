"""Training of VOCA on a VOCASET-layout folder: split by subject and sentence, PCA initialisation, resume, and
learning that needs the audio (held-out sentences and an unseen subject beat a shuffled-audio control)."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.datasets import read_vocaset, read_vocaset_templates
from zoo.voca_emotion import Predictor, preset, train
from zoo.voca_emotion.model import pca_basis
from zoo.voca_emotion.train import split_sequences, training_offsets

# declared before the first measurement: the jaw follows the speech on sequences never trained on
R_BAR, SHUFFLED_BAR = 0.6, 0.2


def _jaw_r(predictor, clip, template, shuffle: bool, jaw) -> float:
    windows = predictor.windows(clip.audio, clip.sample_rate)[: clip.num_frames]
    if shuffle:
        windows = windows[np.random.default_rng(0).permutation(len(windows))]
    subject = predictor.config.subjects.index(clip.subject) if clip.subject in predictor.config.subjects else 0
    pred = predictor.run(windows, subject, template)[:, jaw, 1].mean(axis=1)
    true = clip.targets.reshape(clip.num_frames, -1, 3)[:, jaw, 1].mean(axis=1)
    return float(np.corrcoef(pred, true)[0, 1])


def test_learns_the_jaw_from_speech_on_held_out_sentences_and_an_unseen_subject(trained, vocaset_dir, jaw):
    model_dir, summary = trained
    assert summary["train_sequences"] == [f"subj_{s}/sentence0{i}" for s in "ab" for i in (1, 2, 3)]
    assert set(summary["test_sequences"]) == {"subj_a/sentence04", "subj_b/sentence04", "subj_c/sentence04"}
    assert summary["val_sequences"] == ["subj_c/sentence01", "subj_c/sentence02", "subj_c/sentence03"]
    predictor = Predictor.load(model_dir)
    assert predictor.config.subjects == ("subj_a", "subj_b")
    templates = read_vocaset_templates(vocaset_dir)
    clips = read_vocaset(vocaset_dir, sentences=["sentence04"])  # the test sentence, read once here
    r = [_jaw_r(predictor, c, templates[c.subject], False, jaw) for c in clips]
    shuffled = [_jaw_r(predictor, c, templates[c.subject], True, jaw) for c in clips]
    assert np.mean(r) >= R_BAR and min(r) > 0.3, r  # subj_c is unseen (its own template, condition 0)
    assert np.mean(np.abs(shuffled)) <= SHUFFLED_BAR, shuffled
    assert summary["history"][-1]["train_loss"] < summary["history"][0]["train_loss"] / 5


def test_zero_epochs_write_the_pca_initialised_decoder(tmp_path, vocaset_dir):
    config = preset("tiny", epochs=0, decoder_init="pca_sqrt_eigenvalue")
    train(config, vocaset_dir, tmp_path, val_subjects=["subj_c"], progress=False)
    predictor = Predictor.load(tmp_path / "model")
    clips = read_vocaset(vocaset_dir, subjects=["subj_a", "subj_b"])
    expected = pca_basis(training_offsets(clips, read_vocaset_templates(vocaset_dir)), 8, "pca_sqrt_eigenvalue")
    kernel, bias = predictor.model.get_layer("expression_offset").get_weights()
    np.testing.assert_allclose(kernel, expected, atol=1e-6)
    assert not bias.any()
    np.testing.assert_array_equal(predictor.templates[1], read_vocaset_templates(vocaset_dir)["subj_b"])


def test_a_rerun_resumes_the_interrupted_run(tmp_path, vocaset_dir):
    config = preset("tiny", epochs=1, batch_size=16)
    first = train(config, vocaset_dir, tmp_path / "a", val_subjects=["subj_c"], progress=False)
    resumed = train(config.replace(epochs=2), vocaset_dir, tmp_path / "a", val_subjects=["subj_c"], progress=False)
    straight = train(config.replace(epochs=2), vocaset_dir, tmp_path / "b", val_subjects=["subj_c"], progress=False)
    assert resumed["history"][0]["train_loss"] == first["history"][0]["train_loss"]  # epoch 1 was not redone
    assert resumed["state_sha256"] == straight["state_sha256"]  # bit-identical to an uninterrupted run


def test_split_refuses_overlaps_and_unknown_subjects(vocaset_dir):
    clips = read_vocaset(vocaset_dir)
    train_, val, test = split_sequences(clips, val_subjects=["subj_c"], test_sentences=["sentence04"])
    assert {c.subject for c in train_} == {"subj_a", "subj_b"} and len(val) == 3 and len(test) == 3
    with pytest.raises(ValueError, match="both validate and test"):
        split_sequences(clips, val_subjects=["subj_c"], test_subjects=["subj_c"])
    with pytest.raises(ValueError, match="not in the data"):
        split_sequences(clips, val_subjects=["FaceTalk_170811_03275_TA"])
    with pytest.raises(ValueError, match="no training sequences"):
        split_sequences(clips, test_sentences=["sentence01", "sentence02", "sentence03", "sentence04"])


def test_fine_tuning_starts_from_a_trained_model(tmp_path, trained, vocaset_dir):
    model_dir, _ = trained
    source = Predictor.load(model_dir)
    config = source.config.replace(epochs=0)
    summary = train(config, vocaset_dir, tmp_path, val_subjects=["subj_a"], init_from=model_dir, progress=False)
    assert summary["subjects_from"] == {"subj_b": "subj_b", "subj_c": "mean of the source subjects"}
    tuned = Predictor.load(tmp_path / "model")
    assert tuned.config.subjects == ("subj_b", "subj_c")
    clip = read_vocaset(vocaset_dir, subjects=["subj_b"], sentences=["sentence04"])[0]
    windows = source.windows(clip.audio, clip.sample_rate)
    template = source.templates[1]
    # 0 epochs: subj_b speaks exactly as in the source model (its rows, and every other weight, carried over)
    np.testing.assert_allclose(tuned.run(windows, 0, template), source.run(windows, 1, template), atol=1e-7)
