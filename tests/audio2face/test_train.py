"""Training: overfitting, exact resume after a stop, held-out clips, bad data."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from helpers import check_small_overfit

from zoo.audio2face import preset, train
from zoo.datasets import FrameCountError, read_facegood


def _weights(model_dir):
    with h5py.File(model_dir / "model.weights.h5", "r") as f:
        arrays = []
        f.visititems(lambda name, obj: arrays.append((name, obj[()])) if isinstance(obj, h5py.Dataset) else None)
    return dict(arrays)


def test_tiny_model_trains_and_writes_a_model_dir(tiny_model):
    model_dir, summary = tiny_model
    assert {p.name for p in model_dir.iterdir()} >= {"config.json", "model.weights.h5", "metadata.json",
                                                      "emotion_database.npy"}
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["val_clips"] and not set(meta["val_clips"]) & set(meta["train_clips"])  # whole clips held out
    assert "jawOpen" in summary["output_names"]  # channels derived from the data (varying ones)
    assert len(meta["history"]) == 2 and np.load(model_dir / "emotion_database.npy").shape == (
        summary["train_frames"], 4)
    assert (model_dir.parent / "tensorboard").is_dir() and (model_dir.parent / "checkpoints" / "checkpoint").is_file()


def test_overfits_two_short_clips(synthetic_facegood, tmp_path):
    """Position loss on the training clip falls at least 10× in 60 epochs (constant LR, no dropout)."""
    clips = read_facegood(synthetic_facegood)[:2]
    config = preset("tiny", epochs=60, schedule="constant", learning_rate=3e-3, dropout=0.0, normalization="none",
                    hidden_units=64)
    summary = train(config, clips, tmp_path, val_fraction=0.5, progress=False)
    check_small_overfit(summary["history"], 10, key="train_position")


def test_resume_after_stop_gives_identical_weights(synthetic_facegood, tmp_path):
    clips = read_facegood(synthetic_facegood)[:4]
    config = preset("tiny", epochs=3)
    train(config, clips, tmp_path / "straight", val_fraction=0.25, progress=False)
    first = train(config, clips, tmp_path / "resumed", val_fraction=0.25, progress=False, max_minutes=0)
    assert first["epochs_trained"] == 1 and first["stopped_by_budget"]
    second = train(config, clips, tmp_path / "resumed", val_fraction=0.25, progress=False)
    assert second["epochs_trained"] == 3 and len(second["history"]) == 3
    a, b = _weights(tmp_path / "straight" / "model"), _weights(tmp_path / "resumed" / "model")
    assert a.keys() == b.keys() and len(a) > 10
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_label_rows_must_match_audio_frames(facegood_layout, tmp_path):
    root = facegood_layout(ids=("a", "b"), seconds=1.0, rows=31)  # 1 s at 30 fps has 30 frames
    with pytest.raises(FrameCountError, match="has 31 frames but the audio implies 30"):
        train(preset("tiny"), root, tmp_path, progress=False)


def test_facegood_preset_on_arkit_data_names_the_missing_channels(synthetic_facegood, tmp_path):
    with pytest.raises(ValueError, match="no channels.*tongue_u_u.*output_names=\\(\\)"):
        train(preset("facegood_tf2"), synthetic_facegood, tmp_path, progress=False)


def test_unknown_validation_clip_and_single_clip_are_refused(synthetic_facegood, tmp_path):
    clips = read_facegood(synthetic_facegood)
    with pytest.raises(ValueError, match="validation clips \\['nope'\\]"):
        train(preset("tiny"), clips, tmp_path, val_clips=["nope"], progress=False)
    with pytest.raises(ValueError, match="at least 2"):
        train(preset("tiny"), clips[:1], tmp_path, progress=False)


def test_paper_augmentation_trains(synthetic_facegood, tmp_path):
    """±½-frame time shift (features computed in TF from the shifted windows) and 1.4^N(0,1) noise."""
    clips = read_facegood(synthetic_facegood)[:4]
    config = preset("tiny", epochs=1, time_shift_frames=0.5, feature_noise=True)
    summary = train(config, clips, tmp_path, val_fraction=0.25, progress=False)
    assert summary["epochs_trained"] == 1 and np.isfinite(summary["history"][0]["train_loss"])


def test_input_standardisation_uses_training_statistics(synthetic_facegood, tmp_path):
    from zoo.audio2face import Predictor
    from zoo.audio2face.features import clip_features

    clips = read_facegood(synthetic_facegood)[:4]
    config = preset("tiny", epochs=1, input_norm=True, feature="autocorr_paper")
    summary = train(config, clips, tmp_path, val_fraction=0.25, progress=False)
    layer = Predictor.load(tmp_path / "model").model.get_layer("input_norm")
    train_clips = [c for c in clips if c.name in summary["train_clips"]]
    stacked = np.concatenate([clip_features(c, config.feature) for c in train_clips])[..., 0]
    np.testing.assert_allclose(layer.mean.numpy(), stacked.mean(axis=(0, 2)), rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(layer.std.numpy(), stacked.std(axis=(0, 2)), rtol=1e-4, atol=1e-9)
